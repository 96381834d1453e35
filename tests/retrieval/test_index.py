from __future__ import annotations

from pathlib import Path

import pytest

from schemakg.retrieval.column_docs import ColumnDoc
from schemakg.retrieval.encoder import DualTowerEncoder, late_interaction, normalise
from schemakg.retrieval.index import ColumnIndex


def test_search_equals_direct_scoring(tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]) -> None:
    index = ColumnIndex(tmp_path, encoder, "zero-shot", block_size=2)  # several blocks
    assert index.upsert("concert_singer", singer_docs) == len(singer_docs)
    question = "Which singers come from France?"
    q = encoder.encode_questions([question])
    direct = normalise(late_interaction(q, encoder.encode_columns(singer_docs)), q.mask)[0]
    expected = {d.key: float(s) for d, s in zip(singer_docs, direct, strict=True)}
    hits = index.search("concert_singer", question)
    assert [h.key for h in hits] == sorted(expected, key=expected.__getitem__, reverse=True)
    for h in hits:
        assert h.normalised == pytest.approx(expected[h.key], abs=2e-3)  # float16 storage


def test_incremental_upsert_and_delete(tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]) -> None:
    index = ColumnIndex(tmp_path, encoder, "zero-shot", block_size=2)
    index.upsert("db", singer_docs)
    assert index.upsert("db", singer_docs) == 0  # unchanged text: nothing re-encoded
    assert index.delete("db", ["singer.Age"]) == 1
    changed = singer_docs[0].model_copy(update={"description": "stage name"})
    new = ColumnDoc(db_id="db", table="singer", column="Is_male")
    assert index.upsert("db", [changed, new]) == 2
    reopened = ColumnIndex(tmp_path, encoder, "zero-shot")  # persisted
    keys = {h.key for h in reopened.search("db", "male singers")}
    assert keys == {d.key for d in singer_docs if d.key != "singer.Age"} | {"singer.Is_male"}
    assert len(reopened.keys("db")) == 5  # the freed slot was reused
    with pytest.raises(ValueError):
        ColumnIndex(tmp_path, encoder, "another-model").search("db", "x")
