"""The validation warehouse on tiny synthetic Spider databases, and its PostgreSQL copy: names, keys, rows and
rewritten SQL must survive the move."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import psycopg.sql
import pytest
from sqlalchemy import text

from bench.warehouse import (
    PG_KEYWORDS,
    Column,
    PgCopy,
    SourceDb,
    SourceTable,
    Warehouse,
    build,
    build_postgres,
    check_gold,
    check_postgres,
    convert,
    pg_identifier,
    pg_name,
    pg_source,
    pg_type,
    rewrite,
    spider_sources,
    write_postgres,
)
from tests.servers import Server

MUSIC = '''
CREATE TABLE singer (id INTEGER PRIMARY KEY, name TEXT, country TEXT);
CREATE TABLE concert (
    id INTEGER PRIMARY KEY, Singer_ID INTEGER, year INTEGER, venue INTEGER,
    FOREIGN KEY (Singer_ID) REFERENCES Singer (ID),
    FOREIGN KEY (venue) REFERENCES venue (id)
);
CREATE TABLE "band ""x"" members" ("he said ""hi""" TEXT);
CREATE TABLE band__member (member_id INTEGER);
CREATE TABLE ticket (id INTEGER PRIMARY KEY, concert_year INTEGER REFERENCES concert (year), price NUMERIC);
INSERT INTO singer VALUES (1, 'Ann', 'France'), (2, 'Bob', 'Peru'), (3, 'Cid', 'France');
INSERT INTO concert VALUES (1, 1, 1999, 7), (2, 1, 2005, 7), (3, 3, 2010, 8);
INSERT INTO "band ""x"" members" VALUES ('yes'), ('no');
INSERT INTO band__member VALUES (1);
INSERT INTO ticket VALUES (1, 1999, 10), (2, 2005, 'free'), (3, 1990, 2.5);
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
        "music__ticket",
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
        ("music__ticket", "concert_year", "music__concert", "year"),
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


@pytest.mark.parametrize(
    ("declared", "classes", "expected"),
    [
        ("INTEGER", {"integer", "null"}, "bigint"),
        ("NUMERIC", {"integer", "real"}, "double precision"),
        ("INT", {"integer", "text"}, "text"),  # a number column holding 'N/A': every row still loads
        ("", {"blob"}, "bytea"),
        ("VARCHAR(20)", {"null"}, "text"),
        ("INTEGER", set(), "bigint"),  # no values: the declared type decides
        ("REAL", set(), "double precision"),
        ("DATETIME", set(), "text"),
        ("BOOLEAN", set(), "boolean"),
        ("DECIMAL(10,2)", set(), "numeric"),
        ("", set(), "text"),
    ],
)
def test_postgres_types_follow_the_rows_then_the_declared_type(declared: str, classes: set[str], expected: str) -> None:
    assert pg_type(declared, classes) == expected


def test_postgres_names_are_lower_case_and_cut_to_63_bytes() -> None:
    assert pg_name("Singer_ID") == "singer_id"
    assert pg_name("é" * 40) == "é" * 31  # 62 bytes: the next character does not fit whole
    source = SourceDb("spider", "x", [SourceTable("A" * 70, "a", [Column("B" * 64, "", "text", "b")], [])])
    moved = pg_source(source).tables[0]
    assert (moved.name, moved.columns[0].name) == ("a" * 63, "b" * 63)
    assert pg_identifier("order").quoted and pg_identifier("Ab").quoted and not pg_identifier("year").quoted


@pytest.fixture(scope="module")
def postgres_copy(warehouse: Warehouse, postgres_server: Server) -> tuple[PgCopy, str]:
    """The tiny warehouse copied into a fresh database of the suite's throwaway PostgreSQL server."""
    with postgres_server.admin_engine("postgres").connect() as connection:
        connection.execute(text("CREATE DATABASE bench_warehouse"))
    url = postgres_server.admin_url.rsplit("/", 1)[0] + "/bench_warehouse"
    return build_postgres(warehouse, url), url


