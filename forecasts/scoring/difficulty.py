"""Difficulty p (SCORING §4): the chance a driftless log random walk makes a claim come true, from the
volatility of the closes before the baseline. Pure module."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from forecasts.scoring.rules import (
    BGK_BETA,
    COIN_FLIP_KINDS,
    MIN_RETURNS,
    TOUCH_KINDS,
    VOLATILITY_CLOSES,
    Basis,
    Kind,
)

# --------------------------------------------------------------------------------------------- maths


def normal_cdf(x: float) -> float:
    """Standard normal CDF, Phi(x)."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def log_return_sigma(closes: Sequence[float] | np.ndarray) -> tuple[float | None, int]:
    """Sample standard deviation (ddof=1) of log returns between consecutive closes.

    ``closes``: available, split-adjusted closes in date order (the last ``VOLATILITY_CLOSES`` are used).
    Returns (sigma or None, number of returns); sigma is None with fewer than ``MIN_RETURNS`` returns.
    """
    arr = np.asarray(closes, dtype=float)[-VOLATILITY_CLOSES:]
    if len(arr) < 2:
        return None, 0
    returns = np.diff(np.log(arr))
    if len(returns) < MIN_RETURNS:
        return None, len(returns)
    return float(np.std(returns, ddof=1)), len(returns)


def random_walk_probability(
    kind: Kind,
    basis: Basis,
    *,
    baseline: float,
    sigma: float | None,
    sessions: int,
    target: float | None = None,
    target_upper: float | None = None,
) -> float | None:
    """Difficulty p (SCORING §4): the chance a driftless log random walk makes the claim come true.

    ``target``/``target_upper`` are prices in made_at terms (for move_pct pass the derived T).
    ``sessions``: number of sessions in the whole window. None when p is unknown (manual, no sigma,
    degenerate zero volatility).
    """
    if kind in COIN_FLIP_KINDS:
        return 0.5
    if kind is Kind.MANUAL or sigma is None or sigma <= 0 or sessions <= 0 or not baseline > 0:
        return None
    s = sigma * math.sqrt(sessions)
    if kind in TOUCH_KINDS:
        assert target is not None  # the touch and close kinds always have a target price
        b = abs(math.log(target / baseline))
        if basis is Basis.CLOSE:
            b += BGK_BETA * sigma
        return min(1.0, 2.0 * (1.0 - normal_cdf(b / s)))
    if kind is Kind.CLOSE_ABOVE:
        assert target is not None
        return 1.0 - normal_cdf(math.log(target / baseline) / s)
    if kind is Kind.CLOSE_BELOW:
        assert target is not None
        return normal_cdf(math.log(target / baseline) / s)
    if kind is Kind.RANGE:
        assert target is not None and target_upper is not None
        return normal_cdf(math.log(target_upper / baseline) / s) - normal_cdf(math.log(target / baseline) / s)
    raise ValueError(f"no difficulty rule for {kind}")
