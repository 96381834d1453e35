"""Evaluation checks (parsers, SQLite execution) and an end-to-end run on the tiny model."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from schemakg.generation.momq.inference import MoMQGenerator
from schemakg.offline.momq.data import MoMQExample
from schemakg.offline.momq.evaluate import (
    EvalConfig,
    check,
    cypher_parses,
    evaluate,
    execution_correct,
    results_match,
    sql_parses,
)


@pytest.fixture
def singer_db(tmp_path: Path) -> Path:
    """A Spider-layout database directory: DIR/<db>/<db>.sqlite."""
    path = tmp_path / "db" / "singers" / "singers.sqlite"
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE singer (name TEXT, country TEXT, age INT)")
        connection.executemany(
            "INSERT INTO singer VALUES (?, ?, ?)", [("Ana", "France", 30), ("Bo", "USA", 40), ("Cy", "France", 50)]
        )
    connection.close()
    return tmp_path / "db"


def test_results_match_is_order_sensitive_only_with_order_by() -> None:
    assert results_match("SELECT a FROM t", [(1,), (2,)], [(2,), (1,)])
    assert not results_match("SELECT a FROM t ORDER BY a", [(1,), (2,)], [(2,), (1,)])
    assert not results_match("SELECT a FROM t", [(1,), (1,)], [(1,)]), "multisets, not sets"


def test_sql_and_cypher_parse_checks() -> None:
    assert sql_parses("SELECT `name` FROM singer LIMIT 1", "mysql")
    assert sql_parses('SELECT "name" FROM singer', "postgresql")
    assert not sql_parses("the singers from France", "postgresql"), "prose is not a query"
    assert not sql_parses("SELECT FROM WHERE (", "mysql")
    assert cypher_parses("MATCH (s:Singer) WHERE s.age > 30 RETURN s.name ORDER BY s.name LIMIT 3")
    assert not cypher_parses("SELECT name FROM singer")


def test_sqlite_execution_and_transpiled_execution(singer_db: Path) -> None:
    database = singer_db / "singers" / "singers.sqlite"
    gold = "SELECT count(*) FROM singer WHERE country = 'France'"
    assert execution_correct(database, gold, "SELECT count(name) FROM singer WHERE country = 'France'") == (True, True)
    assert execution_correct(database, gold, "SELECT count(*) FROM singer") == (True, False)
    assert execution_correct(database, gold, "SELECT nope FROM singer") == (False, False)

    row = MoMQExample(
        id="postgresql/spider/0",
        dialect="postgresql",
        source="spider",
        db_id="singers",
        question="q",
        prompt="p",
        query="SELECT COUNT(*) FROM singer WHERE country = 'France'",
        source_query=gold,
    )
    assert check(row, "SELECT COUNT(*) FROM singer AS s WHERE s.country ILIKE 'france'", singer_db) == (
        True,
        None,
        True,
    )
    assert check(row, "SELECT COUNT(*) FROM singer", singer_db) == (True, None, False)
    assert check(row, "not a query", singer_db) == (False, None, False)


def test_evaluate_end_to_end_on_the_tiny_model(saved_momq, toy_data_dir: Path, tmp_path: Path) -> None:
    generator = MoMQGenerator.load(saved_momq.base_dir, saved_momq.adapter_dir, device="cpu")
    config = EvalConfig(
        base_model=saved_momq.base_dir,
        adapter=saved_momq.adapter_dir,
        data_file=toy_data_dir / "validation.jsonl",
        db_dir=tmp_path / "no-db",
        limit=2,
        batch_size=3,
        max_new_tokens=4,
    )
    predictions = tmp_path / "predictions.jsonl"
    report = evaluate(config, generator, predictions)
    assert report["n"] == 4
    assert set(report["by_dialect"]) == {"mysql", "cypher"}
    cypher, mysql = report["by_dialect"]["cypher"], report["by_dialect"]["mysql"]
    assert cypher["n"] == 2 and mysql["n"] == 2
    assert cypher["gold_parse_rate"] == 1.0
    assert mysql["execution_accuracy"] is None and mysql["execution_accuracy_via_sqlite"] is None
    assert 0.0 <= mysql["executable_rate"] <= 1.0
    lines = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert len(lines) == 4 and {"id", "prediction", "executable", "correct", "exact_match"} <= lines[0].keys()
