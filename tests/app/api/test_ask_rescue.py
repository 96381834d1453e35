"""An answer that still fails after its retries, or says nothing from tables that hold rows, is rescued by
samples of the same prompt, and a model that never writes SQL that runs costs a bounded number of calls; an
answer with fewer columns than its question lists, or one that reads tables of unrelated databases, is asked
for once more, and never lost. A hostile endpoint plays the model: it writes exactly the failing, empty, short
or mixed SQL each case needs, which a real model cannot be made to do on cue."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from schemakg.app.api.app import create_app
from schemakg.app.container import Container
from schemakg.kernel.settings import Settings
from tests.adversarial.hostile_llm import HostileLLM
from tests.conftest import SAMPLE_DB, wait_for_job

ADMIN = {"Authorization": "Bearer skg_rescue_admin"}
MISSING = "SELECT name FROM staff"  # no such table: a schema error, which retries and rescue may fix
RUNS = "SELECT COUNT(*) FROM employees"  # as the guard renders it back
NOTHING = "SELECT COUNT(*) FROM employees WHERE FIRST_NAME = 'Nobody'"  # runs, and counts 0
LISTING = "What are the first names and last names of all employees?"
SHORT = "SELECT FIRST_NAME FROM employees"
FULL = "SELECT FIRST_NAME, LAST_NAME FROM employees"
SLOW = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) SELECT count(*) FROM n"


@pytest.fixture(scope="module")
def model() -> Iterator[HostileLLM]:
    with HostileLLM() as llm:
        yield llm


@pytest.fixture(scope="module")
def service(model: HostileLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("rescue-data"),
        admin_key=ADMIN["Authorization"].split()[1],
        llm_backend="openai",
        openai_base_url=model.base_url,
        openai_api_key="sk-test",
        ask_timeout_s=1.0,
        ask_evidence="off",
        ask_rescue_samples=3,
    )
    container = Container(settings)
    path = tmp_path_factory.mktemp("rescue-sqlite") / "hr_1.sqlite"
    shutil.copy(SAMPLE_DB, path)
    with TestClient(create_app(container=container)) as client:
        registered = client.post("/databases", json={"name": "hr", "url": f"sqlite:///{path}"}, headers=ADMIN)
        assert registered.status_code == 201, registered.text
        job = client.post("/databases/hr/ingest", headers=ADMIN).json()
        assert wait_for_job(client, ADMIN, job["id"], timeout_s=120)["state"] == "succeeded"
        yield client
    container.close()


@pytest.fixture(scope="module")
def warehouse(service: TestClient, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Two databases flattened into one, as warehouses name them (``<db>__<table>``), both with a staff table."""
    path = tmp_path_factory.mktemp("rescue-warehouse") / "warehouse.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE hr__staff (id INTEGER PRIMARY KEY, name TEXT);
            CREATE TABLE hr__payslips (id INTEGER PRIMARY KEY, staff_id INTEGER REFERENCES hr__staff(id));
            CREATE TABLE shop__staff (id INTEGER PRIMARY KEY, name TEXT);
            CREATE TABLE shop__orders (id INTEGER PRIMARY KEY, staff_id INTEGER REFERENCES shop__staff(id));
            INSERT INTO hr__staff VALUES (1, 'Ada'), (2, 'Bo');
            INSERT INTO hr__payslips VALUES (1, 1);
            INSERT INTO shop__staff VALUES (1, 'Cy'), (2, 'Di'), (3, 'Ed');
            INSERT INTO shop__orders VALUES (1, 1), (2, 2), (3, 2), (4, 3);
            """
        )
    registered = service.post("/databases", json={"name": "wh", "url": f"sqlite:///{path}"}, headers=ADMIN)
    assert registered.status_code == 201, registered.text
    job = service.post("/databases/wh/ingest", headers=ADMIN).json()
    assert wait_for_job(service, ADMIN, job["id"], timeout_s=120)["state"] == "succeeded"
    return "wh"


def _ask(
    service: TestClient,
    model: HostileLLM,
    script: list[str],
    reply: str,
    question: str = "How many employees are there?",
    database: str = "hr",
) -> dict:
    model.script, model.reply, model.calls, model.requests = script, reply, 0, []
    response = service.post(f"/databases/{database}/ask", json={"question": question}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_failed_answer_is_rescued_by_a_sample_of_the_same_prompt(service: TestClient, model: HostileLLM) -> None:
    # The greedy SQL and both fixes fail, the first sample too, the second runs: it is the answer.
    body = _ask(service, model, [MISSING] * 4, RUNS)
    assert body["error"] is None and body["rows"] == [[107]] and body["sql"] == RUNS
    assert body["retries"] == 2 and model.calls == 5  # nothing asked after the sample that ran
    assert [c["signature"] is not None for c in body["candidates"]] == [False, False, True]
    first, samples = model.requests[0], model.requests[3:]
    assert all(r["messages"] == first["messages"] and r["temperature"] == 0.7 for r in samples)
    assert len({r["seed"] for r in samples}) == len(samples)


def test_a_model_that_never_runs_costs_bounded_calls(service: TestClient, model: HostileLLM) -> None:
    body = _ask(service, model, [], MISSING)
    assert body["rows"] is None and "staff" in body["error"]
    assert model.calls == 1 + 2 + 3  # the answer, two fixes, three samples
    assert len(body["candidates"]) == 4 and all(c["signature"] is None for c in body["candidates"])


def test_an_answer_that_runs_or_times_out_is_not_resampled(service: TestClient, model: HostileLLM) -> None:
    body = _ask(service, model, [], RUNS)
    assert body["rows"] == [[107]] and model.calls == 1 and body["candidates"] == []
    body = _ask(service, model, [], SLOW)
    assert body["rows"] is None and body["error"] and model.calls == 1 and body["candidates"] == []


def test_an_answer_that_says_nothing_is_rescued_by_one_that_does(service: TestClient, model: HostileLLM) -> None:
    body = _ask(service, model, [NOTHING], RUNS)
    assert body["error"] is None and body["rows"] == [[107]] and body["sql"] == RUNS
    assert model.calls == 2 and body["retries"] == 0  # the answer, then the first sample, which counted rows
    assert [c["says_nothing"] for c in body["candidates"]] == [True, False]


def test_a_model_that_only_says_nothing_keeps_its_answer_at_bounded_cost(
    service: TestClient, model: HostileLLM
) -> None:
    body = _ask(service, model, [], NOTHING)
    assert body["error"] is None and body["rows"] == [[0]] and "Nobody" in body["sql"]
    assert model.calls == 1 + 3  # the answer and three samples, no fixes: it ran
    assert len(body["candidates"]) == 4 and all(c["says_nothing"] for c in body["candidates"])


def test_an_answer_with_fewer_columns_than_listed_is_asked_for_again(service: TestClient, model: HostileLLM) -> None:
    body = _ask(service, model, [SHORT], FULL, LISTING)
    assert body["error"] is None and body["columns"] == ["FIRST_NAME", "LAST_NAME"] and len(body["rows"]) == 107
    assert body["shape_replaced_sql"] == SHORT and "replaced" in body["shape_check"]
    assert model.calls == 2  # the answer, then one request naming what it lacked
    assert "asks for 2: first names, last names" in model.requests[1]["messages"][-1]["content"]


def test_the_shape_check_never_loses_an_answer_that_runs(service: TestClient, model: HostileLLM) -> None:
    for second in (MISSING, SHORT):  # the new query fails, or is as short
        body = _ask(service, model, [SHORT], second, LISTING)
        assert body["error"] is None and body["sql"] == SHORT and body["columns"] == ["FIRST_NAME"]
        assert "kept the first query" in body["shape_check"] and body["shape_replaced_sql"] is None
        assert model.calls == 2


def test_an_answer_as_wide_as_its_question_is_not_checked_again(service: TestClient, model: HostileLLM) -> None:
    body = _ask(service, model, [], FULL, LISTING)
    assert body["columns"] == ["FIRST_NAME", "LAST_NAME"] and model.calls == 1 and body["shape_check"] is None


MIXED = "SELECT COUNT(*) FROM hr__staff JOIN shop__orders ON hr__staff.id = shop__orders.staff_id"
ONE_AREA = "SELECT COUNT(*) FROM shop__staff JOIN shop__orders ON shop__staff.id = shop__orders.staff_id"
ORDERS = "How many orders did the shop's staff take?"


def test_an_answer_reading_unrelated_databases_is_asked_for_again_within_one(
    service: TestClient, model: HostileLLM, warehouse: str
) -> None:
    body = _ask(service, model, [MIXED], ONE_AREA, ORDERS, warehouse)
    assert body["error"] is None and body["rows"] == [[4]] and body["sql"] == ONE_AREA
    assert body["area_replaced_sql"] == MIXED and "replaced" in body["area_check"]
    assert model.calls == 2  # the answer, then one request naming the two databases and showing one of them
    asked = model.requests[1]["messages"][-1]["content"]
    assert "hr: hr__staff; shop: shop__orders" in asked
    assert ("Schema of shop:" in asked) != ("Schema of hr:" in asked)


def test_the_area_check_never_loses_an_answer_that_runs(service: TestClient, model: HostileLLM, warehouse: str) -> None:
    for second in ("SELECT name FROM shop__nowhere", MIXED):  # the new query fails, or mixes as well
        body = _ask(service, model, [MIXED], second, ORDERS, warehouse)
        assert body["error"] is None and body["sql"] == MIXED and body["rows"] == [[3]]
        assert "kept the first query" in body["area_check"] and body["area_replaced_sql"] is None
        assert model.calls == 2
    body = _ask(service, model, [], ONE_AREA, ORDERS, warehouse)
    assert body["area_check"] is None and model.calls == 1
