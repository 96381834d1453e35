"""The schema elements a SQL query uses (tables, columns, join conditions), resolved with sqlglot.

One resolver serves query-log ingestion and the retriever's gold labels, so both agree on
what a query "uses". Rules (the figures depend on them):
- SQLite: a double-quoted identifier that names no column and no alias is a string literal ("USA").
- Identifiers match case-insensitively; results use the schema's original spelling.
- ``*`` (``SELECT *``, ``count(*)``) links the table only, never every column.
- Columns of derived tables (subqueries, CTEs) resolve in their own scope, so only base-table
  columns are reported; aliases map to their base tables; correlated references resolve in
  the nearest enclosing scope.
- Schema-qualified names (PostgreSQL sources, ``schemakg.kernel.sql.names``): ``concert.singer`` in SQL is
  the catalogue table ``concert.singer``; a bare ``singer`` is only the default schema's table ``singer``,
  never a table of another schema; ``public.singer`` is the bare ``singer`` too.
- An unqualified column sqlglot cannot place goes to the unique table in scope that has it,
  else to the unique table in the schema that has it, else it is reported as unresolved.
- A join is an equality between columns of two different base tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sqlglot
from pydantic import BaseModel
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify_columns import qualify_columns
from sqlglot.optimizer.qualify_tables import qualify_tables
from sqlglot.optimizer.scope import Scope, traverse_scope
from sqlglot.schema import MappingSchema

from schemakg.kernel.sql.names import default_schema, qualifies_tables, split_table_name

ColumnRef = tuple[str, str]
_RESOLVED = "schemakg_table"  # meta key: the catalogue table a rewritten table node stands for


class SqlParseError(ValueError):
    """The SQL does not parse in the given dialect."""


class SqlLinks(BaseModel):
    tables: list[str]
    columns: list[ColumnRef]
    joins: list[tuple[ColumnRef, ColumnRef]] = []
    unresolved: list[str] = []


def columns_by_table(columns: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """``(table, column)`` pairs grouped by table, in first-seen order."""
    grouped: dict[str, list[str]] = {}
    for table, column in columns:
        grouped.setdefault(table, []).append(column)
    return grouped


class SchemaNames:
    """Lower-case lookups from SQL spelling to a schema's original names. ``dialect`` is the source's: for a
    dialect whose catalogue names tables with their schema (PostgreSQL), a table reference resolves by its
    schema and name (:meth:`table_of`); for the others, by its name alone."""

    def __init__(self, columns_by_table: Mapping[str, Sequence[str]], dialect: str | None = None) -> None:
        self.dialect = dialect
        self.qualified = qualifies_tables(dialect)
        self.default_schema = (default_schema(dialect) or "").lower()
        self.tables = {t.lower(): t for t in columns_by_table}
        self._by_parts: dict[tuple[str, str], str] = {}
        self._by_bare_name: dict[str, list[str]] = {}
        for table in columns_by_table:
            schema, name = split_table_name(table, dialect)
            self._by_parts.setdefault(((schema or "").lower(), name.lower()), table)
            self._by_bare_name.setdefault(name.lower(), []).append(table)
        self.columns: dict[str, dict[str, str]] = {
            t.lower(): {c.lower(): c for c in cols} for t, cols in columns_by_table.items()
        }
        self.all_columns = {name for cols in self.columns.values() for name in cols}
        # Built once: sqlglot would otherwise rebuild (and re-normalise) it for every query.
        self.sqlglot_schema = MappingSchema(
            {t: {c: "TEXT" for c in cols} for t, cols in self.columns.items()}, normalize=False
        )

    def table_of(self, table: exp.Table) -> str | None:
        """The catalogue table that ``table`` names, or None. Qualified names (``concert.singer``) match by
        schema and name; a bare name matches only a bare catalogue name (the default schema's), and so does
        a name qualified with the default schema. One-namespace dialects ignore any qualifier, as before."""
        resolved = table.meta.get(_RESOLVED)
        if resolved is not None:
            return str(resolved)
        name = table.name.lower()
        schema = table.db.lower() if self.qualified else ""
        found = self._by_parts.get((schema, name))
        if found is None and schema and schema == self.default_schema:
            found = self._by_parts.get(("", name))
        return found

    def same_named(self, name: str) -> list[str]:
        """The catalogue tables called ``name`` in any schema (case ignored), in catalogue order."""
        return self._by_bare_name.get(name.lower(), [])


def table_spelling(table: exp.Table) -> str:
    """A table reference as the query qualifies it (``hr.nope``), for messages."""
    return ".".join(part.name for part in table.parts)


def sql_links(sql: str, names: SchemaNames, dialect: str = "sqlite") -> SqlLinks:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError as exc:
        raise SqlParseError(str(exc).splitlines()[0]) from exc
    if len(statements) != 1:
        raise SqlParseError(f"expected one statement, found {len(statements)}")
    tree = statements[0]
    assert isinstance(tree, exp.Expression)
    if dialect == "sqlite":
        quoted_non_columns_to_literals(tree, names.all_columns)
    for ident in tree.find_all(exp.Identifier):
        ident.set("this", ident.name.lower())
        ident.set("quoted", True)
    if names.qualified:
        _name_qualified_tables(tree, names)
    try:
        # Only the two qualify steps that place columns: identifiers are already normalised above.
        tree = qualify_tables(tree, dialect=dialect)
        tree = qualify_columns(tree, names.sqlglot_schema, expand_stars=False)
    except SqlglotError:
        pass  # the scope fallbacks below still place columns
    return _collect(tree, names)


def _name_qualified_tables(tree: exp.Expression, names: SchemaNames) -> None:
    """Each schema-qualified table the catalogue knows becomes one node named as the catalogue names it,
    aliased as SQL lets the query call it (its alias, else its bare name): sqlglot's flat schema then
    places its columns, and a same-named table of another schema cannot lend it any."""
    for table in list(tree.find_all(exp.Table)):
        if not table.db or (real := names.table_of(table)) is None:
            continue
        if not table.alias:
            table.set("alias", exp.TableAlias(this=exp.Identifier(this=table.name, quoted=True)))
        table.set("this", exp.Identifier(this=real.lower(), quoted=True))
        table.set("db", None)
        table.set("catalog", None)
        table.meta[_RESOLVED] = real


def quoted_non_columns_to_literals(tree: exp.Expression, known_names: set[str]) -> exp.Expression:
    """SQLite reads a double-quoted token that names nothing as a string ("USA"); make such
    tokens explicit string literals so other dialects and the resolver agree."""
    aliases = {a.alias.lower() for a in tree.find_all(exp.Alias)} | {
        t.alias.lower() for t in tree.find_all(exp.Table) if t.alias
    }
    for col in list(tree.find_all(exp.Column)):
        ident = col.this
        if (
            isinstance(ident, exp.Identifier)
            and ident.quoted
            and not col.table
            and ident.name.lower() not in known_names
            and ident.name.lower() not in aliases
        ):
            col.replace(exp.Literal.string(ident.name))
    return tree


def _collect(tree: exp.Expression, names: SchemaNames) -> SqlLinks:
    tables: dict[str, None] = {}
    columns: dict[ColumnRef, None] = {}
    unresolved: dict[str, None] = {}
    resolved: dict[int, ColumnRef] = {}
    for scope in traverse_scope(tree):
        base = base_tables(scope, names)
        for real in base.values():
            tables[real] = None
        aliases_in_select = select_aliases(scope)
        for col in scope.columns:
            if isinstance(col.this, exp.Star):
                continue
            name = col.name.lower()
            alias = col.table.lower()
            if alias and isinstance(scope.sources.get(alias), Scope):
                continue  # a derived-table column: its own scope reports the base column
            candidates = [base[alias]] if alias in base else _outer_table(scope, alias, names)
            if not candidates or name not in names.columns[candidates[0].lower()]:
                if not alias and name in aliases_in_select:
                    continue
                candidates = [t for t in base.values() if name in names.columns[t.lower()]]
                if len(candidates) != 1:
                    candidates = [names.tables[t] for t, cols in names.columns.items() if name in cols]
            if len(candidates) == 1:
                ref = (candidates[0], names.columns[candidates[0].lower()][name])
                columns[ref] = None
                resolved[id(col)] = ref
            elif not any(isinstance(s, Scope) for s in scope.sources.values()):
                unresolved[f"{alias + '.' if alias else ''}{name}"] = None
    ctes = {cte.alias.lower() for cte in tree.find_all(exp.CTE)}
    for t in tree.find_all(exp.Table):
        if names.table_of(t) is None and ((names.qualified and t.db) or t.name.lower() not in ctes):
            unresolved[table_spelling(t) if names.qualified else t.name.lower()] = None
    return SqlLinks(
        tables=list(tables), columns=list(columns), joins=_joins(tree, resolved), unresolved=list(unresolved)
    )


def select_aliases(scope: Scope) -> set[str]:
    """Names given in SELECT (``AS total``); qualify's ``col AS col`` self-aliases do not count."""
    if not isinstance(scope.expression, exp.Select):
        return set()
    return {
        s.alias.lower()
        for s in scope.expression.expressions
        if isinstance(s, exp.Alias) and not (isinstance(s.this, exp.Column) and s.this.name.lower() == s.alias.lower())
    }


def _joins(tree: exp.Expression, resolved: dict[int, ColumnRef]) -> list[tuple[ColumnRef, ColumnRef]]:
    found: dict[tuple[ColumnRef, ColumnRef], None] = {}
    for eq in tree.find_all(exp.EQ):
        left, right = resolved.get(id(eq.left)), resolved.get(id(eq.right))
        if left and right and left[0] != right[0]:
            a, b = sorted((left, right))
            found[(a, b)] = None
    return list(found)


def base_tables(scope: Scope, names: SchemaNames) -> dict[str, str]:
    """Alias (or name) -> original table name, for the base tables this scope reads."""
    out: dict[str, str] = {}
    for alias, source in scope.sources.items():
        if isinstance(source, exp.Table) and (table := names.table_of(source)) is not None:
            out[alias.lower()] = table
    return out


def reachable_tables(scope: Scope | None, names: SchemaNames) -> dict[str, str]:
    """Alias -> table for this scope and the scopes around it (correlated references), nearest first."""
    reachable: dict[str, str] = {}
    while scope is not None:
        for alias, table in base_tables(scope, names).items():
            reachable.setdefault(alias, table)
        scope = scope.parent
    return reachable


def _outer_table(scope: Scope, alias: str, names: SchemaNames) -> list[str]:
    """A correlated reference (``T2`` from an enclosing query) resolves in the nearest parent scope."""
    table = reachable_tables(scope.parent, names).get(alias) if alias else None
    return [table] if table else []
