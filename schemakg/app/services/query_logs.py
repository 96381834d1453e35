"""Accepting historical question→SQL logs and starting their ingestion."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from schemakg.app.job_runner import JobReporter, TaskFailed
from schemakg.app.services.jobs import JobService
from schemakg.ingest.query_log import QueryLogIngestor, count_lines, read_log
from schemakg.kernel.errors import InvalidInput
from schemakg.kernel.model import JobInfo, JobKind
from schemakg.kernel.settings import Settings
from schemakg.kernel.store.examples_repo import QueryExampleRepository
from schemakg.kernel.store.schema_repo import SchemaRepository

FORMATS = ("jsonl", "csv")


class UploadTooLarge(InvalidInput):
    code = "payload_too_large"
    status = 413


async def save_upload(body: AsyncIterator[bytes], path: Path, limit: int, what: str) -> int:
    """Stream ``body`` to ``path``, refused past ``limit`` bytes; a failed upload leaves no file behind.
    Returns the bytes written."""
    written = 0
    try:
        with open(path, "wb") as handle:
            async for chunk in body:
                written += len(chunk)
                if written > limit:
                    raise UploadTooLarge(f"{what} is larger than {limit} bytes")
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return written


class QueryLogService:
    def __init__(
        self, settings: Settings, catalog: SchemaRepository, examples: QueryExampleRepository, jobs: JobService
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.examples = examples
        self.jobs = jobs

    def _check(self, database: str, fmt: str) -> None:
        if fmt not in FORMATS:
            raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", {"field": "format"})
        self.catalog.require_database(database)

    def _upload_path(self, fmt: str) -> Path:
        self.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        return self.settings.uploads_dir / f"{uuid.uuid4().hex}.{fmt}"

    async def upload(self, database: str, fmt: str, source: str, body: AsyncIterator[bytes]) -> JobInfo:
        """Stream an uploaded log to the data directory (bounded by max_upload_bytes), then queue its ingestion."""
        self._check(database, fmt)
        path = self._upload_path(fmt)
        written = await save_upload(body, path, self.settings.max_upload_bytes, "the log")
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
        return self.jobs.start(
            JobKind.INGEST_QUERY_LOG,
            database,
            {"database": database, "path": str(path), "format": fmt, "source": source},
        )

    def run_ingestion(self, reporter: JobReporter, payload: dict[str, Any]) -> dict[str, Any]:
        """The ``ingest_query_log`` job: stream the stored log into QueryExample nodes, then delete the file."""
        database = self.catalog.require_database(payload["database"])
        path = Path(payload["path"])
        if not path.is_file():
            raise TaskFailed("the uploaded log is no longer available; upload it again")
        ingestor = QueryLogIngestor(self.examples, self.catalog, database.name, database.dialect)
        summary = ingestor.ingest(
            read_log(path, payload["format"]), payload["source"], count_lines(path), reporter.progress
        )
        path.unlink(missing_ok=True)
        return summary.model_dump()
