"""Schema introspection by SQLAlchemy reflection: tables, columns, types, keys, comments."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import Inspector
from sqlalchemy.engine.interfaces import ReflectedForeignKeyConstraint

from schemakg.kernel.model import ColumnSnapshot, ForeignKeySnapshot, SchemaSnapshot, TableSnapshot
from schemakg.kernel.progress import Progress
from schemakg.kernel.sources import SourceDatabase


def _type_name(column_type: object) -> str:
    try:
        return str(column_type) or "UNKNOWN"
    except Exception:  # noqa: BLE001 - some dialect types cannot compile without a bind
        return type(column_type).__name__.upper()


def _table_comment(inspector: Inspector, table: str) -> str | None:
    try:
        return inspector.get_table_comment(table).get("text") or None
    except NotImplementedError:
        return None


def _resolve(name: str, names: dict[str, str], by_lower: dict[str, str]) -> str | None:
    """The spelling ``name`` refers to: exact first (``Users`` and ``users`` may both exist), then
    ignoring case (SQLite keeps a foreign key's target as the DDL wrote it)."""
    return names.get(name) or by_lower.get(name.lower())


def introspect(source: SourceDatabase, progress: Progress | None = None) -> SchemaSnapshot:
    inspector = inspect(source.engine)
    names = sorted(inspector.get_table_names())
    table_names = {name: name for name in names}
    by_lower = {name.lower(): name for name in names}
    tables: list[TableSnapshot] = []
    foreign_keys: list[ForeignKeySnapshot] = []
    warnings: list[str] = []
    pk_columns: dict[str, list[str]] = {}
    raw_fks: list[tuple[str, ReflectedForeignKeyConstraint]] = []
    for index, name in enumerate(names):
        pk = inspector.get_pk_constraint(name).get("constrained_columns") or []
        pk_columns[name] = pk
        columns = [
            ColumnSnapshot(
                name=column["name"],
                data_type=_type_name(column["type"]),
                nullable=bool(column.get("nullable", True)),
                is_pk=column["name"] in pk,
                comment=column.get("comment") or None,
                ordinal=ordinal,
            )
            for ordinal, column in enumerate(inspector.get_columns(name))
        ]
        tables.append(TableSnapshot(name=name, comment=_table_comment(inspector, name), columns=columns))
        raw_fks += [(name, fk) for fk in inspector.get_foreign_keys(name)]
        if progress:
            progress(index + 1, len(names), f"read schema of {name}")
    columns_of = {
        t.name: ({c.name: c.name for c in t.columns}, {c.name.lower(): c.name for c in t.columns}) for t in tables
    }
    for table, fk in raw_fks:
        ref_table = _resolve(str(fk.get("referred_table", "")), table_names, by_lower)
        if ref_table is None:
            warnings.append(f"{table}: foreign key to unknown table {fk.get('referred_table')!r} skipped")
            continue
        ref_columns = fk.get("referred_columns") or pk_columns.get(ref_table, [])
        src = [_resolve(c, *columns_of[table]) for c in fk["constrained_columns"]]
        dst = [_resolve(c, *columns_of[ref_table]) for c in ref_columns]
        if len(src) != len(dst) or None in src or None in dst:
            warnings.append(f"{table}: foreign key {fk['constrained_columns']} -> {ref_table}{ref_columns} skipped")
            continue
        foreign_keys.append(
            ForeignKeySnapshot(table=table, columns=list(src), ref_table=ref_table, ref_columns=list(dst))
        )
    return SchemaSnapshot(dialect=source.dialect, tables=tables, foreign_keys=foreign_keys, warnings=warnings)
