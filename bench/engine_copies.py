"""Copy Spider databases onto real engines and check that the gold SQL, transpiled by sqlglot, agrees there.

The by-database validation split's databases (``bench/validation_split.py``: 22 Spider training databases,
975 questions) are loaded from their SQLite files into a running PostgreSQL and a running MariaDB, one
database per ``db_id`` on each (names unqualified, as on SQLite), so that ``schemakg eval sql --engine-url``
reads each one from the database of its name.

    .venv/bin/python -m bench.engine_copies --start-servers [--out bench/out/engines] [--dbs a,b]
    .venv/bin/python -m bench.engine_copies --postgres postgresql://me:pw@host:5432/postgres \\
        --mariadb mysql+pymysql://root:pw@host:3306/mysql

PostgreSQL (``warehouse.py``'s loader, in the ``public`` schema of a database named ``db_id``): names
lower-cased (SQLite's are case-insensitive; unquoted SQL then reads them back), types from the rows
(``pg_type``: ``bigint``, ``double precision``, ``text``, ``bytea``; dates stay text as SQLite keeps them),
primary keys, foreign keys validated or, where the rows violate them, ``NOT VALID``; refused keys skipped.
MariaDB (InnoDB, ``utf8mb4`` with ``--collation``, case-insensitive by default as most real ones are):
names as SQLite spells them (table names are case-sensitive there, so the gold SQL's tables are re-spelt),
the same types (``BIGINT``, ``DOUBLE``, ``VARCHAR(255)`` or ``TEXT`` past 255 characters, ``LONGBLOB``),
keys added with ``FOREIGN_KEY_CHECKS = 0``: a foreign key the rows violate is kept unenforced (listed).

Then every validation question's gold SQL is transpiled from SQLite (double-quoted strings made literals,
table names re-spelt for the copy) and run on each engine through the product's own source reader, and
its rows compared with SQLite's by ``results_match`` (order only where the gold SQL orders). OUT gets
``agreement.json``: per engine, the share that agrees and each other question with its class (why it
differs) and both SQL texts.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql as pgsql
from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import Connection
from sqlglot import exp
from sqlglot.errors import SqlglotError

from bench.warehouse import (
    DEFAULT_DATA,
    PgCopy,
    SourceDb,
    UnknownTableError,
    _add_keys,
    _connect,
    _load,
    _retargeted,
    from_sqlite,
    pg_source,
    pg_type,
    postgres_url,
    rewrite_postgres,
    storage_classes,
)
from schemakg.kernel.sources import SourceDatabase, SourceQueryError
from schemakg.kernel.sql.results import orders_result, results_match

ENGINES = ("postgres", "mariadb")
TIMEOUT_S = 30.0
ROW_CAP = 100_000
MAX_BYTES = 64 * 1024 * 1024
_MYSQL_BY_PG = {"bigint": "BIGINT", "double precision": "DOUBLE", "bytea": "LONGBLOB", "boolean": "BOOLEAN"}


def database_url(server_url: str, database: str) -> str:
    """``server_url`` (any database on the server) pointed at ``database``."""
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def mysql_type(postgres_type: str, longest: int) -> str:
    """MariaDB's type for a column :func:`pg_type` typed: text up to 255 characters is ``VARCHAR(255)`` (it
    can be a key), longer ``TEXT``; PostgreSQL's ``numeric`` (a declared number without values) ``DOUBLE``."""
    if postgres_type == "text":
        return "VARCHAR(255)" if longest <= 255 else "TEXT"
    return _MYSQL_BY_PG.get(postgres_type, "DOUBLE")


def backquoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@dataclass
class Keys:
    """Keys each engine holds, and the ones it refused or holds unenforced."""

    primary: int = 0
    foreign: int = 0
    violated: list[str] = field(default_factory=list)  # the rows break it: NOT VALID / unenforced
    skipped: list[str] = field(default_factory=list)  # the server refused it, with its reason


