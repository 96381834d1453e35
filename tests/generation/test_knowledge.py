"""Knowledge completion: proposals with provenance, approval as a curated edit, rejection changing nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from schemakg.app.container import Container
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import Proposal, ProposalKind
from tests.conftest import wait_for_job


@pytest.fixture
def hr_db(client: TestClient, admin: dict[str, str], db_name: str, sample_copy: Path) -> str:
    assert (
        client.post("/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin).status_code
        == 201
    )
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    return db_name


def _proposal(db: str, pid: str, kind: ProposalKind, **fields: str) -> Proposal:
    return Proposal(
        id=pid,
        database=db,
        kind=kind,
        example_question="q",
        example_sql="SELECT 1",
        example_source="log.jsonl",
        example_line=3,
        model="test-model",
        created_at=now_iso(),
        **fields,
    )


def test_approve_and_reject(client: TestClient, container: Container, admin: dict[str, str], hr_db: str) -> None:
    repo = container.proposals_repo
    assert repo.create(
        _proposal(
            hr_db,
            f"{hr_db}-a",
            ProposalKind.COLUMN_DESCRIPTION,
            column="employees.SALARY",
            description="Monthly pay of the employee",
        )
    )
    assert not repo.create(
        _proposal(
            hr_db,
            f"{hr_db}-a",
            ProposalKind.COLUMN_DESCRIPTION,
            column="employees.SALARY",
            description="Monthly pay of the employee",
        )
    )  # same content: no duplicate
    repo.create(
        _proposal(
            hr_db,
            f"{hr_db}-b",
            ProposalKind.COLUMN_DESCRIPTION,
            column="employees.EMAIL",
            description="should never land",
        )
    )
    repo.create(
        _proposal(
            hr_db,
            f"{hr_db}-c",
            ProposalKind.DEPENDENCY,
            column="jobs.MAX_SALARY",
            relation="bounds",
            tail="employees.SALARY",
            text="salary <= max_salary",
        )
    )
    listed = client.get(f"/databases/{hr_db}/proposals", params={"state": "pending"}, headers=admin).json()
    assert listed["total"] == 3

    approved = client.post(f"/proposals/{hr_db}-a/approve", headers=admin)
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    column = client.get(f"/databases/{hr_db}/tables/employees/columns/SALARY", headers=admin).json()
    assert column["description"] == "Monthly pay of the employee" and column["description_source"] == "llm"
    history = client.get(f"/databases/{hr_db}/tables/employees/columns/SALARY/history", headers=admin).json()
    assert len(history) == 1 and history[0]["source"] == "llm" and f"{hr_db}-a" in history[0]["who"]

    rejected = client.post(f"/proposals/{hr_db}-b/reject", headers=admin)
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    email = client.get(f"/databases/{hr_db}/tables/employees/columns/EMAIL", headers=admin).json()
    assert email["description"] is None
    assert client.get(f"/databases/{hr_db}/tables/employees/columns/EMAIL/history", headers=admin).json() == []

    assert client.post(f"/proposals/{hr_db}-c/approve", headers=admin).status_code == 200
    deps = client.get(f"/databases/{hr_db}/dependencies", headers=admin).json()
    assert deps == [
        {
            "head": "jobs.MAX_SALARY",
            "relation": "bounds",
            "tail": "employees.SALARY",
            "text": "salary <= max_salary",
            "source": "llm",
        }
    ]
    head_history = client.get(f"/databases/{hr_db}/tables/jobs/columns/MAX_SALARY/history", headers=admin).json()
    assert head_history[0]["field"] == "depends_on" and head_history[0]["new"]["tail"] == "employees.SALARY"

    again = client.post(f"/proposals/{hr_db}-a/approve", headers=admin)
    assert again.status_code == 409
    assert client.post("/proposals/nope/reject", headers=admin).status_code == 404
    analyst = client.post("/api-keys", json={"name": "a", "role": "analyst"}, headers=admin).json()["key"]
    assert client.post(f"/proposals/{hr_db}-c/reject", headers={"X-API-Key": analyst}).status_code == 403


LOG = [
    {
        "question": "What is the average monthly salary of employees in the IT department?",
        "sql": "SELECT avg(T1.salary) FROM employees AS T1 JOIN departments AS T2 "
        "ON T1.department_id = T2.department_id WHERE T2.department_name = 'IT'",
    },
    {
        "question": "List the email addresses of employees hired after 1990.",
        "sql": "SELECT email FROM employees WHERE hire_date > '1990-01-01'",
    },
    {
        "question": "Which countries are in the Europe region?",
        "sql": "SELECT T1.country_name FROM countries AS T1 JOIN regions AS T2 ON T1.region_id = T2.region_id "
        "WHERE T2.region_name = 'Europe'",
    },
]


@pytest.mark.slow
def test_completion_with_the_local_model(
    client: TestClient, container: Container, admin: dict[str, str], hr_db: str
) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by scripts/setup_llm.sh")
    from schemakg.generation.llm.model_files import ModelFilesError

    try:
        assert container.llm.model_name
    except ModelFilesError as exc:
        pytest.skip(str(exc))
    body = "\n".join(json.dumps(row) for row in LOG).encode()
    upload = client.post(
        f"/databases/{hr_db}/query-logs", params={"source": "history.jsonl"}, content=body, headers=admin
    )
    assert wait_for_job(client, admin, upload.json()["id"])["state"] == "succeeded"

    started = client.post(f"/databases/{hr_db}/knowledge-completion", json={"limit": 3}, headers=admin)
    assert started.status_code == 202
    job = wait_for_job(client, admin, started.json()["id"], timeout_s=600)
    assert job["state"] in ("succeeded", "succeeded_with_errors"), job
    assert job["result"]["examples"] == 3 and job["result"]["completion_tokens"] > 0

    proposals = client.get(f"/databases/{hr_db}/proposals", headers=admin).json()["items"]
    assert proposals, job["result"]
    for proposal in proposals:
        assert proposal["model"] == container.llm.model_name
        assert proposal["example_source"] == "history.jsonl" and proposal["example_line"] in (1, 2, 3)
        assert proposal["example_question"] in {row["question"] for row in LOG}

    descriptions = [p for p in proposals if p["kind"] == "column_description"]
    assert descriptions
    chosen = descriptions[0]
    table, column = chosen["column"].split(".", 1)
    assert client.post(f"/proposals/{chosen['id']}/approve", headers=admin).status_code == 200
    after = client.get(f"/databases/{hr_db}/tables/{table}/columns/{column}", headers=admin).json()
    assert after["description"] == chosen["description"]
    assert len(client.get(f"/databases/{hr_db}/tables/{table}/columns/{column}/history", headers=admin).json()) == 1

    # A second run over the same examples proposes nothing new.
    rerun = client.post(f"/databases/{hr_db}/knowledge-completion", json={"only_new": True}, headers=admin).json()
    assert wait_for_job(client, admin, rerun["id"])["result"]["examples"] == 0
