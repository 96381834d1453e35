"""Catalogue search: a full-text index kept in sync with the graph.

Before answering, at most once per ``ttl_s``, every database's catalogue version is compared with the one
the index was built from: changed databases are re-indexed (only the revised entities when nothing but
curated revisions changed), databases that no longer exist are dropped. That check is how this process
learns of writes by others (a Celery worker's ingestion, another API process's edits); writes in this
process call :meth:`CatalogSearch.catalog_changed` so that they are searchable at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from schemakg.kernel.model import SearchHit
from schemakg.kernel.search.base import CatalogVersion, SearchIndex
from schemakg.kernel.store.schema_repo import SchemaRepository

log = logging.getLogger(__name__)

# Revisions are stamped before their transaction commits, so one may commit with a time a little before
# the newest already seen; the incremental sync re-reads this much history (re-indexing is idempotent).
REVISION_SLACK_S = 300.0


class CatalogSearch:
    def __init__(
        self,
        catalog: SchemaRepository,
        index: SearchIndex,
        ttl_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None

    def search(self, words: Sequence[str], database: str | None, kind: str | None, limit: int) -> list[SearchHit]:
        self.refresh()
        return self.index.search(words, database, kind, limit)

    def knows(self, database: str) -> bool:
        """Whether ``database`` was registered at the last check: spares a search a graph round trip."""
        self.refresh()
        return database in self.index.versions()

    def refresh(self) -> None:
        """Sync when the last check is older than the TTL. A check already under way in another thread is
        not waited for (its result is at most a TTL newer), unless no check has finished since the last
        failure. When the graph cannot be read, nothing can have been written to it either: searches are
        answered from the index, and the check is retried a TTL later."""
        if self._fresh():
            return
        if not self._lock.acquire(blocking=self._checked_at is None):
            return
        try:
            if not self._fresh():
                self._sync()
        except Exception:
            self._checked_at = self.clock()
            log.warning(
                "could not check the search index against the catalogue; answering from the index", exc_info=True
            )
        finally:
            self._lock.release()

    def sync(self) -> None:
        """Bring the index up to date now."""
        with self._lock:
            self._sync()

    def catalog_changed(self) -> None:
        """The hook for this process's writes (curation, ingestion, deletion): sync now. A failure must not
        fail the write that already happened: the next search retries."""
        try:
            self.sync()
        except Exception:
            self._checked_at = None
            log.warning("could not update the search index; the next search retries", exc_info=True)

    def close(self) -> None:
        self.index.close()

    def _fresh(self) -> bool:
        return self._checked_at is not None and self.clock() - self._checked_at < self.ttl_s

    def _sync(self) -> None:
        """Two processes may sync at once; a write from an older read can then land last, and the next check
        (within a TTL) sees the version mismatch and repairs it."""
        current = self.catalog.search_versions()
        held = self.index.versions()
        for database in held.keys() - current.keys():
            self.index.drop_database(database)
        for database, version in current.items():
            token = version.token
            if held.get(database) == token:
                continue
            since = _revised_since(held.get(database), version)
            if since is None:
                self.index.replace_database(database, self.catalog.searchable_rows(database), token)
            else:
                self.index.upsert(database, self.catalog.searchable_rows(database, revised_since=since), token)
        self._checked_at = self.clock()


def _revised_since(held: str | None, current: CatalogVersion) -> str | None:
    """When only curated revisions were added since the index's version, the time from which to re-read the
    revised entities; None when the database must be re-indexed whole."""
    before = CatalogVersion.parse(held) if held is not None else None
    if before is None or before.ingested_at != current.ingested_at or current.revisions <= before.revisions:
        return None
    if before.revised_at is None:
        return ""  # every revision is new
    try:
        newest = datetime.fromisoformat(before.revised_at)
    except ValueError:
        return None
    return (newest - timedelta(seconds=REVISION_SLACK_S)).isoformat(timespec="microseconds")