def sources(data: Path, db_ids: Sequence[str]) -> list[SourceDb]:
    root = data / "spider-train"
    raw = {r["db_id"]: r for r in json.loads((root / "tables.json").read_text())}
    return [from_sqlite("spider", d, root / "database" / d / f"{d}.sqlite", raw[d]) for d in db_ids]


def load_postgres(server_url: str, dbs: Sequence[SourceDb]) -> Keys:
    """A database per ``db_id`` (replaced if there), loaded by ``warehouse.py``'s loader into ``public``."""
    keys = Keys()
    with psycopg.connect(postgres_url(server_url), autocommit=True) as admin:
        for db in dbs:
            admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(db.db_id)))
            admin.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(db.db_id)))
    for db in dbs:
        assert db.rows is not None
        copy = PgCopy(schemas={db.key: "public"}, sources={db.key: pg_source(db)})
        url = postgres_url(database_url(server_url, db.db_id))
        with closing(_connect(db.rows)) as rows, psycopg.connect(url, autocommit=True) as pg:
            _load(pg, rows, db, {t.name.lower(): t.name for t in db.tables}, copy)
            _add_keys(pg, "public", copy.sources[db.key], copy)
            pg.execute("ANALYZE")
        keys.primary += copy.primary_keys
        keys.foreign += copy.foreign_keys
        keys.violated += [f"{db.db_id}: {k}" for k in copy.not_valid]
        keys.skipped += [f"{db.db_id}: {k}" for k in copy.skipped]
    return keys


def _violated(rows: sqlite3.Connection, table: str, columns: Sequence[str], parent: str, refs: Sequence[str]) -> bool:
    """True when some row's (non-NULL) key has no parent row."""
    q = lambda n: '"' + n.replace('"', '""') + '"'  # noqa: E731
    on = " AND ".join(f"p.{q(r)} = c.{q(c)}" for c, r in zip(columns, refs, strict=True))
    present = " AND ".join(f"c.{q(c)} IS NOT NULL" for c in columns)
    query = f"SELECT 1 FROM {q(table)} c WHERE {present} AND NOT EXISTS (SELECT 1 FROM {q(parent)} p WHERE {on})"
    return rows.execute(query + " LIMIT 1").fetchone() is not None


def _attempt(conn: Connection, *statements: str) -> str | None:
    """Run ``statements``; None, or the server's reason (DDL commits itself in MariaDB: nothing to undo)."""
    try:
        for statement in statements:
            conn.exec_driver_sql(statement)
    except Exception as exc:  # noqa: BLE001 - any server refusal is recorded, not raised
        return str(getattr(exc, "orig", exc)).splitlines()[0]
    return None


def load_mariadb(server_url: str, dbs: Sequence[SourceDb], collation: str) -> Keys:
    """A database per ``db_id`` (replaced if there): tables, rows, then keys with foreign-key checks off."""
    keys = Keys()
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for db in dbs:
                assert db.rows is not None
                name = backquoted(db.db_id)
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
                conn.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE {collation}")
                conn.exec_driver_sql(f"USE {name}")
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
                with closing(_connect(db.rows)) as rows:
                    _load_mariadb(conn, rows, db, keys)
    finally:
        engine.dispose()
    return keys


