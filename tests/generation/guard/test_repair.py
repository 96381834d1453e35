"""The repair chain end to end: each repair makes a query the guard refused valid, and the database answers it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from schemakg.generation.guard import (
    MAX_NESTING,
    MAX_SQL_CHARS,
    GuardError,
    Repaired,
    execute,
    repair,
    validate,
)
from schemakg.generation.guard.repairs import RULES
from schemakg.generation.guard.rules import (
    join_equated_columns,
    missing_join,
    name_case,
    postgres_group_by,
    postgres_reserved_names,
    sqlite_keyword_qualifier,
    table_schema,
    text_number_comparison,
    unused_join,
    wrong_alias,
)
from schemakg.ingest.introspect import introspect
from schemakg.kernel.sources import SourceDatabase
from schemakg.kernel.sql.links import SchemaNames
from tests.servers import SOURCE_USER, Server

NAMES = SchemaNames(
    {
        "employees": ["EMPLOYEE_ID", "FIRST_NAME", "SALARY", "DEPARTMENT_ID"],
        "departments": ["DEPARTMENT_ID", "DEPARTMENT_NAME"],
    }
)


def test_the_rules_run_in_a_fixed_order() -> None:
    assert (
        table_schema.apply,
        wrong_alias.apply,
        join_equated_columns.apply,
        missing_join.apply,
        unused_join.apply,
        sqlite_keyword_qualifier.apply,
        name_case.apply,
        postgres_reserved_names.apply,
        text_number_comparison.apply,
        postgres_group_by.apply,
    ) == RULES


def test_notes_of_several_rules_add_up_in_rule_order() -> None:
    sql = (
        "SELECT T2.first_name, count(department_id) FROM employees AS T1 JOIN departments AS T2 "
        "ON T1.department_id = T2.department_id GROUP BY T2.first_name"
    )
    repaired = repair(sql, "sqlite", NAMES)
    assert repaired.notes == [
        "T2.first_name -> T1.first_name (departments has no column first_name)",
        "T2.first_name -> T1.first_name (departments has no column first_name)",
        "department_id -> T1.department_id (the join makes every copy equal)",
    ]
    validate(repaired.sql, "sqlite", NAMES)


def test_repair_moves_a_column_to_the_alias_whose_table_has_it(sample_copy: Path) -> None:
    sql = (
        "SELECT T2.first_name FROM employees AS T1 JOIN departments AS T2 ON T1.department_id = T2.department_id "
        "WHERE T2.department_name = 'Finance'"
    )
    with pytest.raises(GuardError):
        validate(sql, "sqlite", NAMES)
    repaired = repair(sql, "sqlite", NAMES)
    assert repaired.notes == ["T2.first_name -> T1.first_name (departments has no column first_name)"]
    validate(repaired.sql, "sqlite", NAMES)
    rows = execute(
        SourceDatabase(f"sqlite:///{sample_copy}"), repaired.sql, timeout_s=5, row_cap=50, max_bytes=100_000
    ).rows
    assert len(rows) == 6


def test_sql_no_rule_changes_comes_back_as_written() -> None:
    # sqlglot would render this differently (upper case, the comment moved): no note, no re-rendering.
    sql = "select first_name  from employees -- who\nwhere salary > 10"
    assert repair(sql, "sqlite", NAMES) == Repaired(sql=sql, notes=[])


_MISPLACED = "SELECT d.first_name FROM employees AS e JOIN departments AS d ON e.department_id = d.department_id WHERE "


@pytest.mark.parametrize(
    "sql",
    [
        _MISPLACED + "d.department_name = '" + "x" * MAX_SQL_CHARS + "'",
        _MISPLACED + "e.salary > " + "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1),
    ],
)
def test_sql_over_the_limits_is_not_repaired(sql: str) -> None:
    # Both parse, and the wrong-alias rule would fix them: only the limits stop it.
    assert repair(_MISPLACED + "1 = 1", "sqlite", NAMES).notes
    assert repair(sql, "sqlite", NAMES) == Repaired(sql=sql, notes=[])


def test_sql_within_the_limits_but_too_deep_to_parse_comes_back_unchanged() -> None:
    sql = "SELECT " + "NOT " * 1000 + "1"  # no parentheses, 4,008 characters: sqlglot recurses past the limit
    assert repair(sql, "sqlite", NAMES) == Repaired(sql=sql, notes=[])


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT e.first_name FROM employees AS e JOIN departments AS d ON e.salary = d.salary",  # always true
        "SELECT x.first_name FROM departments AS x",  # no table in reach has it
        "SELECT first_name FROM employees",  # nothing to fix
        "SELEC first_name FROM employees",  # not SQL: validation reports it
    ],
)
def test_repair_leaves_alone_what_it_cannot_fix_safely(sql: str) -> None:
    assert repair(sql, "sqlite", NAMES) == Repaired(sql=sql, notes=[])


def test_repair_quotes_a_keyword_sqlite_rejects_as_a_qualifier(tmp_path: Path) -> None:
    path = tmp_path / "movies.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE cast (aid INTEGER, msid INTEGER)")
        conn.execute("INSERT INTO cast VALUES (1, 7)")
    names = SchemaNames({"cast": ["aid", "msid"]})
    sql = "SELECT cast.msid FROM cast WHERE cast.aid = 1"
    with pytest.raises(GuardError, match="syntax error"):
        execute(SourceDatabase(f"sqlite:///{path}"), sql, timeout_s=5, row_cap=10, max_bytes=100_000)
    repaired = repair(sql, "sqlite", names)
    assert repaired.notes and all("cast" in note for note in repaired.notes)
    assert execute(
        SourceDatabase(f"sqlite:///{path}"), repaired.sql, timeout_s=5, row_cap=10, max_bytes=100_000
    ).rows == [[7]]


FOREIGN_KEYS = [(("employees", "DEPARTMENT_ID"), ("departments", "DEPARTMENT_ID"))]


def test_repair_joins_the_one_table_a_foreign_key_links_for_a_column(sample_copy: Path) -> None:
    sql = "SELECT count(*) FROM employees AS e WHERE department_name = 'Finance'"
    with pytest.raises(GuardError, match="department_name is in none of the tables the query reads there"):
        validate(sql, "sqlite", NAMES)
    repaired = repair(sql, "sqlite", NAMES, FOREIGN_KEYS)
    assert repaired.notes == [
        "joined departments on employees.DEPARTMENT_ID = departments.DEPARTMENT_ID for department_name"
    ]
    validate(repaired.sql, "sqlite", NAMES)
    assert execute(
        SourceDatabase(f"sqlite:///{sample_copy}"), repaired.sql, timeout_s=5, row_cap=5, max_bytes=100_000
    ).rows == [[6]]


def test_repair_adds_no_join_without_exactly_one_foreign_key_path() -> None:
    sql = "SELECT count(*) FROM employees WHERE department_name = 'Finance'"
    assert repair(sql, "sqlite", NAMES) == Repaired(sql=sql, notes=[])  # no foreign keys known
    two_paths = [*FOREIGN_KEYS, (("employees", "EMPLOYEE_ID"), ("departments", "DEPARTMENT_ID"))]
    assert repair(sql, "sqlite", NAMES, two_paths) == Repaired(sql=sql, notes=[])


def test_repair_qualifies_a_column_the_join_makes_equal(sample_copy: Path) -> None:
    sql = (
        "SELECT count(department_id) FROM employees JOIN departments "
        "ON employees.department_id = departments.department_id WHERE department_name = 'Finance'"
    )
    with pytest.raises(GuardError, match="department_id is ambiguous: employees and departments both have it"):
        validate(sql, "sqlite", NAMES)
    repaired = repair(sql, "sqlite", NAMES)
    assert repaired.notes == ["department_id -> employees.department_id (the join makes every copy equal)"]
    assert execute(
        SourceDatabase(f"sqlite:///{sample_copy}"), repaired.sql, timeout_s=5, row_cap=5, max_bytes=100_000
    ).rows == [[6]]
    unrelated = "SELECT department_id FROM employees JOIN departments ON employees.salary = departments.department_id"
    assert repair(unrelated, "sqlite", NAMES) == Repaired(sql=unrelated, notes=[])


def test_repair_drops_a_join_the_question_does_not_ask_for(sample_copy: Path) -> None:
    """A join read only in its condition keeps just the employees with a job history: 5 rows, not 15."""
    names = SchemaNames(
        {"employees": ["EMPLOYEE_ID", "FIRST_NAME", "SALARY"], "job_history": ["EMPLOYEE_ID", "START_DATE", "JOB_ID"]}
    )
    source = SourceDatabase(f"sqlite:///{sample_copy}")
    sql = (
        "SELECT T1.FIRST_NAME FROM employees AS T1 JOIN job_history AS T2 ON T1.EMPLOYEE_ID = T2.EMPLOYEE_ID "
        "WHERE T1.SALARY > 10000"
    )
    plain = "SELECT FIRST_NAME FROM employees WHERE SALARY > 10000"

    def rows(query: str) -> list[list[object]]:
        return sorted(execute(source, query, timeout_s=5, row_cap=50, max_bytes=100_000).rows, key=str)

    repaired = repair(sql, "sqlite", names, question="First names of the employees earning more than 10000?")
    assert repaired.notes == ["dropped the join of job_history: the query reads it only to join it"]
    assert len(rows(sql)) == 5 and rows(repaired.sql) == rows(plain) and len(rows(plain)) == 15
    asked = repair(sql, "sqlite", names, question="Employees earning more than 10000 with a job history?")
    assert asked == Repaired(sql=sql, notes=[])


@pytest.mark.parametrize("url_fixture", ["mariadb_hr_url", "postgres_hr_url"])
def test_repair_spells_tables_and_qualifiers_as_a_case_sensitive_engine_finds_them(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    """MariaDB refuses ``Employees`` and ``e.salary`` under ``AS E`` (its names and aliases tell case apart); the
    repaired query runs on the real server and answers as SQLite would."""
    source = SourceDatabase(request.getfixturevalue(url_fixture))
    dialect = source.sqlglot_dialect
    names = SchemaNames({"employees": ["employee_id", "salary"]}, dialect)
    sql = "SELECT count(*) FROM Employees AS E WHERE e.salary > 10000"
    try:
        if dialect == "mysql":
            with pytest.raises(GuardError, match="doesn't exist"):
                execute(source, sql, 5.0, 10, 10_000)
        repaired = repair(sql, dialect, names)
        assert execute(source, repaired.sql, 5.0, 10, 10_000).rows == [[15]]
    finally:
        source.dispose()
    expected = ["spelt table Employees as the catalogue does: employees", "spelt qualifier e as E"]
    assert repaired.notes == (expected if dialect == "mysql" else [])  # PostgreSQL folds both to lower case


def test_repair_makes_postgresql_answer_what_sqlite_answers_for_mixed_types_and_reserved_names(
    postgres_server: Server, postgres_hr_url: str
) -> None:
    """An id kept as text in one table and as bigint in the other (Spider's school_finance), and tables named
    ``cast`` and ``user`` (imdb, yelp): PostgreSQL refuses or misreads what SQLite runs; with the names and
    types the catalogue reads from the server, the repaired queries answer."""
    database = "messy_names_and_types"
    with postgres_server.admin_engine("postgres").connect() as conn:
        conn.execute(text(f"CREATE DATABASE {database}"))
    with postgres_server.admin_engine(database, autocommit=False).begin() as conn:
        for statement in (
            "CREATE TABLE school (school_id bigint PRIMARY KEY, school_name text, enrollment text)",
            "CREATE TABLE budget (school_id text, year bigint, budgeted double precision)",
            "INSERT INTO school VALUES (1, 'Glenn', '957'), (2, 'Bremen', '852')",
            "INSERT INTO budget VALUES ('1', 2003, 4979), ('1', 2004, 3666), ('2', 2003, 6803)",
            'CREATE TABLE "cast" (aid bigint, role text)',
            'CREATE TABLE "user" (user_id bigint, name text)',
            """INSERT INTO "cast" VALUES (1, 'Olivia Pope'), (2, 'Fitz')""",
            """INSERT INTO "user" VALUES (1, 'Michelle'), (2, 'Tom')""",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {SOURCE_USER}",
        ):
            conn.execute(text(statement))
    source = SourceDatabase(postgres_server.url(database))
    try:
        snapshot = introspect(source)
        names = SchemaNames({t.name: [c.name for c in t.columns] for t in snapshot.tables}, "postgres")
        types = {(t.name, c.name): c.data_type for t in snapshot.tables for c in t.columns}
        cases = [
            (
                "SELECT SUM(budgeted) FROM budget AS T1 JOIN school AS T2 ON T1.school_id = T2.school_id "
                "WHERE T2.school_name = 'Glenn' AND T2.enrollment > 900",
                "operator does not exist",
                [[8645.0]],
            ),
            (
                "SELECT c.role FROM cast AS c JOIN user AS u ON c.aid = u.user_id WHERE u.name = 'Michelle'",
                "syntax",
                None,
            ),
            ("SELECT u.name FROM user AS u WHERE u.user_id = 2", "does not exist", [["Tom"]]),
            (
                "SELECT school_name FROM school WHERE school_id IN (SELECT school_id FROM budget WHERE year = 2004)",
                "operator does not exist",
                [["Glenn"]],
            ),
            (
                "SELECT T1.school_name, COUNT(*) FROM school AS T1 JOIN budget AS T2 "
                "ON CAST(T1.school_id AS TEXT) = T2.school_id GROUP BY T2.school_id ORDER BY COUNT(*) DESC LIMIT 1",
                "must appear in the GROUP BY clause",
                [["Glenn", 2]],
            ),
        ]
        for sql, refusal, rows in cases:
            with pytest.raises(GuardError, match=refusal):
                execute(source, sql, 5.0, 10, 10_000)
            repaired = repair(sql, "postgres", names, types=types)
            assert repaired.notes
            assert execute(source, validate(repaired.sql, "postgres", names).sql, 5.0, 10, 10_000).rows == (
                rows or [["Olivia Pope"]]
            )
    finally:
        source.dispose()
