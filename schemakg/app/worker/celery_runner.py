"""The client side of Celery: a job runner that sends jobs to workers over Redis (it never runs one)."""

from __future__ import annotations

from typing import Any

from schemakg.app.job_runner import JobRunner
from schemakg.app.worker.celery_config import RUN_JOB, make_celery
from schemakg.kernel.model import JobKind
from schemakg.kernel.settings import Settings


class CeleryJobRunner(JobRunner):
    name = "celery"

    def __init__(self, settings: Settings) -> None:
        self._app = make_celery(settings)

    def submit(self, job_id: str, kind: JobKind, payload: dict[str, Any]) -> None:
        self._app.send_task(RUN_JOB, args=[kind.value, job_id, payload], task_id=job_id)

    def shutdown(self) -> None:
        self._app.close()
