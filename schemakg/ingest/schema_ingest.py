"""One database's schema ingestion: introspect, sample values, then write the graph in one transaction."""

from __future__ import annotations

from schemakg.ingest.introspect import introspect
from schemakg.ingest.sampling import SamplingBounds, profile_tables
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import IngestSummary
from schemakg.kernel.progress import Progress
from schemakg.kernel.sources import SourceDatabase
from schemakg.kernel.store.schema_repo import SchemaRepository


def ingest_schema(
    repo: SchemaRepository,
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
