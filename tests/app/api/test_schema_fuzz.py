"""Schemathesis over every operation: whatever a client sends, no server error, and every response, status
code and content type matches what the OpenAPI document declares.

``/ask``, knowledge completion and retriever activation are left out: each schema-valid request runs a model
or starts a job, and their own tests cover their bad input.
"""

from __future__ import annotations

import re
import shutil

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from schemakg.app.api.app import create_app
from schemakg.kernel.settings import Settings
from tests.conftest import SAMPLE_DB, wait_for_job

EXCLUDED = re.compile(r"/ask$|/knowledge-completion$|^/retriever/activate$")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def api_schema(
    client: TestClient, admin: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> schemathesis.BaseSchema:
    # One real database, so requests that name it reach the catalogue's 200 paths.
    if client.get("/databases/fuzz", headers=admin).status_code == 404:
        copy = tmp_path_factory.mktemp("fuzz") / "hr_1.sqlite"
        shutil.copy(SAMPLE_DB, copy)
        created = client.post("/databases", json={"name": "fuzz", "url": f"sqlite:///{copy}"}, headers=admin)
        assert created.status_code == 201, created.text
        job = client.post("/databases/fuzz/ingest", headers=admin).json()
        assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    return schemathesis.openapi.from_asgi("/openapi.json", client.app)


def _operations() -> list[tuple[str, str]]:
    """Every (path, method) the API declares, read from the app's own OpenAPI document."""
    spec = create_app(Settings()).openapi()
    return [
        (path, method.upper()) for path, item in spec["paths"].items() for method in item if not EXCLUDED.search(path)
    ]


@pytest.mark.parametrize(("path", "method"), _operations())
def test_no_server_error_and_every_response_as_declared(
    api_schema: schemathesis.BaseSchema, admin: dict[str, str], path: str, method: str
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case: schemathesis.Case) -> None:
        if method == "DELETE" and path == "/databases/{database}" and case.path_parameters == {"database": "fuzz"}:
            return  # keep the one real database for the other operations
        case.call_and_validate(headers=admin, checks=CHECKS)

    fuzz()
