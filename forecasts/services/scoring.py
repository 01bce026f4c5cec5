"""Scoring the forecasts on an instrument with the bulk scorer, and writing only what changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from forecasts import scoring
from forecasts.models import DeadlineSource, Forecast, ForecastEvent, Kind, ScoringCheckpoint, Status
from forecasts.scoring import bulk, rules
from forecasts.scoring.incremental import may_change
from forecasts.scoring.rules import HISTORY_SCAN
from forecasts.services import aggregates, dataversion
from forecasts.services.history import OUTCOME_FIELDS, SCORE_FIELDS, equal, jsonable
from marketdata.calendars import get_calendar
from marketdata.models import Instrument, PriceBar, PriceBarRevision, Split
from marketdata.selectors import bars_frame

log = logging.getLogger(__name__)


@dataclass
class ScoringSummary:
    instrument: str
    scored: int = 0
    changed: int = 0
    #: incremental runs: "full" (no usable checkpoint, late bars, a stopped instrument) or "incremental"
    mode: str = "full"
    #: incremental runs: the pending forecasts looked at to choose the ones to rescore
    pending: int = 0
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

    def get(self, instrument: Instrument, *, since: date | None = None) -> tuple:
        """Bars, calendar and splits. ``since``: only the bars from that session on (the subject of an
        incremental run needs no older ones); not cached, as other lookups want the whole history."""
        if since is not None and instrument.pk not in self._cache:
            return (_bars_since(instrument.pk, since, self._until), *self._calendar_splits(instrument))
        if instrument.pk not in self._cache:
            self._cache[instrument.pk] = (
                bars_frame(instrument.pk, until=self._until),
                *self._calendar_splits(instrument),
            )
        return self._cache[instrument.pk]

    @staticmethod
    def _calendar_splits(instrument: Instrument) -> tuple:
        splits = tuple(
            scoring.Split(ex_date=d, ratio=r)
            for d, r in Split.objects.filter(instrument=instrument).values_list("ex_date", "ratio")
        )
        return get_calendar(instrument.calendar_code), splits

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
        return rules.benchmark_return(
            closes.index.to_numpy().astype("datetime64[D]"), closes.to_numpy(dtype=float), start, end
        )


def _bars_since(instrument_id: int, since: date, until: date | None) -> pd.DataFrame:
    """The instrument's bars from ``since`` on, shaped as marketdata.selectors.bars_frame shapes them."""
    qs = PriceBar.objects.filter(instrument_id=instrument_id, session__gte=since)
    if until is not None:
        qs = qs.filter(session__lte=until)
    rows = list(qs.order_by("session").values_list("session", "open", "high", "low", "close"))
    frame = pd.DataFrame(rows, columns=["session", "open", "high", "low", "close"])
    frame["session"] = pd.to_datetime(frame["session"])
    return frame.set_index("session").astype("float64")


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
    _score_and_write(
        forecasts, summary, market, as_of=as_of, now=now, persist=persist, revised_from=revised_from
    )
    if summary.changed:
        dataversion.bump()  # the writes above are queryset updates: no model signal moves the version
    return summary


