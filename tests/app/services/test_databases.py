"""Deleting a database removes everything it owns: graph, examples, proposals, dependencies, secret, index."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from schemakg.app.container import Container
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import Proposal, ProposalKind
from schemakg.retrieval.paths import database_folder, index_dir
from tests.conftest import wait_for_job


def _owned(container: Container, name: str) -> int:
    """Nodes that belong to the database (job records are history, not its data)."""
    rows = container.store.read(
        "MATCH (n) WHERE (n.database = $db OR n.key = $db) AND NOT n:Job RETURN count(n) AS n", db=name
    )
    return int(rows[0]["n"])


def test_deleting_a_database_leaves_nothing_behind(
    client: TestClient, container: Container, admin: dict[str, str], db_name: str, sample_copy: Path
) -> None:
    assert client.post(
        "/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin
    ).is_success
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    log = json.dumps({"question": "How many employees?", "sql": "SELECT count(*) FROM employees"}) + "\n"
    upload = client.post(
        f"/databases/{db_name}/query-logs",
        content=log.encode(),
        headers={**admin, "Content-Type": "application/x-ndjson"},
    )
    assert wait_for_job(client, admin, upload.json()["id"])["state"] == "succeeded"
    proposal = Proposal(
        id=f"{db_name}-p1",
        database=db_name,
        kind=ProposalKind.DEPENDENCY,
        column="employees.salary",
        relation="caps",
        tail="jobs.max_salary",
        text="salary <= max_salary",
        example_question="q",
        example_sql="SELECT 1",
        model="test",
        created_at=now_iso(),
    )
    assert container.proposals_repo.create(proposal)
    assert client.post(f"/proposals/{proposal.id}/approve", headers=admin).status_code == 200
    retrieved = client.post(f"/databases/{db_name}/retrieve", json={"question": "highest salary"}, headers=admin)
    assert retrieved.status_code == 200, retrieved.text
    folders = [database_folder(v, db_name) for v in index_dir(container.settings.data_dir).glob("*")]
    assert any(folder.exists() for folder in folders)
    assert _owned(container, db_name) > 0

    assert client.delete(f"/databases/{db_name}", headers=admin).status_code == 204

    assert _owned(container, db_name) == 0
    dangling = container.store.read(
        "MATCH ()-[d:DEPENDS_ON]->() WHERE d.proposal = $p RETURN count(d) AS n", p=proposal.id
    )
    assert dangling[0]["n"] == 0
    assert not any(folder.exists() for folder in folders)
    assert container.secrets.get(db_name) is None
    assert client.get(f"/databases/{db_name}", headers=admin).status_code == 404
    assert client.post(f"/databases/{db_name}/retrieve", json={"question": "x"}, headers=admin).status_code == 404
