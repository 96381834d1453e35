"""The validation warehouse on tiny synthetic Spider databases: names, keys and rewritten SQL must survive the move."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from typing import Any

import pytest

from bench.warehouse import Warehouse, build, check_gold, convert, rewrite, spider_sources

MUSIC = '''
CREATE TABLE singer (id INTEGER PRIMARY KEY, name TEXT, country TEXT);
CREATE TABLE concert (
    id INTEGER PRIMARY KEY, Singer_ID INTEGER, year INTEGER, venue INTEGER,
    FOREIGN KEY (Singer_ID) REFERENCES Singer (ID),
    FOREIGN KEY (venue) REFERENCES venue (id)
);
CREATE TABLE "band ""x"" members" ("he said ""hi""" TEXT);
CREATE TABLE band__member (member_id INTEGER);
INSERT INTO singer VALUES (1, 'Ann', 'France'), (2, 'Bob', 'Peru'), (3, 'Cid', 'France');
INSERT INTO concert VALUES (1, 1, 1999, 7), (2, 1, 2005, 7), (3, 3, 2010, 8);
INSERT INTO "band ""x"" members" VALUES ('yes'), ('no');
INSERT INTO band__member VALUES (1);
'''
BAND = """
CREATE TABLE member (id INTEGER PRIMARY KEY, singer INTEGER REFERENCES singer);
CREATE TABLE singer (id INTEGER PRIMARY KEY, name TEXT, country TEXT);
INSERT INTO singer VALUES (1, 'Dee', 'France');
INSERT INTO member VALUES (1, 1), (2, 1);
"""


def _entry(db_id: str, tables: dict[str, list[str]]) -> dict[str, Any]:
    names = list(tables)
    columns = [[-1, "*"]] + [[t, c] for t, name in enumerate(names) for c in tables[name]]
    return {
        "db_id": db_id,
        "table_names_original": names,
        "table_names": [n.replace("_", " ") for n in names],
        "column_names_original": columns,
        "column_names": [[t, c.lower().replace("_", " ")] for t, c in columns],
        "column_types": ["text"] * len(columns),
        "primary_keys": [1],
        "foreign_keys": [],
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    root = tmp_path_factory.mktemp("spider-train")
    for db_id, script in (("music", MUSIC), ("music__band", BAND)):
        (root / "database" / db_id).mkdir(parents=True)
        with closing(sqlite3.connect(root / "database" / db_id / f"{db_id}.sqlite")) as connection:
            connection.executescript(script)
    (root / "tables.json").write_text(
        json.dumps(
            [
                _entry("music", {"singer": ["id", "name", "country"], "concert": ["id", "singer_id", "year"]}),
                _entry("music__band", {"member": ["id", "singer"], "singer": ["id", "name", "country"]}),
                _entry("radio", {"singer": ["id", "name", "country", "station"]}),  # no SQLite file: empty tables
            ]
        )
    )
    return build(spider_sources(root), tmp_path_factory.mktemp("out"))


def test_tables_are_renamed_per_database_and_collisions_suffixed(warehouse: Warehouse) -> None:
    entry = json.loads((warehouse.path.parents[1] / "tables.json").read_text())[0]
    assert entry["db_id"] == "warehouse"
    assert entry["table_names_original"] == [
        "music__singer",
        "music__concert",
        'music__band "x" members',
        "music__band__member",
        "music__band__member_2",
        "music__band__singer",
        "radio__singer",
    ]
    assert warehouse.collisions == ["spider:music__band member -> music__band__member_2"]
    assert entry["table_names"][0] == "singer" and entry["table_names"][2] == 'band "x" members'  # label, else name
    assert [1, "singer id"] in entry["column_names"]  # tables.json's label for the real column Singer_ID
    with closing(sqlite3.connect(warehouse.path)) as connection:
        assert connection.execute('SELECT "he said ""hi""" FROM "music__band ""x"" members"').fetchall() == [
            ("yes",),
            ("no",),
        ]
        assert connection.execute('SELECT count(*) FROM "music__band__member_2"').fetchone() == (2,)
        assert connection.execute('SELECT count(*) FROM "radio__singer"').fetchone() == (0,)


def test_foreign_keys_point_at_renamed_tables_and_unresolvable_ones_are_dropped(warehouse: Warehouse) -> None:
    entry = warehouse.entry
    columns = entry["column_names_original"]
    tables = entry["table_names_original"]
    pairs = {
        (tables[columns[a][0]], columns[a][1], tables[columns[b][0]], columns[b][1]) for a, b in entry["foreign_keys"]
    }
    assert pairs == {
        ("music__concert", "Singer_ID", "music__singer", "id"),
        ("music__band__member_2", "singer", "music__band__singer", "id"),  # no column named: the parent's key
    }
    assert warehouse.sources["spider:music"].dropped_foreign_keys == ["spider:music concert(venue) -> venue(id)"]
    with closing(sqlite3.connect(warehouse.path)) as connection:
        declared = connection.execute('PRAGMA foreign_key_list("music__concert")').fetchall()
        assert [(row[2], row[3], row[4]) for row in declared] == [("music__singer", "Singer_ID", "id")]
        assert connection.execute('PRAGMA table_info("music__singer")').fetchall()[0][5] == 1  # primary key kept


def test_rewrite_keeps_aliases_and_qualified_columns() -> None:
    renamed, columns = {"singer": "music__singer", "concert": "music__concert"}, {"id", "name", "country", "singer_id"}
    assert rewrite("SELECT singer.name FROM singer", renamed, columns) == (
        'SELECT singer.name FROM "music__singer" AS singer'
    )
    assert rewrite("SELECT T1.name FROM Singer AS T1 JOIN concert ON T1.id = concert.singer_id", renamed, columns) == (
        'SELECT T1.name FROM "music__singer" AS T1 JOIN "music__concert" AS concert ON T1.id = concert.singer_id'
    )
    assert rewrite("WITH singer AS (SELECT 1 AS x) SELECT x FROM singer", renamed, columns) == (
        "WITH singer AS (SELECT 1 AS x) SELECT x FROM singer"
    )
    # SQLite reads "France" as a string: another database in the warehouse may well have a column France.
    assert rewrite('SELECT "name" FROM singer WHERE country = "France"', renamed, columns) == (
        """SELECT "name" FROM "music__singer" AS singer WHERE country = 'France'"""
    )


def test_rewritten_questions_return_the_same_rows(warehouse: Warehouse) -> None:
    rows = [
        ("music", 'SELECT singer.name FROM singer WHERE country = "France"'),
        (
            "music",
            "SELECT T1.name, count(*) FROM singer AS T1 JOIN concert AS T2 ON T1.id = T2.singer_id "
            "GROUP BY T1.name ORDER BY count(*) DESC",
        ),
        ("music", "SELECT name FROM singer WHERE id IN (SELECT singer_id FROM concert WHERE concert.year > 2000)"),
        ("music", 'SELECT "he said ""hi""" FROM "band ""x"" members" ORDER BY 1'),
        ("music__band", "SELECT count(*) FROM member JOIN singer ON member.singer = singer.id"),
        ("music", "SELECT * FROM venue"),  # no such table: dropped
        ("radio", "SELECT station FROM singer"),  # no rows to compare: EXPLAIN only
    ]
    questions = convert(
        [("spider", {"db_id": db, "question": f"q{i}", "query": sql}) for i, (db, sql) in enumerate(rows)], warehouse
    )

    assert (questions.executed_equal, questions.explained) == (5, 1)
    assert questions.dropped == {"rewrite fails to parse or names an unknown table": 1}
    assert [q["source_db"] for q in questions.warehouse] == ["music"] * 4 + ["music__band", "radio"]
    assert [q["query"] for q in questions.own] == [sql for db, sql in rows if "venue" not in sql]
    assert questions.warehouse[4]["query"] == (
        'SELECT COUNT(*) FROM "music__band__member_2" AS member '
        'JOIN "music__band__singer" AS singer ON member.singer = singer.id'
    )

    check = check_gold(questions, warehouse)
    assert (check.empty, check.agreeing, check.foreign) == (0, 6, 0)
    assert check.ambiguity[0] == {
        "index": 0,
        "source_db": "spider:music",
        "ambiguous": True,
        "also_in": ["spider:music__band", "spider:radio"],
    }
    assert [a["ambiguous"] for a in check.ambiguity[1:]] == [False, False, False, False, False]
