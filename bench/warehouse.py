"""Build the validation warehouse: many databases side by side in one undocumented SQLite database.

Every Spider training database (with its rows, where the file exists) and every BIRD training schema
(no rows: BIRD ships none here) become tables named ``<db>__<table>`` (BIRD's ``bird_<db>__<table>``)
in one file, with their keys and foreign keys, and no descriptions. The questions are the
by-database validation split's Spider questions (``bench/validation_split.py``, the databases the
retriever never trained on), their SQL rewritten to the warehouse's names with sqlglot (each renamed
table keeps its old name as its alias, so qualified columns still resolve). Only training data is
used; nothing that is evaluated elsewhere.

    .venv/bin/python bench/validation_split.py --out bench/out/validation
    .venv/bin/python bench/warehouse.py --out bench/out/warehouse
    .venv/bin/schemakg eval linking --tables bench/out/warehouse/tables.json \\
        --questions bench/out/warehouse/questions.json --db-dir bench/out/warehouse
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path
from typing import Any

import sqlglot
from sqlalchemy import create_engine
from sqlglot import exp

from schemakg.app.evaluation import schema_metadata

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Warehouse:
    """The warehouse file and its Spider-format ``tables.json`` entry, filled one source database at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entry: dict[str, Any] = {
            "db_id": "warehouse",
            "table_names_original": [],
            "table_names": [],
            "column_names_original": [[-1, "*"]],
            "column_names": [[-1, "*"]],
            "column_types": ["text"],
            "primary_keys": [],
            "foreign_keys": [],
        }
        self.renamed: dict[tuple[str, str], str] = {}  # (source db, lower-case table) -> warehouse table
        self.copy_errors: list[str] = []

    def add(self, prefix: str, source_db: str, raw: dict[str, Any], rows_from: Path | None) -> None:
        names = raw["table_names_original"]
        kept = {i: f"{prefix}__{name}" for i, name in enumerate(names) if not name.lower().startswith("sqlite_")}
        for i, new in kept.items():
            self.renamed[(source_db, names[i].lower())] = new
        renamed_raw = {**raw, "table_names_original": [kept.get(i, n) for i, n in enumerate(names)]}
        engine = create_engine(f"sqlite:///{self.path}")
        try:
            schema_metadata(renamed_raw).create_all(engine)
        finally:
            engine.dispose()
        if rows_from is not None:
            self._copy_rows(raw, kept, rows_from)
        self._describe(raw, kept)

    def _copy_rows(self, raw: dict[str, Any], kept: dict[int, str], source: Path) -> None:
        with sqlite3.connect(self.path) as connection:
            connection.execute("ATTACH DATABASE ? AS source", (f"file:{source}?mode=ro",))
            for i, new in kept.items():
                columns = ", ".join(_quoted(c) for t, c in raw["column_names_original"] if t == i)
                try:
                    connection.execute(
                        f"INSERT INTO main.{_quoted(new)} ({columns}) "
                        f"SELECT {columns} FROM source.{_quoted(raw['table_names_original'][i])}"
                    )
                except sqlite3.Error as exc:  # the source's rows break its own declared keys: schema only
                    self.copy_errors.append(f"{new}: {exc}")
            connection.commit()
            connection.execute("DETACH DATABASE source")

    def _describe(self, raw: dict[str, Any], kept: dict[int, str]) -> None:
        entry = self.entry
        first_table = len(entry["table_names_original"])
        position = {i: first_table + n for n, i in enumerate(kept)}
        column_at: dict[int, int] = {}
        for c, (t, name) in enumerate(raw["column_names_original"]):
            if t in kept:
                column_at[c] = len(entry["column_names_original"])
                entry["column_names_original"].append([position[t], name])
                entry["column_names"].append([position[t], raw["column_names"][c][1]])
                entry["column_types"].append(raw["column_types"][c])
        entry["table_names_original"] += list(kept.values())
        entry["table_names"] += list(kept.values())
        for key in raw["primary_keys"]:
            entry["primary_keys"] += [column_at[c] for c in (key if isinstance(key, list) else [key]) if c in column_at]
        entry["foreign_keys"] += [
            [column_at[a], column_at[b]] for a, b in raw["foreign_keys"] if {a, b} <= set(column_at)
        ]


def rewrite(sql: str, source_db: str, renamed: dict[tuple[str, str], str]) -> str:
    """``sql`` on the warehouse: every table renamed, keeping its old name (or its alias) as the alias."""
    tree = sqlglot.parse_one(sql, read="sqlite")
    for table in tree.find_all(exp.Table):
        new = renamed[(source_db, table.name.lower())]  # KeyError: a table the source does not have
        alias = table.alias or table.name
        table.set("this", exp.to_identifier(new, quoted=True))
        table.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
    return tree.sql(dialect="sqlite")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--validation", type=Path, default=Path("bench/out/validation/spider_val.json"))
    parser.add_argument("--out", type=Path, default=Path("bench/out/warehouse"))
    args = parser.parse_args()
    if not (args.data / "spider-train" / "tables.json").exists():
        raise SystemExit(f"no training data under {args.data}")
    (args.out / "warehouse").mkdir(parents=True, exist_ok=True)
    path = args.out / "warehouse" / "warehouse.sqlite"
    path.unlink(missing_ok=True)
    warehouse = Warehouse(path)
    spider = json.loads((args.data / "spider-train" / "tables.json").read_text())
    for raw in sorted(spider, key=lambda r: r["db_id"]):
        rows = args.data / "spider-train" / "database" / raw["db_id"] / f"{raw['db_id']}.sqlite"
        warehouse.add(raw["db_id"], raw["db_id"], raw, rows if rows.exists() else None)
    for raw in sorted(
        json.loads((args.data / "bird-train" / "train_tables.json").read_text()), key=lambda r: r["db_id"]
    ):
        warehouse.add(f"bird_{raw['db_id']}", f"bird:{raw['db_id']}", raw, None)
    (args.out / "tables.json").write_text(json.dumps([warehouse.entry]))
    questions, unreadable = [], 0
    for row in json.loads(args.validation.read_text()):
        try:
            query = rewrite(row["query"], row["db_id"], warehouse.renamed)
        except (sqlglot.errors.SqlglotError, KeyError):
            unreadable += 1
            continue
        questions.append({"db_id": "warehouse", "question": row["question"], "query": query, "source_db": row["db_id"]})
    (args.out / "questions.json").write_text(json.dumps(questions))
    entry = warehouse.entry
    print(
        f"{len(entry['table_names_original'])} tables, {len(entry['column_names_original']) - 1} columns, "
        f"{len(entry['foreign_keys'])} foreign keys; {len(warehouse.copy_errors)} tables kept without rows; "
        f"{len(questions)} questions ({unreadable} left out: their SQL could not be rewritten)"
    )


if __name__ == "__main__":
    main()
