"""Score a forecast against daily price bars: hit, miss, pending or void (SCORING.md v1).

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

import calendar as _pycalendar
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any, Protocol, TypeGuard

import numpy as np
import pandas as pd

SCORER_VERSION = "1.0.0"

#: Horizon applied when a forecast states no deadline (SCORING §2).
DEFAULT_HORIZON_MONTHS = 12
#: A needed bar still missing once this many sessions after the last window session are complete -> void.
VOID_AFTER_SESSIONS = 10
#: Volatility history: up to this many closes ending at the baseline (so up to one fewer returns).
VOLATILITY_CLOSES = 253
#: Fewer log returns than this -> difficulty unknown.
MIN_RETURNS = 60
#: Broadie-Glasserman-Kou continuity correction for daily (discrete) monitoring: beta = -zeta(1/2)/sqrt(2*pi).
BGK_BETA = 0.5826

_EPSILON = timedelta(microseconds=1)
#: How many bars before the baseline we look at to find the volatility closes (non-session / NaN bars
#: are skipped, so a bit more than VOLATILITY_CLOSES).
_HISTORY_SCAN = 2 * VOLATILITY_CLOSES


class Kind(StrEnum):
    REACH = "reach"
    CLOSE_ABOVE = "close_above"
    CLOSE_BELOW = "close_below"
    RANGE = "range"
    DIRECTION_UP = "direction_up"
    DIRECTION_DOWN = "direction_down"
    MOVE_PCT = "move_pct"
    OUTPERFORM = "outperform"
    MANUAL = "manual"


class Basis(StrEnum):
    CLOSE = "close"
    INTRADAY = "intraday"


class Status(StrEnum):
    PENDING = "pending"
    HIT = "hit"
    MISS = "miss"
    VOID = "void"


_TOUCH_KINDS = frozenset({Kind.REACH, Kind.MOVE_PCT})
_LAST_SESSION_KINDS = frozenset(
    {Kind.CLOSE_ABOVE, Kind.CLOSE_BELOW, Kind.RANGE, Kind.DIRECTION_UP, Kind.DIRECTION_DOWN}
)
_COIN_FLIP_KINDS = frozenset({Kind.DIRECTION_UP, Kind.DIRECTION_DOWN, Kind.OUTPERFORM})


class SessionCalendar(Protocol):
    """What the scorer needs from a trading calendar (``marketdata.calendars.TradingCalendar`` fits)."""

    @property
    def tz(self) -> tzinfo: ...

    def sessions_array(self, start: date, end: date) -> np.ndarray:
        """Sessions from start to end inclusive, ascending, as ``datetime64[D]``."""
        ...

    def session_close(self, d: date) -> datetime: ...

    def last_session_closed_at_or_before(self, instant: datetime) -> date | None: ...

    def first_session_opening_at_or_after(self, instant: datetime) -> date | None: ...

    def last_session_on_or_before(self, d: date) -> date | None: ...

    def sessions_after(self, d: date, n: int) -> date: ...


def _finite(x: float | None) -> TypeGuard[float]:
    return x is not None and math.isfinite(x)


@dataclass(frozen=True, slots=True)
class Claim:
    """A forecast's scorable content.

    ``target``: the price T (reach, close_above, close_below), the lower bound L (range), or the move X in
    percent (move_pct, e.g. 10 or -10). ``target_upper``: U (range only). Both are nominal prices as quoted
    at ``made_at``. Ignored by direction_*, outperform and manual.
    ``made_at``: aware instant the forecast became public. A date-only publication must be converted by the
    caller to midnight at the END of that day in the exchange time zone (next day 00:00 local).
    ``deadline``: inclusive date in the exchange's time zone; None -> default horizon.
    """

    kind: Kind
    made_at: datetime
    target: float | None = None
    target_upper: float | None = None
    basis: Basis = Basis.CLOSE
    deadline: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))
        object.__setattr__(self, "basis", Basis(self.basis))
        if self.made_at.tzinfo is None or self.made_at.utcoffset() is None:
            raise ValueError("made_at must be a timezone-aware datetime")
        for name in ("target", "target_upper"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, float(value))
        if isinstance(self.deadline, datetime):
            raise TypeError("deadline must be a date, not a datetime")
        k = self.kind
        if k in (Kind.REACH, Kind.CLOSE_ABOVE, Kind.CLOSE_BELOW):
            if not _finite(self.target) or self.target <= 0:
                raise ValueError(f"{k} needs a positive target price, got {self.target!r}")
        elif k is Kind.RANGE:
            if not (_finite(self.target) and _finite(self.target_upper)):
                raise ValueError("range needs target (lower bound) and target_upper (upper bound)")
            if not 0 < self.target <= self.target_upper:
                raise ValueError(
                    f"range needs 0 < lower <= upper, got {self.target!r}..{self.target_upper!r}"
                )
        elif k is Kind.MOVE_PCT and (not _finite(self.target) or self.target == 0 or self.target <= -100):
            raise ValueError(f"move_pct needs a non-zero percentage above -100, got {self.target!r}")


@dataclass(frozen=True, slots=True)
class Split:
    """A stock split: from ``ex_date`` on, one old share is ``ratio`` new shares (10.0 = 10-for-1;
    a 1-for-10 reverse split is 0.1)."""

    ex_date: date
    ratio: float

    def __post_init__(self) -> None:
        if not _finite(self.ratio) or self.ratio <= 0:
            raise ValueError(f"split ratio must be a positive number, got {self.ratio!r}")


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """Outcome of scoring one claim as of one instant. Prices are raw unless stated."""

    status: Status
    note: str
    #: the deciding session (hit: first session meeting the target; others: the last window session)
    resolved_on: date | None = None
    #: the price the rule looked at on ``resolved_on``: the close, or the high / low for intraday reach;
    #: for outperform, A's close.
    resolution_price: float | None = None
    baseline: float | None = None
    baseline_date: date | None = None
    first_session: date | None = None
    #: last window session (the last session on or before the deadline)
    last_session: date | None = None
    #: effective deadline (stated or defaulted)
    deadline: date | None = None
    deadline_defaulted: bool = False
    #: number of sessions in the whole window, future ones included
    sessions_in_window: int = 0
    difficulty: float | None = None
    skill: float | None = None
    boldness: float | None = None
    awaiting_data: bool = False
    missing_sessions: tuple[date, ...] = ()
    #: reach/move_pct/close_*: the target price in made_at prices (move_pct: baseline * (1 + X/100))
    target_price: float | None = None
    #: reach/move_pct: "up" (at or above) or "down" (at or below)
    direction: str | None = None
    #: split-adjusted return from the baseline to the last window session's close, when both are known
    window_return: float | None = None
    #: outperform only: the same for instrument B
    other_return: float | None = None
    sigma: float | None = None
    #: an automatic void: the session from which it holds (the VOID_AFTER_SESSIONS-th session after the
    #: last window session for missing bars; the last trading day for an instrument that stopped), so a
    #: point-in-time view shows it from then, as a hit is dated by ``resolved_on``
    void_effective_on: date | None = None
    scorer_version: str = field(default=SCORER_VERSION)


# --------------------------------------------------------------------------------------------- maths


def normal_cdf(x: float) -> float:
    """Standard normal CDF, Phi(x)."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def log_return_sigma(closes: Sequence[float] | np.ndarray) -> tuple[float | None, int]:
    """Sample standard deviation (ddof=1) of log returns between consecutive closes.

    ``closes``: available, split-adjusted closes in date order (the last ``VOLATILITY_CLOSES`` are used).
    Returns (sigma or None, number of returns); sigma is None with fewer than ``MIN_RETURNS`` returns.
    """
    arr = np.asarray(closes, dtype=float)[-VOLATILITY_CLOSES:]
    if len(arr) < 2:
        return None, 0
    returns = np.diff(np.log(arr))
    if len(returns) < MIN_RETURNS:
        return None, len(returns)
    return float(np.std(returns, ddof=1)), len(returns)


