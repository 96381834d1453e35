"""Each database's logged questions, embedded once per catalogue version: what the choice of few-shot examples
reads, and the log's evidence in routing and in focusing a large schema (``retrieval.question_log``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from schemakg.generation.answer import PastExample
from schemakg.generation.example_selection import mask_question, name_words, sql_reads
from schemakg.kernel.store.examples_repo import QueryExampleRepository
from schemakg.retrieval.question_log import LogReads, LogSimilarity
from schemakg.retrieval.sentence import SentenceEmbedder


@dataclass(frozen=True)
class QuestionLog:
    """A database's logged examples, the tables each one's SQL reads, and the embeddings of each question, plain and
    with the names its SQL reads masked."""

    examples: list[PastExample]
    reads: LogReads
    plain: np.ndarray
    masked: np.ndarray


class QuestionLogs:
    """Keyed by catalogue version (``SchemaRepository.versions``), which changes whenever a log grows: routing
    already reads every candidate's version, so a steady catalogue costs no read here."""

    def __init__(self, examples: QueryExampleRepository, embedder: Callable[[], SentenceEmbedder]) -> None:
        self.examples = examples
        self._embedder = embedder  # loaded only once some database has a log
        self._cache: dict[str, tuple[str, QuestionLog | None]] = {}
        self._lock = threading.Lock()

    @property
    def embedder(self) -> SentenceEmbedder:
        return self._embedder()

    def get(self, database: str, version: str) -> QuestionLog | None:
        return self.get_many({database: version}).get(database)

    def get_many(self, versions: Mapping[str, str]) -> dict[str, QuestionLog]:
        """The logs of the databases (name → catalogue version) that have one; a log is read and embedded again
        only when its database's version changed."""
        with self._lock:
            stale = [database for database, version in versions.items() if self._cached_version(database) != version]
        if stale:
            counts = self.examples.question_counts(stale)
            loaded = {database: self._load(database) if counts.get(database) else None for database in stale}
            with self._lock:
                self._cache.update({database: (versions[database], log) for database, log in loaded.items()})
        with self._lock:
            cached = {database: self._cache.get(database, ("", None))[1] for database in versions}
        return {database: log for database, log in cached.items() if log is not None}

    def similarity(self, versions: Mapping[str, str], question: str) -> dict[str, LogSimilarity]:
        """The question's similarity to each logged question of each database (name → version) that has a log."""
        logs = self.get_many(versions)
        if not logs:
            return {}
        vector = self.embedder.embed([question])[0]
        return {database: LogSimilarity(log.plain @ vector, log.reads) for database, log in logs.items()}

    def _cached_version(self, database: str) -> str | None:
        cached = self._cache.get(database)
        return cached[0] if cached is not None else None

    def _load(self, database: str) -> QuestionLog:
        examples = [PastExample(**row) for row in self.examples.questions(database)]
        reads = [sql_reads(e.sql, e.dialect) for e in examples]
        masked = [mask_question(e.question, name_words(read.names)) for e, read in zip(examples, reads, strict=True)]
        return QuestionLog(
            examples,
            LogReads([read.tables for read in reads]),
            self.embedder.embed([e.question for e in examples]),
            self.embedder.embed(masked),
        )
