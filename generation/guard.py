"""The guard between generated SQL and a user's database.

The guard is one of two fences, each enough on its own (the threat model in the README): a
statement runs only if it is short and shallow enough to check, parses in the source's own
dialect, is exactly one read-only query (SELECT, WITH … SELECT, set operations), calls only
allowed functions (``ingest.sql_functions``), and names only tables and columns the catalogue
knows. What runs is the statement rendered back from the checked tree, through the source's
read-only execution layer (``SourceDatabase.read``) under a deadline, a row cap and a size cap.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from functools import lru_cache

import sqlglot
from pydantic import BaseModel
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

from ingest.sources import SourceDatabase, SourceQueryError
from ingest.sql_functions import refused_function
from ingest.sql_links import (
    ColumnRef,
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
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.TruncateTable,
    exp.Command, exp.Into, exp.Lock, exp.Set, exp.Copy, exp.Pragma, exp.Attach, exp.Detach, exp.Transaction,
    exp.Commit, exp.Rollback, exp.Grant, exp.Use, exp.LoadData,
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


class Repaired(BaseModel):
    sql: str
    notes: list[str]


class Validated(BaseModel):
    """What may run: the one statement rendered back from the tree the guard checked (no
    comments, the source's own quoting), and the catalogue elements it uses."""

    sql: str
    links: SqlLinks


class QueryResult(BaseModel):
    columns: list[str]
    rows: list[list[object]]
    truncated: bool
    elapsed_s: float


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
            raise GuardError(f"the column {name} is ambiguous: {' and '.join(holders)} both have it; qualify it", "schema")
    if links.unresolved:
        raise GuardError(f"no such table or column in the catalogue: {', '.join(links.unresolved)}", "schema")
    if dialect == "sqlite":
        quoted_non_columns_to_literals(tree, names.all_columns)
    _check_columns_in_scope(tree, names, dialect)
    return Validated(sql=tree.sql(dialect=dialect, comments=False), links=links)


def repair(
    sql: str, dialect: str, names: SchemaNames, foreign_keys: Sequence[tuple[ColumnRef, ColumnRef]] = (),
) -> Repaired:
    """Fix, without asking the LLM again, the slips small models make most and rarely repair
    themselves: a column put on the wrong alias when exactly one other table in reach has it; an
    unqualified column that joined tables share and the join equates; a column of a table the
    query never joins, when exactly one foreign key links that table to one the query reads (the
    join is added); and an unquoted keyword used as a qualifier (SQLite rejects ``cast.aid``).
    SQL that does not parse, or needs no fix, comes back unchanged."""
    try:
        check_limits(sql)
        return _repair(sqlglot.parse_one(sql, read=dialect), sql, dialect, names, foreign_keys)
    except (SqlglotError, GuardError, RecursionError):
        return Repaired(sql=sql, notes=[])


def _repair(
    tree: exp.Expression, sql: str, dialect: str, names: SchemaNames, foreign_keys: Sequence[tuple[ColumnRef, ColumnRef]],
) -> Repaired:
    notes: list[str] = []
    spelled = {table.alias_or_name.lower(): table.alias_or_name for table in tree.find_all(exp.Table)}
    for scope, column in _columns_with_scope(tree):
        own, reachable = base_tables(scope, names), reachable_tables(scope, names)
        alias, name = column.table.lower(), column.name.lower()
        if alias not in own or name in names.columns[own[alias].lower()]:
            continue
        holders = [a for a, table in reachable.items() if name in names.columns[table.lower()]]
        if len(holders) != 1 or _compared_with_itself(column, holders[0]):
            continue
        new_alias = spelled.get(holders[0], holders[0])
        notes.append(f"{column.table}.{column.name} -> {new_alias}.{column.name} ({own[alias]} has no column {column.name})")
        column.set("table", exp.to_identifier(new_alias))
    notes += _qualify_join_columns(tree, names, spelled)
    if foreign_keys:
        notes += _join_missing_tables(tree, names, foreign_keys, spelled)
    if dialect == "sqlite":
        for column in tree.find_all(exp.Column):
            qualifier = column.args.get("table")
            if isinstance(qualifier, exp.Identifier) and not qualifier.quoted and _sqlite_rejects_qualifier(qualifier.name):
                qualifier.set("quoted", True)
                notes.append(f"quoted the keyword {qualifier.name} used as a qualifier")
    return Repaired(sql=tree.sql(dialect=dialect) if notes else sql, notes=notes)


def _columns_with_scope(tree: exp.Expression) -> Iterator[tuple[Scope, exp.Column]]:
    """Each non-star column once, with the innermost scope it is written in. sqlglot also lists an
    unqualified column of a subquery among the enclosing scope's columns (it might be correlated);
    scopes come innermost first, so the first one seen is where it is written."""
    seen: set[int] = set()
    for scope in traverse_scope(tree):
        for column in scope.columns:
            if id(column) not in seen and not isinstance(column.this, exp.Star):
                seen.add(id(column))
                yield scope, column


def _qualify_join_columns(tree: exp.Expression, names: SchemaNames, spelled: dict[str, str]) -> list[str]:
    """An unqualified ``business_id`` in ``business JOIN category ON business.business_id =
    category.business_id`` is ambiguous to the database, but the join makes every copy equal:
    qualify it with the first table."""
    notes: list[str] = []
    for scope, column in list(_columns_with_scope(tree)):
        name = column.name.lower()
        if column.table or name in select_aliases(scope):
            continue
        holders = [a for a, table in base_tables(scope, names).items() if name in names.columns[table.lower()]]
        if len(holders) < 2:
            continue
        equated = {
            frozenset((eq.left.table.lower(), eq.right.table.lower()))
            for eq in scope.expression.find_all(exp.EQ)
            if isinstance(eq.left, exp.Column) and isinstance(eq.right, exp.Column)
            and eq.left.name.lower() == name and eq.right.name.lower() == name
        }
        if all(frozenset((holders[0], other)) in equated for other in holders[1:]):
            first = spelled.get(holders[0], holders[0])
            notes.append(f"{column.name} -> {first}.{column.name} (the join makes every copy equal)")
            column.set("table", exp.to_identifier(first))
    return notes


def _join_missing_tables(
    tree: exp.Expression, names: SchemaNames, foreign_keys: Sequence[tuple[ColumnRef, ColumnRef]],
    spelled: dict[str, str],
) -> list[str]:
    """``SELECT Jan FROM temperature WHERE City = 'Shanghai'`` where only ``city`` has ``City``, and
    one foreign key links ``temperature`` to ``city``: join ``city`` on it and qualify the column."""
    notes: list[str] = []
    joined: dict[tuple[int, str], str] = {}  # (scope select, table) -> alias of the join added there
    for scope, column in list(_columns_with_scope(tree)):
        select = scope.expression
        if not isinstance(select, exp.Select) or not select.args.get("from_"):
            continue
        name, alias = column.name.lower(), column.table.lower()
        reachable = reachable_tables(scope, names)
        own = base_tables(scope, names)
        if (alias and alias not in own) or (not alias and name in select_aliases(scope)):
            continue
        if any(name in names.columns[t.lower()] for t in reachable.values()):
            continue  # placed already, or ambiguous: not a missing join
        holders = {names.tables[t] for t, cols in names.columns.items() if name in cols} - set(reachable.values())
        links = [
            (own_alias, mine, theirs)
            for (a_table, a_col), (b_table, b_col) in foreign_keys
            for (mine, theirs) in (((a_table, a_col), (b_table, b_col)), ((b_table, b_col), (a_table, a_col)))
            for own_alias, table in own.items()
            if table.lower() == mine[0].lower() and theirs[0] in holders
        ]
        if len(links) != 1:
            continue
        own_alias, mine, theirs = links[0]
        key = (id(select), theirs[0])
        if key not in joined:
            new_alias = theirs[0] if theirs[0].lower() not in reachable else f"{theirs[0]}_1"
            table = exp.Table(this=exp.to_identifier(theirs[0]))
            if new_alias != theirs[0]:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(new_alias)))
            condition = exp.EQ(
                this=exp.column(mine[1], table=spelled.get(own_alias, own_alias)),
                expression=exp.column(theirs[1], table=new_alias),
            )
            select.join(table, on=condition, copy=False)
            joined[key] = new_alias
            notes.append(f"joined {theirs[0]} on {mine[0]}.{mine[1]} = {theirs[0]}.{theirs[1]} for {column.name}")
        column.set("table", exp.to_identifier(joined[key]))
    return notes


