"""Running a validated query through the source's read-only execution layer."""

from __future__ import annotations

import time

from pydantic import BaseModel

from schemakg.generation.guard.checks import GuardError
from schemakg.kernel.sources import SourceDatabase, SourceQueryError


class QueryResult(BaseModel):
    columns: list[str]
    rows: list[list[object]]
    truncated: bool
    elapsed_s: float


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
