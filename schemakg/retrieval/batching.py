"""Micro-batching of question searches: concurrent requests share one encoder call and one index pass.

Request threads hand their question to one worker thread and wait for its scores. The worker takes
every question that is waiting when it becomes free (up to ``max_batch``, after waiting at most
``wait_ms`` for company), encodes them in one batch and scores each database's columns against all
of its questions in one pass over the index; passes over different databases run in ``scoring_threads``
threads (torch releases the interpreter lock while it multiplies). Under load, a request waits for at most one batch
ahead of it instead of for every request that came before; with a single request in flight there
is no extra wait when ``wait_ms`` is 0. The towers run in one thread, with torch's intra-op threads,
never in many request threads at once.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from schemakg.retrieval.encoder import TokenVectors
from schemakg.retrieval.index import ColumnIndex, ColumnScores


@dataclass
class _Request:
    db_ids: tuple[str, ...]  # one database for linking, every candidate for routing
    question: str
    result: Future[list[ColumnScores]] = field(default_factory=Future)


class QuestionBatcher:
    """Serves :meth:`ColumnIndex.score` for single questions, batching those that arrive together."""

    def __init__(self, index: ColumnIndex, max_batch: int = 16, wait_ms: float = 0.0, scoring_threads: int = 1) -> None:
        if max_batch < 1 or scoring_threads < 1:
            raise ValueError("max_batch and scoring_threads must be at least 1")
        self.index = index
        self._scorers = ThreadPoolExecutor(scoring_threads, "index-scoring") if scoring_threads > 1 else None
        self.max_batch = max_batch
        self.wait_s = wait_ms / 1000
        self.batches = 0  # how many batches were served (for tests and metrics)
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._start = threading.Lock()

    def scores(self, db_id: str, question: str) -> ColumnScores:
        """Every column of ``db_id`` scored against ``question`` (blocks until its batch is served)."""
        return self.scores_many([db_id], question)[0]

    def scores_many(self, db_ids: Sequence[str], question: str) -> list[ColumnScores]:
        """``question`` encoded once and scored against every column of each of ``db_ids``, in that order."""
        request = _Request(tuple(db_ids), question)
        with self._start:
            closed = self._closed
            if not closed:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._run, name="question-batcher", daemon=True)
                    self._worker.start()
                self._queue.put(request)
        if closed:  # e.g. a request still holding a retriever that a newer model has replaced
            encoded = self.index.encoder.encode_questions([question])
            return [self.index.score(db_id, encoded)[0] for db_id in request.db_ids]
        return request.result.result()

    def close(self) -> None:
        """Serve what was queued, then stop the worker; later questions are served one by one, unbatched."""
        with self._start:
            self._closed = True
            worker = self._worker
            self._queue.put(None)
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=60)
        if self._scorers is not None:
            self._scorers.shutdown(wait=False)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self.wait_s
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._serve(batch)

    def _serve(self, batch: list[_Request]) -> None:
        self.batches += 1
        try:
            encoded = self.index.encoder.encode_questions([r.question for r in batch])
        except Exception as exc:  # noqa: BLE001 - every waiting request gets the error
            for request in batch:
                request.result.set_exception(exc)
            return
        by_database: dict[str, list[int]] = {}
        for row, request in enumerate(batch):
            for db_id in dict.fromkeys(request.db_ids):
                by_database.setdefault(db_id, []).append(row)
        groups = list(by_database.items())
        if self._scorers is not None and len(groups) > 1:
            outcomes = list(self._scorers.map(lambda group: self._score(encoded, *group), groups))
        else:
            outcomes = [self._score(encoded, db_id, rows) for db_id, rows in groups]
        found: dict[tuple[int, str], ColumnScores] = {}
        failed: dict[int, Exception] = {}
        for (db_id, rows), outcome in zip(groups, outcomes, strict=True):
            if isinstance(outcome, Exception):
                failed.update(dict.fromkeys(rows, outcome))
            else:
                found.update({(row, db_id): scores for row, scores in zip(rows, outcome, strict=True)})
        for row, request in enumerate(batch):
            if row in failed:
                request.result.set_exception(failed[row])
            else:
                request.result.set_result([found[(row, db_id)] for db_id in request.db_ids])

    def _score(self, encoded: TokenVectors, db_id: str, rows: list[int]) -> list[ColumnScores] | Exception:
        """One pass over ``db_id``'s index for the batch's ``rows`` that ask about it, or the error it raised."""
        try:
            content = None if encoded.content is None else encoded.content[rows]
            return self.index.score(db_id, TokenVectors(encoded.vectors[rows], encoded.mask[rows], content))
        except Exception as exc:  # noqa: BLE001 - handed to the requests that asked
            return exc
