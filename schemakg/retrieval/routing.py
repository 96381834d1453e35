"""Routing a question to the databases that can answer it, when it names none (DBCopilot's question →
database step, done with the column index: table retrieval across the whole catalogue).

Every registered database's columns are scored against the question (one encoding, one pass per
database). A database's score is its coverage of the question: each question token's best match
among all of its columns, averaged over the tokens of content words (late interaction with the whole
database as the document; ``question_words``). On the Spider training databases that ranked the right one
first for 0.78 of the validation questions, against 0.69 for its best column and 0.66 for its best tables
(docs/evaluation.md). The route's reason is its best tables: a table scores the mean of its best
``COLUMNS_PER_TABLE`` columns, so it needs more than one good column to win. The best few are then rescored
by the area reranker, which reads the question with each database's best columns together.

When coverage alone has decided (the best database leads every other by ``DECIDED``), the route says so: on
the 975 validation questions that held for 65 % of them, and their first database was right for 0.97,
against 0.44 for the rest. A caller can act on that: answer at once when decided, show the alternatives or
ask which database was meant when not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from schemakg.kernel.model import split_column_ref
from schemakg.retrieval.area_text import COVERAGE_WEIGHT, area_text, combined
from schemakg.retrieval.index import ColumnScores
from schemakg.retrieval.linked_schema import Route, TableMatch
from schemakg.retrieval.question_log import log_order

if TYPE_CHECKING:
    from schemakg.retrieval.area_reranker import AreaReranker

COLUMNS_PER_TABLE = 2
_CANDIDATES = 24  # a database's best columns considered; the rest cannot change its best two tables
# When the best database's coverage leads the second's by this much, coverage has decided: the reranker is not
# asked (on 600 validation questions it then changed no first or top-three choice, and this skips it for more
# than half of them), and the first route is marked ``decided``.
DECIDED = 0.05
# The best routes a query log may reorder (``question_log``): the reranker's head.
LOG_ROUTES = 4


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


def route(
    scores: Mapping[str, ColumnScores],
    top: int = 5,
    question: str | None = None,
    reranker: AreaReranker | None = None,
    rerank: int = 4,
    named: Mapping[str, float] | None = None,
    log: Callable[[list[str]], Mapping[str, float]] | None = None,
    log_weight: float = 0.0,
    absent: Mapping[str, float] | None = None,
) -> list[Route]:
    """The ``top`` databases for the question these scores answer, best first (ties by name). A database's score
    is its coverage plus its ``named`` share, if any (the column names the question spells out that it holds,
    ``identifiers``, and the values it writes as literals: ``Linker.named_shares``), less its ``absent`` share (the
    literals its full value lists lack: ``Linker.literal_absences``). With a ``reranker`` (and the ``question``
    text), the best ``rerank`` by that score are reordered by their final scores (:func:`combined`), unless
    coverage and the named shares have already ``DECIDED`` for the best (then the first route is ``decided``).
    Absence reorders but does not decide: it lowers every sampled database alike, so between two that nobody
    sampled (Spider's empty ``yelp`` and ``restaurants``) it flagged 22 more wrong routes decided on the
    validation questions. Unless decided, the best ``LOG_ROUTES`` that a query log covers (``log``: the question's
    best similarity to the logged questions of each of the databases it is given, for those it covers) are then
    reordered among their places (``question_log.log_order``, weighted by ``log_weight``). Where coverage has
    decided, reading the log moved recall@1 on the validation questions by at most 0.004, so it is not read."""
    routes = []
    held: dict[str, float] = {}  # coverage plus what the question names: what decides
    for database, scored in scores.items():
        tables = table_matches(scored)
        if tables:
            held[database] = float(scored.coverage()[0]) + (named or {}).get(database, 0.0)
            score = held[database] - (absent or {}).get(database, 0.0)
            routes.append(Route(database=database, score=score, tables=tables[:2]))
    routes.sort(key=lambda r: (-r.score, r.database))
    if routes:
        ranked = sorted(held.values(), reverse=True)
        lead = ranked[0] - ranked[1] if len(ranked) > 1 else DECIDED
        routes[0].decided = held[routes[0].database] == ranked[0] and lead >= DECIDED
    if reranker is not None and question and rerank > 1 and routes and not routes[0].decided:
        head = routes[:rerank]
        texts = [
            area_text(
                r.database, [split_column_ref(s.key) for s in scores[r.database].ranked(reranker.config.max_columns)]
            )
            for r in head
        ]
        final = combined(reranker.score(question, texts), [r.score for r in head])
        for r, score in zip(head, final, strict=True):
            r.rerank_score = score
        routes[:rerank] = sorted(head, key=lambda r: -(r.rerank_score or 0.0))
    if log is not None and log_weight and routes and not routes[0].decided:
        head = routes[:LOG_ROUTES]
        logged = log([r.database for r in head])
        for r in head:
            r.log_similarity = logged.get(r.database)
        order = log_order(
            range(len(head)),
            lambda i: _final(head[i]),
            {i: r.log_similarity for i, r in enumerate(head) if r.log_similarity is not None},
            log_weight,
        )
        routes[: len(head)] = [head[i] for i in order]
    return routes[:top]


def _final(route: Route) -> float:
    """A route's final score on coverage's scale."""
    return route.rerank_score / COVERAGE_WEIGHT if route.rerank_score is not None else route.score
