"""Registering source databases and starting their ingestion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemakg.app.job_runner import JobReporter, TaskFailed, TransientTaskError
from schemakg.app.services.jobs import JobService
from schemakg.ingest.sampling import SamplingBounds
from schemakg.ingest.schema_ingest import ingest_schema
from schemakg.kernel.clock import now_iso
from schemakg.kernel.errors import Conflict, InvalidInput, SourceUnavailable
from schemakg.kernel.model import NAME_PATTERN, DatabaseInfo, JobInfo, JobKind, Page, valid_name
from schemakg.kernel.secrets import SecretStore
from schemakg.kernel.settings import Settings
from schemakg.kernel.sources import SourceDatabase, SourceError, mask_url, parse_url
from schemakg.kernel.store.schema_repo import SchemaRepository


class DatabaseService:
    def __init__(
        self,
        settings: Settings,
        catalog: SchemaRepository,
        secrets: SecretStore,
        jobs: JobService,
        forget_index: Callable[[str], None],
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.secrets = secrets
        self.jobs = jobs
        self.forget_index = forget_index
        self.on_change = on_change  # told after a deletion or an ingestion (the search index)

    def register(self, name: str, url: str, description: str | None = None) -> DatabaseInfo:
        if not valid_name(name):
            raise InvalidInput(f"database name must match {NAME_PATTERN}", {"field": "name"})
        try:
            parsed = parse_url(url, self.settings.sqlite_roots)
        except SourceError as exc:
            raise InvalidInput(str(exc), {"field": "url"}) from exc
        if self.catalog.get_database(name) is not None:
            raise Conflict(f"database {name!r} is already registered")
        try:
            source = SourceDatabase.from_settings(url, self.settings)
            source.check()
            source.dispose()
        except SourceError as exc:
            raise SourceUnavailable(str(exc), {"field": "url"}) from exc
        info = DatabaseInfo(
            name=name,
            dialect=parsed.get_backend_name(),
            url=mask_url(parsed),
            description=description,
            created_at=now_iso(),
        )
        self.secrets.put(name, url)
        self.catalog.create_database(info)
        return info

    def get(self, name: str) -> DatabaseInfo:
        return self.catalog.require_database(name)

    def list(self, offset: int, limit: int) -> Page[DatabaseInfo]:
        items, total = self.catalog.list_databases(offset, limit)
        return Page(items=items, total=total, offset=offset, limit=limit)

    def delete(self, name: str) -> None:
        """Remove the database and everything it owns: its graph, examples, proposals, secret and column index."""
        self.get(name)
        self.catalog.delete_database(name)
        self.forget_index(name)
        if self.on_change is not None:
            self.on_change()
        self.secrets.delete(name)

    def start_ingestion(self, name: str) -> JobInfo:
        self.get(name)
        return self.jobs.start(JobKind.INGEST_SCHEMA, name, {"database": name})

    def run_ingestion(self, reporter: JobReporter, payload: dict[str, Any]) -> dict[str, Any]:
        """The ``ingest_schema`` job: introspect and sample the source, then write its graph in one transaction."""
        database = payload["database"]
        url = self.secrets.get(database)
        if url is None:
            raise TaskFailed(f"no connection stored for database {database!r}")
        try:
            source = SourceDatabase.from_settings(url, self.settings)
        except SourceError as exc:
            raise TaskFailed(str(exc)) from exc
        try:
            source.check()
        except SourceError as exc:
            raise TransientTaskError(str(exc)) from exc
        try:
            summary = ingest_schema(
                self.catalog, source, database, SamplingBounds.from_settings(self.settings), reporter.progress
            )
        finally:
            source.dispose()
        if self.on_change is not None:
            self.on_change()
        return summary.model_dump()
