"""Reviewers' decisions: publish, judge, void and correct, each with its role check, history and ledger."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from forecasts import ledger
from forecasts.models import DeadlineSource, Forecast, ForecastEvent, Kind, Status
from forecasts.services import aggregates, queueing
from forecasts.services.claims import default_deadline, validate_claim
from forecasts.services.history import CLAIM_FIELDS, equal, jsonable


def require_role(actor, perm: str, doing: str) -> None:
    """One set of roles on every path: reviewers publish, correct, void and judge; editors record
    drafts. No actor is the operator's own unattended command (demo loader, CLI import), trusted."""
    if actor is not None and not actor.has_perm(f"forecasts.{perm}"):
        raise PermissionDenied(f"Your role cannot {doing}; a reviewer can.")


@transaction.atomic
def forecast_publish(forecast: Forecast, *, actor) -> Forecast:
    """Make a recorded forecast public. From here on its claim changes only by
    correction (with a reason), and each version is chained in the ledger."""
    require_role(actor, "publish_forecast", "publish forecasts")
    if forecast.published_at is not None:
        return forecast
    forecast.published_at, forecast.published_by = timezone.now(), actor
    Forecast.all_objects.filter(pk=forecast.pk, published_at__isnull=True).update(
        published_at=forecast.published_at, published_by=actor
    )
    aggregates.forecasts_changed([forecast])  # now public: it enters its strategist's figures
    ForecastEvent.objects.create(forecast=forecast, action=ForecastEvent.Action.PUBLISHED, actor=actor)
    ledger.append(forecast, action="published", actor=actor)
    return forecast


@transaction.atomic
def forecast_judge(forecast: Forecast, *, outcome: str, reason: str, resolved_on: date, actor) -> Forecast:
    """A reviewer decides a qualitative (manual) forecast."""
    require_role(actor, "judge_forecast", "judge forecasts")
    if forecast.kind != Kind.MANUAL:
        raise ValidationError({"kind": "Only qualitative (manual) forecasts are judged by an editor."})
    if outcome not in (Status.HIT, Status.MISS):
        raise ValidationError({"outcome": "The outcome must be hit or miss."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why: the judgement is published with its reason."})
    old = {f: jsonable(getattr(forecast, f)) for f in ("status", "resolved_on")}
    forecast.status, forecast.resolved_on = outcome, resolved_on
    forecast.status_note = f"Judged by an editor: {reason.strip()}"[:300]
    forecast.scored_at = timezone.now()
    forecast.save(update_fields=["status", "resolved_on", "status_note", "scored_at", "updated_at"])
    ForecastEvent.objects.create(
        forecast=forecast,
        action=ForecastEvent.Action.JUDGED,
        actor=actor,
        reason=reason.strip(),
        changes={f: [old[f], jsonable(getattr(forecast, f))] for f in old},
    )
    if forecast.published_at:
        ledger.append(forecast, action=f"judged:{outcome}", actor=actor, reason=reason.strip())
    return forecast


@transaction.atomic
def forecast_void(forecast: Forecast, *, reason: str, actor) -> Forecast:
    """Retract a forecast (e.g. a misquote). It stays on record, marked void, with the reason."""
    require_role(actor, "void_forecast", "void forecasts")
    if forecast.status == Status.VOID and forecast.void_reason.startswith("Editor:"):
        raise ValidationError({"status": "The forecast is already void."})
    if not reason.strip():
        raise ValidationError({"reason": "A void needs a reason; it is shown on the public page."})
    old_status = forecast.status
    forecast.status = Status.VOID
    forecast.void_reason = f"Editor: {reason.strip()}"[:300]
    forecast.skill = None
    forecast.voided_on = None  # an editor's void holds from its event, as the history records it
    forecast.save(update_fields=["status", "void_reason", "skill", "voided_on", "updated_at"])
    ForecastEvent.objects.create(
        forecast=forecast,
        action=ForecastEvent.Action.VOIDED,
        actor=actor,
        reason=reason.strip(),
        changes={"status": [old_status, Status.VOID]},
    )
    if forecast.published_at:
        ledger.append(forecast, action="voided", actor=actor, reason=reason.strip())
    return forecast


@transaction.atomic
def forecast_correct(forecast: Forecast, *, changes: dict, reason: str, actor) -> Forecast:
    """Correct the recorded claim (e.g. a mistyped target), with a reason kept in the history.

    The forecast goes back to pending and is rescored from the corrected claim.
    """
    require_role(actor, "correct_forecast", "correct forecasts")
    if not reason.strip():
        raise ValidationError({"reason": "A correction needs a reason; it is shown on the public page."})
    unknown = set(changes) - set(CLAIM_FIELDS)
    if unknown:
        raise ValidationError({f: "This field cannot be corrected." for f in sorted(unknown)})
    proposed = {f: changes.get(f, getattr(forecast, f)) for f in CLAIM_FIELDS}
    validate_claim(
        kind=proposed["kind"],
        target=proposed["target"],
        target_upper=proposed["target_upper"],
        instrument=proposed["instrument"],
        other_instrument=proposed["other_instrument"],
        basis=proposed["basis"],
        made_at=proposed["made_at"],
        deadline=None if proposed["deadline_source"] == DeadlineSource.NONE else proposed["deadline"],
        deadline_source=proposed["deadline_source"],
    )
    diff = {
        f: [jsonable(getattr(forecast, f)), jsonable(v)]
        for f, v in changes.items()
        if not equal(getattr(forecast, f), v)
    }
    if not diff:
        return forecast
    before = aggregates.subjects_now(forecast)  # a corrected instrument leaves the old one's figures
    for f, v in changes.items():
        setattr(forecast, f, v)
    if forecast.deadline_source == DeadlineSource.NONE:
        forecast.deadline = default_deadline(forecast.made_at, forecast.instrument.timezone_name)
    forecast.status = Status.PENDING
    for f in ("resolved_on", "resolution_price", "skill"):
        setattr(forecast, f, None)
    forecast.void_reason = ""
    forecast.scored_at = None  # the claim changed: the incremental rescore must score it afresh
    forecast.save()
    aggregates.forecasts_changed([before])
    ForecastEvent.objects.create(
        forecast=forecast,
        action=ForecastEvent.Action.CORRECTED,
        actor=actor,
        reason=reason.strip(),
        changes=diff,
    )
    if forecast.published_at:
        ledger.append(forecast, action="corrected", actor=actor, reason=reason.strip())
    if forecast.kind != Kind.MANUAL:
        queueing.scoring_enqueue_on_commit([forecast.instrument_id, forecast.other_instrument_id])
    return forecast