def _load_mariadb(conn: Connection, rows: sqlite3.Connection, db: SourceDb, keys: Keys) -> None:
    q = lambda n: '"' + n.replace('"', '""') + '"'  # noqa: E731
    for table in db.tables:
        names = [c.name for c in table.columns]
        classes = storage_classes(rows, table.name, names)
        longest = rows.execute(
            f"SELECT {', '.join(f'max(length(CAST({q(c)} AS TEXT)))' for c in names)} FROM {q(table.name)}"
        ).fetchone()
        types = [
            mysql_type(pg_type(c.declared, k), n or 0) for c, k, n in zip(table.columns, classes, longest, strict=True)
        ]
        columns = ", ".join(
            f"{backquoted(c.name)} {t}{' NOT NULL' if c.not_null else ''}"
            for c, t in zip(table.columns, types, strict=True)
        )
        conn.exec_driver_sql(f"CREATE TABLE {backquoted(table.name)} ({columns}) ENGINE=InnoDB")
        as_text = [t in ("TEXT", "VARCHAR(255)") for t in types]
        values = [
            tuple(
                (v.decode(errors="replace") if isinstance(v, bytes) else str(v)) if t and v is not None else v
                for t, v in zip(as_text, row, strict=True)
            )
            for row in rows.execute(f"SELECT {', '.join(map(q, names))} FROM {q(table.name)}")
        ]
        if values:
            listed = ", ".join(map(backquoted, names))
            insert = f"INSERT INTO {backquoted(table.name)} ({listed}) VALUES ({', '.join(['%s'] * len(names))})"
            conn.exec_driver_sql(insert, values)
        if table.primary_key:
            key = ", ".join(map(backquoted, table.primary_key))
            add = f"ALTER TABLE {backquoted(table.name)} ADD PRIMARY KEY ({key})"
            if (error := _attempt(conn, add)) is None:
                keys.primary += 1
            else:
                keys.skipped.append(f"{db.db_id}: {table.name} primary key ({', '.join(table.primary_key)}): {error}")
    for table in db.tables:
        for fk in table.foreign_keys:
            described = f"{db.db_id}: {table.name}({', '.join(fk.columns)}) -> {fk.table}({', '.join(fk.references)})"
            add = (
                f"ALTER TABLE {backquoted(table.name)} ADD FOREIGN KEY ({', '.join(map(backquoted, fk.columns))}) "
                f"REFERENCES {backquoted(fk.table)} ({', '.join(map(backquoted, fk.references))})"
            )
            index = f"ALTER TABLE {backquoted(fk.table)} ADD INDEX ({', '.join(map(backquoted, fk.references))})"
            error = _attempt(conn, add)
            if error is not None and (
                "errno: 150" in error or "Missing index" in error
            ):  # InnoDB indexes referenced columns
                error = _attempt(conn, index, add)
            if error is not None:
                keys.skipped.append(f"{described}: {error}")
            elif _violated(rows, table.name, fk.columns, fk.table, fk.references):
                keys.violated.append(described)
            else:
                keys.foreign += 1


def transpile(sql: str, db: SourceDb, engine: str) -> str:
    """The gold SQL for a copy: PostgreSQL's names lower-case (``rewrite_postgres`` in ``public``), MariaDB's
    tables spelt as the copy spells them; double-quoted strings become literals; sqlglot does the rest."""
    columns = db.column_names
    if engine == "postgres":
        tables = {t.name.lower(): t.name.lower() for t in db.tables}
        return rewrite_postgres(sql, "public", tables, columns)

    def place(table: exp.Table, new: str) -> None:
        table.set("this", exp.to_identifier(new, quoted=True))

    tree = _retargeted(sql, {t.name.lower(): t.name for t in db.tables}, columns, place)
    return respell_qualifiers(tree).sql(dialect="mysql")


def respell_qualifiers(tree: exp.Expression) -> exp.Expression:
    """Column qualifiers spelt as their table or alias is (``t1.title`` under ``AS T1``): MariaDB's aliases and
    table names are case-sensitive, SQLite's are not."""
    spelt = {t.alias_or_name.lower(): t.alias_or_name for t in tree.find_all(exp.Table)}
    for column in tree.find_all(exp.Column):
        if column.table and (name := spelt.get(column.table.lower())) and name != column.table:
            column.set("table", exp.to_identifier(name))
    return tree


