"""Writes for forecasts: record, score, judge, correct and void.

Every state change goes through a function here and leaves a ForecastEvent in
the same transaction (who, when, what, why). Views, admin actions, commands and
tasks call these; none of them writes a Forecast directly.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.text import slugify

from forecasts import bulk, ledger, queueing, scoring
from forecasts.models import (
    KINDS_WITH_TARGET,
    Alias,
    Basis,
    DeadlineSource,
    Firm,
    Forecast,
    ForecastEvent,
    Kind,
    Source,
    Status,
    Strategist,
)
from marketdata.calendars import get_calendar
from marketdata.models import Instrument, PriceBarRevision, Split
from marketdata.services import bars_frame

log = logging.getLogger(__name__)

# Score fields the scorer owns; compared before writing so a rescore that
# changes nothing writes nothing.
SCORE_FIELDS = (
    "status",
    "status_note",
    "awaiting_data",
    "resolved_on",
    "resolution_price",
    "baseline",
    "baseline_date",
    "window_start",
    "window_end",
    "window_sessions",
    "difficulty",
    "skill",
    "window_return",
    "benchmark_return",
    "scorer_version",
    "void_reason",
    "voided_on",
)
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


# --- people and sources --------------------------------------------------------------------------


def firm_get_or_create(name: str) -> Firm | None:
    name = " ".join(name.split())
    if not name:
        return None
    firm = Firm.objects.filter(name__iexact=name).first() or _aliased(Alias.Target.FIRM, name)
    if firm is None:
        firm = _create_racing(
            lambda: Firm.objects.create(name=name, slug=unique_slug(Firm, name)),
            lambda: Firm.objects.filter(name__iexact=name).first(),
        )
    return firm


def strategist_get_or_create(name: str, *, firm: Firm | None) -> Strategist:
    """Match by name (case-insensitive) and firm; a same-named person at another firm is another person."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"strategist": "A strategist's name is required."})
    existing = Strategist.objects.filter(name__iexact=name)
    person = existing.filter(firm=firm).first() or (existing.first() if existing.count() == 1 else None)
    person = person or _aliased(Alias.Target.STRATEGIST, name)
    if person is None:
        person = _create_racing(
            lambda: Strategist.objects.create(name=name, slug=unique_slug(Strategist, name), firm=firm),
            lambda: Strategist.objects.filter(name__iexact=name, firm=firm).first(),
        )
    return person


def _create_racing(create, find, attempts: int = 3):
    """Create a row that a concurrent request may be creating too (two editors recording the same new
    firm): on a unique-key clash, take the row the other one committed, or try again with a new slug."""
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return create()
        except IntegrityError:
            found = find()
            if found is not None:
                return found
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _aliased(target: str, name: str):
    """The strategist / firm / instrument an alias names, or None."""
    alias = Alias.objects.filter(target=target, name__iexact=name).select_related(target).first()
    return getattr(alias, target) if alias else None


def instrument_by_name(name: str) -> Instrument | None:
    """An instrument by symbol or alias (e.g. '恒指' -> HSI)."""
    name = name.strip()
    return Instrument.objects.filter(symbol=name).first() or _aliased(Alias.Target.INSTRUMENT, name)


def readable_slug(name: str) -> str:
    """A URL slug a reader can read: Chinese names in pinyin (顏子琪 -> yan-zi-qi), others slugified."""
    from pypinyin import lazy_pinyin

    return slugify(" ".join(lazy_pinyin(name)), allow_unicode=False)[:190].strip("-")


def unique_slug(model: type[Model], name: str) -> str:
    base = readable_slug(name) or model.__name__.lower()
    slug, n = base, 2
    while model._default_manager.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def sha256_text(text: str) -> str:
    """The article text's fingerprint, kept in case the page later changes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def end_of_day(day: date, tz_name: str) -> datetime:
    """Midnight at the end of `day` in the time zone: SCORING §2's made_at for date-only sources."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz_name))


# --- recording a forecast ------------------------------------------------------------------------


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

    The low-level writer under forecasts.recording.record_source, which every entry path calls and
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
        changes={f: [None, _jsonable(getattr(forecast, f))] for f in CLAIM_FIELDS},
        reason=f"{reason} {note}".strip(),
    )
    if publish:
        forecast_publish(forecast, actor=actor)
    return forecast


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
    ForecastEvent.objects.create(forecast=forecast, action=ForecastEvent.Action.PUBLISHED, actor=actor)
    ledger.append(forecast, action="published", actor=actor)
    return forecast


# --- scoring -------------------------------------------------------------------------------------


@dataclass
class ScoringSummary:
    instrument: str
    scored: int = 0
    changed: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    results: list[tuple[int, scoring.ScoreResult]] = field(default_factory=list)


def claim_for(forecast: Forecast) -> scoring.Claim:
    return scoring.Claim(
        kind=scoring.Kind(forecast.kind),
        target=forecast.target,
        target_upper=forecast.target_upper,
        basis=scoring.Basis(forecast.basis),
        made_at=forecast.made_at,
        deadline=None if forecast.deadline_source == DeadlineSource.NONE else forecast.deadline,
    )