def random_walk_probability(
    kind: Kind,
    basis: Basis,
    *,
    baseline: float,
    sigma: float | None,
    sessions: int,
    target: float | None = None,
    target_upper: float | None = None,
) -> float | None:
    """Difficulty p (SCORING §4): the chance a driftless log random walk makes the claim come true.

    ``target``/``target_upper`` are prices in made_at terms (for move_pct pass the derived T).
    ``sessions``: number of sessions in the whole window. None when p is unknown (manual, no sigma,
    degenerate zero volatility).
    """
    if kind in _COIN_FLIP_KINDS:
        return 0.5
    if kind is Kind.MANUAL or sigma is None or sigma <= 0 or sessions <= 0 or not baseline > 0:
        return None
    s = sigma * math.sqrt(sessions)
    if kind in _TOUCH_KINDS:
        assert target is not None  # the touch and close kinds always have a target price
        b = abs(math.log(target / baseline))
        if basis is Basis.CLOSE:
            b += BGK_BETA * sigma
        return min(1.0, 2.0 * (1.0 - normal_cdf(b / s)))
    if kind is Kind.CLOSE_ABOVE:
        assert target is not None
        return 1.0 - normal_cdf(math.log(target / baseline) / s)
    if kind is Kind.CLOSE_BELOW:
        assert target is not None
        return normal_cdf(math.log(target / baseline) / s)
    if kind is Kind.RANGE:
        assert target is not None and target_upper is not None
        return normal_cdf(math.log(target_upper / baseline) / s) - normal_cdf(math.log(target / baseline) / s)
    raise ValueError(f"no difficulty rule for {kind}")


