"""Task bodies, shared by every job runner: thin wrappers that call ingest/ and report progress."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog.jobs import JobReporter, TransientTaskError
from catalog.model import JobState
from ingest.query_log import QueryLogIngestor, count_lines, read_log
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
        source = SourceDatabase.from_settings(url, settings)
    except SourceError as exc:
        raise TaskFailed(str(exc)) from exc
    try:
        source.check()
    except SourceError as exc:
        raise TransientTaskError(str(exc)) from exc
    bounds = SamplingBounds(
        row_budget=settings.sample_row_budget,
        top_values=settings.sample_top_values,
        examples=settings.sample_examples,
        value_max_chars=settings.sample_value_max_chars,
        match_values=settings.sample_match_values,
        query_timeout_s=settings.source_query_timeout_s,
    )
    try:
        summary = ingest_schema(container.catalog, source, database, bounds, reporter.progress)
    finally:
        source.dispose()
    return summary.model_dump()


def _ingest_query_log(container: Container, reporter: JobReporter, payload: dict[str, Any]) -> dict[str, Any]:
    database = container.catalog.get_database(payload["database"])
    if database is None:
        raise TaskFailed(f"database {payload['database']!r} is not registered")
    path = Path(payload["path"])
    if not path.is_file():
        raise TaskFailed("the uploaded log is no longer available; upload it again")
    ingestor = QueryLogIngestor(container.store, container.catalog, database.name, database.dialect)
    summary = ingestor.ingest(read_log(path, payload["format"]), payload["source"], count_lines(path), reporter.progress)
    path.unlink(missing_ok=True)
    return summary.model_dump()


def _complete_knowledge(container: Container, reporter: JobReporter, payload: dict[str, Any]) -> dict[str, Any]:
    from generation.llm.base import LLMError
    from ingest.knowledge import KnowledgeCompleter

    completer = KnowledgeCompleter(
        container.store, container.proposals_repo, container.llm, container.embedder,
        redundant_at=container.settings.knowledge_redundant_similarity,
    )
    try:
        summary, created = completer.complete(
            payload["database"], payload.get("limit"), payload.get("only_new", True), reporter.progress
        )
    except LLMError as exc:
        if exc.transient:
            raise TransientTaskError(exc.message) from exc
        raise TaskFailed(exc.message) from exc
    if container.settings.knowledge_auto_approve:
        for proposal in created:
            container.proposals.approve(proposal.id, "auto-approve")
    return summary.model_dump()


def _activate_retriever(container: Container, reporter: JobReporter, payload: dict[str, Any]) -> dict[str, Any]:
    from retrieval.artifacts import activate

    try:
        activate(payload["version"], container.settings.data_dir)
    except FileNotFoundError as exc:
        raise TaskFailed(str(exc)) from exc
    encoded = container.linking.rebuild_index(reporter.progress)
    return {"version": payload["version"], "databases": len(encoded), "columns_encoded": sum(encoded.values())}


TASKS: dict[str, Task] = {
    "activate_retriever": _activate_retriever,
    "ingest_schema": _ingest_schema,
    "ingest_query_log": _ingest_query_log,
    "complete_knowledge": _complete_knowledge,
}


_FINISHED = {JobState.SUCCEEDED, JobState.SUCCEEDED_WITH_ERRORS, JobState.FAILED}


def run_job(container: Container, task: str, job_id: str, payload: dict[str, Any]) -> None:
    """Run a task to its end, retrying transient failures with exponential backoff.

    Tasks are idempotent, so a job delivered again after its worker died simply runs again;
    a job that already finished is not run twice.
    """
    job = container.jobs_repo.get(job_id)
    if job is None or job.state in _FINISHED:
        return
    settings = container.settings
    reporter = JobReporter(container.jobs_repo, job_id)
    for attempt in range(settings.job_max_retries + 1):
        reporter.start()
        try:
            result = TASKS[task](container, reporter, payload)
        except TransientTaskError as exc:
            if attempt == settings.job_max_retries:
                reporter.fail(f"{exc} (gave up after {attempt + 1} attempts)")
                return
            delay = settings.job_retry_backoff_s * 2**attempt
            reporter.progress(0, 0, f"attempt {attempt + 1} failed ({exc}); retrying in {delay:.0f}s")
            time.sleep(delay)
            continue
        except TaskFailed as exc:
            reporter.fail(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - the job record must say it failed, whatever failed
            log.exception("job %s (%s) failed", job_id, task)
            reporter.fail(f"{type(exc).__name__}: internal error while running {task}; see the service log")
            return
        reporter.finish(result, errors=int(result.get("error_count", 0)))
        return
