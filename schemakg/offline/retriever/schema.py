"""Spider-format schemas (``tables.json``) and the column documents built from them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel

from schemakg.retrieval.column_docs import ColumnDoc, humanise


class SchemaColumn(BaseModel):
    """A column as ``tables.json`` lists it: original name plus the natural-language label."""

    table: str
    name: str
    label: str
    data_type: str


class DbSchema(BaseModel):
    """The part of a Spider schema the retriever needs (join paths read foreign keys elsewhere)."""

    db_id: str
    tables: list[str]
    columns: list[SchemaColumn]

    def columns_of(self, table: str) -> list[SchemaColumn]:
        return [c for c in self.columns if c.table == table]


def load_schemas(path: Path) -> dict[str, DbSchema]:
    """Read a Spider ``tables.json`` into ``{db_id: DbSchema}``."""
    out: dict[str, DbSchema] = {}
    for raw in json.loads(Path(path).read_text()):
        tables = list(raw["table_names_original"])
        labels = raw.get("column_names") or raw["column_names_original"]
        columns = [
            SchemaColumn(table=tables[t], name=name, label=label[1], data_type=dtype)
            for (t, name), label, dtype in zip(raw["column_names_original"], labels, raw["column_types"], strict=True)
            if t >= 0
        ]
        out[raw["db_id"]] = DbSchema(db_id=raw["db_id"], tables=tables, columns=columns)
    return out


def sample_values(
    sqlite_path: Path, schema: DbSchema, k: int = 3, max_chars: int = 40
) -> dict[tuple[str, str], list[str]]:
    """First ``k`` distinct non-empty values per column: cheap, deterministic, enough to hint at the value format."""
    values: dict[tuple[str, str], list[str]] = {}
    conn = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    conn.text_factory = lambda b: b.decode("utf-8", errors="replace")
    try:
        for col in schema.columns:
            q = (
                f'SELECT DISTINCT "{col.name}" FROM "{col.table}" '
                f'WHERE "{col.name}" IS NOT NULL AND "{col.name}" != \'\' LIMIT {k}'
            )
            try:
                rows = conn.execute(q).fetchall()
            except sqlite3.Error:
                continue
            values[(col.table, col.name)] = [str(r[0])[:max_chars] for r in rows]
    finally:
        conn.close()
    return values


def label_description(name: str, label: str) -> str:
    """A Spider-format natural label is a (weak) description only when it says more than the humanised name."""
    return label if humanise(label) != humanise(name) else ""


def column_docs(schema: DbSchema, values: Mapping[tuple[str, str], Sequence[str]] | None = None) -> list[ColumnDoc]:
    """Docs from a schema: the natural label as description, sampled values as examples."""
    values = values or {}
    return [
        ColumnDoc(
            db_id=schema.db_id,
            table=c.table,
            column=c.name,
            description=label_description(c.name, c.label),
            examples=tuple(values.get((c.table, c.name), ())),
            data_type=c.data_type,
        )
        for c in schema.columns
    ]


def sqlite_path(db_dir: Path | None, db_id: str) -> Path | None:
    """``DIR/<db_id>/<db_id>.sqlite`` when it exists."""
    if db_dir is None:
        return None
    path = Path(db_dir) / db_id / f"{db_id}.sqlite"
    return path if path.exists() else None


def docs_for(schema: DbSchema, db_dir: Path | None, k: int = 3) -> list[ColumnDoc]:
    """Column docs with sampled example values when the database file is present."""
    path = sqlite_path(db_dir, schema.db_id)
    return column_docs(schema, sample_values(path, schema, k) if path else None)
