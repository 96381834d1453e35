"""Knowledge selection (pipeline step 3): rank a database's columns for a question, keep per the policy."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from schemakg.retrieval.artifacts import RetrieverModel, load_model
from schemakg.retrieval.column_docs import ColumnDoc
from schemakg.retrieval.index import ColumnIndex, ScoredColumn
from schemakg.retrieval.paths import index_dir
from schemakg.retrieval.selection import select


class ColumnRetriever:
    """A model, its calibrated policy and the column index built with that model."""

    def __init__(self, model: RetrieverModel, index: ColumnIndex) -> None:
        if index.model_version != model.version:
            raise ValueError("the index must be built by the model that queries it")
        self.model = model
        self.index = index

    @classmethod
    def open(cls, root: Path | None = None, version: str | None = None, cache_mb: int = 768) -> ColumnRetriever:
        """Newest activated model (or zero-shot) with its index under the data dir.

        ``cache_mb`` bounds the float32 blocks kept in memory; 10,000 columns take about 490 MB.
        """
        model = load_model(version, root)
        index = ColumnIndex(index_dir(root) / model.version, model.encoder, model.version, cache_bytes=cache_mb * 2**20)
        return cls(model, index)

    def sync(self, db_id: str, docs: Sequence[ColumnDoc]) -> int:
        """Make the index hold exactly ``docs`` for ``db_id``; returns how many columns were re-encoded."""
        wanted = {d.key for d in docs}
        self.index.delete(db_id, [k for k in self.index.keys(db_id) if k not in wanted])
        return self.index.upsert(db_id, docs)

    def rank(self, db_id: str, question: str) -> list[ScoredColumn]:
        """All columns, best first."""
        return self.index.search(db_id, question)

    def retrieve(self, db_id: str, question: str) -> list[ScoredColumn]:
        """The selected columns, best first."""
        ranked = self.rank(db_id, question)
        return [ranked[i] for i in select([s.normalised for s in ranked], self.model.selection)]
