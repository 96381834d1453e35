"""Training data for the area reranker: hard negatives mined with the shipped retriever, and the groups."""

from __future__ import annotations

import random

from schemakg.offline.reranker import Group, RerankerTrainConfig, group_texts, hard_negative_groups
from schemakg.offline.retriever.data import LabelledQuestion
from schemakg.retrieval.column_docs import ColumnDoc

DATABASES = {
    "spider:concert_singer": [("singer", "name"), ("singer", "country"), ("concert", "concert_name")],
    "spider:hr": [("employee", "salary"), ("employee", "name"), ("department", "budget")],
    "spider:flights": [("flight", "origin"), ("flight", "destination"), ("airline", "name")],
}


def _docs() -> dict[str, list[ColumnDoc]]:
    return {db: [ColumnDoc(db_id=db, table=t, column=c) for t, c in columns] for db, columns in DATABASES.items()}


def test_negatives_are_the_wrong_databases_best_covering_first() -> None:
    question = LabelledQuestion(
        source="s",
        corpus="spider",
        db_id="concert_singer",
        question="What is the average salary of employees?",
        columns=["singer.name"],
        tables=["singer"],
    )
    config = RerankerTrainConfig(candidates=2)
    [group] = hard_negative_groups([question], _docs(), sorted(DATABASES), config, lambda _: None)
    assert group.gold == "spider:concert_singer"
    assert group.negatives == ["spider:hr", "spider:flights"]  # the salary question covers hr best
    assert not group.coverage_first
    assert group.ranked["spider:hr"][0] == "employee.salary"
    assert set(group.ranked) == set(DATABASES)


def test_a_group_shows_the_right_database_first_then_sampled_wrong_ones() -> None:
    group = Group(
        question="q",
        gold="spider:a",
        ranked={"spider:a": ["t.x"], "spider:b": ["u.y"], "spider:c": ["v.z"], "spider:d": ["w.k"]},
        negatives=["spider:b", "spider:c", "spider:d"],
        coverage_first=True,
    )
    named = group_texts(group, random.Random(0), RerankerTrainConfig(group_size=3, drop_name=0.0))
    assert named[0] == "a | t: x"
    assert len(named) == 3 and set(named[1:]) <= {"b | u: y", "c | v: z", "d | w: k"}
    unnamed = group_texts(group, random.Random(0), RerankerTrainConfig(group_size=2, drop_name=1.0))
    assert unnamed[0] == "t: x" and len(unnamed) == 2
