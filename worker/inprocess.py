"""The embedded job runner: the same task code on a small thread pool inside the service process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from catalog.jobs import JobRunner
from worker.tasks import run_job

if TYPE_CHECKING:
    from catalog.container import Container


class InProcessJobRunner(JobRunner):
    def __init__(self, container: Container, workers: int = 2) -> None:
        self._container = container
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="schemakg-job")

    def submit(self, job_id: str, task: str, payload: dict[str, Any]) -> None:
        self._pool.submit(run_job, self._container, task, job_id, payload)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
