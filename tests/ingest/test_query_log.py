"""Query-log ingestion through the API against the real engine: per-line errors, no duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from schemakg.app.container import Container
from schemakg.ingest.query_log import LineError, LogRecord, read_log
from schemakg.kernel.model import column_key
from tests.conftest import count_nodes, wait_for_job

JOIN_SQL = (
    "SELECT T1.first_name FROM employees AS T1 JOIN departments AS T2 "
    "ON T1.department_id = T2.department_id WHERE T2.department_name = 'Finance'"
)
GOOD = [
    {"question": "How many employees are there?", "sql": "SELECT count(*) FROM employees"},
    {"question": "Who works in Finance?", "sql": JOIN_SQL},
    {
        "question": "Names of employees in the finance department",
        "sql": JOIN_SQL,
        "evidence": "finance = department_name",
    },
    {"question": "Highest salary?", "sql": "SELECT max(`salary`) FROM employees", "dialect": "mysql"},
]


def _log_lines() -> list[str]:
    lines = [json.dumps(row) for row in GOOD]
    lines += [
        '{"question": "broken json", "sql": ',  # line 5: malformed JSON
        json.dumps({"question": "  ", "sql": "SELECT 1 FROM employees"}),  # 6: empty question
        json.dumps({"question": "wrong dialect", "sql": "SELECT `salary` FROM employees", "dialect": "postgres"}),  # 7
        json.dumps({"question": "unknown table", "sql": "SELECT name FROM payroll"}),  # 8
        json.dumps({"question": "unknown column", "sql": "SELECT bonus FROM employees"}),  # 9
        json.dumps(GOOD[0]),  # 10: duplicate of line 1
        json.dumps({"question": "odd dialect", "sql": "SELECT 1", "dialect": "cobol"}),  # 11
    ]
    return lines


@pytest.fixture
def hr_db(client: TestClient, admin: dict[str, str], db_name: str, sample_copy: Path) -> str:
    assert (
        client.post("/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin).status_code
        == 201
    )
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    return db_name


def test_log_with_bad_lines(client: TestClient, container: Container, admin: dict[str, str], hr_db: str) -> None:
    body = ("\n".join(_log_lines()) + "\n").encode()
    response = client.post(
        f"/databases/{hr_db}/query-logs",
        params={"source": "history.jsonl"},
        content=body,
        headers={**admin, "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 202, response.text
    job = wait_for_job(client, admin, response.json()["id"])
    assert job["state"] == "succeeded_with_errors", job
    result = job["result"]
    assert (result["lines"], result["ingested"], result["duplicates"], result["error_count"]) == (11, 4, 1, 6)
    reasons = {e["line"]: e["reason"] for e in result["errors"]}
    assert set(reasons) == {5, 6, 7, 8, 9, 11}
    assert "JSON" in reasons[5] and "question" in reasons[6] and "postgres" in reasons[7]
    assert "payroll" in reasons[8] and "bonus" in reasons[9] and "cobol" in reasons[11]

    assert count_nodes(container, "QueryExample", hr_db) == 4
    uses = container.store.read(
        "MATCH (q:QueryExample {database: $db})-[:USES]->(c:Column) RETURN c.name AS name, count(q) AS n", db=hr_db
    )
    by_column = {row["name"].lower(): row["n"] for row in uses}
    assert by_column["department_name"] == 2 and by_column["salary"] == 1
    usage = container.store.read(
        "MATCH (c:Column {key: $key}) RETURN c.usage_count AS n",
        key=column_key(hr_db, "departments", "DEPARTMENT_NAME"),
    )[0]["n"]
    assert usage == 2
    related = container.store.read(
        "MATCH (a:Table)-[e:RELATED_TO {source: 'log'}]->(b:Table) WHERE a.database = $db "
        "RETURN a.name AS a, b.name AS b, e.count AS n",
        db=hr_db,
    )
    assert [(r["a"], r["b"], r["n"]) for r in related] == [("departments", "employees", 2)]

    # The same log again adds nothing.
    again = client.post(
        f"/databases/{hr_db}/query-logs", content=body, headers={**admin, "Content-Type": "application/x-ndjson"}
    )
    result = wait_for_job(client, admin, again.json()["id"])["result"]
    assert (result["ingested"], result["duplicates"]) == (0, 5)
    assert count_nodes(container, "QueryExample", hr_db) == 4


def test_csv_log_and_upload_errors(client: TestClient, container: Container, admin: dict[str, str], hr_db: str) -> None:
    csv_body = 'question,sql\n"Average salary?","SELECT avg(salary) FROM employees"\n"no sql",\n'
    response = client.post(
        f"/databases/{hr_db}/query-logs", params={"format": "csv"}, content=csv_body.encode(), headers=admin
    )
    job = wait_for_job(client, admin, response.json()["id"])
    assert job["result"]["ingested"] == 1 and job["result"]["errors"][0]["line"] == 3
    assert (
        client.post(f"/databases/{hr_db}/query-logs", params={"format": "xml"}, content=b"x", headers=admin).status_code
        == 422
    )
    assert client.post(f"/databases/{hr_db}/query-logs", content=b"", headers=admin).status_code == 422
    assert client.post("/databases/nope/query-logs", content=b"{}", headers=admin).status_code == 404
    analyst = client.post("/api-keys", json={"name": "a", "role": "analyst"}, headers=admin).json()["key"]
    assert (
        client.post(f"/databases/{hr_db}/query-logs", content=b"{}", headers={"X-API-Key": analyst}).status_code == 403
    )


def test_reader_streams_records(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"question": "q", "query": "SELECT 1"}\n\n[1, 2]\n')
    items = list(read_log(path, "jsonl"))
    assert isinstance(items[0], LogRecord) and items[0].sql == "SELECT 1"
    assert isinstance(items[1], LineError) and items[1].line == 3


def test_a_line_that_nests_too_deeply_is_that_lines_error(
    client: TestClient, container: Container, admin: dict[str, str], hr_db: str
) -> None:
    deep = "SELECT count(*) FROM employees WHERE salary > " + "(" * 400 + "1" + ")" * 400
    lines = [json.dumps({"question": "deep", "sql": deep}), json.dumps(GOOD[0])]
    response = client.post(
        f"/databases/{hr_db}/query-logs",
        content=("\n".join(lines) + "\n").encode(),
        headers={**admin, "Content-Type": "application/x-ndjson"},
    )
    job = wait_for_job(client, admin, response.json()["id"])
    assert job["state"] == "succeeded_with_errors", job
    assert (job["result"]["ingested"], job["result"]["error_count"]) == (1, 1)
    assert job["result"]["errors"][0]["line"] == 1
    assert count_nodes(container, "QueryExample", hr_db) == 1
