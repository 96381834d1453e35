"""The table listing: one graph round trip gives the page, the total and the 404 of an unknown database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from schemakg.app.container import Container
from schemakg.kernel.errors import NotFound
from tests.conftest import wait_for_job


def test_table_pages_are_ordered_counted_and_complete(
    client: TestClient, container: Container, admin: dict[str, str], db_name: str, sample_copy: Path
) -> None:
    assert client.post(
        "/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin
    ).is_success
    empty = container.browser.tables(db_name, 0, 50)  # registered, not ingested: no tables, not a 404
    assert (empty.items, empty.total) == ([], 0)
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"

    expected = sorted(t.name for t in container.catalog.list_tables(db_name, 0, 10**6)[0])
    assert len(expected) == 7
    pages = [container.browser.tables(db_name, offset, 3) for offset in range(0, 9, 3)]
    assert [t.name for page in pages for t in page.items] == expected
    assert {page.total for page in pages} == {7}
    assert container.browser.tables(db_name, 2**31 - 1, 500).items == []

    # A table that left the source is listed only on request, and counted accordingly.
    with sqlite3.connect(sample_copy) as conn:
        conn.execute("DROP TABLE job_history")
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    current = container.browser.tables(db_name, 0, 50)
    everything = container.browser.tables(db_name, 0, 50, include_removed=True)
    assert current.total == 6 and "job_history" not in [t.name for t in current.items]
    assert everything.total == 7 and [t.name for t in everything.items] == expected

    with pytest.raises(NotFound):
        container.browser.tables(f"{db_name}_missing", 0, 50)
