"""Build the validation warehouse: many databases side by side in one big undocumented SQLite database.

The product must link questions against one large schema nobody documented; the warehouse is that
setting, made only from training data. Every Spider training database (schema and rows read from its
SQLite file, or empty tables from ``tables.json`` where the file is missing) and every BIRD training
schema (empty tables: BIRD ships no rows here) become tables named ``<db>__<table>`` in one file, with
their keys, foreign keys re-pointed to the renamed tables, and no descriptions. The questions are the
by-database validation split's (``bench/validation_split.py``: the databases the retriever never
trained on), their SQL rewritten to the warehouse's names with sqlglot; each renamed table keeps the
name it was written with as its alias, so qualified columns still resolve. Spider rewrites are checked
by running both queries (original on its own database), BIRD's by ``EXPLAIN`` on the warehouse.

    .venv/bin/python bench/warehouse.py --out bench/out/warehouse [--data ../shared/data] [--corpora spider,bird]
    .venv/bin/schemakg eval linking --tables bench/out/warehouse/tables.json \\
        --questions bench/out/warehouse/questions.json --db-dir bench/out/warehouse

OUT also gets ``questions_own.json`` (the same questions on their own databases, same order; with
``tables_own.json`` and ``--db-dir ../shared/data/spider-train/database``) and ``ambiguity.json`` (per
question, the other databases whose same-named tables hold every column its SQL uses: such a
question cannot tell its database apart).

``--postgres URL`` (an owner's URL of an existing, empty PostgreSQL database) also copies the warehouse there,
one schema per source database, as real warehouses have them:

    .venv/bin/python bench/warehouse.py --out bench/out/warehouse --postgres postgresql://me:pw@host:5432/warehouse

Each schema is ``<corpus>_<db_id>`` lower-cased, other characters ``_``, at most 63 bytes, ``_2`` on a clash
(``spider_concert_singer``, ``bird_movie_platform``); one of that name already there is replaced. Tables and
columns keep their source names, lower-cased (SQLite's are case-insensitive, so none clash). Types follow the
rows, so that every row loads (``pg_type``): only integers ``bigint``, integers and reals ``double precision``,
only blobs ``bytea``, text or any mix with text ``text`` (a number column holding ``'N/A'`` is text: counted);
a column without values takes its declared type (dates and times ``text``, as SQLite keeps them). Rows are
copied from the warehouse file with COPY; NUL characters, which PostgreSQL text cannot hold, are dropped
(counted). Then primary keys and the foreign keys within each schema: referenced columns without a key get a
UNIQUE constraint where their rows allow, a foreign key the rows violate is added ``NOT VALID``, and any key
the server still refuses (duplicates, columns of different types) is skipped; all counted and listed.
OUT then also gets ``questions_pg.json`` (questions.json's questions in the same order, their SQL rewritten
from the original in PostgreSQL's dialect: ``FROM spider_concert_singer.singer AS singer``, names lower-case,
each with ``postgres_check``), ``tables_pg.json`` (the copy as the catalogue names it, ``schema.table``, with
the keys the server holds) and ``differing_pg.txt``. Spider questions run on PostgreSQL and must return the
SQLite warehouse's rows (``results_match``; equal rows ordered otherwise among ORDER BY ties are told apart);
BIRD's must pass ``EXPLAIN``; each under a 30 s ``statement_timeout``. SQLite-isms (LIKE ignoring case, bare
columns beside GROUP BY, text compared or summed as numbers, SQLite-only functions) and the sources' own type
clashes fail there: they are counted and listed in ``differing_pg.txt``, not patched.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import sqlglot
from psycopg import sql as pgsql
from sqlglot import exp
from sqlglot.errors import SqlglotError
from tqdm import tqdm

from schemakg.kernel.sql.links import SchemaNames, SqlParseError, quoted_non_columns_to_literals, sql_links
from schemakg.kernel.sql.names import qualified_name
from schemakg.kernel.sql.results import orders_result, results_match

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
QUERY_TIMEOUT_S = 30.0
# Spider's coarse column type of a declared SQLite type: the first marker it contains (SQLite's affinity order).
_KINDS = (
    ("INT", "number"),
    ("CHAR", "text"),
    ("CLOB", "text"),
    ("TEXT", "text"),
    ("BOOL", "boolean"),
    ("DATE", "time"),
    ("TIME", "time"),
    ("REAL", "number"),
    ("FLOA", "number"),
    ("DOUB", "number"),
    ("NUM", "number"),
    ("DEC", "number"),
)
# Declared types for tables.json's coarse types (BIRD's tables.json already gives real ones).
_DECLARED = {"number": "NUMERIC", "boolean": "BOOLEAN", "time": "DATETIME", "text": "TEXT", "others": ""}


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_only(path: Path) -> str:
    """A SQLite URI that opens ``path`` read-only (connections and ``ATTACH`` are opened with ``uri=True``)."""
    return f"{path.resolve().as_uri()}?mode=ro"


def spider_type(declared: str) -> str:
    upper = declared.upper()
    return next((kind for marker, kind in _KINDS if marker in upper), "others" if upper else "text")


@dataclass(frozen=True)
class Column:
    name: str
    declared: str
    kind: str  # Spider's column type
    label: str
    not_null: bool = False


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    references: tuple[str, ...]


@dataclass
class SourceTable:
    name: str
    label: str
    columns: list[Column]
    primary_key: list[str]
    foreign_keys: list[ForeignKey] = field(default_factory=list)


@dataclass
class SourceDb:
    """One source database as the warehouse takes it: real names and keys, tables.json's labels, rows if any."""

    corpus: str
    db_id: str
    tables: list[SourceTable]
    rows: Path | None = None
    dropped_foreign_keys: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.corpus}:{self.db_id}"

    @property
    def column_names(self) -> set[str]:
        """Every column name, lower-case."""
        return {c.name.lower() for t in self.tables for c in t.columns}


