"""The answerer's cheap complexity estimate, which picks one call or least-to-most decomposition, the
few-shot block's dialect, and which results say nothing."""

import pytest

from schemakg.generation.answer import DIALECT_NOTES, PastExample, choose_mode, render_examples, says_nothing
from schemakg.generation.prompts import _ENVIRONMENT, render_prompt, template_source
from schemakg.kernel.sql.links import SchemaNames
from schemakg.retrieval.linker import ContextColumn, DatabaseContext


def test_plain_aggregates_and_superlatives_take_one_call() -> None:
    assert choose_mode("Show the average, minimum, and maximum age for each major.") == "fast"
    assert choose_mode("What is the maximum and minimum market value of companies?") == "fast"
    assert choose_mode("What is the highest salary of any employee?") == "fast"
    assert choose_mode("Which product sold the most units?") == "fast"


def test_compositional_questions_take_least_to_most() -> None:
    assert choose_mode("Which students do not have any allergy?") == "full"
    assert choose_mode("List the cities with more than 3 stores.") == "full"
    assert choose_mode("Which products were ordered by both Alice and Bob?") == "full"


def test_a_result_says_nothing_only_when_every_table_it_reads_holds_rows() -> None:
    context = DatabaseContext(
        database="shop",
        dialect="sqlite",
        version="r1",
        columns=[
            ContextColumn(table="orders", name="id", examples=["1", "2"]),
            ContextColumn(table="orders", name="city", examples=["Madison"]),
            ContextColumn(table="returns", name="order_id"),  # sampled, but empty
        ],
    )
    names = SchemaNames(context.columns_by_table(), "sqlite")
    count = "SELECT count(*) FROM orders WHERE city = 'Paris'"
    assert says_nothing(count, [[0]], names, "sqlite", context)
    assert says_nothing("SELECT id FROM Orders WHERE city = 'Paris'", [], names, "sqlite", context)
    assert not says_nothing(count, [[3]], names, "sqlite", context)
    assert not says_nothing("SELECT count(*) FROM returns", [[0]], names, "sqlite", context)
    joined = "SELECT count(*) FROM orders JOIN returns ON returns.order_id = orders.id"
    assert not says_nothing(joined, [[0]], names, "sqlite", context)  # the empty table explains it
    assert not says_nothing("SELECT FROM WHERE", [], names, "sqlite", context)


def test_past_examples_are_carried_into_the_sources_dialect() -> None:
    """A PostgreSQL or MariaDB source whose query log was written for SQLite is shown its own dialect."""
    logged = PastExample(
        question="Longest name?", sql="SELECT name FROM t ORDER BY length(name) DESC LIMIT 1", dialect="sqlite"
    )
    mariadb = render_examples("fast", "mysql", [logged])
    assert "ORDER BY CHAR_LENGTH(name) DESC LIMIT 1" in mariadb and "length(name)" not in mariadb
    postgres = render_examples("fast", "postgres", [logged.model_copy(update={"sql": "SELECT a || b FROM t"})])
    assert "SELECT a || b FROM t" in postgres
    concatenated = render_examples("fast", "mysql", [logged.model_copy(update={"sql": "SELECT a || b FROM t"})])
    assert "CONCAT(a, b)" in concatenated
    unknown = render_examples("fast", "postgres", [PastExample(question="q?", sql="SELECT length(x) FROM t")])
    assert "SELECT length(x) FROM t" in unknown  # no logged dialect: shown as logged


@pytest.mark.parametrize("template", ["sql_fast.j2", "sql_least_to_most.j2", "sql_fix.j2", "sql_shape_fix.j2"])
def test_engine_prompts_carry_their_dialects_pitfalls_and_sqlites_none(template: str) -> None:
    values = {
        **{"examples": "", "schema": "t(a)", "evidence": "none", "question": "q?", "sql": "SELECT 1", "error": "e"},
        **{"width": 1, "attributes": ["ids", "names"]},
    }
    sqlite = render_prompt(template, dialect="sqlite", notes=DIALECT_NOTES.get("sqlite", ""), **values)
    before = template_source(template).replace("{% if notes %} {{ notes }}{% endif %}", "")  # as it was
    assert sqlite == _ENVIRONMENT.from_string(before).render(dialect="sqlite", **values)
    assert "GROUP BY" not in sqlite and "MariaDB" not in sqlite
    postgres = render_prompt(template, dialect="postgres", notes=DIALECT_NOTES["postgres"], **values)
    assert "must be in the GROUP BY" in postgres and "ILIKE" in postgres
    mariadb = render_prompt(template, dialect="mysql", notes=DIALECT_NOTES["mysql"], **values)
    assert "spell them as the schema does" in mariadb
