"""How the catalogue names the tables of a source with several schemas, and how it writes those names in SQL.

A PostgreSQL source is ingested whole: every schema its role may use. A table of the connection's default
schema (normally ``public``) keeps its bare name; a table of any other schema is named ``schema.table``
(``concert.singer``), and so is a default-schema table whose own name holds a dot (``public.a.b``), so the
names stay injective. Schema names never hold a dot (ingestion skips such schemas), so a qualified name
splits at its first dot. Sources of other dialects have one namespace: their names are never split, and a
dot is part of the table's name.

In SQL a qualified name is two identifiers, each quoted only where it must be (``concert.singer``,
``"Concert"."Singer"``), never one quoted identifier ``"concert.singer"``.
"""

from __future__ import annotations

import functools

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy

from schemakg.kernel.sql.dialects import sqlglot_dialect

# sqlglot dialects whose sources are ingested with schema-qualified table names, and the schema whose
# tables keep bare names when SQL qualifies them anyway (``public.singer`` is the table ``singer``).
DEFAULT_SCHEMAS = {"postgres": "public"}
_FOLDING = (NormalizationStrategy.LOWERCASE, NormalizationStrategy.UPPERCASE)


def qualifies_tables(dialect: str | None) -> bool:
    """Whether the catalogue names a ``dialect`` source's tables with their schema (any dialect spelling)."""
    return dialect is not None and sqlglot_dialect(dialect) in DEFAULT_SCHEMAS


def default_schema(dialect: str | None) -> str | None:
    """The schema SQL may name for a table the catalogue names bare; None for one-namespace dialects."""
    return DEFAULT_SCHEMAS.get(sqlglot_dialect(dialect) or "") if dialect else None


def qualified_name(schema: str | None, table: str, default: str | None) -> str:
    """The catalogue's name for ``table`` of ``schema``: bare in the default schema (unless the name holds a
    dot), ``schema.table`` elsewhere. ``schema`` None: a one-namespace source."""
    if schema is None or (schema == default and "." not in table):
        return table
    return f"{schema}.{table}"


def split_table_name(name: str, dialect: str | None) -> tuple[str | None, str]:
    """``(schema, table)`` of a catalogue table name; the schema is None for a bare name (the default
    schema) and for every name of a one-namespace dialect."""
    if qualifies_tables(dialect) and "." in name:
        schema, _, table = name.partition(".")
        return schema, table
    return None, name


def identifier(name: str, dialect: str) -> exp.Identifier:
    """``name`` as one identifier of ``dialect`` (sqlglot's name), quoted where unquoted SQL would not read
    it back: characters beyond letters, digits and ``_``, or a case the dialect folds."""
    try:
        glot = Dialect.get_or_raise(sqlglot_dialect(dialect) or dialect)
    except ValueError:  # a dialect sqlglot does not know: standard SQL
        glot = Dialect()
    quoted = not exp.SAFE_IDENTIFIER_RE.match(name) or (
        glot.normalization_strategy in _FOLDING and glot.case_sensitive(name)
    )
    return exp.Identifier(this=name, quoted=quoted)


def table_expression(name: str, dialect: str) -> exp.Table:
    """The catalogue table ``name`` as a sqlglot table of ``dialect``: schema and table apart."""
    schema, table = split_table_name(name, dialect)
    return exp.Table(this=identifier(table, dialect), db=identifier(schema, dialect) if schema else None)


@functools.lru_cache(maxsize=8192)
def table_sql(name: str, dialect: str) -> str:
    """The catalogue table ``name`` written in ``dialect``'s SQL (``concert.singer``, ``"Hr"."Singer"``)."""
    try:
        return table_expression(name, dialect).sql(dialect=sqlglot_dialect(dialect) or dialect)
    except ValueError:
        return table_expression(name, dialect).sql()


def column_sql(table: str, column: str, dialect: str) -> str:
    """A column of the catalogue table ``table`` as ``dialect``'s SQL writes it (``concert.singer.name``)."""
    return f"{table_sql(table, dialect)}.{column}"
