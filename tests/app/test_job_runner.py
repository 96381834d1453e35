"""The job executor against the real job repository: retries with backoff, failures that say why, no reruns."""

from __future__ import annotations

from typing import Any

import pytest

from schemakg.app.container import Container
from schemakg.app.job_runner import JobExecutor, JobReporter, JobRunner, TaskFailed, TransientTaskError
from schemakg.app.services.jobs import JobService
from schemakg.kernel.errors import NotFound
from schemakg.kernel.model import JobKind, JobState


class Recorder:
    """A handler that fails ``transient`` times with a transient error, then returns or raises ``final``."""

    def __init__(self, transient: int, final: Exception | None = None) -> None:
        self.transient = transient
        self.final = final
        self.calls = 0

    def __call__(self, reporter: JobReporter, payload: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.transient:
            raise TransientTaskError(f"source timed out (call {self.calls})")
        if self.final is not None:
            raise self.final
        return {"echo": payload["value"], "error_count": 0}


class HeldRunner(JobRunner):
    """Takes jobs and runs none: the test runs them through the executor itself."""

    def submit(self, job_id: str, kind: JobKind, payload: dict[str, Any]) -> None:
        pass

    def shutdown(self) -> None:
        pass


def _run(container: Container, handler: Recorder, max_retries: int = 2) -> tuple[str, JobExecutor]:
    executor = JobExecutor(container.jobs_repo, {JobKind.INGEST_SCHEMA: handler}, max_retries, backoff_s=0.01)
    job = JobService(container.jobs_repo, HeldRunner()).start(JobKind.INGEST_SCHEMA, None, {"value": 7})
    assert container.jobs.get(job.id).state == JobState.QUEUED
    executor.run(JobKind.INGEST_SCHEMA, job.id, {"value": 7})
    return job.id, executor


def test_transient_failures_are_retried_until_the_handler_succeeds(container: Container) -> None:
    handler = Recorder(transient=2)
    job_id, _ = _run(container, handler)
    job = container.jobs.get(job_id)
    assert handler.calls == 3
    assert job.state == JobState.SUCCEEDED and job.result == {"echo": 7, "error_count": 0}
    assert job.message is not None and "retrying" in job.message


def test_a_job_gives_up_after_its_retries_and_says_how_often_it_tried(container: Container) -> None:
    handler = Recorder(transient=10)
    job_id, _ = _run(container, handler, max_retries=2)
    job = container.jobs.get(job_id)
    assert handler.calls == 3
    assert job.state == JobState.FAILED
    assert job.error == "source timed out (call 3) (gave up after 3 attempts)"


@pytest.mark.parametrize(
    ("final", "error"),
    [
        (TaskFailed("no connection stored for database 'x'"), "no connection stored for database 'x'"),
        (NotFound("database 'x' is not registered"), "database 'x' is not registered"),
        (KeyError("secret"), "KeyError: internal error while running ingest_schema; see the service log"),
    ],
)
def test_failures_are_final_and_say_why_without_internals(container: Container, final: Exception, error: str) -> None:
    handler = Recorder(transient=0, final=final)
    job_id, _ = _run(container, handler)
    job = container.jobs.get(job_id)
    assert handler.calls == 1
    assert job.state == JobState.FAILED and job.error == error


def test_a_finished_job_delivered_again_is_not_run_again(container: Container) -> None:
    handler = Recorder(transient=0)
    job_id, executor = _run(container, handler)
    executor.run(JobKind.INGEST_SCHEMA, job_id, {"value": 7})
    assert handler.calls == 1
