"""The graph-store port: one small interface that every repository in the catalogue runs Cypher through.

Both backends (Neo4j 5 and the embedded ArcadeDB) speak Bolt and the same Cypher subset, so
they differ only in how they start and in their DDL (``ddl.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

Row = dict[str, Any]


class GraphTransaction(ABC):
    @abstractmethod
    def run(self, query: str, **params: Any) -> list[Row]: ...


class GraphStore(ABC):
    engine: str

    @abstractmethod
    def read(self, query: str, **params: Any) -> list[Row]: ...

    @abstractmethod
    def write(self, query: str, **params: Any) -> list[Row]: ...

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[GraphTransaction]:
        """All statements inside commit together or not at all."""

    def ping(self) -> None:
        """Raises when the engine does not answer."""
        self.read("RETURN 1 AS ok")

    @abstractmethod
    def ensure_schema(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...
