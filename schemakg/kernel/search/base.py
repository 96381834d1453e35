"""The full-text search port: a catalogue index that answers name and description searches in milliseconds.

The index holds, per database, the searchable text of its current tables and columns and the catalogue
version it was built from; whoever keeps it in sync compares that version with the graph's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from schemakg.kernel.model import SearchHit

KINDS = ("table", "column")


@dataclass(frozen=True)
class SearchDoc:
    """One table (``column`` is None) or column as the index sees it."""

    database: str
    table: str
    column: str | None = None
    description: str | None = None
    comment: str | None = None
    value_explanation: str | None = None
    synonyms: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "table" if self.column is None else "column"


@dataclass(frozen=True)
class CatalogVersion:
    """What one database's searchable text depends on: its last ingestion and its curated revisions
    (their count and the newest one's time). Nothing else writes names or curated text."""

    ingested_at: str | None
    revisions: int
    revised_at: str | None

    @property
    def token(self) -> str:
        return f"{self.ingested_at or ''}|{self.revisions}|{self.revised_at or ''}"

    @classmethod
    def parse(cls, token: str) -> CatalogVersion | None:
        parts = token.split("|")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        return cls(parts[0] or None, int(parts[1]), parts[2] or None)


class SearchIndex(ABC):
    @abstractmethod
    def versions(self) -> dict[str, str]:
        """The catalogue version each indexed database was built from."""

    @abstractmethod
    def replace_database(self, database: str, docs: Iterable[SearchDoc], version: str) -> None:
        """Replace everything indexed for ``database`` by ``docs``, atomically, and record ``version``."""

    @abstractmethod
    def upsert(self, database: str, docs: Iterable[SearchDoc], version: str) -> None:
        """Add or replace single tables and columns of ``database`` (identified by their names), atomically
        with recording ``version``."""

    @abstractmethod
    def drop_database(self, database: str) -> None:
        """Forget ``database`` and everything indexed for it."""

    @abstractmethod
    def search(self, words: Sequence[str], database: str | None, kind: str | None, limit: int) -> list[SearchHit]:
        """Tables and columns that match every word (as a prefix), best first.

        Exact name matches first (score 1.0), then names that match more of the words
        (0.5 + 0.4 * share), then matches in the other text only (below 0.5); ties by relevance.
        Any string is a valid word: the index never fails on query syntax.
        """

    @abstractmethod
    def close(self) -> None: ...
