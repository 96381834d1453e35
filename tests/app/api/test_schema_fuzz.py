"""Schemathesis over every operation: whatever a client sends, no server error, and every response, status
code, header and content type matches what the OpenAPI document declares. Stateless, each operation on its
own; stateful, sequences that follow the document's links (declared and inferred): a database registered,
ingested and read, a table or column read and edited with its ETag, a job started and polled, a key made
and deleted.

Answering and knowledge completion run with a canned LLM here: the real local model took 38 to 270 s for
one /ask on two cores (prompt evaluation of the schema and examples, then up to two repair rounds), so a
bounded fuzz run cannot afford it; tests/app/api/test_ask.py runs the real model. What this file checks
(validation, lookups, linking, the guard, executing the SQL and the response's shape) runs for real.
/ask, knowledge completion and retriever activation (each valid request of the last two starts a job) get
fewer examples than the rest.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Flaky
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.stateful import APIStateMachine
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from schemakg.app.api.app import create_app
from schemakg.app.container import Container
from schemakg.generation.llm.base import ChatModel
from schemakg.kernel.model import valid_name
from schemakg.kernel.settings import Settings
from tests.canned_llm import CannedModel, sql_reply
from tests.conftest import SAMPLE_DB, wait_for_job

FUZZ_DB = "fuzz"
COSTLY = re.compile(r"/ask$|/knowledge-completion$|^/retriever/activate$")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Stateful only: a resource just created can be read; one just deleted cannot.
STATEFUL_CHECKS = [*CHECKS, ensure_resource_availability, use_after_free]
# The readiness probe answers 503 (declared, with its body) until the start-up warm-up is done: no server error.
DECLARES_503 = {"/health/ready"}


def _checks(path: str, checks: list[Any]) -> list[Any]:
    return [check for check in checks if check is not not_a_server_error] if path in DECLARES_503 else checks


@pytest.fixture(scope="module")
def canned_llm(container: Container, client: TestClient, admin: dict[str, str]) -> Iterator[ChatModel]:
    """The container's LLM, for this module only; answering is rebuilt with it and rebuilt again after."""
    with pytest.MonkeyPatch.context() as patch:
        model = CannedModel(sql_reply("SELECT COUNT(*) FROM employees"))
        patch.setattr(container, "_llm", model)
        patch.setattr(container, "_answering", None)
        yield model
        # The jobs this module started (completions, activations, ingestions) end before the model goes back.
        for job in client.get("/jobs", params={"limit": 500}, headers=admin).json()["items"]:
            if job["state"] in ("queued", "running"):
                wait_for_job(client, admin, job["id"])


@pytest.fixture(scope="module")
def api_schema(
    client: TestClient, admin: dict[str, str], tmp_path_factory: pytest.TempPathFactory, canned_llm: ChatModel
) -> schemathesis.BaseSchema:
    # One real database, so requests that name it reach the catalogue's 200 paths.
    if client.get(f"/databases/{FUZZ_DB}", headers=admin).status_code == 404:
        copy = tmp_path_factory.mktemp("fuzz") / "hr_1.sqlite"
        shutil.copy(SAMPLE_DB, copy)
        created = client.post("/databases", json={"name": FUZZ_DB, "url": f"sqlite:///{copy}"}, headers=admin)
        assert created.status_code == 201, created.text
        job = client.post(f"/databases/{FUZZ_DB}/ingest", headers=admin).json()
        assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    return schemathesis.openapi.from_asgi("/openapi.json", client.app)


def _operations() -> list[tuple[str, str]]:
    """Every (path, method) the API declares, read from the app's own OpenAPI document."""
    spec = create_app(Settings()).openapi()
    return [(path, method.upper()) for path, item in spec["paths"].items() for method in item]


