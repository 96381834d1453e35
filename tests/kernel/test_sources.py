"""The execution layer holds on its own, on real SQLite, PostgreSQL and MariaDB, against SQL no
guard checked; URLs are masked and checked."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from schemakg.kernel.sources import SourceDatabase, SourceError, SourceQueryError, mask_url, parse_url, redact
from tests.servers import Server

ENGINES = ["sqlite", "postgresql", "mariadb"]


@pytest.fixture(params=ENGINES)
def engine_source(request: pytest.FixtureRequest, sample_copy: Path) -> SourceDatabase:
    if request.param == "sqlite":
        return SourceDatabase(f"sqlite:///{sample_copy}")
    return SourceDatabase(
        request.getfixturevalue(f"{'postgres' if request.param == 'postgresql' else 'mariadb'}_hr_url")
    )


def _read(source: SourceDatabase, sql: str, **limits: float) -> list[list[object]]:
    return source.read(
        sql,
        timeout_s=limits.get("timeout_s", 5),
        row_cap=int(limits.get("row_cap", 100)),
        max_bytes=int(limits.get("max_bytes", 1_000_000)),
    ).rows


def _fingerprint(source: SourceDatabase) -> list[object]:
    """Every table's row count and content digest, and the number of tables: writes show here."""
    tables = ["regions", "countries", "departments", "jobs", "employees", "job_history", "locations"]
    digest = [
        hashlib.sha256(repr(_read(source, f"SELECT * FROM {t} ORDER BY 1", row_cap=1000)).encode()).hexdigest()
        for t in tables
    ]
    catalogue = {
        "sqlite": "SELECT count(*) FROM sqlite_master",
        "postgresql": "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace",
        "mysql": "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'hr_1'",
    }
    with source.connect() as conn:
        count = conn.execute(text(catalogue["mysql" if source.dialect in ("mysql", "mariadb") else source.dialect]))
        return [*digest, count.scalar()]


ATTACKS = [
    "DELETE FROM job_history",
    "UPDATE employees SET salary = 0",
    "DROP TABLE job_history",
    "CREATE TABLE pwned (x int)",
    "SELECT 1; DELETE FROM job_history",
    "SELECT 1; COMMIT; BEGIN READ WRITE; CREATE TABLE pwned (x int); COMMIT",
    "INSERT INTO regions VALUES (99, 'x')",
    "WITH d AS (DELETE FROM job_history RETURNING *) SELECT count(*) FROM d",
    "SELECT * INTO backup FROM regions",
    "CREATE TEMPORARY TABLE t AS SELECT * FROM regions",
    "ALTER TABLE regions ADD COLUMN x int",
    "TRUNCATE TABLE job_history",
]


@pytest.mark.parametrize("sql", ATTACKS)
def test_writes_fail_and_change_nothing(engine_source: SourceDatabase, sql: str) -> None:
    before = _fingerprint(engine_source)
    with pytest.raises(SourceQueryError):
        _read(engine_source, sql)
    assert _fingerprint(engine_source) == before


def test_no_session_state_survives_a_read_on_postgres(postgres_server: Server, postgres_hr_url: str) -> None:
    source = SourceDatabase(postgres_hr_url)
    assert _read(source, "SELECT pg_try_advisory_lock(4242)") == [[True]]
    with pytest.raises(SourceQueryError):
        _read(source, "SELECT set_config('statement_timeout', '0', false), pg_advisory_lock(4243), 1/0")
    with postgres_server.admin_engine("hr_1").connect() as admin:
        time.sleep(0.2)
        locks = admin.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar()
        sessions = admin.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'schemakg-read'")
        ).scalar()
    assert locks == 0 and sessions == 0
    # ingestion's pooled connection is read-only too
    with source.connect() as conn, pytest.raises(Exception, match="read-only"):
        conn.execute(text("CREATE TABLE pwned (x int)"))


def test_no_lock_survives_a_read_on_mariadb(mariadb_server: Server, mariadb_hr_url: str) -> None:
    source = SourceDatabase(mariadb_hr_url)
    assert _read(source, "SELECT GET_LOCK('schemakg-test', 1)") == [[1]]
    with mariadb_server.admin_engine("hr_1").connect() as admin:
        assert admin.execute(text("SELECT IS_USED_LOCK('schemakg-test')")).scalar() is None


