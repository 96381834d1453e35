"""The MCP server as agents reach it: the SDK's own client over streamable HTTP (on a live service, with the
REST API's keys) and over stdio (``schemakg mcp`` as a subprocess), on the ingested sample database."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import httpx2
import pytest
from fastapi.testclient import TestClient
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextContent, TextResourceContents

from schemakg.app.api.app import create_app
from schemakg.app.container import Container
from schemakg.kernel.model import JobState, Role
from schemakg.kernel.settings import Settings
from tests.conftest import LOCAL_GGUF, SAMPLE_DB, wait_for_job
from tests.live import serve

TOOLS = {
    "list_databases",
    "search_schema",
    "describe_table",
    "link_question",
    "route_question",
    "ask",
    "propose_description",
}
QUESTION = "How many employees are there?"
T = TypeVar("T")


def _gold(sql: str) -> list[list[object]]:
    with sqlite3.connect(SAMPLE_DB) as conn:
        return [list(row) for row in conn.execute(sql)]


def _text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def _llm_missing(container: Container) -> str | None:
    """Why the suite's LLM cannot answer here, or None when it can."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return "llama-cpp-python is installed by scripts/setup_llm.sh"
    from schemakg.generation.llm.model_files import ModelFilesError

    try:
        assert container.llm.model_name
    except ModelFilesError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="module")
