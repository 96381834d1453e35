"""Start-up warm-up and readiness: the service is ready once what serving needs is loaded.

A background thread, started with the API, sets the process's torch threads, loads the retriever
(the encoder's weights), the LLM (the embedded GGUF, or the endpoint's client) and then, for every
registered database, its linking context, its column index (built or brought up to date), its join
graph, value index and cached index blocks. Until it has finished, ``/health/ready`` answers 503 and
names what is still loading; a step that fails is reported there, and the thread goes on with the
next one. When it has finished, ``summary()`` says in one line what loaded and how long it took.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Literal

from pydantic import BaseModel, Field

from schemakg.app.services.linking import LinkingService
from schemakg.kernel.errors import NotFound
from schemakg.kernel.settings import Settings
from schemakg.kernel.store.schema_repo import SchemaRepository

log = logging.getLogger(__name__)

RETRIEVER = "retriever"
LLM = "llm"
DATABASES = "databases"  # the list of registered databases, before each one is known


class Readiness(BaseModel):
    """What ``/health/ready`` reports."""

    status: Literal["loading", "ready", "failed"] = Field(
        description="ready: everything is loaded; loading: the warm-up is still running; failed: a step failed"
    )
    loading: list[str] = Field(
        description="what is still loading: 'retriever', 'llm', 'databases', or 'database:<name>'"
    )
    loaded: list[str] = Field(description="what is loaded")
    failed: dict[str, str] = Field(default_factory=dict, description="what failed to load, with the error")
    load_s: dict[str, float] = Field(default_factory=dict, description="seconds each loaded item took")
    elapsed_s: float = Field(description="seconds since the warm-up started (until it finished, once it has)")


# How long a thread may hold the interpreter lock while others wait for it (Python's default: 5 ms).
# Request threads hand the lock back and forth around every graph, SQLite and torch call; at 5 ms,
# each hand-over can stall a request that long. 1 ms: /search p95 under 20 clients fell from ~135 ms
# to ~105 ms and its throughput rose by a seventh (docs/benchmarks.md).
GIL_SWITCH_INTERVAL_S = 0.001


def set_torch_threads(settings: Settings) -> None:
    """Torch intra-op threads for this process (threads that start torch work later inherit them):
    ``torch_threads``, by default every usable core but one. The API, the worker and the CLI call it."""
    import torch

    torch.set_num_threads(settings.torch_threads)


def apply_thread_settings(settings: Settings) -> None:
    """Torch threads, and the interpreter's thread switch interval."""
    set_torch_threads(settings)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


def _freeze_loaded_objects() -> None:
    """What the warm-up loaded (contexts, value indexes: millions of objects at 30,000 columns) lives as
    long as the process; frozen, the cyclic collector stops walking it on every full collection, which
    otherwise took an eighth of a busy server's time."""
    gc.collect()
    gc.freeze()


class WarmUp:
    """``llm``: loads the LLM and names it (None: no LLM step); ``on_finished`` is called with the warm-up
    once it has finished (not when it was stopped)."""

    def __init__(
        self,
        settings: Settings,
        linking: LinkingService,
        catalog: SchemaRepository,
        llm: Callable[[], str] | None = None,
        on_finished: Callable[[WarmUp], None] | None = None,
    ) -> None:
        self.settings = settings
        self.linking = linking
        self.catalog = catalog
        self._llm = llm
        self._on_finished = on_finished
        self._llm_name: str | None = None
        self._lock = threading.Lock()
        self._loading: list[str] = [RETRIEVER] + ([LLM] if llm is not None else []) + [DATABASES]
        self._loaded: list[str] = []
        self._load_s: dict[str, float] = {}
        self._failed: dict[str, str] = {}
        self._started = time.monotonic()
        self._finished: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Run the warm-up in a daemon thread; readiness can be read at once."""
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self.run, name="warm-up", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the warm-up to stop after its current step, and wait for it a while."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def status(self) -> Readiness:
        with self._lock:
            if self._failed:
                state: Literal["loading", "ready", "failed"] = "failed"
            else:
                state = "loading" if self._loading or self._finished is None else "ready"
            end = self._finished if self._finished is not None else time.monotonic()
            return Readiness(
                status=state,
                loading=list(self._loading),
                loaded=list(self._loaded),
                failed=dict(self._failed),
                load_s=dict(self._load_s),
                elapsed_s=round(end - self._started, 3),
            )

    def summary(self) -> str:
        """One line: ready or not, in how long, what loaded (and what failed)."""
        status = self.status()
        databases = [item for item in status.loaded if item.startswith("database:")]
        parts = [f"{item} {status.load_s[item]:.1f} s" for item in status.loaded if item in (RETRIEVER, LLM)]
        if self._llm_name is not None and LLM in status.loaded:
            parts = [part.replace(LLM, f"LLM {self._llm_name}", 1) for part in parts]
        plural = "" if len(databases) == 1 else "s"
        parts.append(f"{len(databases)} database{plural} {sum(status.load_s[item] for item in databases):.1f} s")
        head = "ready" if status.status == "ready" else f"NOT ready ({status.status})"
        failed = "".join(f"; failed {item}: {error}" for item, error in status.failed.items())
        return f"{head} in {status.elapsed_s:.1f} s: {', '.join(parts)}{failed}"

    def run(self) -> None:
        try:
            retriever = self._step(RETRIEVER, self._load_retriever)
            if self._llm is not None:  # a failure is reported; what does not need the LLM loads regardless
                self._step(LLM, self._load_llm)
            if retriever:
                names = self._list_databases()
                for name in names or []:
                    if self._stop.is_set():
                        return
                    self._step(f"database:{name}", partial(self.linking.warm, name))
            else:
                self._fail(DATABASES, "not loaded: the retriever failed to load")
        finally:
            _freeze_loaded_objects()
            with self._lock:
                self._finished = time.monotonic()
            log.info("warm-up finished: %s", self.summary())
        if self._on_finished is not None and not self._stop.is_set():
            self._on_finished(self)

    def _load_retriever(self) -> None:
        apply_thread_settings(self.settings)
        linker = self.linking.linker  # loads the model (the encoder's weights)
        linker.retriever.index.encoder.encode_questions(["which rows match"])  # first-call kernel set-up

    def _load_llm(self) -> None:
        assert self._llm is not None
        self._llm_name = self._llm()

    def _list_databases(self) -> list[str] | None:
        try:
            names = [d.name for d in self.catalog.list_databases(0, 10**6)[0]]
        except Exception as exc:  # noqa: BLE001 - reported by /health/ready
            self._fail(DATABASES, f"{type(exc).__name__}: {exc}")
            return None
        with self._lock:
            self._loading = [f"database:{name}" for name in names] + [x for x in self._loading if x != DATABASES]
        return names

    def _step(self, item: str, work: Callable[[], object]) -> bool:
        started = time.monotonic()
        try:
            work()
        except NotFound:  # a database deleted meanwhile: nothing to load
            with self._lock:
                self._loading.remove(item)
            return True
        except Exception as exc:
            log.exception("warm-up: %s failed", item)
            self._fail(item, f"{type(exc).__name__}: {exc}")
            return False
        elapsed = time.monotonic() - started
        with self._lock:
            self._loading.remove(item)
            self._loaded.append(item)
            self._load_s[item] = round(elapsed, 3)
        log.info("warm-up: %s loaded in %.1f s", item, elapsed)
        return True

    def _fail(self, item: str, error: str) -> None:
        with self._lock:
            if item in self._loading:
                self._loading.remove(item)
            self._failed[item] = error
