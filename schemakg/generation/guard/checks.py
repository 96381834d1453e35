"""What may run: SQL short and shallow enough to check, one read-only statement in the source's dialect,
allowed functions only, and only tables and columns the catalogue knows, each where the query reads it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlglot
from pydantic import BaseModel
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope

from schemakg.generation.guard.scopes import columns_with_scope
from schemakg.kernel.sql.functions import refused_function
from schemakg.kernel.sql.links import (
    SchemaNames,
    SqlLinks,
    SqlParseError,
    base_tables,
    quoted_non_columns_to_literals,
    reachable_tables,
    select_aliases,
    sql_links,
)

_READ_ONLY_ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)
_WRITES = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Command,
    exp.Into,
    exp.Lock,
    exp.Set,
    exp.Copy,
    exp.Pragma,
    exp.Attach,
    exp.Detach,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Grant,
    exp.Use,
    exp.LoadData,
)
# Bind parameters and session variables: nothing binds them, and they reach session state.
_PARAMETERS = (exp.Placeholder, exp.Parameter, exp.SessionParameter)
# Checked before parsing, so a hostile query costs microseconds, never a RecursionError or minutes
# of parser CPU. The longest gold query in Spider and BIRD training has 804 characters and
# nests parentheses 5 deep.
MAX_SQL_CHARS = 6_000
MAX_NESTING = 24


class GuardError(ValueError):
    """The SQL was refused or failed; the message is safe to show and to feed back to the LLM."""

    def __init__(self, message: str, stage: str) -> None:
        super().__init__(message)
        self.stage = stage  # "limits" | "parse" | "policy" | "function" | "schema" | "execute" | "deadline"

    @property
    def refusal(self) -> bool:
        """A refusal no retry can fix: the SQL asked for something the service never does."""
        return self.stage in ("limits", "policy")

    @property
    def final(self) -> bool:
        """No retry: a refusal, or a query that ran out of time (another would take as long again,
        and an answer's latency stays within one deadline)."""
        return self.refusal or self.stage == "deadline"


class Validated(BaseModel):
    """What may run: the one statement rendered back from the tree the guard checked (no
    comments, the source's own quoting), and the catalogue elements it uses."""

    sql: str
    links: SqlLinks


def check_limits(sql: str) -> None:
    """Refuse, before any parsing, SQL too long or too deeply nested to be an analyst's query."""
    if len(sql) > MAX_SQL_CHARS:
        raise GuardError(f"the SQL is {len(sql)} characters long; the limit is {MAX_SQL_CHARS}", "limits")
    depth = deepest = 0
    for char in sql:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    if deepest > MAX_NESTING:
        raise GuardError(f"the SQL nests parentheses {deepest} deep; the limit is {MAX_NESTING}", "limits")


@contextmanager
def _nesting_refused() -> Iterator[None]:
    """Nesting without parentheses (``NOT NOT NOT …``, long operator chains) can still recurse past
    Python's limit inside sqlglot: that is a refusal too, never a crash."""
    try:
        yield
    except RecursionError as exc:
        raise GuardError("the SQL nests too deeply to check", "limits") from exc


def check_policy(sql: str, dialect: str) -> exp.Expression:
    """The schema-free half of ``validate``: limits, one statement, read-only, allowed functions."""
    check_limits(sql)
    with _nesting_refused():
        return _check_policy(sql, dialect)


def validate(sql: str, dialect: str, names: SchemaNames) -> Validated:
    """Refuse anything but one read-only query over known tables and columns, calling only allowed
    functions, parsed in ``dialect`` (the source's: nothing else decides how its text splits)."""
    tree = check_policy(sql, dialect)
    with _nesting_refused():
        return _validate(tree, sql, dialect, names)


def _check_policy(sql: str, dialect: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError as exc:
        raise GuardError(f"the SQL does not parse as {dialect}: {str(exc).splitlines()[0]}", "parse") from exc
    if len(statements) != 1:
        raise GuardError(f"exactly one statement is allowed, found {len(statements)}", "policy")
    tree = statements[0]
    if not isinstance(tree, _READ_ONLY_ROOTS):
        raise GuardError(f"only read-only queries may run, not {tree.key.upper()}", "policy")
    for node in tree.walk():
        if isinstance(node, _WRITES):
            raise GuardError(f"only read-only queries may run; found {node.key.upper()}", "policy")
        if isinstance(node, _PARAMETERS):
            raise GuardError(f"parameters and session variables are not allowed: {node.sql(dialect)}", "policy")
        if isinstance(node, exp.Func) and (name := refused_function(node, dialect)) is not None:
            raise GuardError(
                f"the function {name}() is not allowed; use standard SQL functions and operators", "function"
            )
    return tree


def _validate(tree: exp.Expression, sql: str, dialect: str, names: SchemaNames) -> Validated:
    try:
        links = sql_links(sql, names, dialect)
    except SqlParseError as exc:
        raise GuardError(f"the SQL does not parse as {dialect}: {exc}", "parse") from exc
    for name in links.unresolved:
        holders = [t for t in links.tables if name in names.columns[t.lower()]]
        if len(holders) > 1:
            raise GuardError(
                f"the column {name} is ambiguous: {' and '.join(holders)} both have it; qualify it", "schema"
            )
    if links.unresolved:
        raise GuardError(f"no such table or column in the catalogue: {', '.join(links.unresolved)}", "schema")
    if dialect == "sqlite":
        quoted_non_columns_to_literals(tree, names.all_columns)
    _check_columns_in_scope(tree, names, dialect)
    return Validated(sql=tree.sql(dialect=dialect, comments=False), links=links)


def _check_columns_in_scope(tree: exp.Expression, names: SchemaNames, dialect: str) -> None:
    """Every column must belong to a table the query reads where it is used. The catalogue-wide
    resolver places ``T2.name`` on any table that has ``name``; the database would not. SQLite
    does not let a subquery's ORDER BY see the enclosing query's tables."""
    for scope, column in columns_with_scope(tree):
        in_order_by = isinstance(column.find_ancestor(exp.Order, exp.Select), exp.Order)
        own_tables_only = dialect == "sqlite" and in_order_by and scope.parent is not None
        reachable = base_tables(scope, names) if own_tables_only else reachable_tables(scope, names)
        derived = any(isinstance(source, Scope) for source in scope.sources.values())
        alias, name = column.table.lower(), column.name.lower()
        if alias:
            table = reachable.get(alias)
            if table is None or name in names.columns[table.lower()]:
                continue
            problem = (
                f"{column.table}.{column.name}: {column.table} is the table {table}, which has no column {column.name}"
            )
        else:
            if (
                derived
                or name in select_aliases(scope)
                or any(name in names.columns[t.lower()] for t in reachable.values())
            ):
                continue
            read = ", ".join(dict.fromkeys(reachable.values())) or "none"
            problem = f"{column.name} is in none of the tables the query reads there ({read})"
        holders = [table for table, cols in names.columns.items() if name in cols]
        hint = f"; {column.name} is a column of {', '.join(names.tables[t] for t in holders[:3])}" if holders else ""
        raise GuardError(problem + hint, "schema")
