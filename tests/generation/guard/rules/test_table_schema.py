from __future__ import annotations

from collections.abc import Callable

from schemakg.generation.guard import validate
from schemakg.generation.guard.rules import table_schema
from schemakg.kernel.sql.links import SchemaNames

# A warehouse on PostgreSQL: one schema per source database, same-named tables in several of them.
WAREHOUSE = SchemaNames(
    {
        "spider_college_3.student": ["stuid", "age"],
        "spider_allergy_1.student": ["stuid", "age", "sex"],
        "spider_allergy_1.has_allergy": ["stuid", "allergy"],
        "spider_match_season.match_season": ["season", "player"],
        "bird_soccer_2016.country": ["country_id", "country_name"],
        "award": ["award_id", "title"],
    },
    "postgres",
)
Run = Callable[..., tuple[list[str], str]]


def test_a_bare_table_takes_the_schema_the_query_already_reads(run: Run) -> None:
    notes, sql = run(
        table_schema.apply,
        "SELECT s.stuid FROM student AS s JOIN spider_allergy_1.has_allergy AS h ON s.stuid = h.stuid",
        dialect="postgres",
        names=WAREHOUSE,
    )
    assert sql.startswith("SELECT s.stuid FROM spider_allergy_1.student AS s JOIN")
    assert notes == ["wrote table student with its schema: spider_allergy_1.student"]
    assert validate(sql, "postgres", WAREHOUSE).links.tables == [
        "spider_allergy_1.student",
        "spider_allergy_1.has_allergy",
    ]


def test_an_ambiguous_bare_table_takes_the_one_the_prompt_showed_or_is_left_alone(run: Run) -> None:
    query = "SELECT stuid FROM student ORDER BY age DESC LIMIT 1"
    shown = ["spider_college_3.student"]
    notes, sql = run(table_schema.apply, query, dialect="postgres", names=WAREHOUSE, shown=shown)
    assert sql == "SELECT stuid FROM spider_college_3.student ORDER BY age DESC LIMIT 1"
    assert notes == ["wrote table student with its schema: spider_college_3.student"]
    assert run(table_schema.apply, query, dialect="postgres", names=WAREHOUSE) == ([], query)  # two students


def test_a_wrong_schema_is_replaced_by_the_only_table_of_that_name(run: Run) -> None:
    notes, sql = run(
        table_schema.apply,
        "SELECT t1.season, t2.country_name FROM bird_soccer_2016.match_season AS t1 "
        "JOIN bird_soccer_2016.country AS t2 ON t1.season = t2.country_id",
        dialect="postgres",
        names=WAREHOUSE,
    )
    assert "FROM spider_match_season.match_season AS t1 JOIN bird_soccer_2016.country AS t2" in sql
    assert notes == ["wrote table bird_soccer_2016.match_season with its schema: spider_match_season.match_season"]
    notes, sql = run(table_schema.apply, "SELECT title FROM hr.award", dialect="postgres", names=WAREHOUSE)
    assert (notes, sql) == (["wrote table hr.award with its schema: award"], "SELECT title FROM award")


def test_resolved_tables_ctes_unknown_names_and_one_namespace_dialects_are_left_alone(run: Run) -> None:
    for query in (
        "SELECT stuid FROM spider_college_3.student",
        "WITH student AS (SELECT 1 AS stuid) SELECT stuid FROM student",
        "SELECT x FROM nowhere",
    ):
        assert run(table_schema.apply, query, dialect="postgres", names=WAREHOUSE) == ([], query)
    one_namespace = SchemaNames({"college__student": ["stuid"]}, "sqlite")
    assert run(table_schema.apply, "SELECT stuid FROM student", names=one_namespace) == (
        [],
        "SELECT stuid FROM student",
    )


def test_a_table_placed_by_the_rule_tells_the_schema_of_the_others(run: Run) -> None:
    notes, sql = run(
        table_schema.apply,
        "SELECT s.stuid FROM student AS s JOIN has_allergy AS h ON s.stuid = h.stuid",  # two students
        dialect="postgres",
        names=WAREHOUSE,
    )
    assert sql == (
        "SELECT s.stuid FROM spider_allergy_1.student AS s JOIN spider_allergy_1.has_allergy AS h ON s.stuid = h.stuid"
    )
    assert notes == [
        "wrote table has_allergy with its schema: spider_allergy_1.has_allergy",
        "wrote table student with its schema: spider_allergy_1.student",
    ]
