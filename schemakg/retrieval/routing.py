"""Routing a question to the databases that can answer it, when it names none (DBCopilot's question →
database step, done with the column index: table retrieval across the whole catalogue).

Every registered database's columns are scored against the question (one encoding, one pass per
database). A database's score is its coverage of the question: each question token's best match
among all of its columns, averaged (late interaction with the whole database as the document). On
the Spider training databases that ranked the right one first for 0.78 of the validation questions,
against 0.69 for its best column and 0.66 for its best tables (docs/evaluation.md). The route's
reason is its best tables: a table scores the mean of its best ``COLUMNS_PER_TABLE`` columns, so it
needs more than one good column to win.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

from schemakg.kernel.model import split_column_ref
from schemakg.retrieval.index import ColumnScores

COLUMNS_PER_TABLE = 2
_CANDIDATES = 24  # a database's best columns considered; the rest cannot change its best two tables


class TableMatch(BaseModel):
    table: str
    score: float
    columns: list[str]  # the columns behind the score, best first


class Route(BaseModel):
    database: str
    score: float
    tables: list[TableMatch]  # the best tables, best first: why this database


def table_matches(scores: ColumnScores, candidates: int = _CANDIDATES) -> list[TableMatch]:
    """Tables by their best columns' mean normalised score, best first, among the best ``candidates`` columns."""
    by_table: dict[str, list[tuple[str, float]]] = {}
    for scored in scores.ranked(candidates):
        table, column = split_column_ref(scored.key)
        by_table.setdefault(table, []).append((column, scored.normalised))
    matches = [
        TableMatch(
            table=table,
            score=sum(s for _, s in best[:COLUMNS_PER_TABLE]) / COLUMNS_PER_TABLE,
            columns=[c for c, _ in best[:COLUMNS_PER_TABLE]],
        )
        for table, best in by_table.items()
    ]
    return sorted(matches, key=lambda m: -m.score)


def route(scores: Mapping[str, ColumnScores], top: int = 5) -> list[Route]:
    """The ``top`` databases for the question these scores answer, best first (ties by name)."""
    routes = []
    for database, scored in scores.items():
        tables = table_matches(scored)
        if tables:
            routes.append(Route(database=database, score=float(scored.coverage()[0]), tables=tables[:2]))
    routes.sort(key=lambda r: (-r.score, r.database))
    return routes[:top]
