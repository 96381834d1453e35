"""Which columns to keep: a normalised-score threshold bounded by min/max counts, calibrated for recall."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field

# Threshold of the untrained (zero-shot) model, calibrated like a fine-tuned one (F6, 3..20
# columns) on the by-database validation split of Spider + BIRD + Spider-Syn train (see
# retrieval/VALIDATION.md). It lies below nearly every zero-shot score: plain MiniLM token
# similarities do not separate gold columns well enough for a threshold to beat "keep 20".
ZERO_SHOT_THRESHOLD = 0.0127


class SelectionPolicy(BaseModel):
    """Stored in the model artefact; ``beta`` records what the threshold was calibrated for."""

    threshold: float = ZERO_SHOT_THRESHOLD
    min_columns: int = Field(default=3, ge=0)
    max_columns: int = Field(default=20, ge=1)
    beta: float = 6.0


def select(scores: Sequence[float] | np.ndarray, policy: SelectionPolicy) -> list[int]:
    """Indices of kept columns, best first: all above the threshold, then clamped to [min, max]."""
    s = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-s, kind="stable")
    above = int((s >= policy.threshold).sum())
    keep = min(max(above, policy.min_columns), policy.max_columns, len(s))
    return order[:keep].tolist()


def calibrate(
    scores: Sequence[np.ndarray],
    gold: Sequence[np.ndarray],
    min_columns: int = 3,
    max_columns: int = 20,
    beta: float = 6.0,
    grid: int = 2000,
) -> tuple[SelectionPolicy, float]:
    """Threshold maximising mean per-question F_beta (column level) under the count bounds.

    ``scores[i]`` are one question's normalised column scores, ``gold[i]`` the boolean gold mask
    over the same columns. Questions without gold columns carry no signal and are skipped. Ties
    go to the highest threshold (fewest columns). Returns the policy and its mean F_beta.
    """
    pairs = [
        (np.asarray(s, float), np.asarray(g, bool)) for s, g in zip(scores, gold, strict=True) if np.asarray(g).any()
    ]
    if not pairs:
        raise ValueError("calibration needs at least one question with gold columns")
    pooled = np.concatenate([s for s, _ in pairs])
    candidates = np.unique(np.quantile(pooled, np.linspace(0.0, 1.0, grid)))[::-1]  # high -> low
    b2 = beta * beta
    total = np.zeros(len(candidates))
    for s, g in pairs:
        order = np.argsort(-s, kind="stable")
        tp = np.concatenate([[0], np.cumsum(g[order])])
        above = np.searchsorted(-s[order], -candidates, side="right")
        k = np.clip(above, min(min_columns, len(s)), min(max_columns, len(s)))
        total += (1 + b2) * tp[k] / (b2 * g.sum() + k)
    best = int(np.argmax(total))  # first max = highest threshold
    policy = SelectionPolicy(
        threshold=float(candidates[best]), min_columns=min_columns, max_columns=max_columns, beta=beta
    )
    return policy, float(total[best] / len(pairs))
