"""Trading calendars: which dates are sessions, and when each session opens and closes.

Pure module (no Django). One :class:`TradingCalendar` per calendar code, built once and cached by
:func:`get_calendar`. Exchange calendars come from ``exchange-calendars`` (holidays, half days, the HKEX
lunch break) with the project's :data:`CORRECTIONS` applied on top; "24/7" (crypto) and "24/5" (FX)
are generated here.

Conventions
- A session is identified by its date (``datetime.date``), the exchange's own session label.
- Open and close instants are aware UTC ``datetime`` objects. ``session_open`` is the first open of
  the day (for HKEX the morning open; the lunch break does not matter to the scorer) and
  ``session_close`` the final close (12:00 HKT = 04:00 UTC on HKEX half days).
- For CMES (CME Globex, gold futures) a session opens the previous evening (17:00 Chicago); that is
  the library's convention and ours.
- "24/7": every calendar day is a session, opening 00:00 UTC and closing 24:00 UTC (= next day 00:00).
  "24/5": the same for Monday-Friday only. Their time zone is UTC.
- Calendars cover 2000-01-01 up to six years after the day they were first built. Asking about a
  date past that end raises :class:`CalendarRangeError` rather than silently answering "no session".

All lookups are binary searches over precomputed numpy arrays; nothing calls the library after
construction.
"""

from __future__ import annotations

import functools
import warnings
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

CALENDAR_START = date(2000, 1, 1)
#: How far past "today" the exchange calendars are built (deadlines can be years away).
CALENDAR_YEARS_AHEAD = 6

EXCHANGE_CODES = ("XHKG", "XNYS", "CMES")
ROUND_THE_CLOCK_CODES = ("24/7", "24/5")
VALID_CODES = EXCHANGE_CODES + ROUND_THE_CLOCK_CODES

#: Closures that exchange-calendars gets wrong: whole days on which the exchange did not trade but the
#: library (4.13.2) still lists a session. Each entry is removed from the sessions. Add an entry with
#: the source of the fact in the reason; pin it in tests/marketdata/test_calendars.py. Remove it once the
#: library release we pin has it (the table is harmless then: removing a non-session is a no-op).
#: Partial-day weather cancellations (e.g. morning session cancelled, afternoon traded) are NOT
#: closures: the day keeps its close, which is all the scorer needs.
CORRECTIONS: dict[str, dict[date, str]] = {
    "XHKG": {
        date(2023, 9, 1): "Typhoon Saola: signal No. 8 all day; HKEX securities trading cancelled all day",
        date(2023, 9, 8): "Black rainstorm warning: HKEX securities trading cancelled all day",
    },
}

#: CMES is used for gold futures (GC), whose daily bars are settlements. On US holidays on which NYSE is
#: closed (MLK, Presidents, Memorial, Juneteenth, Independence, Labor, Thanksgiving days) CME Globex runs
#: an abbreviated session with no settlement of its own: its trades count toward the next trade date.
#: exchange-calendars lists those days as CMES sessions closing at 12:00 CT, so a daily series would
#: show a "missing" bar on each of them. We drop every CMES session that is not an XNYS session.
CMES_DROP_NON_NYSE_DAYS = True

_NS_PER_DAY = 86_400 * 10**9
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CalendarRangeError(ValueError):
    """A date outside the range a calendar was built for."""


def _to_day(d: date) -> np.datetime64:
    if isinstance(d, datetime):
        raise TypeError(f"expected a date, got a datetime: {d!r}")
    return np.datetime64(d, "D")


def _to_ns(instant: datetime) -> np.datetime64:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant must be timezone-aware: {instant!r}")
    naive_utc = instant.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(naive_utc, "ns")


