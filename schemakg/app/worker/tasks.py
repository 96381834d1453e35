"""The Celery worker's entry point (``celery -A schemakg.app.worker.tasks``, or ``schemakg worker``).

One task runs any job: it hands the job to the executor of this worker process's container, so a job
runs the same service method here as in the embedded runner.
"""

from __future__ import annotations

import threading
from typing import Any

from schemakg.app.container import Container
from schemakg.app.services.warmup import set_torch_threads
from schemakg.app.worker.celery_config import RUN_JOB, make_celery
from schemakg.kernel.model import JobKind
from schemakg.kernel.settings import get_settings

celery_app = make_celery(get_settings())
_container: Container | None = None
_container_lock = threading.Lock()


def worker_container() -> Container:
    """One container per worker process, built on first use (after any fork)."""
    global _container
    with _container_lock:
        if _container is None:
            set_torch_threads(get_settings())  # cores - 1 by default: the worker encodes column documents
            _container = Container(get_settings())
        return _container


@celery_app.task(name=RUN_JOB)
def run_job_task(kind: str, job_id: str, payload: dict[str, Any]) -> None:
    worker_container().executor.run(JobKind(kind), job_id, payload)
