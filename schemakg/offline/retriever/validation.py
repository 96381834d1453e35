"""Scoring a labelled split in bulk, and the figures training reports (recall@k, calibrated selection)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from schemakg.offline.retriever.data import LabelledQuestion
from schemakg.offline.retriever.linking_eval import column_metrics
from schemakg.retrieval.column_docs import ColumnDoc
from schemakg.retrieval.encoder import Encoder, late_interaction, normalise
from schemakg.retrieval.selection import SelectionPolicy, calibrate, select


@dataclass
class ScoredQuestion:
    """Normalised scores of every column of the question's database, with the gold mask."""

    question: LabelledQuestion
    keys: list[str]
    scores: np.ndarray
    gold: np.ndarray


def score_split(
    encoder: Encoder, questions: Sequence[LabelledQuestion], docs: Mapping[str, list[ColumnDoc]]
) -> list[ScoredQuestion]:
    """Encode each database's columns once and all questions once, then score question x own-db columns."""
    by_db: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        by_db[q.db_key].append(i)
    q_vectors = encoder.encode_questions([q.question for q in questions])
    out: list[ScoredQuestion | None] = [None] * len(questions)
    for db_key, idx in by_db.items():
        db_docs = docs[db_key]
        c_vectors = encoder.encode_columns(db_docs)
        keys = [d.key for d in db_docs]
        sub = type(q_vectors)(q_vectors.vectors[idx], q_vectors.mask[idx])
        scores = normalise(late_interaction(sub, c_vectors), sub.mask).numpy()
        for row, i in enumerate(idx):
            gold = set(questions[i].columns)
            out[i] = ScoredQuestion(questions[i], keys, scores[row], np.array([k in gold for k in keys]))
    return [s for s in out if s is not None]


def recall_at_k(scored: Sequence[ScoredQuestion], k: int) -> dict[str, float]:
    """Threshold-free ranking quality: what early stopping watches, so it never chases calibration noise."""
    kept = [set(np.array(s.keys)[np.argsort(-s.scores, kind="stable")[:k]]) for s in scored]
    m = column_metrics(kept, [set(s.question.columns) for s in scored])
    return {f"recall@{k}": m["column_recall"], f"strict_recall@{k}": m["column_strict_recall"]}


def selection_metrics(scored: Sequence[ScoredQuestion], policy: SelectionPolicy) -> dict[str, float]:
    kept = [{s.keys[i] for i in select(s.scores, policy)} for s in scored]
    return column_metrics(kept, [set(s.question.columns) for s in scored])


def crossfit_selection(scored: Sequence[ScoredQuestion], policy: SelectionPolicy, seed: int) -> list[set[str]]:
    """Kept columns per question, with a threshold calibrated on the other half of the databases.

    Calibrating and scoring on the same questions flatters the figures; two folds by database
    (pooled over sources, like the stored threshold) do not.
    """
    dbs = sorted({s.question.db_key for s in scored})
    random.Random(seed).shuffle(dbs)
    fold = {db: i % 2 for i, db in enumerate(dbs)}
    kept: list[set[str]] = [set() for _ in scored]
    for f in (0, 1):
        calib = [s for s in scored if fold[s.question.db_key] != f]
        fitted = calibrate_on(calib, policy.min_columns, policy.max_columns, policy.beta) if calib else policy
        for i, s in enumerate(scored):
            if fold[s.question.db_key] == f:
                kept[i] = {s.keys[j] for j in select(s.scores, fitted)}
    return kept


def report(scored: Sequence[ScoredQuestion], policy: SelectionPolicy, k: int, seed: int) -> dict[str, Any]:
    """Per source: calibrated (in-sample) and cross-fitted selection metrics, recall@k, counts."""
    scored = [s for s in scored if s.gold.any()]
    crossfit = crossfit_selection(scored, policy, seed)
    out: dict[str, Any] = {
        "threshold": policy.threshold,
        "min_columns": policy.min_columns,
        "max_columns": policy.max_columns,
    }
    for source in sorted({s.question.source for s in scored}):
        idx = [i for i, s in enumerate(scored) if s.question.source == source]
        part = [scored[i] for i in idx]
        out[source] = {
            "n": len(part),
            "dbs": len({s.question.db_key for s in part}),
            "avg_db_columns": float(np.mean([len(s.keys) for s in part])),
            "calibrated": selection_metrics(part, policy),
            "crossfit": column_metrics([crossfit[i] for i in idx], [set(s.question.columns) for s in part]),
            **recall_at_k(part, k),
        }
    return out


def calibrate_on(scored: Sequence[ScoredQuestion], min_columns: int, max_columns: int, beta: float) -> SelectionPolicy:
    """One threshold across every source of the validation split."""
    policy, _ = calibrate([s.scores for s in scored], [s.gold for s in scored], min_columns, max_columns, beta)
    return policy
