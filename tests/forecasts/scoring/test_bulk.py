"""forecasts.scoring.bulk.score_many agrees with the pure scorer, field by field (no database).

Hypothesis draws bar series with gaps, NaN values and stray non-session rows, claims of every kind and
basis, made_at / deadline / as_of anywhere (intraday, exactly at an open or a close, before the claim was
made), XHKG half days, 24/7 and 24/5 calendars, splits (also inside the volatility history and in the
session in progress at made_at) and delistings; then every field of every result must equal
``scoring.score``'s (difficulty, skill, boldness and sigma to 1e-12 relative; in practice they are equal).
"""

from __future__ import annotations

import math
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasts.scoring import Basis, Claim, Kind, ScoreResult, Split, Status, score
from forecasts.scoring.bulk import Other, score_many
from marketdata.calendars import get_calendar
from tests.paths import PRICE_DATA

DATA = PRICE_DATA
HK = ZoneInfo("Asia/Hong_Kong")
FLOAT_FIELDS = ("difficulty", "skill", "boldness", "sigma", "window_return", "other_return")
CALENDARS = ("XHKG", "XNYS", "24/7", "24/5", "CMES")
SPAN = (date(2023, 6, 1), date(2025, 12, 31))


def assert_same(bulk: ScoreResult, pure: ScoreResult, context: object = "") -> None:
    for f in fields(ScoreResult):
        a, b = getattr(bulk, f.name), getattr(pure, f.name)
        if f.name in FLOAT_FIELDS and a is not None and b is not None:
            assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300), (f.name, a, b, context)
        else:
            assert a == b, (f.name, a, b, context)


def pure_all(claims, bars, calendar, *, others=None, **kwargs) -> list[ScoreResult]:
    out = []
    for i, c in enumerate(claims):
        extra = {}
        if others is not None and others[i] is not None:
            o = others[i]
            extra = {"other_bars": o.bars, "other_calendar": o.calendar, "other_splits": o.splits}
        out.append(score(c, bars, calendar, **kwargs, **extra))
    return out


def check(claims, bars, calendar, **kwargs) -> list[ScoreResult]:
    bulk = score_many(claims, bars, calendar, **kwargs)
    kwargs.pop("default_horizon_months", None)
    pure = pure_all(claims, bars, calendar, **kwargs)
    assert len(bulk) == len(pure)
    for i, (b, p) in enumerate(zip(bulk, pure, strict=True)):
        assert_same(b, p, (i, claims[i]))
    return bulk


# ------------------------------------------------------------------------------------- strategies


@st.composite
def bar_series(draw, calendar) -> pd.DataFrame:
    """A random walk on the calendar's sessions, with dropped sessions, NaN cells, stray rows."""
    start = draw(st.dates(SPAN[0], date(2024, 9, 1)))
    length = draw(st.one_of(st.integers(0, 600), st.just(600)))
    days = calendar.sessions_array(start, SPAN[1])[:length]
    n = len(days)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    vol = draw(st.sampled_from([0.0, 0.004, 0.02]))
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, vol, n)))
    close = np.round(close, draw(st.sampled_from([2, 0])))  # round prices make ties with targets
    high = close * (1 + np.abs(rng.normal(0, 0.01, n)))
    low = close * (1 - np.abs(rng.normal(0, 0.01, n)))
    frame = pd.DataFrame({"close": close, "high": high, "low": low}, index=pd.DatetimeIndex(days))
    gap = draw(st.sampled_from([0.0, 0.02, 0.2]))
    frame = frame[rng.random(n) >= gap]
    for col, rate in (("close", draw(st.sampled_from([0.0, 0.02]))), ("high", 0.05), ("low", 0.05)):
        frame.loc[rng.random(len(frame)) < rate, col] = np.nan
    if draw(st.booleans()) and n:
        # rows on non-sessions (and one stamped at noon): ignored by the scorer
        stray = pd.to_datetime(days[: min(n, 3)]) - pd.Timedelta(days=1)
        extra = pd.DataFrame({"close": 1.0, "high": 1.0, "low": 1.0}, index=stray)
        extra = extra[~extra.index.isin(pd.to_datetime(days))]
        frame = pd.concat([frame, extra]).sort_index()
        frame = frame[~frame.index.duplicated()]
    if draw(st.booleans()):
        frame = frame.drop(columns=draw(st.sampled_from([["high"], ["low"], ["high", "low"]])))
    return frame


def instants(calendar, lo: date = SPAN[0], hi: date = SPAN[1]) -> st.SearchStrategy[datetime]:
    """Any minute from ``lo`` to ``hi``, or exactly a session open / close, or local midnight (the
    date-only convention): the boundary cases."""
    sessions = calendar.sessions_array(lo, hi)
    # hypothesis wants naive bounds and adds the zone itself
    naive_bounds = (datetime(lo.year, lo.month, lo.day), datetime(hi.year, hi.month, hi.day))  # noqa: DTZ001
    anywhere = st.datetimes(*naive_bounds, timezones=st.just(UTC)).map(
        lambda d: d.replace(second=0, microsecond=0)
    )
    midnight_local = st.dates(lo, hi).map(lambda d: datetime(d.year, d.month, d.day, tzinfo=calendar.tz))
    if not len(sessions):
        return st.one_of(anywhere, midnight_local)
    day = st.integers(0, len(sessions) - 1).map(lambda i: sessions[i].astype(object))
    return st.one_of(
        anywhere, day.map(calendar.session_open), day.map(calendar.session_close), midnight_local
    )


