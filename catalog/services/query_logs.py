"""Accepting historical question→SQL logs and starting their ingestion."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from catalog.errors import InvalidInput, NotFound
from catalog.jobs import JobRunner, new_job
from catalog.model import JobInfo
from catalog.settings import Settings
from catalog.store.catalog_repo import CatalogRepository
from catalog.store.jobs_repo import JobRepository

FORMATS = ("jsonl", "csv")


class UploadTooLarge(InvalidInput):
    code = "payload_too_large"
    status = 413


class QueryLogService:
    def __init__(self, settings: Settings, catalog: CatalogRepository, jobs: JobRepository, runner: JobRunner) -> None:
        self.settings = settings
        self.catalog = catalog
        self.jobs = jobs
        self.runner = runner

    def _check(self, database: str, fmt: str) -> None:
        if fmt not in FORMATS:
            raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", {"field": "format"})
        if self.catalog.get_database(database) is None:
            raise NotFound(f"database {database!r} is not registered")

    def _upload_path(self, fmt: str) -> Path:
        self.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        return self.settings.uploads_dir / f"{uuid.uuid4().hex}.{fmt}"

    async def upload(self, database: str, fmt: str, source: str, body: AsyncIterator[bytes]) -> JobInfo:
        """Stream an uploaded log to the data directory (bounded by max_upload_bytes), then queue its ingestion."""
        self._check(database, fmt)
        path = self._upload_path(fmt)
        written = 0
        try:
            with open(path, "wb") as handle:
                async for chunk in body:
                    written += len(chunk)
                    if written > self.settings.max_upload_bytes:
                        raise UploadTooLarge(f"the log is larger than {self.settings.max_upload_bytes} bytes")
                    handle.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if written == 0:
            path.unlink(missing_ok=True)
            raise InvalidInput("the uploaded log is empty")
        return self._start(database, fmt, source, path)

    def ingest_file(self, database: str, fmt: str, file: Path) -> JobInfo:
        """Copy a local log into the data directory (workers read from there), then queue its ingestion."""
        self._check(database, fmt)
        if not file.is_file():
            raise InvalidInput(f"no such file: {file}")
        path = self._upload_path(fmt)
        shutil.copyfile(file, path)
        return self._start(database, fmt, file.name, path)

    def _start(self, database: str, fmt: str, source: str, path: Path) -> JobInfo:
        job = new_job(self.jobs, "ingest_query_log", database)
        self.runner.submit(
            job.id, "ingest_query_log", {"database": database, "path": str(path), "format": fmt, "source": source}
        )
        return job
