"""The guard between generated SQL and a user's database.

A statement runs only if it parses in the target dialect, is exactly one read-only query
(SELECT, WITH … SELECT, set operations), calls no function with side effects, and names only
tables and columns the catalogue knows. It then runs on a read-only connection
(``SourceDatabase``: SQLite ``mode=ro`` plus ``query_only``, PostgreSQL read-only transactions
with ``statement_timeout``) under a deadline and a row cap.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from functools import lru_cache

import sqlglot
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

from ingest.sources import SourceDatabase, redact
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
SIDE_EFFECT_FUNCTIONS = frozenset({
    "load_extension", "writefile", "readfile", "edit", "fts3_tokenizer",
    "pg_sleep", "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import", "lo_export",
    "dblink", "dblink_exec", "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "set_config",
    "nextval", "setval", "txid_current", "pg_advisory_lock", "query_to_xml",
    "sleep", "benchmark", "load_file", "get_lock", "release_lock", "sys_exec", "sys_eval",
    "xp_cmdshell", "openrowset", "opendatasource",
})


class GuardError(ValueError):
    """The SQL was refused or failed; the message is safe to show and to feed back to the LLM."""

    def __init__(self, message: str, stage: str) -> None:
        super().__init__(message)
        self.stage = stage  # "parse" | "policy" | "schema" | "execute"


class Repaired(BaseModel):
    sql: str
    notes: list[str]


class QueryResult(BaseModel):
    columns: list[str]
    rows: list[list[object]]
    truncated: bool
    elapsed_s: float


def validate(sql: str, dialect: str, names: SchemaNames) -> SqlLinks:
    """Refuse anything but one read-only query over known tables and columns; returns what it uses."""
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
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in SIDE_EFFECT_FUNCTIONS:
                raise GuardError(f"the function {name}() is not allowed", "policy")
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
    return links


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
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return Repaired(sql=sql, notes=[])
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


def execute(source: SourceDatabase, sql: str, timeout_s: float, row_cap: int) -> QueryResult:
    """Run an already validated query read-only, under a deadline, keeping at most ``row_cap`` rows."""
    started = time.perf_counter()
    try:
        with source.connect() as conn, source.deadline(conn, timeout_s):
            result = conn.execute(text(sql))
            rows = result.fetchmany(row_cap + 1)
            columns = list(result.keys())
            conn.rollback()
    except DBAPIError as exc:
        detail = str(getattr(exc, "orig", exc)).splitlines()[0]
        if "interrupted" in detail:
            detail = f"the query ran past its {timeout_s:g}s time limit"
        raise GuardError(redact(f"the query failed: {detail}", source.url), "execute") from exc
    return QueryResult(
        columns=columns,
        rows=[list(row) for row in rows[:row_cap]],
        truncated=len(rows) > row_cap,
        elapsed_s=time.perf_counter() - started,
    )
