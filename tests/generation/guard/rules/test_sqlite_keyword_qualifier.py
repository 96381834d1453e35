from __future__ import annotations

from collections.abc import Callable

from schemakg.generation.guard.rules import sqlite_keyword_qualifier
from schemakg.kernel.sql.links import SchemaNames

CAST = SchemaNames({"cast": ["aid", "msid"]})


def test_a_keyword_qualifier_is_quoted_for_sqlite(run: Callable[..., tuple[list[str], str]]) -> None:
    notes, sql = run(sqlite_keyword_qualifier.apply, "SELECT cast.msid FROM cast WHERE cast.aid = 1", names=CAST)
    assert notes == ["quoted the keyword cast used as a qualifier"] * 2
    assert sql == 'SELECT "cast".msid FROM cast WHERE "cast".aid = 1'


def test_an_ordinary_qualifier_is_left_alone(run: Callable[..., tuple[list[str], str]]) -> None:
    query = "SELECT e.salary FROM employees AS e"
    assert run(sqlite_keyword_qualifier.apply, query) == ([], query)


def test_other_dialects_are_left_alone(run: Callable[..., tuple[list[str], str]]) -> None:
    query = "SELECT cast.msid FROM cast"
    assert run(sqlite_keyword_qualifier.apply, query, dialect="postgres", names=CAST) == ([], query)