def test_row_cap_and_size_cap(engine_source: SourceDatabase) -> None:
    result = engine_source.read("SELECT first_name FROM employees", timeout_s=5, row_cap=3, max_bytes=10_000)
    assert len(result.rows) == 3 and result.truncated and [c.lower() for c in result.columns] == ["first_name"]
    with pytest.raises(SourceQueryError, match="larger than 500 bytes"):
        _read(engine_source, "SELECT * FROM employees", max_bytes=500)


SLOW = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(30)",
    "mariadb": "SELECT SLEEP(30)",
}


def test_the_deadline_holds(engine_source: SourceDatabase) -> None:
    started = time.monotonic()
    with pytest.raises(SourceQueryError, match="ran past its 1s time limit"):
        _read(
            engine_source, SLOW["mariadb" if engine_source.dialect == "mysql" else engine_source.dialect], timeout_s=1
        )
    assert time.monotonic() - started < 5


def test_bind_parameter_lookalikes_are_text(engine_source: SourceDatabase) -> None:
    assert _read(engine_source, "SELECT ':abc', '%s', '%(x)s'") == [[":abc", "%s", "%(x)s"]]


def test_sqlite_refuses_functions_off_the_allowlist_and_huge_values(sample_copy: Path) -> None:
    source = SourceDatabase(f"sqlite:///{sample_copy}")
    for sql in ("SELECT randomblob(400000000)", "SELECT load_extension('x')", "SELECT zeroblob(400000000)"):
        started = time.monotonic()
        with pytest.raises(SourceQueryError, match="not authorized"):
            _read(source, sql)
        assert time.monotonic() - started < 1
    with pytest.raises(SourceQueryError, match="too big"):
        _read(source, "SELECT length(replace(printf('%.*c', 9000000, 'x'), 'x', 'yy'))")
    assert _read(source, "SELECT strftime('%Y', hire_date), julianday(hire_date) > 0 FROM employees LIMIT 1") == [
        ["1987", 1]
    ]


def test_invalid_utf8_comes_back_replaced(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "bytes.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (v TEXT)")
        conn.execute("INSERT INTO t VALUES (CAST(x'ff41' AS TEXT))")
    assert _read(SourceDatabase(f"sqlite:///{path}"), "SELECT v FROM t") == [["\ufffdA"]]


def test_driverless_urls_use_maintained_drivers(postgres_hr_url: str, mariadb_hr_url: str) -> None:
    for url, driver in ((postgres_hr_url, "psycopg"), (mariadb_hr_url, "pymysql")):
        assert url.split("://")[0] in ("postgresql", "mysql")
        source = SourceDatabase(url)
        source.check()
        assert source.url.get_driver_name() == driver


def test_sqlite_urls_must_name_a_sqlite_database_inside_the_roots(tmp_path: Path, sample_copy: Path) -> None:
    with pytest.raises(SourceError, match="not a SQLite database"):
        SourceDatabase("sqlite:////etc/passwd")
    with pytest.raises(SourceError, match="SCHEMAKG_SQLITE_ROOTS"):
        SourceDatabase(f"sqlite:///{sample_copy}", sqlite_roots=[tmp_path / "elsewhere"])
    SourceDatabase(f"sqlite:///{sample_copy}", sqlite_roots=[sample_copy.parent]).check()


def test_every_secret_in_a_url_is_masked() -> None:
    url = "postgresql://bob:pw-one@db.example/sales?password=pw-two&sslpassword=pw-three&sslmode=require&token=t0k"
    masked = mask_url(url)
    assert not any(secret in masked for secret in ("pw-one", "pw-two", "pw-three", "t0k"))
    assert "sslmode=require" in masked and "bob" in masked
    assert redact("could not connect with pw-two or pw-one or pw-three", parse_url(url)).count("***") == 3


def test_registration_masks_a_password_given_as_a_parameter(
    client: TestClient, admin: dict[str, str], postgres_hr_url: str, db_name: str
) -> None:
    url = make_url(postgres_hr_url)
    password = str(url.password)
    as_parameter = (
        url.set(password=None).update_query_dict({"password": password}).render_as_string(hide_password=False)
    )
    response = client.post("/databases", json={"name": db_name, "url": as_parameter}, headers=admin)
    assert response.status_code == 201, response.text
    assert password not in response.text and "password=***" in response.json()["url"]
    assert password not in client.get("/databases", headers=admin).text
    assert password not in client.get(f"/databases/{db_name}", headers=admin).text  # read back from the graph
    refused = client.post("/databases", json={"name": f"{db_name}x", "url": "sqlite:////etc/passwd"}, headers=admin)
    assert refused.status_code == 422 and "not a SQLite database" in refused.json()["error"]["message"]