@st.composite
def claims_for(draw, calendar, span: tuple[date, date], level: float, with_outperform: bool) -> Claim:
    kinds = [k for k in Kind if with_outperform or k is not Kind.OUTPERFORM]
    kind = draw(st.sampled_from(kinds))
    made_at = draw(instants(calendar, *span))
    deadline = draw(
        st.one_of(
            st.none(),
            st.one_of(st.integers(-3, 60), st.integers(-3, 300)).map(
                lambda n: made_at.astimezone(calendar.tz).date() + timedelta(days=n)
            ),
        )
    )
    factor = st.floats(0.8, 1.25).map(lambda f: round(f, 3))
    target = upper = None
    if kind in (Kind.REACH, Kind.CLOSE_ABOVE, Kind.CLOSE_BELOW):
        target = round(level * draw(factor), draw(st.sampled_from([0, 2])))
        target = max(target, 0.01)
    elif kind is Kind.RANGE:
        lo, hi = sorted((draw(factor), draw(factor)))
        target, upper = level * lo, level * hi
    elif kind is Kind.MOVE_PCT:
        target = draw(st.sampled_from([-20.0, -10.0, -5.0, -1.5, 1.5, 3.0, 5.0, 10.0, 25.0]))
    basis = draw(st.sampled_from([Basis.CLOSE, Basis.INTRADAY]))
    return Claim(
        kind=kind, made_at=made_at, target=target, target_upper=upper, basis=basis, deadline=deadline
    )


@st.composite
def split_lists(draw, span: tuple[date, date] = SPAN) -> tuple[Split, ...]:
    n = draw(st.integers(0, 2))
    ex = draw(st.lists(st.dates(*span), min_size=n, max_size=n, unique=True))
    return tuple(Split(d, draw(st.sampled_from([2.0, 10.0, 0.1, 1.5, 3.0]))) for d in ex)


@st.composite
def scenarios(draw):
    calendar = get_calendar(draw(st.sampled_from(CALENDARS)))
    bars = draw(bar_series(calendar))
    level = float(np.nanmedian(bars["close"])) if bars["close"].notna().any() else 100.0
    # claims made while the bars run (mostly after enough history for a sigma), or anywhere
    span = SPAN
    if len(bars) > 2:
        span = (bars.index[min(len(bars) - 2, 70)].date(), bars.index[-1].date() + timedelta(days=20))
        span = draw(st.sampled_from([span, (bars.index[0].date(), span[1]), SPAN]))
    with_outperform = draw(st.booleans())
    claims = draw(st.lists(claims_for(calendar, span, level, with_outperform), min_size=1, max_size=12))
    others = None
    if with_outperform:
        other_calendar = get_calendar(draw(st.sampled_from(CALENDARS)))
        other = Other(draw(bar_series(other_calendar)), other_calendar, draw(split_lists()))
        others = [other if c.kind is Kind.OUTPERFORM else None for c in claims]
    as_of = draw(instants(calendar, span[0], span[1] + timedelta(days=300)))
    if draw(st.integers(0, 3)) == 0:
        as_of = datetime(2026, 6, 1, tzinfo=UTC)  # everything decided or voided
    ended = draw(st.one_of(st.none(), st.none(), st.none(), st.none(), st.dates(*span)))
    return calendar, bars, claims, others, as_of, draw(split_lists(span)), ended


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_bulk_equals_pure(scenario) -> None:
    calendar, bars, claims, others, as_of, splits, ended = scenario
    check(claims, bars, calendar, as_of=as_of, splits=splits, trading_ended_on=ended, others=others)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(1, 24))
def test_bulk_equals_pure_with_another_horizon(scenario, months) -> None:
    calendar, bars, claims, others, as_of, splits, _ = scenario
    bulk = score_many(
        claims, bars, calendar, as_of=as_of, splits=splits, others=others, default_horizon_months=months
    )
    for i, c in enumerate(claims):
        extra = {}
        if others and others[i] is not None:
            extra = {
                "other_bars": others[i].bars,
                "other_calendar": others[i].calendar,
                "other_splits": others[i].splits,
            }
        assert_same(
            bulk[i],
            score(c, bars, calendar, as_of=as_of, splits=splits, default_horizon_months=months, **extra),
        )


# ------------------------------------------------------------------------------------ table cases
XHKG = get_calendar("XHKG")
CAL = get_calendar("24/5")


@pytest.fixture(scope="module")
def hsi() -> pd.DataFrame:
    return pd.read_csv(DATA / "HSI.csv", index_col="date", parse_dates=["date"])


