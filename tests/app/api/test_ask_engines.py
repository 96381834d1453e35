"""Answering over HTTP with the real local model on real PostgreSQL and MariaDB servers: ingested from the
server, answered in its dialect, run there read-only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import wait_for_job


@pytest.mark.slow
@pytest.mark.parametrize("url_fixture", ["postgres_hr_url", "mariadb_hr_url"])
def test_a_question_is_answered_on_the_engine(
    url_fixture: str,
    request: pytest.FixtureRequest,
    client: TestClient,
    local_model: str,
    admin: dict[str, str],
    db_name: str,
) -> None:
    url = request.getfixturevalue(url_fixture)
    assert client.post("/databases", json={"name": db_name, "url": url}, headers=admin).status_code == 201
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"], timeout_s=120)["state"] == "succeeded"
    try:
        dialect = client.get(f"/databases/{db_name}", headers=admin).json()["dialect"]
        response = client.post(
            f"/databases/{db_name}/ask",
            json={"question": "How many employees are there?", "mode": "fast"},
            headers=admin,
        )
    finally:
        client.delete(f"/databases/{db_name}", headers=admin)
    assert dialect == ("postgresql" if url_fixture == "postgres_hr_url" else "mysql")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error"] is None and body["refused"] is None
    assert body["rows"] == [[107]] and "employees" in body["sql"].lower()
