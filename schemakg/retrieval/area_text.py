"""The text the area reranker (``area_reranker``) reads for one candidate area or database, and how its
logit joins coverage. Kept apart from the model so that linking and routing import no transformers."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from schemakg.kernel.model import split_column_ref
from schemakg.retrieval.column_docs import humanise
from schemakg.retrieval.join_paths import namespace

if TYPE_CHECKING:
    from schemakg.retrieval.index import ColumnScores

# An area's final score is the reranker's logit plus this many times its coverage. Alone the reranker ranks
# the right area first less often than coverage does (0.66 against 0.72 on 600 validation-warehouse
# questions); together they do best (0.73; docs/evaluation.md, the area reranker).
COVERAGE_WEIGHT = 50.0


def combined(logits: Sequence[float], coverage: Sequence[float]) -> list[float]:
    """The areas' final scores: :data:`COVERAGE_WEIGHT` × coverage + the reranker's logit."""
    return [logit + COVERAGE_WEIGHT * cover for logit, cover in zip(logits, coverage, strict=True)]


def area_text(name: str | None, columns: Sequence[tuple[str, str]], max_columns: int = 24) -> str:
    """``name | table: column, column ; table: column``, from ``(table, column)`` pairs best first. Tables
    keep the order of their best column, so what truncation cuts is what matched the question least."""
    by_table: dict[str, list[str]] = {}
    for table, column in columns[:max_columns]:
        by_table.setdefault(table, []).append(humanise(column))
    body = " ; ".join(f"{humanise(t)}: {', '.join(cs)}" for t, cs in by_table.items())
    return f"{humanise(name)} | {body}" if name else body


def area_texts(
    scores: ColumnScores, areas: Mapping[str, int], wanted: Collection[int], max_columns: int
) -> dict[int, str]:
    """:func:`area_text` of each ``wanted`` area of one large schema (``areas``: each table's area), from the
    question's column ranking. An area is named by its namespace (``sales`` of ``sales__orders`` or
    ``sales.orders``), its tables by their names within it."""
    members: dict[int, list[tuple[str, str]]] = {area: [] for area in wanted}
    full = 0
    for position in scores.order():
        table, column = split_column_ref(scores.keys[position])
        found = members.get(areas.get(table, -1))
        if found is not None and len(found) < max_columns:
            found.append((table, column))
            full += len(found) == max_columns
            if full == len(members):
                break
    texts = {}
    for area, columns in members.items():
        space = namespace(columns[0][0]) if columns else None
        texts[area] = area_text(space, [(_local(t, space), c) for t, c in columns], max_columns)
    return texts


def _local(table: str, space: str | None) -> str:
    """A table's name within its namespace: ``sales__orders`` and ``sales.orders`` are ``orders`` in ``sales``."""
    for separator in (".", "__"):
        if space is not None and table.lower().startswith(f"{space}{separator}"):
            return table[len(space) + len(separator) :]
    return table