def _labels(raw: dict[str, Any]) -> tuple[dict[str, str], dict[tuple[str, str], tuple[str, str]]]:
    """tables.json's table labels by lower-case name, and (label, type) by lower-case (table, column)."""
    names = raw["table_names_original"]
    tables = {n.lower(): label for n, label in zip(names, raw.get("table_names") or names, strict=True)}
    columns = {
        (names[t].lower(), name.lower()): (label, kind)
        for (t, name), (_, label), kind in zip(
            raw["column_names_original"],
            raw.get("column_names") or raw["column_names_original"],
            raw["column_types"],
            strict=True,
        )
        if t >= 0
    }
    return tables, columns


def _resolve(db: SourceDb, declared: Mapping[str, list[ForeignKey]]) -> None:
    """Keep the foreign keys whose table and columns exist (case-insensitively), in their real spelling."""
    tables = {t.name.lower(): t for t in db.tables}
    for table in db.tables:
        own = {c.name.lower(): c.name for c in table.columns}
        for key in declared.get(table.name, []):
            parent = tables.get(key.table.lower())
            references = key.references if parent is None or any(key.references) else tuple(parent.primary_key)
            theirs = {c.name.lower(): c.name for c in parent.columns} if parent is not None else {}
            if (
                parent is None
                or len(references) != len(key.columns)
                or not all(c.lower() in own for c in key.columns)
                or not all(c.lower() in theirs for c in references)
            ):
                db.dropped_foreign_keys.append(
                    f"{db.key} {table.name}({', '.join(key.columns)}) -> {key.table}({', '.join(references)})"
                )
                continue
            table.foreign_keys.append(
                ForeignKey(
                    tuple(own[c.lower()] for c in key.columns),
                    parent.name,
                    tuple(theirs[c.lower()] for c in references),
                )
            )


def from_sqlite(corpus: str, db_id: str, path: Path, raw: dict[str, Any]) -> SourceDb:
    """The real schema of a SQLite file (``PRAGMA``), labelled from its tables.json entry where names match."""
    table_labels, column_labels = _labels(raw)
    db = SourceDb(corpus, db_id, [], path)
    declared: dict[str, list[ForeignKey]] = {}
    with closing(sqlite3.connect(read_only(path), uri=True)) as connection:
        names = [
            n
            for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
            if not n.lower().startswith("sqlite_")
        ]
        for name in names:
            info = connection.execute(f"PRAGMA table_info({quoted(name)})").fetchall()
            columns = []
            for _, column, declared_type, not_null, _, _ in info:
                label, kind = column_labels.get((name.lower(), column.lower()), (column, spider_type(declared_type)))
                columns.append(Column(column, declared_type, kind, label, bool(not_null)))
            primary = [column for _, column, *_, pk in sorted(info, key=lambda r: r[5]) if pk]
            db.tables.append(SourceTable(name, table_labels.get(name.lower(), name), columns, primary))
            grouped: dict[int, list[tuple[str, str, str | None]]] = defaultdict(list)
            for key_id, _, parent, child, parent_column, *_ in connection.execute(
                f"PRAGMA foreign_key_list({quoted(name)})"
            ):
                grouped[key_id].append((parent, child, parent_column))
            declared[name] = [
                ForeignKey(tuple(c for _, c, _ in pairs), pairs[0][0], tuple(p for _, _, p in pairs if p is not None))
                for _, pairs in sorted(grouped.items())
            ]
    _resolve(db, declared)
    return db


def from_tables_json(corpus: str, raw: dict[str, Any]) -> SourceDb:
    """Empty tables from a tables.json entry (SQLite's own ``sqlite_*`` tables left out)."""
    names = raw["table_names_original"]
    columns = raw["column_names_original"]
    labels = raw.get("column_names") or columns
    primary = {i for key in raw["primary_keys"] for i in (key if isinstance(key, list) else [key])}
    tables = {
        t: SourceTable(name, (raw.get("table_names") or names)[t], [], [])
        for t, name in enumerate(names)
        if not name.lower().startswith("sqlite_")
    }
    for i, ((t, name), (_, label), kind) in enumerate(zip(columns, labels, raw["column_types"], strict=True)):
        if t in tables:
            tables[t].columns.append(Column(name, _DECLARED.get(kind, kind.upper()), kind, label))
            if i in primary:
                tables[t].primary_key.append(name)
    db = SourceDb(corpus, raw["db_id"], list(tables.values()))
    declared: dict[str, list[ForeignKey]] = defaultdict(list)
    for child, parent in raw["foreign_keys"]:
        declared[names[columns[child][0]]].append(
            ForeignKey((columns[child][1],), names[columns[parent][0]], (columns[parent][1],))
        )
    _resolve(db, declared)
    return db


def spider_sources(root: Path) -> list[SourceDb]:
    """Spider-format databases under ``root``: ``tables.json``, rows from ``database/<db>/<db>.sqlite``."""
    sources = []
    for raw in sorted(json.loads((root / "tables.json").read_text()), key=lambda r: r["db_id"]):
        path = root / "database" / raw["db_id"] / f"{raw['db_id']}.sqlite"
        db = from_sqlite("spider", raw["db_id"], path, raw) if path.exists() else from_tables_json("spider", raw)
        sources.append(db)
    return sources


def bird_sources(root: Path) -> list[SourceDb]:
    return [
        from_tables_json("bird", raw)
        for raw in sorted(json.loads((root / "train_tables.json").read_text()), key=lambda r: r["db_id"])
    ]


def empty_entry(db_id: str) -> dict[str, Any]:
    return {
        "db_id": db_id,
        "table_names_original": [],
        "table_names": [],
        "column_names_original": [[-1, "*"]],
        "column_names": [[-1, "*"]],
        "column_types": ["text"],
        "primary_keys": [],
        "foreign_keys": [],
    }


