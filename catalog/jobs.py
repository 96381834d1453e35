"""The job-runner port and the progress reporter that tasks write through.

A job is a named task plus a JSON payload. Runners differ only in where the task runs
(in-process threads, or Celery workers on Redis); job state always lives in the job repository.
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from typing import Any

from catalog.clock import now_iso
from catalog.model import JobInfo, JobState
from catalog.store.jobs_repo import JobRepository


class TransientTaskError(RuntimeError):
    """A failure worth retrying (a source database timeout, an LLM endpoint error); the message is safe to show."""


class JobRunner(ABC):
    @abstractmethod
    def submit(self, job_id: str, task: str, payload: dict[str, Any]) -> None: ...

    def shutdown(self) -> None:
        """Stop accepting work; in-process runners wait for running jobs."""


class JobReporter:
    """Writes a job's state and progress; progress writes are throttled to keep the store quiet."""

    def __init__(self, jobs: JobRepository, job_id: str, min_interval_s: float = 0.5) -> None:
        self.jobs = jobs
        self.job_id = job_id
        self.min_interval_s = min_interval_s
        self._last = 0.0

    def start(self) -> None:
        self.jobs.update(self.job_id, state=JobState.RUNNING, updated_at=now_iso(), error=None)

    def progress(self, done: int, total: int, message: str) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.min_interval_s:
            return
        self._last = now
        self.jobs.update(self.job_id, done=done, total=total, message=message, updated_at=now_iso())

    def finish(self, result: dict[str, Any], errors: int = 0) -> None:
        state = JobState.SUCCEEDED_WITH_ERRORS if errors else JobState.SUCCEEDED
        self.jobs.update(self.job_id, state=state, result=result, updated_at=now_iso())

    def fail(self, error: str) -> None:
        self.jobs.update(self.job_id, state=JobState.FAILED, error=error, updated_at=now_iso())


def new_job(jobs: JobRepository, kind: str, database: str | None) -> JobInfo:
    at = now_iso()
    job = JobInfo(
        id=uuid.uuid4().hex, kind=kind, database=database, state=JobState.QUEUED, created_at=at, updated_at=at
    )
    jobs.create(job)
    return job
