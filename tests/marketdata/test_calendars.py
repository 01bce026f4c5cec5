"""Pure tests of marketdata.calendars (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from marketdata.calendars import (
    CORRECTIONS,
    VALID_CODES,
    CalendarRangeError,
    TradingCalendar,
    get_calendar,
)
from tests.paths import PRICE_DATA

DATA = PRICE_DATA
HK = ZoneInfo("Asia/Hong_Kong")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "day", "expected"),
    [
        # HKEX weather closures that exchange-calendars 4.13.2 still lists (our CORRECTIONS)
        ("XHKG", date(2023, 9, 1), False),
        ("XHKG", date(2023, 9, 8), False),
        ("XHKG", date(2023, 9, 4), True),
        ("XHKG", date(2023, 9, 7), True),
        # Lunar New Year 2025: eve is a half day, then three days closed
        ("XHKG", date(2025, 1, 28), True),
        ("XHKG", date(2025, 1, 29), False),
        ("XHKG", date(2025, 1, 30), False),
        ("XHKG", date(2025, 1, 31), False),
        ("XHKG", date(2025, 2, 3), True),
        ("XHKG", date(2025, 2, 14), True),
        ("XHKG", date(2025, 2, 15), False),  # Saturday
        ("XHKG", date(2025, 2, 17), True),
        # NYSE: national day of mourning for President Carter
        ("XNYS", date(2025, 1, 9), False),
        ("XNYS", date(2025, 1, 8), True),
        ("XNYS", date(2025, 1, 10), True),
        ("XNYS", date(2025, 2, 17), False),  # Presidents' Day
        # CMES (gold settlements): US holidays have no settlement of their own
        ("CMES", date(2025, 2, 17), False),
        ("CMES", date(2025, 6, 19), False),
        ("CMES", date(2024, 11, 29), True),  # Black Friday: early close, but a settlement day
        ("CMES", date(2025, 2, 18), True),
        ("24/7", date(2025, 2, 15), True),  # Saturday
        ("24/7", date(2025, 2, 16), True),
        ("24/7", date(2025, 12, 25), True),
        ("24/5", date(2025, 2, 15), False),
        ("24/5", date(2025, 2, 16), False),
        ("24/5", date(2025, 2, 17), True),
        ("24/5", date(2025, 2, 14), True),
    ],
)
def test_is_session(code: str, day: date, expected: bool) -> None:
    assert get_calendar(code).is_session(day) is expected


@pytest.mark.parametrize(
    ("code", "day", "open_utc", "close_utc"),
    [
        ("XHKG", date(2025, 1, 28), utc(2025, 1, 28, 1, 30), utc(2025, 1, 28, 4, 0)),  # LNY eve half day
        ("XHKG", date(2024, 12, 24), utc(2024, 12, 24, 1, 30), utc(2024, 12, 24, 4, 0)),  # Christmas Eve
        ("XHKG", date(2025, 2, 17), utc(2025, 2, 17, 1, 30), utc(2025, 2, 17, 8, 0)),  # lunch break inside
        ("XNYS", date(2025, 2, 18), utc(2025, 2, 18, 14, 30), utc(2025, 2, 18, 21, 0)),
        ("XNYS", date(2025, 7, 14), utc(2025, 7, 14, 13, 30), utc(2025, 7, 14, 20, 0)),  # EDT
        ("XNYS", date(2025, 11, 28), utc(2025, 11, 28, 14, 30), utc(2025, 11, 28, 18, 0)),  # half day
        (
            "CMES",
            date(2025, 2, 18),
            utc(2025, 2, 17, 23, 0),
            utc(2025, 2, 18, 23, 0),
        ),  # opens the evening before
        ("24/7", date(2025, 2, 15), utc(2025, 2, 15), utc(2025, 2, 16)),
        ("24/5", date(2025, 2, 14), utc(2025, 2, 14), utc(2025, 2, 15)),
    ],
)
def test_session_open_and_close(code: str, day: date, open_utc: datetime, close_utc: datetime) -> None:
    cal = get_calendar(code)
    assert cal.session_open(day) == open_utc
    assert cal.session_close(day) == close_utc
    assert cal.session_close(day).tzinfo is not None


def test_timezones() -> None:
    assert get_calendar("XHKG").tz == ZoneInfo("Asia/Hong_Kong")
    assert get_calendar("XNYS").tz == ZoneInfo("America/New_York")
    assert get_calendar("CMES").tz == ZoneInfo("America/Chicago")
    assert get_calendar("24/7").tz == ZoneInfo("UTC")
    assert get_calendar("24/5").tz == ZoneInfo("UTC")


def test_get_calendar_is_cached() -> None:
    assert get_calendar("XHKG") is get_calendar("XHKG")


def test_unknown_code_names_the_code_and_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"'XLON'.*XHKG.*XNYS.*CMES.*24/7.*24/5"):
        get_calendar("XLON")


def test_calendars_reach_years_ahead() -> None:
    for code in VALID_CODES:
        cal = get_calendar(code)
        assert cal.last_date >= date(2031, 1, 1)
        assert cal.first_date <= date(2000, 1, 4)


def test_beyond_range_raises() -> None:
    cal = get_calendar("XHKG")
    far = date(cal.last_date.year + 1, 1, 5)
    with pytest.raises(CalendarRangeError):
        cal.sessions_between(date(2025, 1, 1), far)
    with pytest.raises(CalendarRangeError):
        cal.is_session(far)
    with pytest.raises(CalendarRangeError):
        cal.last_session_on_or_before(far)


def test_session_open_of_non_session_raises() -> None:
    with pytest.raises(ValueError, match="not a XHKG session"):
        get_calendar("XHKG").session_open(date(2025, 1, 29))


def test_naive_instant_raises() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        get_calendar("XHKG").last_session_closed_at_or_before(datetime(2025, 2, 14, 16, 0))  # noqa: DTZ001


def test_date_queries_reject_datetimes() -> None:
    with pytest.raises(TypeError):
        get_calendar("XHKG").is_session(utc(2025, 2, 14))


@pytest.mark.parametrize(
    ("instant", "closed", "opening"),
    [
        # Friday 2025-02-14 HSI: date-only convention -> next day 00:00 HKT
        (datetime(2025, 2, 15, tzinfo=HK), date(2025, 2, 14), date(2025, 2, 17)),
        # 13:33 HKT on a trading day: that session is in progress
        (datetime(2025, 2, 14, 13, 33, tzinfo=HK), date(2025, 2, 13), date(2025, 2, 17)),
        # exactly at the close: the session counts as closed
        (datetime(2025, 2, 14, 16, 0, tzinfo=HK), date(2025, 2, 14), date(2025, 2, 17)),
        # exactly at the open: that session opens "at or after"
        (datetime(2025, 2, 17, 9, 30, tzinfo=HK), date(2025, 2, 14), date(2025, 2, 17)),
        # half day: 12:30 HKT on 2025-01-28 is after its 12:00 close; next session after LNY
        (datetime(2025, 1, 28, 12, 30, tzinfo=HK), date(2025, 1, 28), date(2025, 2, 3)),
        # lunch break is inside the session
        (datetime(2025, 2, 17, 12, 30, tzinfo=HK), date(2025, 2, 14), date(2025, 2, 18)),
    ],
)
def test_instant_lookups_xhkg(instant: datetime, closed: date, opening: date) -> None:
    cal = get_calendar("XHKG")
    assert cal.last_session_closed_at_or_before(instant) == closed
    assert cal.first_session_opening_at_or_after(instant) == opening


def test_instant_lookup_before_first_session() -> None:
    assert get_calendar("XHKG").last_session_closed_at_or_before(utc(1999, 6, 1)) is None


@pytest.mark.parametrize(
    ("code", "day", "expected"),
    [
        ("XHKG", date(2025, 1, 30), date(2025, 1, 28)),
        ("XHKG", date(2025, 2, 16), date(2025, 2, 14)),
        ("XHKG", date(2025, 2, 17), date(2025, 2, 17)),
        ("XHKG", date(2026, 2, 14), date(2026, 2, 13)),
        ("24/7", date(2025, 2, 16), date(2025, 2, 16)),
        ("24/5", date(2025, 2, 16), date(2025, 2, 14)),
    ],
)
def test_last_session_on_or_before(code: str, day: date, expected: date) -> None:
    assert get_calendar(code).last_session_on_or_before(day) == expected


@pytest.mark.parametrize(
    ("code", "day", "n", "expected"),
    [
        ("XHKG", date(2025, 1, 27), 1, date(2025, 1, 28)),
        ("XHKG", date(2025, 1, 27), 2, date(2025, 2, 3)),
        ("XHKG", date(2025, 1, 29), 1, date(2025, 2, 3)),  # from a non-session
        ("XHKG", date(2025, 2, 14), 10, date(2025, 2, 28)),
        ("24/7", date(2025, 2, 14), 10, date(2025, 2, 24)),
        ("24/5", date(2025, 2, 14), 10, date(2025, 2, 28)),
    ],
)
def test_sessions_after(code: str, day: date, n: int, expected: date) -> None:
    assert get_calendar(code).sessions_after(day, n) == expected


def test_sessions_after_needs_positive_n() -> None:
    with pytest.raises(ValueError):
        get_calendar("24/7").sessions_after(date(2025, 1, 1), 0)


def test_sessions_between_and_count() -> None:
    cal = get_calendar("XHKG")
    sessions = cal.sessions_between(date(2025, 1, 27), date(2025, 2, 4))
    assert sessions == [date(2025, 1, 27), date(2025, 1, 28), date(2025, 2, 3), date(2025, 2, 4)]
    assert all(type(d) is date for d in sessions)
    assert cal.count_sessions(date(2025, 1, 27), date(2025, 2, 4)) == 4
    assert cal.sessions_between(date(2025, 2, 4), date(2025, 2, 3)) == []
    assert cal.count_sessions(date(2025, 2, 17), date(2026, 2, 14)) == 248
    assert get_calendar("24/7").count_sessions(date(2024, 1, 1), date(2024, 12, 31)) == 366
    assert get_calendar("24/5").count_sessions(date(2024, 1, 1), date(2024, 12, 31)) == 262


def test_corrections_table_is_applied() -> None:
    for code, closures in CORRECTIONS.items():
        cal = get_calendar(code)
        for day, reason in closures.items():
            assert reason
            assert not cal.is_session(day), (code, day)


def test_trading_calendar_rejects_unsorted_sessions() -> None:
    days = np.array(["2025-01-02", "2025-01-01"], dtype="datetime64[D]")
    with pytest.raises(ValueError, match="strictly increasing"):
        TradingCalendar(
            "T",
            ZoneInfo("UTC"),
            days,
            days.astype("datetime64[ns]"),
            days.astype("datetime64[ns]"),
            date(2025, 2, 1),
        )


# ------------------------------------------------------------------ bundled CSVs against the calendars


def _csv_dates(name: str) -> np.ndarray:
    frame = pd.read_csv(DATA / name, usecols=["date"], parse_dates=["date"])
    return frame["date"].to_numpy().astype("datetime64[D]")


def _compare(name: str, code: str, start: date, end: date) -> tuple[set[date], set[date]]:
    """(CSV dates that are not sessions, sessions with no CSV row) over [start, end]."""
    dates = _csv_dates(name)
    start, end = max(start, dates[0].astype(object)), min(end, dates[-1].astype(object))
    dates = dates[(dates >= np.datetime64(start)) & (dates <= np.datetime64(end))]
    sessions = get_calendar(code).sessions_array(start, end)
    extra = {d.astype(object) for d in np.setdiff1d(dates, sessions)}
    missing = {d.astype(object) for d in np.setdiff1d(sessions, dates)}
    return extra, missing


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("HSI.csv", "XHKG"),
        ("HSTECH.csv", "XHKG"),
        ("0941.HK.csv", "XHKG"),
        ("GSPC.csv", "XNYS"),
        ("IXIC.csv", "XNYS"),
        ("NDX.csv", "XNYS"),
        ("AAPL.csv", "XNYS"),
        ("NVDA.csv", "XNYS"),
        ("TSLA.csv", "XNYS"),
        ("BTC-USD.csv", "24/7"),
        ("GC_F.csv", "CMES"),
    ],
)
def test_csv_dates_match_sessions_in_2024(name: str, code: str) -> None:
    assert _compare(name, code, date(2024, 1, 1), date(2024, 12, 31)) == (set(), set())


def test_hsi_2023_has_no_rows_on_the_weather_closures() -> None:
    extra, missing = _compare("HSI.csv", "XHKG", date(2023, 1, 1), date(2023, 12, 31))
    assert (extra, missing) == (set(), set())
    assert np.datetime64("2023-09-01") not in _csv_dates("HSI.csv")


# Known, documented differences (see METHODOLOGY.md "Data and calendar mismatches"). These pin them so a
# data refresh that fixes (or worsens) them is noticed.
@pytest.mark.parametrize(
    ("name", "code", "start", "end", "extra", "missing"),
    [
        # transcribed tail of HSI: 2026-08-04 was a Yahoo placeholder row (dropped); the other two are gaps
        (
            "HSI.csv",
            "XHKG",
            date(2021, 6, 24),
            date(2026, 8, 26),
            set(),
            {date(2026, 7, 14), date(2026, 8, 4), date(2026, 8, 17)},
        ),
        # half days dropped as Yahoo placeholders (2024-02-09 is the LNY-eve half day) and one gap
        (
            "0728.HK.csv",
            "XHKG",
            date(2024, 1, 2),
            date(2025, 10, 30),
            set(),
            {date(2024, 1, 15), date(2024, 2, 9), date(2024, 12, 24), date(2024, 12, 31), date(2025, 1, 28)},
        ),
        # gold traded on the Carter day of mourning (library: closed) and a zero-volume row on July 4
        (
            "GC_F.csv",
            "CMES",
            date(2021, 6, 24),
            date(2026, 6, 23),
            {date(2025, 1, 9), date(2025, 7, 4)},
            set(),
        ),
        ("BTC-USD.csv", "24/7", date(2021, 6, 24), date(2026, 6, 23), set(), set()),
        ("GSPC.csv", "XNYS", date(2021, 6, 25), date(2026, 6, 23), set(), set()),
    ],
)
def test_known_csv_mismatches(
    name: str, code: str, start: date, end: date, extra: set[date], missing: set[date]
) -> None:
    assert _compare(name, code, start, end) == (extra, missing)