def test_seed_article(hsi: pd.DataFrame) -> None:
    seed = Claim(kind=Kind.REACH, target=23200, basis=Basis.CLOSE, made_at=datetime(2025, 2, 15, tzinfo=HK))
    (result,) = check([seed], hsi, XHKG, as_of=datetime(2026, 11, 1, tzinfo=HK))
    assert result.status is Status.HIT
    assert (result.resolved_on, result.resolution_price) == (date(2025, 2, 21), 23477.92)
    assert (result.baseline, result.baseline_date) == (22620.33, date(2025, 2, 14))
    assert result.sessions_in_window == 248
    assert result.note == "closed at 23,477.92 ≥ 23,200 on 2025-02-21"
    assert result.difficulty == pytest.approx(0.889, abs=0.001)


def test_hsi_many_claims_every_kind(hsi: pd.DataFrame) -> None:
    """A few hundred claims on the real series, made every week of 2024-2025, as of several instants."""
    made = pd.date_range("2023-01-06", "2026-06-01", freq="7D")
    claims = []
    for j, day in enumerate(made):
        at = datetime(day.year, day.month, day.day, 16 if j % 3 else 11, 5 * (j % 7), tzinfo=HK)
        claims += [
            Claim(
                kind=Kind.REACH,
                target=16000 + 300 * (j % 40),
                made_at=at,
                basis=Basis(["close", "intraday"][j % 2]),
            ),
            Claim(
                kind=Kind.MOVE_PCT,
                target=[-10.0, 5.0, 12.0][j % 3],
                made_at=at,
                deadline=day.date() + timedelta(days=90),
            ),
            Claim(
                kind=Kind.CLOSE_ABOVE,
                target=20000 + 100 * (j % 50),
                made_at=at,
                deadline=day.date() + timedelta(days=30),
            ),
            Claim(kind=Kind.RANGE, target=18000, target_upper=24000, made_at=at),
            Claim(kind=Kind.DIRECTION_DOWN, made_at=at, deadline=day.date() + timedelta(days=7)),
            Claim(kind=Kind.MANUAL, made_at=at),
        ]
    for as_of in (
        datetime(2024, 6, 1, tzinfo=UTC),
        datetime(2025, 9, 1, 8, 0, tzinfo=UTC),
        datetime(2026, 11, 1, tzinfo=UTC),
    ):
        results = check(claims, hsi, XHKG, as_of=as_of)
        assert {r.status for r in results} >= {Status.PENDING}
    assert {r.status for r in results} >= {Status.HIT, Status.MISS, Status.PENDING}


def test_splits_with_a_gap_and_a_delisting() -> None:
    days = CAL.sessions_array(date(2024, 1, 1), date(2025, 6, 30))
    close = np.linspace(50, 150, len(days))
    bars = pd.DataFrame(
        {"close": close, "high": close * 1.01, "low": close * 0.99}, index=pd.DatetimeIndex(days)
    )
    bars.loc["2025-03-12", "close"] = np.nan
    bars = bars.drop(pd.Timestamp("2025-03-13"))
    splits = (Split(date(2024, 11, 4), 2.0), Split(date(2025, 3, 17), 10.0), Split(date(2025, 3, 15), 0.5))
    made = [datetime(2025, m, d, h, tzinfo=UTC) for m in (2, 3) for d in (1, 14, 15) for h in (0, 13)]
    claims = [
        Claim(kind=k, made_at=m, target=t, target_upper=u, basis=b)
        for m in made
        for k, t, u in (
            (Kind.REACH, 200.0, None),
            (Kind.REACH, 60.0, None),
            (Kind.MOVE_PCT, -50.0, None),
            (Kind.CLOSE_BELOW, 30.0, None),
            (Kind.RANGE, 1.0, 500.0),
            (Kind.DIRECTION_UP, None, None),
        )
        for b in (Basis.CLOSE, Basis.INTRADAY)
    ]
    for as_of in (
        datetime(2025, 3, 20, tzinfo=UTC),
        datetime(2025, 8, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    ):
        for ended in (None, date(2025, 4, 1)):
            check(claims, bars, CAL, as_of=as_of, splits=splits, trading_ended_on=ended)


def test_errors_are_the_pure_scorers(hsi: pd.DataFrame) -> None:
    claim = Claim(kind=Kind.REACH, target=1.0, made_at=datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        score_many([claim], hsi, XHKG, as_of=datetime(2025, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="sorted"):
        score_many([claim], hsi.iloc[::-1], XHKG, as_of=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="outperform needs"):
        score_many(
            [Claim(kind=Kind.OUTPERFORM, made_at=claim.made_at)],
            hsi,
            XHKG,
            as_of=datetime(2026, 1, 1, tzinfo=UTC),
        )
    with pytest.raises(ValueError, match="before the calendar"):
        score_many(
            [Claim(kind=Kind.REACH, target=1.0, made_at=datetime(1999, 1, 1, tzinfo=UTC))],
            hsi,
            XHKG,
            as_of=datetime(2026, 1, 1, tzinfo=UTC),
        )
    assert score_many([], hsi, XHKG, as_of=datetime(2026, 1, 1, tzinfo=UTC)) == []
