from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlglot

from schemakg.generation.guard.rules import text_number_comparison
from schemakg.generation.guard.rules.context import RepairContext
from schemakg.kernel.sql.links import SchemaNames

# school_finance as the PostgreSQL copy holds it: budget.school_id kept as text, school.school_id as bigint.
NAMES = SchemaNames({"school": ["school_id", "school_name", "enrollment"], "budget": ["school_id", "budgeted"]})
TYPES = {
    ("school", "school_id"): "BIGINT",
    ("school", "school_name"): "TEXT",
    ("school", "enrollment"): "VARCHAR(255)",
    ("budget", "school_id"): "TEXT",
    ("budget", "budgeted"): "DOUBLE PRECISION",
}


def repaired(sql: str, dialect: str = "postgres") -> tuple[list[str], str]:
    tree = sqlglot.parse_one(sql, read=dialect)
    notes = text_number_comparison.apply(tree, RepairContext.of(tree, dialect, NAMES, (), TYPES))
    return notes, tree.sql(dialect=dialect)


def test_a_join_of_a_text_and_a_number_column_compares_both_as_text() -> None:
    notes, sql = repaired(
        "SELECT SUM(b.budgeted) FROM budget AS b JOIN school AS s ON b.school_id = s.school_id "
        "WHERE s.school_name = 'Glenn'"
    )
    assert sql == (
        "SELECT SUM(b.budgeted) FROM budget AS b JOIN school AS s ON b.school_id = CAST(s.school_id AS TEXT) "
        "WHERE s.school_name = 'Glenn'"
    )
    assert notes == ["compared b.school_id = CAST(s.school_id AS TEXT) as text, as SQLite does"]


def test_a_number_column_in_a_subquery_of_text_compares_as_text() -> None:
    notes, sql = repaired(
        "SELECT school_name FROM school WHERE school_id IN (SELECT school_id FROM budget WHERE budgeted > 10)"
    )
    assert sql == (
        "SELECT school_name FROM school WHERE CAST(school_id AS TEXT) IN "
        "(SELECT school_id FROM budget WHERE budgeted > 10)"
    )
    assert len(notes) == 1
    assert repaired("SELECT budgeted FROM budget AS b WHERE b.school_id NOT IN (SELECT s.school_id FROM school AS s)")[
        1
    ] == (
        "SELECT budgeted FROM budget AS b WHERE NOT b.school_id IN (SELECT CAST(s.school_id AS TEXT) FROM school AS s)"
    )


def test_number_literals_against_a_text_column_become_text_even_when_ordered() -> None:
    assert repaired("SELECT school_name FROM school WHERE enrollment > 300 AND school_id = 2")[1] == (
        "SELECT school_name FROM school WHERE enrollment > '300' AND school_id = 2"
    )
    assert repaired("SELECT budgeted FROM budget WHERE school_id IN (1, 2)")[1] == (
        "SELECT budgeted FROM budget WHERE school_id IN ('1', '2')"
    )


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 FROM budget AS b JOIN school AS s ON b.school_id > s.school_id",  # an order would need a cast
        "SELECT 1 FROM school WHERE school_id = '2'",  # PostgreSQL reads the literal as a number itself
        "SELECT 1 FROM budget JOIN school ON budget.school_id = school.school_name",  # both text
        "SELECT 1 FROM budget JOIN school ON school_id = 1",  # ambiguous: the guard says so, not this rule
        "SELECT 1 FROM school WHERE school_id IN (SELECT enrollment + 1 FROM school)",  # not one column
    ],
)
def test_comparisons_postgresql_accepts_or_that_cannot_be_resolved_are_left_alone(sql: str) -> None:
    assert repaired(sql) == ([], sqlglot.parse_one(sql, read="postgres").sql(dialect="postgres"))


def test_other_engines_and_unknown_types_are_left_alone() -> None:
    sql = "SELECT budgeted FROM budget WHERE school_id = 1"
    assert repaired(sql, "sqlite") == ([], sql)
    assert repaired(sql, "mysql") == ([], sql)
    tree = sqlglot.parse_one(sql, read="postgres")
    assert text_number_comparison.apply(tree, RepairContext.of(tree, "postgres", NAMES, ())) == []


Run = Callable[..., tuple[list[str], str]]
