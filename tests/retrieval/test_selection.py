from __future__ import annotations

import numpy as np

from schemakg.offline.retriever.linking_eval import column_metrics, f_beta, table_metrics
from schemakg.retrieval.selection import SelectionPolicy, calibrate, select


def test_select_respects_threshold_and_bounds() -> None:
    scores = [0.2, 0.9, 0.5, 0.7]
    assert select(scores, SelectionPolicy(threshold=0.6, min_columns=0, max_columns=10)) == [1, 3]
    assert select(scores, SelectionPolicy(threshold=0.95, min_columns=1, max_columns=10)) == [1]
    assert select(scores, SelectionPolicy(threshold=0.0, min_columns=0, max_columns=3)) == [1, 3, 2]


def test_calibration_finds_the_recall_threshold() -> None:
    scores = [np.array([0.9, 0.8, 0.2, 0.1]), np.array([0.7, 0.6, 0.3]), np.array([0.95, 0.65, 0.1])]
    gold = [np.array([1, 1, 0, 0], bool), np.array([1, 0, 0], bool), np.array([1, 1, 0], bool)]
    policy, f = calibrate(scores, gold, min_columns=1, max_columns=10, beta=6.0)
    # Every gold column scores >= 0.65 and the best non-gold one 0.6: the threshold lands in (0.6, 0.65].
    assert 0.6 < policy.threshold <= 0.65
    assert f == 1.0
    kept = [set(select(s, policy)) for s in scores]
    assert kept == [{0, 1}, {0}, {0, 1}]


def test_calibration_prefers_recall_with_beta_6() -> None:
    # One gold column scored below three distractors: F6 still takes them all.
    policy, _ = calibrate(
        [np.array([0.9, 0.8, 0.7, 0.3])], [np.array([0, 0, 0, 1], bool)], min_columns=0, max_columns=10
    )
    assert policy.threshold <= 0.3


def test_linking_metrics() -> None:
    cols = column_metrics([{"a", "b"}, {"c"}, {"x"}], [{"a"}, {"c", "d"}, set()])
    assert cols == {"column_recall": 0.75, "column_strict_recall": 0.5, "avg_columns": 4 / 3}
    assert f_beta({"t1", "t2"}, {"t1"}, 6.0) == 37 / 38
    tables = table_metrics([{"t1", "t2"}, {"t3"}], [{"t1"}, {"t3"}])
    assert tables["table_recall"] == 1.0 and tables["table_precision"] == 0.75 and tables["table_emr"] == 0.5
