"""Bad input gets a clear 4xx JSON error and leaves the graph unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from schemakg.app.container import Container
from tests.conftest import count_nodes


def _graph_size(container: Container) -> tuple[int, int, int]:
    return count_nodes(container, "Database"), count_nodes(container, "Table"), count_nodes(container, "Column")


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("not a url", 422, "invalid_input"),
        ("sqlite:////nonexistent/dir/missing.sqlite", 422, "invalid_input"),
        ("postgresql://scott:Secr3t-unreachable@127.0.0.1:1/db", 400, "source_unavailable"),
        ("nosuchdialect://u:Secr3t-unreachable@host/db", 400, "source_unavailable"),
    ],
)
def test_unusable_urls(
    client: TestClient, container: Container, admin: dict[str, str], db_name: str, url: str, status: int, code: str
) -> None:
    before = _graph_size(container)
    response = client.post("/databases", json={"name": db_name, "url": url}, headers=admin)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "Secr3t" not in response.text
    assert _graph_size(container) == before


def test_wrong_bodies(client: TestClient, container: Container, admin: dict[str, str], sample_copy: Path) -> None:
    before = _graph_size(container)
    wrong_type = client.post("/databases", json={"name": 123, "url": ["x"]}, headers=admin)
    assert wrong_type.status_code == 422 and wrong_type.json()["error"]["code"] == "invalid_input"
    not_json = client.post("/databases", content=b"{not json", headers={**admin, "Content-Type": "application/json"})
    assert not_json.status_code == 422
    bad_name = client.post(
        "/databases", json={"name": "no spaces allowed", "url": f"sqlite:///{sample_copy}"}, headers=admin
    )
    assert bad_name.status_code == 422 and "name" in bad_name.json()["error"]["message"]
    extra = client.post("/databases", json={"name": "x1", "url": f"sqlite:///{sample_copy}", "oops": 1}, headers=admin)
    assert extra.status_code == 422
    huge = client.post(
        "/databases",
        content=b'{"name": "' + b"a" * 2_000_000 + b'"}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"
    assert _graph_size(container) == before


def test_unknown_ids_and_conflicts(client: TestClient, admin: dict[str, str], db_name: str, sample_copy: Path) -> None:
    for path in ("/databases/nope", "/databases/nope/tables", "/databases/nope/tables/x", "/jobs/nope"):
        response = client.get(path, headers=admin)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert client.post("/databases/nope/ingest", headers=admin).status_code == 404
    assert (
        client.post("/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin).status_code
        == 201
    )
    assert client.get(f"/databases/{db_name}/tables/missing", headers=admin).status_code == 404
    assert client.get(f"/databases/{db_name}/tables/missing/columns/x", headers=admin).status_code == 404
    again = client.post("/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert client.get("/databases", params={"limit": 0}, headers=admin).status_code == 422
    assert client.get("/no-such-route", headers=admin).json()["error"]["code"] == "not_found"
    assert client.get("/search", params={"q": "!!!"}, headers=admin).status_code == 422
    assert client.get("/databases", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_edit_rejects_unknown_fields_and_bad_etags(
    client: TestClient, admin: dict[str, str], db_name: str, sample_copy: Path
) -> None:
    assert (
        client.post("/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin).status_code
        == 201
    )
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    from tests.conftest import wait_for_job

    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    url = f"/databases/{db_name}/tables/regions/columns/region_name"
    assert client.patch(url, json={"data_type": "INT"}, headers=admin).status_code == 422
    assert client.patch(url, json={"synonyms": "not a list"}, headers=admin).status_code == 422
    assert client.patch(url, json={}, headers=admin).status_code == 422
    assert client.patch(url, json={"description": "x"}, headers={**admin, "If-Match": "garbage"}).status_code == 412
    assert client.get(f"{url}/history", headers=admin).json() == []


def test_ingest_of_vanished_source_fails_cleanly(
    client: TestClient, container: Container, admin: dict[str, str], db_name: str, sample_copy: Path
) -> None:
    assert (
        client.post("/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin).status_code
        == 201
    )
    sample_copy.unlink()
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    from tests.conftest import wait_for_job

    finished = wait_for_job(client, admin, job["id"])
    assert finished["state"] == "failed"
    assert "not found" in finished["error"]
    assert count_nodes(container, "Table", db_name) == 0


@pytest.mark.parametrize("path", ["/databases", "/jobs"])
def test_an_offset_past_the_engines_range_is_a_422(client: TestClient, admin: dict[str, str], path: str) -> None:
    response = client.get(f"{path}?offset=2147483648", headers=admin)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_input"
    assert client.get(f"{path}?offset=2147483647", headers=admin).status_code == 200


def test_a_chunked_body_over_the_limit_is_a_413(
    client: TestClient, container: Container, admin: dict[str, str]
) -> None:
    before = _graph_size(container)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the body arrives in chunks
        yield b'{"name": "chunked", "url": "'
        for _ in range(40):
            yield b"a" * 50_000
        yield b'"}'

    huge = client.post("/databases", content=chunks(), headers={**admin, "Content-Type": "application/json"})
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"
    small = client.post(
        "/databases", content=iter([b'{"name": 1', b"23}"]), headers={**admin, "Content-Type": "application/json"}
    )
    assert small.status_code == 422  # a small chunked body still reaches validation whole
    assert _graph_size(container) == before


def test_a_405_says_which_methods_are_allowed(client: TestClient, admin: dict[str, str]) -> None:
    response = client.put("/databases", headers=admin)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_openapi_declares_every_error_a_route_can_send(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    patch = spec["paths"]["/databases/{database}/tables/{table}/columns/{column}"]["patch"]["responses"]
    assert {"400", "401", "403", "404", "409", "412", "413", "422"} <= set(patch)
    assert patch["412"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    assert patch["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    assert set(spec["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader"}
