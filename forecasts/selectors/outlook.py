"""What strategists expect now for an instrument, and how such a consensus fared before. Reads only.

**Open calls** are the published, pending forecasts on the instrument whose deadline has not passed, each
reduced to the level it names (a range: its midpoint; a move_pct: the baseline moved by the percentage;
reach, close_above, close_below: the target). Directional, qualitative and outperform calls name no level
and are listed, not averaged.

**The consensus** is a weighted median of those levels. Each call weighs by its author's past skill,
shrunk toward zero by how few calls the author has had decided:

    shrunk skill = n / (n + N0) * mean skill        (n: the author's resolved calls, N0 = 5)
    weight       = max(MIN_WEIGHT, 1 + 2 * shrunk skill)

Skill (outcome minus the chance a random walk had of making the claim true, SCORING §4) lies in -1 … 1,
so a seasoned author with mean skill +0.3 counts about 1.5 times, one with -0.3 about half; an author with
no decided call counts 1, and with every author new the consensus is the plain median.

**The record of the consensus**: at each month-end of the instrument's price history, the same rule is
applied to the calls open then, with each author's record as it stood then (calls decided by that date),
and compared with what happened: the close on the median deadline of those calls. The plain median is
scored beside it, so a reader sees whether weighting by track record helped.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.utils import timezone

from forecasts.models import Forecast, Kind, Status
from marketdata.models import Instrument, PriceBar

N0 = 5
MIN_WEIGHT = 0.1
LEVEL_KINDS = (Kind.REACH, Kind.CLOSE_ABOVE, Kind.CLOSE_BELOW, Kind.RANGE, Kind.MOVE_PCT)


@dataclass
class Record:
    """An author's decided calls (before some date): how many and their mean skill."""

    resolved: int = 0
    skill_total: float = 0.0

    @property
    def mean_skill(self) -> float | None:
        return self.skill_total / self.resolved if self.resolved else None

    @property
    def shrunk_skill(self) -> float:
        return (self.resolved / (self.resolved + N0)) * (self.mean_skill or 0.0)

    @property
    def weight(self) -> float:
        return max(MIN_WEIGHT, 1.0 + 2.0 * self.shrunk_skill)


@dataclass
class Call:
    forecast: Forecast
    level: float | None
    record: Record


@dataclass
class Point:
    """The consensus at one month-end, and what happened."""

    on: date
    calls: int
    weighted: float
    median: float
    horizon: date
    outcome: float | None

    @property
    def weighted_error(self) -> float | None:
        return None if self.outcome is None else abs(self.weighted / self.outcome - 1.0)

    @property
    def median_error(self) -> float | None:
        return None if self.outcome is None else abs(self.median / self.outcome - 1.0)


@dataclass
class Outlook:
    instrument: Instrument
    today: date
    last_close: tuple[date, float] | None
    calls: list[Call]
    weighted: float | None
    median: float | None
    history: list[Point] = field(default_factory=list)

    @property
    def scored_history(self) -> list[Point]:
        return [p for p in self.history if p.outcome is not None]

    @property
    def weighted_mean_error(self) -> float | None:
        errors = [p.weighted_error for p in self.scored_history]
        return statistics.fmean(errors) if errors else None

    @property
    def median_mean_error(self) -> float | None:
        errors = [p.median_error for p in self.scored_history]
        return statistics.fmean(errors) if errors else None


def implied_level(f: Forecast) -> float | None:
    """The one level a call names, or None (direction, manual, outperform, move_pct without baseline)."""
    if f.kind in (Kind.REACH, Kind.CLOSE_ABOVE, Kind.CLOSE_BELOW):
        return f.target
    if f.kind == Kind.RANGE and f.target is not None and f.target_upper is not None:
        return (f.target + f.target_upper) / 2.0
    if f.kind == Kind.MOVE_PCT and f.baseline and f.target is not None:
        return f.baseline * (1.0 + f.target / 100.0)
    return None


def weighted_median(pairs: list[tuple[float, float]]) -> float | None:
    """The level at which half the weight lies on each side (the lower one on an exact split)."""
    if not pairs:
        return None
    pairs = sorted(pairs)
    half = sum(w for _, w in pairs) / 2.0
    running = 0.0
    for level, weight in pairs:
        running += weight
        if running >= half - 1e-12:
            return level
    return pairs[-1][0]


def _consensus(calls: list[Call]) -> tuple[float | None, float | None]:
    levelled = [c for c in calls if c.level is not None]
    if not levelled:
        return None, None
    weighted = weighted_median([(c.level, c.record.weight) for c in levelled])
    return weighted, statistics.median(c.level for c in levelled)


