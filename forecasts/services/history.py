"""What a forecast's history records: the claim and outcome fields, and values as the history stores them."""

from __future__ import annotations

from datetime import date, datetime

from forecasts import scoring
from marketdata.models import Instrument

# Score fields the scorer owns (the rulebook's stored columns); compared before writing so a rescore
# that changes nothing writes nothing.
SCORE_FIELDS = scoring.SCORE_COLUMNS
# Changes to these are history: they are what the public reads as the outcome.
OUTCOME_FIELDS = ("status", "resolved_on", "resolution_price", "void_reason")
CLAIM_FIELDS = (
    "quote",
    "kind",
    "target",
    "target_upper",
    "other_instrument",
    "basis",
    "made_at",
    "deadline",
    "deadline_source",
    "instrument",
)


def equal(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))
    return a == b


def jsonable(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Instrument):
        return value.symbol
    return value
