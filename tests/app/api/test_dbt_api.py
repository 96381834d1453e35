"""POST /databases/{name}/dbt over HTTP with the manifest dbt wrote (tests/fixtures/dbt/hr): roles, the job and
its report, the dbt round trip through GET /catalog/export (descriptions as the dbt project has them; a second
import changes nothing; a steward's edit in between survives), and bad bodies answered with a 4xx."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.conftest import SAMPLE_DB, wait_for_job

FIXTURE = Path(__file__).parents[2] / "fixtures" / "dbt" / "hr"
BODY = {
    "manifest": json.loads((FIXTURE / "manifest.json").read_text()),
    "catalog": json.loads((FIXTURE / "catalog.json").read_text()),
}


@pytest.fixture(scope="module")
def keys(client: TestClient, admin: dict[str, str]) -> dict[str, dict[str, str]]:
    made = {}
    for role in ("steward", "analyst"):
        key = client.post("/api-keys", json={"name": f"dbt-{role}", "role": role}, headers=admin).json()["key"]
        made[role] = {"Authorization": f"Bearer {key}"}
    return made


@pytest.fixture(scope="module")
def database(client: TestClient, admin: dict[str, str]) -> str:
    name = f"httpdbt{int(time.time() * 1000) % 100000}"
    assert client.post("/databases", json={"name": name, "url": f"sqlite:///{SAMPLE_DB}"}, headers=admin).status_code
    job = client.post(f"/databases/{name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    return name


def _import(client: TestClient, headers: dict[str, str], name: str, body: Any = BODY) -> dict[str, Any]:
    started = client.post(f"/databases/{name}/dbt", content=json.dumps(body), headers=headers)
    assert started.status_code == 202, started.text
    assert started.json()["kind"] == "import_dbt"
    job = wait_for_job(client, headers, started.json()["id"])
    assert job["state"] == "succeeded", job
    assert job["done"] == job["total"] > 1  # progress: one step per mapped table, one for the keys
    return dict(job["result"])


def _export(client: TestClient, headers: dict[str, str], name: str) -> str:
    exported = client.get("/catalog/export", params={"database": name}, headers=headers)
    assert exported.status_code == 200
    return exported.text


def _dbt_descriptions() -> dict[tuple[str, str | None], str]:
    """(table, column) → description, as the dbt project's YAML says, for what the HR database holds."""
    wanted: dict[tuple[str, str | None], str] = {}
    sources = yaml.safe_load((FIXTURE / "models" / "sources.yml").read_text())["sources"][0]["tables"]
    models = yaml.safe_load((FIXTURE / "models" / "schema.yml").read_text())["models"]
    for entry in [*sources, *models]:  # models after sources: theirs win
        if entry["name"] in ("payroll_runs", "employee_directory"):
            continue
        if "description" in entry:
            wanted[(entry["name"], None)] = entry["description"]
        for column in entry.get("columns", []):
            if "description" in column and column["name"] != "BONUS_CODE":
                wanted[(entry["name"], column["name"])] = column["description"]
    return wanted


def _exported_descriptions(text: str) -> dict[tuple[str, str | None], tuple[str, str]]:
    found: dict[tuple[str, str | None], tuple[str, str]] = {}
    for table in json.loads(text)["databases"][0]["tables"]:
        if "description" in table["fields"]:
            found[(table["name"], None)] = (
                table["fields"]["description"]["value"],
                table["fields"]["description"]["source"],
            )
        for column in table["columns"]:
            if "description" in column["fields"]:
                value = column["fields"]["description"]
                found[(table["name"], column["name"])] = (value["value"], value["source"])
    return found


def test_only_stewards_import(client: TestClient, keys: dict[str, dict[str, str]], database: str) -> None:
    assert client.post(f"/databases/{database}/dbt", content=json.dumps(BODY)).status_code == 401
    refused = client.post(f"/databases/{database}/dbt", content=json.dumps(BODY), headers=keys["analyst"])
    assert refused.status_code == 403


