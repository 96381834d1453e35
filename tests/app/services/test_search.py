"""Catalogue search through the real container: the index follows ingestion, curation and deletion."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from fastapi.testclient import TestClient

from schemakg.app.container import Container
from schemakg.app.services.search import CatalogSearch
from schemakg.kernel.search.base import SearchDoc
from schemakg.kernel.search.sqlite_fts import SqliteFtsIndex
from tests.conftest import wait_for_job


def _ingest(client: TestClient, admin: dict[str, str], name: str) -> None:
    job = client.post(f"/databases/{name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"


def _register(client: TestClient, admin: dict[str, str], name: str, path: Path) -> None:
    assert client.post("/databases", json={"name": name, "url": f"sqlite:///{path}"}, headers=admin).status_code == 201
    _ingest(client, admin, name)


def _search(client: TestClient, admin: dict[str, str], **params: object) -> list[dict]:
    response = client.get("/search", params={"limit": 200, **params}, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def _drop_job_history(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE job_history")
    conn.commit()
    conn.close()


def test_search_follows_ingestion_curation_and_deletion(
    client: TestClient, admin: dict[str, str], db_name: str, sample_copy: Path
) -> None:
    _register(client, admin, db_name, sample_copy)

    hits = _search(client, admin, q="salary", database=db_name)
    assert (hits[0]["table"], hits[0]["column"], hits[0]["score"]) == ("employees", "SALARY", 1.0)
    assert {(h["table"], h["column"]) for h in hits} >= {("jobs", "MIN_SALARY"), ("jobs", "MAX_SALARY")}
    first = _search(client, admin, q="first name", database=db_name, kind="column")
    assert (first[0]["table"], first[0]["column"]) == ("employees", "FIRST_NAME")
    assert _search(client, admin, q="job_history", database=db_name, kind="table")[0]["table"] == "job_history"

    # A steward's edit is searchable as soon as the PATCH returns.
    marker = f"ledger{db_name.replace('_', '')}"
    edit = client.patch(
        f"/databases/{db_name}/tables/employees/columns/salary",
        json={"description": f"Monthly remuneration, see the {marker}"},
        headers=admin,
    )
    assert edit.status_code == 200, edit.text
    hits = _search(client, admin, q=f"remuneration {marker}")
    assert [(h["database"], h["table"], h["column"]) for h in hits] == [(db_name, "employees", "SALARY")]
    assert hits[0]["description"] == f"Monthly remuneration, see the {marker}"

    # A table that re-ingestion marks removed is no longer found; the edit survives.
    _drop_job_history(sample_copy)
    _ingest(client, admin, db_name)
    assert _search(client, admin, q="job history", database=db_name, kind="table") == []
    assert all(h["table"] != "job_history" for h in _search(client, admin, q="id", database=db_name))
    assert _search(client, admin, q=marker)[0]["column"] == "SALARY"

    # Deleting the database leaves no hits.
    assert client.delete(f"/databases/{db_name}", headers=admin).status_code == 204
    assert _search(client, admin, q=marker) == []
    assert all(h["database"] != db_name for h in _search(client, admin, q="salary"))
    assert client.get("/search", params={"q": "salary", "database": db_name}, headers=admin).status_code == 404


class _CountingIndex(SqliteFtsIndex):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls: list[tuple[str, str, int]] = []

    def replace_database(self, database: str, docs: Iterable[SearchDoc], version: str) -> None:
        docs = list(docs)
        self.calls.append(("replace", database, len(docs)))
        super().replace_database(database, docs, version)

    def upsert(self, database: str, docs: Iterable[SearchDoc], version: str) -> None:
        docs = list(docs)
        self.calls.append(("upsert", database, len(docs)))
        super().upsert(database, docs, version)


def test_writes_by_another_process_are_seen_within_the_ttl(
    client: TestClient, container: Container, admin: dict[str, str], db_name: str, sample_copy: Path, tmp_path: Path
) -> None:
    """A second search service over its own index file stands for another process: the container's writes
    never call it, so it learns of them only by comparing catalogue versions, at most once per TTL."""
    now = [0.0]
    index = _CountingIndex(tmp_path / "search.sqlite")
    other = CatalogSearch(container.catalog, index, ttl_s=1.0, clock=lambda: now[0])
    try:
        _register(client, admin, db_name, sample_copy)

        def found(*words: str, kind: str | None = None) -> list[tuple[str, str | None]]:
            return [(h.table, h.column) for h in other.search(list(words), db_name, kind, 50)]

        assert found("salary")[0] == ("employees", "SALARY")  # the first search builds the index
        assert ("replace", db_name, 42) in index.calls

        edit = client.patch(
            f"/databases/{db_name}/tables/jobs/columns/max_salary",
            json={"description": "Ceiling of the pay band", "synonyms": ["top of band"]},
            headers=admin,
        )
        assert edit.status_code == 200, edit.text
        now[0] = 0.5
        assert found("ceiling") == []  # checked less than a TTL ago
        now[0] = 1.5
        index.calls.clear()
        assert found("ceiling") == [("jobs", "MAX_SALARY")]
        assert found("band", "top") == [("jobs", "MAX_SALARY")]
        assert index.calls == [("upsert", db_name, 1)]  # only the revised column was read again

        _drop_job_history(sample_copy)
        _ingest(client, admin, db_name)
        now[0] = 3.0
        assert found("job", "history", kind="table") == []
        assert found("ceiling") == [("jobs", "MAX_SALARY")]

        assert client.delete(f"/databases/{db_name}", headers=admin).status_code == 204
        now[0] = 4.5
        assert found("salary") == []
        assert db_name not in index.versions()
    finally:
        other.close()
