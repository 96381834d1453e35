"""The Celery application: Redis as broker and result backend, one generic task that runs a job.

Late acknowledgement plus ``reject_on_worker_lost`` means a job whose worker dies is delivered
again (after ``celery_visibility_timeout_s``); tasks are idempotent, so the rerun adds nothing twice.
"""

from __future__ import annotations

import threading
from typing import Any

from celery import Celery

from catalog.container import Container
from catalog.settings import Settings, get_settings
from worker.tasks import run_job

RUN_JOB = "schemakg.run_job"
_container: Container | None = None
_container_lock = threading.Lock()


def make_celery(settings: Settings) -> Celery:
    app = Celery("schemakg", broker=settings.redis_url, backend=settings.redis_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=7 * 24 * 3600,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.celery_visibility_timeout_s},
        result_backend_transport_options={"visibility_timeout": settings.celery_visibility_timeout_s},
        worker_hijack_root_logger=False,
    )
    return app


celery_app = make_celery(get_settings())


def worker_container() -> Container:
    """One container per worker process, built on first use (after any fork)."""
    global _container
    with _container_lock:
        if _container is None:
            _container = Container(get_settings())
        return _container


@celery_app.task(name=RUN_JOB)
def run_job_task(task: str, job_id: str, payload: dict[str, Any]) -> None:
    run_job(worker_container(), task, job_id, payload)
