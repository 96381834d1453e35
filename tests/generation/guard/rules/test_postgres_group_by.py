from __future__ import annotations

import pytest
import sqlglot

from schemakg.generation.guard.rules import postgres_group_by
from schemakg.generation.guard.rules.context import RepairContext
from schemakg.kernel.sql.links import SchemaNames

NAMES = SchemaNames({"city": ["city_id", "city", "gdp"], "hosting_city": ["year", "host_city"]})


def repaired(sql: str, dialect: str = "postgres") -> tuple[list[str], str]:
    tree = sqlglot.parse_one(sql, read=dialect)
    notes = postgres_group_by.apply(tree, RepairContext.of(tree, dialect, NAMES, ()))
    return notes, tree.sql(dialect=dialect)


def test_a_bare_selected_column_is_aggregated_and_keeps_its_name() -> None:
    notes, sql = repaired(
        "SELECT T1.city, T1.gdp, COUNT(*) FROM city AS T1 JOIN hosting_city AS T2 ON T1.city_id = T2.host_city "
        "GROUP BY T2.host_city ORDER BY T1.gdp DESC, COUNT(*) LIMIT 1"
    )
    assert sql == (
        "SELECT MIN(T1.city) AS city, MIN(T1.gdp) AS gdp, COUNT(*) FROM city AS T1 JOIN hosting_city AS T2 "
        "ON T1.city_id = T2.host_city GROUP BY T2.host_city ORDER BY MIN(T1.gdp) DESC, COUNT(*) LIMIT 1"
    )
    assert notes == [
        "took MIN(T1.city), as PostgreSQL groups strictly",
        "took MIN(T1.gdp), as PostgreSQL groups strictly",
        "took MIN(T1.gdp), as PostgreSQL groups strictly",
    ]


def test_grouped_columns_aggregates_and_output_names_are_left_alone() -> None:
    sql = (
        "SELECT city_id, T1.city AS name, COUNT(*) AS n FROM city AS T1 GROUP BY T1.city_id, city "
        "HAVING COUNT(*) > 1 ORDER BY n, name"
    )
    assert repaired(sql)[0] == []


@pytest.mark.parametrize(
    "sql",
    [
        # SQLite takes the bare column from the row holding the maximum, which MIN() would not.
        "SELECT city, MAX(gdp) FROM city GROUP BY city_id",
        # grouped by position, by an output name, or by an expression: left to the engine
        "SELECT city, COUNT(*) FROM city GROUP BY 1",
        "SELECT city AS c, gdp, COUNT(*) FROM city GROUP BY c",
        "SELECT gdp, COUNT(*) FROM city GROUP BY LOWER(city)",
        "SELECT city, gdp FROM city",
    ],
)
def test_queries_the_rule_cannot_repair_safely_are_left_alone(sql: str) -> None:
    assert repaired(sql) == ([], sqlglot.parse_one(sql, read="postgres").sql(dialect="postgres"))


def test_a_subquery_is_repaired_in_its_own_scope_only() -> None:
    notes, sql = repaired(
        "SELECT city FROM city WHERE city_id IN (SELECT host_city FROM hosting_city GROUP BY host_city "
        "HAVING COUNT(*) > 1 ORDER BY year LIMIT 1)"
    )
    assert "ORDER BY MIN(year)" in sql and "SELECT city FROM city" in sql
    assert len(notes) == 1


def test_other_engines_are_left_alone() -> None:
    assert repaired("SELECT city, COUNT(*) FROM city GROUP BY city_id", "mysql")[0] == []
