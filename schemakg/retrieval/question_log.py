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

from collections import Counter
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


@dataclass(frozen=True)
class LogSimilarity:
    """One question's cosine similarity to each logged question of a database, with the tables (lower-cased,
    schema-qualified where the SQL qualifies them) that each logged question's SQL reads."""

    similarity: np.ndarray
    tables: Sequence[frozenset[str]]

    def best(self) -> float | None:
        """The best similarity, or None when the log is too small to speak for the database."""
        return float(self.similarity.max()) if len(self.similarity) >= MIN_LOGGED else None

    def best_by_group(self, group_of: Mapping[str, int]) -> dict[int, float]:
        """Each group's best similarity (``group_of``: a lower-cased table's subject area) among the logged
        questions that read its tables, for the groups at least ``MIN_LOGGED`` of them read."""
        best: dict[int, float] = {}
        counts: Counter[int] = Counter()
        for similarity, tables in zip(self.similarity.tolist(), self.tables, strict=True):
            for group in {group_of[table] for table in tables if table in group_of}:
                counts[group] += 1
                best[group] = max(best.get(group, similarity), similarity)
        return {group: value for group, value in best.items() if counts[group] >= MIN_LOGGED}


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
