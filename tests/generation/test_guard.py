"""The guard refuses everything but one read-only query, and executes nothing it refuses."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from generation.guard import GuardError, execute, validate
from ingest.sources import SourceDatabase
from ingest.sql_links import SchemaNames
from tests.conftest import SAMPLE_DB

NAMES = SchemaNames({
    "employees": ["EMPLOYEE_ID", "FIRST_NAME", "SALARY", "DEPARTMENT_ID"],
    "departments": ["DEPARTMENT_ID", "DEPARTMENT_NAME"],
})


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
        ("SELECT load_extension('evil')", "policy"),
        ("SELECT * INTO backup FROM employees", "policy"),
        ("SELECT bonus FROM employees", "schema"),
        ("SELECT * FROM payroll", "schema"),
        ("SELEC name FROM employees", "parse"),
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
    links = validate(sql, "sqlite", NAMES)
    assert set(links.tables) == {"employees", "departments"}
    result = execute(SourceDatabase(f"sqlite:///{sample_copy}"), sql, timeout_s=5, row_cap=2)
    assert result.columns[0].lower() == "department_name" and len(result.rows) == 2 and result.truncated
    assert _digest(sample_copy) == before


def test_execution_is_read_only_even_past_the_guard(sample_copy: Path) -> None:
    before = _digest(sample_copy)
    with pytest.raises(GuardError) as failed:
        execute(SourceDatabase(f"sqlite:///{sample_copy}"), "DELETE FROM employees", timeout_s=5, row_cap=10)
    assert failed.value.stage == "execute" and "readonly" in str(failed.value).replace("-", "")
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
        execute(SourceDatabase(f"sqlite:///{path}"), slow, timeout_s=0.2, row_cap=10)


def test_sample_database_is_untouched_by_tests() -> None:
    assert sqlite3.connect(SAMPLE_DB).execute("SELECT count(*) FROM employees").fetchone()[0] == 107
