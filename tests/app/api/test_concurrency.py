"""Stewards racing through a real HTTP server: on one column one edit wins and the rest are told why; on
different columns every edit lands. None is lost."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from schemakg.app.api.app import create_app
from schemakg.app.container import Container
from tests.conftest import wait_for_job
from tests.servers import free_port


@pytest.fixture(scope="module")
def server_url(container: Container) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(container=container), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_same_etag_patches_have_one_winner_and_no_server_error(
    client: TestClient, container: Container, admin: dict[str, str], db_name: str, sample_copy: Path, server_url: str
) -> None:
    assert client.post(
        "/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin
    ).is_success
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    url = f"{server_url}/databases/{db_name}/tables/employees/columns/salary"

    for round_ in range(3):
        etag = httpx.get(url, headers=admin).headers["etag"]

        def patch(index: int, etag: str = etag, round_: int = round_) -> int:
            body = {"description": f"round {round_}, steward {index}"}
            return httpx.patch(url, json=body, headers={**admin, "If-Match": etag}, timeout=60).status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = Counter(pool.map(patch, range(20)))
        assert statuses[200] == 1, statuses
        assert set(statuses) <= {200, 409, 412}, statuses

    history = httpx.get(f"{url}/history", params={"field": "description"}, headers=admin).json()
    assert len(history) == 3  # one revision per round: no lost update, no double write
    assert httpx.get(url, headers=admin).json()["description"].startswith("round 2, ")


def test_stewards_on_different_columns_all_win_and_every_revision_counts(
    client: TestClient, container: Container, admin: dict[str, str], db_name: str, sample_copy: Path, server_url: str
) -> None:
    """Every revision also counts on the database node (the catalogue version routing reads), so edits of
    different columns meet there: each must still land, once, and be counted."""
    assert client.post(
        "/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin
    ).is_success
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    columns = [
        (table, column["name"])
        for table in ("employees", "departments", "jobs")
        for column in client.get(f"/databases/{db_name}/tables/{table}/columns", headers=admin).json()["items"]
    ]
    assert len(columns) >= 10
    version = container.catalog.version(db_name)

    def patch(target: tuple[str, str]) -> int:
        url = f"{server_url}/databases/{db_name}/tables/{target[0]}/columns/{target[1]}"
        return httpx.patch(url, json={"description": f"about {target[1]}"}, headers=admin, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=len(columns)) as pool:
        statuses = Counter(pool.map(patch, columns))
    assert statuses == {200: len(columns)}, statuses
    revisions = container.store.read(
        "MATCH (r:Revision {database: $db}) WITH count(r) AS n MATCH (d:Database {key: $db}) "
        "RETURN n, d.revision_count AS counted",
        db=db_name,
    )[0]
    assert revisions["n"] == revisions["counted"] >= len(columns)
    assert container.catalog.version(db_name) != version
