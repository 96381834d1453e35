"""Retrieval and linking through the API on a real ingested database (real MiniLM towers)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from schemakg.retrieval.routing import DECIDED
from tests.conftest import small_warehouse, wait_for_job


def test_retrieve_links_gold_columns_values_and_joins(
    client: TestClient, admin: dict[str, str], db_name: str, sample_copy: Path
) -> None:
    assert (
        client.post("/databases", json={"name": db_name, "url": f"sqlite:///{sample_copy}"}, headers=admin).status_code
        == 201
    )
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"

    question = "What are the first names of employees in the Finance department?"
    response = client.post(f"/databases/{db_name}/retrieve", json={"question": question}, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    ranked = [r["column"] for r in body["ranked"]]
    assert ranked[:3] and all("." in c for c in ranked)
    linked = body["linked"]
    columns = {f"{c['table']}.{c['name']}".lower() for c in linked["columns"]}
    gold = {
        "employees.first_name",
        "departments.department_name",
        "employees.department_id",
        "departments.department_id",
    }
    assert gold <= columns, columns
    assert {"employees", "departments"} <= set(linked["tables"])
    assert "employees.DEPARTMENT_ID = departments.DEPARTMENT_ID" in [
        f"{j['left'][0]}.{j['left'][1]} = {j['right'][0]}.{j['right'][1]}" for j in linked["joins"]
    ]
    assert "'Finance' is a value of departments.DEPARTMENT_NAME" in linked["value_hints"]

    # A steward's description reaches the retriever's index on the next request.
    client.patch(
        f"/databases/{db_name}/tables/jobs/columns/MAX_SALARY",
        json={"description": "the pay ceiling of the job"},
        headers=admin,
    )
    after = client.post(
        f"/databases/{db_name}/retrieve", json={"question": "what is the pay ceiling of each job?"}, headers=admin
    ).json()
    assert "jobs.MAX_SALARY" in after["selected"]

    bad = client.post(f"/databases/{db_name}/retrieve", json={"question": "x", "mode": "sideways"}, headers=admin)
    assert bad.status_code == 422
    assert client.post("/databases/nope/retrieve", json={"question": "x"}, headers=admin).status_code == 404


def test_a_warehouse_question_is_linked_within_its_subject_area_and_says_which(
    client: TestClient, admin: dict[str, str], db_name: str, tmp_path: Path
) -> None:
    warehouse = small_warehouse(tmp_path / "warehouse.sqlite")  # focused: two areas among fillers
    assert (
        client.post("/databases", json={"name": db_name, "url": f"sqlite:///{warehouse}"}, headers=admin).status_code
        == 201
    )
    job = client.post(f"/databases/{db_name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"], timeout_s=120)["state"] == "succeeded"

    question = "Which concerts did the singers from France give?"
    body = client.post(f"/databases/{db_name}/retrieve", json={"question": question}, headers=admin).json()
    linked = body["linked"]
    assert {"music__singer", "music__concert"} <= set(linked["tables"])
    music = linked["areas"][0]
    assert music["name"] == "music" and set(music["tables"]) == {"music__singer", "music__concert"}
    assert all(area["coverage"] <= music["coverage"] for area in linked["areas"])
    assert {t for area in linked["areas"] for t in area["tables"]} >= {s.split(".")[0] for s in body["selected"]}

    # A small database is linked whole, so it names no area.
    small = tmp_path / "small.sqlite"
    with sqlite3.connect(small) as connection:
        connection.execute("CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT)")
    other = f"{db_name}_small"
    assert (
        client.post("/databases", json={"name": other, "url": f"sqlite:///{small}"}, headers=admin).status_code == 201
    )
    job = client.post(f"/databases/{other}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    body = client.post(f"/databases/{other}/retrieve", json={"question": question}, headers=admin).json()
    assert body["linked"]["areas"] == [] and body["linked"]["tables"] == ["singer"]


def test_a_question_without_a_database_is_routed_to_the_one_that_holds_its_tables(
    client: TestClient, admin: dict[str, str], db_name: str, sample_copy: Path, tmp_path: Path
) -> None:
    concerts = tmp_path / "concerts.sqlite"
    with sqlite3.connect(concerts) as connection:
        connection.executescript(
            "CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INTEGER);"
            "CREATE TABLE concert (concert_id INTEGER PRIMARY KEY, concert_name TEXT, year INTEGER,"
            " singer_id INTEGER REFERENCES singer(singer_id));"
            "INSERT INTO singer VALUES (1, 'Joe Sharp', 'Netherlands', 52);"
        )
    names = {"hr": f"{db_name}_hr", "music": f"{db_name}_music"}
    for name, path in ((names["hr"], sample_copy), (names["music"], concerts)):
        registered = client.post("/databases", json={"name": name, "url": f"sqlite:///{path}"}, headers=admin)
        assert registered.status_code == 201
        job = client.post(f"/databases/{name}/ingest", headers=admin).json()
        assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    candidates = sorted(names.values())

    for question, expected, table in (
        ("What are the names and countries of singers older than 40?", names["music"], "singer"),
        ("What is the salary of each employee in the Finance department?", names["hr"], "employees"),
    ):
        response = client.post("/retrieve", json={"question": question, "databases": candidates}, headers=admin)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["database"] == expected
        assert body["routes"][0]["database"] == expected
        first, second = body["routes"]  # by the area reranker's final score, or by coverage where that decided
        if first["rerank_score"] is None:
            assert second["rerank_score"] is None and first["score"] >= second["score"] + DECIDED
        else:
            assert first["rerank_score"] >= second["rerank_score"]
        assert first["decided"] is (first["rerank_score"] is None) and second["decided"] is False
        assert table in [t["table"] for t in body["routes"][0]["tables"]]  # the reason: its best tables
        assert body["linked"]["database"] == expected and table in body["linked"]["tables"]

    # Ingested again with a new table: routing sees it at once, not the index from before (nothing else linked it).
    with sqlite3.connect(concerts) as connection:
        connection.execute("CREATE TABLE album (album_id INTEGER PRIMARY KEY, album_title TEXT, release_year INTEGER)")
    job = client.post(f"/databases/{names['music']}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    question = {"question": "List the titles of albums released after 2000.", "databases": candidates}
    body = client.post("/retrieve", json=question, headers=admin).json()
    assert body["database"] == names["music"] and body["routes"][0]["tables"][0]["table"] == "album"

    unknown = client.post("/retrieve", json={"question": "x", "databases": [candidates[0], "nope"]}, headers=admin)
    assert unknown.status_code == 404 and "nope" in unknown.text
    assert client.post("/retrieve", json={"question": ""}, headers=admin).status_code == 422
    for path in ("/retrieve", "/ask"):  # a blank question is refused before any work, as an empty one is
        blank = client.post(path, json={"question": " \n\t"}, headers=admin)
        assert blank.status_code == 422 and "question" in blank.text and "the question is blank" in blank.text
    assert client.post("/retrieve", json={"question": "x", "routes": 0}, headers=admin).status_code == 422


def _singer_databases(
    client: TestClient, admin: dict[str, str], tmp_path: Path, singers: dict[str, list[str]]
) -> list[str]:
    """One registered, ingested SQLite database per name, all of one schema, holding these singers (none: empty)."""
    for name, names in singers.items():
        path = tmp_path / f"{name}.sqlite"
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INT)")
            connection.executemany(
                "INSERT INTO singer (name, country, age) VALUES (?, ?, ?)", [(n, "France", 40) for n in names]
            )
        assert (
            client.post("/databases", json={"name": name, "url": f"sqlite:///{path}"}, headers=admin).status_code == 201
        )
        job = client.post(f"/databases/{name}/ingest", headers=admin).json()
        assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    return sorted(singers)


def test_look_alike_databases_are_told_apart_by_a_value_the_question_quotes(
    client: TestClient, admin: dict[str, str], db_name: str, tmp_path: Path
) -> None:
    """Two databases of one schema: coverage cannot choose; the singer the question names lives in one of them."""
    names = {singer: f"{db_name}_{key}" for key, singer in (("a", "Joe Sharp"), ("b", "Rose White"))}
    held = {name: [singer, "Ann Bell"] for singer, name in names.items()}
    candidates = _singer_databases(client, admin, tmp_path, held)

    for singer, name in names.items():
        question = {"question": f"How old is the singer '{singer}'?", "databases": candidates}
        body = client.post("/retrieve", json=question, headers=admin).json()
        first, second = body["routes"]
        assert body["database"] == first["database"] == name
        assert first["values"] == [f"'{singer}' is a value of singer.name"] and second["values"] == []
        assert first["lacks"] is None
        assert second["lacks"] == f"none of {singer.lower()!r} is among its sampled values (-0.15)"
        assert first["decided"] and first["score"] >= second["score"] + DECIDED  # the value's share: 0.1

    # A value both hold decides nothing (its share is split): both routes say why, neither leads by much.
    body = client.post("/retrieve", json={"question": "How old is 'Ann Bell'?", "databases": candidates}, headers=admin)
    first, second = body.json()["routes"]
    assert first["score"] < second["score"] + DECIDED and not first["decided"]
    assert first["values"] == second["values"] == ["'Ann Bell' is a value of singer.name"]


def test_a_database_whose_full_value_lists_lack_the_named_value_yields_to_one_never_sampled(
    client: TestClient, admin: dict[str, str], db_name: str, tmp_path: Path
) -> None:
    """As Spider's empty ``imdb`` against ``movie_1``: every name the small database holds was sampled, and the
    singer the question names is not among them, so the database with no rows to sample may be the one."""
    full, empty = f"{db_name}_full", f"{db_name}_empty"
    candidates = _singer_databases(client, admin, tmp_path, {full: ["Joe Sharp", "Ann Bell"], empty: []})
    ask = {"question": "How old is the singer 'Rose White'?", "databases": candidates}
    first, second = client.post("/retrieve", json=ask, headers=admin).json()["routes"]
    assert (first["database"], second["database"]) == (empty, full)
    assert first["values"] == second["values"] == [] and first["lacks"] is None  # never sampled: not judged
    assert second["lacks"] == "none of 'rose white' is among its sampled values (-0.15)"
    # The whole absence weight (0.15: both of its text columns were sampled in full), over a coverage gap of 0.02.
    assert first["score"] - second["score"] > 0.1

    named = {"question": "How old is the singer 'Ann Bell'?", "databases": candidates}
    assert client.post("/retrieve", json=named, headers=admin).json()["database"] == full  # it holds her


def test_the_serving_retriever_is_named_and_can_be_switched(client: TestClient, admin: dict[str, str]) -> None:
    """A fresh install serves the shipped adapter; an admin can go to the zero-shot model and back."""
    from schemakg.retrieval.artifacts import ZERO_SHOT_VERSION, shipped_version

    info = client.get("/retriever", headers=admin).json()
    assert info["version"] == shipped_version() and info["origin"] == "shipped"
    assert info["validation"]["spider-train"]["column_recall"] > 0.9 and 0 < info["adapter_bytes"] <= 5 * 2**20
    try:
        job = client.post("/retriever/activate", json={"version": ZERO_SHOT_VERSION}, headers=admin).json()
        assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
        assert client.get("/retriever", headers=admin).json()["origin"] == "zero-shot"
    finally:
        job = client.post("/retriever/activate", json={"version": shipped_version()}, headers=admin).json()
        assert wait_for_job(client, admin, job["id"])["state"] == "succeeded"
    assert client.get("/retriever", headers=admin).json()["version"] == shipped_version()
    missing = client.post("/retriever/activate", json={"version": "v-none"}, headers=admin)
    assert missing.status_code == 404 and "v-none" in missing.json()["error"]["message"]
