"""Scoring a forecast against daily price bars: hit, miss, pending or void (SCORING.md v1).

A pure package (no Django, no I/O, no clock):

- `rules` — the rulebook: claim and result types, calendar arithmetic, every note, the shared decisions
  (the last-close rule, automatic voids, skill and boldness) and the stored score columns;
- `difficulty` — the random-walk probability p and the volatility it rests on;
- `single` — `score()`, one claim at a time;
- `bulk` — `score_many()`, the vectorised twin: the very same results, field for field
  (tests/forecasts/scoring/test_bulk.py).

The names below are the public surface; import them from `forecasts.scoring`.
"""

from forecasts.scoring.difficulty import log_return_sigma, normal_cdf, random_walk_probability
from forecasts.scoring.rules import (
    BGK_BETA,
    DEFAULT_HORIZON_MONTHS,
    MIN_RETURNS,
    MISSING_BARS_VOID,
    SCORE_COLUMNS,
    SCORER_VERSION,
    VOID_AFTER_SESSIONS,
    VOLATILITY_CLOSES,
    Basis,
    Claim,
    Kind,
    ScoreResult,
    SessionCalendar,
    Split,
    Status,
    add_months,
    default_deadline,
    judge_last_close,
    made_on,
    score_columns,
)
from forecasts.scoring.single import score

__all__ = [
    "BGK_BETA",
    "DEFAULT_HORIZON_MONTHS",
    "MIN_RETURNS",
    "MISSING_BARS_VOID",
    "SCORER_VERSION",
    "SCORE_COLUMNS",
    "VOID_AFTER_SESSIONS",
    "VOLATILITY_CLOSES",
    "Basis",
    "Claim",
    "Kind",
    "ScoreResult",
    "SessionCalendar",
    "Split",
    "Status",
    "add_months",
    "default_deadline",
    "judge_last_close",
    "log_return_sigma",
    "made_on",
    "normal_cdf",
    "random_walk_probability",
    "score",
    "score_columns",
]
