"""Starting jobs and reading their records, which never claim a job runs when its process died."""

from __future__ import annotations

import uuid
from typing import Any

from schemakg.app.job_runner import JobRunner
from schemakg.kernel.clock import iso_ago, now_iso
from schemakg.kernel.errors import NotFound
from schemakg.kernel.model import JobInfo, JobKind, JobState, Page
from schemakg.kernel.processes import owner_gone
from schemakg.kernel.store.jobs_repo import JobRepository


class JobService:
    def __init__(self, jobs: JobRepository, runner: JobRunner, lease_s: float = 60.0) -> None:
        self.jobs = jobs
        self.runner = runner
        self.lease_s = lease_s

    def start(self, kind: JobKind, database: str | None, payload: dict[str, Any]) -> JobInfo:
        """A queued record first, then the runner: a job is never running without one."""
        at = now_iso()
        job = JobInfo(
            id=uuid.uuid4().hex,
            kind=kind,
            database=database,
            state=JobState.QUEUED,
            created_at=at,
            updated_at=at,
            runner=self.runner.name,
            owner=self.runner.owner,
        )
        self.jobs.create(job)
        self.runner.submit(job.id, kind, payload)
        return job

    def get(self, job_id: str) -> JobInfo:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound(f"job {job_id!r} not found")
        return self._settled(job)

    def list(self, database: str | None, offset: int, limit: int) -> Page[JobInfo]:
        items, total = self.jobs.list(database, offset, limit)
        return Page[JobInfo](items=[self._settled(job) for job in items], total=total, offset=offset, limit=limit)

    def settle_all(self) -> int:
        """At start-up: settle every job a dead process left queued or running; returns how many changed."""
        return sum(self._settled(job) is not job for job in self.jobs.unfinished())

    def _settled(self, job: JobInfo) -> JobInfo:
        """The job as it really is. An in-process job whose process died failed. A running job silent for a
        whole lease failed too, unless Celery will deliver it again: then it is queued once more."""
        if job.state not in (JobState.QUEUED, JobState.RUNNING):
            return job
        lease = f"{self.lease_s:.0f}s"
        if job.runner == "in-process" and owner_gone(job.owner):
            step = "ran" if job.state == JobState.QUEUED else "finished"
            since, state = None, JobState.FAILED
            note = f"the service process stopped before this job {step}; start it again"
        elif job.state == JobState.RUNNING and job.runner == "celery":
            since, state = iso_ago(self.lease_s), JobState.QUEUED
            note = f"its worker fell silent for {lease}; Celery delivers it again"
        elif job.state == JobState.RUNNING:
            since, state = iso_ago(self.lease_s), JobState.FAILED
            note = f"no sign of life for {lease}: the process running it stopped; start it again"
        else:
            return job
        said = {"error": note} if state == JobState.FAILED else {"message": note}
        changed = self.jobs.settle(job.id, job.state, since, state=state, updated_at=now_iso(), **said)
        return (self.jobs.get(job.id) or job) if changed else job
