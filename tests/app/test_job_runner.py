"""The job executor against the real job repository: retries with backoff, failures that say why, no reruns."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import pytest

from schemakg.app.container import Container
from schemakg.app.job_runner import JobExecutor, JobReporter, JobRunner, TaskFailed, TransientTaskError
from schemakg.app.services.jobs import JobService
from schemakg.kernel.clock import iso_ago
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

    name = "held"

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


def test_a_running_job_writes_heartbeats(container: Container) -> None:
    seen: list[str | None] = []

    def handler(reporter: JobReporter, payload: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not container.jobs_repo.get(reporter.job_id).heartbeat_at:
            time.sleep(0.02)
        seen.append(container.jobs_repo.get(reporter.job_id).heartbeat_at)
        return {}

    executor = JobExecutor(container.jobs_repo, {JobKind.INGEST_SCHEMA: handler}, 0, 0.01, lease_s=0.2)
    job = JobService(container.jobs_repo, HeldRunner()).start(JobKind.INGEST_SCHEMA, None, {})
    executor.run(JobKind.INGEST_SCHEMA, job.id, {})
    assert seen and seen[0] is not None


def _running(container: Container, runner: str, owner: str | None, heartbeat_at: str) -> str:
    job = JobService(container.jobs_repo, HeldRunner()).start(JobKind.INGEST_SCHEMA, None, {})
    container.jobs_repo.update(
        job.id, state=JobState.RUNNING, runner=runner, owner=owner, heartbeat_at=heartbeat_at, updated_at=heartbeat_at
    )
    return job.id


@pytest.mark.parametrize(
    ("runner", "owner", "silent_s", "state", "says"),
    [
        ("in-process", f"{socket.gethostname()}:{os.getpid()}", 0, JobState.RUNNING, None),
        ("in-process", f"{socket.gethostname()}:{os.getpid()}", 120, JobState.FAILED, "no sign of life for 60s"),
        ("in-process", f"{socket.gethostname()}:999999999", 0, JobState.FAILED, "stopped before this job finished"),
        ("in-process", "another-host:1", 0, JobState.RUNNING, None),
        ("celery", None, 120, JobState.QUEUED, "Celery delivers it again"),
        ("celery", None, 0, JobState.RUNNING, None),
    ],
)
def test_a_job_record_never_claims_a_dead_process_runs_it(
    container: Container, runner: str, owner: str | None, silent_s: float, state: JobState, says: str | None
) -> None:
    job_id = _running(container, runner, owner, iso_ago(silent_s))
    job = JobService(container.jobs_repo, HeldRunner(), lease_s=60).get(job_id)
    assert job.state == state
    if says is not None:
        assert says in (job.error or job.message or "")