def forecasts_rescore_incremental(
    instrument: Instrument, *, as_of: datetime | None = None, market: _MarketData | None = None
) -> ScoringSummary:
    """The nightly rescore of `instrument`: only the pending forecasts that the sessions completed since
    its last run (its ScoringCheckpoint) can change, read with only the bars they can need.

    Which ones: forecasts.scoring.incremental.may_change (a window that ended, a target touched, a new
    session without a bar, never scored, awaiting data). Each is rescored by the scorer and written only
    if a stored column changes, so the result is the one a full rescore (`forecasts_score`) gives; where
    the checkpoint cannot tell (none yet, bars that arrived late for sessions already checked, a stopped
    instrument, the clock set back), this is a full rescore of the instrument. Revised bars are the
    `revised_from` path of `forecasts_score`. `as_of`: for tests (default now); results are written.
    """
    now = timezone.now()
    given, as_of = as_of, as_of or now
    calendar = get_calendar(instrument.calendar_code)
    through = calendar.last_session_closed_at_or_before(as_of)
    checkpoint = ScoringCheckpoint.objects.filter(instrument=instrument).first()
    full = (
        checkpoint is None
        or through is None
        or instrument.trading_ended_on is not None
        or checkpoint.complete_through > through
        or PriceBar.objects.filter(
            instrument=instrument,
            session__lte=checkpoint.complete_through,
            fetched_at__gt=checkpoint.checked_at,
        ).exists()
    )
    if full:
        summary = forecasts_score(instrument, as_of=given, persist=True)
    else:
        assert checkpoint is not None and through is not None  # not full
        summary = _incremental(instrument, checkpoint.complete_through, through, as_of, now, market)
    if through is not None:
        ScoringCheckpoint.objects.update_or_create(
            instrument=instrument, defaults={"complete_through": through, "checked_at": now}
        )
    summary.mode = "full" if full else "incremental"
    return summary


_PENDING_COLUMNS = (
    "pk",
    "kind",
    "basis",
    "target",
    "baseline",
    "baseline_date",
    "window_start",
    "window_end",
    "awaiting_data",
    "scored_at",
    "scorer_version",
)


def _incremental(
    instrument: Instrument,
    since: date,
    through: date,
    as_of: datetime,
    now: datetime,
    market: _MarketData | None,
) -> ScoringSummary:
    summary = ScoringSummary(instrument=instrument.symbol)
    pending = list(
        Forecast.all_objects.filter(instrument=instrument, status=Status.PENDING, made_at__lte=as_of)
        .exclude(kind=Kind.MANUAL)
        .order_by("pk")
        .values_list(*_PENDING_COLUMNS)
    )
    # Outperforms with this instrument as B, once their window has ended: B's close may decide them now
    # (their own instrument's run rescores them too, nightly until decided).
    partners = list(
        Forecast.all_objects.filter(
            other_instrument=instrument,
            kind=Kind.OUTPERFORM,
            status=Status.PENDING,
            made_at__lte=as_of,
            window_end__lte=through,
        ).values_list("pk", flat=True)
    )
    summary.pending = len(pending)
    if not pending and not partners:
        return summary
    if not pending:
        return _rescore_ids(instrument, partners, summary, as_of, now, market, None)
    cols = dict(zip(_PENDING_COLUMNS, zip(*pending, strict=True), strict=True))
    calendar = get_calendar(instrument.calendar_code)
    new_days = calendar.sessions_array(since, through)
    new_days = new_days[new_days > np.datetime64(since, "D")]
    bars = {
        np.datetime64(d, "D"): (h, lo, c)
        for d, h, lo, c in PriceBar.objects.filter(
            instrument=instrument, session__gt=since, session__lte=through
        ).values_list("session", "high", "low", "close")
    }
    nan = (np.nan, np.nan, np.nan)
    new_bars = np.array([bars.get(d, nan) for d in new_days], dtype=float).reshape(-1, 3)
    baselines = [d for d in cols["baseline_date"] if d is not None]
    split_after = (
        bool(baselines) and Split.objects.filter(instrument=instrument, ex_date__gt=min(baselines)).exists()
    )

    def dates(name: str) -> np.ndarray:
        return np.array([np.datetime64("NaT") if d is None else d for d in cols[name]], dtype="datetime64[D]")

    def floats(name: str) -> np.ndarray:
        return np.array([np.nan if x is None else x for x in cols[name]], dtype=float)

    chosen = may_change(
        kind=np.array(cols["kind"], dtype=object),
        basis=np.array(cols["basis"], dtype=object),
        target=floats("target"),
        baseline=floats("baseline"),
        window_start=dates("window_start"),
        window_end=dates("window_end"),
        awaiting=np.array(cols["awaiting_data"], dtype=bool),
        fresh=np.array(
            [
                t is None or v != scoring.SCORER_VERSION
                for t, v in zip(cols["scored_at"], cols["scorer_version"], strict=True)
            ],
            dtype=bool,
        ),
        through=np.datetime64(through, "D"),
        new_days=new_days,
        new_close=new_bars[:, 2],
        new_high=new_bars[:, 0],
        new_low=new_bars[:, 1],
        split_after=split_after,
        since=np.datetime64(since, "D"),
        calendar_days=calendar.sessions,
    )
    ids = [pk for pk, keep in zip(cols["pk"], chosen.tolist(), strict=True) if keep]
    if not ids and not partners:
        return summary
    start = _history_start(
        instrument, [b for b, keep in zip(cols["baseline_date"], chosen.tolist(), strict=True) if keep]
    )
    return _rescore_ids(instrument, ids + partners, summary, as_of, now, market, start)