def test_postgres_copy_has_a_schema_per_database_with_its_tables_rows_and_keys(
    warehouse: Warehouse, postgres_copy: tuple[PgCopy, str]
) -> None:
    copy, url = postgres_copy
    assert copy.schemas == {
        "spider:music": "spider_music",
        "spider:music__band": "spider_music__band",
        "spider:radio": "spider_radio",
    }
    with psycopg.connect(url) as pg, closing(sqlite3.connect(warehouse.path)) as sqlite:
        tables = pg.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema LIKE 'spider%' "
            "ORDER BY 1, 2"
        ).fetchall()
        assert tables == [
            ("spider_music", 'band "x" members'),
            ("spider_music", "band__member"),
            ("spider_music", "concert"),
            ("spider_music", "singer"),
            ("spider_music", "ticket"),
            ("spider_music__band", "member"),
            ("spider_music__band", "singer"),
            ("spider_radio", "singer"),
        ]
        for key, db in warehouse.sources.items():
            for table, moved in zip(db.tables, copy.sources[key].tables, strict=True):
                renamed = warehouse.renamed[key][table.name.lower()]
                rows = sqlite.execute(f'SELECT count(*) FROM "{renamed.replace(chr(34), chr(34) * 2)}"').fetchone()
                qualified = psycopg.sql.Identifier(copy.schemas[key], moved.name)
                assert pg.execute(psycopg.sql.SQL("SELECT count(*) FROM {}").format(qualified)).fetchone() == rows
        assert copy.tables == 8 and copy.rows == 15
        assert pg.execute('SELECT "he said ""hi""" FROM spider_music."band ""x"" members"').fetchall() == [
            ("yes",),
            ("no",),
        ]
        types = pg.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'spider_music' AND table_name IN ('concert', 'ticket') ORDER BY 1, ordinal_position"
        ).fetchall()
        assert types == [
            ("concert", "id", "bigint"),
            ("concert", "singer_id", "bigint"),  # Singer_ID: names are lower-case
            ("concert", "year", "bigint"),
            ("concert", "venue", "bigint"),
            ("ticket", "id", "bigint"),
            ("ticket", "concert_year", "bigint"),
            ("ticket", "price", "text"),  # 10, 'free', 2.5: text holds them all
        ]
        assert pg.execute("SELECT price FROM spider_music.ticket ORDER BY id").fetchall() == [
            ("10",),
            ("free",),
            ("2.5",),
        ]
        assert copy.text_columns == ["spider_music.ticket.price (integer, real, text)"]
        keys = pg.execute(
            "SELECT conrelid::regclass::text, contype, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
            "WHERE connamespace::regnamespace::text LIKE 'spider%' AND contype <> 'p' ORDER BY 1, 3"
        ).fetchall()
    assert keys == [
        ("spider_music.concert", "f", "FOREIGN KEY (singer_id) REFERENCES spider_music.singer(id)", True),
        ("spider_music.concert", "u", "UNIQUE (year)", True),  # the ticket's foreign key needs a key there
        (
            "spider_music.ticket",
            "f",
            "FOREIGN KEY (concert_year) REFERENCES spider_music.concert(year) NOT VALID",
            False,
        ),
        ("spider_music__band.member", "f", "FOREIGN KEY (singer) REFERENCES spider_music__band.singer(id)", True),
    ]
    assert (copy.primary_keys, copy.foreign_keys, copy.skipped) == (6, 2, [])
    assert copy.not_valid == ["spider_music.ticket(concert_year) -> concert(year)"]  # 1990 has no concert
    assert copy.unique_keys == ["spider_music.concert(year)"]
    assert copy.sources["spider:music"].tables[4].foreign_keys  # kept, so tables_pg.json lists it


