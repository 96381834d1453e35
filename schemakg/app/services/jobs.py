"""Starting jobs and reading their records."""

from __future__ import annotations

import uuid
from typing import Any

from schemakg.app.job_runner import JobRunner
from schemakg.kernel.clock import now_iso
from schemakg.kernel.errors import NotFound
from schemakg.kernel.model import JobInfo, JobKind, JobState, Page
from schemakg.kernel.store.jobs_repo import JobRepository


class JobService:
    def __init__(self, jobs: JobRepository, runner: JobRunner) -> None:
        self.jobs = jobs
        self.runner = runner

    def start(self, kind: JobKind, database: str | None, payload: dict[str, Any]) -> JobInfo:
        """A queued record first, then the runner: a job is never running without one."""
        at = now_iso()
        job = JobInfo(
            id=uuid.uuid4().hex, kind=kind, database=database, state=JobState.QUEUED, created_at=at, updated_at=at
        )
        self.jobs.create(job)
        self.runner.submit(job.id, kind, payload)
        return job

    def get(self, job_id: str) -> JobInfo:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound(f"job {job_id!r} not found")
        return job

    def list(self, database: str | None, offset: int, limit: int) -> Page[JobInfo]:
        items, total = self.jobs.list(database, offset, limit)
        return Page[JobInfo](items=items, total=total, offset=offset, limit=limit)
