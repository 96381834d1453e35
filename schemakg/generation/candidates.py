"""Choosing among SQL candidates by execution: self-consistency, as OmniSQL and CHASE-SQL use it.

Several candidates for one question (the greedy decode, then samples of the same prompt) run through
the guard; those whose results agree form one vote, and the largest vote wins. Token likelihoods
would need llama.cpp's all-logits buffer (context × a 152k vocabulary of floats: 2.5 GB at 4k), so
the model's likelihood enters as rank instead: the greedy decode, its most likely answer, weighs more
than one sample and so wins every tie.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pydantic import BaseModel

GREEDY_WEIGHT = 1.5


class Candidate(BaseModel):
    """One candidate's outcome; ``signature`` fingerprints its result (None: it did not run)."""

    sql: str | None
    greedy: bool = False
    error: str | None = None
    signature: str | None = None
    row_count: int | None = None
    latency_s: float = 0.0
    votes: float = 0.0  # the weight of the candidates whose results agree with this one's
    too_few_columns: bool = False  # fewer columns than the attributes the question lists (output_shape.py)
    says_nothing: bool = False  # only NULL, 0 or '' (or no rows) from tables that hold rows


def choose(candidates: Sequence[Candidate]) -> int | None:
    """The index of the first candidate of the heaviest agreeing group, or None when none ran.
    Candidates with fewer columns than the question lists only count when no other ran, and then those that
    said nothing only when no other of the rest ran: candidates that disagree on their output columns are
    chosen by the question's shape first, then by whether their result says anything. Sets each candidate's
    ``votes``."""
    eligible = [i for i, c in enumerate(candidates) if c.signature is not None]
    for flawed in (lambda c: c.too_few_columns, lambda c: c.says_nothing):
        eligible = [i for i in eligible if not flawed(candidates[i])] or eligible
    weights: dict[str, float] = defaultdict(float)
    first: dict[str, int] = {}
    for index in eligible:
        candidate = candidates[index]
        assert candidate.signature is not None
        weights[candidate.signature] += GREEDY_WEIGHT if candidate.greedy else 1.0
        first.setdefault(candidate.signature, index)
    for candidate in candidates:
        candidate.votes = weights.get(candidate.signature, 0.0) if candidate.signature is not None else 0.0
    if not weights:
        return None
    best = max(weights, key=lambda signature: (weights[signature], -first[signature]))
    return first[best]