def hr(client: TestClient, admin: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    name = "mcp_hr"
    source = tmp_path_factory.mktemp("mcp-sample") / "hr_1.sqlite"
    source.write_bytes(SAMPLE_DB.read_bytes())
    response = client.post("/databases", json={"name": name, "url": f"sqlite:///{source}"}, headers=admin)
    assert response.status_code == 201, response.text
    job = client.post(f"/databases/{name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    return name


@pytest.fixture(scope="module")
def music(client: TestClient, admin: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    """A second database, for questions that name none."""
    name = "mcp_music"
    source = tmp_path_factory.mktemp("mcp-music") / "concerts.sqlite"
    with sqlite3.connect(source) as connection:
        connection.executescript(
            "CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INTEGER);"
            "CREATE TABLE concert (concert_id INTEGER PRIMARY KEY, concert_name TEXT, year INTEGER,"
            " singer_id INTEGER REFERENCES singer(singer_id));"
            "INSERT INTO singer VALUES (1, 'Joe Sharp', 'Netherlands', 52);"
        )
    response = client.post("/databases", json={"name": name, "url": f"sqlite:///{source}"}, headers=admin)
    assert response.status_code == 201, response.text
    job = client.post(f"/databases/{name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    return name


@pytest.fixture(scope="module")
def mcp_url(container: Container) -> Iterator[str]:
    with serve(create_app(container=container, warm_up=False)) as base:
        yield f"{base}/mcp"


@pytest.fixture(scope="module")
def keys(container: Container) -> dict[Role, str]:
    return {role: container.keys.create(f"mcp-{role.value}", role)[1] for role in (Role.ANALYST, Role.STEWARD)}


def _over_http(url: str, key: str, work: Callable[[ClientSession], Awaitable[T]]) -> T:
    async def main() -> T:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=300) as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await work(session)

    return anyio.run(main)


async def _tool_names(session: ClientSession) -> set[str]:
    return {tool.name for tool in (await session.list_tools()).tools}


async def _link(session: ClientSession, database: str) -> dict[str, Any]:
    result = await session.call_tool("link_question", {"database": database, "question": "salary of each employee"})
    assert not result.is_error, _text(result)
    linked: dict[str, Any] = result.structured_content
    return linked


async def _ask(session: ClientSession, database: str) -> CallToolResult:
    return await session.call_tool("ask", {"database": database, "question": QUESTION}, read_timeout_seconds=600)


def test_route_question_ranks_the_databases_and_says_why(
    mcp_url: str, keys: dict[Role, str], hr: str, music: str
) -> None:
    async def work(session: ClientSession) -> tuple[CallToolResult, ...]:
        question = {"question": "What are the names and countries of singers older than 40?"}
        routed = await session.call_tool("route_question", {**question, "databases": [hr, music]})
        unknown = await session.call_tool("route_question", {**question, "databases": [hr, "no_such_db"]})
        both = await session.call_tool("ask", {**question, "database": hr, "databases": [hr, music]})
        return routed, unknown, await session.call_tool("route_question", {"question": " \n "}), both

    routed, unknown, empty, both = _over_http(mcp_url, keys[Role.ANALYST], work)
    assert both.is_error and "not both" in _text(both)
    assert not routed.is_error, _text(routed)
    first, second = routed.structured_content["routes"]
    assert (first["database"], second["database"]) == (music, hr)
    assert "singer" in [t["table"] for t in first["tables"]]
    assert unknown.is_error and "'no_such_db' is not registered" in _text(unknown)
    assert empty.is_error and "the question is blank" in _text(empty)


def test_a_request_without_a_valid_key_is_refused(mcp_url: str, keys: dict[Role, str]) -> None:
    hello = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello}
    accept = {"Accept": "application/json, text/event-stream"}
    for headers in ({}, {"Authorization": "Bearer skg_not_a_key"}, {"X-API-Key": "skg_not_a_key"}):
        response = httpx.post(mcp_url, json=initialize, headers=accept | headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthorized"
        assert "skg_not_a_key" not in response.text
    accepted = httpx.post(mcp_url, json=initialize, headers=accept | {"X-API-Key": keys[Role.ANALYST]})
    assert accepted.status_code == 200 and accepted.json()["result"]["serverInfo"]["name"] == "schemakg"


def test_http_lists_tools_links_and_refuses_bad_input(mcp_url: str, keys: dict[Role, str], hr: str) -> None:
    async def work(session: ClientSession) -> None:
        assert await _tool_names(session) == TOOLS
        linked = await _link(session, hr)
        assert "employees" in linked["tables"]
        assert any(c["table"] == "employees" and c["name"] == "SALARY" for c in linked["columns"])
        unknown = await session.call_tool("link_question", {"database": "no_such_db", "question": "anything"})
        assert unknown.is_error and "'no_such_db' is not registered" in _text(unknown)
        empty = await session.call_tool("ask", {"database": hr, "question": ""})
        assert empty.is_error and "question" in _text(empty)
        table = await session.call_tool("describe_table", {"database": hr, "table": "no_such_table"})
        assert table.is_error and "table 'no_such_table' not found" in _text(table)
        described = await session.call_tool("describe_table", {"database": hr, "table": "employees"})
        assert not described.is_error and described.structured_content["columns"]["total"] == 11
        foreign_key = {"table": "employees", "column": "DEPARTMENT_ID", "ref_table": "departments"}
        assert any(fk.items() >= foreign_key.items() for fk in described.structured_content["foreign_keys"])
        hits = await session.call_tool("search_schema", {"query": "salary", "database": hr})
        assert not hits.is_error and "SALARY" in _text(hits)
        listed = await session.call_tool("list_databases", {})
        assert hr in {d["name"] for d in listed.structured_content["items"]}
        resource = await session.read_resource(f"schemakg://databases/{hr}/tables/employees")
        contents = resource.contents[0]
        assert isinstance(contents, TextResourceContents)
        assert json.loads(contents.text)["table"]["name"] == "employees"
        with pytest.raises(MCPError, match="table 'nowhere' not found"):
            await session.read_resource(f"schemakg://databases/{hr}/tables/nowhere")
        proposal = {"database": hr, "table": "employees", "column": "SALARY", "description": "monthly pay in USD"}
        refused = await session.call_tool("propose_description", proposal)
        assert refused.is_error and "needs the steward role; your key has analyst" in _text(refused)

    _over_http(mcp_url, keys[Role.ANALYST], work)


def test_a_steward_proposal_waits_in_the_rest_queue(
    mcp_url: str, keys: dict[Role, str], hr: str, client: TestClient, container: Container
) -> None:
    arguments = {
        "database": hr,
        "table": "employees",
        "column": "COMMISSION_PCT",
        "description": "share of sales paid as commission, 0 to 1",
        "question": "Who earns a commission?",
    }

    async def work(session: ClientSession) -> CallToolResult:
        return await session.call_tool("propose_description", arguments)

    result = _over_http(mcp_url, keys[Role.STEWARD], work)
    assert not result.is_error, _text(result)
    proposal = result.structured_content
    assert proposal["state"] == "pending" and proposal["model"] == "mcp:mcp-steward"
    steward = {"Authorization": f"Bearer {keys[Role.STEWARD]}"}
    queue = client.get(f"/databases/{hr}/proposals", params={"state": "pending"}, headers=steward).json()
    assert proposal["id"] in {p["id"] for p in queue["items"]}
    column = client.get(f"/databases/{hr}/tables/employees/columns/COMMISSION_PCT", headers=steward).json()
    assert column["description"] != arguments["description"]  # proposed, not applied


@pytest.mark.slow
def test_http_ask_returns_the_rows_of_the_question(
    mcp_url: str, keys: dict[Role, str], hr: str, container: Container
) -> None:
    if missing := _llm_missing(container):
        pytest.skip(missing)
    result = _over_http(mcp_url, keys[Role.ANALYST], lambda session: _ask(session, hr))
    assert not result.is_error, _text(result)
    answer = result.structured_content
    assert answer["refused"] is None and answer["error"] is None
    assert answer["rows"] == _gold("SELECT count(*) FROM employees")
    assert answer["database"] == hr and answer["routes"] == []


@pytest.mark.slow
def test_http_ask_without_a_database_answers_on_the_routed_one(
    mcp_url: str, keys: dict[Role, str], hr: str, music: str, container: Container
) -> None:
    if missing := _llm_missing(container):
        pytest.skip(missing)
    arguments = {"question": QUESTION, "databases": [music, hr]}
    result = _over_http(
        mcp_url, keys[Role.ANALYST], lambda session: session.call_tool("ask", arguments, read_timeout_seconds=600)
    )
    assert not result.is_error, _text(result)
    answer = result.structured_content
    assert answer["database"] == hr and answer["routes"][0]["database"] == hr
    assert answer["rows"] == _gold("SELECT count(*) FROM employees")


@pytest.fixture(scope="module")
def stdio_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A data dir of its own with the sample registered and ingested, held open by this process the way a
    running service holds it: ``schemakg mcp`` reuses its graph engine."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("mcp-stdio"),
        llm_model_path=LOCAL_GGUF if LOCAL_GGUF.exists() else None,
        torch_threads=1,
    )
    service = Container(settings)
    try:
        service.databases.register("hr", f"sqlite:///{SAMPLE_DB}")
        job = service.databases.start_ingestion("hr")
        deadline = time.monotonic() + 120
        while service.jobs.get(job.id).state in (JobState.QUEUED, JobState.RUNNING):
            assert time.monotonic() < deadline, "ingestion did not finish"
            time.sleep(0.1)
        assert service.jobs.get(job.id).state == JobState.SUCCEEDED
        env = {**os.environ, "SCHEMAKG_DATA_DIR": str(settings.data_dir), "SCHEMAKG_TORCH_THREADS": "1"}
        env.pop("NEO4J_URI", None)
        if settings.llm_model_path:
            env["SCHEMAKG_LLM_MODEL_PATH"] = str(settings.llm_model_path)
        yield env
    finally:
        service.close()


@pytest.mark.slow
def test_stdio_serves_the_tools_with_the_role_it_was_started_with(
    stdio_env: dict[str, str], container: Container
) -> None:
    """One subprocess: tools, linking, the default analyst role's refusal and, where the LLM runs, one answer."""
    ask_too = _llm_missing(container) is None
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "schemakg.app.cli.main", "mcp"], env=stdio_env, cwd=Path.cwd()
    )

    async def main() -> tuple[set[str], dict[str, Any], CallToolResult, CallToolResult | None]:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            proposal = {"database": "hr", "table": "jobs", "column": "JOB_ID", "description": "job code"}
            refused = await session.call_tool("propose_description", proposal)
            answer = await _ask(session, "hr") if ask_too else None
            return await _tool_names(session), await _link(session, "hr"), refused, answer

    names, linked, refused, answer = anyio.run(main)
    assert names == TOOLS
    assert "employees" in linked["tables"]
    assert refused.is_error and "your key has analyst" in _text(refused)
    if answer is not None:
        assert not answer.is_error, _text(answer)
        assert answer.structured_content["rows"] == _gold("SELECT count(*) FROM employees")
