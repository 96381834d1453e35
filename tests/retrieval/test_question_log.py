"""The query log's evidence: which candidates it covers, and how it reorders them (the logic alone; the log's
embeddings and the routing through the service are tested in tests/app/services/test_question_logs)."""

from __future__ import annotations

import numpy as np

from schemakg.retrieval.question_log import MIN_LOGGED, NEAR, LogReads, LogSimilarity, log_order


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
    log = LogSimilarity(similarity, LogReads(tables))
    groups = {"Shop__Orders": 0, "hr__staff": 1, "HR__pay": 1}  # a schema's names, matched lower-cased
    best = log.best_by_group(groups)
    assert set(best) == {0, 1}
    assert best[0] == best[1] == similarity[-1]
    fewer = LogSimilarity(similarity[:-1], LogReads(tables[:-1]))
    assert set(fewer.best_by_group(groups)) == {0}  # hr: one too few
    assert log.best() == similarity.max()
    assert LogSimilarity(similarity[: MIN_LOGGED - 1], LogReads(tables[: MIN_LOGGED - 1])).best() is None
    assert LogSimilarity(similarity, LogReads([frozenset({"elsewhere"})] * len(tables))).best_by_group(groups) == {}


def test_the_grouping_is_kept_for_the_same_areas_and_redone_for_others() -> None:
    """Another question of the same log and areas reuses the grouping; new areas (a new catalogue version) do not."""
    reads = LogReads([frozenset({"a__x"})] * MIN_LOGGED + [frozenset({"b__y"})] * MIN_LOGGED)
    areas = {"a__x": 0, "b__y": 1}
    first, second = np.linspace(0.1, 0.5, 2 * MIN_LOGGED), np.linspace(0.9, 0.2, 2 * MIN_LOGGED)
    assert LogSimilarity(first, reads).best_by_group(areas) == {0: first[MIN_LOGGED - 1], 1: first[-1]}
    grouped = reads.grouped(areas)
    assert LogSimilarity(second, reads).best_by_group(areas) == {0: second[0], 1: second[MIN_LOGGED]}
    assert reads.grouped(areas)[0] is grouped[0]  # not regrouped
    assert LogSimilarity(second, reads).best_by_group({"a__x": 1, "b__y": 0}) == {1: second[0], 0: second[MIN_LOGGED]}
