"""forecasts.scoring.incremental.may_change never misses a change: on random bars, claims, splits and
instants, every pending forecast it leaves alone scores, sessions later, to the very stored columns it has."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from forecasts.scoring import SCORE_COLUMNS, Kind, Status, score_columns
from forecasts.scoring.bulk import score_many
from forecasts.scoring.incremental import may_change
from marketdata.calendars import get_calendar
from tests.forecasts.scoring.test_bulk import CALENDARS, bar_series, claims_for, scenarios, split_lists

NAT = np.datetime64("NaT", "D")


def _day(d) -> np.datetime64:
    return NAT if d is None else np.datetime64(d, "D")


@st.composite
def nights(draw):
    """A night inside the bars: claims made in the 60 sessions before it, targets near the price then."""
    calendar = get_calendar(draw(st.sampled_from(CALENDARS)))
    bars = draw(bar_series(calendar))
    assume(len(bars) > 120 and bars["close"].notna().sum() > 100)
    k = draw(st.integers(80, len(bars) - 6))
    day = bars.index[k].date()
    level = float(bars["close"].iloc[: k + 1].dropna().iloc[-1])
    as_of = calendar.session_close(calendar.last_session_on_or_before(day)) + draw(
        st.sampled_from([timedelta(0), timedelta(hours=2)])
    )
    span = (bars.index[k - 60].date(), day)
    claims = draw(st.lists(claims_for(calendar, span, level, False), min_size=1, max_size=12))
    claims = [c for c in claims if c.made_at <= as_of]
    assume(claims)
    return calendar, bars, claims, None, as_of, draw(split_lists(span)), None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(nights(), nights(), scenarios()),
    st.integers(1, 4),
    st.sampled_from([timedelta(0), timedelta(hours=3)]),
)
def test_what_may_change_leaves_alone_does_not_change(scenario, steps, offset) -> None:
    calendar, bars, claims, others, as_of, splits, ended = scenario
    assume(ended is None)  # a stopped instrument is rescored in full
    through = calendar.last_session_closed_at_or_before(as_of)
    assume(through is not None)
    try:
        later_day = calendar.sessions_after(through, steps)
    except ValueError:
        assume(False)
    later = calendar.session_close(later_day) + offset
    kwargs = {"splits": splits, "others": others}
    before = score_many(claims, bars, calendar, as_of=as_of, **kwargs)
    after = score_many(claims, bars, calendar, as_of=later, **kwargs)
    rows = [
        i
        for i, (c, r) in enumerate(zip(claims, before, strict=True))
        if r.status is Status.PENDING and c.kind is not Kind.MANUAL and c.made_at <= as_of
    ]
    assume(rows)
    stored = [score_columns(before[i]) for i in rows]
    through_later = calendar.last_session_closed_at_or_before(later)
    new_days = calendar.sessions_array(through, through_later)
    new_days = new_days[new_days > np.datetime64(through, "D")]
    index = bars.index.to_numpy().astype("datetime64[D]")
    exact = bars.index.to_numpy() == index.astype(bars.index.dtype)

    def column(name: str) -> np.ndarray:
        if name not in bars.columns:
            return np.full(len(new_days), np.nan)
        values = bars[name].to_numpy(dtype=float)[exact]
        days = index[exact]
        at = np.searchsorted(days, new_days)
        found = at < len(days)
        found[found] = days[at[found]] == new_days[found]
        return np.where(found, values[np.where(found, at, 0)] if len(values) else np.nan, np.nan)

    baselines = [s["baseline_date"] for s in stored if s["baseline_date"] is not None]
    pick = may_change(
        kind=np.array([claims[i].kind.value for i in rows], dtype=object),
        basis=np.array([claims[i].basis.value for i in rows], dtype=object),
        target=np.array([np.nan if claims[i].target is None else claims[i].target for i in rows]),
        baseline=np.array([np.nan if s["baseline"] is None else s["baseline"] for s in stored]),
        window_start=np.array([_day(s["window_start"]) for s in stored], dtype="datetime64[D]"),
        window_end=np.array([_day(s["window_end"]) for s in stored], dtype="datetime64[D]"),
        awaiting=np.array([s["awaiting_data"] for s in stored]),
        fresh=np.zeros(len(rows), dtype=bool),
        through=np.datetime64(through_later, "D"),
        new_days=new_days,
        new_close=column("close"),
        new_high=column("high"),
        new_low=column("low"),
        split_after=bool(baselines) and any(s.ex_date > min(baselines) for s in splits),
        since=np.datetime64(through, "D"),
        calendar_days=calendar.sessions,
    )
    for k, i in enumerate(rows):
        if pick[k]:
            continue
        now = score_columns(after[i])
        for name in SCORE_COLUMNS:
            assert now[name] == stored[k][name], (name, stored[k][name], now[name], claims[i])
