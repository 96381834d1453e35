from __future__ import annotations

import random

import torch

from schemakg.offline.retriever.data import LabelledQuestion, split_by_database
from schemakg.offline.retriever.training import (
    LossHead,
    SameNamedTables,
    TrainConfig,
    batch_columns,
    make_batches,
)
from schemakg.retrieval.column_docs import ColumnDoc


def _questions() -> list[LabelledQuestion]:
    return [
        LabelledQuestion(
            source="s", corpus="c", db_id=f"db{i % 3}", question=f"q{i}", columns=[f"t.c{i % 5}"], tables=["t"]
        )
        for i in range(30)
    ]


def _docs() -> dict[str, list[ColumnDoc]]:
    return {f"c:db{d}": [ColumnDoc(db_id=f"db{d}", table="t", column=f"c{i}") for i in range(12)] for d in range(3)}


def test_loss_prefers_gold_columns_and_survives_all_positive_rows() -> None:
    head = LossHead(temperature=0.05, bce_weight=0.5)
    scores = torch.tensor([[0.5, 0.5, 0.5], [0.4, 0.4, 0.4]], requires_grad=True)
    positives = torch.tensor([[True, False, False], [True, True, True]])
    loss = head(scores, positives)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(scores.grad).all()
    assert scores.grad[0, 0] < 0 < scores.grad[0, 1]  # descent raises the gold score, lowers the others


def test_batches_are_deterministic_and_grouped_by_database() -> None:
    config = TrainConfig(batch_size=8, questions_per_db=4, seed=3)
    first, again = make_batches(_questions(), config, 0), make_batches(_questions(), config, 0)
    assert [[q.question for q in b] for b in first] == [[q.question for q in b] for b in again]
    assert sorted(q.question for b in first for q in b) == sorted(q.question for q in _questions())
    assert all(len({q.db_key for q in b}) <= 2 for b in first)


def test_batch_columns_keep_gold_and_cap_negatives() -> None:
    config = TrainConfig(max_columns_per_db=6)
    batch = [q for q in _questions() if q.db_id in ("db0", "db1")][:6]
    columns, positives = batch_columns(batch, _docs(), config, random.Random(0))
    assert len(columns) <= 12 and positives.shape == (6, len(columns))
    assert positives.sum(dim=1).tolist() == [1] * 6  # each gold column present, only for its own db
    assert all(
        columns[j].db_id == q.db_id
        for q, row in zip(batch, positives, strict=True)
        for j in row.nonzero().flatten().tolist()
    )


def test_namespaced_databases_meet_other_databases_same_named_tables() -> None:
    """Written ``<db>__<table>``, a database's gold column competes with the same-named table elsewhere."""
    config = TrainConfig(max_columns_per_db=4, namespaced_fraction=1.0, cross_db_negatives=5)
    batch = [q for q in _questions() if q.db_id == "db0"][:3]
    columns, positives = batch_columns(batch, _docs(), config, random.Random(0), SameNamedTables(_docs()))
    own = [c for c in columns if c.db_id == "db0"]
    others = [c for c in columns if c.db_id != "db0"]
    assert len(own) == 4 and len(others) == 5
    assert {c.table for c in columns} <= {"db0__t", "db1__t", "db2__t"} and len({c.table for c in others}) >= 1
    assert all(columns[j].db_id == "db0" for j in positives.nonzero()[:, 1].tolist())
    assert positives.sum(dim=1).tolist() == [1, 1, 1]


def test_plain_databases_get_no_cross_database_negatives() -> None:
    config = TrainConfig(max_columns_per_db=4, namespaced_fraction=0.0)
    batch = [q for q in _questions() if q.db_id == "db0"][:3]
    columns, _ = batch_columns(batch, _docs(), config, random.Random(0), SameNamedTables(_docs()))
    assert {(c.db_id, c.table) for c in columns} == {("db0", "t")}


def test_split_keeps_databases_apart() -> None:
    train, val = split_by_database(_questions(), val_fraction=0.34, seed=1)
    assert {q.db_key for q in train}.isdisjoint({q.db_key for q in val}) and val
    assert split_by_database(_questions(), 0.34, 1) == (train, val)
