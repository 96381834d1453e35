"""The guard refuses everything but one read-only query, and executes nothing it refuses."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

import pytest

from schemakg.generation.guard import GuardError, check_policy, execute, validate
from schemakg.kernel.sources import SourceDatabase
from schemakg.kernel.sql.links import SchemaNames
from tests.conftest import SAMPLE_DB, SHARED_DATA

NAMES = SchemaNames(
    {
        "employees": ["EMPLOYEE_ID", "FIRST_NAME", "SALARY", "DEPARTMENT_ID"],
        "departments": ["DEPARTMENT_ID", "DEPARTMENT_NAME"],
    }
)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("sql", "stage"),
    [
        ("DROP TABLE employees", "policy"),
        ("DELETE FROM employees", "policy"),
        ("UPDATE employees SET salary = 0", "policy"),
        ("INSERT INTO departments VALUES (1, 'x')", "policy"),
        ("SELECT 1 FROM employees; DROP TABLE employees", "policy"),
        ("SELECT * FROM employees; SELECT * FROM departments", "policy"),
        ("ATTACH DATABASE '/tmp/evil.db' AS evil", "policy"),
        ("PRAGMA writable_schema = ON", "policy"),
        ("CREATE TABLE x AS SELECT * FROM employees", "policy"),
        ("VACUUM", "policy"),
        ("SELECT load_extension('evil')", "function"),
        ("SELECT * INTO backup FROM employees", "policy"),
        ("SELECT bonus FROM employees", "schema"),
        ("SELECT * FROM payroll", "schema"),
        ("SELEC name FROM employees", "parse"),
        ("SELECT d.first_name FROM departments AS d", "schema"),
        ("SELECT department_name FROM employees", "schema"),
    ],
)
def test_refusals(sql: str, stage: str, sample_copy: Path) -> None:
    before = _digest(sample_copy)
    with pytest.raises(GuardError) as refused:
        validate(sql, "sqlite", NAMES)
    assert refused.value.stage == stage
    assert _digest(sample_copy) == before


def test_read_only_queries_pass_and_run_capped(sample_copy: Path) -> None:
    before = _digest(sample_copy)
    sql = (
        "WITH rich AS (SELECT employee_id, department_id FROM employees WHERE salary > 10000) "
        "SELECT d.department_name, count(*) FROM rich JOIN departments AS d ON rich.department_id = d.department_id "
        "GROUP BY d.department_name ORDER BY 2 DESC"
    )
    links = validate(sql, "sqlite", NAMES).links
    assert set(links.tables) == {"employees", "departments"}
    result = execute(SourceDatabase(f"sqlite:///{sample_copy}"), sql, timeout_s=5, row_cap=2, max_bytes=100_000)
    assert result.columns[0].lower() == "department_name" and len(result.rows) == 2 and result.truncated
    assert _digest(sample_copy) == before


def test_execution_is_read_only_even_past_the_guard(sample_copy: Path) -> None:
    before = _digest(sample_copy)
    with pytest.raises(GuardError) as failed:
        execute(
            SourceDatabase(f"sqlite:///{sample_copy}"),
            "DELETE FROM employees",
            timeout_s=5,
            row_cap=10,
            max_bytes=100_000,
        )
    assert failed.value.stage == "execute" and "not authorized" in str(failed.value)
    assert _digest(sample_copy) == before


def test_timeout(tmp_path: Path) -> None:
    path = tmp_path / "slow.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", ((i,) for i in range(3000)))
    conn.commit()
    conn.close()
    slow = "SELECT count(*) FROM t a, t b, t c"
    with pytest.raises(GuardError, match="time limit"):
        execute(SourceDatabase(f"sqlite:///{path}"), slow, timeout_s=0.2, row_cap=10, max_bytes=100_000)


def test_sample_database_is_untouched_by_tests() -> None:
    assert sqlite3.connect(SAMPLE_DB).execute("SELECT count(*) FROM employees").fetchone()[0] == 107


def test_columns_must_be_on_a_table_the_query_reads() -> None:
    with pytest.raises(
        GuardError, match="d is the table departments, which has no column salary; salary is a column of employees"
    ):
        validate("SELECT d.salary FROM departments AS d", "sqlite", NAMES)
    # An unqualified column of a subquery belongs to the subquery's table, not the outer one.
    validate(
        "SELECT first_name FROM employees WHERE department_id IN "
        "(SELECT department_id FROM departments WHERE department_name = 'Finance')",
        "sqlite",
        NAMES,
    )
    # SQLite resolves a subquery's ORDER BY in the subquery's own tables only.
    correlated_order = (
        "SELECT max(salary) FROM employees WHERE department_id = "
        "(SELECT department_id FROM departments ORDER BY salary LIMIT 1)"
    )
    with pytest.raises(GuardError, match="salary is in none of the tables the query reads there \\(departments\\)"):
        validate(correlated_order, "sqlite", NAMES)


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        ("SELECT pg_try_advisory_lock(1) FROM employees", "postgres"),
        ("SELECT query_to_xml_and_xmlschema('SELECT pg_advisory_lock(1)', true, true, '')", "postgres"),
        ("SELECT database_to_xml(true, true, '')", "postgres"),
        ("SELECT pg_logical_emit_message(false, 'x', 'y')", "postgres"),
        ("SELECT lo_create(0)", "postgres"),
        ("SELECT lo_from_bytea(0, 'x')", "postgres"),
        ("SELECT pg_current_xact_id()", "postgres"),
        ("SELECT setval('s', 1)", "postgres"),
        ("SELECT set_config('statement_timeout', '0', false)", "postgres"),
        ("SELECT first_name FROM employees WHERE pg_sleep(20) IS NULL", "postgres"),
        ("SELECT get_lock('x', 10)", "mysql"),
        ("SELECT sleep(20)", "mysql"),
        ("SELECT load_file('/etc/passwd')", "mysql"),
        ("SELECT randomblob(400000000)", "sqlite"),
        ("SELECT readfile('/etc/passwd')", "sqlite"),
        ("SELECT my_udf(salary) FROM employees", "sqlite"),
    ],
)
def test_functions_off_the_allowlist_are_refused(sql: str, dialect: str) -> None:
    with pytest.raises(GuardError, match="is not allowed") as refused:
        check_policy(sql, dialect)
    assert refused.value.stage == "function" and not refused.value.refusal


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        # One string literal to MySQL, two statements to PostgreSQL: parsed as the source's, it is refused.
        (
            "SELECT '\\' AS a; COMMIT; BEGIN READ WRITE; CREATE TABLE pwned(x int); COMMIT; SELECT 1 AS b -- '",
            "postgres",
        ),
        ("SELECT $$a$$; DELETE FROM employees", "postgres"),
        ("SELECT 1 FROM employees FOR UPDATE", "postgres"),
        ("WITH d AS (DELETE FROM employees RETURNING *) SELECT * FROM d", "postgres"),
        ("SELECT :abc FROM employees", "sqlite"),
        ("SELECT first_name FROM employees WHERE salary > %s", "postgres"),
        ("SELECT @@global.read_only", "mysql"),
        ("EXPLAIN ANALYZE DELETE FROM employees", "postgres"),
        ("SELECT 1 INTO OUTFILE '/tmp/x'", "mysql"),
    ],
)
def test_writes_stacking_and_session_state_are_refusals(sql: str, dialect: str) -> None:
    with pytest.raises(GuardError) as refused:
        check_policy(sql, dialect)
    assert refused.value.refusal or refused.value.stage == "parse", refused.value


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 FROM employees WHERE first_name = '" + "x" * 200_000 + "'",
        "SELECT " + "(" * 1000 + "1" + ")" * 1000,
        "SELECT " + "NOT " * 3000 + "1",
    ],
)
def test_oversized_and_deep_sql_is_refused_quickly(sql: str) -> None:
    started = time.perf_counter()
    with pytest.raises(GuardError) as refused:
        validate(sql, "sqlite", NAMES)
    assert refused.value.stage in ("limits", "parse")
    assert time.perf_counter() - started < 5  # bench/guard_limits.py measures the real figures


def test_a_long_flat_expression_is_checked_without_crashing() -> None:
    started = time.perf_counter()
    assert validate("SELECT " + "+".join(["salary"] * 700) + " FROM employees", "sqlite", NAMES).sql
    assert time.perf_counter() - started < 5


def test_what_runs_is_the_checked_tree_without_comments() -> None:
    sql = "SELECT first_name /* a comment; DROP TABLE employees */ FROM employees -- tail"
    validated = validate(sql, "sqlite", NAMES)
    assert "DROP" not in validated.sql and "--" not in validated.sql and "/*" not in validated.sql
    assert validated.sql == "SELECT first_name FROM employees"


def test_analytic_functions_of_each_dialect_pass() -> None:
    check_policy(
        "SELECT strftime('%Y', hire_date), julianday('now') - julianday(hire_date), total(salary) "
        "FROM employees GROUP BY 1",
        "sqlite",
    )
    check_policy(
        "SELECT to_char(hire_date, 'YYYY'), date_trunc('month', hire_date), "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY salary) FROM employees GROUP BY 1, 2",
        "postgres",
    )
    check_policy(
        "SELECT date_format(hire_date, '%Y'), ifnull(salary, 0), timestampdiff(YEAR, hire_date, now()) FROM employees",
        "mysql",
    )


def _gold_queries() -> list[str]:
    files = [
        ("spider-train/train_spider.json", "query"),
        ("spider-train/train_others.json", "query"),
        ("spider-syn-train/train_spider.json", "query"),
        ("bird-train/train.json", "SQL"),
    ]
    if not all((SHARED_DATA / name).exists() for name, _ in files):
        pytest.skip("needs ../shared/data")
    return [row[field] for name, field in files for row in json.loads((SHARED_DATA / name).read_text())]


def test_no_gold_query_in_the_training_data_is_refused() -> None:
    """False refusals: every Spider, Spider-Syn and BIRD gold query passes the policy checks."""
    refused = []
    for sql in _gold_queries():
        try:
            check_policy(sql, "sqlite")
        except GuardError as exc:
            if exc.stage != "parse":
                refused.append((sql, str(exc)))
    assert refused == []
