"""Bounded value sampling: one capped row sample per table, never a full-table DISTINCT.

Per table we read at most ``row_budget`` rows in one query (under a deadline), count values
per column in Python, and estimate the distinct count of the whole column with the GEE
estimator (Charikar et al., 2000) when the sample did not cover the table.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import column, func, literal, select, table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import TableClause

from schemakg.kernel.model import TableSnapshot, ValueProfile
from schemakg.kernel.progress import Progress
from schemakg.kernel.settings import Settings
from schemakg.kernel.sources import SourceDatabase
from schemakg.kernel.sql.names import split_table_name

_BINARY_TYPES = ("BLOB", "BYTEA", "BINARY", "VARBINARY", "IMAGE", "GEOMETRY")


@dataclass(frozen=True)
class SamplingBounds:
    row_budget: int = 5_000
    top_values: int = 10
    examples: int = 5
    value_max_chars: int = 80
    match_values: int = 100
    query_timeout_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SamplingBounds:
        """The bounds the service is configured with (``SCHEMAKG_SAMPLE_*``, ``SCHEMAKG_SOURCE_QUERY_TIMEOUT_S``)."""
        return cls(
            row_budget=settings.sample_row_budget,
            top_values=settings.sample_top_values,
            examples=settings.sample_examples,
            value_max_chars=settings.sample_value_max_chars,
            match_values=settings.sample_match_values,
            query_timeout_s=settings.source_query_timeout_s,
        )


def gee_distinct_estimate(counts: Counter[object], sample_rows: int, table_rows: int | None) -> int:
    """Guaranteed-error estimator: sqrt(N/n)·f1 + Σ_{j≥2} f_j, never below what the sample saw."""
    seen = len(counts)
    if not table_rows or sample_rows == 0 or table_rows <= sample_rows:
        return seen
    singletons = sum(1 for c in counts.values() if c == 1)
    estimate = math.sqrt(table_rows / sample_rows) * singletons + (seen - singletons)
    return int(min(max(seen, round(estimate)), table_rows))


def _display(value: object, max_chars: int) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def _count_rows(
    source: SourceDatabase, target: TableClause, cap: int, bounds: SamplingBounds
) -> tuple[int | None, bool]:
    """Rows in the table, exact when below ``cap`` (cheap bounded count), else an estimate or None."""
    with source.connect() as conn, source.deadline(conn, bounds.query_timeout_s):
        bounded = select(func.count()).select_from(select(literal(1)).select_from(target).limit(cap + 1).subquery())
        n = int(conn.execute(bounded).scalar_one())
        if n <= cap:
            return n, True
        try:
            total = conn.execute(select(func.count()).select_from(target)).scalar_one()
            return int(total), False
        except DBAPIError:
            return None, False


def profile_table(source: SourceDatabase, snapshot: TableSnapshot, bounds: SamplingBounds) -> list[str]:
    """Fill ``profile`` and ``row_estimate`` in place; returns warnings (never raises for one table)."""
    sampled = [c for c in snapshot.columns if not c.data_type.upper().startswith(_BINARY_TYPES)]
    schema, name = split_table_name(snapshot.name, source.dialect)  # "concert"."singer", never "concert.singer"
    target = table(name, *[column(c.name) for c in snapshot.columns], schema=schema)
    try:
        row_count, exact = _count_rows(source, target, bounds.row_budget, bounds)
        snapshot.row_estimate = row_count
        if not sampled:
            return []
        query = select(*[target.c[c.name] for c in sampled]).limit(bounds.row_budget)
        with source.connect() as conn, source.deadline(conn, bounds.query_timeout_s):
            rows = conn.execute(query).fetchall()
    except DBAPIError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        return [f"{snapshot.name}: values not sampled ({reason})"]
    n = len(rows)
    for index, col in enumerate(sampled):
        counts: Counter[object] = Counter(row[index] for row in rows if row[index] is not None)
        nulls = n - sum(counts.values())
        top = counts.most_common(bounds.top_values)
        col.profile = ValueProfile(
            examples=[_display(v, bounds.value_max_chars) for v, _ in top[: bounds.examples]],
            top_values=[_display(v, bounds.value_max_chars) for v, _ in top],
            top_counts=[c for _, c in top],
            match_values=[
                _display(v, bounds.value_max_chars)
                for v, _ in counts.most_common(bounds.match_values)
                if isinstance(v, str) and v.strip()
            ],
            distinct_estimate=gee_distinct_estimate(counts, n, row_count),
            null_fraction=round(nulls / n, 4) if n else None,
            sampled_rows=n,
            exact=exact,
        )
    return []


def profile_tables(
    source: SourceDatabase, tables: list[TableSnapshot], bounds: SamplingBounds, progress: Progress | None = None
) -> list[str]:
    warnings: list[str] = []
    for index, snapshot in enumerate(tables):
        warnings += profile_table(source, snapshot, bounds)
        if progress:
            progress(index + 1, len(tables), f"sampled {snapshot.name}")
    return warnings