def describe(entry: dict[str, Any], db: SourceDb, renamed: Mapping[str, str]) -> None:
    """Append ``db``'s tables (under their ``renamed`` names), columns and keys to a Spider-format entry."""
    column_at: dict[tuple[str, str], int] = {}
    for table in db.tables:
        position = len(entry["table_names_original"])
        entry["table_names_original"].append(renamed[table.name.lower()])
        entry["table_names"].append(table.label)
        for column in table.columns:
            column_at[(table.name, column.name)] = len(entry["column_names_original"])
            entry["column_names_original"].append([position, column.name])
            entry["column_names"].append([position, column.label])
            entry["column_types"].append(column.kind)
    for table in db.tables:
        key = [column_at[(table.name, c)] for c in table.primary_key]
        if key:
            entry["primary_keys"].append(key[0] if len(key) == 1 else key)
        for fk in table.foreign_keys:
            entry["foreign_keys"] += [
                [column_at[(table.name, c)], column_at[(fk.table, r)]]
                for c, r in zip(fk.columns, fk.references, strict=True)
            ]


class Warehouse:
    """The warehouse file and its Spider-format ``tables.json`` entry, filled one source database at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entry = empty_entry("warehouse")
        self.renamed: dict[str, dict[str, str]] = {}  # source key -> lower-case table -> warehouse table
        self.origin: dict[str, tuple[str, str]] = {}  # warehouse table -> (source key, table)
        self.sources: dict[str, SourceDb] = {}
        self.collisions: list[str] = []
        self.copy_errors: list[str] = []
        self._taken: set[str] = set()

    def _name(self, db: SourceDb, table: str) -> str:
        """``<db>__<table>``; a name another source already took (case-insensitively) gets ``_2``, ``_3``..."""
        base = name = f"{db.db_id}__{table}"
        suffix = 1
        while name.lower() in self._taken:
            suffix += 1
            name = f"{base}_{suffix}"
        if name != base:
            self.collisions.append(f"{db.key} {table} -> {name}")
        self._taken.add(name.lower())
        return name

    def add(self, connection: sqlite3.Connection, db: SourceDb) -> None:
        renamed = {t.name.lower(): self._name(db, t.name) for t in db.tables}
        self.renamed[db.key] = renamed
        self.sources[db.key] = db
        for table in db.tables:
            self.origin[renamed[table.name.lower()]] = (db.key, table.name)
            connection.execute(create_table(renamed[table.name.lower()], table, renamed))
        if db.rows is not None:
            connection.execute("ATTACH DATABASE ? AS src", (read_only(db.rows),))
            try:
                for table in db.tables:
                    new = renamed[table.name.lower()]
                    try:
                        connection.execute(f"INSERT INTO main.{quoted(new)} SELECT * FROM src.{quoted(table.name)}")
                    except sqlite3.Error as exc:
                        self.copy_errors.append(f"{new}: {exc}")
                connection.commit()
            finally:
                connection.execute("DETACH DATABASE src")
        describe(self.entry, db, renamed)


def create_table(name: str, table: SourceTable, renamed: Mapping[str, str]) -> str:
    parts = [f"{quoted(c.name)} {c.declared}".rstrip() + (" NOT NULL" if c.not_null else "") for c in table.columns]
    if table.primary_key:
        parts.append(f"PRIMARY KEY ({', '.join(map(quoted, table.primary_key))})")
    parts += [
        f"FOREIGN KEY ({', '.join(map(quoted, fk.columns))}) "
        f"REFERENCES {quoted(renamed[fk.table.lower()])} ({', '.join(map(quoted, fk.references))})"
        for fk in table.foreign_keys
    ]
    return f"CREATE TABLE {quoted(name)} (\n  " + ",\n  ".join(parts) + "\n)"


def build(sources: Sequence[SourceDb], out: Path) -> Warehouse:
    """``OUT/warehouse/warehouse.sqlite`` and ``OUT/tables.json`` from scratch (built aside, then moved in)."""
    folder = out / "warehouse"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    building = folder / "warehouse.sqlite.building"
    warehouse = Warehouse(folder / "warehouse.sqlite")
    with closing(sqlite3.connect(building.resolve().as_uri(), uri=True)) as connection:
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        for db in tqdm(sources, desc="source databases", unit="db", leave=False):
            warehouse.add(connection, db)
    building.replace(warehouse.path)
    (out / "tables.json").write_text(json.dumps([warehouse.entry], indent=1))
    return warehouse


class UnknownTableError(ValueError):
    """The SQL names a table its source database does not have."""


def _retargeted(
    sql: str, tables: Mapping[str, str], columns: Collection[str], place: Callable[[exp.Table, str], None]
) -> exp.Expression:
    """``sql``'s tree with each source table renamed by ``place(table, new name)``; an unaliased table takes
    the name it was written with as its alias, so qualified columns still resolve. CTE names are left alone.
    A double-quoted token that names none of the source's ``columns`` (lower-case) is the string SQLite
    reads it as ("USA"), written as one: in the warehouse another database may have a column of that name."""
    statements = [s for s in sqlglot.parse(sql, read="sqlite") if s is not None]
    if len(statements) != 1:
        raise SqlglotError(f"expected one statement, found {len(statements)}")
    tree: exp.Expression = quoted_non_columns_to_literals(statements[0], set(columns))
    ctes = {cte.alias.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or table.name.lower() in ctes:
            continue
        new = tables.get(table.name.lower())
        if new is None:
            raise UnknownTableError(table.name)
        if not table.alias:
            table.set("alias", exp.TableAlias(this=table.this.copy()))
        place(table, new)
    return tree


def rewrite(sql: str, tables: Mapping[str, str], columns: Collection[str]) -> str:
    """``sql`` over the warehouse; ``tables`` maps a source table's lower-case name to its warehouse name."""

    def place(table: exp.Table, new: str) -> None:
        table.set("this", exp.to_identifier(new, quoted=True))
        table.set("db", None)

    return _retargeted(sql, tables, columns, place).sql(dialect="sqlite")


@contextmanager
def _deadline(connection: sqlite3.Connection, seconds: float) -> Iterator[None]:
    stop = time.monotonic() + seconds
    connection.set_progress_handler(lambda: int(time.monotonic() > stop), 10_000)
    try:
        yield
    finally:
        connection.set_progress_handler(None, 0)


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(read_only(path), uri=True)
    connection.text_factory = lambda raw: raw.decode(errors="replace")  # a few Spider cells are not UTF-8
    return connection


def _rows(connection: sqlite3.Connection, sql: str) -> list[tuple[Any, ...]]:
    with _deadline(connection, QUERY_TIMEOUT_S):
        return connection.execute(sql).fetchall()