class _MarketData:
    """Bars, splits and calendar per instrument, loaded once per scoring run."""

    def __init__(self, as_of_day: date | None):
        self._cache: dict[int, tuple] = {}
        self._benchmarks: dict[str, Instrument | None] = {}
        self._until = as_of_day

    def get(self, instrument: Instrument) -> tuple:
        if instrument.pk not in self._cache:
            splits = tuple(
                scoring.Split(ex_date=d, ratio=r)
                for d, r in Split.objects.filter(instrument=instrument).values_list("ex_date", "ratio")
            )
            self._cache[instrument.pk] = (
                bars_frame(instrument.pk, until=self._until),
                get_calendar(instrument.calendar_code),
                splits,
            )
        return self._cache[instrument.pk]

    def benchmark_return(self, instrument: Instrument, start: date, end: date) -> float | None:
        """The market's benchmark index (settings.HINDSIGHT_BENCHMARKS) from the close on or before
        `start` to the close on or before `end`; None without a benchmark or its bars."""
        symbol = settings.HINDSIGHT_BENCHMARKS.get(instrument.calendar_code) or ""
        if symbol not in self._benchmarks:
            self._benchmarks[symbol] = Instrument.objects.filter(symbol=symbol).first() if symbol else None
        benchmark = self._benchmarks[symbol]
        if benchmark is None:
            return None
        closes = self.get(benchmark)[0]["close"].dropna()
        first, last = closes.loc[: pd.Timestamp(start)], closes.loc[: pd.Timestamp(end)]
        if first.empty or last.empty:
            return None
        return float(last.iloc[-1] / first.iloc[-1] - 1.0)


def score_result_fields(result: scoring.ScoreResult, *, benchmark_return: float | None = None) -> dict:
    """Map a ScoreResult onto the Forecast's score fields."""
    status = Status(result.status.value)
    decided = status in (Status.HIT, Status.MISS)
    return {
        "status": status,
        "status_note": (result.note or "")[:300],
        "awaiting_data": result.awaiting_data,
        "resolved_on": result.resolved_on if status in (Status.HIT, Status.MISS) else None,
        "resolution_price": result.resolution_price if status in (Status.HIT, Status.MISS) else None,
        "baseline": result.baseline,
        "baseline_date": result.baseline_date,
        "window_start": result.first_session,
        "window_end": result.last_session,
        "window_sessions": result.sessions_in_window,
        "difficulty": result.difficulty,
        "skill": result.skill if status in (Status.HIT, Status.MISS) else None,
        "window_return": result.window_return if decided else None,
        "benchmark_return": benchmark_return if decided else None,
        "scorer_version": result.scorer_version,
        "void_reason": (result.note or "void")[:300] if status == Status.VOID else "",
        "voided_on": result.void_effective_on if status == Status.VOID else None,
    }


def score_instrument_forecasts(
    instrument: Instrument,
    *,
    as_of: datetime | None = None,
    revised_from: date | None = None,
    persist: bool | None = None,
) -> ScoringSummary:
    """Score the forecasts on `instrument` (as A or as B of an outperform).

    Pending forecasts are always scored. Decided ones are looked at again only
    when bars at or before their deciding session were revised (`revised_from`),
    which is the one case SCORING §3 allows a hit or miss to change. Editors'
    decisions (manual kinds, voids with a reason) are never touched.

    `as_of` scores with only what was known at that instant: forecasts made later
    are skipped and bars for sessions closing later are ignored. By default
    results are written only for a live run (as_of None); an as_of run is a
    report, so the database keeps the present state.
    """
    persist = (as_of is None) if persist is None else persist
    now = timezone.now()
    as_of = as_of or now
    summary = ScoringSummary(instrument=instrument.symbol)
    candidates = Q(status=Status.PENDING)
    if revised_from is not None:
        candidates |= Q(status__in=[Status.HIT, Status.MISS], window_end__gte=revised_from)
    if not persist:
        candidates = ~Q(status=Status.VOID, void_reason__startswith="Editor:")
    forecasts = list(
        Forecast.all_objects.filter(Q(instrument=instrument) | Q(other_instrument=instrument))
        .filter(candidates, made_at__lte=as_of)
        .exclude(kind=Kind.MANUAL)
        .select_related("instrument", "other_instrument")
        .order_by("pk")
    )
    market = _MarketData(as_of.date() if as_of < now else None)
    # One vectorised pass per instrument (forecasts.bulk agrees exactly with the pure scorer).
    groups: dict[int, list[Forecast]] = {}
    for forecast in forecasts:
        groups.setdefault(forecast.instrument_id, []).append(forecast)
    for group in groups.values():
        subject = group[0].instrument
        bars, calendar, splits = market.get(subject)
        others = [
            bulk.Other(*market.get(f.other_instrument))
            if f.kind == Kind.OUTPERFORM and f.other_instrument is not None  # always set for outperform
            else None
            for f in group
        ]
        results = bulk.score_many(
            [claim_for(f) for f in group],
            bars,
            calendar,
            as_of=as_of,
            splits=splits,
            trading_ended_on=subject.trading_ended_on,
            others=others,
        )
        for forecast, result in zip(group, results, strict=True):
            summary.scored += 1
            summary.by_status[result.status.value] = summary.by_status.get(result.status.value, 0) + 1
            summary.results.append((forecast.pk, result))
            benchmark = None
            if (
                forecast.kind in (Kind.DIRECTION_UP, Kind.DIRECTION_DOWN)
                and result.window_return is not None  # so the baseline and the last session are known
                and result.baseline_date is not None
                and result.last_session is not None
            ):
                benchmark = market.benchmark_return(subject, result.baseline_date, result.last_session)
            if persist and _apply_score(
                forecast, result, revised_from=revised_from, now=now, benchmark_return=benchmark
            ):
                summary.changed += 1
    return summary


