"""GET /catalog/export and POST /catalog/import over HTTP: roles, formats, no secrets, idempotence, a conflict,
and bad documents answered with a 4xx naming the problem, never a 500."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.conftest import wait_for_job

PASSWORD = "Http-Catalogue-Secret-77"


@pytest.fixture(scope="module")
def keys(client: TestClient, admin: dict[str, str]) -> dict[str, dict[str, str]]:
    made = {}
    for role in ("steward", "analyst"):
        key = client.post("/api-keys", json={"name": f"transfer-{role}", "role": role}, headers=admin).json()["key"]
        made[role] = {"Authorization": f"Bearer {key}"}
    return made


@pytest.fixture(scope="module")
def curated(client: TestClient, admin: dict[str, str], keys: dict[str, dict[str, str]]) -> str:
    """The sample registered with a password in its URL, ingested, one column described by a steward."""
    sample = Path(__file__).resolve().parents[3] / "schemakg" / "samples" / "hr_1.sqlite"
    name = f"httptransfer{int(time.time() * 1000) % 100000}"
    url = f"sqlite://steward:{PASSWORD}@localhost/{sample}"
    assert client.post("/databases", json={"name": name, "url": url}, headers=admin).status_code == 201
    job = client.post(f"/databases/{name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    edited = client.patch(
        f"/databases/{name}/tables/employees/columns/SALARY",
        json={"description": "Monthly pay"},
        headers=keys["steward"],
    )
    assert edited.status_code == 200, edited.text
    return name


def test_export_is_for_stewards_and_holds_no_secret(
    client: TestClient, keys: dict[str, dict[str, str]], curated: str
) -> None:
    assert client.get("/catalog/export", params={"database": curated}, headers=keys["analyst"]).status_code == 403
    assert client.get("/catalog/export").status_code == 401
    exported = client.get("/catalog/export", params={"database": curated}, headers=keys["steward"])
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/json")
    document = exported.json()
    assert (document["format"], document["version"]) == ("schemakg-catalog", 1)
    column = document["databases"][0]["tables"][0]["columns"][0]
    assert (column["name"], column["fields"]["description"]["value"]) == ("SALARY", "Monthly pay")
    as_yaml = client.get("/catalog/export", params={"database": curated, "format": "yaml"}, headers=keys["steward"])
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(as_yaml.text) == document
    everything = client.get("/catalog/export", headers=keys["steward"]).text
    for text in (exported.text, as_yaml.text, everything):
        assert PASSWORD not in text and "sqlite:" not in text
    missing = client.get("/catalog/export", params={"database": "no_such_db"}, headers=keys["steward"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_import_is_idempotent_and_keeps_a_newer_edit(
    client: TestClient, keys: dict[str, dict[str, str]], curated: str
) -> None:
    steward = keys["steward"]
    document = client.get("/catalog/export", params={"database": curated}, headers=steward).json()
    assert client.post("/catalog/import", json=document, headers=keys["analyst"]).status_code == 403
    again = client.post("/catalog/import", json=document, headers=steward)
    assert again.status_code == 200, again.text
    assert again.json() == {"dry_run": False, "applied": [], "unchanged": 1, "conflicts": [], "missing": []}

    column_url = f"/databases/{curated}/tables/employees/columns/SALARY"
    assert client.patch(column_url, json={"description": "Edited since"}, headers=steward).status_code == 200
    report = client.post("/catalog/import", json=document, headers=steward).json()
    assert [(c["column"], c["item"]) for c in report["conflicts"]] == [("SALARY", "description")]
    assert report["applied"] == []
    assert client.get(column_url, headers=steward).json()["description"] == "Edited since"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"format": "dbt", "version": 1, "databases": []}, "format must be 'schemakg-catalog'"),
        ({"format": "schemakg-catalog", "version": 7, "databases": []}, "catalogue version 7 is not supported"),
        ({"format": "schemakg-catalog", "databases": []}, "body.version"),
        ([], "body"),
        ({"format": "schemakg-catalog", "version": 1, "databases": [{"name": "x", "url": "sqlite://"}]}, "url"),
    ],
)
def test_bad_documents_are_a_422_naming_the_problem(
    client: TestClient, keys: dict[str, dict[str, str]], body: object, problem: str
) -> None:
    response = client.post("/catalog/import", json=body, headers=keys["steward"])
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and problem in json.dumps(error)


def test_invalid_json_is_a_422(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    response = client.post(
        "/catalog/import",
        content=b'{"format": "schemakg-catalog", "version": 1, "databases": [',
        headers={**keys["steward"], "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_history_of_an_unknown_field_is_a_422(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    revision = {"field": "url", "who": "x", "source": "steward", "at": "2026-01-01T00:00:00+00:00"}
    body = {
        "format": "schemakg-catalog",
        "version": 1,
        "databases": [{"name": "x", "tables": [{"name": "t", "history": [revision]}]}],
    }
    response = client.post("/catalog/import", json=body, headers=keys["steward"])
    assert response.status_code == 422 and "'url'" in response.json()["error"]["message"]
