from __future__ import annotations

from collections.abc import Callable

import pytest

from schemakg.generation.guard.rules import unused_join
from schemakg.kernel.sql.links import SchemaNames

GAMES = SchemaNames(
    {
        "Student": ["StuID", "Fname", "Major"],
        "SportsInfo": ["StuID", "SportName"],
        "Voting_record": ["StuID", "President_Vote"],
    }
)
Run = Callable[..., tuple[list[str], str]]
SPORTS_JOIN = "SELECT T1.Fname FROM Student AS T1 JOIN SportsInfo AS T2 ON T1.StuID = T2.StuID WHERE T1.Major = 600"


def test_a_join_read_only_in_its_condition_is_dropped(run: Run) -> None:
    notes, sql = run(unused_join.apply, SPORTS_JOIN, names=GAMES, question="First names of students with major 600?")
    assert notes == ["dropped the join of SportsInfo: the query reads it only to join it"]
    assert sql == "SELECT T1.Fname FROM Student AS T1 WHERE T1.Major = 600"


@pytest.mark.parametrize(
    "question",
    [
        "First names of students with major 600 who play a sport?",  # the table's word, by its first letters
        "First names of the students with major 600 and their sportsinfo",
    ],
)
def test_a_join_the_question_names_stays(run: Run, question: str) -> None:
    assert run(unused_join.apply, SPORTS_JOIN, names=GAMES, question=question) == ([], SPORTS_JOIN)


def test_a_join_column_the_question_names_keeps_its_join(run: Run) -> None:
    query = "SELECT DISTINCT T1.Fname FROM Student AS T1 JOIN Voting_record AS T2 ON T1.StuID = T2.President_Vote"
    assert run(unused_join.apply, query, names=GAMES, question="Names of students who won a presidency") == ([], query)
    notes, _ = run(unused_join.apply, query, names=GAMES, question="Names of the students?")
    assert notes


@pytest.mark.parametrize(
    "query",
    [
        "SELECT T1.Fname, T2.SportName FROM Student AS T1 JOIN SportsInfo AS T2 ON T1.StuID = T2.StuID",  # read
        "SELECT COUNT(*) FROM Student AS T1 JOIN SportsInfo AS T2 ON T1.StuID = T2.StuID",  # counts the join's rows
        "SELECT * FROM Student AS T1 JOIN SportsInfo AS T2 ON T1.StuID = T2.StuID",
        "SELECT T1.Fname FROM Student AS T1 LEFT JOIN SportsInfo AS T2 ON T1.StuID = T2.StuID",  # keeps every row
        "SELECT T1.Fname FROM Student AS T1 JOIN SportsInfo AS T2 ON T1.StuID = T2.StuID AND T2.SportName = 'Golf'",
        "SELECT T1.Fname FROM Student AS T1 JOIN SportsInfo AS T2 ON T1.StuID = T2.StuID WHERE SportName = 'Golf'",
        "SELECT T1.Fname FROM Student AS T1 JOIN SportsInfo AS T2 ON T1.StuID = T2.StuID "
        "WHERE EXISTS(SELECT 1 FROM Voting_record AS V WHERE V.StuID = T2.StuID)",  # read by a subquery
    ],
)
def test_a_join_the_query_reads_elsewhere_stays(run: Run, query: str) -> None:
    assert run(unused_join.apply, query, names=GAMES, question="Which students?") == ([], query)


def test_without_the_question_nothing_changes(run: Run) -> None:
    assert run(unused_join.apply, SPORTS_JOIN, names=GAMES) == ([], SPORTS_JOIN)