def test_dbt_round_trip_through_the_catalogue_export(
    client: TestClient, keys: dict[str, dict[str, str]], database: str
) -> None:
    steward = keys["steward"]
    report = _import(client, steward, database)
    assert report["mapped"] == 12 and report["relations"] == 14
    assert {u["node"] for u in report["unmapped"] if u["column"] is None} == {
        "model.hr.employee_directory",
        "source.hr.hr_raw.payroll_runs",
    }
    first = _export(client, steward, database)
    exported = _exported_descriptions(first)
    wanted = _dbt_descriptions()
    assert {where: value for where, (value, _) in exported.items()} == wanted
    assert {source for _, source in exported.values()} == {"dbt"}

    again = _import(client, steward, database)
    assert (again["applied"], again["skipped"]) == ([], [])
    assert again["unchanged"] == report["unchanged"] + len(report["applied"])
    assert _export(client, steward, database) == first  # byte for byte: no new history either

    edited = client.patch(
        f"/databases/{database}/tables/employees/columns/SALARY",
        json={"description": "Pay per month, before tax"},
        headers=steward,
    )
    assert edited.status_code == 200, edited.text
    third = _import(client, steward, database)
    assert third["applied"] == []
    assert [(s["table"], s["column"]) for s in third["skipped"]] == [("employees", "SALARY")]
    after = _exported_descriptions(_export(client, steward, database))
    assert after.pop(("employees", "SALARY")) == ("Pay per month, before tax", "steward")
    exported.pop(("employees", "SALARY"))
    assert after == exported


def test_proposals_flag(client: TestClient, admin: dict[str, str], keys: dict[str, dict[str, str]]) -> None:
    name = f"httpdbtp{int(time.time() * 1000) % 100000}"
    client.post("/databases", json={"name": name, "url": f"sqlite:///{SAMPLE_DB}"}, headers=admin)
    assert wait_for_job(client, admin, client.post(f"/databases/{name}/ingest", headers=admin).json()["id"])
    started = client.post(f"/databases/{name}/dbt?proposals=true", content=json.dumps(BODY), headers=keys["steward"])
    job = wait_for_job(client, keys["steward"], started.json()["id"])
    assert job["result"]["proposals"] is True
    pending = client.get(f"/databases/{name}/proposals?state=pending&limit=500", headers=keys["steward"]).json()
    assert pending["total"] == sum(1 for item in job["result"]["applied"] if item["item"] == "proposal") > 10
    salary = client.get(f"/databases/{name}/tables/employees/columns/SALARY", headers=keys["steward"]).json()
    assert salary["description"] is None


def test_a_manifest_over_the_request_limit_streams(
    client: TestClient, keys: dict[str, dict[str, str]], database: str
) -> None:
    """Real manifests are often larger than SCHEMAKG_MAX_REQUEST_BYTES (1 MiB); this route has its own limit."""
    padded = json.loads(json.dumps(BODY))
    padded["manifest"]["docs"] = {"doc.hr.padding": {"block_contents": "x" * 1_200_000}}
    assert len(json.dumps(padded)) > 1_048_576
    _import(client, keys["steward"], database, padded)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "the body is not JSON"),
        ("[]", "the body is a JSON list, not an object"),
        (json.dumps({"catalog": BODY["catalog"]}), "the body needs 'manifest'"),
        (json.dumps({"manifest": BODY["manifest"], "extra": 1}), "unknown keys in the body: extra"),
        (json.dumps({"manifest": {"metadata": {}}}), "the manifest: metadata.dbt_schema_version: Field required"),
        (json.dumps({"manifest": BODY["catalog"]}), "the manifest is not a dbt manifest"),
        (json.dumps({"manifest": BODY["manifest"], "catalog": BODY["manifest"]}), "the catalog is not a dbt catalog"),
    ],
)
def test_bad_bodies_are_422_naming_the_problem(
    client: TestClient, keys: dict[str, dict[str, str]], database: str, body: str, message: str
) -> None:
    answer = client.post(f"/databases/{database}/dbt", content=body, headers=keys["steward"])
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_input"
    assert message in answer.json()["error"]["message"]


def test_an_unknown_database_is_404(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    answer = client.post("/databases/nosuchdb/dbt", content=json.dumps(BODY), headers=keys["steward"])
    assert answer.status_code == 404