def classify(engine: str, gold_sql: str, error: str | None, got: list[list[Any]], gold: list[list[Any]]) -> str:
    """Why a question's result differs on ``engine``: the error's class, or what tells the rows apart."""
    if error is not None:
        if re.search(r"alias|syntax", error, re.I) and re.search(r"from\s*\(\s*select", gold_sql, re.I):
            return "derived table without an alias (PostgreSQL 15, MariaDB)"
        patterns = (
            (r"must appear in the GROUP BY|only_full_group_by", "GROUP BY strictness"),
            (
                r"operator does not exist|invalid input syntax|cannot be matched|argument of .* must be type",
                "types: text compared with numbers (declared types kept)",
            ),
            (r"function .* does not exist|FUNCTION .* does not exist", "SQLite-only function"),
            (r"column .* does not exist|Unknown column|relation .* does not exist|doesn't exist", "names"),
            (r"syntax", "syntax after transpilation"),
            (r"timeout|canceling statement|max_statement_time", "timeout"),
        )
        return next((label for pattern, label in patterns if re.search(pattern, error, re.I)), "other error")
    if re.search(r"order by.*\blimit\b", gold_sql, re.I | re.S) and len(got) == len(gold):
        return "LIMIT cuts among ORDER BY ties"
    if results_match(got, gold, False):
        nulls = any(v is None for row in gold for v in row)
        return "NULL ordering" if nulls else "order among ORDER BY ties"
    if len(got) == len(gold):

        def folded(rows: list[list[Any]]) -> list[list[Any]]:
            return [[v.lower() if isinstance(v, str) else v for v in r] for r in rows]

        def rounded(rows: list[list[Any]]) -> list[list[Any]]:
            return [[round(v, 2) if isinstance(v, float) else v for v in r] for r in rows]

        if results_match(rounded(got), rounded(gold), False):
            return "decimal places (MariaDB's AVG and division keep 4)" if engine == "mariadb" else "float precision"
        if results_match(folded(got), folded(gold), False):
            return "case of strings"
    lowered = gold_sql.lower()
    if engine == "mariadb" and (" like " in lowered or re.search(r"= *['\"]", lowered)):
        return "case-insensitive string comparison (collation)"
    if "/" in gold_sql:
        return "integer division"
    if " like " in lowered:
        return "LIKE case sensitivity"
    if re.search(r"\b(max|min)\s*\(|order by|<|>", lowered):
        return "text compared as text / numbers as numbers"
    return "different rows"


@dataclass
class Agreement:
    engine: str
    agreed: int = 0
    total: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    differing: list[dict[str, Any]] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "questions": self.total,
            "agree": self.agreed,
            "share": round(self.agreed / max(self.total, 1), 4),
            "why_the_rest_differ": dict(self.classes.most_common()),
            "differing": self.differing,
        }


def _read(source: SourceDatabase, sql: str) -> tuple[list[list[Any]], str | None]:
    try:
        return source.read(sql, timeout_s=TIMEOUT_S, row_cap=ROW_CAP, max_bytes=MAX_BYTES).rows, None
    except SourceQueryError as exc:
        return [], str(exc)


def check(questions: Sequence[dict[str, Any]], dbs: Sequence[SourceDb], urls: dict[str, str]) -> list[Agreement]:
    """Each question's gold SQL on SQLite and, transpiled, on each engine (``urls``: engine -> server URL)."""
    by_id = {db.db_id: db for db in dbs}
    results = {engine: Agreement(engine) for engine in urls}
    with ExitStack() as stack:
        opened: dict[tuple[str, str], SourceDatabase] = {}

        def source(engine: str, db_id: str) -> SourceDatabase:
            if (engine, db_id) not in opened:
                url = f"sqlite:///{by_id[db_id].rows}" if engine == "sqlite" else database_url(urls[engine], db_id)
                opened[engine, db_id] = SourceDatabase(url)
                stack.callback(opened[engine, db_id].dispose)
            return opened[engine, db_id]

        for row in questions:
            db = by_id.get(row["db_id"])
            if db is None:
                continue
            gold, gold_error = _read(source("sqlite", db.db_id), row["query"])
            ordered = orders_result(row["query"])
            for engine, agreement in results.items():
                agreement.total += 1
                try:
                    sql = transpile(row["query"], db, engine)
                except (SqlglotError, UnknownTableError) as exc:
                    sql, got, error = "", [], f"transpile fails: {exc}"
                else:
                    got, error = _read(source(engine, db.db_id), sql)
                if gold_error is None and error is None and results_match(got, gold, ordered):
                    agreement.agreed += 1
                    continue
                kind = "gold fails on SQLite" if gold_error else classify(engine, row["query"], error, got, gold)
                agreement.classes[kind] += 1
                agreement.differing.append(
                    {
                        "db_id": db.db_id,
                        "class": kind,
                        "error": error or gold_error,
                        "sqlite": row["query"],
                        engine: sql,
                        "rows": [len(gold), len(got)],
                    }
                )
    return list(results.values())


