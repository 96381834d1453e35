"""Gold schema links (tables and columns) of a SQL query, resolved against its schema with sqlglot.

Rules (documented because the figures depend on them):
- SQLite: a quoted identifier that names no column and no alias is a string literal (``"USA"``).
- Identifiers are matched case-insensitively and reported with the schema's original spelling.
- ``*`` (``SELECT *``, ``count(*)``) links the table only, never every column.
- Columns of derived tables (subqueries, CTEs) resolve inside their own scope, so only base-table
  columns are reported; aliases (``T1``) map to their base tables.
- An unqualified column that sqlglot cannot place goes to the unique table in scope that has it,
  else to the unique table in the schema that has it, else it is reported as unresolved.
"""

from __future__ import annotations

import sqlglot
from pydantic import BaseModel
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

from retrieval.schema import DbSchema


class GoldLinks(BaseModel):
    """Tables and ``(table, column)`` pairs a query uses, plus names it used that the schema lacks."""

    tables: list[str]
    columns: list[tuple[str, str]]
    unresolved: list[str] = []


class _Names:
    """Lower-case lookups from SQL spelling to the schema's original names."""

    def __init__(self, schema: DbSchema) -> None:
        self.tables = {t.lower(): t for t in schema.tables}
        self.columns: dict[str, dict[str, str]] = {t.lower(): {} for t in schema.tables}
        for c in schema.columns:
            self.columns[c.table.lower()][c.name.lower()] = c.name
        self.all_columns = {name for cols in self.columns.values() for name in cols}

    def mapping(self) -> dict[str, dict[str, str]]:
        return {t: {c: "TEXT" for c in cols} for t, cols in self.columns.items()}


def gold_links(sql: str, schema: DbSchema) -> GoldLinks:
    """Parse ``sql`` (SQLite dialect) and return the schema elements it references."""
    names = _Names(schema)
    tree = sqlglot.parse_one(sql, read="sqlite")
    _quoted_non_columns_to_literals(tree, names)
    for ident in tree.find_all(exp.Identifier):
        ident.set("this", ident.name.lower())
        ident.set("quoted", True)
    try:
        tree = qualify(
            tree,
            schema=names.mapping(),
            dialect="sqlite",
            expand_stars=False,
            validate_qualify_columns=False,
            quote_identifiers=True,
        )
    except SqlglotError:
        pass  # resolution below still places columns through the scope fallbacks
    return _collect(tree, names)


def _quoted_non_columns_to_literals(tree: exp.Expression, names: _Names) -> None:
    aliases = {a.alias.lower() for a in tree.find_all(exp.Alias)} | {
        t.alias.lower() for t in tree.find_all(exp.Table) if t.alias
    }
    for col in list(tree.find_all(exp.Column)):
        ident = col.this
        if (
            isinstance(ident, exp.Identifier)
            and ident.quoted
            and not col.table
            and ident.name.lower() not in names.all_columns
            and ident.name.lower() not in aliases
        ):
            col.replace(exp.Literal.string(ident.name))


def _collect(tree: exp.Expression, names: _Names) -> GoldLinks:
    tables: dict[str, None] = {}
    columns: dict[tuple[str, str], None] = {}
    unresolved: dict[str, None] = {}
    for scope in traverse_scope(tree):
        base = _base_tables(scope, names)
        for real in base.values():
            tables[real] = None
        select_aliases = {
            s.alias.lower() for s in scope.expression.expressions if isinstance(s, exp.Alias)
        } if isinstance(scope.expression, exp.Select) else set()
        for col in scope.columns:
            if isinstance(col.this, exp.Star):
                continue
            name = col.name.lower()
            alias = col.table.lower()
            if alias and isinstance(scope.sources.get(alias), Scope):
                continue  # a derived-table column: its own scope reports the base column
            candidates = [base[alias]] if alias in base else _outer_table(scope, alias, names)
            if not candidates or name not in names.columns[candidates[0].lower()]:
                if not alias and name in select_aliases:
                    continue
                candidates = [t for t in base.values() if name in names.columns[t.lower()]]
                if len(candidates) != 1:
                    candidates = [names.tables[t] for t, cols in names.columns.items() if name in cols]
            if len(candidates) == 1:
                table = candidates[0]
                columns[(table, names.columns[table.lower()][name])] = None
            elif not any(isinstance(s, Scope) for s in scope.sources.values()):
                unresolved[f"{alias + '.' if alias else ''}{name}"] = None
    for t in tree.find_all(exp.Table):
        if t.name.lower() not in names.tables and t.name.lower() not in _cte_names(tree):
            unresolved[t.name.lower()] = None
    return GoldLinks(tables=list(tables), columns=list(columns), unresolved=list(unresolved))


def _base_tables(scope: Scope, names: _Names) -> dict[str, str]:
    """Alias (or name) -> original table name, for the base tables this scope reads."""
    out: dict[str, str] = {}
    for alias, source in scope.sources.items():
        if isinstance(source, exp.Table) and source.name.lower() in names.tables:
            out[alias.lower()] = names.tables[source.name.lower()]
    return out


def _outer_table(scope: Scope, alias: str, names: _Names) -> list[str]:
    """A correlated reference (``T2`` from an enclosing query) resolves in the nearest parent scope."""
    parent = scope.parent
    while alias and parent is not None:
        base = _base_tables(parent, names)
        if alias in base:
            return [base[alias]]
        parent = parent.parent
    return []


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias.lower() for cte in tree.find_all(exp.CTE)}
