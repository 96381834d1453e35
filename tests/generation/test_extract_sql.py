"""Pulling the SQL out of a model's reply (formatting logic only)."""

from schemakg.generation.answer import FEW_SHOT, extract_sql


def test_final_sql_block_wins() -> None:
    reply = (
        "Sub-question 1: x\nSQL: SELECT 1\nFinal SQL:\n```sql\nSELECT count(*) FROM employees;\n```\n"
        "```sql\nSELECT 2\n```"
    )
    assert extract_sql(reply) == "SELECT count(*) FROM employees"


def test_bare_and_fenced_replies() -> None:
    assert extract_sql("```sql\nSELECT name FROM t\n```") == "SELECT name FROM t"
    assert extract_sql("Final SQL: SELECT a FROM t WHERE b = 1; -- done") == "SELECT a FROM t WHERE b = 1"
    assert extract_sql("Here you go: WITH x AS (SELECT 1) SELECT * FROM x") == "WITH x AS (SELECT 1) SELECT * FROM x"


def test_echoes_are_not_answers() -> None:
    assert extract_sql("```sql\n...\n```") is None
    assert extract_sql(f"```sql\n{FEW_SHOT[1]['sql']}\n```") is None
    assert extract_sql("I cannot answer that.") is None
