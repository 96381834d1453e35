"""Every table and column round-trips through ingestion and the API, whatever its name: separators,
quotes, `%`, dots, spaces at either end, unicode, and names that differ only in case where the engine
tells them apart (SQLite for non-ASCII letters, PostgreSQL for all)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import text

from schemakg.app.container import Container
from tests.conftest import count_nodes, wait_for_job
from tests.servers import SOURCE_USER, Server

KELVIN = "\u212a"  # the Kelvin sign, whose lower case is the ASCII k

SQLITE_TABLES: dict[str, list[str]] = {
    "a": ["b/c", "x.y", "100%", " lead", "trail "],
    "a/b": ["c"],
    'we"ird': ['q"uote'],
    "back`tick": ["se;mi"],
    "semi;colon": ["id"],
    "sp ace": ["sp ace"],
    " lead": ["v"],
    "trail ": ["v"],
    "dot.ted": ["dot.ted"],
    "per%cent": ["%", "%2F"],
    "back\\slash": ["\\", "\\/"],
    "q?x#y": ["&=+"],
    "Ünïcode": ["Ä", "ä"],
    "ünïcode": [KELVIN, "k"],
    "émoji 🙂": ["日本語"],
    "..": ["."],
}

POSTGRES_TABLES: dict[str, list[str]] = {
    "Users": ["Name", "name", "NAME"],
    "users": ["id"],
    "a": ["b/c"],
    "a/b": ["c"],
    'we"ird': ["%25", " x "],
    "Émile": ["É", "é"],
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _url(*parts: str) -> str:
    """Each name as one path segment; ``.`` and ``..`` are encoded too, or clients resolve them away."""
    return "/".join(
        quote(part, safe="").replace(".", "%2E") if part in (".", "..") else quote(part, safe="") for part in parts
    )


def _ingest(client: TestClient, admin: dict[str, str], name: str, url: str) -> None:
    registered = client.post("/databases", json={"name": name, "url": url}, headers=admin)
    assert registered.status_code == 201, registered.text
    job = client.post(f"/databases/{name}/ingest", headers=admin).json()
    finished = wait_for_job(client, admin, job["id"], timeout_s=120)
    assert finished["state"] == "succeeded", finished


def _assert_round_trip(
    client: TestClient, container: Container, admin: dict[str, str], db: str, tables: dict[str, list[str]]
) -> None:
    listed = client.get(f"/databases/{db}/tables", params={"limit": 500}, headers=admin).json()
    assert sorted(t["name"] for t in listed["items"]) == sorted(tables)
    for table, columns in tables.items():
        got = client.get(f"/databases/{db}/tables/{_url(table)}", headers=admin)
        assert got.status_code == 200, (table, got.text)
        assert got.json()["name"] == table
        page = client.get(f"/databases/{db}/tables/{_url(table)}/columns", headers=admin).json()
        assert sorted(c["name"] for c in page["items"]) == sorted(columns), table
        for column in columns:
            one = client.get(f"/databases/{db}/tables/{_url(table, 'columns', column)}", headers=admin)
            assert one.status_code == 200, (table, column, one.text)
            assert (one.json()["table"], one.json()["name"]) == (table, column)
    assert count_nodes(container, "Table", db) == len(tables)
    assert count_nodes(container, "Column", db) == sum(len(columns) for columns in tables.values())


def _edit(client: TestClient, admin: dict[str, str], db: str, table: str, column: str, description: str) -> None:
    path = f"/databases/{db}/tables/{_url(table, 'columns', column)}"
    etag = client.get(path, headers=admin).headers["ETag"]
    edited = client.patch(path, json={"description": description}, headers={**admin, "If-Match": etag})
    assert edited.status_code == 200, edited.text
    assert edited.json()["description"] == description
    history = client.get(f"{path}/history", headers=admin).json()
    assert [h["new"] for h in history] == [description]


def test_sqlite_names_round_trip(
    client: TestClient, container: Container, admin: dict[str, str], db_name: str, tmp_path: Path
) -> None:
    source = tmp_path / "awkward.sqlite"
    with sqlite3.connect(source) as conn:
        for table, columns in SQLITE_TABLES.items():
            conn.execute(f"CREATE TABLE {_q(table)} ({', '.join(_q(c) + ' TEXT' for c in columns)})")
            conn.execute(f"INSERT INTO {_q(table)} VALUES ({', '.join('?' for _ in columns)})", columns)
        conn.execute('CREATE TABLE "fk/holder" ("ref" TEXT REFERENCES "A"("B/C"))')  # the DDL's spelling
    tables = {**SQLITE_TABLES, "fk/holder": ["ref"]}
    _ingest(client, admin, db_name, f"sqlite:///{source}")
    _assert_round_trip(client, container, admin, db_name, tables)

    holder = client.get(f"/databases/{db_name}/tables/{_url('fk/holder', 'columns', 'ref')}", headers=admin).json()
    assert holder["references"] == ["a.b/c"]
    _edit(client, admin, db_name, "a", "b/c", "the b over c")
    _edit(client, admin, db_name, "a/b", "c", "the c of a/b")
    _edit(client, admin, db_name, "ünïcode", KELVIN, "kelvin")
    assert client.get(f"/databases/{db_name}/tables/{_url('ünïcode', 'columns', 'k')}", headers=admin).json()[
        "description"
    ] in (None, "")

    # A name in another case finds the one table it can mean, and none where two could be meant.
    assert client.get(f"/databases/{db_name}/tables/A", headers=admin).json()["name"] == "a"
    ambiguous = client.get(f"/databases/{db_name}/tables/{_url('ÜNÏCODE')}", headers=admin)
    assert ambiguous.status_code == 404


def test_postgres_names_that_differ_only_in_case(
    client: TestClient,
    container: Container,
    admin: dict[str, str],
    postgres_server: Server,
    postgres_hr_url: str,  # creates the source role
    db_name: str,
) -> None:
    database = f"awkward_{db_name}".lower()
    with postgres_server.admin_engine("postgres").connect() as conn:
        conn.execute(text(f"CREATE DATABASE {database} OWNER {SOURCE_USER}"))
    engine = postgres_server.admin_engine(database, autocommit=False)
    with engine.begin() as conn:
        for table, columns in POSTGRES_TABLES.items():
            conn.execute(text(f"CREATE TABLE {_q(table)} ({', '.join(_q(c) + ' text' for c in columns)})"))
            conn.execute(text(f"ALTER TABLE {_q(table)} OWNER TO {SOURCE_USER}"))
    engine.dispose()
    _ingest(client, admin, db_name, postgres_server.url(database))
    _assert_round_trip(client, container, admin, db_name, POSTGRES_TABLES)
    _edit(client, admin, db_name, "Users", "Name", "display name")
    assert client.get(f"/databases/{db_name}/tables/users/columns/id", headers=admin).status_code == 200
    assert client.get(f"/databases/{db_name}/tables/USERS", headers=admin).status_code == 404
