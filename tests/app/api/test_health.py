"""Liveness and readiness: /health answers at once; /health/ready is 503 until the warm-up has loaded the
retriever, the LLM and every registered database's linking state, 200 after, and reports a failed step;
what ``schemakg serve`` prints when it is ready."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

from schemakg.app.api.app import create_app
from schemakg.app.container import Container
from schemakg.app.services.warmup import WarmUp
from schemakg.generation.llm import factory
from schemakg.generation.llm.base import ChatModel, LLMError
from schemakg.kernel.settings import Settings
from tests.conftest import ADMIN_KEY, LOCAL_GGUF, wait_for_job

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
DB = "ready_hr"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """A cold container of its own (nothing loaded yet), with the thread settings under test."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("ready-data"),
        admin_key=ADMIN_KEY,
        torch_threads=2,
        arcadedb_cpus=1,
        llm_model_path=LOCAL_GGUF if LOCAL_GGUF.exists() else None,
    )
    built = Container(settings)
    try:
        yield built
    finally:
        built.close()
        torch.set_num_threads(1)  # the suite's setting (tests/conftest.py)


@pytest.fixture(scope="module")
def registered(fresh: Container, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One ingested database, registered before the apps under test start."""
    source = tmp_path_factory.mktemp("ready-source") / "hr_1.sqlite"
    source.write_bytes((Path(__file__).resolve().parents[3] / "schemakg" / "samples" / "hr_1.sqlite").read_bytes())
    with TestClient(create_app(container=fresh, warm_up=False)) as client:
        assert client.post("/databases", json={"name": DB, "url": f"sqlite:///{source}"}, headers=ADMIN).is_success
        job = client.post(f"/databases/{DB}/ingest", headers=ADMIN).json()
        assert wait_for_job(client, ADMIN, job["id"])["state"] == "succeeded"
        never = client.get("/health/ready")  # no warm-up: never ready
        assert never.status_code == 503 and never.json()["status"] == "loading"
    return DB


def _ready_until(client: TestClient, done: object, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = client.get("/health/ready").json()
        if callable(done) and done(body):
            return body
        time.sleep(0.05)
    raise AssertionError(f"readiness did not get there in {timeout_s}s: {body}")


def test_ready_is_503_until_the_warm_up_has_loaded_everything(
    fresh: Container, registered: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    warm = fresh.linking.warm

    def gated(name: str) -> int:
        assert gate.wait(120), "the test never opened the gate"
        return warm(name)

    monkeypatch.setattr(fresh.linking, "warm", gated)
    finished: list[str] = []
    with TestClient(create_app(container=fresh, on_warm=lambda w: finished.append(w.summary()))) as client:
        assert client.get("/health").status_code == 200  # liveness does not wait for the warm-up
        first = client.get("/health/ready")
        assert first.status_code == 503
        assert first.json()["status"] == "loading" and first.json()["loading"]

        # The retriever and the LLM are loaded; the database waits at the gate: still 503, and the body says
        # what for. The LLM was loaded at start-up, not by a request.
        body = _ready_until(
            client, lambda b: f"database:{registered}" in b["loading"] and {"retriever", "llm"} <= set(b["loaded"])
        )
        assert fresh._llm is not None and fresh._llm.model_name
        assert finished == []  # not finished yet: nothing announced
        response = client.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["status"] == "loading"
        assert response.json()["loading"] == [f"database:{registered}"]
        assert body["failed"] == {}

        gate.set()
        body = _ready_until(client, lambda b: b["status"] != "loading")
        response = client.get("/health/ready")
        assert response.status_code == 200, body
        assert response.json()["status"] == "ready"
        assert response.json()["loading"] == []
        assert set(response.json()["loaded"]) == {"retriever", "llm", f"database:{registered}"}
        assert set(response.json()["load_s"]) == {"retriever", "llm", f"database:{registered}"}

        # What `schemakg serve` prints once: ready, in how long, with what.
        assert len(finished) == 1
        assert finished[0].startswith("ready in ")
        assert f"LLM {fresh.llm.model_name} " in finished[0] and "retriever " in finished[0]
        assert "1 database " in finished[0]

        # What the warm-up loaded is what a request uses: context, index and prepared linker are in place.
        context = fresh.linking._contexts[registered]
        assert registered in fresh.linking.linker._prepared
        assert len(fresh.linking.linker.retriever.index.keys(registered)) == len(context.columns) > 0
        retrieved = client.post(
            f"/databases/{registered}/retrieve", json={"question": "Which employees work in Finance?"}, headers=ADMIN
        )
        assert retrieved.status_code == 200, retrieved.text

        # The thread settings were applied at start-up: torch threads for later threads, the engine's JVM flag.
        threads: list[int] = []
        probe = threading.Thread(target=lambda: threads.append(torch.get_num_threads()))
        probe.start()
        probe.join()
        assert threads == [fresh.settings.torch_threads] == [2]
        assert "-XX:ActiveProcessorCount=1" in (fresh.settings.graph_dir / "server.args").read_text().split()

        responses = client.app.openapi()["paths"]["/health/ready"]["get"]["responses"]
        assert {"200", "503"} <= set(responses)


def test_a_warm_up_failure_is_reported_not_raised(
    fresh: Container, registered: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(name: str) -> int:
        raise OSError(f"index of {name} unreadable")

    monkeypatch.setattr(fresh.linking, "warm", broken)
    finished: list[WarmUp] = []
    with TestClient(create_app(container=fresh, on_warm=finished.append)) as client:
        body = _ready_until(client, lambda b: b["status"] != "loading")
        response = client.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["status"] == "failed"
        assert "index of ready_hr unreadable" in response.json()["failed"][f"database:{registered}"]
        assert body["loading"] == []
        assert client.get("/health").status_code == 200  # the service itself is up
        summary = finished[0].summary()
        assert summary.startswith("NOT ready (failed) in ") and "index of ready_hr unreadable" in summary


def test_an_llm_that_will_not_load_is_reported_and_the_rest_still_loads(
    fresh: Container, registered: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(settings: Settings) -> ChatModel:
        raise LLMError("no model file at /models/missing.gguf; run `schemakg llm prepare`")

    monkeypatch.setattr(fresh, "_llm", None)
    monkeypatch.setattr(factory, "make_chat_model", missing)
    with TestClient(create_app(container=fresh)) as client:
        # "failed" shows as soon as the LLM fails; the databases may still be loading then
        body = _ready_until(client, lambda b: b["status"] != "loading" and not b["loading"])
        assert client.get("/health/ready").status_code == 503
        assert body["status"] == "failed" and "missing.gguf" in body["failed"]["llm"]
        assert set(body["loaded"]) == {"retriever", f"database:{registered}"}
