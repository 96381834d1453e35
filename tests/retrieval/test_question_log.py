"""The query log's evidence: which candidates it covers, and how it reorders them (the logic alone; the log's
embeddings and the routing through the service are tested in tests/app/api/test_linking)."""

from __future__ import annotations

import numpy as np

from schemakg.retrieval.question_log import MIN_LOGGED, NEAR, LogSimilarity, log_order


def test_the_log_reorders_only_the_candidates_it_covers_among_their_own_places() -> None:
    score = {"a": 0.80, "b": 0.78, "c": 0.77, "d": 0.70}.__getitem__
    order = ["a", "b", "c", "d"]
    near = {"a": NEAR - 0.3, "c": NEAR + 0.1, "d": NEAR + 0.15}
    # b is not covered: it keeps second place however close the others' logged questions come.
    assert log_order(order, score, near, weight=5) == ["d", "b", "c", "a"]
    assert log_order(order, score, near, weight=0.01) == order  # too light to move
    assert log_order(order, score, {}, weight=5) == order
    assert log_order(order, score, {"c": 0.99}, weight=5) == order  # a candidate alone has no one to trade with
    # Only a near paraphrase counts: looser matches, however different, leave the order to the scores.
    assert log_order(order, score, {"a": 0.1, "c": NEAR, "d": NEAR - 0.01}, weight=5) == order
    # Equal final scores keep their order.
    assert log_order(["x", "y"], {"x": 0.5, "y": 0.5}.__getitem__, {"x": 0.9, "y": 0.9}, 5) == ["x", "y"]


def test_a_group_is_covered_once_enough_logged_questions_read_its_tables() -> None:
    tables = [frozenset({"shop__orders"})] * MIN_LOGGED + [frozenset({"hr__staff", "hr__pay"})] * (MIN_LOGGED - 1)
    tables.append(frozenset({"hr__staff", "shop__orders", "elsewhere"}))  # reads two areas: counts for both
    similarity = np.linspace(0.1, 0.9, len(tables))
    log = LogSimilarity(similarity, tables)
    groups = {"shop__orders": 0, "hr__staff": 1, "hr__pay": 1}
    best = log.best_by_group(groups)
    assert set(best) == {0, 1}
    assert best[0] == best[1] == similarity[-1]
    assert set(LogSimilarity(similarity[:-1], tables[:-1]).best_by_group(groups)) == {0}  # hr: one too few
    assert log.best() == similarity.max()
    assert LogSimilarity(similarity[: MIN_LOGGED - 1], tables[: MIN_LOGGED - 1]).best() is None
