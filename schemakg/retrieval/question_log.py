"""What a query log says about a new question: whether users asked nearly the same question of one database,
or of one subject area of a large one, and not of its look-alikes.

Look-alike databases (``allergy_1``'s ``Student`` against ``dorm_1``'s, two document-tracking schemas) cover a
question's words equally well, but their logs differ: each holds the questions its own users asked. So the log
reorders the candidates it covers by their score plus ``weight`` times how far the question's best similarity to
their logged questions rises above ``NEAR``. Only a near paraphrase counts: a log's looser matches favour whichever
candidate has the larger log, and cost routing 0.06 of recall@1 where the right database's log lacked the
question's kind (docs/evaluation.md). A candidate the log does not cover (fewer than ``MIN_LOGGED`` questions)
keeps its place: a database nobody has asked about yet must stay as reachable as without a log, which adding the
similarity to every candidate's score got wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

# A candidate with fewer logged questions than this is not covered by the log: one stray question would speak for it.
MIN_LOGGED = 5
# A logged question at least this similar to the new one (cosine of their sentence embeddings) is nearly the same
# question; chosen with the weight on the validation tuning databases' routing (docs/evaluation.md).
NEAR = 0.8

Candidate = TypeVar("Candidate", bound=Hashable)


class LogReads:
    """The tables each logged question's SQL reads (lower-cased, schema-qualified where the SQL qualifies them),
    grouped by a large schema's subject areas into flat arrays. The grouping is kept for the last areas asked: a log
    and a schema's areas change only with the catalogue version, and regrouping for every question cost 7 ms of
    linking on the validation warehouse's 7,965 logged questions."""

    def __init__(self, tables: Sequence[frozenset[str]]) -> None:
        self.tables = tables
        self._grouped: tuple[Mapping[str, int], np.ndarray, np.ndarray, list[int]] | None = None

    def grouped(self, group_of: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """For ``group_of`` (a table's group): a logged question's position once per group it reads, that group,
        and the groups at least ``MIN_LOGGED`` logged questions read."""
        grouped = self._grouped
        if grouped is None or grouped[0] is not group_of:
            lowered = {table.lower(): group for table, group in group_of.items()}
            pairs = [
                (position, group)
                for position, tables in enumerate(self.tables)
                for group in {lowered[table] for table in tables if table in lowered}
            ]
            positions = np.array([position for position, _ in pairs], dtype=np.int64)
            groups = np.array([group for _, group in pairs], dtype=np.int64)
            covered = np.flatnonzero(np.bincount(groups) >= MIN_LOGGED).tolist() if pairs else []
            grouped = (group_of, positions, groups, covered)
            self._grouped = grouped
        return grouped[1], grouped[2], grouped[3]


@dataclass(frozen=True)
class LogSimilarity:
    """One question's cosine similarity to each logged question of a database, with what each one's SQL reads."""

    similarity: np.ndarray
    reads: LogReads

    def best(self) -> float | None:
        """The best similarity, or None when the log is too small to speak for the database."""
        return float(self.similarity.max()) if len(self.similarity) >= MIN_LOGGED else None

    def best_by_group(self, group_of: Mapping[str, int]) -> dict[int, float]:
        """Each group's best similarity (``group_of``: a table's subject area; kept as the same mapping between
        questions, so that the grouping is too) among the logged questions that read its tables, for the groups at
        least ``MIN_LOGGED`` of them read."""
        positions, groups, covered = self.reads.grouped(group_of)
        if not covered:
            return {}
        best = np.full(int(groups.max()) + 1, -np.inf)
        np.maximum.at(best, groups, self.similarity[positions])
        return {group: float(best[group]) for group in covered}


def log_order(
    order: Sequence[Candidate],
    score: Callable[[Candidate], float],
    similarity: Mapping[Candidate, float],
    weight: float,
) -> list[Candidate]:
    """``order`` with the candidates the log covers (those in ``similarity``) reordered among their own places by
    ``score`` plus ``weight`` times how far their similarity rises above ``NEAR``; every other candidate keeps its
    place."""
    places = [place for place, candidate in enumerate(order) if candidate in similarity]
    moved = sorted(
        (order[place] for place in places),
        key=lambda candidate: -(score(candidate) + weight * max(similarity[candidate] - NEAR, 0.0)),
    )
    reordered = list(order)
    for place, candidate in zip(places, moved, strict=True):
        reordered[place] = candidate
    return reordered
