"""Running jobs: the runner port, the progress reporter handlers write through, and the executor that runs a job
to its end.

A job is a ``JobKind`` plus a JSON payload. Runners differ only in where the handler runs (in-process
threads, or Celery workers on Redis); job state always lives in the job repository, so every process
sees the same record.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from schemakg.kernel.clock import now_iso
from schemakg.kernel.errors import ServiceError
from schemakg.kernel.model import JobKind, JobState
from schemakg.kernel.store.jobs_repo import JobRepository

log = logging.getLogger(__name__)


class TransientTaskError(RuntimeError):
    """A failure worth retrying (a source database timeout, an LLM endpoint error); the message is safe to show."""


class TaskFailed(RuntimeError):
    """A failure not worth retrying; the message is safe to show (no secrets). A ``ServiceError`` counts as one."""


class JobRunner(ABC):
    name: str  # recorded on each job: 'in-process' or 'celery'
    owner: str | None = None  # in-process: host:pid of the process whose threads run its jobs

    @abstractmethod
    def submit(self, job_id: str, kind: JobKind, payload: dict[str, Any]) -> None: ...

    @abstractmethod
    def shutdown(self) -> None:
        """Stop accepting work; in-process runners wait for running jobs."""


class JobReporter:
    """Writes a job's state and progress; progress writes are throttled to keep the store quiet."""

    def __init__(self, jobs: JobRepository, job_id: str, min_interval_s: float = 0.5) -> None:
        self.jobs = jobs
        self.job_id = job_id
        self.min_interval_s = min_interval_s
        self._last = 0.0

    def start(self) -> None:
        self.jobs.update(self.job_id, state=JobState.RUNNING, updated_at=now_iso(), error=None)

    def progress(self, done: int, total: int, message: str) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.min_interval_s:
            return
        self._last = now
        self.jobs.update(self.job_id, done=done, total=total, message=message, updated_at=now_iso())

    def finish(self, result: dict[str, Any], errors: int = 0) -> None:
        state = JobState.SUCCEEDED_WITH_ERRORS if errors else JobState.SUCCEEDED
        self.jobs.update(self.job_id, state=state, result=result, updated_at=now_iso())

    def fail(self, error: str) -> None:
        self.jobs.update(self.job_id, state=JobState.FAILED, error=error, updated_at=now_iso())


JobHandler = Callable[[JobReporter, dict[str, Any]], dict[str, Any]]


_FINISHED = {JobState.SUCCEEDED, JobState.SUCCEEDED_WITH_ERRORS, JobState.FAILED}


class JobExecutor:
    """Runs a job's handler to its end, retrying transient failures with exponential backoff.

    Handlers are idempotent, so a job delivered again after its worker died simply runs again;
    a job that already finished is not run twice.
    """

    def __init__(
        self,
        jobs: JobRepository,
        handlers: Mapping[JobKind, JobHandler],
        max_retries: int,
        backoff_s: float,
        lease_s: float = 60.0,
    ) -> None:
        self.jobs = jobs
        self.handlers = handlers
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.lease_s = lease_s

    def run(self, kind: JobKind, job_id: str, payload: dict[str, Any]) -> None:
        job = self.jobs.get(job_id)
        if job is None or job.state in _FINISHED:
            return
        reporter = JobReporter(self.jobs, job_id)

        def report_retry(state: RetryCallState) -> None:
            delay = state.next_action.sleep if state.next_action else 0.0
            error = state.outcome.exception() if state.outcome else None
            reporter.progress(0, 0, f"attempt {state.attempt_number} failed ({error}); retrying in {delay:.0f}s")

        retrying = Retrying(
            retry=retry_if_exception_type(TransientTaskError),
            stop=stop_after_attempt(self.max_retries + 1),
            wait=wait_exponential(multiplier=self.backoff_s, min=0, max=float("inf")),
            before_sleep=report_retry,
            reraise=True,
        )
        try:
            with _Heartbeat(self.jobs, job_id, self.lease_s / 4):
                for attempt in retrying:
                    with attempt:
                        reporter.start()
                        result = self.handlers[kind](reporter, payload)
        except TransientTaskError as exc:
            reporter.fail(f"{exc} (gave up after {self.max_retries + 1} attempts)")
            return
        except (TaskFailed, ServiceError) as exc:
            reporter.fail(str(exc))
            return
        except Exception as exc:  # the job record must say it failed, whatever failed
            log.exception("job %s (%s) failed", job_id, kind)
            reporter.fail(f"{type(exc).__name__}: internal error while running {kind}; see the service log")
            return
        reporter.finish(result, errors=int(result.get("error_count", 0)))


class _Heartbeat:
    """Writes ``heartbeat_at`` every ``interval_s`` while a job runs, so readers can tell a job whose process died."""

    def __init__(self, jobs: JobRepository, job_id: str, interval_s: float) -> None:
        self.jobs = jobs
        self.job_id = job_id
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id[:8]}", daemon=True)

    def _beat(self) -> None:
        while True:
            try:
                self.jobs.update(self.job_id, heartbeat_at=now_iso())
            except Exception:
                log.warning("heartbeat of job %s not written", self.job_id, exc_info=True)
            if self._stop.wait(self.interval_s):
                return

    def __enter__(self) -> None:
        self._thread.start()

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
