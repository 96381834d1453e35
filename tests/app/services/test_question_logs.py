"""The query log as evidence between look-alikes: real SQLite databases, their logs ingested into the real graph
store, the packaged sentence encoder and the real retriever."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from schemakg.app.container import Container
from schemakg.app.evaluation import EvalDatabases
from schemakg.ingest.query_log import LogRecord, QueryLogIngestor
from schemakg.retrieval.linker import FOCUS_MIN_TABLES
from schemakg.retrieval.question_log import MIN_LOGGED

STUDENT = "(stuid INTEGER PRIMARY KEY, lname TEXT, fname TEXT, age INTEGER, sex TEXT, major TEXT, city_code TEXT)"
# Two look-alikes: both hold students; each log holds what its own users ask.
CLINIC_LOG = [
    ("What is the average age of the students?", "SELECT avg(age) FROM {p}student"),
    ("Give the last name of the youngest student.", "SELECT lname FROM {p}student ORDER BY age LIMIT 1"),
    ("Who is the oldest student?", "SELECT fname, lname FROM {p}student ORDER BY age DESC LIMIT 1"),
    ("How many students are younger than 20?", "SELECT count(*) FROM {p}student WHERE age < 20"),
    ("Which students have a food allergy?", "SELECT stuid FROM {p}has_allergy WHERE allergy = 'food'"),
]
DORMS_LOG = [
    ("Which dorm has the most residents?", "SELECT dorm_id FROM {p}lives_in GROUP BY dorm_id ORDER BY count(*) DESC"),
    ("List every dorm's name.", "SELECT dorm_name FROM {p}dorm"),
    ("How many residents does each dorm have?", "SELECT dorm_id, count(*) FROM {p}lives_in GROUP BY dorm_id"),
    ("What are the dorms with a capacity above 300?", "SELECT dorm_name FROM {p}dorm WHERE capacity > 300"),
    ("Which dorms have a gym?", "SELECT dorm_name FROM {p}dorm WHERE has_gym = 1"),
]
QUESTION = "What is the last name of the youngest student?"


def _log(container: Container, name: str, log: list[tuple[str, str]], prefix: str) -> None:
    records = [LogRecord(line=n, question=q, sql=sql.format(p=prefix)) for n, (q, sql) in enumerate(log, start=1)]
    QueryLogIngestor(container.examples, container.catalog, name, "sqlite").ingest(
        iter(records), "log", len(records), lambda *_: None
    )


def _database(directory: Path, db_id: str, script: str) -> None:
    (directory / db_id).mkdir()
    with sqlite3.connect(directory / db_id / f"{db_id}.sqlite") as connection:
        connection.executescript(script)


def test_look_alike_databases_are_routed_by_their_logs_and_an_unlogged_one_keeps_its_place(
    tmp_path: Path, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    _database(
        tmp_path, "clinic", f"CREATE TABLE student {STUDENT}; CREATE TABLE has_allergy (stuid INTEGER, allergy TEXT);"
    )
    _database(
        tmp_path,
        "dorms",
        f"CREATE TABLE student {STUDENT}; CREATE TABLE dorm (dorm_id INTEGER, dorm_name TEXT, capacity INTEGER,"
        " has_gym INTEGER); CREATE TABLE lives_in (stuid INTEGER, dorm_id INTEGER, room_number INTEGER);",
    )
    catalogue = EvalDatabases(container, {}, tmp_path)
    clinic, dorms = catalogue.ensure("clinic"), catalogue.ensure("dorms")
    candidates = [clinic, dorms]

    def first_route() -> tuple[str, list[float | None]]:
        routes = container.linking.route(QUESTION, None, candidates, 2)
        return routes[0].database, [r.log_similarity for r in routes]

    unlogged = first_route()
    assert unlogged[1] == [None, None]
    _log(container, clinic, CLINIC_LOG, "")
    database, similarity = first_route()
    assert database == unlogged[0]  # only one database logged: nothing to reorder it against
    assert similarity[0] is None and similarity[1] is not None  # yet the route says how near its log came
    _log(container, dorms, DORMS_LOG, "")
    database, similarity = first_route()
    assert database == clinic  # its users ask about students' names and ages
    assert similarity[0] is not None and similarity[1] is not None and similarity[0] > similarity[1]
    monkeypatch.setattr(container.settings, "linking_log_weight", 0.0)
    assert first_route() == unlogged  # the log not read: coverage alone, as before, and no similarity
    assert unlogged[0] == dorms  # so the log is what chose the clinic


def test_a_large_schemas_look_alike_subject_areas_are_ordered_by_the_log(tmp_path: Path, container: Container) -> None:
    filler = " ".join(
        f"CREATE TABLE shop{i}__item_{i} (item_id INTEGER PRIMARY KEY, label TEXT, price REAL);"
        for i in range(FOCUS_MIN_TABLES)
    )
    dorms = (
        f"CREATE TABLE dorms__student {STUDENT}; CREATE TABLE dorms__dorm (dorm_id INTEGER PRIMARY KEY, dorm_name TEXT,"
        " capacity INTEGER, has_gym INTEGER); CREATE TABLE dorms__lives_in (stuid INTEGER REFERENCES"
        " dorms__student(stuid), dorm_id INTEGER REFERENCES dorms__dorm(dorm_id), room_number INTEGER);"
    )
    clinic = (
        f"CREATE TABLE clinic__student {STUDENT}; CREATE TABLE clinic__has_allergy (stuid INTEGER REFERENCES"
        " clinic__student(stuid), allergy TEXT);"
    )
    _database(tmp_path, "campus", " ".join((filler, dorms, clinic)))
    name = EvalDatabases(container, {}, tmp_path).ensure("campus")

    def areas() -> list[tuple[str, float | None]]:
        return [(a.name, a.log_similarity) for a in container.linking.link(name, QUESTION).schema_.areas]

    before = areas()
    assert before[0] == ("dorms", None) and ("clinic", None) in before
    _log(container, name, CLINIC_LOG, "clinic__")
    _log(container, name, DORMS_LOG, "dorms__")
    log = container.question_logs.get(name, container.catalog.version(name))
    assert log is not None and len(log.examples) == 2 * MIN_LOGGED
    after = dict(areas())
    assert next(iter(after)) == "clinic"  # the log, not coverage, put it first
    clinic_similarity, dorms_similarity = after["clinic"], after["dorms"]
    assert clinic_similarity is not None and dorms_similarity is not None and clinic_similarity > dorms_similarity
