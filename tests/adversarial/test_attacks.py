"""The held-out-style attack suite: a hostile model pushes every attack in the corpus through
``/ask`` with an analyst key, on SQLite, PostgreSQL and MariaDB, with and without dialect
overrides. Nothing may be written, no side effect may outlive a request, and nothing is a 500."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from schemakg.app.api.app import create_app
from schemakg.app.container import Container
from schemakg.kernel.settings import Settings
from tests.adversarial.harness import (
    CORPUS,
    HEADER,
    MariaDbTarget,
    PostgresTarget,
    SqliteTarget,
    Target,
    run_attacks,
    run_harmless,
)
from tests.adversarial.hostile_llm import HostileLLM
from tests.conftest import SAMPLE_DB, wait_for_job
from tests.servers import Server

DEADLINE_S = 2.0
ADMIN = {"Authorization": "Bearer skg_attack_admin"}


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileLLM]:
    with HostileLLM() as llm:
        yield llm


@pytest.fixture(scope="module")
def service(hostile: HostileLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("attack-data"),
        admin_key=ADMIN["Authorization"].split()[1],
        llm_backend="openai",
        openai_base_url=hostile.base_url,
        openai_api_key="sk-attacker",
        ask_timeout_s=DEADLINE_S,
        ask_evidence="off",
    )
    container = Container(settings)
    with TestClient(create_app(container=container)) as client:
        yield client
    container.close()


@pytest.fixture(scope="module")
def analyst(service: TestClient) -> dict[str, str]:
    key = service.post("/api-keys", json={"name": "attacker", "role": "analyst"}, headers=ADMIN).json()["key"]
    return {"Authorization": f"Bearer {key}"}


def _register(client: TestClient, name: str, url: str) -> None:
    response = client.post("/databases", json={"name": name, "url": url}, headers=ADMIN)
    assert response.status_code == 201, response.text
    job = client.post(f"/databases/{name}/ingest", headers=ADMIN).json()
    assert wait_for_job(client, ADMIN, job["id"], timeout_s=120)["state"] == "succeeded"


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def target(request: pytest.FixtureRequest, service: TestClient, tmp_path_factory: pytest.TempPathFactory) -> Target:
    name = f"attack_{request.param}"
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("attack-sqlite") / "hr_1.sqlite"
        shutil.copy(SAMPLE_DB, path)
        _register(service, name, f"sqlite:///{path}")
        return SqliteTarget(path, name)
    fixture = "postgres" if request.param == "postgresql" else "mariadb"
    url: str = request.getfixturevalue(f"{fixture}_hr_url")
    server: Server = request.getfixturevalue(f"{fixture}_server")
    _register(service, name, url)
    return PostgresTarget(server, name) if request.param == "postgresql" else MariaDbTarget(server, name)


def test_the_corpus_covers_every_class() -> None:
    classes = {attack["class"] for attack in CORPUS["attacks"]}
    assert len(CORPUS["attacks"]) >= 150 and len(classes) >= 12


def test_attacks_write_nothing_and_leave_nothing(
    service: TestClient, analyst: dict[str, str], hostile: HostileLLM, target: Target
) -> None:
    report = run_attacks(service, analyst, hostile, target)
    print(f"\n{HEADER}\n{report.row(DEADLINE_S)}")
    assert report.problems == []
    assert report.writes == report.side_effects == report.server_errors == 0
    assert report.reached > 0 and report.refused > report.reached
    # A query that runs out of time is not retried, and the guard refuses in milliseconds.
    assert report.worst_latency_s < DEADLINE_S + 5


def test_harmless_questions_with_alarming_words_are_answered(
    service: TestClient, analyst: dict[str, str], hostile: HostileLLM, target: Target
) -> None:
    assert run_harmless(service, analyst, hostile, target) == []


def test_an_unknown_dialect_is_a_422(service: TestClient, analyst: dict[str, str], target: Target) -> None:
    response = service.post(
        f"/databases/{target.database}/ask", json={"question": "How many?", "dialect": "klingon"}, headers=analyst
    )
    assert response.status_code == 422 and "unknown dialect" in response.text


def test_the_checks_see_a_write_and_a_held_lock(target: Target) -> None:
    """The suite's own instruments work: a real write and a real lock are seen."""
    before = target.fingerprint()
    if isinstance(target, SqliteTarget):
        import sqlite3

        with sqlite3.connect(target.path) as conn:
            conn.execute("UPDATE regions SET region_name = region_name || '!' WHERE rowid = 1")
        assert target.fingerprint() != before
        with sqlite3.connect(target.path) as conn:
            conn.execute(
                "UPDATE regions SET region_name = substr(region_name, 1, length(region_name) - 1) WHERE rowid = 1"
            )
        return
    server = target.server
    lock = "SELECT pg_advisory_lock(99)" if target.engine == "postgresql" else "SELECT GET_LOCK('schemakg-lock', 1)"
    engine = server.admin_engine("hr_1")
    with engine.connect() as admin:
        admin.execute(text("UPDATE regions SET region_name = concat(region_name, '!') WHERE region_id = 1"))
        assert target.fingerprint() != before
        admin.execute(
            text("UPDATE regions SET region_name = substr(region_name, 1, length(region_name) - 1) WHERE region_id = 1")
        )
        admin.execute(text(lock))
        assert target.side_effects()
    engine.dispose()  # the session ends, and its lock with it
    assert target.fingerprint() == before and not target.side_effects()