def sql_of(row: Mapping[str, Any]) -> str:
    return str(row.get("query") or row.get("SQL") or "")


@dataclass
class Questions:
    """The questions that survived rewriting and checking, in both spellings, and why the others did not."""

    warehouse: list[dict[str, Any]] = field(default_factory=list)
    own: list[dict[str, Any]] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    executed_equal: int = 0
    explained: int = 0
    differing: list[str] = field(default_factory=list)


def convert(rows: Sequence[tuple[str, dict[str, Any]]], warehouse: Warehouse) -> Questions:
    """Rewrite each ``(corpus, row)`` to the warehouse and check it: same result as the original on its own
    database where that has rows, else a successful ``EXPLAIN`` on the warehouse."""
    result = Questions()
    sources: dict[str, sqlite3.Connection] = {}
    with closing(_connect(warehouse.path)) as target:
        for corpus, row in tqdm(rows, desc="questions", unit="q", leave=False):
            key, sql = f"{corpus}:{row['db_id']}", sql_of(row)
            if key not in warehouse.renamed:
                result.dropped["its database is not in the warehouse"] += 1
                continue
            db = warehouse.sources[key]
            try:
                query = rewrite(sql, warehouse.renamed[key], db.column_names)
            except (SqlglotError, UnknownTableError):
                result.dropped["rewrite fails to parse or names an unknown table"] += 1
                continue
            if db.rows is None:
                try:
                    target.execute(f"EXPLAIN {query}")
                except sqlite3.Error:
                    result.dropped["rewrite fails EXPLAIN"] += 1
                    continue
                result.explained += 1
            else:
                if key not in sources:
                    sources[key] = _connect(db.rows)
                try:
                    gold = _rows(sources[key], sql)
                except sqlite3.Error:
                    result.dropped["original SQL fails on its own database"] += 1
                    continue
                try:
                    same = results_match(_rows(target, query), gold, orders_result(sql))
                except sqlite3.Error as exc:
                    same, reason = False, f"error: {exc}"
                else:
                    reason = "different rows"
                if not same:
                    result.dropped["rewrite returns other rows"] += 1
                    result.differing.append(f"{key} ({reason})\n  {sql}\n  {query}")
                    continue
                result.executed_equal += 1
            extra = {"evidence": row.get("evidence", "")} if corpus == "bird" else {}
            own = {"db_id": row["db_id"], "question": row["question"], "query": sql, **extra, "corpus": corpus}
            result.own.append(own)
            result.warehouse.append({**own, "db_id": "warehouse", "query": query, "source_db": row["db_id"]})
    for connection in sources.values():
        connection.close()
    return result


def names_of(entry: Mapping[str, Any]) -> SchemaNames:
    """A tables.json entry's names as ``schemakg eval``'s gold resolver sees them."""
    tables = entry["table_names_original"]
    by_table: dict[str, list[str]] = {t: [] for t in tables}
    for t, name in entry["column_names_original"]:
        if t >= 0:
            by_table[tables[t]].append(name)
    return SchemaNames(by_table)


def _links(sql: str, names: SchemaNames) -> tuple[set[str], set[tuple[str, str]]]:
    try:
        links = sql_links(sql, names, "sqlite")
    except SqlParseError:
        return set(), set()
    return set(links.tables), set(links.columns)


@dataclass
class GoldCheck:
    empty: int = 0  # questions whose warehouse gold links are empty
    agreeing: int = 0  # warehouse gold links == own-database gold links, renamed
    foreign: int = 0  # warehouse gold links that name a table or column of another source database
    ambiguity: list[dict[str, Any]] = field(default_factory=list)


def check_gold(questions: Questions, warehouse: Warehouse) -> GoldCheck:
    """Gold links through the evaluation's resolver on the warehouse, compared with those on each question's own
    database; and, per question, the other databases whose same-named tables hold every column it uses."""
    check = GoldCheck()
    names = names_of(warehouse.entry)
    own_names = {
        key: SchemaNames({t.name: [c.name for c in t.columns] for t in db.tables})
        for key, db in warehouse.sources.items()
    }
    holders: dict[str, list[tuple[str, set[str]]]] = defaultdict(list)  # lower table -> (source key, lower columns)
    for key, db in warehouse.sources.items():
        for table in db.tables:
            holders[table.name.lower()].append((key, {c.name.lower() for c in table.columns}))
    for index, (moved, row) in enumerate(
        tqdm(list(zip(questions.warehouse, questions.own, strict=True)), desc="gold links", leave=False)
    ):
        key = f"{row['corpus']}:{row['db_id']}"
        tables, columns = _links(moved["query"], names)
        own_tables, own_columns = _links(row["query"], own_names[key])
        renamed = warehouse.renamed[key]
        check.empty += not tables
        check.foreign += any(warehouse.origin[t][0] != key for t in tables | {t for t, _ in columns})
        check.agreeing += (tables, columns) == (
            {renamed[t.lower()] for t in own_tables},
            {(renamed[t.lower()], c) for t, c in own_columns},
        )
        used: dict[str, set[str]] = {t.lower(): set() for t in own_tables}
        for t, c in own_columns:
            used.setdefault(t.lower(), set()).add(c.lower())
        candidates = [{k for k, cols in holders.get(t, []) if need <= cols} for t, need in used.items()]
        also = sorted(set.intersection(*candidates) - {key}) if candidates else []
        check.ambiguity.append({"index": index, "source_db": key, "ambiguous": bool(also), "also_in": also})
    return check


def write_questions(out: Path, questions: Questions, check: GoldCheck, warehouse: Warehouse) -> None:
    (out / "questions.json").write_text(json.dumps(questions.warehouse, indent=1))
    (out / "questions_own.json").write_text(json.dumps(questions.own, indent=1))
    (out / "ambiguity.json").write_text(json.dumps(check.ambiguity, indent=1))
    (out / "differing.txt").write_text("\n".join(questions.differing) + ("\n" if questions.differing else ""))
    used = {f"{q['corpus']}:{q['db_id']}" for q in questions.own}
    (out / "tables_own.json").write_text(
        json.dumps([_own_entry(warehouse.sources[key]) for key in sorted(used)], indent=1)
    )