def _rescore_ids(
    instrument: Instrument,
    ids: list[int],
    summary: ScoringSummary,
    as_of: datetime,
    now: datetime,
    market: _MarketData | None,
    start: date | None,
) -> ScoringSummary:
    """Rescore the pending forecasts ``ids`` (the subject's bars from ``start`` on) and write the changes."""
    forecasts = list(
        Forecast.all_objects.filter(pk__in=ids, status=Status.PENDING)
        .select_related("instrument", "other_instrument")
        .order_by("pk")
    )
    market = market or _MarketData(as_of.date() if as_of < now else None)
    _score_and_write(
        forecasts,
        summary,
        market,
        as_of=as_of,
        now=now,
        persist=True,
        since=None if start is None else {instrument.pk: start},
    )
    if summary.changed:
        dataversion.bump()
    return summary


def _history_start(instrument: Instrument, baselines: list[date | None]) -> date | None:
    """The first bar forecasts with these baselines can need: HISTORY_SCAN bar rows (the volatility
    history's scan) before the earliest baseline; None (read everything) if a baseline is unknown."""
    if not baselines or any(b is None for b in baselines):
        return None
    earliest = min(b for b in baselines if b is not None)
    return (
        PriceBar.objects.filter(instrument=instrument, session__lte=earliest)
        .order_by("-session")
        .values_list("session", flat=True)[HISTORY_SCAN - 1 : HISTORY_SCAN]
        .first()
    )


def _score_and_write(
    forecasts: list[Forecast],
    summary: ScoringSummary,
    market: _MarketData,
    *,
    as_of: datetime,
    now: datetime,
    persist: bool,
    revised_from: date | None = None,
    since: dict[int, date] | None = None,
) -> None:
    """Score ``forecasts`` (one vectorised pass per instrument) and, if ``persist``, write the changed ones.
    ``since``: per subject instrument, the first bar its forecasts can need (incremental runs)."""
    # One vectorised pass per instrument (forecasts.scoring.bulk agrees exactly with the pure scorer).
    groups: dict[int, list[Forecast]] = {}
    for forecast in forecasts:
        groups.setdefault(forecast.instrument_id, []).append(forecast)
    for group in groups.values():
        changed: list[Forecast] = []
        subject = group[0].instrument
        bars, calendar, splits = market.get(subject, since=(since or {}).get(subject.pk))
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
            if rules.wants_benchmark(forecast.kind, result):
                assert result.baseline_date is not None and result.last_session is not None
                benchmark = market.benchmark_return(subject, result.baseline_date, result.last_session)
            if persist and _apply_score(
                forecast, result, revised_from=revised_from, now=now, benchmark_return=benchmark
            ):
                summary.changed += 1
                changed.append(forecast)
        # The boards' precomputed figures of the strategists, firms and instruments whose forecasts moved
        # (queryset updates send no model signal). Should this process die between the writes above and
        # here, `manage.py rebuild_aggregates` (or any later change of those subjects) puts them right.
        if changed:
            aggregates.forecasts_changed(changed)


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
