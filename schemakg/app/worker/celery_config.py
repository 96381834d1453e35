"""The Celery application's configuration: Redis as broker, one generic task that runs a job.

Late acknowledgement plus ``reject_on_worker_lost`` means a job whose worker dies is delivered
again (after ``celery_visibility_timeout_s``); handlers are idempotent, so the rerun adds nothing twice.
Job state lives in the graph store, so no result backend is kept. Building an app connects to nothing.
"""

from __future__ import annotations

from celery import Celery

from schemakg.kernel.settings import Settings

RUN_JOB = "schemakg.run_job"


def make_celery(settings: Settings) -> Celery:
    app = Celery("schemakg", broker=settings.redis_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.celery_visibility_timeout_s},
        worker_hijack_root_logger=False,
    )
    return app
