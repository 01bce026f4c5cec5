"""The scoring rulebook (SCORING.md v1): the claim and result types, the calendar arithmetic, the notes,
the shared decisions and the stored columns, written once. `single` (one claim) and `bulk` (vectorised)
both build on it; `difficulty` holds the random-walk probability.

Pure module: no Django, no I/O, no clock.
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

EPSILON = timedelta(microseconds=1)
#: How many bars before the baseline we look at to find the volatility closes (non-session / NaN bars
#: are skipped, so a bit more than VOLATILITY_CLOSES).
HISTORY_SCAN = 2 * VOLATILITY_CLOSES


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


TOUCH_KINDS = frozenset({Kind.REACH, Kind.MOVE_PCT})
LAST_SESSION_KINDS = frozenset(
    {Kind.CLOSE_ABOVE, Kind.CLOSE_BELOW, Kind.RANGE, Kind.DIRECTION_UP, Kind.DIRECTION_DOWN}
)
COIN_FLIP_KINDS = frozenset({Kind.DIRECTION_UP, Kind.DIRECTION_DOWN, Kind.OUTPERFORM})


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


def finite(x: float | None) -> TypeGuard[float]:
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
            if not finite(self.target) or self.target <= 0:
                raise ValueError(f"{k} needs a positive target price, got {self.target!r}")
        elif k is Kind.RANGE:
            if not (finite(self.target) and finite(self.target_upper)):
                raise ValueError("range needs target (lower bound) and target_upper (upper bound)")
            if not 0 < self.target <= self.target_upper:
                raise ValueError(
                    f"range needs 0 < lower <= upper, got {self.target!r}..{self.target_upper!r}"
                )
        elif k is Kind.MOVE_PCT and (not finite(self.target) or self.target == 0 or self.target <= -100):
            raise ValueError(f"move_pct needs a non-zero percentage above -100, got {self.target!r}")


@dataclass(frozen=True, slots=True)
class Split:
    """A stock split: from ``ex_date`` on, one old share is ``ratio`` new shares (10.0 = 10-for-1;
    a 1-for-10 reverse split is 0.1)."""

    ex_date: date
    ratio: float

    def __post_init__(self) -> None:
        if not finite(self.ratio) or self.ratio <= 0:
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
    return (made_at - EPSILON).astimezone(tz).date()


def default_deadline(made_at: datetime, tz: tzinfo, months: int = DEFAULT_HORIZON_MONTHS) -> date:
    """Deadline for a forecast with none stated: the same calendar date ``months`` after the day it was
    made (exchange-local; Feb 29 -> Feb 28)."""
    return add_months(made_on(made_at, tz), months)


# ------------------------------------------------------------------------------------------- helpers


def fmt(x: float) -> str:
    """23200 -> '23,200'; 23477.92 -> '23,477.92'; 0.012345 -> '0.012345'."""
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    if abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.6g}"


def as_dates(days: np.ndarray) -> tuple[date, ...]:
    return tuple(np.asarray(days, dtype="datetime64[D]").astype(object).tolist())


def as_day(d: np.datetime64) -> date:
    day: date = d.astype("datetime64[D]").astype(object)
    return day


def list_dates(days: Sequence[date], limit: int = 3) -> str:
    shown = ", ".join(d.isoformat() for d in days[:limit])
    return shown + (f" and {len(days) - limit} more" if len(days) > limit else "")


def split_note(cum: float, nominal: float) -> str:
    return f" (split-adjusted from {fmt(nominal)})" if cum != 1.0 else ""


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
        return close >= t, f"≥ {fmt(t)}{split_note(cum, target)}"
    if kind is Kind.CLOSE_BELOW:
        assert target is not None
        t = target / cum
        return close <= t, f"≤ {fmt(t)}{split_note(cum, target)}"
    if kind is Kind.RANGE:
        assert target is not None and upper is not None
        lo, hi = target / cum, upper / cum
        return lo <= close <= hi, f"in [{fmt(lo)}, {fmt(hi)}]{split_note(cum, target)}"
    b = baseline / cum
    up = kind is Kind.DIRECTION_UP
    return (close > b if up else close < b), f"{'>' if up else '<'} baseline {fmt(b)}"


# --------------------------------------------------------------------------------------------- notes
# Every note a result carries is written here once; the single and the bulk scorer both call these.


def note_not_yet_made(as_of: datetime) -> str:
    return f"not yet made as of {as_of.isoformat()}"


def note_manual() -> str:
    return "manual claim: decided by an editor"


def note_no_session(deadline: date) -> str:
    return f"void: no trading session between made_at and the deadline {deadline.isoformat()}"


def note_benchmark_no_session(deadline: date) -> str:
    return (
        f"void: the benchmark has no trading session between made_at and the deadline {deadline.isoformat()}"
    )


def note_awaiting(missing: Sequence[date]) -> str:
    return f"awaiting data: no bar for {list_dates(missing)}"


def note_touched(
    label: str, price: float, side: str, threshold: float, cum: float, target: float, day: date
) -> str:
    return f"{label} {fmt(price)} {side} {fmt(threshold)}{split_note(cum, target)} on {day.isoformat()}"


def touch_level(up: bool, target: float) -> str:
    return f"{'at or above' if up else 'at or below'} {fmt(target)}"


def note_never_touched(
    basis: Basis, level: str, sessions: int, last: date, word: str, best: float, day: date
) -> str:
    return (
        f"never {'closed' if basis is Basis.CLOSE else 'traded'} {level} in {sessions} sessions to "
        f"{last.isoformat()}; best {word} {fmt(best)} on {day.isoformat()}"
    )


# Pending notes are stable from one day to the next (nothing in them counts sessions), so a nightly
# rescore rewrites no row whose outcome did not change; the progress ("k of n sessions complete") is
# computed when a page shows the forecast (forecasts.selectors.progress).


def note_touch_pending(level: str, last: date) -> str:
    return f"pending: not {level} so far; the window ends at the close of {last.isoformat()}"


def note_last_session_pending(last: date) -> str:
    return f"pending: decided at the close of {last.isoformat()}"


def note_outperform_pending(lasts: Sequence[date]) -> str:
    """Outperform: decided once the last window sessions of both instruments have closed."""
    return f"pending: decided at the close of {' and '.join(d.isoformat() for d in lasts)}"


def note_last_close(close: float, last: date, ok: bool, rule: str) -> str:
    return f"closed at {fmt(close)} on {last.isoformat()}: {'' if ok else 'not '}{rule}"


# ------------------------------------------------------------------------------------------ decisions


#: How the note of an automatic void for missing bars begins (the scorer looks at such voids again when
#: bars arrive later).
MISSING_BARS_VOID = "void: bars still missing"


def automatic_void(
    *,
    trading_ended_on: date | None,
    last: date,
    complete_through: date | None,
    awaiting: bool,
    cutoff_passed: bool,
    cutoff: date | None,
    missing: Sequence[date],
) -> tuple[str, date] | None:
    """Whether a pending claim is void, and why and from when (SCORING §3): its instrument stopped
    trading before the last window session, or a needed bar is still missing once the
    VOID_AFTER_SESSIONS-th session after the deadline is complete. None: it stays pending."""
    if (
        trading_ended_on is not None
        and trading_ended_on < last
        and complete_through is not None
        and trading_ended_on <= complete_through
    ):
        return (
            f"void: instrument stopped trading on {trading_ended_on.isoformat()}, "
            f"before the last window session {last.isoformat()}",
            trading_ended_on,
        )
    if awaiting and cutoff_passed and cutoff is not None:
        return (
            f"{MISSING_BARS_VOID} {VOID_AFTER_SESSIONS} sessions after the deadline ({list_dates(missing)})",
            cutoff,
        )
    return None


def skill_of(status: Status, p: float | None) -> float | None:
    """SCORING §4: outcome (1 hit, 0 miss) minus p, for decided claims with a known p."""
    if status not in (Status.HIT, Status.MISS) or p is None:
        return None
    return (1.0 if status is Status.HIT else 0.0) - p


def boldness_of(p: float | None) -> float | None:
    return None if p is None else 1.0 - p


# ---------------------------------------------------------------------------------- stored columns
#: The score columns a result fills, in the service's and the benchmark pipeline's order.
SCORE_COLUMNS = (
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


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def wants_benchmark(kind: Kind | str, result: ScoreResult) -> bool:
    """Whether a result's stored ``benchmark_return`` is the market benchmark's return over its window
    (directional claims with a window return; SCORING §4), else it stays empty."""
    return (
        Kind(kind) in (Kind.DIRECTION_UP, Kind.DIRECTION_DOWN)
        and result.window_return is not None  # so the baseline and the last session are known
        and result.baseline_date is not None
        and result.last_session is not None
    )


def benchmark_return(days: np.ndarray, closes: np.ndarray, start: date, end: date) -> float | None:
    """The benchmark's return from its close on or before ``start`` to its close on or before ``end``;
    None without both. ``days`` / ``closes``: the benchmark's bars that have a close (NaN ones dropped by
    the caller, once), ascending ``datetime64[D]`` and float."""
    epoch_days = np.asarray(days, dtype="datetime64[D]").view(np.int64)
    i = int(np.searchsorted(epoch_days, start.toordinal() - _EPOCH_ORDINAL, "right")) - 1
    j = int(np.searchsorted(epoch_days, end.toordinal() - _EPOCH_ORDINAL, "right")) - 1
    if i < 0 or j < 0:
        return None
    return float(closes[j] / closes[i] - 1.0)


def score_columns(result: ScoreResult, *, benchmark_return: float | None = None) -> dict[str, Any]:
    """A ScoreResult as the stored score columns (what forecasts.services writes and bench mirrors)."""
    status = result.status
    decided = status in (Status.HIT, Status.MISS)
    return {
        "status": status.value,
        "status_note": (result.note or "")[:300],
        "awaiting_data": result.awaiting_data,
        "resolved_on": result.resolved_on if decided else None,
        "resolution_price": result.resolution_price if decided else None,
        "baseline": result.baseline,
        "baseline_date": result.baseline_date,
        "window_start": result.first_session,
        "window_end": result.last_session,
        "window_sessions": result.sessions_in_window,
        "difficulty": result.difficulty,
        "skill": result.skill if decided else None,
        "window_return": result.window_return if decided else None,
        "benchmark_return": benchmark_return if decided else None,
        "scorer_version": result.scorer_version,
        "void_reason": (result.note or "void")[:300] if status is Status.VOID else "",
        "voided_on": result.void_effective_on if status is Status.VOID else None,
    }
