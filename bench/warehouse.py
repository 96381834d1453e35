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
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from tqdm import tqdm

from schemakg.kernel.sql.links import SchemaNames, SqlParseError, quoted_non_columns_to_literals, sql_links
from schemakg.offline.result_compare import orders_result, results_match

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


def rewrite(sql: str, tables: Mapping[str, str], columns: Collection[str]) -> str:
    """``sql`` over the warehouse; ``tables`` maps a source table's lower-case name to its warehouse name.
    A renamed table without an alias takes the name it was written with as its alias, so columns
    qualified with the table name still resolve. CTE names are left alone. A double-quoted token that
    names none of the source's ``columns`` (lower-case) is the string SQLite reads it as ("USA"), written
    as one: in the warehouse another database may have a column of that name."""
    statements = [s for s in sqlglot.parse(sql, read="sqlite") if s is not None]
    if len(statements) != 1:
        raise SqlglotError(f"expected one statement, found {len(statements)}")
    tree = quoted_non_columns_to_literals(statements[0], set(columns))
    ctes = {cte.alias.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or table.name.lower() in ctes:
            continue
        new = tables.get(table.name.lower())
        if new is None:
            raise UnknownTableError(table.name)
        if not table.alias:
            table.set("alias", exp.TableAlias(this=table.this.copy()))
        table.set("this", exp.to_identifier(new, quoted=True))
        table.set("db", None)
    return tree.sql(dialect="sqlite")


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


CORPORA: dict[str, Callable[[Path], list[SourceDb]]] = {
    "spider": lambda data: spider_sources(data / "spider-train"),
    "bird": lambda data: bird_sources(data / "bird-train"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path("bench/out/warehouse"))
    parser.add_argument("--corpora", default="spider,bird", help="comma-separated: spider, bird")
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


if __name__ == "__main__":
    main()
