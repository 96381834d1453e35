"""Registering source databases and starting their ingestion."""

from __future__ import annotations

from catalog.clock import now_iso
from catalog.errors import Conflict, InvalidInput, NotFound, SourceUnavailable
from catalog.jobs import JobRunner, new_job
from catalog.model import NAME_PATTERN, DatabaseInfo, JobInfo, Page, valid_name
from catalog.secrets import SecretStore
from catalog.settings import Settings
from catalog.store.catalog_repo import CatalogRepository
from catalog.store.jobs_repo import JobRepository
from ingest.sources import SourceDatabase, SourceError, mask_url, parse_url


class DatabaseService:
    def __init__(
        self,
        settings: Settings,
        catalog: CatalogRepository,
        jobs: JobRepository,
        secrets: SecretStore,
        runner: JobRunner,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.jobs = jobs
        self.secrets = secrets
        self.runner = runner

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
        info = self.catalog.get_database(name)
        if info is None:
            raise NotFound(f"database {name!r} is not registered")
        return info

    def list(self, offset: int, limit: int) -> Page:
        items, total = self.catalog.list_databases(offset, limit)
        return Page(items=items, total=total, offset=offset, limit=limit)

    def delete(self, name: str) -> None:
        self.get(name)
        self.catalog.delete_database(name)
        self.secrets.delete(name)

    def start_ingestion(self, name: str) -> JobInfo:
        self.get(name)
        job = new_job(self.jobs, "ingest_schema", name)
        self.runner.submit(job.id, "ingest_schema", {"database": name})
        return job
