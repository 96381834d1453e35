"""The embedded job runner: the same job handlers on a small thread pool inside the service process."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from schemakg.app.job_runner import JobRunner
from schemakg.kernel.model import JobKind
from schemakg.kernel.processes import this_process

Execute = Callable[[JobKind, str, dict[str, Any]], None]


class InProcessJobRunner(JobRunner):
    name = "in-process"

    def __init__(self, execute: Execute, workers: int = 2) -> None:
        self.owner = this_process()
        self._execute = execute
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="schemakg-job")

    def submit(self, job_id: str, kind: JobKind, payload: dict[str, Any]) -> None:
        self._pool.submit(self._execute, kind, job_id, payload)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
