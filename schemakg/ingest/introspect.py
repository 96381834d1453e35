"""Schema introspection by SQLAlchemy reflection: tables, columns, types, keys, comments.

A PostgreSQL source is read whole: every schema its role may use (``pg_catalog``, ``information_schema`` and
the ``pg_toast``/``pg_temp`` schemas aside). Tables of the connection's default schema keep their bare names,
the others are named ``schema.table`` (``schemakg.kernel.sql.names``); foreign keys resolve across schemas.
SQLite and MySQL sources have one namespace, read as before.
"""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Inspector
from sqlalchemy.engine.interfaces import ReflectedForeignKeyConstraint

from schemakg.kernel.model import ColumnSnapshot, ForeignKeySnapshot, SchemaSnapshot, TableSnapshot
from schemakg.kernel.progress import Progress
from schemakg.kernel.sources import SourceDatabase
from schemakg.kernel.sql.names import qualified_name, qualifies_tables

_USABLE_SCHEMAS = (
    "SELECT nspname FROM pg_catalog.pg_namespace WHERE has_schema_privilege(oid, 'USAGE') "
    "AND nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY nspname"
)


def _type_name(column_type: object) -> str:
    try:
        return str(column_type) or "UNKNOWN"
    except Exception:  # noqa: BLE001 - some dialect types cannot compile without a bind
        return type(column_type).__name__.upper()


def _table_comment(inspector: Inspector, table: str, schema: str | None) -> str | None:
    try:
        return inspector.get_table_comment(table, schema=schema).get("text") or None
    except NotImplementedError:
        return None


def _namespaces(source: SourceDatabase, inspector: Inspector) -> tuple[list[str | None], str | None, list[str]]:
    """The schemas to read (``[None]``: the source's one namespace), the default schema, and the search path
    (where PostgreSQL finds a table a foreign key names without its schema)."""
    if not qualifies_tables(source.dialect):
        return [None], None, []
    with source.connect() as conn:
        schemas: list[str | None] = list(map(str, conn.execute(text(_USABLE_SCHEMAS)).scalars().all()))
        path: list[object] = conn.execute(text("SELECT current_schemas(false)")).scalar_one() or []
    return schemas, inspector.default_schema_name, [str(name) for name in path]


def _resolve(name: str, names: dict[str, str], by_lower: dict[str, str]) -> str | None:
    """The spelling ``name`` refers to: exact first (``Users`` and ``users`` may both exist), then
    ignoring case (SQLite keeps a foreign key's target as the DDL wrote it)."""
    return names.get(name) or by_lower.get(name.lower())


def introspect(source: SourceDatabase, progress: Progress | None = None) -> SchemaSnapshot:
    inspector = inspect(source.engine)
    schemas, default, search_path = _namespaces(source, inspector)
    warnings: list[str] = []
    entries: list[tuple[str, str | None, str]] = []  # (catalogue name, schema, name in the schema)
    for schema in schemas:
        if schema is not None and "." in schema:
            warnings.append(f"schema {schema!r} skipped: a schema name with a dot cannot be told from its tables")
            continue
        entries += [(qualified_name(schema, name, default), schema, name) for name in inspector.get_table_names(schema)]
    entries.sort()
    # Per schema: each table's spelling in the source -> its catalogue name, exactly and ignoring case.
    namespaces: dict[str | None, tuple[dict[str, str], dict[str, str]]] = {}
    for name, schema, table in entries:
        exact, by_lower = namespaces.setdefault(schema, ({}, {}))
        exact[table] = name
        by_lower.setdefault(table.lower(), name)
    tables: list[TableSnapshot] = []
    foreign_keys: list[ForeignKeySnapshot] = []
    pk_columns: dict[str, list[str]] = {}
    raw_fks: list[tuple[str, str | None, ReflectedForeignKeyConstraint]] = []
    for index, (name, schema, table) in enumerate(entries):
        pk = inspector.get_pk_constraint(table, schema=schema).get("constrained_columns") or []
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
            for ordinal, column in enumerate(inspector.get_columns(table, schema=schema))
        ]
        tables.append(TableSnapshot(name=name, comment=_table_comment(inspector, table, schema), columns=columns))
        raw_fks += [(name, schema, fk) for fk in inspector.get_foreign_keys(table, schema=schema)]
        if progress:
            progress(index + 1, len(entries), f"read schema of {name}")
    columns_of = {
        t.name: ({c.name: c.name for c in t.columns}, {c.name.lower(): c.name for c in t.columns}) for t in tables
    }
    for table, schema, fk in raw_fks:
        referred, referred_schema = str(fk.get("referred_table", "")), fk.get("referred_schema")
        # PostgreSQL names the referred schema unless the search path finds the table first.
        look_in = ([referred_schema] if referred_schema else search_path or [schema]) if schema else [None]
        found = (_resolve(referred, *namespaces[space]) for space in look_in if space in namespaces)
        ref_table = next((name for name in found if name is not None), None)
        if ref_table is None:
            target = f"{referred_schema}.{referred}" if schema and referred_schema else referred
            warnings.append(f"{table}: foreign key to unknown table {target!r} skipped")
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
