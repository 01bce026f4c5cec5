"""Scoring the forecasts on an instrument with the bulk scorer, and writing only what changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from forecasts import scoring
from forecasts.models import DeadlineSource, Forecast, ForecastEvent, Kind, Status
from forecasts.scoring import bulk
from forecasts.services.history import OUTCOME_FIELDS, SCORE_FIELDS, equal, jsonable
from marketdata.calendars import get_calendar
from marketdata.models import Instrument, PriceBarRevision, Split
from marketdata.selectors import bars_frame

log = logging.getLogger(__name__)


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
    """Map a ScoreResult onto the Forecast's score fields (the rulebook's mapping, shared with bench/)."""
    fields = scoring.score_columns(result, benchmark_return=benchmark_return)
    fields["status"] = Status(fields["status"])
    return fields


def forecasts_score(
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
    # Pending forecasts, and automatic voids for missing bars: bars that arrive later (a backfill after
    # a forecast was recorded on a new instrument) may decide them after all; still missing, they stay void.
    candidates = Q(status=Status.PENDING) | Q(
        status=Status.VOID, void_reason__startswith=scoring.MISSING_BARS_VOID
    )
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
    # One vectorised pass per instrument (forecasts.scoring.bulk agrees exactly with the pure scorer).
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
    if all(equal(old[f], new[f]) for f in SCORE_FIELDS):
        return False
    outcome_changes = {
        f: [jsonable(old[f]), jsonable(new[f])] for f in OUTCOME_FIELDS if not equal(old[f], new[f])
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
