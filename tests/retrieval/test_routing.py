"""Routing's aggregation: columns → tables → databases, on hand-made scores (the scoring itself is
tested against the real towers in test_batching and tests/app/api/test_linking)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from schemakg.retrieval.index import ColumnScores
from schemakg.retrieval.routing import DECIDED, route, table_matches


def _scores(columns: dict[str, float], coverage: float = 0.0) -> ColumnScores:
    """One question token, matched ``coverage`` well by the best column."""
    per_token = torch.full((1, len(columns)), coverage - 0.1)
    per_token[0, 0] = coverage
    return ColumnScores(list(columns), torch.tensor(list(columns.values())), tokens=1, per_token=per_token)


def test_a_table_is_scored_by_its_two_best_columns() -> None:
    tables = table_matches(_scores({"a.x": 0.9, "b.x": 0.8, "b.y": 0.7, "a.y": 0.1, "b.z": 0.0}))
    assert [(t.table, t.columns) for t in tables] == [("b", ["x", "y"]), ("a", ["x", "y"])]
    assert tables[0].score == pytest.approx(0.75)
    assert tables[1].score == pytest.approx(0.5)


def test_databases_rank_by_coverage_and_say_which_tables() -> None:
    routes = route(
        {
            "one_good_column": _scores({"t.a": 0.95, "t.b": 0.05}, coverage=0.6),
            "covers_more": _scores({"s.a": 0.7, "s.b": 0.7, "u.a": 0.6, "u.b": 0.6}, coverage=0.8),
            "empty": ColumnScores([], torch.zeros(0), 1),
        },
        top=5,
    )
    assert [r.database for r in routes] == ["covers_more", "one_good_column"]  # no columns: no route
    assert routes[0].score == pytest.approx(0.8)
    assert [t.table for t in routes[0].tables] == ["s", "u"]
    assert len(route({"a": _scores({"t.x": 0.5}), "b": _scores({"t.x": 0.5})}, top=1)) == 1
    assert [r.database for r in route({"b": _scores({"t.x": 0.5}), "a": _scores({"t.x": 0.5})})] == ["a", "b"]


def test_the_first_route_says_whether_coverage_alone_decided_it() -> None:
    def leading_by(lead: float) -> list[bool]:
        routes = route({"a": _scores({"t.x": 0.5}, coverage=0.7 + lead), "b": _scores({"t.x": 0.5}, coverage=0.7)})
        return [r.decided for r in routes]

    assert leading_by(DECIDED + 0.01) == [True, False]
    assert leading_by(DECIDED - 0.01) == [False, False]
    assert [r.decided for r in route({"only": _scores({"t.x": 0.5}, coverage=0.2)})] == [True]  # nothing else fits
    assert route({"empty": ColumnScores([], torch.zeros(0), 1)}) == []


def test_a_database_holding_a_column_the_question_names_gains_its_share() -> None:
    scores = {"orders": _scores({"t.x": 0.5}, coverage=0.70), "shop": _scores({"t.x": 0.5}, coverage=0.72)}
    assert [r.database for r in route(scores)] == ["shop", "orders"]
    routes = route(scores, named={"orders": 0.05})  # e.g. the evidence spells orders' shippedDate
    assert [r.database for r in routes] == ["orders", "shop"]
    assert routes[0].score == pytest.approx(0.75) and not routes[0].decided  # a lead of 0.03 decides nothing


def test_a_value_missing_from_full_value_lists_reorders_the_routes_but_does_not_decide() -> None:
    """As the empty ``yelp`` and ``restaurants`` against sampled look-alikes: the absence lowers the sampled ones,
    which leaves two unsampled databases far ahead of the rest, yet no closer to telling each other apart."""
    scores = {
        "sampled": _scores({"t.x": 0.5}, coverage=0.80),
        "yelp": _scores({"t.x": 0.5}, coverage=0.78),
        "restaurants": _scores({"t.x": 0.5}, coverage=0.77),
    }
    routes = route(scores, absent={"sampled": 0.15})
    assert [r.database for r in routes] == ["yelp", "restaurants", "sampled"]
    assert routes[2].score == pytest.approx(0.65) and not routes[0].decided  # yelp leads restaurants by 0.01
    clear = route({**scores, "restaurants": _scores({"t.x": 0.5}, coverage=0.70)}, absent={"sampled": 0.15})
    assert [r.database for r in clear] == ["yelp", "restaurants", "sampled"]  # yelp leads by 0.08, by absence only
    assert not clear[0].decided
    alone = route({"yelp": scores["yelp"], "sampled": _scores({"t.x": 0.5}, coverage=0.60)}, absent={"sampled": 0.15})
    assert alone[0].database == "yelp" and alone[0].decided  # it led by 0.18 before the absence counted


def test_a_query_log_reorders_the_best_routes_it_covers_unless_coverage_decided() -> None:
    scores = {
        "dorms": _scores({"t.x": 0.5}, coverage=0.76),
        "clinic": _scores({"t.x": 0.5}, coverage=0.74),
        "unlogged": _scores({"t.x": 0.5}, coverage=0.73),
    }
    asked: list[list[str]] = []

    def log(similarity: dict[str, float]) -> Callable[[list[str]], dict[str, float]]:
        def logged(databases: list[str]) -> dict[str, float]:
            asked.append(databases)
            return {database: similarity[database] for database in databases if database in similarity}

        return logged

    routes = route(scores, log=log({"dorms": 0.3, "clinic": 0.9}), log_weight=5)
    assert asked == [["dorms", "clinic", "unlogged"]]  # the best routes only
    assert [r.database for r in routes] == ["clinic", "dorms", "unlogged"]
    assert [r.log_similarity for r in routes] == [0.9, 0.3, None]
    # A database the log does not cover keeps its place, however well the others' logs match.
    routes = route(scores, log=log({"clinic": 0.9, "unlogged": 0.95}), log_weight=5)
    assert [r.database for r in routes] == ["dorms", "unlogged", "clinic"]
    assert [r.database for r in route(scores, log=log({"dorms": 0.3, "clinic": 0.9}))] == list(scores)  # no weight
    # Where coverage decided, the log is not read.
    asked.clear()
    scores["dorms"] = _scores({"t.x": 0.5}, coverage=0.75 + DECIDED)
    routes = route(scores, log=log({"dorms": 0.3, "clinic": 0.99}), log_weight=5)
    assert [r.database for r in routes] == ["dorms", "clinic", "unlogged"] and routes[0].decided and asked == []
