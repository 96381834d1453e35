"""Task bodies, shared by every job runner: thin wrappers that call ingest/ and report progress."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from catalog.jobs import JobReporter
from ingest.sampling import SamplingBounds
from ingest.schema_ingest import ingest_schema
from ingest.sources import SourceDatabase, SourceError

if TYPE_CHECKING:
    from catalog.container import Container

log = logging.getLogger(__name__)

Task = Callable[["Container", JobReporter, dict[str, Any]], dict[str, Any]]


class TaskFailed(RuntimeError):
    """A failure whose message is safe to show (no secrets)."""


def _ingest_schema(container: Container, reporter: JobReporter, payload: dict[str, Any]) -> dict[str, Any]:
    database = payload["database"]
    url = container.secrets.get(database)
    if url is None:
        raise TaskFailed(f"no connection stored for database {database!r}")
    settings = container.settings
    try:
        source = SourceDatabase(url, settings.source_query_timeout_s, settings.source_connect_timeout_s)
        source.check()
    except SourceError as exc:
        raise TaskFailed(str(exc)) from exc
    bounds = SamplingBounds(
        row_budget=settings.sample_row_budget,
        top_values=settings.sample_top_values,
        examples=settings.sample_examples,
        value_max_chars=settings.sample_value_max_chars,
        query_timeout_s=settings.source_query_timeout_s,
    )
    try:
        summary = ingest_schema(container.catalog, source, database, bounds, reporter.progress)
    finally:
        source.dispose()
    return summary.model_dump()


TASKS: dict[str, Task] = {"ingest_schema": _ingest_schema}


def run_job(container: Container, task: str, job_id: str, payload: dict[str, Any]) -> None:
    reporter = JobReporter(container.jobs_repo, job_id)
    reporter.start()
    try:
        result = TASKS[task](container, reporter, payload)
    except TaskFailed as exc:
        reporter.fail(str(exc))
        return
    except Exception as exc:  # noqa: BLE001 - the job record must say it failed, whatever failed
        log.exception("job %s (%s) failed", job_id, task)
        reporter.fail(f"{type(exc).__name__}: internal error while running {task}; see the service log")
        return
    reporter.finish(result, errors=len(result.get("errors", [])))