def _compared_with_itself(column: exp.Column, new_alias: str) -> bool:
    """Moving ``c.did`` in ``d.did = c.did`` to ``d`` would make a join condition always true."""
    parent = column.parent
    if not isinstance(parent, exp.Binary):
        return False
    other = parent.right if parent.left is column else parent.left
    return isinstance(other, exp.Column) and other.table.lower() == new_alias and other.name.lower() == column.name.lower()


@lru_cache(maxsize=1024)
def _sqlite_rejects_qualifier(name: str) -> bool:
    """Ask SQLite itself whether ``name.x`` parses: its keyword list is the engine's, not sqlglot's."""
    if not re.fullmatch(r"\w+", name):
        return False
    with closing(sqlite3.connect(":memory:")) as probe:
        try:
            probe.execute(f'SELECT {name}.x FROM (SELECT 1 AS x) AS "{name}"')
        except sqlite3.Error:
            return True
    return False


def _check_columns_in_scope(tree: exp.Expression, names: SchemaNames, dialect: str) -> None:
    """Every column must belong to a table the query reads where it is used. The catalogue-wide
    resolver places ``T2.name`` on any table that has ``name``; the database would not. SQLite
    does not let a subquery's ORDER BY see the enclosing query's tables."""
    for scope, column in _columns_with_scope(tree):
        in_order_by = isinstance(column.find_ancestor(exp.Order, exp.Select), exp.Order)
        own_tables_only = dialect == "sqlite" and in_order_by and scope.parent is not None
        reachable = base_tables(scope, names) if own_tables_only else reachable_tables(scope, names)
        derived = any(isinstance(source, Scope) for source in scope.sources.values())
        alias, name = column.table.lower(), column.name.lower()
        if alias:
            table = reachable.get(alias)
            if table is None or name in names.columns[table.lower()]:
                continue
            problem = f"{column.table}.{column.name}: {column.table} is the table {table}, which has no column {column.name}"
        else:
            if derived or name in select_aliases(scope) or any(name in names.columns[t.lower()] for t in reachable.values()):
                continue
            read = ", ".join(dict.fromkeys(reachable.values())) or "none"
            problem = f"{column.name} is in none of the tables the query reads there ({read})"
        holders = [table for table, cols in names.columns.items() if name in cols]
        hint = f"; {column.name} is a column of {', '.join(names.tables[t] for t in holders[:3])}" if holders else ""
        raise GuardError(problem + hint, "schema")


def execute(source: SourceDatabase, sql: str, timeout_s: float, row_cap: int, max_bytes: int) -> QueryResult:
    """Run an already validated query through the source's read-only execution layer, under a
    deadline, keeping at most ``row_cap`` rows and ``max_bytes`` of values."""
    started = time.perf_counter()
    try:
        read = source.read(sql, timeout_s=timeout_s, row_cap=row_cap, max_bytes=max_bytes)
    except SourceQueryError as exc:
        raise GuardError(str(exc), "deadline" if exc.deadline else "execute") from exc
    return QueryResult(
        columns=read.columns, rows=read.rows, truncated=read.truncated, elapsed_s=time.perf_counter() - started
    )
