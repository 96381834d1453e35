"""A PostgreSQL database with many schemas, end to end on real parts (PostgreSQL, ArcadeDB, the MiniLM
towers): ingested with schema-qualified table names, linked, and answered with qualified SQL that the
guard passes and the server runs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from schemakg.app.container import Container
from schemakg.generation.answer import AskRequest
from schemakg.kernel.model import column_ref, split_column_ref
from tests.canned_llm import CannedModel, sql_reply
from tests.conftest import SCHEMA_TABLE_NAMES as TABLES
from tests.conftest import wait_for_job


@pytest.fixture
def warehouse(client: TestClient, admin: dict[str, str], db_name: str, postgres_schemas_url: str) -> str:
    registered = client.post("/databases", json={"name": db_name, "url": postgres_schemas_url}, headers=admin)
    assert registered.status_code == 201, registered.text
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    finished = wait_for_job(client, admin, job["id"], timeout_s=120)
    assert finished["state"] == "succeeded", finished
    assert finished["result"]["warnings"] == []
    return db_name


@pytest.fixture
def canned(container: Container, monkeypatch: pytest.MonkeyPatch) -> CannedModel:
    """The container's LLM for one test; answering is rebuilt with it, and restored after."""
    model = CannedModel(sql_reply("SELECT 1"))
    monkeypatch.setattr(container, "_llm", model)
    monkeypatch.setattr(container, "_answering", None)
    return model


def test_schemas_are_ingested_qualified_with_cross_schema_keys_and_values(
    client: TestClient, container: Container, admin: dict[str, str], warehouse: str
) -> None:
    listed = client.get(f"/databases/{warehouse}/tables", params={"limit": 100}, headers=admin).json()
    assert sorted(t["name"] for t in listed["items"]) == TABLES
    column = client.get(f"/databases/{warehouse}/tables/concert.concert/columns/singer_id", headers=admin).json()
    assert column["references"] == ["concert\\.singer.singer_id"]  # model.column_ref: the table's dot escaped
    assert container.catalog.get_column(warehouse, "concert.concert", "venue_id").references == ["venue.venue_id"]
    assert container.catalog.get_column(warehouse, "award", "singer_id").references == [
        column_ref("concert.singer", "singer_id")
    ]
    assert container.catalog.get_column(warehouse, "hr.singer", "singer_id").references == [
        column_ref("concert.singer", "singer_id")
    ]
    foreign_keys = {
        ((f.table, f.column), (f.ref_table, f.ref_column)) for f in container.catalog.foreign_keys(warehouse)
    }
    assert (("Box Office.Ticket Sales", "concert_id"), ("concert.concert", "concert_id")) in foreign_keys
    assert len(foreign_keys) == 5

    countries = client.get(f"/databases/{warehouse}/tables/concert.singer/columns/country", headers=admin).json()
    assert "France" in countries["examples"]
    payroll = client.get(f"/databases/{warehouse}/tables/hr.singer/columns/name", headers=admin).json()
    assert sorted(payroll["examples"]) == ["Alice Payroll", "Bob Ledger"]

    # Every column's reference round-trips, and every reference the catalogue serves names a column of it.
    columns, _ = container.catalog.list_columns(warehouse, None, 0, 1000)
    pairs = {(c.table, c.name) for c in columns}
    assert all(split_column_ref(column_ref(table, name)) == (table, name) for table, name in pairs)
    assert {split_column_ref(ref) for c in columns for ref in c.references} <= pairs