def _apply_score(
    forecast: Forecast,
    result: scoring.ScoreResult,
    *,
    revised_from: date | None,
    now: datetime,
    benchmark_return: float | None = None,
) -> bool:
    """Write a score if it differs; compare-and-swap on the old status so two
    workers scoring the same forecast cannot both record a change."""
    new = score_result_fields(result, benchmark_return=benchmark_return)
    old = {f: getattr(forecast, f) for f in SCORE_FIELDS}
    if all(_equal(old[f], new[f]) for f in SCORE_FIELDS):
        return False
    outcome_changes = {
        f: [_jsonable(old[f]), _jsonable(new[f])] for f in OUTCOME_FIELDS if not _equal(old[f], new[f])
    }
    with transaction.atomic():
        updated = Forecast.all_objects.filter(pk=forecast.pk, status=old["status"]).update(
            **new, scored_at=now, updated_at=now
        )
        if not updated:
            log.info("forecast %s changed under us; leaving it to the other scorer", forecast.pk)
            return False
        if outcome_changes:
            was_decided = old["status"] in (Status.HIT, Status.MISS)
            ForecastEvent.objects.create(
                forecast=forecast,
                action=ForecastEvent.Action.RESCORED if was_decided else ForecastEvent.Action.SCORED,
                changes=outcome_changes,
                reason=(_revision_reason(forecast, revised_from, old) if was_decided and revised_from else "")
                + (result.note or ""),
            )
    for f, v in new.items():
        setattr(forecast, f, v)
    return True


def _revision_reason(forecast: Forecast, revised_from: date, old: dict) -> str:
    """E.g. 'Price bars that decided it were revised: 2025-02-21 close 23,477.92 → 23,150
    (offline → vendor-fix).'"""
    last = old["window_end"] or old["resolved_on"] or revised_from
    revisions = list(
        PriceBarRevision.objects.filter(
            instrument_id__in=[forecast.instrument_id, forecast.other_instrument_id],
            session__gte=revised_from,
            session__lte=last,
        ).order_by("session", "-revised_at")[:3]
    )
    if not revisions:
        return "Price bars that decided it were revised. "
    parts = [
        f"{r.session} close {r.old_values.get('close'):,} → {r.new_values.get('close'):,} "
        f"({r.old_source} → {r.new_source})"
        for r in revisions
    ]
    return f"Price bars that decided it were revised: {'; '.join(parts)}. "


def _equal(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))
    return a == b


def _jsonable(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Instrument):
        return value.symbol
    return value


# --- editors' decisions --------------------------------------------------------------------------


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
    old = {f: _jsonable(getattr(forecast, f)) for f in ("status", "resolved_on")}
    forecast.status, forecast.resolved_on = outcome, resolved_on
    forecast.status_note = f"Judged by an editor: {reason.strip()}"[:300]
    forecast.scored_at = timezone.now()
    forecast.save(update_fields=["status", "resolved_on", "status_note", "scored_at", "updated_at"])
    ForecastEvent.objects.create(
        forecast=forecast,
        action=ForecastEvent.Action.JUDGED,
        actor=actor,
        reason=reason.strip(),
        changes={f: [old[f], _jsonable(getattr(forecast, f))] for f in old},
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
        f: [_jsonable(getattr(forecast, f)), _jsonable(v)]
        for f, v in changes.items()
        if not _equal(getattr(forecast, f), v)
    }
    if not diff:
        return forecast
    for f, v in changes.items():
        setattr(forecast, f, v)
    if forecast.deadline_source == DeadlineSource.NONE:
        forecast.deadline = default_deadline(forecast.made_at, forecast.instrument.timezone_name)
    forecast.status = Status.PENDING
    for f in ("resolved_on", "resolution_price", "skill"):
        setattr(forecast, f, None)
    forecast.void_reason = ""
    forecast.save()
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
