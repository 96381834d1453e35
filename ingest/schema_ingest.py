"""One database's schema ingestion: introspect, sample values, then write the graph in one transaction."""

from __future__ import annotations

from catalog.clock import now_iso
from catalog.model import IngestSummary
from catalog.store.catalog_repo import CatalogRepository
from ingest.introspect import Progress, introspect
from ingest.sampling import SamplingBounds, profile_tables
from ingest.sources import SourceDatabase


def ingest_schema(
    repo: CatalogRepository,
    source: SourceDatabase,
    database: str,
    bounds: SamplingBounds,
    progress: Progress | None = None,
) -> IngestSummary:
    """Everything is read before the first graph write, so a source failure changes nothing."""
    report = progress or (lambda done, total, message: None)
    snapshot = introspect(source)
    steps = len(snapshot.tables) + 1
    report(0, steps, f"read {len(snapshot.tables)} tables")
    snapshot.warnings += profile_tables(
        source, snapshot.tables, bounds, lambda done, _total, message: report(done, steps, message)
    )
    summary = repo.apply_snapshot(database, snapshot, now_iso())
    report(steps, steps, "graph written")
    return summary
