"""Reading job records."""

from __future__ import annotations

from catalog.errors import NotFound
from catalog.model import JobInfo, Page
from catalog.store.jobs_repo import JobRepository


class JobService:
    def __init__(self, jobs: JobRepository) -> None:
        self.jobs = jobs

    def get(self, job_id: str) -> JobInfo:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound(f"job {job_id!r} not found")
        return job

    def list(self, database: str | None, offset: int, limit: int) -> Page:
        items, total = self.jobs.list(database, offset, limit)
        return Page(items=items, total=total, offset=offset, limit=limit)