def _own_entry(db: SourceDb) -> dict[str, Any]:
    """A source database's tables.json entry with its real names: the ``questions_own.json`` baseline."""
    entry = empty_entry(db.db_id)
    describe(entry, db, {t.name.lower(): t.name for t in db.tables})
    return entry


# The PostgreSQL copy (``--postgres``): one schema per source database.

PG_NAME_BYTES = 63  # PostgreSQL cuts longer names to this many bytes
# PostgreSQL keywords that cannot stand bare as a table, column or alias name (``pg_get_keywords()`` categories
# R, T and C, PostgreSQL 13 to 17): the rewritten SQL double-quotes them.
_KEYWORD_LIST = """
    all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean both case
    cast char character check coalesce collate collation column concurrently constraint create cross
    current_catalog current_date current_role current_schema current_time current_timestamp current_user dec
    decimal default deferrable desc distinct do else end except exists extract false fetch float for foreign
    freeze from full grant greatest group grouping having ilike in initially inner inout int integer intersect
    interval into is isnull join json json_array json_arrayagg json_exists json_object json_objectagg json_query
    json_scalar json_serialize json_table json_value lateral leading least left like limit localtime
    localtimestamp merge_action national natural nchar none normalize not notnull null nullif numeric offset on
    only or order out outer overlaps overlay placing position precision primary real references returning right
    row select session_user setof similar smallint some substring symmetric system_user table tablesample then
    time timestamp to trailing treat trim true union unique user using values varchar variadic verbose when where
    window with xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot
    xmlserialize xmltable
"""
PG_KEYWORDS = frozenset(_KEYWORD_LIST.split())
_PLAIN_PG_NAME = re.compile(r"[a-z_][a-z0-9_$]*")
_PG_BY_AFFINITY = {"integer": "bigint", "text": "text", "blob": "bytea", "real": "double precision"}


def pg_name(name: str) -> str:
    """A name as the PostgreSQL copy spells it: lower-case (SQLite's names are case-insensitive, so no two of one
    table or database collide), cut to 63 bytes as the server would cut it."""
    return name.lower().encode()[:PG_NAME_BYTES].decode(errors="ignore")


def pg_identifier(name: str) -> exp.Identifier:
    """``name`` as a PostgreSQL identifier, double-quoted only where a bare one would not read back the same."""
    return exp.Identifier(this=name, quoted=not _PLAIN_PG_NAME.fullmatch(name) or name in PG_KEYWORDS)


