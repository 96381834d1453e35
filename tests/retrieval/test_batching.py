"""The question batcher: concurrent searches served together give exactly what serial ones give."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from schemakg.retrieval.artifacts import RetrieverModel
from schemakg.retrieval.batching import QuestionBatcher
from schemakg.retrieval.column_docs import ColumnDoc
from schemakg.retrieval.encoder import DualTowerEncoder
from schemakg.retrieval.index import ColumnIndex
from schemakg.retrieval.retriever import ColumnRetriever
from schemakg.retrieval.selection import SelectionPolicy

QUESTIONS = [
    "Which singers come from France?",
    "What is the capacity of each stadium?",
    "name of the concert",
    "How old is the youngest singer?",
    "List every singer's name and country, ordered by age from the oldest to the youngest one",
    "?",
]


def _index(tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]) -> ColumnIndex:
    index = ColumnIndex(tmp_path, encoder, "zero-shot", block_size=2)  # several blocks
    index.upsert("concert_singer", singer_docs)
    index.upsert("other", [d.model_copy(update={"db_id": "other", "description": "renamed"}) for d in singer_docs[:3]])
    return index


@pytest.mark.parametrize("scoring_threads", [1, 3])
def test_concurrent_batched_searches_equal_serial_ones(
    tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc], scoring_threads: int
) -> None:
    index = _index(tmp_path, encoder, singer_docs)
    requests = [(db, q) for q in QUESTIONS for db in ("concert_singer", "other", "missing")]
    serial = [index.score(db, encoder.encode_questions([q]))[0] for db, q in requests]

    # The worker waits (up to a minute) until the whole batch is there, so all requests share one batch.
    batcher = QuestionBatcher(index, max_batch=len(requests), wait_ms=60_000, scoring_threads=scoring_threads)
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        together = list(pool.map(lambda r: batcher.scores(*r), requests))
    batcher.close()

    assert batcher.batches == 1
    for one, batched in zip(serial, together, strict=True):
        assert batched.keys == one.keys
        assert batched.tokens == one.tokens
        assert torch.allclose(batched.raw, one.raw, atol=1e-4)
        assert [s.key for s in batched.ranked()] == [s.key for s in one.ranked()]
    assert together[-1].keys == []  # a database without an index scores nothing


def test_one_question_scored_against_many_databases_as_one_by_one(
    tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]
) -> None:
    index = _index(tmp_path, encoder, singer_docs)
    databases = ["other", "concert_singer", "missing", "other"]
    batcher = QuestionBatcher(index, max_batch=8, scoring_threads=2)
    with ThreadPoolExecutor(max_workers=len(QUESTIONS)) as pool:
        together = list(pool.map(lambda q: batcher.scores_many(databases, q), QUESTIONS))
    batcher.close()
    for question, scored in zip(QUESTIONS, together, strict=True):
        assert len(scored) == len(databases)
        for db_id, batched in zip(databases, scored, strict=True):
            one = index.score(db_id, encoder.encode_questions([question]))[0]
            assert batched.keys == one.keys
            assert torch.allclose(batched.raw, one.raw, atol=1e-4)
    # Closed, it still answers, one encoding for all databases.
    assert [s.keys for s in batcher.scores_many(databases, QUESTIONS[0])] == [s.keys for s in together[0]]


def test_retriever_with_a_batcher_ranks_and_selects_as_without(
    tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]
) -> None:
    index = _index(tmp_path, encoder, singer_docs)
    model = RetrieverModel("zero-shot", encoder, SelectionPolicy(threshold=0.3, min_columns=1, max_columns=3))
    plain = ColumnRetriever(model, index)
    batched = ColumnRetriever(model, index, QuestionBatcher(index, max_batch=4))
    with ThreadPoolExecutor(max_workers=4) as pool:
        ranked = list(pool.map(lambda q: batched.rank("concert_singer", q), QUESTIONS))
        selected = list(pool.map(lambda q: batched.retrieve("concert_singer", q), QUESTIONS))
    for question, rank, chosen in zip(QUESTIONS, ranked, selected, strict=True):
        expected = plain.rank("concert_singer", question)
        assert [s.key for s in rank] == [s.key for s in expected]
        assert [s.normalised for s in rank] == pytest.approx([s.normalised for s in expected], abs=1e-5)
        assert [s.key for s in chosen] == [s.key for s in plain.retrieve("concert_singer", question)]
    assert [s.key for s in batched.rank("concert_singer", QUESTIONS[0], top=2)] == [s.key for s in ranked[0][:2]]
    batched.close()
    batches = batched.batcher.batches if batched.batcher else 0
    after = batched.rank("concert_singer", QUESTIONS[0])  # closed: still answered, one by one
    assert [s.key for s in after] == [s.key for s in ranked[0]]
    assert batched.batcher is not None and batched.batcher.batches == batches
    with pytest.raises(ValueError):
        ColumnRetriever(model, index, QuestionBatcher(_index(tmp_path / "b", encoder, singer_docs)))
