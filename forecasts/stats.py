"""Track-record statistics (SCORING §4), pure: counts and sums in, numbers out."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


def wilson_interval(hits: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a hit rate; None when nothing is resolved."""
    if n <= 0:
        return None
    p = hits / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class SkillSummary:
    n: int
    mean: float | None
    se: float | None
    total: float
    lower_bound: float | None  # mean - 1.96 x SE: what the leaderboard ranks by


def skill_summary(n: int, total: float, total_sq: float) -> SkillSummary:
    """Mean skill, its standard error and the ranking lower bound from n, sum and sum of squares.

    With one scored forecast the spread is unknown, so SE and the bound are None
    (such a strategist is below any minimum resolved count anyway).
    """
    if n <= 0:
        return SkillSummary(0, None, None, 0.0, None)
    mean = total / n
    if n < 2:
        return SkillSummary(n, mean, None, total, None)
    se = _standard_error(n, mean, total_sq)
    return SkillSummary(n, mean, se, total, mean - 1.96 * se)


def _standard_error(n: int, mean: float, total_sq: float) -> float:
    var = max(0.0, (total_sq - n * mean * mean) / (n - 1))
    # From sums alone the variance of equal values comes out as rounding noise (3 x 0.3 gives ~1e-17),
    # which would split a tie: below what the sums can resolve, it is zero.
    if var <= 1e-12 * max(mean * mean, total_sq / n):
        var = 0.0
    return math.sqrt(var / n)


def skill_lower_bound(n: int, total: float, total_sq: float) -> float | None:
    """skill_summary(...).lower_bound without building the summary (the whole board ranks 20,000 of them)."""
    if n < 2:
        return None
    mean = total / n
    return mean - 1.96 * _standard_error(n, mean, total_sq)