def _unique(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... (kept within 63 bytes) where ``taken`` has it; taken from then on."""
    name, suffix = base, 1
    while name in taken:
        suffix += 1
        tail = f"_{suffix}"
        name = base.encode()[: PG_NAME_BYTES - len(tail)].decode(errors="ignore") + tail
    taken.add(name)
    return name


def sqlite_affinity(declared: str) -> str:
    """SQLite's column affinity of a declared type (its rules, in their order)."""
    upper = declared.upper()
    if "INT" in upper:
        return "integer"
    if any(marker in upper for marker in ("CHAR", "CLOB", "TEXT")):
        return "text"
    if "BLOB" in upper or not upper:
        return "blob"
    if any(marker in upper for marker in ("REAL", "FLOA", "DOUB")):
        return "real"
    return "numeric"


def pg_type(declared: str, classes: Collection[str]) -> str:
    """A column's PostgreSQL type. Where it holds values, their SQLite storage classes decide, so that every row
    loads: only integers ``bigint``, integers and reals ``double precision`` (SQLite's REAL is a double), only
    blobs ``bytea``, only text or any mix with text or blobs ``text``. A column without values takes its declared
    type by SQLite's affinity (``bigint``, ``double precision``, ``text``, ``bytea``, else ``numeric``), but a
    date or time stays ``text`` (SQLite keeps them as strings, and the questions compare and cut them as
    strings), a ``BOOL`` is ``boolean`` and an undeclared one is ``text``."""
    present = set(classes) - {"null"}
    if present == {"integer"}:
        return "bigint"
    if present and present <= {"integer", "real"}:
        return "double precision"
    if present == {"blob"}:
        return "bytea"
    if present:
        return "text"
    upper = declared.upper()
    if not upper:
        return "text"
    affinity = sqlite_affinity(upper)
    if affinity != "numeric":
        return _PG_BY_AFFINITY[affinity]
    if "DATE" in upper or "TIME" in upper:
        return "text"
    return "boolean" if "BOOL" in upper else "numeric"


def storage_classes(connection: sqlite3.Connection, table: str, columns: Sequence[str]) -> list[set[str]]:
    """The SQLite storage classes (``integer``, ``real``, ``text``, ``blob``, ``null``) each column holds."""
    parts = ", ".join(f"group_concat(DISTINCT typeof({quoted(c)}))" for c in columns)
    row = connection.execute(f"SELECT {parts} FROM {quoted(table)}").fetchone()
    return [set(value.split(",")) if value else set() for value in row]


def pg_source(db: SourceDb) -> SourceDb:
    """``db`` in the PostgreSQL copy's names (:func:`pg_name`; a clash after the 63-byte cut gets ``_2``), same
    table order; the columns' declared types are the source's until :func:`build_postgres` sets them."""
    taken: set[str] = set()
    tables = {t.name.lower(): _unique(pg_name(t.name), taken) for t in db.tables}
    columns: dict[str, dict[str, str]] = {}
    for table in db.tables:
        own: set[str] = set()
        columns[table.name.lower()] = {c.name.lower(): _unique(pg_name(c.name), own) for c in table.columns}
    moved = []
    for table in db.tables:
        names = columns[table.name.lower()]
        moved.append(
            SourceTable(
                tables[table.name.lower()],
                table.label,
                [replace(c, name=names[c.name.lower()]) for c in table.columns],
                [names[c.lower()] for c in table.primary_key],
                [
                    ForeignKey(
                        tuple(names[c.lower()] for c in fk.columns),
                        tables[fk.table.lower()],
                        tuple(columns[fk.table.lower()][c.lower()] for c in fk.references),
                    )
                    for fk in table.foreign_keys
                ],
            )
        )
    return SourceDb(db.corpus, db.db_id, moved, db.rows)


@dataclass
class PgCopy:
    """What :func:`build_postgres` made: a schema and a renamed :class:`SourceDb` per source database (its
    columns' declared types are the PostgreSQL ones; keys only those the server holds), and its counts."""

    schemas: dict[str, str] = field(default_factory=dict)  # source key -> schema
    sources: dict[str, SourceDb] = field(default_factory=dict)  # source key -> its tables in PostgreSQL
    tables: int = 0
    rows: int = 0
    text_columns: list[str] = field(default_factory=list)  # numbers mixed with text or blobs: text
    nul_cells: int = 0  # text cells whose NUL characters were dropped (PostgreSQL text cannot hold them)
    primary_keys: int = 0
    foreign_keys: int = 0  # validated
    unique_keys: list[str] = field(default_factory=list)  # added because a foreign key references those columns
    not_valid: list[str] = field(default_factory=list)  # foreign keys the rows violate: added NOT VALID
    skipped: list[str] = field(default_factory=list)  # keys the server refused, with its reason

    def tables_of(self, key: str, db: SourceDb) -> dict[str, str]:
        """Source ``db``'s lower-case table names -> their PostgreSQL names."""
        return {t.name.lower(): p.name for t, p in zip(db.tables, self.sources[key].tables, strict=True)}


def postgres_url(url: str) -> str:
    """A libpq URL from a SQLAlchemy one (``postgresql+psycopg://`` -> ``postgresql://``)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


def _to_text(value: Any, copy: PgCopy) -> str | None:
    if value is None:
        return None
    text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    if "\x00" in text:
        copy.nul_cells += 1
        text = text.replace("\x00", "")
    return text


def _load(
    pg: psycopg.Connection, rows: sqlite3.Connection, db: SourceDb, source_tables: Mapping[str, str], copy: PgCopy
) -> None:
    """Schema, tables and rows of one source database (a schema of that name is replaced), in one transaction;
    ``source_tables`` names each table (by lower-case name) as ``rows`` holds it."""
    schema, moved = copy.schemas[db.key], copy.sources[db.key]
    with pg.transaction():
        pg.execute(pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(pgsql.Identifier(schema)))
        pg.execute(pgsql.SQL("CREATE SCHEMA {}").format(pgsql.Identifier(schema)))
        for table, target in zip(db.tables, moved.tables, strict=True):
            source = source_tables[table.name.lower()]
            names = [c.name for c in table.columns]
            classes = storage_classes(rows, source, names) if db.rows is not None else [set() for _ in names]
            target.columns = [
                replace(c, declared=pg_type(c.declared, k)) for c, k in zip(target.columns, classes, strict=True)
            ]
            for column, kinds in zip(target.columns, classes, strict=True):
                if column.declared == "text" and kinds & {"integer", "real"}:
                    copy.text_columns.append(f"{schema}.{target.name}.{column.name} ({', '.join(sorted(kinds))})")
            name = pgsql.Identifier(schema, target.name)
            pg.execute(
                pgsql.SQL("CREATE TABLE {} ({})").format(
                    name,
                    pgsql.SQL(", ").join(
                        pgsql.SQL("{} {}{}").format(
                            pgsql.Identifier(c.name),
                            pgsql.SQL(c.declared),  # one of pg_type's literals
                            pgsql.SQL(" NOT NULL" if c.not_null else ""),
                        )
                        for c in target.columns
                    ),
                )
            )
            copy.tables += 1
            if db.rows is None:
                continue
            as_text = [c.declared == "text" for c in target.columns]
            listed = pgsql.SQL(", ").join(pgsql.Identifier(c.name) for c in target.columns)
            with pg.cursor() as cursor, cursor.copy(pgsql.SQL("COPY {} ({}) FROM STDIN").format(name, listed)) as out:
                for row in rows.execute(f"SELECT {', '.join(map(quoted, names))} FROM {quoted(source)}"):
                    out.write_row([_to_text(v, copy) if t else v for t, v in zip(as_text, row, strict=True)])
                    copy.rows += 1


def _attempt(pg: psycopg.Connection, *statements: pgsql.Composable) -> psycopg.Error | None:
    """Run ``statements`` in a savepoint: None, or the server's error (and nothing of them kept)."""
    try:
        with pg.transaction():
            for statement in statements:
                pg.execute(statement)
    except psycopg.Error as exc:
        return exc
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        return f"{type(exc).__name__}: {exc.diag.message_primary}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _add_keys(pg: psycopg.Connection, schema: str, db: SourceDb, copy: PgCopy) -> None:
    """Primary keys, then foreign keys within the schema. A foreign key whose referenced columns have no key
    gets a UNIQUE constraint on them where their rows allow; one the rows violate is added NOT VALID; any other
    the server refuses (a key over duplicates, columns of different types) is skipped. All counted in ``copy``."""

    def columns(names: Sequence[str]) -> pgsql.Composable:
        return pgsql.SQL(", ").join(map(pgsql.Identifier, names))

    with pg.transaction():
        for table in db.tables:
            if not table.primary_key:
                continue
            name = pgsql.Identifier(schema, table.name)
            add = pgsql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(name, columns(table.primary_key))
            if (error := _attempt(pg, add)) is None:
                copy.primary_keys += 1
            else:
                copy.skipped.append(
                    f"{schema}.{table.name} primary key ({', '.join(table.primary_key)}): {_reason(error)}"
                )
                table.primary_key = []
        for table in db.tables:
            kept = []
            for fk in table.foreign_keys:
                described = f"{schema}.{table.name}({', '.join(fk.columns)}) -> {fk.table}({', '.join(fk.references)})"
                parent = pgsql.Identifier(schema, fk.table)
                add = pgsql.SQL("ALTER TABLE {} ADD FOREIGN KEY ({}) REFERENCES {} ({})").format(
                    pgsql.Identifier(schema, table.name), columns(fk.columns), parent, columns(fk.references)
                )
                unique = pgsql.SQL("ALTER TABLE {} ADD UNIQUE ({})").format(parent, columns(fk.references))
                not_valid = pgsql.SQL("{} NOT VALID").format(add)
                keyed: list[pgsql.Composable] = []
                error = _attempt(pg, add)
                if isinstance(error, psycopg.errors.InvalidForeignKey):  # no key on the referenced columns
                    keyed = [unique]
                    error = _attempt(pg, unique, add)
                if isinstance(error, psycopg.errors.ForeignKeyViolation):
                    error = _attempt(pg, *keyed, not_valid)
                    if error is None:
                        copy.not_valid.append(described)
                elif error is None:
                    copy.foreign_keys += 1
                if error is not None:
                    copy.skipped.append(f"{described}: {_reason(error)}")
                    continue
                if keyed:
                    copy.unique_keys.append(f"{schema}.{fk.table}({', '.join(fk.references)})")
                kept.append(fk)
            table.foreign_keys = kept


def build_postgres(warehouse: Warehouse, url: str) -> PgCopy:
    """Copy every source database of ``warehouse`` into the PostgreSQL database at ``url`` (a role that may create
    schemas there), one schema each named ``<corpus>_<db_id>``, rows from the warehouse file through COPY."""
    copy = PgCopy()
    taken: set[str] = set()
    for key, db in warehouse.sources.items():
        base = re.sub(r"[^a-z0-9_]+", "_", f"{db.corpus}_{db.db_id}".lower())
        copy.schemas[key] = _unique(base.encode()[:PG_NAME_BYTES].decode(errors="ignore"), taken)
        copy.sources[key] = pg_source(db)
    with closing(_connect(warehouse.path)) as rows, psycopg.connect(postgres_url(url), autocommit=True) as pg:
        for db in tqdm(warehouse.sources.values(), desc="PostgreSQL tables and rows", unit="db", leave=False):
            _load(pg, rows, db, warehouse.renamed[db.key], copy)
        for key in tqdm(warehouse.sources, desc="PostgreSQL keys", unit="db", leave=False):
            _add_keys(pg, copy.schemas[key], copy.sources[key], copy)
        pg.execute("ANALYZE")
    return copy


def rewrite_postgres(sql: str, schema: str, tables: Mapping[str, str], columns: Collection[str]) -> str:
    """``sql`` (SQLite) over the PostgreSQL copy, in PostgreSQL's dialect: tables qualified with their schema
    (``spider_concert_singer.singer``), aliased as :func:`rewrite` aliases them, every name lower-case as the
    copy has it and quoted only where it must be; sqlglot transpiles the rest."""

    def place(table: exp.Table, new: str) -> None:
        table.set("this", exp.to_identifier(new))
        table.set("db", exp.to_identifier(schema))
        table.set("catalog", None)

    tree = _retargeted(sql, tables, columns, place)
    for ident in list(tree.find_all(exp.Identifier)):
        ident.replace(pg_identifier(pg_name(ident.name)))
    return tree.sql(dialect="postgres")


@dataclass
class PgQuestions:
    """``questions.json``'s questions rewritten for the PostgreSQL copy, each with its check's outcome."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    equal: int = 0  # Spider: same rows as the SQLite warehouse
    executed: int = 0
    explained: int = 0  # BIRD (no rows): EXPLAIN passes
    explain_tried: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # why the others did not, by kind
    differing: list[str] = field(default_factory=list)


def _pg_rows(pg: psycopg.Connection, query: str) -> list[tuple[Any, ...]]:
    """The rows, numerics as floats (as SQLite returns them) for :func:`results_match`."""
    fetched = pg.execute(query.encode()).fetchall()
    return [tuple(float(v) if isinstance(v, Decimal) else v for v in row) for row in fetched]


def check_postgres(questions: Questions, warehouse: Warehouse, copy: PgCopy, url: str) -> PgQuestions:
    """Rewrite each kept question for the PostgreSQL copy and check it there: Spider's by running it and comparing
    with the SQLite warehouse's result, BIRD's by ``EXPLAIN``; each statement under ``statement_timeout``."""
    result = PgQuestions()
    timeout = f"SET statement_timeout = {int(QUERY_TIMEOUT_S * 1000)}"
    pairs = list(zip(questions.warehouse, questions.own, strict=True))
    with closing(_connect(warehouse.path)) as sqlite, psycopg.connect(postgres_url(url), autocommit=True) as pg:
        pg.execute(timeout.encode())
        for moved, own in tqdm(pairs, desc="questions on PostgreSQL", unit="q", leave=False):
            key = f"{own['corpus']}:{own['db_id']}"
            db = warehouse.sources[key]
            try:
                query = rewrite_postgres(own["query"], copy.schemas[key], copy.tables_of(key, db), db.column_names)
            except (SqlglotError, UnknownTableError) as exc:
                query, check, kind = "", f"rewrite fails: {exc}", f"rewrite fails: {type(exc).__name__}"
            else:
                if db.rows is None:
                    result.explain_tried += 1
                    try:
                        pg.execute(f"EXPLAIN {query}".encode())
                    except psycopg.Error as exc:
                        check, kind = f"EXPLAIN fails: {_reason(exc)}", f"EXPLAIN fails: {type(exc).__name__}"
                    else:
                        check = kind = "EXPLAIN passes"
                        result.explained += 1
                else:
                    result.executed += 1
                    try:
                        got, gold = _pg_rows(pg, query), _rows(sqlite, moved["query"])
                    except (psycopg.Error, sqlite3.Error) as exc:
                        check, kind = f"error: {_reason(exc)}", f"error: {type(exc).__name__}"
                    else:
                        ordered = orders_result(own["query"])
                        if results_match(got, gold, ordered):
                            check = kind = "equal"
                            result.equal += 1
                        elif ordered and results_match(got, gold, False):
                            check = kind = "same rows in another order (ORDER BY ties)"
                        else:
                            check = kind = "different rows"
            if kind not in ("equal", "EXPLAIN passes"):
                result.failures[kind] += 1
                result.differing.append(f"{key} ({check})\n  {moved['query']}\n  {query}")
            result.rows.append({**moved, "query": query, "postgres_check": check})
    return result


def write_postgres(out: Path, copy: PgCopy, checked: PgQuestions) -> None:
    """``questions_pg.json`` (questions.json's questions in the same order, with ``postgres_check``),
    ``tables_pg.json`` (the copy as the catalogue names it: ``schema.table``, keys the server holds) and
    ``differing_pg.txt`` (every question whose check failed, SQLite and PostgreSQL SQL)."""
    (out / "questions_pg.json").write_text(json.dumps(checked.rows, indent=1))
    (out / "differing_pg.txt").write_text("\n".join(checked.differing) + ("\n" if checked.differing else ""))
    entry = empty_entry("warehouse")
    for key, db in copy.sources.items():
        describe(entry, db, {t.name: qualified_name(copy.schemas[key], t.name, "public") for t in db.tables})
    (out / "tables_pg.json").write_text(json.dumps([entry], indent=1))


CORPORA: dict[str, Callable[[Path], list[SourceDb]]] = {
    "spider": lambda data: spider_sources(data / "spider-train"),
    "bird": lambda data: bird_sources(data / "bird-train"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path("bench/out/warehouse"))
    parser.add_argument("--corpora", default="spider,bird", help="comma-separated: spider, bird")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also copy the warehouse into this PostgreSQL database, one schema per source database",
    )
    args = parser.parse_args()
    corpora = [c.strip() for c in args.corpora.split(",") if c.strip()]
    if unknown := set(corpora) - set(CORPORA):
        parser.error(f"unknown corpora {sorted(unknown)}; known: {sorted(CORPORA)}")
    # The split is drawn over all three training sets, so each must be there whichever corpora are built.
    if missing := [n for n in ("spider-train", "bird-train", "spider-syn-train") if not (args.data / n).is_dir()]:
        print(f"skipped: no {', '.join(missing)} under {args.data}")
        return
    from validation_split import validation_rows  # the sibling script: this one runs from bench/ too

    started = time.perf_counter()
    sources = [db for corpus in corpora for db in CORPORA[corpus](args.data)]
    args.out.mkdir(parents=True, exist_ok=True)
    warehouse = build(sources, args.out)
    built = time.perf_counter()
    split = validation_rows(args.data)
    questions = convert([(c, row) for c in corpora for row in split[c]], warehouse)
    check = check_gold(questions, warehouse)
    write_questions(args.out, questions, check, warehouse)

    entry = warehouse.entry
    executed = questions.executed_equal + questions.dropped["rewrite returns other rows"]
    kept = len(questions.warehouse)
    ambiguous = sum(a["ambiguous"] for a in check.ambiguity)
    by_corpus = Counter(q["corpus"] for q in questions.warehouse)
    print(
        f"databases: {len(sources)} ({', '.join(f'{c} {sum(s.corpus == c for s in sources)}' for c in corpora)}; "
        f"{sum(s.rows is not None for s in sources)} with rows)\n"
        f"tables: {len(entry['table_names_original'])}, columns: {len(entry['column_names_original']) - 1}, "
        f"foreign-key column pairs: {len(entry['foreign_keys'])}; "
        f"foreign keys dropped (unresolvable): {sum(len(s.dropped_foreign_keys) for s in sources)}\n"
        f"renamed-name collisions: {len(warehouse.collisions)}; tables whose rows failed to copy: "
        f"{len(warehouse.copy_errors)}\n"
        f"questions: {kept} kept ({', '.join(f'{c} {n}' for c, n in sorted(by_corpus.items()))}) of "
        f"{kept + sum(questions.dropped.values())}; dropped: {dict(questions.dropped) or 0}\n"
        f"rewrite check: {questions.executed_equal}/{executed} executed with equal results, "
        f"{questions.explained} (no rows) pass EXPLAIN\n"
        f"gold links on the warehouse: {check.empty} empty, {check.agreeing}/{kept} equal to the own database's, "
        f"{check.foreign} naming another database's table or column\n"
        f"ambiguous (another database has the same tables and columns): {ambiguous}/{kept} "
        f"= {ambiguous / max(kept, 1):.3f}\n"
        f"built in {built - started:.1f} s, questions in {time.perf_counter() - built:.1f} s -> {args.out}"
    )
    for line in warehouse.collisions + [d for s in sources for d in s.dropped_foreign_keys] + warehouse.copy_errors:
        print("  " + line)
    if args.postgres:
        report_postgres(args.postgres, args.out, questions, warehouse)


def report_postgres(url: str, out: Path, questions: Questions, warehouse: Warehouse) -> None:
    """``--postgres``: build the copy, check the questions on it, write and print what came of it."""
    started = time.perf_counter()
    copy = build_postgres(warehouse, url)
    built = time.perf_counter()
    checked = check_postgres(questions, warehouse, copy, url)
    write_postgres(out, copy, checked)
    keys = [*copy.skipped, *(f"NOT VALID: {k}" for k in copy.not_valid), *(f"UNIQUE: {k}" for k in copy.unique_keys)]
    print(
        f"PostgreSQL: {len(copy.schemas)} schemas, {copy.tables} tables, {copy.rows} rows; "
        f"{len(copy.text_columns)} columns mixing numbers with text kept as text, "
        f"{copy.nul_cells} cells lost NUL characters\n"
        f"keys: {copy.primary_keys} primary, {copy.foreign_keys} foreign validated, {len(copy.not_valid)} foreign "
        f"NOT VALID (rows violate them), {len(copy.unique_keys)} UNIQUE added for foreign keys, "
        f"{len(copy.skipped)} skipped\n"
        f"questions on PostgreSQL: {checked.equal}/{checked.executed} Spider with the SQLite warehouse's rows, "
        f"{checked.explained}/{checked.explain_tried} BIRD pass EXPLAIN; failing: "
        f"{dict(checked.failures.most_common()) or 0} (differing_pg.txt)\n"
        f"built in {built - started:.1f} s, questions in {time.perf_counter() - built:.1f} s -> {out}/questions_pg.json"
    )
    for line in keys + copy.text_columns:
        print("  " + line)


if __name__ == "__main__":
    main()
