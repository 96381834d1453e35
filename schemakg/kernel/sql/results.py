"""Comparing query results: execution accuracy's test (result sets equal as multisets; order counts
only when the gold query orders its top-level result) and the signature that groups SQL candidates
whose results agree."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence

import sqlglot
from sqlglot.errors import SqlglotError


def _cell(value: object) -> object:
    if isinstance(value, float):
        return round(value, 6) if not value.is_integer() else int(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _row(row: Sequence[object]) -> tuple[object, ...]:
    return tuple(_cell(v) for v in row)


def orders_result(sql: str, dialect: str = "sqlite") -> bool:
    """True when the outermost query has ORDER BY (a subquery's ORDER BY does not fix the output order)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return "order by" in sql.lower()
    return tree.args.get("order") is not None


def results_match(predicted: Sequence[Sequence[object]], gold: Sequence[Sequence[object]], ordered: bool) -> bool:
    predicted_rows = [_row(r) for r in predicted]
    gold_rows = [_row(r) for r in gold]
    if ordered:
        return predicted_rows == gold_rows
    return Counter(predicted_rows) == Counter(gold_rows)


def informative(rows: Sequence[Sequence[object]]) -> bool:
    """Whether a result says anything: a value other than NULL, 0 or empty text. No rows, a count of 0 or an
    aggregate over nothing (NULL) is what a query returns from the wrong tables or with a wrong filter, and
    what every query returns from a database with no rows."""
    return any(value not in (None, 0, "") for row in rows for value in row)


def result_signature(rows: Sequence[Sequence[object]]) -> str:
    """A short fingerprint of a result as a multiset of rows: equal for results that ``results_match``
    unordered, so candidates that return the same answer in another row order agree."""
    canonical = sorted(json.dumps(_row(r), default=str) for r in rows)
    return hashlib.sha256("\n".join(canonical).encode()).hexdigest()[:16]