def test_questions_rewritten_for_postgres_return_the_sqlite_rows_or_are_listed(
    warehouse: Warehouse, postgres_copy: tuple[PgCopy, str], tmp_path: Path
) -> None:
    copy, url = postgres_copy
    rows = [
        ("music", 'SELECT singer.name FROM singer WHERE country = "France"'),
        (
            "music",
            "SELECT T1.Name, count(*) FROM Singer AS T1 JOIN concert AS T2 ON T1.id = T2.Singer_ID "
            "GROUP BY T1.name ORDER BY count(*) DESC",
        ),
        ("music", 'SELECT "he said ""hi""" FROM "band ""x"" members" ORDER BY 1'),
        ("music__band", "SELECT count(*) FROM member JOIN singer ON member.singer = singer.id"),
        ("music", "SELECT name FROM singer WHERE name LIKE 'a%'"),  # SQLite's LIKE ignores case
        ("music", "SELECT count(*) FROM ticket WHERE price > 5"),  # text against a number
        ("radio", "SELECT station FROM singer"),  # no rows: EXPLAIN
        ("radio", "SELECT id + 1 FROM singer"),  # id is text here
    ]
    questions = convert(
        [("spider", {"db_id": db, "question": f"q{i}", "query": sql}) for i, (db, sql) in enumerate(rows)], warehouse
    )
    assert len(questions.warehouse) == len(rows)
    checked = check_postgres(questions, warehouse, copy, url)

    checks = [q["postgres_check"] for q in checked.rows]
    assert checks[:5] == ["equal", "equal", "equal", "equal", "different rows"]
    assert checks[5].startswith("error: UndefinedFunction: operator does not exist: text > integer")
    assert checks[6] == "EXPLAIN passes" and checks[7].startswith("EXPLAIN fails: UndefinedFunction")
    assert (checked.equal, checked.executed, checked.explained, checked.explain_tried) == (4, 6, 1, 2)
    assert checked.failures == {
        "different rows": 1,
        "error: UndefinedFunction": 1,
        "EXPLAIN fails: UndefinedFunction": 1,
    }
    assert [q["question"] for q in checked.rows] == [q["question"] for q in questions.warehouse]
    joined = checked.rows[1]["query"]
    assert joined == (
        "SELECT t1.name, COUNT(*) FROM spider_music.singer AS t1 JOIN spider_music.concert AS t2 "
        "ON t1.id = t2.singer_id GROUP BY t1.name ORDER BY COUNT(*) DESC NULLS LAST"
    )
    assert checked.rows[2]["query"] == (
        'SELECT "he said ""hi""" FROM spider_music."band ""x"" members" AS "band ""x"" members" ORDER BY 1 NULLS FIRST'
    )
    with psycopg.connect(url) as pg, closing(sqlite3.connect(warehouse.path)) as sqlite:
        assert pg.execute(joined).fetchall() == sqlite.execute(questions.warehouse[1]["query"]).fetchall()
        assert pg.execute(joined).fetchall() == [("Ann", 2), ("Cid", 1)]

    write_postgres(tmp_path, copy, checked)
    assert len(json.loads((tmp_path / "questions_pg.json").read_text())) == len(rows)
    assert (tmp_path / "differing_pg.txt").read_text().count("spider:") == 3
    entry = json.loads((tmp_path / "tables_pg.json").read_text())[0]
    assert entry["table_names_original"][:2] == ["spider_music.singer", "spider_music.concert"]
    assert "spider_music__band.member" in entry["table_names_original"]
    names = entry["table_names_original"]
    columns = entry["column_names_original"]
    pairs = {
        (names[columns[a][0]], columns[a][1], names[columns[b][0]], columns[b][1]) for a, b in entry["foreign_keys"]
    }
    assert ("spider_music.concert", "singer_id", "spider_music.singer", "id") in pairs


def test_quoted_keywords_cover_the_servers(postgres_copy: tuple[PgCopy, str]) -> None:
    with psycopg.connect(postgres_copy[1]) as pg:
        words = {word for (word,) in pg.execute("SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'")}
    assert words <= PG_KEYWORDS
