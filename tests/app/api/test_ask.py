"""Answering over HTTP with the real local model; destructive requests are refused, nothing runs."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from schemakg.app.container import Container
from tests.conftest import wait_for_job
from tests.servers import free_port


@pytest.fixture
def hr_db(client: TestClient, container: Container, admin: dict[str, str], db_name: str, sample_copy: Path) -> str:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by scripts/setup_llm.sh")
    from schemakg.generation.llm.model_files import ModelFilesError

    try:
        assert container.llm.model_name
    except ModelFilesError as exc:
        pytest.skip(str(exc))
    assert (
        client.post("/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin).status_code
        == 201
    )
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    return db_name


@pytest.mark.slow
def test_how_many_question_end_to_end(client: TestClient, admin: dict[str, str], hr_db: str) -> None:
    response = client.post(
        f"/databases/{hr_db}/ask", json={"question": "How many employees are there?", "mode": "fast"}, headers=admin
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error"] is None and body["refused"] is None
    assert "count" in body["sql"].lower() and "employees" in body["sql"].lower()
    assert body["rows"] == [[107]] and body["repairs"] == []
    assert body["model"] and body["timings_s"]["generate"] > 0
    assert "employees" in body["linked_tables"]


@pytest.mark.slow
def test_a_question_to_the_catalogue_is_routed_then_answered(
    client: TestClient, admin: dict[str, str], hr_db: str, tmp_path: Path
) -> None:
    music = tmp_path / "music.sqlite"
    with sqlite3.connect(music) as connection:
        connection.execute("CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT)")
    name = f"{hr_db}_music"
    assert client.post("/databases", json={"name": name, "url": f"sqlite:///{music}"}, headers=admin).status_code == 201
    job = client.post(f"/databases/{name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    question = {"question": "How many employees are there?", "mode": "fast", "databases": [name, hr_db]}
    response = client.post("/ask", json=question, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["database"] == hr_db and [r["database"] for r in body["routes"]] == [hr_db, name]
    assert body["routes"][0]["decided"] is True  # nothing about employees in the other one
    assert body["rows"] == [[107]] and "employees" in body["linked_tables"]
    missing = client.post("/ask", json={**question, "databases": ["nope"]}, headers=admin)
    assert missing.status_code == 404 and "nope" in missing.text


@pytest.mark.slow
def test_candidates_chosen_by_execution(container: Container, hr_db: str) -> None:
    """Three candidates of the real model: each ran through the guard, and the answer is the one most agree on."""
    from schemakg.generation.answer import AskOptions, AskRequest

    result = container.answering.ask(
        hr_db, AskRequest(question="How many employees are there?", mode="fast"), AskOptions(candidates=3)
    )
    assert [c.greedy for c in result.candidates] == [True, False, False]
    assert result.rows == [[107]] and result.error is None
    ran = [c for c in result.candidates if c.signature is not None]
    assert ran and all(c.sql and c.sql.lstrip().upper().startswith(("SELECT", "WITH")) for c in ran)
    chosen = next(c for c in result.candidates if c.sql == result.sql)
    assert chosen.votes == max(c.votes for c in result.candidates) >= 1.5
    assert result.timings_s["candidates"] >= sum(c.latency_s for c in result.candidates[1:]) * 0.9


@pytest.mark.slow
def test_requests_to_change_data_change_nothing(
    client: TestClient, admin: dict[str, str], hr_db: str, sample_copy: Path
) -> None:
    """The question is not screened for words: whatever SQL the model writes, the guard refuses a
    write and the source stays as it was."""
    before = hashlib.sha256(sample_copy.read_bytes()).hexdigest()
    for question in (
        "Delete all rows from the employees table",
        "Drop the jobs table",
        "update employees set salary to 0 for everyone",
    ):
        body = client.post(f"/databases/{hr_db}/ask", json={"question": question}, headers=admin).json()
        if body["rows"] is not None:
            assert body["sql"].lstrip().upper().startswith(("SELECT", "WITH")), body
        elif body["sql"] and not body["sql"].lstrip().upper().startswith(("SELECT", "WITH")):
            assert body["refused"] and "read" in body["refused"], body
    assert hashlib.sha256(sample_copy.read_bytes()).hexdigest() == before


def test_an_unknown_dialect_is_a_422(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/databases/anything/ask", json={"question": "How many?", "dialect": "klingon"}, headers=admin
    )
    assert response.status_code == 422
    assert "unknown dialect 'klingon'" in response.text


def test_an_unreachable_llm_is_a_503_with_retry_after(
    client: TestClient, container: Container, admin: dict[str, str], db_name: str, sample_copy: Path
) -> None:
    """A real OpenAI client pointed at a port nobody listens on: the answer is a declared 503, not a 500."""
    from schemakg.generation.llm.openai_backend import OpenAIChatModel

    closed_port = free_port()
    assert client.post("/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin)
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    unreachable = OpenAIChatModel(
        base_url=f"http://127.0.0.1:{closed_port}/v1", api_key="sk-secret-value", model="m", timeout_s=2, max_retries=0
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(container, "_llm", unreachable)
        patch.setattr(container, "_answering", None)
        response = client.post(
            f"/databases/{db_name}/ask", json={"question": "How many employees are there?"}, headers=admin
        )
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "llm_unavailable"
    assert response.headers["Retry-After"] == "30"
    assert "sk-secret-value" not in response.text
