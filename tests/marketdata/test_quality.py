"""The quality gate (marketdata.quality): pure, no database."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from marketdata.calendars import get_calendar
from marketdata.providers import OfflineCSVProvider, read_price_csv
from marketdata.providers.offline import CORPORATE_ACTIONS_FILE, DEFAULT_DATA_DIR
from marketdata.quality import check_bars, hard_check

XHKG = get_calendar("XHKG")
NOW = datetime(2025, 3, 1, tzinfo=UTC)


def frame(rows: dict[str, tuple]) -> pd.DataFrame:
    index = pd.DatetimeIndex(list(rows), name="session").as_unit("ns")
    return pd.DataFrame(list(rows.values()), index=index, columns=["open", "high", "low", "close", "volume"])


def calm_history(n: int = 61, start: float = 20000.0, end: str = "2025-02-14") -> pd.Series:
    """n closes on XHKG sessions ending at `end`, alternating +-1%."""
    sessions = XHKG.sessions_between(date(2024, 1, 1), date.fromisoformat(end))[-n:]
    closes = start * np.cumprod([1.0] + [1.01 if i % 2 else 1 / 1.01 for i in range(n - 1)])
    return pd.Series(closes, index=pd.DatetimeIndex([pd.Timestamp(d) for d in sessions]))


@pytest.mark.parametrize(
    ("day", "values", "reason"),
    [
        (date(2025, 2, 17), {"close": None}, "close is missing"),
        (date(2025, 2, 17), {"close": float("nan")}, "close is missing"),
        (date(2025, 2, 17), {"close": -5.0}, "close -5.0 is not a positive number"),
        (date(2025, 2, 17), {"close": 10.0, "open": 0.0}, "open 0.0 is not a positive number"),
        (date(2025, 2, 17), {"close": 10.0, "high": 9.0}, "high 9 is below close 10"),
        (date(2025, 2, 17), {"close": 10.0, "open": 12.0, "high": 11.0}, "high 11 is below open 12"),
        (date(2025, 2, 17), {"close": 10.0, "low": 10.5}, "low 10.5 is above close 10"),
        (date(2025, 2, 17), {"close": 10.0, "open": 9.0, "low": 9.5}, "low 9.5 is above open 9"),
        (date(2025, 2, 17), {"close": 10.0, "volume": -1.0}, "volume -1.0 is negative"),
        (date(2025, 2, 15), {"close": 10.0}, "not a XHKG session"),
        (date(2023, 9, 8), {"close": 10.0}, "not a XHKG session"),  # black rainstorm closure
        (date(2025, 3, 3), {"close": 10.0}, "session not closed yet"),
        (date(2025, 2, 28), {"close": 10.0, "open": 9.0, "high": 10.5, "low": 8.9, "volume": 0.0}, None),
    ],
)
def test_hard_checks(day: date, values: dict, reason: str | None) -> None:
    got = hard_check(day, values, XHKG, NOW)
    assert (got is None) if reason is None else got.startswith(reason)


def test_rejected_bars_carry_the_reason_and_are_not_accepted() -> None:
    bars = frame(
        {
            "2025-02-17": (1.0, 1.2, 0.9, 1.1, 10.0),
            "2025-02-18": (1.0, 1.0, 0.9, 1.1, 10.0),  # high below close
            "2025-02-22": (1.0, 1.2, 0.9, 1.1, 10.0),  # Saturday
        }
    )
    report = check_bars(bars, calendar=XHKG, now=NOW)
    assert [d.date() for d in report.accepted.index] == [date(2025, 2, 17)]
    assert report.reasons == ["2025-02-18: high 1 is below close 1.1", "2025-02-22: not a XHKG session"]


def test_a_wild_move_is_held_with_its_z_score() -> None:
    history = calm_history()
    last = history.iloc[-1]
    bars = frame(
        {
            "2025-02-17": (last, last * 10.2, last, last * 10, 1.0),  # a 10x unit error
            "2025-02-18": (last, last * 1.02, last * 0.99, last * 1.01, 1.0),
        }
    )
    report = check_bars(bars, calendar=XHKG, now=NOW, history=history)
    assert [f.session for f in report.held] == [date(2025, 2, 17)]
    held = report.held[0]
    assert held.z_score > 100 and "sigma, over the 12 limit" in held.reason and "+900.0%" in held.reason
    # The next day is judged against the last ACCEPTED close, so it passes.
    assert [d.date() for d in report.accepted.index] == [date(2025, 2, 18)]


def test_ordinary_moves_pass() -> None:
    history = calm_history()
    last = history.iloc[-1]
    report = check_bars(
        frame({"2025-02-17": (last, last, last * 0.95, last * 0.96, 1.0)}),
        calendar=XHKG,
        now=NOW,
        history=history,
    )
    assert not report.held and len(report.accepted) == 1  # -4% is 4 sigma here: fine


def test_a_split_is_not_a_move() -> None:
    history = calm_history()
    last = history.iloc[-1]
    bars = frame({"2025-02-17": (None, None, None, last / 10, None)})
    held = check_bars(bars, calendar=XHKG, now=NOW, history=history)
    assert len(held.held) == 1
    split = check_bars(bars, calendar=XHKG, now=NOW, history=history, splits=[(date(2025, 2, 17), 10.0)])
    assert not split.held and len(split.accepted) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"trusted": [date(2025, 2, 17)]},  # already stored with these values / released by an admin
        {"max_sigmas": 0},  # spike check off (operator files)
        {"min_returns": 100},  # not enough history to judge
    ],
)
def test_when_the_spike_check_does_not_apply(kwargs: dict) -> None:
    history = calm_history()
    bars = frame({"2025-02-17": (None, None, None, history.iloc[-1] * 10, None)})
    report = check_bars(bars, calendar=XHKG, now=NOW, history=history, **kwargs)
    assert not report.held and len(report.accepted) == 1


@pytest.mark.parametrize("symbol", OfflineCSVProvider().available_symbols())
def test_the_bundled_real_history_passes_the_gate(symbol: str) -> None:
    """Real crashes (HSI -13% on 2025-04-07, NVDA +24% on 2023-05-25) are not held at the default
    12 sigma; NVDA is served raw with its split, which the gate understands."""
    from marketdata.catalog import spec_for_symbol

    spec = spec_for_symbol(symbol)
    calendar = get_calendar(spec.calendar_code)
    provider = OfflineCSVProvider()
    from marketdata.providers import InstrumentRef

    ref = InstrumentRef(symbol, spec.calendar_code, str(calendar.tz))
    bars = provider.fetch_daily_bars(ref, date(2000, 1, 1), date(2030, 1, 1))
    splits = [
        (ts.date(), r)
        for ts, r in provider.fetch_splits(ref, date(2000, 1, 1), date(2030, 1, 1))["ratio"].items()
    ]
    report = check_bars(bars, calendar=calendar, now=datetime(2026, 11, 1, tzinfo=UTC), splits=splits)
    assert report.held == []
    expected = (
        ["2025-01-09: not a CMES session", "2025-07-04: not a CMES session"] if symbol == "GC_F" else []
    )
    assert report.reasons == expected


def test_the_corporate_actions_file_is_not_a_price_file() -> None:
    assert (DEFAULT_DATA_DIR / CORPORATE_ACTIONS_FILE).is_file()
    assert "corporate_actions" not in OfflineCSVProvider().available_symbols()
    raw = read_price_csv(DEFAULT_DATA_DIR / "NVDA.csv")
    assert math.isclose(raw.loc["2024-06-07", "close"], 120.888)  # the file itself stays adjusted