def _from_ns(value: np.datetime64) -> datetime:
    ns = int(value.astype("datetime64[ns]").astype(np.int64))
    return _EPOCH + timedelta(microseconds=ns // 1000)


def _from_day(value: np.datetime64) -> date:
    day: date = value.astype("datetime64[D]").astype(object)
    return day


class TradingCalendar:
    """Sessions of one calendar, with their UTC open and close instants.

    Immutable after construction; safe to share between threads and forecasts.
    """

    __slots__ = ("_closes", "_days", "_last_day", "_opens", "code", "tz")

    def __init__(
        self,
        code: str,
        tz: ZoneInfo,
        days: np.ndarray,
        opens: np.ndarray,
        closes: np.ndarray,
        last_day: date,
    ) -> None:
        days = np.asarray(days, dtype="datetime64[D]")
        opens = np.asarray(opens, dtype="datetime64[ns]")
        closes = np.asarray(closes, dtype="datetime64[ns]")
        if not (len(days) == len(opens) == len(closes)):
            raise ValueError("days, opens and closes must have the same length")
        if len(days) > 1 and not (
            np.all(np.diff(days) > np.timedelta64(0, "D"))
            and np.all(np.diff(opens) > np.timedelta64(0, "ns"))
            and np.all(np.diff(closes) > np.timedelta64(0, "ns"))
        ):
            raise ValueError("sessions, opens and closes must be strictly increasing")
        if np.any(opens >= closes):
            raise ValueError("every session must open before it closes")
        for arr in (days, opens, closes):
            arr.flags.writeable = False
        self.code = code
        self.tz = tz
        self._days = days
        self._opens = opens
        self._closes = closes
        self._last_day = np.datetime64(last_day, "D")

    def __repr__(self) -> str:
        span = f"{self.first_date}..{self.last_date}"
        return f"<TradingCalendar {self.code} {span} ({len(self._days)} sessions)>"

    # ----------------------------------------------------------------- range
    @property
    def first_date(self) -> date:
        """First session covered."""
        return _from_day(self._days[0])

    @property
    def last_date(self) -> date:
        """Last date (not necessarily a session) the calendar knows about."""
        return _from_day(self._last_day)

    @property
    def sessions(self) -> np.ndarray:
        """All sessions as a read-only ``datetime64[D]`` array."""
        return self._days

    def _check(self, d: np.datetime64) -> None:
        if d > self._last_day:
            raise CalendarRangeError(
                f"{self.code} calendar only covers dates up to {self.last_date}; asked about {_from_day(d)}"
            )

    def _index(self, d: date) -> int:
        day = _to_day(d)
        self._check(day)
        i = int(np.searchsorted(self._days, day))
        if i >= len(self._days) or self._days[i] != day:
            raise ValueError(f"{d} is not a {self.code} session")
        return i

    # --------------------------------------------------------------- queries
    @property
    def opens(self) -> np.ndarray:
        """Session open instants (UTC, datetime64[ns]), aligned with `sessions`."""
        return self._opens

    @property
    def closes(self) -> np.ndarray:
        """Session close instants (UTC, datetime64[ns]), aligned with `sessions`."""
        return self._closes

    def is_session(self, d: date) -> bool:
        day = _to_day(d)
        self._check(day)
        i = int(np.searchsorted(self._days, day))
        return i < len(self._days) and bool(self._days[i] == day)

    def session_open(self, d: date) -> datetime:
        """UTC instant the session opens (first open of the day). ValueError if ``d`` is no session."""
        return _from_ns(self._opens[self._index(d)])

    def session_close(self, d: date) -> datetime:
        """UTC instant the session closes (final close, half days included)."""
        return _from_ns(self._closes[self._index(d)])

    def sessions_array(self, start: date, end: date) -> np.ndarray:
        """Sessions from ``start`` to ``end`` inclusive, as a read-only ``datetime64[D]`` array view."""
        lo_day, hi_day = _to_day(start), _to_day(end)
        self._check(hi_day)
        lo = np.searchsorted(self._days, lo_day, side="left")
        hi = np.searchsorted(self._days, hi_day, side="right")
        return self._days[lo:hi]

    def sessions_between(self, start: date, end: date) -> list[date]:
        """Sessions from ``start`` to ``end`` inclusive (empty if ``end < start``)."""
        days: list[date] = self.sessions_array(start, end).astype(object).tolist()
        return days

    def count_sessions(self, start: date, end: date) -> int:
        """Number of sessions from ``start`` to ``end`` inclusive."""
        return len(self.sessions_array(start, end))

    def last_session_closed_at_or_before(self, instant: datetime) -> date | None:
        """Latest session whose close instant is <= ``instant`` (None if none)."""
        i = int(np.searchsorted(self._closes, _to_ns(instant), side="right")) - 1
        return _from_day(self._days[i]) if i >= 0 else None

    def first_session_opening_at_or_after(self, instant: datetime) -> date | None:
        """Earliest session whose open instant is >= ``instant`` (None past the calendar's end)."""
        i = int(np.searchsorted(self._opens, _to_ns(instant), side="left"))
        return _from_day(self._days[i]) if i < len(self._days) else None

    def last_session_on_or_before(self, d: date) -> date | None:
        """Latest session on or before date ``d`` (``d`` itself if it is a session)."""
        day = _to_day(d)
        self._check(day)
        i = int(np.searchsorted(self._days, day, side="right")) - 1
        return _from_day(self._days[i]) if i >= 0 else None

    def sessions_after(self, d: date, n: int) -> date:
        """The ``n``-th session strictly after date ``d`` (n >= 1; ``d`` need not be a session)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        day = _to_day(d)
        i = int(np.searchsorted(self._days, day, side="right")) + n - 1
        if i >= len(self._days):
            raise CalendarRangeError(f"{self.code} calendar ends before the {n}th session after {d}")
        return _from_day(self._days[i])


def _round_the_clock(code: str, start: date, end: date) -> TradingCalendar:
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1, dtype="datetime64[D]")
    if code == "24/5":
        weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        days = days[weekday < 5]
    opens = days.astype("datetime64[ns]")
    closes = opens + np.timedelta64(_NS_PER_DAY, "ns")
    return TradingCalendar(code, ZoneInfo("UTC"), days, opens, closes, end)


def _exchange(code: str, start: date, end: date) -> TradingCalendar:
    import exchange_calendars as xcals  # imported lazily: building a calendar costs ~0.5 s

    with warnings.catch_warnings():
        # exchange-calendars 4.13 uses pandas APIs that pandas 3.1 deprecates (DatetimeIndex.weekday,
        # Series.values on tz-aware data). Nothing we can act on here; pandas is pinned < 4.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        cal = xcals.get_calendar(code, start=start.isoformat(), end=end.isoformat())
        days = cal.sessions.to_numpy().astype("datetime64[D]")
        opens = cal.opens.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
        closes = cal.closes.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    keep = np.ones(len(days), dtype=bool)
    removed = CORRECTIONS.get(code, {})
    if removed:
        keep &= ~np.isin(days, np.array(sorted(removed), dtype="datetime64[D]"))
    if code == "CMES" and CMES_DROP_NON_NYSE_DAYS:
        keep &= np.isin(days, get_calendar("XNYS").sessions)
    days, opens, closes = days[keep], opens[keep], closes[keep]
    return TradingCalendar(code, ZoneInfo(str(cal.tz)), days, opens, closes, end)


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # Feb 29
        return d.replace(year=d.year + years, day=28)


@functools.cache
def get_calendar(code: str) -> TradingCalendar:
    """The calendar for ``code``: "XHKG", "XNYS", "CMES", "24/7" (crypto) or "24/5" (FX).

    Built once per process (about half a second for an exchange) and cached. Covers 2000-01-01 to six
    years after today.
    """
    if code not in VALID_CODES:
        raise ValueError(f"unknown calendar code {code!r}; valid codes: {', '.join(VALID_CODES)}")
    end = _add_years(datetime.now(UTC).date(), CALENDAR_YEARS_AHEAD)
    if code in ROUND_THE_CLOCK_CODES:
        return _round_the_clock(code, CALENDAR_START, end)
    return _exchange(code, CALENDAR_START, end)
