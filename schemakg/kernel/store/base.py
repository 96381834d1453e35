"""The graph-store port: one small interface that every repository in the catalogue runs Cypher through.

Both backends (Neo4j 5 and the embedded ArcadeDB) speak Bolt and the same Cypher subset, so
they differ only in how they start and in their DDL (``ddl.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

Row = dict[str, Any]
T = TypeVar("T")


class DuplicateKeyError(RuntimeError):
    """A write gave a unique key that another committed (or committing) transaction already holds."""


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
    def write_transaction(self, work: Callable[[GraphTransaction], T]) -> T:
        """Run ``work`` in one write transaction: its statements commit together or not at all.

        A transient failure (a deadlock or a conflicting concurrent write) reruns ``work`` from the
        start, in a fresh transaction, so it reads again what another writer committed; ``work``
        must therefore be a function of what it reads. Its own exceptions end the transaction, and
        a unique key already taken ends it with ``DuplicateKeyError``.
        """

    def ping(self) -> None:
        """Raises when the engine does not answer."""
        self.read("RETURN 1 AS ok")

    @abstractmethod
    def ensure_schema(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...