@pytest.mark.parametrize(("path", "method"), _operations())
def test_no_server_error_and_every_response_as_declared(
    api_schema: schemathesis.BaseSchema, admin: dict[str, str], path: str, method: str
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=10 if COSTLY.search(path) else 12,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def fuzz(case: schemathesis.Case) -> None:
        if method == "DELETE" and path == "/databases/{database}" and case.path_parameters == {"database": FUZZ_DB}:
            return  # keep the one real database for the other operations
        case.call_and_validate(headers=admin, checks=_checks(path, CHECKS))

    fuzz()


def _is(case: schemathesis.Case, method: str, path: str) -> bool:
    return case.method.upper() == method and case.operation.path == path


class Session:
    """What one stateful test ran and found, and the databases it registered."""

    def __init__(self, client: TestClient, admin: dict[str, str], sources: Path) -> None:
        self.client, self.admin, self.sources = client, admin, sources
        # Databases other test modules registered in this session are theirs: a step naming one goes to ours.
        listed = client.get("/databases", params={"limit": 500}, headers=admin).json()["items"]
        self.theirs = {d["name"] for d in listed} - {FUZZ_DB}
        self.created: set[str] = set()
        self.ingested: set[str] = set()
        self.steps: list[str] = []
        self.failures: list[str] = []
        self.serial = itertools.count()

    def ingest(self, name: str) -> None:
        self.ingested.add(name)
        job = self.client.post(f"/databases/{quote(name, safe='')}/ingest", headers=self.admin).json()
        wait_for_job(self.client, self.admin, job["id"])

    def run(self, schema: schemathesis.BaseSchema, scenarios: int, steps: int) -> None:
        """Up to three runs of ``scenarios`` scenarios of at most ``steps`` steps, until 100 steps ran."""
        machine = _machine(schema, self)
        started = time.monotonic()
        try:
            for _ in range(3):
                # Hypothesis replays a scenario's choices and expects the same path; against a live service whose
                # state moved on (a job finished, a key deleted) a replay can take another and stop the run as
                # Flaky. What the checks found as the requests ran is kept in ``failures`` and decides below.
                with contextlib.suppress(Flaky):
                    machine.run(
                        settings=settings(
                            max_examples=scenarios,
                            stateful_step_count=steps,
                            phases=[Phase.generate],
                            deadline=None,
                            suppress_health_check=list(HealthCheck),
                            database=None,
                        )
                    )
                if self.failures or len(self.steps) >= 100:
                    break
        finally:
            for name in self.created:  # wait out their jobs, then remove them
                params: dict[str, str | int] = {"database": name, "limit": 500}
                for job in self.client.get("/jobs", params=params, headers=self.admin).json()["items"]:
                    wait_for_job(self.client, self.admin, job["id"])
                self.client.delete(f"/databases/{quote(name, safe='')}", headers=self.admin)
        print(f"\n{len(self.steps)} stateful steps in {time.monotonic() - started:.1f}s:")
        print("\n".join(f"{self.steps.count(step):4} {step}" for step in sorted(set(self.steps))))
        assert not self.failures, "\n\n".join(self.failures)
        assert len(self.steps) >= 50


def _machine(schema: schemathesis.BaseSchema, session: Session) -> type[APIStateMachine]:
    class Links(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case) -> None:
            super().before_call(case)
            body, params = case.body, case.path_parameters or {}
            if _is(case, "POST", "/databases") and isinstance(body, dict):
                n = next(session.serial)
                if isinstance(body.get("url"), str):  # a URL that connects
                    copy = session.sources / f"source{n}.sqlite"
                    shutil.copy(SAMPLE_DB, copy)
                    body["url"] = f"sqlite:///{copy}"
                named = body.get("name")
                if isinstance(named, str) and valid_name(named):
                    # A name of its own: a replayed scenario registers again rather than meeting a 409.
                    body["name"] = f"{named[:56]}_{n}"
            if params.get("database") in session.theirs:
                params["database"] = FUZZ_DB
            name = params.get("database")
            if _is(case, "DELETE", "/databases/{database}") and name not in session.created:
                params["database"] = "not-registered"  # the real one stays; this is an honest 404
            elif name in session.created and name not in session.ingested and len(session.ingested) < 4:
                # A few registered databases are ingested before the first step under them, so that their
                # tables and columns can be followed (ingestion takes a second or two).
                session.ingest(name)

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": session.admin}

        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            super().after_call(response, case)
            session.steps.append(f"{case.method} {case.operation.path} -> {response.status_code}")
            if _is(case, "POST", "/databases") and response.status_code == 201:
                session.created.add(response.json()["name"])
            if _is(case, "POST", "/databases/{database}/ingest") and response.status_code == 202:
                session.ingested.add(case.path_parameters["database"])
                wait_for_job(session.client, session.admin, response.json()["id"])  # later steps see the tables

        def validate_response(
            self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            try:
                case.validate_response(
                    response,
                    checks=_checks(case.operation.path, STATEFUL_CHECKS),
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )
            except Exception as exc:
                session.failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {exc}")
                raise

    return Links


@pytest.fixture
def session(client: TestClient, admin: dict[str, str], tmp_path: Path) -> Session:
    return Session(client, admin, tmp_path)


def test_link_sequences_over_the_whole_api(api_schema: schemathesis.BaseSchema, session: Session) -> None:
    """Scenarios over every operation, each step a request built from a link on an earlier response (or a
    fresh one): a database registered (with a URL that connects), ingested, read and deleted; a job started
    and polled; a key made and deleted; answering, retrieval and completion on a registered database."""
    session.run(api_schema, scenarios=30, steps=10)


def test_link_sequences_through_the_catalogue(
    api_schema: schemathesis.BaseSchema, client: TestClient, session: Session
) -> None:
    """Longer scenarios over the catalogue's reads and edits, following only the links the document declares:
    the databases listed to the first one's tables, a listing to its first table or column, a read to an edit
    with the read's ETag, an edit to the next with its own. (Link inference is off here: it takes a table's
    ``key``, not its ``name``, for the table in the path, which only ever finds a 404.)"""
    declared = schemathesis.openapi.from_asgi(
        "/openapi.json",
        client.app,
        config=SchemathesisConfig.from_dict({"phases": {"stateful": {"inference": {"algorithms": []}}}}),
    )
    catalogue = declared.include(path_regex=r"^/databases(/\{database\}(/tables.*)?)?$", method=["GET", "PATCH"])
    session.run(catalogue, scenarios=30, steps=15)
