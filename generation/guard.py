"""The guard between generated SQL and a user's database.

A statement runs only if it parses in the target dialect, is exactly one read-only query
(SELECT, WITH … SELECT, set operations), calls no function with side effects, and names only
tables and columns the catalogue knows. It then runs on a read-only connection
(``SourceDatabase``: SQLite ``mode=ro`` plus ``query_only``, PostgreSQL read-only transactions
with ``statement_timeout``) under a deadline and a row cap.
"""

from __future__ import annotations

import time

import sqlglot
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlglot import exp
from sqlglot.errors import SqlglotError

from ingest.sources import SourceDatabase, redact
from ingest.sql_links import SchemaNames, SqlLinks, SqlParseError, sql_links

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
    if links.unresolved:
        raise GuardError(f"no such table or column in the catalogue: {', '.join(links.unresolved)}", "schema")
    return links


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