@contextmanager
def throwaway_servers() -> Iterator[dict[str, str]]:
    """A PostgreSQL and a MariaDB server from the test suite's helpers, removed afterwards."""
    from tests.servers import start_mariadb, start_postgres

    servers = []
    try:
        for start in (start_postgres, start_mariadb):
            servers.append(start(Path(tempfile.mkdtemp(prefix="schemakg-engines-"))))
        yield {"postgres": servers[0].admin_url, "mariadb": servers[1].admin_url}
    finally:
        for server in servers:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--questions", type=Path, default=Path("bench/out/validation/spider_val.json"))
    parser.add_argument("--dbs", help="comma-separated db_ids [default: every database of --questions]")
    parser.add_argument("--out", type=Path, default=Path("bench/out/engines"))
    parser.add_argument("--postgres", metavar="URL", help="an admin's URL of a running PostgreSQL server")
    parser.add_argument("--mariadb", metavar="URL", help="an admin's URL of a running MariaDB server")
    parser.add_argument("--collation", default="utf8mb4_unicode_ci", help="MariaDB databases' collation")
    parser.add_argument(
        "--start-servers",
        action="store_true",
        help="start throwaway servers (tests/servers.py), check, and stop them: nothing is kept",
    )
    parser.add_argument("--no-check", action="store_true", help="only load the copies")
    args = parser.parse_args()
    if not (args.data / "spider-train").is_dir():
        print(f"skipped: no spider-train under {args.data}")
        return
    questions = json.loads(args.questions.read_text())
    db_ids = args.dbs.split(",") if args.dbs else sorted({q["db_id"] for q in questions})
    dbs = sources(args.data, db_ids)
    with ExitStack() as stack:
        urls = {e: u for e, u in (("postgres", args.postgres), ("mariadb", args.mariadb)) if u}
        if args.start_servers:
            urls = stack.enter_context(throwaway_servers())
        if not urls:
            parser.error("give --postgres and/or --mariadb, or --start-servers")
        report: dict[str, Any] = {"databases": db_ids, "collation": args.collation, "copies": {}}
        for engine, url in urls.items():
            started = time.perf_counter()
            keys = load_postgres(url, dbs) if engine == "postgres" else load_mariadb(url, dbs, args.collation)
            report["copies"][engine] = {**keys.__dict__, "seconds": round(time.perf_counter() - started, 1)}
            print(
                f"{engine}: {len(dbs)} databases in {time.perf_counter() - started:.1f} s; keys: {keys.primary} "
                f"primary, {keys.foreign} foreign enforced, {len(keys.violated)} foreign the rows violate "
                f"(kept unenforced), {len(keys.skipped)} refused"
            )
            for line in keys.violated + keys.skipped:
                print("  " + line)
        if args.no_check:
            return
        wanted = [q for q in questions if q["db_id"] in set(db_ids)]
        agreements = check(wanted, dbs, urls)
        report["agreement"] = [a.report() for a in agreements]
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "agreement.json").write_text(json.dumps(report, indent=1, default=str))
        for a in agreements:
            print(
                f"{a.engine}: {a.agreed}/{a.total} = {a.agreed / max(a.total, 1):.3f} gold results equal SQLite's; "
                f"the rest: {dict(a.classes.most_common())}"
            )
        print(f"-> {args.out / 'agreement.json'}")


if __name__ == "__main__":
    main()
