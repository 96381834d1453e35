"""The steward's path through the HTTP API, against the real embedded ArcadeDB engine."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from schemakg.app.container import Container
from tests.conftest import count_nodes, wait_for_job

PASSWORD = "Pa55w0rd-do-not-leak"


def _sqlite_schema(path: Path) -> tuple[dict[str, set[str]], set[tuple[str, str, str, str]]]:
    conn = sqlite3.connect(path)
    tables = [
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
    ]
    columns = {t: {r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')} for t in tables}
    fks = set()
    for t in tables:
        for row in conn.execute(f'PRAGMA foreign_key_list("{t}")'):
            fks.add((t.lower(), row[3].lower(), row[2].lower(), (row[4] or "").lower()))
    conn.close()
    return columns, fks


def _ingest(client: TestClient, admin: dict[str, str], name: str) -> dict:
    response = client.post(f"/databases/{name}/ingest", headers=admin)
    assert response.status_code == 202, response.text
    return wait_for_job(client, admin, response.json()["id"])


def test_register_ingest_curate_reingest(
    client: TestClient, container: Container, admin: dict[str, str], db_name: str, sample_copy: Path
) -> None:
    bodies: list[str] = []
    url = f"sqlite://steward:{PASSWORD}@localhost/{sample_copy}"

    created = client.post("/databases", json={"name": db_name, "url": url}, headers=admin)
    bodies.append(created.text)
    assert created.status_code == 201, created.text
    assert created.json()["url"].startswith("sqlite://steward:***@")

    job = _ingest(client, admin, db_name)
    bodies.append(str(job))
    assert job["state"] == "succeeded", job
    assert job["done"] == job["total"] > 0

    # The graph holds exactly the source's tables, columns and foreign keys.
    expected_columns, expected_fks = _sqlite_schema(sample_copy)
    tables = client.get(f"/databases/{db_name}/tables", params={"limit": 500}, headers=admin).json()
    bodies.append(str(tables))
    assert {t["name"] for t in tables["items"]} == set(expected_columns)
    for table, columns in expected_columns.items():
        page = client.get(f"/databases/{db_name}/tables/{table}/columns", params={"limit": 500}, headers=admin).json()
        assert {c["name"] for c in page["items"]} == columns
    fks = client.get(f"/databases/{db_name}/foreign-keys", headers=admin).json()
    assert {
        (f["table"].lower(), f["column"].lower(), f["ref_table"].lower(), f["ref_column"].lower()) for f in fks
    } == set(expected_fks)
    assert count_nodes(container, "Column", db_name) == sum(len(c) for c in expected_columns.values())

    # A steward edits a column description with If-Match.
    steward_key = client.post("/api-keys", json={"name": "stew", "role": "steward"}, headers=admin).json()["key"]
    steward = {"Authorization": f"Bearer {steward_key}"}
    column_url = f"/databases/{db_name}/tables/employees/columns/salary"
    current = client.get(column_url, headers=steward)
    assert current.status_code == 200
    edited = client.patch(
        column_url,
        json={"description": "Monthly gross salary in USD"},
        headers={**steward, "If-Match": current.headers["etag"]},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["description"] == "Monthly gross salary in USD"
    assert edited.json()["description_source"] == "steward"
    assert edited.headers["etag"] != current.headers["etag"]

    # Re-ingestion keeps the edit, does not duplicate nodes, and the history has one revision.
    nodes_before = count_nodes(container, "Column", db_name)
    assert _ingest(client, admin, db_name)["state"] == "succeeded"
    assert count_nodes(container, "Column", db_name) == nodes_before
    after = client.get(column_url, headers=steward).json()
    assert after["description"] == "Monthly gross salary in USD"
    history = client.get(f"{column_url}/history", headers=steward).json()
    assert len(history) == 1
    assert history[0]["old"] is None and history[0]["new"] == "Monthly gross salary in USD"
    assert history[0]["who"] == "stew" and history[0]["source"] == "steward"

    # A stale If-Match is refused and changes nothing.
    stale = client.patch(
        column_url, json={"description": "overwrite"}, headers={**steward, "If-Match": current.headers["etag"]}
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    assert client.get(column_url, headers=steward).json()["description"] == "Monthly gross salary in USD"

    # An analyst can read but not edit; no key is 401.
    analyst_key = client.post("/api-keys", json={"name": "ana", "role": "analyst"}, headers=admin).json()["key"]
    analyst = {"X-API-Key": analyst_key}
    assert client.get(column_url, headers=analyst).status_code == 200
    forbidden = client.patch(column_url, json={"description": "nope"}, headers=analyst)
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    assert client.get(column_url).status_code == 401
    assert client.post("/api-keys", json={"name": "x", "role": "admin"}, headers=steward).status_code == 403

    # Table descriptions are curated the same way.
    table_url = f"/databases/{db_name}/tables/departments"
    table_edit = client.patch(table_url, json={"description": "Organisational units"}, headers=steward)
    assert table_edit.status_code == 200 and table_edit.json()["description"] == "Organisational units"
    assert len(client.get(f"{table_url}/history", headers=steward).json()) == 1

    # Search finds curated text.
    hits = client.get("/search", params={"q": "gross salary", "database": db_name}, headers=analyst).json()
    assert hits and hits[0]["column"].lower() == "salary"

    for path in ("/databases", f"/databases/{db_name}", "/jobs"):
        bodies.append(client.get(path, headers=admin).text)
    assert all(PASSWORD not in body for body in bodies)


def test_dropped_column_is_marked_removed(
    client: TestClient, admin: dict[str, str], db_name: str, sample_copy: Path
) -> None:
    assert (
        client.post("/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin).status_code
        == 201
    )
    assert _ingest(client, admin, db_name)["state"] == "succeeded"
    conn = sqlite3.connect(sample_copy)
    conn.execute("ALTER TABLE employees DROP COLUMN PHONE_NUMBER")
    conn.execute("DROP TABLE job_history")
    conn.commit()
    conn.close()
    job = _ingest(client, admin, db_name)
    assert job["result"]["removed_columns"] == 1 + 5  # the dropped column and job_history's five
    assert job["result"]["removed_tables"] == 1
    columns_url = f"/databases/{db_name}/tables/employees/columns"
    current = {c["name"] for c in client.get(columns_url, headers=admin).json()["items"]}
    assert "PHONE_NUMBER" not in current
    every = client.get(columns_url, params={"include_removed": True}, headers=admin).json()["items"]
    removed = [c for c in every if c["name"] == "PHONE_NUMBER"]
    assert removed and removed[0]["status"] == "removed"
    assert client.get(f"/databases/{db_name}/tables/job_history", headers=admin).json()["status"] == "removed"