class Decided(NamedTuple):
    """One of an author's decided calls, as the records need it."""

    strategist_id: int
    resolved_on: date
    skill: float


def _count(records: dict[int, Record], f: Decided) -> None:
    record = records.setdefault(f.strategist_id, Record())
    record.resolved += 1
    record.skill_total += f.skill


def _records(decided: list[Decided]) -> dict[int, Record]:
    out: dict[int, Record] = {}
    for f in decided:
        _count(out, f)
    return out


def instrument_outlook(
    instrument: Instrument,
    *,
    today: date | None = None,
    history: bool = True,
    forecasts: list[Forecast] | None = None,
    closes: list[tuple[date, float]] | None = None,
) -> Outlook:
    """The open calls on `instrument`, their consensus, and (history=True) the consensus's record.

    One query for the authors' decided calls, plus one each for the instrument's published forecasts and
    its closes unless the caller already has them (`forecasts`: published, oldest first; `closes`:
    (session, close) oldest first).
    """
    today = today or timezone.now().date()
    if forecasts is None:
        forecasts = list(
            Forecast.objects.filter(instrument=instrument)
            .select_related(
                "strategist", "strategist__firm", "firm", "source", "instrument", "other_instrument"
            )
            .order_by("made_at", "pk")
        )
    on_it = [f for f in forecasts if f.instrument_id == instrument.pk]
    authors = {f.strategist_id for f in on_it}
    # Plain rows, not model instances: an instrument's authors can have tens of thousands of decided calls.
    decided = [
        Decided(*row)
        for row in Forecast.objects.filter(
            strategist_id__in=authors, status__in=[Status.HIT, Status.MISS], skill__isnull=False
        )
        .exclude(resolved_on__isnull=True)
        .values_list("strategist_id", "resolved_on", "skill")
    ]
    now_records = _records(decided)
    open_calls = [
        Call(f, implied_level(f), now_records.get(f.strategist_id, Record()))
        for f in on_it
        if f.status == Status.PENDING and f.deadline >= today
    ]
    open_calls.sort(key=lambda c: (c.level is None, -(c.record.weight), c.forecast.deadline))
    weighted, median = _consensus(open_calls)
    if closes is None:
        closes = list(
            PriceBar.objects.filter(instrument=instrument).order_by("session").values_list("session", "close")
        )
    outlook = Outlook(instrument, today, closes[-1] if closes else None, open_calls, weighted, median)
    if history and closes:
        outlook.history = _history(instrument, on_it, decided, closes)
    return outlook


def _history(instrument, on_it: list[Forecast], decided: list[Decided], closes) -> list[Point]:
    """The consensus at each month-end of the price history, with the authors' records then."""
    tz = ZoneInfo(instrument.timezone_name)
    first, last = closes[0][0], closes[-1][0]
    sessions = [d for d, _ in closes]
    by_day = dict(closes)
    points = []
    # The authors' records as of each month-end, built up in one pass over their decided calls in the
    # order they were decided (not recounted from all of them every month: that was most of a cold render).
    decided = sorted(decided, key=lambda f: f.resolved_on)
    records: dict[int, Record] = {}
    taken = 0
    for month_end in _month_ends(first, last):
        cut = datetime.combine(month_end + timedelta(days=1), time(0), tzinfo=tz)
        while taken < len(decided) and decided[taken].resolved_on <= month_end:
            _count(records, decided[taken])
            taken += 1
        calls = [
            Call(f, implied_level(f), records.get(f.strategist_id, Record()))
            for f in on_it
            if f.made_at <= cut
            and f.deadline > month_end
            and f.kind in LEVEL_KINDS
            and not (f.status in (Status.HIT, Status.MISS) and f.resolved_on and f.resolved_on <= month_end)
            and not (f.status == Status.VOID and (f.voided_on is None or f.voided_on <= month_end))
        ]
        weighted, median = _consensus(calls)
        if weighted is None or median is None:
            continue
        deadlines = sorted(c.forecast.deadline for c in calls if c.level is not None)
        horizon = deadlines[(len(deadlines) - 1) // 2]
        outcome = _close_on_or_before(sessions, by_day, horizon) if horizon <= last else None
        points.append(Point(month_end, len(calls), weighted, median, horizon, outcome))
    return points


def _month_ends(first: date, last: date) -> list[date]:
    out, year, month = [], first.year, first.month
    while True:
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        end = nxt - timedelta(days=1)
        if end > last:
            return out
        out.append(end)
        year, month = nxt.year, nxt.month


def _close_on_or_before(sessions: list[date], by_day: dict, day: date) -> float | None:
    i = bisect.bisect_right(sessions, day) - 1
    return by_day[sessions[i]] if i >= 0 else None