# ------------------------------------------------------------------------------------------ calendar


def add_months(d: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day (2024-02-29 + 12 -> 2025-02-28)."""
    total = d.year * 12 + (d.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(d.day, _pycalendar.monthrange(year, month)[1]))


def made_on(made_at: datetime, tz: tzinfo) -> date:
    """The local date the forecast was made. Midnight counts as the end of the previous day (the
    date-only convention), so 2025-02-15 00:00 HKT is made on 2025-02-14."""
    return (made_at - _EPSILON).astimezone(tz).date()


def default_deadline(made_at: datetime, tz: tzinfo, months: int = DEFAULT_HORIZON_MONTHS) -> date:
    """Deadline for a forecast with none stated: the same calendar date ``months`` after the day it was
    made (exchange-local; Feb 29 -> Feb 28)."""
    return add_months(made_on(made_at, tz), months)


# ------------------------------------------------------------------------------------------- helpers


def _fmt(x: float) -> str:
    """23200 -> '23,200'; 23477.92 -> '23,477.92'; 0.012345 -> '0.012345'."""
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    if abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.6g}"


def _dates(days: np.ndarray) -> tuple[date, ...]:
    return tuple(np.asarray(days, dtype="datetime64[D]").astype(object).tolist())


def _day(d: np.datetime64) -> date:
    day: date = d.astype("datetime64[D]").astype(object)
    return day


def _list_dates(days: Sequence[date], limit: int = 3) -> str:
    shown = ", ".join(d.isoformat() for d in days[:limit])
    return shown + (f" and {len(days) - limit} more" if len(days) > limit else "")


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
        start = max(0, end - _HISTORY_SCAN)
        dates = self.dates[start:end].astype("datetime64[D]")
        closes: np.ndarray = self.close[start:end]
        if len(dates) == 0:
            return closes
        sessions = calendar.sessions_array(_day(dates[0]), through)
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
        return _day(self.window[0]) if len(self.window) else None

    @property
    def last(self) -> date:
        """The last window session. Only on a non-empty window: score() voids an empty one first."""
        return _day(self.window[-1])

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


def _split_note(cum: float, nominal: float) -> str:
    return f" (split-adjusted from {_fmt(nominal)})" if cum != 1.0 else ""


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
        d = _day(days[hit_at])
        use_probe = bool(probe_meets[hit_at])
        price = float(probe[hit_at] if use_probe else close[hit_at])
        label = what if use_probe else "closed at"
        return _Decision(
            Status.HIT,
            f"{label} {_fmt(price)} {side} {_fmt(float(thresholds[hit_at]))}"
            f"{_split_note(float(frame.cum[hit_at]), target)} on {d.isoformat()}",
            d,
            price,
        )
    if unknown_at < c:
        missing = _dates(days[:hit_at][~known[:hit_at]])
        return _Decision(Status.PENDING, f"awaiting data: no bar for {_list_dates(missing)}", missing=missing)
    level = f"{'at or above' if up else 'at or below'} {_fmt(target)}"
    if c and c == len(frame.window):
        adjusted = np.where(np.isnan(probe), close, probe) * frame.cum[:c]
        best = int(np.nanargmax(adjusted) if up else np.nanargmin(adjusted))
        word = "close" if basis is Basis.CLOSE else ("high" if up else "low")
        last = _day(days[-1])
        price = float(probe[-1]) if not math.isnan(probe[-1]) else float(close[-1])
        return _Decision(
            Status.MISS,
            f"never {'closed' if basis is Basis.CLOSE else 'traded'} {level} in {c} sessions to "
            f"{last.isoformat()}; best {word} {_fmt(float(adjusted[best]))} "
            f"on {_day(days[best]).isoformat()}",
            last,
            price,
        )
    return _Decision(Status.PENDING, f"pending: not {level} in {c} of {len(frame.window)} window sessions")


def _last_close(frame: _Frame) -> tuple[float | None, _Decision | None]:
    """Close of the last window session, or a pending decision if it is not complete / missing."""
    n = len(frame.window)
    if frame.complete < n:
        return None, _Decision(
            Status.PENDING,
            f"pending: decided at the close of {frame.last.isoformat()} "
            f"({frame.complete} of {n} sessions complete)",
        )
    close = frame.bars.close_on(frame.last)
    if close is None:
        return None, _Decision(
            Status.PENDING, f"awaiting data: no bar for {frame.last.isoformat()}", missing=(frame.last,)
        )
    return close, None


def judge_last_close(claim: Claim, close: float, baseline: float, cum: float) -> tuple[bool, str]:
    """The rule of the last-session kinds (close_above/below, range, direction_*) on one close.

    `cum` is the cumulative split ratio inside the window: nominal targets and the baseline are
    divided by it. Returns whether the claim came true and the rule in words for the note.
    Shared by the pure and the bulk scorer, so the two cannot drift apart.
    """
    kind, target, upper = claim.kind, claim.target, claim.target_upper
    if kind is Kind.CLOSE_ABOVE:
        assert target is not None  # Claim.__post_init__ requires it for close_above/below and range
        t = target / cum
        return close >= t, f"≥ {_fmt(t)}{_split_note(cum, target)}"
    if kind is Kind.CLOSE_BELOW:
        assert target is not None
        t = target / cum
        return close <= t, f"≤ {_fmt(t)}{_split_note(cum, target)}"
    if kind is Kind.RANGE:
        assert target is not None and upper is not None
        lo, hi = target / cum, upper / cum
        return lo <= close <= hi, f"in [{_fmt(lo)}, {_fmt(hi)}]{_split_note(cum, target)}"
    b = baseline / cum
    up = kind is Kind.DIRECTION_UP
    return (close > b if up else close < b), f"{'>' if up else '<'} baseline {_fmt(b)}"


def _decide_last_session(frame: _Frame, claim: Claim, baseline: float) -> _Decision:
    close, pending = _last_close(frame)
    if pending is not None:
        return pending
    assert close is not None  # _last_close returns a close or a pending decision
    last = frame.last
    cum = float(frame.cum[-1])
    ok, rule = judge_last_close(claim, close, baseline, cum)
    verdict = "" if ok else "not "
    return _Decision(
        Status.HIT if ok else Status.MISS,
        f"closed at {_fmt(close)} on {last.isoformat()}: {verdict}{rule}",
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
        return ScoreResult(Status.PENDING, f"not yet made as of {as_of.isoformat()}", **common)
    if claim.kind is Kind.MANUAL:
        return ScoreResult(Status.PENDING, "manual claim: decided by an editor", **common)
    if not len(frame.window):
        return ScoreResult(
            Status.VOID,
            f"void: no trading session between made_at and the deadline {deadline.isoformat()}",
            **common,
        )

    other: _Frame | None = None
    if claim.kind is Kind.OUTPERFORM:
        if other_bars is None or other_calendar is None:
            raise ValueError("outperform needs other_bars and other_calendar")
        other = _frame(other_calendar, other_bars, other_splits, claim.made_at, deadline, as_of)
        if not len(other.window):
            return ScoreResult(
                Status.VOID,
                "void: the benchmark has no trading session between made_at and the deadline "
                f"{deadline.isoformat()}",
                **common,
            )

    # ---- targets and difficulty (in made_at prices)
    baseline = frame.baseline
    target_price: float | None = None
    direction: str | None = None
    if claim.kind in (Kind.REACH, Kind.CLOSE_ABOVE, Kind.CLOSE_BELOW):
        target_price = claim.target
    elif claim.kind is Kind.MOVE_PCT and baseline is not None:
        assert claim.target is not None  # Claim.__post_init__ requires a target for every priced kind
        target_price = baseline * (100.0 + claim.target) / 100.0
    if claim.kind in _TOUCH_KINDS and baseline is not None:
        assert claim.target is not None and target_price is not None
        up = claim.target > 0 if claim.kind is Kind.MOVE_PCT else target_price >= baseline
        direction = "up" if up else "down"

    sigma: float | None = None
    p: float | None = None
    if claim.kind in _COIN_FLIP_KINDS:
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
        elif claim.kind in _TOUCH_KINDS:
            close, _, _ = frame.bars.take(frame.window[: frame.complete])
            missing += _dates(frame.window[: frame.complete][np.isnan(close)])
        elif frame.is_complete and frame.bars.close_on(frame.last) is None:
            missing += (frame.last,)
    elif claim.kind in _TOUCH_KINDS:
        assert target_price is not None  # set above for a touch kind with a baseline
        decision = _decide_touch(frame, target_price, direction == "up", claim.basis)
    elif claim.kind in _LAST_SESSION_KINDS:
        decision = _decide_last_session(frame, claim, baseline)
    else:  # outperform
        assert other is not None
        decision = _decide_outperform(frame, other)
    if other is not None and other.baseline is None:
        missing += (other.baseline_date,)
    missing = tuple(sorted(set(missing + decision.missing)))
    if missing and decision.status is Status.PENDING:
        decision = _Decision(
            Status.PENDING, f"awaiting data: no bar for {_list_dates(missing)}", missing=missing
        )

    status, note = decision.status, decision.note
    awaiting = status is Status.PENDING and bool(missing)
    void_effective_on: date | None = None
    if status is Status.PENDING:
        complete_through = calendar.last_session_closed_at_or_before(as_of)
        if (
            trading_ended_on is not None
            and trading_ended_on < frame.last
            and (complete_through is not None and trading_ended_on <= complete_through)
        ):
            status, awaiting = Status.VOID, False
            void_effective_on = trading_ended_on
            note = (
                f"void: instrument stopped trading on {trading_ended_on.isoformat()}, "
                f"before the last window session {frame.last.isoformat()}"
            )
        elif (
            awaiting
            and _void_cutoff_passed(calendar, frame, as_of)
            and (
                other is None
                or (other_calendar is not None and _void_cutoff_passed(other_calendar, other, as_of))
            )
        ):
            status, awaiting = Status.VOID, False
            cutoffs = [calendar.sessions_after(frame.last, VOID_AFTER_SESSIONS)]
            if other is not None and other_calendar is not None:  # other_calendar is set whenever other is
                cutoffs.append(other_calendar.sessions_after(other.last, VOID_AFTER_SESSIONS))
            void_effective_on = max(cutoffs)
            note = (
                f"void: bars still missing {VOID_AFTER_SESSIONS} sessions after the deadline "
                f"({_list_dates(missing)})"
            )

    decided = status in (Status.HIT, Status.MISS)
    return ScoreResult(
        status=status,
        note=note,
        resolved_on=decision.resolved_on if decided else None,
        resolution_price=decision.price if decided else None,
        difficulty=p,
        skill=((1.0 if status is Status.HIT else 0.0) - p) if decided and p is not None else None,
        boldness=None if p is None else 1.0 - p,
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
        waiting = [f.last.isoformat() for f, pend in ((a, a_pending), (b, b_pending)) if pend is not None]
        return _Decision(Status.PENDING, f"pending: decided at the close of {' and '.join(waiting)}")
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
