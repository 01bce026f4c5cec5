"""Every write of forecasts, and the reads the writes need.

- `recording` — the one way in: `record_source` / `record_forecast`, used by every entry path;
- `claims` — the claim's rules (`validate_claim`), its default deadline and the low-level writer;
- `people` — strategists, firms and instruments by name or alias, readable slugs;
- `editorial` — reviewers' decisions: publish, judge, void, correct (role, history, ledger);
- `scoring` — scoring an instrument's forecasts and writing only what changed;
- `queueing` — the one way to queue scoring after a commit;
- `history` — the claim and outcome fields a ForecastEvent records.

Each state change leaves a ForecastEvent in the same transaction (who, when, what, why). The names
below are the services' surface (`from forecasts import services; services.forecast_void(...)`).
"""

from forecasts.services.claims import default_deadline, forecast_create, validate_claim
from forecasts.services.editorial import (
    forecast_correct,
    forecast_judge,
    forecast_publish,
    forecast_void,
    require_role,
)
from forecasts.services.history import CLAIM_FIELDS, OUTCOME_FIELDS, SCORE_FIELDS
from forecasts.services.people import (
    bundled_symbol,
    end_of_day,
    firm_get_or_create,
    instrument_by_name,
    readable_slug,
    sha256_text,
    strategist_get_or_create,
    strategist_match_or_create,
    unique_slug,
)
from forecasts.services.scoring import (
    ScoringSummary,
    claim_for,
    forecasts_rescore_incremental,
    forecasts_score,
    score_result_fields,
)

__all__ = [
    "CLAIM_FIELDS",
    "OUTCOME_FIELDS",
    "SCORE_FIELDS",
    "ScoringSummary",
    "bundled_symbol",
    "claim_for",
    "default_deadline",
    "end_of_day",
    "firm_get_or_create",
    "forecast_correct",
    "forecast_create",
    "forecast_judge",
    "forecast_publish",
    "forecast_void",
    "forecasts_rescore_incremental",
    "forecasts_score",
    "instrument_by_name",
    "readable_slug",
    "require_role",
    "score_result_fields",
    "sha256_text",
    "strategist_get_or_create",
    "strategist_match_or_create",
    "unique_slug",
    "validate_claim",
]
