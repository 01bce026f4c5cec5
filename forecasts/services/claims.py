"""The claim of a forecast: its rules (validate_claim), its default deadline and its low-level writer.

`forecast_create` writes the row and its 'created' event; forecasts.services.recording.record_source,
the one way in, applies the input rules, identity, duplicates and roles first and calls it.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from forecasts import scoring
from forecasts.models import (
    KINDS_WITH_TARGET,
    Basis,
    DeadlineSource,
    Firm,
    Forecast,
    ForecastEvent,
    Kind,
    Source,
    Strategist,
)
from forecasts.services.history import CLAIM_FIELDS, jsonable
from marketdata.models import Instrument


def default_deadline(made_at: datetime, tz_name: str) -> date:
    """SCORING §2: no stated deadline means the same calendar date a year later (local date)."""
    return scoring.default_deadline(made_at, ZoneInfo(tz_name))


def validate_claim(
    *,
    kind: str,
    target: float | None,
    target_upper: float | None,
    instrument: Instrument | None,
    other_instrument: Instrument | None,
    basis: str,
    made_at: datetime,
    deadline: date | None,
    deadline_source: str,
) -> None:
    """Raise ValidationError with one message per offending field."""
    errors: dict[str, str] = {}
    if kind not in Kind.values:
        errors["kind"] = f"Unknown kind {kind!r}; expected one of {', '.join(Kind.values)}."
    if basis not in Basis.values:
        errors["basis"] = f"Unknown basis {basis!r}; expected 'close' or 'intraday'."
    if deadline_source not in DeadlineSource.values:
        errors["deadline_source"] = (
            f"Unknown deadline source {deadline_source!r}; expected stated, implied or none."
        )
    if instrument is None:
        errors["instrument"] = "An instrument is required."
    if kind in KINDS_WITH_TARGET and target is None:
        errors["target"] = f"A {kind} forecast needs a target."
    if target is not None:
        if kind == Kind.MOVE_PCT:
            if target == 0 or target <= -100:
                errors["target"] = "A move_pct target is a percentage: non-zero and above -100."
        elif target <= 0:
            errors["target"] = "The target must be greater than 0."
    if kind == Kind.RANGE:
        if target_upper is None:
            errors["target_upper"] = "A range needs an upper bound."
        elif target is not None and target_upper <= target:
            errors["target_upper"] = (
                f"The upper bound ({target_upper:g}) must be above the lower ({target:g})."
            )
    elif target_upper is not None:
        errors["target_upper"] = "Only a range has an upper bound."
    if kind == Kind.OUTPERFORM:
        if other_instrument is None:
            errors["other_instrument"] = "outperform needs a second instrument to beat."
        elif instrument is not None and other_instrument.pk == instrument.pk:
            errors["other_instrument"] = "An instrument cannot outperform itself."
    elif other_instrument is not None:
        errors["other_instrument"] = "Only outperform takes a second instrument."
    if timezone.is_naive(made_at):
        errors["made_at"] = "made_at needs a time zone."
    if deadline is None and deadline_source != DeadlineSource.NONE:
        errors["deadline"] = f"A deadline is required when its source is {deadline_source!r}."
    if deadline is not None and deadline_source == DeadlineSource.NONE:
        errors["deadline_source"] = "A deadline was given, so its source must be 'stated' or 'implied'."
    if deadline is not None and instrument is not None and not timezone.is_naive(made_at):
        local_made = made_at.astimezone(ZoneInfo(instrument.timezone_name)).date()
        if deadline <= local_made:
            errors["deadline"] = (
                f"The deadline {deadline} must be after the day the forecast was made ({local_made})."
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def forecast_create(
    *,
    strategist: Strategist,
    source: Source,
    quote: str,
    instrument: Instrument,
    kind: str,
    target: float | None = None,
    target_upper: float | None = None,
    other_instrument: Instrument | None = None,
    basis: str = Basis.CLOSE,
    deadline: date | None = None,
    deadline_source: str | None = None,
    made_at: datetime | None = None,
    firm: Firm | None = None,
    actor=None,
    publish: bool = True,
    note: str = "",
    possible_duplicate_of: Forecast | None = None,
    supersedes: Forecast | None = None,
) -> Forecast:
    """Write one forecast row and its 'created' event. made_at defaults to the source's publication.

    The low-level writer under forecasts.services.recording.record_source, which every entry path calls and
    which applies the input rules, identity, duplicates and roles first; call this directly only in
    tests. With publish=False it is a draft for a reviewer: scored like any other, but not shown to
    the public until forecast_publish.
    """
    quote = quote.strip()
    if not quote:
        raise ValidationError({"quote": "The verbatim quote is required."})
    made_at = made_at or source.published_at
    deadline_source = deadline_source or (DeadlineSource.STATED if deadline else DeadlineSource.NONE)
    validate_claim(
        kind=kind,
        target=target,
        target_upper=target_upper,
        instrument=instrument,
        other_instrument=other_instrument,
        basis=basis,
        made_at=made_at,
        deadline=deadline,
        deadline_source=deadline_source,
    )
    forecast = Forecast.all_objects.create(
        strategist=strategist,
        firm=firm if firm is not None else strategist.firm,
        source=source,
        quote=quote,
        instrument=instrument,
        kind=kind,
        target=target,
        target_upper=target_upper,
        other_instrument=other_instrument,
        basis=basis,
        made_at=made_at,
        deadline=deadline or default_deadline(made_at, instrument.timezone_name),
        deadline_source=deadline_source,
        created_by=actor,
        possible_duplicate_of=possible_duplicate_of,
        supersedes=supersedes,
    )
    reason = f"Quoted in {source.publication}, {source.url}"
    if possible_duplicate_of is not None:
        reason += f" Held for review: possibly the same call as #{possible_duplicate_of.pk}."
    if supersedes is not None:
        reason += f" Revises #{supersedes.pk}."
    ForecastEvent.objects.create(
        forecast=forecast,
        action=ForecastEvent.Action.CREATED,
        actor=actor,
        changes={f: [None, jsonable(getattr(forecast, f))] for f in CLAIM_FIELDS},
        reason=f"{reason} {note}".strip(),
    )
    if publish:
        from forecasts.services.editorial import forecast_publish  # editorial builds on this module

        forecast_publish(forecast, actor=actor)
    return forecast
