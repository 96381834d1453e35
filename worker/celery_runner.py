"""Job runner that sends jobs to Celery workers over Redis."""

from __future__ import annotations

from typing import Any

from catalog.jobs import JobRunner
from catalog.settings import Settings
from worker.celery_app import RUN_JOB, make_celery


class CeleryJobRunner(JobRunner):
    def __init__(self, settings: Settings) -> None:
        self._app = make_celery(settings)

    def submit(self, job_id: str, task: str, payload: dict[str, Any]) -> None:
        self._app.send_task(RUN_JOB, args=[task, job_id, payload], task_id=job_id)

    def shutdown(self) -> None:
        self._app.close()
