"""Knowledge selection (pipeline step 3): rank a database's columns for a question, keep per the policy."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from schemakg.retrieval.artifacts import RetrieverModel, load_model
from schemakg.retrieval.batching import QuestionBatcher
from schemakg.retrieval.column_docs import ColumnDoc
from schemakg.retrieval.index import ColumnIndex, ColumnScores, ScoredColumn
from schemakg.retrieval.paths import index_dir
from schemakg.retrieval.selection import select


class ColumnRetriever:
    """A model, its calibrated policy and the column index built with that model."""

    def __init__(self, model: RetrieverModel, index: ColumnIndex, batcher: QuestionBatcher | None = None) -> None:
        """With a ``batcher`` (over the same index), concurrent questions are encoded and scored together."""
        if index.model_version != model.version:
            raise ValueError("the index must be built by the model that queries it")
        if batcher is not None and batcher.index is not index:
            raise ValueError("the batcher must serve this retriever's index")
        self.model = model
        self.index = index
        self.batcher = batcher

    @classmethod
    def open(
        cls,
        root: Path | None = None,
        version: str | None = None,
        cache_mb: int = 768,
        max_batch: int | None = None,
        batch_wait_ms: float = 0.0,
        scoring_threads: int = 1,
    ) -> ColumnRetriever:
        """Newest activated model (or zero-shot) with its index under the data dir.

        ``cache_mb`` bounds the float32 blocks kept in memory; 10,000 columns take about 490 MB.
        With ``max_batch``, questions go through a :class:`QuestionBatcher` (for a concurrent service).
        """
        model = load_model(version, root)
        index = ColumnIndex(index_dir(root) / model.version, model.encoder, model.version, cache_bytes=cache_mb * 2**20)
        batcher = QuestionBatcher(index, max_batch, batch_wait_ms, scoring_threads) if max_batch else None
        return cls(model, index, batcher)

    def close(self) -> None:
        """Stop the batcher's worker, if any (after serving what it holds)."""
        if self.batcher is not None:
            self.batcher.close()

    def sync(self, db_id: str, docs: Sequence[ColumnDoc]) -> int:
        """Make the index hold exactly ``docs`` for ``db_id``; returns how many columns were re-encoded."""
        wanted = {d.key for d in docs}
        self.index.delete(db_id, [k for k in self.index.keys(db_id) if k not in wanted])
        return self.index.upsert(db_id, docs)

    def scores(self, db_id: str, question: str) -> ColumnScores:
        """Every column's score for ``question``, in index order (through the batcher when there is one)."""
        if self.batcher is not None:
            return self.batcher.scores(db_id, question)
        return self.index.score(db_id, self.index.encoder.encode_questions([question]))[0]

    def scores_many(self, db_ids: Sequence[str], question: str) -> list[ColumnScores]:
        """As :meth:`scores` for each of ``db_ids``, from one encoding of the question (for routing)."""
        if self.batcher is not None:
            return self.batcher.scores_many(db_ids, question)
        encoded = self.index.encoder.encode_questions([question])
        return [self.index.score(db_id, encoded)[0] for db_id in db_ids]

    def rank(self, db_id: str, question: str, top: int | None = None) -> list[ScoredColumn]:
        """All columns (or the best ``top``), best first."""
        return self.scores(db_id, question).ranked(top)

    def retrieve(self, db_id: str, question: str) -> list[ScoredColumn]:
        """The selected columns, best first."""
        return self.select(self.scores(db_id, question))

    def select(self, scores: ColumnScores) -> list[ScoredColumn]:
        """The columns the selection policy keeps, best first."""
        return scores.pick(select(scores.normalised(), self.model.selection))