def test_a_question_links_to_qualified_tables(client: TestClient, admin: dict[str, str], warehouse: str) -> None:
    question = "What are the titles of the concerts of singers from France?"
    response = client.post(f"/databases/{warehouse}/retrieve", json={"question": question}, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {split_column_ref(r["column"])[0] for r in body["ranked"]} <= set(TABLES)
    linked = body["linked"]
    assert {"concert.singer", "concert.concert"} <= set(linked["tables"]) <= set(TABLES)
    assert {(c["table"], c["name"]) for c in linked["columns"]} >= {("concert.singer", "country")}
    joins = {(tuple(j["left"]), tuple(j["right"])) for j in linked["joins"]}
    assert (("concert.concert", "singer_id"), ("concert.singer", "singer_id")) in joins
    assert "'France' is a value of concert.singer.country" in linked["value_hints"]


def test_qualified_sql_passes_the_guard_and_runs_on_the_server(
    container: Container, warehouse: str, canned: CannedModel
) -> None:
    canned.text = sql_reply(
        "SELECT s.name, count(*) FROM concert.singer AS s JOIN concert.concert AS c "
        "ON c.singer_id = s.singer_id GROUP BY s.name ORDER BY s.name"
    )
    answer = container.answering.ask(warehouse, AskRequest(question="How many concerts has each singer given?"))
    assert answer.error is None, answer.error
    assert answer.rows == [["Joe Sharp", 1], ["Justin Brown", 2]]
    assert "concert.singer" in answer.linked_tables
    prompt = canned.prompts[-1]
    assert "CREATE TABLE concert.singer (" in prompt and '"concert.singer"' not in prompt

    canned.text = sql_reply('SELECT sum("Tickets") FROM "Box Office"."Ticket Sales"')
    assert container.answering.ask(warehouse, AskRequest(question="How many tickets were sold?")).rows == [[350]]

    canned.text = sql_reply("SELECT name, salary FROM hr.singer ORDER BY salary")
    assert container.answering.ask(warehouse, AskRequest(question="What is each singer paid?")).rows == [
        ["Alice Payroll", 5000],
        ["Bob Ledger", 7000],
    ]

    # A bare name means the default schema's table only: there is no public.singer, so nothing runs.
    canned.text = sql_reply("SELECT name FROM singer")
    refused = container.answering.ask(warehouse, AskRequest(question="Name every singer."))
    assert refused.rows is None and refused.error is not None and "no such table" in refused.error


def test_a_logged_join_across_qualified_tables_teaches_the_linker(
    client: TestClient, container: Container, admin: dict[str, str], warehouse: str
) -> None:
    line = (
        '{"question": "Concerts of French singers", "sql": "SELECT c.title FROM concert.concert AS c '
        "JOIN concert.singer AS s ON c.singer_id = s.singer_id WHERE s.country = 'France'\"}\n"
    )
    response = client.post(
        f"/databases/{warehouse}/query-logs",
        content=line.encode(),
        headers={**admin, "Content-Type": "application/x-ndjson"},
    )
    job = wait_for_job(client, admin, response.json()["id"])
    assert job["state"] == "succeeded" and job["result"]["ingested"] == 1, job
    related = container.store.read(
        "MATCH (a:Table)-[e:RELATED_TO {source: 'log'}]->(b:Table) WHERE a.database = $db "
        "RETURN a.name AS a, b.name AS b",
        db=warehouse,
    )
    assert [(r["a"], r["b"]) for r in related] == [("concert.concert", "concert.singer")]
    context = container.linking.context(warehouse)
    assert (("concert.concert", "singer_id"), ("concert.singer", "singer_id")) in context.log_joins


def test_a_table_written_without_its_schema_gets_the_one_it_can_mean(
    container: Container, warehouse: str, canned: CannedModel
) -> None:
    """Small models drop the schema the prompt wrote; the repair restores it where only one table can be meant,
    and the server then runs the query."""
    canned.text = sql_reply("SELECT title FROM concert ORDER BY title")  # the only concert is concert.concert
    answer = container.answering.ask(warehouse, AskRequest(question="List the titles of all concerts."))
    assert answer.error is None, answer.error
    assert answer.rows == [["Home Visits"], ["Super bootcamp"], ["Week 1"]]
    assert answer.sql is not None and "FROM concert.concert" in answer.sql
    assert "wrote table concert with its schema: concert.concert" in answer.repairs

    canned.text = sql_reply("SELECT c.title FROM concert AS c JOIN singer AS s ON c.singer_id = s.singer_id")
    joined = container.answering.ask(warehouse, AskRequest(question="Which concerts have a singer?"))
    assert joined.error is None, joined.error  # singer: concert.singer, in the schema the query reads
    assert joined.sql is not None and "JOIN concert.singer AS s" in joined.sql
