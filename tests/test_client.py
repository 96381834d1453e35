"""The Python client against a live service (uvicorn on a free port): typed answers, the If-Match flow,
proposals, jobs, and errors as ApiError without the key."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemakg import ApiError, Client
from schemakg.app.api.app import create_app
from schemakg.app.container import Container
from schemakg.kernel.model import JobState, ProposalState, Provenance, Role
from tests.conftest import ADMIN_KEY, SAMPLE_DB
from tests.live import serve


@pytest.fixture(scope="module")
def base_url(container: Container) -> Iterator[str]:
    with serve(create_app(container=container, warm_up=False)) as url:
        yield url


@pytest.fixture(scope="module")
def admin_client(base_url: str) -> Iterator[Client]:
    with Client(base_url, api_key=ADMIN_KEY) as client:
        yield client


@pytest.fixture(scope="module")
def steward_client(base_url: str, container: Container) -> Iterator[Client]:
    with Client(base_url, api_key=container.keys.create("client-steward", Role.STEWARD)[1]) as client:
        yield client


@pytest.fixture(scope="module")
def hr(admin_client: Client, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample, registered and ingested through the client: a job started and waited for."""
    source = tmp_path_factory.mktemp("client-sample") / "hr_1.sqlite"
    source.write_bytes(SAMPLE_DB.read_bytes())
    info = admin_client.register_database("client_hr", f"sqlite:///{source}", "the HR sample")
    assert info.name == "client_hr" and info.dialect == "sqlite"
    job = admin_client.ingest("client_hr")
    assert job.state in (JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED)
    done = admin_client.wait_for_job(job, timeout_s=120)
    assert done.state == JobState.SUCCEEDED and done.id == job.id
    assert done.id in {j.id for j in admin_client.jobs("client_hr").items}
    return "client_hr"


def test_browse_search_and_retrieve(admin_client: Client, hr: str) -> None:
    assert hr in {d.name for d in admin_client.databases(limit=500).items}
    assert admin_client.database(hr).table_count == 7
    tables = admin_client.tables(hr)
    assert tables.total == 7 and "employees" in {t.name for t in tables.items}
    columns = admin_client.columns(hr, "employees")
    assert columns.total == 11 and columns.items[0].table == "employees"
    hits = admin_client.search("salary", database=hr, kind="column")
    assert hits and all(hit.kind == "column" and hit.database == hr for hit in hits)
    assert any(hit.column and hit.column.upper() in ("SALARY", "MIN_SALARY", "MAX_SALARY") for hit in hits)
    retrieved = admin_client.retrieve(hr, "What is the salary of each employee?", top=5)
    assert "employees" in retrieved.linked.tables and len(retrieved.ranked) == 5
    assert "employees.SALARY" in retrieved.selected


@pytest.fixture(scope="module")
def music(admin_client: Client, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A second database, for questions that name none."""
    source = tmp_path_factory.mktemp("client-music") / "concerts.sqlite"
    with sqlite3.connect(source) as connection:
        connection.executescript(
            "CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INTEGER);"
            "INSERT INTO singer VALUES (1, 'Joe Sharp', 'Netherlands', 52);"
        )
    admin_client.register_database("client_music", f"sqlite:///{source}")
    assert admin_client.wait_for_job(admin_client.ingest("client_music"), timeout_s=120).state == JobState.SUCCEEDED
    return "client_music"


def test_a_question_without_a_database_is_routed(admin_client: Client, hr: str, music: str) -> None:
    routed = admin_client.retrieve_catalogue("Which singers are older than 40?", databases=[hr, music], routes=2)
    assert routed.database == music and [r.database for r in routed.routes] == [music, hr]
    assert routed.routes[0].tables[0].table == "singer" and routed.linked.tables == ["singer"]
    with pytest.raises(ApiError) as refused:
        admin_client.retrieve_catalogue("Which singers are older than 40?", databases=[hr, "nowhere"])
    assert refused.value.status == 404 and "nowhere" in refused.value.message


def test_edits_carry_the_revision_read(steward_client: Client, hr: str) -> None:
    column = steward_client.column(hr, "employees", "SALARY")
    edited = steward_client.edit_column(
        hr, "employees", "SALARY", revision=column.revision, description="monthly salary in USD"
    )
    assert edited.description == "monthly salary in USD" and edited.revision == column.revision + 1
    with pytest.raises(ApiError) as stale:  # the revision read is no longer current
        steward_client.edit_column(hr, "employees", "SALARY", revision=column.revision, description="lost update")
    assert stale.value.status == 412 and stale.value.code == "precondition_failed"
    assert steward_client.column(hr, "employees", "SALARY").description == "monthly salary in USD"
    table = steward_client.table(hr, "jobs")
    assert steward_client.edit_table(hr, "jobs", revision=table.revision, description="job titles").revision == (
        table.revision + 1
    )


def test_proposals_are_listed_and_approved(steward_client: Client, container: Container, hr: str) -> None:
    proposed = container.proposals.propose_description(
        hr, "employees", "COMMISSION_PCT", "share of sales paid as commission", "test"
    )
    pending = steward_client.proposals(hr, ProposalState.PENDING)
    assert proposed.id in {p.id for p in pending.items}
    approved = steward_client.approve(proposed.id)
    assert approved.state == ProposalState.APPROVED and approved.decided_by == "client-steward"
    column = steward_client.column(hr, "employees", "COMMISSION_PCT")
    assert column.description == "share of sales paid as commission" and column.description_source == Provenance.LLM
    with pytest.raises(ApiError) as again:
        steward_client.reject(proposed.id)
    assert again.value.status == 409


def test_errors_are_typed_and_never_show_the_key(base_url: str, admin_client: Client) -> None:
    with pytest.raises(ApiError) as missing:
        admin_client.database("no_such_database")
    assert missing.value.status == 404 and missing.value.code == "not_found"
    assert "no_such_database" in missing.value.message and "404" in str(missing.value)
    with pytest.raises(ApiError) as missing_table:
        admin_client.table("no_such_database", "a/b c")  # a name with a slash travels as one segment
    assert missing_table.value.status == 404
    secret = "skg_wrong_key_do_not_print"
    with Client(base_url, api_key=secret) as wrong:
        with pytest.raises(ApiError) as refused:
            wrong.databases()
        assert refused.value.status == 401
        assert secret not in str(refused.value) + repr(refused.value.details) + repr(wrong)


@pytest.mark.slow
def test_ask_returns_the_rows(admin_client: Client, container: Container, hr: str) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by scripts/setup_llm.sh")
    answer = admin_client.ask(hr, "How many employees are there?")
    assert answer.error is None and answer.refused is None
    with sqlite3.connect(SAMPLE_DB) as conn:
        assert answer.rows == [list(row) for row in conn.execute("SELECT count(*) FROM employees")]


def test_ask_without_a_database_answers_on_the_routed_one(
    admin_client: Client, container: Container, hr: str, music: str
) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by scripts/setup_llm.sh")
    answer = admin_client.ask_catalogue("How many employees are there?", databases=[music, hr])
    assert answer.database == hr and answer.routes[0].database == hr
    with sqlite3.connect(SAMPLE_DB) as conn:
        assert answer.rows == [list(row) for row in conn.execute("SELECT count(*) FROM employees")]


def test_importing_the_package_does_not_load_the_client_or_the_service() -> None:
    probe = (
        "import sys, schemakg.kernel.model; assert 'schemakg.client' not in sys.modules; "
        "from schemakg import Client; heavy = {'torch', 'fastapi', 'schemakg.app.container'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=Path.cwd(), check=False)
    assert done.returncode == 0, done.stderr
