"""Spider databases copied onto real PostgreSQL and MariaDB servers (names, types, keys, rows), the gold SQL
transpiled there agreeing with SQLite's results, and ``eval sql`` answering on a copy with the real model."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.engine_copies import (
    backquoted,
    check,
    classify,
    database_url,
    load_mariadb,
    load_postgres,
    mysql_type,
    transpile,
)
from bench.warehouse import SourceDb, empty_entry, from_sqlite
from schemakg.app.container import Container
from schemakg.app.evaluation import EvalDatabases, evaluate_sql
from schemakg.generation.answer import AskOptions
from tests.conftest import SAMPLE_DB
from tests.servers import Server

QUESTIONS = [
    "SELECT count(*) FROM employees",
    'SELECT first_name FROM Employees WHERE last_name = "King" ORDER BY first_name',
    "SELECT T1.department_name, count(*) FROM departments AS T1 JOIN employees AS t2 "
    "ON t1.department_id = T2.department_id GROUP BY T1.department_name",
    "SELECT job_id, avg(salary) FROM employees GROUP BY job_id",
    "SELECT avg(employee_id) FROM employees WHERE employee_id IN (100, 101, 103)",  # 101.333...
]


def sample(db_id: str) -> SourceDb:
    return from_sqlite("spider", db_id, SAMPLE_DB, empty_entry(db_id))


def test_mariadb_types_keep_text_keyable_and_numbers_numbers() -> None:
    assert mysql_type("text", 40) == "VARCHAR(255)"
    assert mysql_type("text", 300) == "TEXT"
    assert mysql_type("bigint", 0) == "BIGINT"
    assert mysql_type("double precision", 0) == "DOUBLE"
    assert mysql_type("numeric", 0) == "DOUBLE"
    assert backquoted("a`b") == "`a``b`"


def test_gold_sql_is_transpiled_for_each_copy() -> None:
    db = sample("hr_1")
    postgres = transpile(QUESTIONS[1], db, "postgres")
    assert postgres == (  # SQLite sorts NULLs first, PostgreSQL last: sqlglot keeps SQLite's order
        "SELECT first_name FROM public.employees AS employees WHERE last_name = 'King' ORDER BY first_name NULLS FIRST"
    )
    mariadb = transpile(QUESTIONS[2], db, "mariadb")
    # SQLite's names are case-insensitive, MariaDB's tables and aliases are not: both spelt as declared
    assert "FROM `departments` AS T1 JOIN `employees` AS t2 ON T1.department_id = t2.department_id" in mariadb
    assert transpile(QUESTIONS[1], db, "mariadb").startswith("SELECT first_name FROM `employees` AS Employees")


def test_differences_are_classified() -> None:
    strict = 'column "t.x" must appear in the GROUP BY clause or be used in an aggregate function'
    assert classify("postgres", "SELECT x FROM t GROUP BY y", strict, [], [[1]]) == "GROUP BY strictness"
    derived = "subquery in FROM must have an alias"
    assert classify("postgres", "SELECT count(*) FROM (SELECT * FROM t)", derived, [], [[1]]).startswith("derived")
    assert classify("mariadb", "SELECT avg(a) FROM t", None, [[1.3333]], [[4 / 3]]).startswith("decimal places")
    ties = "SELECT a FROM t ORDER BY b DESC LIMIT 1"
    assert classify("postgres", ties, None, [["x"]], [["y"]]) == "LIMIT cuts among ORDER BY ties"


def _pg_admin(server: Server) -> str:
    return server.admin_url.replace("postgresql://", "postgresql+psycopg://")


@pytest.fixture(scope="module")
def engine_urls(postgres_server: Server, mariadb_server: Server) -> dict[str, str]:
    """The sample copied onto both servers as the database ``engines_hr`` (replaced if there)."""
    dbs = [sample("engines_hr")]
    load_postgres(_pg_admin(postgres_server), dbs)
    load_mariadb(mariadb_server.admin_url, dbs, "utf8mb4_unicode_ci")
    return {"postgres": _pg_admin(postgres_server), "mariadb": mariadb_server.admin_url}


def test_copies_hold_the_rows_types_and_keys(engine_urls: dict[str, str]) -> None:
    with closing(sqlite3.connect(SAMPLE_DB)) as source:
        counts = {t: source.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("employees", "job_history")}
    postgres = create_engine(database_url(engine_urls["postgres"], "engines_hr"))
    mariadb = create_engine(database_url(engine_urls["mariadb"], "engines_hr"))
    try:
        with postgres.connect() as pg, mariadb.connect() as my:
            for table, count in counts.items():
                assert pg.execute(text(f"SELECT count(*) FROM {table}")).scalar() == count
                assert my.execute(text(f"SELECT count(*) FROM {table}")).scalar() == count
            pg_types = dict(
                pg.execute(
                    text("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'employees'")
                ).all()
            )
            assert pg_types["employee_id"] == "bigint" and pg_types["salary"] in {"bigint", "double precision"}
            assert pg_types["hire_date"] == "text"  # SQLite keeps dates as text, and so do the questions
            pg_keys = pg.execute(
                text(
                    "SELECT constraint_type, count(*) FROM information_schema.table_constraints "
                    "WHERE table_name = 'employees' AND constraint_type LIKE '%KEY' GROUP BY constraint_type"
                )
            ).all()
            assert dict(pg_keys) == {"PRIMARY KEY": 1, "FOREIGN KEY": 2}
            my_keys = my.execute(
                text(
                    "SELECT constraint_type, count(*) FROM information_schema.table_constraints "
                    "WHERE table_schema = 'engines_hr' AND table_name = 'employees' AND constraint_type LIKE '%KEY' "
                    "GROUP BY constraint_type"
                )
            ).all()
            assert dict(my_keys) == {"PRIMARY KEY": 1, "FOREIGN KEY": 2}
            assert (
                my.execute(
                    text(
                        "SELECT DATA_TYPE FROM information_schema.columns WHERE table_schema = "
                        "'engines_hr' AND table_name = 'employees' AND column_name = 'EMPLOYEE_ID'"
                    )
                ).scalar()
                == "bigint"
            )
    finally:
        postgres.dispose()
        mariadb.dispose()


def test_gold_sql_agrees_with_sqlite_on_both_engines(engine_urls: dict[str, str]) -> None:
    questions = [{"db_id": "engines_hr", "query": q} for q in QUESTIONS]
    agreements = {a.engine: a for a in check(questions, [sample("engines_hr")], engine_urls)}
    assert agreements["postgres"].agreed == len(QUESTIONS), agreements["postgres"].differing
    # MariaDB's AVG keeps 4 decimal places (div_precision_increment): the one expected difference
    assert agreements["mariadb"].agreed == len(QUESTIONS) - 1
    assert [d["class"] for d in agreements["mariadb"].differing] == [
        "decimal places (MariaDB's AVG and division keep 4)"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["postgres", "mariadb"])
def test_eval_sql_answers_on_the_engine_copy(
    engine: str, engine_urls: dict[str, str], container: Container, local_model: str, tmp_path: Path
) -> None:
    """``eval sql --engine-url``: ingested from the engine, answered in its dialect, judged by SQLite's gold."""
    db_id = "engines_hr"
    (tmp_path / db_id).mkdir()
    shutil.copyfile(SAMPLE_DB, tmp_path / db_id / f"{db_id}.sqlite")
    catalogue = EvalDatabases(container, {}, tmp_path, engine_urls[engine])
    question = {"db_id": db_id, "question": "How many employees are there?", "query": QUESTIONS[0]}
    try:
        report = evaluate_sql(
            container, [question], catalogue, [0], AskOptions(), tmp_path / "p.jsonl", lambda *_: None
        )
        stored = container.databases.get(f"eval-{db_id}")
    finally:
        container.databases.delete(f"eval-{db_id}")
    assert stored.dialect == ("postgresql" if engine == "postgres" else "mysql")
    assert report["execution_accuracy"] == 1.0, (tmp_path / "p.jsonl").read_text()
