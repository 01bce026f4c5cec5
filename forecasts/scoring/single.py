"""Score one forecast against daily price bars: hit, miss, pending or void (SCORING.md v1).

Pure module: no Django, no I/O, no clock. ``score()`` is a function of its arguments only, so rescoring
with the same bars and the same ``as_of`` always gives the same result, and scoring "as of" a past
instant is reproducible (bars of sessions not complete at ``as_of`` are ignored).

Vocabulary (see METHODOLOGY.md for the rules in plain words):
- *session*: a trading day of the instrument's calendar, named by its date.
- *baseline*: close of the last session whose close instant is <= ``made_at``.
- *window*: sessions whose open instant is >= ``made_at``, up to the last session on or before the
  deadline (inclusive). A session in progress at ``made_at`` is in neither.
- *complete*: a session whose close instant is <= ``as_of``.
- *missing*: a complete session (or the baseline session) with no bar, or a bar whose close is NaN.

Prices are raw (as quoted at the time); splits are passed separately and applied here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from forecasts.scoring.difficulty import log_return_sigma, random_walk_probability
from forecasts.scoring.rules import (
    COIN_FLIP_KINDS,
    DEFAULT_HORIZON_MONTHS,
    HISTORY_SCAN,
    LAST_SESSION_KINDS,
    TOUCH_KINDS,
    VOID_AFTER_SESSIONS,
    VOLATILITY_CLOSES,
    Basis,
    Claim,
    Kind,
    ScoreResult,
    SessionCalendar,
    Split,
    Status,
    as_dates,
    as_day,
    automatic_void,
    boldness_of,
    default_deadline,
    judge_last_close,
    note_awaiting,
    note_benchmark_no_session,
    note_last_close,
    note_last_session_pending,
    note_manual,
    note_never_touched,
    note_no_session,
    note_not_yet_made,
    note_outperform_pending,
    note_touch_pending,
    note_touched,
    skill_of,
    touch_level,
)

__all__ = ["score"]


class _Bars:
    """Read-only view of a bar DataFrame restricted to sessions complete at as_of."""

    __slots__ = ("close", "dates", "high", "low")

    def __init__(self, bars: pd.DataFrame, visible_through: date | None) -> None:
        index = bars.index
        if not isinstance(index, pd.DatetimeIndex):
            raise TypeError("bars must be indexed by a DatetimeIndex of session dates")
        if index.tz is not None:
            raise ValueError("bars index must be naive session dates, not timezone-aware instants")
        if not (index.is_monotonic_increasing and index.is_unique):
            raise ValueError("bars index must be sorted and unique")
        if "close" not in bars.columns:
            raise ValueError("bars need a 'close' column")
        dates = index.to_numpy()
        n = 0
        if visible_through is not None:
            n = int(np.searchsorted(dates, np.datetime64(visible_through, "D").astype(dates.dtype), "right"))
        self.dates = dates[:n]
        self.close = self._column(bars, "close", n)
        self.high = self._column(bars, "high", n)
        self.low = self._column(bars, "low", n)

    @staticmethod
    def _column(bars: pd.DataFrame, name: str, n: int) -> np.ndarray:
        if name not in bars.columns:
            return np.full(n, np.nan)
        return bars[name].to_numpy(dtype=float, na_value=np.nan)[:n]

    def positions(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position, found) of each session in ``days`` among the visible bars."""
        query = np.asarray(days, dtype="datetime64[D]").astype(self.dates.dtype)
        pos = np.searchsorted(self.dates, query)
        found = pos < len(self.dates)
        found[found] = self.dates[pos[found]] == query[found]
        return np.where(found, pos, 0), found

    def take(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """close, high, low aligned to ``days`` (NaN where there is no bar)."""
        if len(self.dates) == 0:
            nan = np.full(len(days), np.nan)
            return nan, nan.copy(), nan.copy()
        pos, found = self.positions(days)
        return (
            np.where(found, self.close[pos], np.nan),
            np.where(found, self.high[pos], np.nan),
            np.where(found, self.low[pos], np.nan),
        )

    def close_on(self, d: date) -> float | None:
        value = self.take(np.array([np.datetime64(d, "D")]))[0][0]
        return None if math.isnan(value) else float(value)

    def history(self, calendar: SessionCalendar, through: date, splits: Sequence[Split]) -> np.ndarray:
        """Up to VOLATILITY_CLOSES available closes of sessions on or before ``through``, adjusted so
        that splits are not returns (closes before an ex_date are divided by its ratio)."""
        end = int(np.searchsorted(self.dates, np.datetime64(through, "D").astype(self.dates.dtype), "right"))
        start = max(0, end - HISTORY_SCAN)
        dates = self.dates[start:end].astype("datetime64[D]")
        closes: np.ndarray = self.close[start:end]
        if len(dates) == 0:
            return closes
        sessions = calendar.sessions_array(as_day(dates[0]), through)
        keep = ~np.isnan(closes) & np.isin(dates, sessions)
        dates, closes = dates[keep][-VOLATILITY_CLOSES:], closes[keep][-VOLATILITY_CLOSES:].copy()
        for split in splits:
            if split.ex_date <= through:
                closes[dates < np.datetime64(split.ex_date, "D")] /= split.ratio
        return closes


@dataclass(frozen=True, slots=True)
class _Frame:
    """One instrument's baseline and window for a claim, as of as_of."""

    baseline_date: date
    window: np.ndarray  # datetime64[D], whole window incl. future sessions
    complete: int  # number of window sessions complete at as_of
    bars: _Bars
    baseline_raw: float | None  # raw close of the baseline session, None if missing
    pre_ratio: float  # splits that went ex in the session in progress at made_at
    cum: np.ndarray  # cumulative split ratio in force at each window session

    @property
    def baseline(self) -> float | None:
        """Baseline in made_at prices."""
        return None if self.baseline_raw is None else self.baseline_raw / self.pre_ratio

    @property
    def first(self) -> date | None:
        return as_day(self.window[0]) if len(self.window) else None

    @property
    def last(self) -> date:
        """The last window session. Only on a non-empty window: score() voids an empty one first."""
        return as_day(self.window[-1])

    @property
    def is_complete(self) -> bool:
        return self.complete == len(self.window)


def _frame(
    calendar: SessionCalendar,
    bars: pd.DataFrame,
    splits: Sequence[Split],
    made_at: datetime,
    deadline: date,
    as_of: datetime,
) -> _Frame:
    baseline_date = calendar.last_session_closed_at_or_before(made_at)
    if baseline_date is None:
        raise ValueError(f"made_at {made_at.isoformat()} is before the calendar's first session")
    first = calendar.first_session_opening_at_or_after(made_at)
    last = calendar.last_session_on_or_before(deadline)
    if first is None or last is None or first > last:
        window = np.array([], dtype="datetime64[D]")
    else:
        window = calendar.sessions_array(first, last)
    complete_through = calendar.last_session_closed_at_or_before(as_of)
    complete = 0
    if complete_through is not None and len(window):
        complete = int(np.searchsorted(window, np.datetime64(complete_through, "D"), "right"))
    series = _Bars(bars, complete_through)
    baseline_raw = (
        series.close_on(baseline_date) if complete_through and baseline_date <= complete_through else None
    )

    pre_ratio = 1.0
    cum = np.ones(len(window))
    for split in splits:
        ex = np.datetime64(split.ex_date, "D")
        if split.ex_date <= baseline_date:
            continue  # already in the baseline price
        if first is None or split.ex_date < first:
            # ex in the session in progress at made_at: the quotes the strategist saw were post-split
            pre_ratio *= split.ratio
        elif len(window):
            cum[int(np.searchsorted(window, ex, "left")) :] *= split.ratio
    return _Frame(baseline_date, window, complete, series, baseline_raw, pre_ratio, cum)


@dataclass(frozen=True, slots=True)
class _Decision:
    status: Status
    note: str
    resolved_on: date | None = None
    price: float | None = None
    missing: tuple[date, ...] = ()


def _decide_touch(frame: _Frame, target: float, up: bool, basis: Basis) -> _Decision:
    """reach / move_pct: hit at the first window session meeting T, deciding only on the contiguous
    prefix of complete sessions that have the data the rule needs."""
    c = frame.complete
    days = frame.window[:c]
    close, high, low = frame.bars.take(days)
    thresholds = target / frame.cum[:c]
    probe = close if basis is Basis.CLOSE else (high if up else low)
    with np.errstate(invalid="ignore"):
        close_meets = (close >= thresholds) if up else (close <= thresholds)
        probe_meets = (probe >= thresholds) if up else (probe <= thresholds)
    has_close = ~np.isnan(close)
    # intraday with NaN high/low: a close meeting T proves the touch (high >= close); otherwise unknown
    known = has_close & (~np.isnan(probe) | close_meets)
    meets = known & (probe_meets | close_meets)
    unknown_at = int(np.argmin(known)) if not known.all() else c
    hit_at = int(np.argmax(meets)) if meets.any() else c
    side = "≥" if up else "≤"
    what = "closed at" if basis is Basis.CLOSE else ("high" if up else "low")

    if hit_at < unknown_at:
        d = as_day(days[hit_at])
        use_probe = bool(probe_meets[hit_at])
        price = float(probe[hit_at] if use_probe else close[hit_at])
        label = what if use_probe else "closed at"
        return _Decision(
            Status.HIT,
            note_touched(label, price, side, float(thresholds[hit_at]), float(frame.cum[hit_at]), target, d),
            d,
            price,
        )
    if unknown_at < c:
        missing = as_dates(days[:hit_at][~known[:hit_at]])
        return _Decision(Status.PENDING, note_awaiting(missing), missing=missing)
    level = touch_level(up, target)
    if c and c == len(frame.window):
        adjusted = np.where(np.isnan(probe), close, probe) * frame.cum[:c]
        best = int(np.nanargmax(adjusted) if up else np.nanargmin(adjusted))
        word = "close" if basis is Basis.CLOSE else ("high" if up else "low")
        last = as_day(days[-1])
        price = float(probe[-1]) if not math.isnan(probe[-1]) else float(close[-1])
        return _Decision(
            Status.MISS,
            note_never_touched(basis, level, c, last, word, float(adjusted[best]), as_day(days[best])),
            last,
            price,
        )
    return _Decision(Status.PENDING, note_touch_pending(level, frame.last))


def _last_close(frame: _Frame) -> tuple[float | None, _Decision | None]:
    """Close of the last window session, or a pending decision if it is not complete / missing."""
    n = len(frame.window)
    if frame.complete < n:
        return None, _Decision(Status.PENDING, note_last_session_pending(frame.last))
    close = frame.bars.close_on(frame.last)
    if close is None:
        return None, _Decision(Status.PENDING, note_awaiting((frame.last,)), missing=(frame.last,))
    return close, None


def _decide_last_session(frame: _Frame, claim: Claim, baseline: float) -> _Decision:
    close, pending = _last_close(frame)
    if pending is not None:
        return pending
    assert close is not None  # _last_close returns a close or a pending decision
    last = frame.last
    cum = float(frame.cum[-1])
    ok, rule = judge_last_close(claim, close, baseline, cum)
    return _Decision(
        Status.HIT if ok else Status.MISS,
        note_last_close(close, last, ok, rule),
        last,
        close,
    )


def _window_return(frame: _Frame) -> float | None:
    if frame.baseline is None or not frame.is_complete or not len(frame.window):
        return None
    close = frame.bars.close_on(frame.last)
    return None if close is None else close * float(frame.cum[-1]) / frame.baseline - 1.0


def _void_cutoff_passed(calendar: SessionCalendar, frame: _Frame, as_of: datetime) -> bool:
    """True once the VOID_AFTER_SESSIONS-th session after the last window session is complete."""
    try:
        cutoff = calendar.sessions_after(frame.last, VOID_AFTER_SESSIONS)
    except ValueError:  # past the calendar's end
        return False
    return calendar.session_close(cutoff) <= as_of


# ---------------------------------------------------------------------------------------------- score


def score(
    claim: Claim,
    bars: pd.DataFrame,
    calendar: SessionCalendar,
    *,
    as_of: datetime,
    splits: Sequence[Split] = (),
    other_bars: pd.DataFrame | None = None,
    other_calendar: SessionCalendar | None = None,
    other_splits: Sequence[Split] = (),
    trading_ended_on: date | None = None,
    default_horizon_months: int = DEFAULT_HORIZON_MONTHS,
) -> ScoreResult:
    """Score ``claim`` against ``bars`` as of the instant ``as_of``.

    ``bars``: raw daily bars, index = session dates (naive DatetimeIndex, sorted, unique), columns
    ``close`` (required), ``high``/``low`` (intraday basis); NaN allowed. Bars of sessions not complete at
    ``as_of``, and bars on dates that are not sessions of ``calendar``, are ignored.
    ``splits``: the instrument's splits (any dates; only relevant ones are used).
    ``other_*``: instrument B for ``outperform`` (required then).
    ``trading_ended_on``: last date the instrument traded, if it stopped (delisting, index discontinued).
    Raises ValueError for inconsistent input (naive as_of, outperform without B, a deadline beyond the
    calendar's range).
    """
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must be a timezone-aware datetime")
    if claim.deadline is None:
        deadline, defaulted = default_deadline(claim.made_at, calendar.tz, default_horizon_months), True
    else:
        deadline, defaulted = claim.deadline, False

    frame = _frame(calendar, bars, splits, claim.made_at, deadline, as_of)
    common: dict[str, Any] = {
        "baseline": frame.baseline_raw,
        "baseline_date": frame.baseline_date,
        "first_session": frame.first,
        "last_session": frame.last if len(frame.window) else None,
        "deadline": deadline,
        "deadline_defaulted": defaulted,
        "sessions_in_window": len(frame.window),
    }

    if as_of < claim.made_at:
        return ScoreResult(Status.PENDING, note_not_yet_made(as_of), **common)
    if claim.kind is Kind.MANUAL:
        return ScoreResult(Status.PENDING, note_manual(), **common)
    if not len(frame.window):
        return ScoreResult(Status.VOID, note_no_session(deadline), **common)

    other: _Frame | None = None
    if claim.kind is Kind.OUTPERFORM:
        if other_bars is None or other_calendar is None:
            raise ValueError("outperform needs other_bars and other_calendar")
        other = _frame(other_calendar, other_bars, other_splits, claim.made_at, deadline, as_of)
        if not len(other.window):
            return ScoreResult(Status.VOID, note_benchmark_no_session(deadline), **common)

    # ---- targets and difficulty (in made_at prices)
    baseline = frame.baseline
    target_price: float | None = None
    direction: str | None = None
    if claim.kind in (Kind.REACH, Kind.CLOSE_ABOVE, Kind.CLOSE_BELOW):
        target_price = claim.target
    elif claim.kind is Kind.MOVE_PCT and baseline is not None:
        assert claim.target is not None  # Claim.__post_init__ requires a target for every priced kind
        target_price = baseline * (100.0 + claim.target) / 100.0
    if claim.kind in TOUCH_KINDS and baseline is not None:
        assert claim.target is not None and target_price is not None
        up = claim.target > 0 if claim.kind is Kind.MOVE_PCT else target_price >= baseline
        direction = "up" if up else "down"

    sigma: float | None = None
    p: float | None = None
    if claim.kind in COIN_FLIP_KINDS:
        p = 0.5
    elif baseline is not None:
        closes = frame.bars.history(calendar, frame.baseline_date, splits)
        sigma, _ = log_return_sigma(closes)
        p = random_walk_probability(
            claim.kind,
            claim.basis,
            baseline=baseline,
            sigma=sigma,
            sessions=len(frame.window),
            target=target_price if claim.kind is not Kind.RANGE else claim.target,
            target_upper=claim.target_upper,
        )

    # ---- decision
    missing: tuple[date, ...] = ()
    if baseline is None:
        # The baseline is needed data for every kind: it fixes the direction, move_pct's T and difficulty.
        decision = _Decision(Status.PENDING, "")
        missing = (frame.baseline_date,)
        if claim.kind is Kind.OUTPERFORM:
            assert other is not None  # built above for outperform
            decision = _decide_outperform(frame, other)
        elif claim.kind in TOUCH_KINDS:
            close, _, _ = frame.bars.take(frame.window[: frame.complete])
            missing += as_dates(frame.window[: frame.complete][np.isnan(close)])
        elif frame.is_complete and frame.bars.close_on(frame.last) is None:
            missing += (frame.last,)
    elif claim.kind in TOUCH_KINDS:
        assert target_price is not None  # set above for a touch kind with a baseline
        decision = _decide_touch(frame, target_price, direction == "up", claim.basis)
    elif claim.kind in LAST_SESSION_KINDS:
        decision = _decide_last_session(frame, claim, baseline)
    else:  # outperform
        assert other is not None
        decision = _decide_outperform(frame, other)
    if other is not None and other.baseline is None:
        missing += (other.baseline_date,)
    missing = tuple(sorted(set(missing + decision.missing)))
    if missing and decision.status is Status.PENDING:
        decision = _Decision(Status.PENDING, note_awaiting(missing), missing=missing)

    status, note = decision.status, decision.note
    awaiting = status is Status.PENDING and bool(missing)
    void_effective_on: date | None = None
    if status is Status.PENDING:
        cutoff_passed = _void_cutoff_passed(calendar, frame, as_of) and (
            other is None
            or (other_calendar is not None and _void_cutoff_passed(other_calendar, other, as_of))
        )
        cutoff = None
        if cutoff_passed:
            cutoffs = [calendar.sessions_after(frame.last, VOID_AFTER_SESSIONS)]
            if other is not None and other_calendar is not None:  # other_calendar is set whenever other is
                cutoffs.append(other_calendar.sessions_after(other.last, VOID_AFTER_SESSIONS))
            cutoff = max(cutoffs)
        void = automatic_void(
            trading_ended_on=trading_ended_on,
            last=frame.last,
            complete_through=calendar.last_session_closed_at_or_before(as_of),
            awaiting=awaiting,
            cutoff_passed=cutoff_passed,
            cutoff=cutoff,
            missing=missing,
        )
        if void is not None:
            status, awaiting = Status.VOID, False
            note, void_effective_on = void

    decided = status in (Status.HIT, Status.MISS)
    return ScoreResult(
        status=status,
        note=note,
        resolved_on=decision.resolved_on if decided else None,
        resolution_price=decision.price if decided else None,
        difficulty=p,
        skill=skill_of(status, p),
        boldness=boldness_of(p),
        awaiting_data=awaiting,
        missing_sessions=missing,
        target_price=target_price,
        direction=direction,
        window_return=_window_return(frame),
        other_return=None if other is None else _window_return(other),
        sigma=sigma,
        void_effective_on=void_effective_on,
        **common,
    )


def _decide_outperform(a: _Frame, b: _Frame) -> _Decision:
    """A beats B if its split-adjusted return baseline -> last window close is strictly higher."""
    a_close, a_pending = _last_close(a)
    b_close, b_pending = _last_close(b)
    if a_pending is not None or b_pending is not None:
        missing = (a_pending.missing if a_pending else ()) + (b_pending.missing if b_pending else ())
        if missing:
            return _Decision(Status.PENDING, "", missing=missing)
        waiting = [f.last for f, pend in ((a, a_pending), (b, b_pending)) if pend is not None]
        return _Decision(Status.PENDING, note_outperform_pending(waiting))
    if a.baseline is None or b.baseline is None:
        return _Decision(Status.PENDING, "")  # the caller lists the missing baseline(s)
    assert a_close is not None and b_close is not None  # _last_close returns a close or a pending decision
    ra = a_close * float(a.cum[-1]) / a.baseline - 1.0
    rb = b_close * float(b.cum[-1]) / b.baseline - 1.0
    ok = ra > rb
    # Decided only once both closes are in: on the later of the two last window sessions.
    return _Decision(
        Status.HIT if ok else Status.MISS,
        f"return {ra:+.2%} to {a.last.isoformat()} {'>' if ok else '≤'} "
        f"benchmark {rb:+.2%} to {b.last.isoformat()}",
        max(a.last, b.last),
        a_close,
    )
