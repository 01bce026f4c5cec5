"""Pure tests of forecasts.scoring (no database): tables of tiny synthetic cases, the seed article on the
real HSI series, and a few hypothesis properties."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from statistics import NormalDist
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasts.scoring import (
    BGK_BETA,
    DEFAULT_HORIZON_MONTHS,
    SCORER_VERSION,
    Basis,
    Claim,
    Kind,
    ScoreResult,
    Split,
    Status,
    add_months,
    default_deadline,
    log_return_sigma,
    random_walk_probability,
    score,
)
from marketdata.calendars import get_calendar
from tests.paths import PRICE_DATA

HK = ZoneInfo("Asia/Hong_Kong")
NAN = float("nan")
PHI = NormalDist().cdf
DATA = PRICE_DATA


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------------------------- synthetic setup
# A Mon-Fri UTC calendar: sessions open 00:00 and close 24:00 UTC. The forecast is made at Monday
# 2025-03-03 00:00 UTC, so the baseline is Friday 2025-02-28 and the window starts that Monday.
CAL = get_calendar("24/5")
CAL7 = get_calendar("24/7")
MADE = utc(2025, 3, 3)
BASE_DAY = date(2025, 2, 28)
W = CAL.sessions_between(date(2025, 3, 3), date(2025, 4, 30))  # W[0] = Mon 3/3 ... W[4] = Fri 3/7
DEADLINE = W[4]
LATE = utc(2025, 6, 1)  # long after: a needed bar still missing then makes the forecast void


def after(i: int) -> datetime:
    """The instant window session W[i] closes (so W[0..i] are complete)."""
    return CAL.session_close(W[i])


AWAIT = after(9)  # window (to W[4]) complete, but before the void cutoff (10 sessions after W[4])


def make_bars(
    closes: list[float | None],
    highs: list[float] | None = None,
    lows: list[float] | None = None,
    *,
    baseline: float | None = 100.0,
    history: list[float] | None = None,
    calendar=CAL,
    base_day: date = BASE_DAY,
    first: date = W[0],
) -> pd.DataFrame:
    """Bars: ``history`` (ending at the baseline session; default just the baseline) then ``closes`` on
    consecutive window sessions. None = no row; NaN = a row with a NaN value."""
    rows: dict[date, tuple[float, float, float]] = {}
    hist = history if history is not None else ([] if baseline is None else [baseline])
    hist_days = calendar.sessions_between(date(2020, 1, 1), base_day)[-len(hist) :] if hist else []
    for d, c in zip(hist_days, hist, strict=True):
        if c is not None:
            rows[d] = (c, c, c)
    days = calendar.sessions_between(first, date(2025, 4, 30))
    for i, c in enumerate(closes):
        if c is None:
            continue
        h = highs[i] if highs is not None else c
        lo = lows[i] if lows is not None else c
        rows[days[i]] = (c, h, lo)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["close", "high", "low"])
    frame.index = pd.DatetimeIndex(frame.index)
    return frame.sort_index()


def claim(
    kind: Kind,
    target: float | None = None,
    upper: float | None = None,
    basis: Basis = Basis.CLOSE,
    deadline: date | None = DEADLINE,
    made_at: datetime = MADE,
) -> Claim:
    return Claim(
        kind=kind, target=target, target_upper=upper, basis=basis, made_at=made_at, deadline=deadline
    )


# ------------------------------------------------------------------------------------ touch (reach)
R, MP = Kind.REACH, Kind.MOVE_PCT
C, IN = Basis.CLOSE, Basis.INTRADAY

# One case a line: the formatter leaves the table alone.
# fmt: off
TOUCH_CASES = [
    # id, kind, target, basis, closes, highs, lows, as_of, status, resolved index, price, missing indices
    ("up: hit at first meeting close", R, 105, C, [101, 102, 106, 107, 99], None, None, AWAIT, "hit", 2, 106, ()),
    ("up: equality is a hit", R, 105, C, [101, 105, 99, 99, 99], None, None, AWAIT, "hit", 1, 105, ()),
    ("up: miss when window complete", R, 105, C, [101, 102, 103, 104, 98], None, None, AWAIT, "miss", 4, 98, ()),
    ("up: running window pending", R, 105, C, [101, 102, 103], None, None, after(2), "pending", None, None, ()),
    # as_of is the close of W[1]; the W[2] bar (a hit) belongs to an incomplete session and is ignored
    ("bar of incomplete session ignored", R, 105, C, [101, 102, 106], None, None, after(1), "pending", None, None, ()),
    ("mid-session as_of ignores the bar", R, 105, C, [101, 106], None, None, utc(2025, 3, 4, 12), "pending", None, None, ()),
    ("gap before a hit stays pending", R, 105, C, [101, None, 106, 107, 99], None, None, AWAIT, "pending", None, None, (1,)),
    ("NaN close before a hit stays pending", R, 105, C, [101, NAN, 106], None, None, AWAIT, "pending", None, None, (1,)),
    ("gap after the hit does not matter", R, 105, C, [106, None, None, 99, 99], None, None, AWAIT, "hit", 0, 106, ()),
    ("gap never becomes a miss", R, 105, C, [101, None, 103, 104, 98], None, None, AWAIT, "pending", None, None, (1,)),
    ("missing last session: not a miss", R, 105, C, [101, 102, 103, 104, None], None, None, AWAIT, "pending", None, None, (4,)),
    ("down: inferred from T < baseline", R, 95, C, [99, 94, 96, 97, 98], None, None, AWAIT, "hit", 1, 94, ()),
    ("down: equality is a hit", R, 95, C, [99, 95], None, None, AWAIT, "hit", 1, 95, ()),
    ("down: miss", R, 95, C, [99, 96, 97, 98, 96], None, None, AWAIT, "miss", 4, 96, ()),
    ("down: a rise does not count", R, 95, C, [120, 130, 140, 150, 160], None, None, AWAIT, "miss", 4, 160, ()),
    ("T == baseline means at or above", R, 100, C, [99, 100, 98, 98, 98], None, None, AWAIT, "hit", 1, 100, ()),
    ("intraday up uses the high", R, 105, IN, [101, 102, 99, 99, 99], [104, 105.5, 99, 99, 99], None, AWAIT, "hit", 1, 105.5, ()),
    ("intraday down uses the low", R, 95, IN, [99, 98, 99, 99, 99], None, [96, 94.5, 99, 99, 99], AWAIT, "hit", 1, 94.5, ()),
    ("intraday up ignores the low", R, 105, IN, [101, 102, 99, 99, 99], [104, 104, 104, 104, 104], [90] * 5, AWAIT, "miss", 4, 104, ()),
    ("intraday NaN high, close meets: hit", R, 105, IN, [101, 106], [104, NAN], None, AWAIT, "hit", 1, 106, ()),
    ("intraday NaN high, close short: missing", R, 105, IN, [101, 102, 103], [104, NAN, 107], None, AWAIT, "pending", None, None, (1,)),
    ("intraday NaN low, close meets: hit", R, 95, IN, [99, 94], None, [96, NAN], AWAIT, "hit", 1, 94, ()),
    ("close basis ignores the high", R, 105, C, [101, 102, 103, 104, 98], [110] * 5, None, AWAIT, "miss", 4, 98, ()),
    ("move_pct +10: T = 110", MP, 10, C, [105, 109, 111, 99, 99], None, None, AWAIT, "hit", 2, 111, ()),
    ("move_pct +10: equality", MP, 10, C, [105, 110], None, None, AWAIT, "hit", 1, 110, ()),
    ("move_pct -10: T = 90", MP, -10, C, [95, 91, 89.9], None, None, AWAIT, "hit", 2, 89.9, ()),
    ("move_pct miss", MP, 10, C, [105, 109, 108, 107, 106], None, None, AWAIT, "miss", 4, 106, ()),
    ("move_pct intraday", MP, 10, IN, [105, 109], [106, 110.5], None, AWAIT, "hit", 1, 110.5, ()),
    ("move_pct gap before a hit", MP, -10, C, [None, 89], None, None, AWAIT, "pending", None, None, (0,)),
]
# fmt: on


@pytest.mark.parametrize(
    ("kind", "target", "basis", "closes", "highs", "lows", "as_of", "status", "at", "price", "missing"),
    [pytest.param(*case[1:], id=case[0]) for case in TOUCH_CASES],
)
def test_touch_kinds(kind, target, basis, closes, highs, lows, as_of, status, at, price, missing) -> None:
    result = score(claim(kind, target, basis=basis), make_bars(closes, highs, lows), CAL, as_of=as_of)
    assert result.status == Status(status), result.note
    assert result.resolved_on == (None if at is None else W[at])
    assert result.resolution_price == price
    assert result.missing_sessions == tuple(W[i] for i in missing)
    assert result.awaiting_data is bool(missing)
    assert result.baseline == 100.0
    assert result.baseline_date == BASE_DAY
    assert result.first_session == W[0]
    assert result.last_session == W[4]
    assert result.sessions_in_window == 5


def test_touch_notes() -> None:
    hit = score(claim(R, 23200), make_bars([101, 23477.92], baseline=22620.33), CAL, as_of=LATE)
    assert hit.note == f"closed at 23,477.92 ≥ 23,200 on {W[1].isoformat()}"
    pending = score(claim(R, 105), make_bars([101, None, 106]), CAL, as_of=AWAIT)
    assert pending.note == f"awaiting data: no bar for {W[1].isoformat()}"
    miss = score(claim(R, 105), make_bars([101, 104, 103, 102, 98]), CAL, as_of=LATE)
    assert miss.note.startswith("never closed at or above 105 in 5 sessions")
    assert f"best close 104 on {W[1].isoformat()}" in miss.note


@pytest.mark.parametrize(
    ("kind", "target", "baseline", "direction", "target_price"),
    [
        (R, 105, 100, "up", 105),
        (R, 95, 100, "down", 95),
        (R, 100, 100, "up", 100),
        (MP, 10, 100, "up", 110),
        (MP, -10, 100, "down", 90),
        (MP, 5, 22620.33, "up", 22620.33 * 1.05),
    ],
)
def test_direction_and_target_price(kind, target, baseline, direction, target_price) -> None:
    result = score(claim(kind, target), make_bars([], baseline=baseline), CAL, as_of=LATE)
    assert result.direction == direction
    assert result.target_price == pytest.approx(target_price)


# ------------------------------------------------------------------------- decided at the last session
CA, CB, RG, DU, DD = Kind.CLOSE_ABOVE, Kind.CLOSE_BELOW, Kind.RANGE, Kind.DIRECTION_UP, Kind.DIRECTION_DOWN

# One case a line: the formatter leaves the table alone.
# fmt: off
LAST_CASES = [
    # id, kind, target, upper, basis, closes, as_of, status, price, missing indices
    ("close_above hit", CA, 105, None, C, [90, 80, 70, 60, 106], AWAIT, "hit", 106, ()),
    ("close_above equality hit", CA, 105, None, C, [90, 80, 70, 60, 105], AWAIT, "hit", 105, ()),
    ("close_above miss despite earlier highs", CA, 105, None, C, [110, 110, 110, 110, 104.99], AWAIT, "miss", 104.99, ()),
    ("close_above earlier gaps do not matter", CA, 105, None, C, [None, NAN, 90, 90, 106], AWAIT, "hit", 106, ()),
    ("close_above pending until last", CA, 105, None, C, [110, 110, 110, 110, 110], after(3), "pending", None, ()),
    ("close_above last missing", CA, 105, None, C, [110, 110, 110, 110, None], AWAIT, "pending", None, (4,)),
    ("close_above last NaN", CA, 105, None, C, [110, 110, 110, 110, NAN], AWAIT, "pending", None, (4,)),
    ("close_above basis irrelevant", CA, 105, None, IN, [101, 101, 101, 101, 104], AWAIT, "miss", 104, ()),
    ("close_below hit", CB, 95, None, C, [99, 99, 99, 99, 94], AWAIT, "hit", 94, ()),
    ("close_below equality hit", CB, 95, None, C, [99, 99, 99, 99, 95], AWAIT, "hit", 95, ()),
    ("close_below miss", CB, 95, None, C, [90, 90, 90, 90, 95.01], AWAIT, "miss", 95.01, ()),
    ("range inside", RG, 95, 105, C, [80, 80, 80, 80, 100], AWAIT, "hit", 100, ()),
    ("range lower bound", RG, 95, 105, C, [80, 80, 80, 80, 95], AWAIT, "hit", 95, ()),
    ("range upper bound", RG, 95, 105, C, [80, 80, 80, 80, 105], AWAIT, "hit", 105, ()),
    ("range below", RG, 95, 105, C, [100, 100, 100, 100, 94.99], AWAIT, "miss", 94.99, ()),
    ("range above", RG, 95, 105, C, [100, 100, 100, 100, 105.01], AWAIT, "miss", 105.01, ()),
    ("direction_up hit", DU, None, None, C, [90, 90, 90, 90, 100.01], AWAIT, "hit", 100.01, ()),
    ("direction_up flat is a miss", DU, None, None, C, [110, 110, 110, 110, 100], AWAIT, "miss", 100, ()),
    ("direction_up down is a miss", DU, None, None, C, [110, 110, 110, 110, 99], AWAIT, "miss", 99, ()),
    ("direction_down hit", DD, None, None, C, [110, 110, 110, 110, 99.99], AWAIT, "hit", 99.99, ()),
    ("direction_down flat is a miss", DD, None, None, C, [90, 90, 90, 90, 100], AWAIT, "miss", 100, ()),
    ("direction_up pending", DU, None, None, C, [110], after(0), "pending", None, ()),
]
# fmt: on


@pytest.mark.parametrize(
    ("kind", "target", "upper", "basis", "closes", "as_of", "status", "price", "missing"),
    [pytest.param(*case[1:], id=case[0]) for case in LAST_CASES],
)
def test_last_session_kinds(kind, target, upper, basis, closes, as_of, status, price, missing) -> None:
    result = score(claim(kind, target, upper, basis), make_bars(closes), CAL, as_of=as_of)
    assert result.status == Status(status), result.note
    assert result.resolution_price == price
    assert result.resolved_on == (W[4] if status in ("hit", "miss") else None)
    assert result.missing_sessions == tuple(W[i] for i in missing)
    assert result.awaiting_data is bool(missing)


def test_last_session_window_return() -> None:
    result = score(claim(DU), make_bars([90, 90, 90, 90, 110]), CAL, as_of=LATE)
    assert result.window_return == pytest.approx(0.10)
    assert score(claim(DU), make_bars([90]), CAL, as_of=after(0)).window_return is None


# ----------------------------------------------------------------------------------------- outperform
# B is on the 24/7 calendar: its baseline is Sunday 3/2 (closes 3/3 00:00) and its last session Fri 3/7.
B_DAYS = CAL7.sessions_between(date(2025, 3, 3), date(2025, 3, 7))


def b_bars(last: float | None, baseline: float | None = 200.0) -> pd.DataFrame:
    return make_bars(
        [200.0, 200.0, 200.0, 200.0, last], baseline=baseline, calendar=CAL7, base_day=date(2025, 3, 2)
    )


@pytest.mark.parametrize(
    ("a_last", "b_last", "b_baseline", "status", "missing"),
    [
        pytest.param(105, 206, 200.0, "hit", (), id="5% beats 3%"),
        pytest.param(103, 210, 200.0, "miss", (), id="3% loses to 5%"),
        pytest.param(105, 210, 200.0, "miss", (), id="a tie is a miss"),
        pytest.param(95, 180, 200.0, "hit", (), id="-5% beats -10%"),
        pytest.param(105, None, 200.0, "pending", (B_DAYS[4],), id="B last missing"),
        pytest.param(None, 206, 200.0, "pending", (W[4],), id="A last missing"),
        pytest.param(105, 206, None, "pending", (date(2025, 3, 2),), id="B baseline missing"),
    ],
)
def test_outperform(a_last, b_last, b_baseline, status, missing) -> None:
    result = score(
        claim(Kind.OUTPERFORM),
        make_bars([100, 100, 100, 100, a_last]),
        CAL,
        as_of=AWAIT,
        other_bars=b_bars(b_last, b_baseline),
        other_calendar=CAL7,
    )
    assert result.status == Status(status), result.note
    assert result.missing_sessions == missing
    assert result.difficulty == 0.5
    if status in ("hit", "miss"):
        assert result.resolved_on == W[4]
        assert result.resolution_price == a_last
        assert result.window_return == pytest.approx(a_last / 100 - 1)
        assert result.other_return == pytest.approx(b_last / 200 - 1)


def test_outperform_is_decided_on_the_later_of_the_two_last_sessions() -> None:
    # Deadline Sunday 3/9: A (24/5) last trades Fri 3/7, B (24/7) on Sun 3/9. The claim needs B's close
    # of 3/9, so it is decided then, not on A's last session: an as_of view of 3/8 must still say pending.
    sunday = date(2025, 3, 9)
    b = make_bars([200.0] * 6 + [206.0], baseline=200.0, calendar=CAL7, base_day=date(2025, 3, 2))
    result = score(
        claim(Kind.OUTPERFORM, deadline=sunday),
        make_bars([100, 100, 100, 100, 105]),
        CAL,
        as_of=AWAIT,
        other_bars=b,
        other_calendar=CAL7,
    )
    assert (result.status, result.last_session) == (Status.HIT, W[4])
    assert result.resolved_on == sunday and result.resolution_price == 105


def test_outperform_pending_until_both_last_sessions_complete() -> None:
    result = score(
        claim(Kind.OUTPERFORM),
        make_bars([100] * 5),
        CAL,
        as_of=after(3),
        other_bars=b_bars(206),
        other_calendar=CAL7,
    )
    assert result.status is Status.PENDING
    assert not result.awaiting_data


def test_outperform_needs_the_other_instrument() -> None:
    with pytest.raises(ValueError, match="other_bars"):
        score(claim(Kind.OUTPERFORM), make_bars([100] * 5), CAL, as_of=LATE)


# -------------------------------------------------------------------------------------- void, manual
@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        pytest.param(
            utc(2025, 3, 21, 23, 59), "pending", id="before the 10th session after the deadline closes"
        ),
        pytest.param(utc(2025, 3, 22), "void", id="10th session after the deadline (3/21) complete"),
    ],
)
@pytest.mark.parametrize(
    ("kind", "target", "closes", "baseline"),
    [
        pytest.param(R, 105, [101, None, 103, 104, 98], 100.0, id="reach gap"),
        pytest.param(CA, 105, [101, 101, 101, 101, None], 100.0, id="close_above last missing"),
        pytest.param(R, 105, [101, 102, 103, 104, 98], None, id="baseline missing"),
    ],
)
def test_void_when_bars_stay_missing(kind, target, closes, baseline, as_of, status) -> None:
    result = score(claim(kind, target), make_bars(closes, baseline=baseline), CAL, as_of=as_of)
    assert result.status == Status(status), result.note
    assert result.awaiting_data is (status == "pending")
    assert result.missing_sessions  # kept for the record either way
    if status == "void":
        assert result.note.startswith("void: bars still missing 10 sessions after the deadline")
        assert result.resolved_on is None
        assert result.skill is None
        # It holds from the 10th session after the last window session (3/21), not from the run's day.
        assert result.void_effective_on == CAL.sessions_after(W[4], 10) == date(2025, 3, 21)
    else:
        assert result.void_effective_on is None


def test_baseline_missing_is_awaiting_data() -> None:
    result = score(claim(R, 105), make_bars([106, 101, 101, 101, 101], baseline=None), CAL, as_of=AWAIT)
    assert result.status is Status.PENDING
    assert result.missing_sessions == (BASE_DAY,)
    assert result.baseline is None
    assert result.difficulty is None


@pytest.mark.parametrize(
    ("made_at", "deadline"),
    [
        pytest.param(MADE, date(2025, 3, 2), id="deadline on the weekend before the first window session"),
        pytest.param(MADE, date(2025, 2, 1), id="deadline before made_at"),
        pytest.param(utc(2025, 3, 3, 12), date(2025, 3, 3), id="only the session in progress"),
    ],
)
def test_empty_window_is_void(made_at, deadline) -> None:
    result = score(claim(R, 105, deadline=deadline, made_at=made_at), make_bars([106]), CAL, as_of=LATE)
    assert result.status is Status.VOID
    assert result.sessions_in_window == 0
    assert result.note.startswith("void: no trading session")


def test_deadline_on_a_weekend_uses_the_last_session_before_it() -> None:
    result = score(
        claim(CA, 105, deadline=date(2025, 3, 9)), make_bars([101, 101, 101, 101, 106]), CAL, as_of=LATE
    )
    assert result.last_session == W[4]
    assert result.deadline == date(2025, 3, 9)
    assert result.status is Status.HIT


@pytest.mark.parametrize(
    ("closes", "ended", "as_of", "status"),
    [
        pytest.param([101, 102], W[1], LATE, "void", id="stopped before the deadline, undecided"),
        pytest.param([106, 102], W[1], LATE, "hit", id="hit before it stopped stays a hit"),
        pytest.param([101, 102], W[1], after(0), "pending", id="as_of before it stopped"),
        pytest.param([101, 102, 103, 104, 98], W[4], LATE, "miss", id="stopped on the last session: normal"),
    ],
)
def test_trading_ended(closes, ended, as_of, status) -> None:
    result = score(claim(R, 105), make_bars(closes), CAL, as_of=as_of, trading_ended_on=ended)
    assert result.status == Status(status), result.note
    if status == "void":
        assert "instrument stopped trading" in result.note


def test_trading_ended_applies_to_last_session_kinds() -> None:
    result = score(claim(DU), make_bars([101, 102]), CAL, as_of=LATE, trading_ended_on=W[1])
    assert result.status is Status.VOID


def test_manual_is_always_pending() -> None:
    result = score(claim(Kind.MANUAL), make_bars([101] * 5), CAL, as_of=LATE)
    assert result.status is Status.PENDING
    assert result.difficulty is None
    assert result.skill is None
    assert result.boldness is None
    assert result.last_session == W[4]


def test_as_of_before_made_at_is_pending() -> None:
    result = score(claim(R, 105), make_bars([106]), CAL, as_of=utc(2025, 3, 1))
    assert result.status is Status.PENDING
    assert result.note.startswith("not yet made")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": R}, "positive target"),
        ({"kind": R, "target": -5}, "positive target"),
        ({"kind": CA, "target": NAN}, "positive target"),
        ({"kind": RG, "target": 105, "target_upper": 95}, "lower <= upper"),
        ({"kind": RG, "target": 95}, "target_upper"),
        ({"kind": MP, "target": 0}, "non-zero"),
        ({"kind": MP, "target": -100}, "non-zero"),
        ({"kind": R, "target": 105, "made_at": datetime(2025, 3, 3)}, "timezone-aware"),  # noqa: DTZ001
        ({"kind": "nonsense"}, "nonsense"),
    ],
)
def test_claim_validation(kwargs, message) -> None:
    kwargs = {"made_at": MADE, **kwargs}
    with pytest.raises(ValueError, match=message):
        Claim(**kwargs)


def test_claim_coerces_strings_and_numbers() -> None:
    c = Claim(kind="reach", target=23200, basis="intraday", made_at=MADE)
    assert c.kind is Kind.REACH
    assert c.basis is Basis.INTRADAY
    assert isinstance(c.target, float)


def test_naive_as_of_is_rejected() -> None:
    with pytest.raises(ValueError, match="as_of"):
        score(claim(R, 105), make_bars([]), CAL, as_of=datetime(2025, 6, 1))  # noqa: DTZ001


def test_result_is_frozen_and_versioned() -> None:
    result = score(claim(R, 105), make_bars([106]), CAL, as_of=LATE)
    assert result.scorer_version == SCORER_VERSION
    with pytest.raises(AttributeError):
        result.status = Status.MISS  # type: ignore[misc]


# --------------------------------------------------------------------------------------------- splits
SPLIT = (Split(W[2], 10.0),)  # 10-for-1, ex on Wednesday 3/5


@pytest.mark.parametrize(
    ("kind", "target", "closes", "splits", "status", "at"),
    [
        # NVDA-style: a $1,100 target means $110 after a 10-for-1 split
        pytest.param(
            R, 1100, [1050, 1090, 105, 111, 100], SPLIT, "hit", 3, id="reach: 1,100 -> 110 after split"
        ),
        pytest.param(R, 1100, [1050, 1090, 105, 109, 100], SPLIT, "miss", 4, id="reach: 109 is not 1,100"),
        pytest.param(R, 1100, [1050, 1090, 105, 111, 100], (), "miss", 4, id="reach: no split given -> raw"),
        pytest.param(R, 900, [950, 920, 95, 89, 100], SPLIT, "hit", 3, id="reach down: 900 -> 90"),
        pytest.param(R, 900, [950, 920, 95, 91, 100], SPLIT, "miss", 4, id="reach down: split is not a fall"),
        pytest.param(MP, 10, [1050, 1090, 105, 111, 100], SPLIT, "hit", 3, id="move_pct: T 1,100 -> 110"),
        pytest.param(CA, 1100, [1, 1, 1, 1, 112], SPLIT, "hit", 4, id="close_above adjusted"),
        pytest.param(CB, 1100, [1, 1, 1, 1, 112], SPLIT, "miss", 4, id="close_below adjusted"),
        pytest.param(RG, 1000, [1, 1, 1, 1, 105], SPLIT, "hit", 4, id="range adjusted"),
        pytest.param(DU, None, [1, 1, 1, 1, 100.5], SPLIT, "hit", 4, id="direction_up vs baseline / 10"),
        pytest.param(DU, None, [1, 1, 1, 1, 99.5], SPLIT, "miss", 4, id="direction_up: split is no fall"),
        pytest.param(DD, None, [1, 1, 1, 1, 99.5], SPLIT, "hit", 4, id="direction_down vs baseline / 10"),
        pytest.param(
            R,
            1100,
            [1050, 1090, 105, 111, 100],
            (Split(date(2025, 2, 1), 10.0),),
            "miss",
            4,
            id="old split ignored",
        ),
        pytest.param(
            R,
            1100,
            [1050, 1090, 105, 111, 100],
            (Split(date(2025, 4, 1), 10.0),),
            "miss",
            4,
            id="later split ignored",
        ),
    ],
)
def test_splits(kind, target, closes, splits, status, at) -> None:
    upper = 1200 if kind is RG else None
    result = score(
        claim(kind, target, upper), make_bars(closes, baseline=1000.0), CAL, as_of=LATE, splits=splits
    )
    assert result.status == Status(status), result.note
    assert result.resolved_on == W[at]
    assert result.resolution_price == closes[at]  # raw price


def test_split_note_and_return() -> None:
    result = score(
        claim(R, 1100), make_bars([1050, 1090, 105, 111, 100], baseline=1000.0), CAL, as_of=LATE, splits=SPLIT
    )
    assert result.note == f"closed at 111 ≥ 110 (split-adjusted from 1,100) on {W[3].isoformat()}"
    assert result.window_return == pytest.approx(0.0)  # 100 * 10 / 1000 - 1


def test_split_ex_on_the_session_in_progress_at_made_at() -> None:
    # Made at noon on 3/3, the ex-date of a 2-for-1 split: the strategist saw post-split quotes, so the
    # target 55 is in post-split prices and the pre-split baseline 100 is 50 in those terms.
    made = utc(2025, 3, 3, 12)
    result = score(
        claim(R, 55, made_at=made, deadline=W[4]),
        make_bars([None, 54, 56], baseline=100.0),
        CAL,
        as_of=LATE,
        splits=(Split(W[0], 2.0),),
    )
    assert result.first_session == W[1]
    assert result.direction == "up"
    assert (result.status, result.resolved_on) == (Status.HIT, W[2])
    assert result.baseline == 100.0  # reported raw


def test_split_ratio_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Split(date(2025, 1, 1), 0.0)


# --------------------------------------------------------------------------------- default horizon
@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 2, 14), 12, date(2026, 2, 14)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 3, 31), 6, date(2025, 9, 30)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 12, 31), 12, date(2026, 12, 31)),
    ],
)
def test_add_months(start, months, expected) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("made_at", "expected"),
    [
        pytest.param(datetime(2025, 2, 15, tzinfo=HK), date(2026, 2, 14), id="date-only 2025-02-14"),
        pytest.param(datetime(2025, 2, 14, 13, 33, tzinfo=HK), date(2026, 2, 14), id="13:33 HKT"),
        pytest.param(utc(2025, 2, 14, 20, 0), date(2026, 2, 15), id="20:00 UTC is the 15th in HK"),
        pytest.param(datetime(2024, 3, 1, tzinfo=HK), date(2025, 2, 28), id="date-only Feb 29"),
        pytest.param(datetime(2024, 2, 29, 10, 0, tzinfo=HK), date(2025, 2, 28), id="Feb 29 intraday"),
    ],
)
def test_default_deadline(made_at, expected) -> None:
    assert default_deadline(made_at, HK) == expected
    assert DEFAULT_HORIZON_MONTHS == 12


def test_score_applies_the_default_horizon() -> None:
    result = score(claim(CA, 105, deadline=None), make_bars([101]), CAL, as_of=LATE)
    assert (result.deadline, result.deadline_defaulted) == (date(2026, 3, 2), True)  # made on Sunday 3/2
    assert result.last_session == date(2026, 3, 2)
    six = score(claim(CA, 105, deadline=None), make_bars([101]), CAL, as_of=LATE, default_horizon_months=6)
    assert six.deadline == date(2025, 9, 2)
    stated = score(claim(CA, 105), make_bars([101]), CAL, as_of=LATE)
    assert stated.deadline_defaulted is False


# ------------------------------------------------------------------------------------------ difficulty
A = 0.01


def alternating(n_closes: int, a: float = A, base: float = 100.0) -> list[float]:
    """Closes whose log returns alternate +a, -a, ... ending back at ``base`` when n_closes is odd."""
    steps = np.array([0.0] + [a if i % 2 == 0 else -a for i in range(n_closes - 1)])
    return list(base * np.exp(np.cumsum(steps)))


SIGMA = A * math.sqrt(252 / 251)  # 252 returns of +-a, mean 0, ddof=1
S5 = SIGMA * math.sqrt(5)  # five window sessions


@pytest.mark.parametrize(
    ("kind", "basis", "target", "upper", "expected"),
    [
        # T chosen so that ln(T/baseline) = s: b/s = 1
        pytest.param(R, IN, 100 * math.exp(S5), None, 0.31731050786291415, id="reach intraday 2(1-Phi(1))"),
        pytest.param(R, IN, 100 * math.exp(-S5), None, 0.31731050786291415, id="reach intraday down"),
        pytest.param(
            R, C, 100 * math.exp(S5), None, 2 * (1 - PHI(1 + BGK_BETA / math.sqrt(5))), id="reach close BGK"
        ),
        pytest.param(R, IN, 100.0, None, 1.0, id="reach at baseline: capped at 1"),
        pytest.param(MP, IN, (math.exp(S5) - 1) * 100, None, 0.31731050786291415, id="move_pct as reach"),
        pytest.param(CA, C, 100 * math.exp(S5), None, 0.15865525393145707, id="close_above 1-Phi(1)"),
        pytest.param(CA, C, 100.0, None, 0.5, id="close_above at baseline"),
        pytest.param(CB, C, 100 * math.exp(S5), None, 0.8413447460685429, id="close_below Phi(1)"),
        pytest.param(
            RG, C, 100 * math.exp(-S5), 100 * math.exp(S5), 0.6826894921370859, id="range Phi(1)-Phi(-1)"
        ),
        pytest.param(DU, C, None, None, 0.5, id="direction_up"),
        pytest.param(DD, C, None, None, 0.5, id="direction_down"),
    ],
)
def test_difficulty(kind, basis, target, upper, expected) -> None:
    result = score(
        claim(kind, target, upper, basis), make_bars([], history=alternating(253)), CAL, as_of=LATE
    )
    if kind not in (DU, DD):
        assert result.sigma == pytest.approx(SIGMA, rel=1e-12)
    assert result.difficulty == pytest.approx(expected, rel=1e-9)
    assert result.boldness == pytest.approx(1 - expected, rel=1e-9)
    assert result.skill is None  # pending


def test_difficulty_uses_at_most_253_closes() -> None:
    wild = list(100 * np.exp(np.cumsum(np.tile([0.2, -0.2], 74))))  # 148 wild closes, then the clean ones
    result = score(claim(CA, 100.0), make_bars([], history=wild + alternating(253)), CAL, as_of=LATE)
    assert result.sigma == pytest.approx(SIGMA, rel=1e-12)


@pytest.mark.parametrize(
    ("n_closes", "known"),
    [(2, False), (60, False), (61, True), (253, True)],
)
def test_difficulty_needs_60_returns(n_closes, known) -> None:
    result = score(claim(CA, 105), make_bars([101] * 5, history=alternating(n_closes)), CAL, as_of=LATE)
    assert result.status is Status.MISS
    assert (result.difficulty is not None) is known
    assert (result.skill is not None) is known


def test_direction_difficulty_needs_no_history() -> None:
    result = score(claim(DU), make_bars([101] * 5), CAL, as_of=LATE)
    assert (result.status, result.difficulty, result.skill, result.boldness) == (Status.HIT, 0.5, 0.5, 0.5)


def test_volatility_skips_missing_closes() -> None:
    history = alternating(253)
    history[100] = None  # no row: the return spans the gap
    history[150] = NAN
    result = score(claim(CA, 105), make_bars([], history=history), CAL, as_of=LATE)
    available = [c for c in history if c is not None and not math.isnan(c)]
    assert result.sigma == pytest.approx(float(np.std(np.diff(np.log(available)), ddof=1)), rel=1e-12)


def test_volatility_split_is_not_a_return() -> None:
    history = alternating(253)
    ex = CAL.sessions_array(date(2024, 1, 1), BASE_DAY)[-100].astype(object)
    raw = [c * 10 for c in history[:-100]] + history[-100:]  # pre-split quotes were 10x
    split = (Split(ex, 10.0),)
    result = score(claim(CA, 105), make_bars([], history=raw), CAL, as_of=LATE, splits=split)
    assert result.sigma == pytest.approx(SIGMA, rel=1e-12)
    unadjusted = score(claim(CA, 105), make_bars([], history=raw), CAL, as_of=LATE)
    assert unadjusted.sigma > 10 * SIGMA


def test_zero_volatility_gives_unknown_difficulty() -> None:
    result = score(claim(CA, 105), make_bars([], history=[100.0] * 100), CAL, as_of=LATE)
    assert result.sigma == 0.0
    assert result.difficulty is None


@pytest.mark.parametrize(
    ("closes", "status", "skill"),
    [
        pytest.param(
            [101, 101, 101, 101, 100 * math.exp(S5)], "hit", 1 - 0.15865525393145707, id="hit: 1 - p"
        ),
        pytest.param([101, 101, 101, 101, 101], "miss", -0.15865525393145707, id="miss: -p"),
    ],
)
def test_skill(closes, status, skill) -> None:
    t = 100 * math.exp(S5)
    result = score(claim(CA, t), make_bars(closes, history=alternating(253)), CAL, as_of=LATE)
    assert result.status == Status(status)
    assert result.skill == pytest.approx(skill, rel=1e-9)


def test_pure_helpers() -> None:
    assert log_return_sigma([100.0]) == (None, 0)
    sigma, n = log_return_sigma(alternating(300))
    assert n == 252
    assert sigma == pytest.approx(SIGMA)
    assert random_walk_probability(Kind.MANUAL, C, baseline=100, sigma=0.01, sessions=5) is None
    assert random_walk_probability(CA, C, baseline=100, sigma=None, sessions=5, target=105) is None


# ------------------------------------------------------------------------------ real calendar: XHKG
XHKG = get_calendar("XHKG")


@pytest.fixture(scope="module")
def hsi() -> pd.DataFrame:
    return pd.read_csv(DATA / "HSI.csv", index_col="date", parse_dates=["date"])


SEED = Claim(kind=Kind.REACH, target=23200, basis=Basis.CLOSE, made_at=datetime(2025, 2, 15, tzinfo=HK))


def test_seed_article(hsi: pd.DataFrame) -> None:
    """Alvin Ngan, China Daily HK, Fri 2025-02-14 after the close: HSI could reclaim ~23,200."""
    result = score(SEED, hsi, XHKG, as_of=datetime(2026, 11, 1, tzinfo=HK))
    assert result.status is Status.HIT
    assert result.resolved_on == date(2025, 2, 21)
    assert result.resolution_price == 23477.92
    assert (result.baseline, result.baseline_date) == (22620.33, date(2025, 2, 14))
    assert result.first_session == date(2025, 2, 17)
    assert (result.deadline, result.deadline_defaulted) == (date(2026, 2, 14), True)
    assert result.last_session == date(2026, 2, 13)
    assert result.sessions_in_window == XHKG.count_sessions(date(2025, 2, 17), date(2026, 2, 13)) == 248
    assert result.note == "closed at 23,477.92 ≥ 23,200 on 2025-02-21"
    assert result.direction == "up"
    # difficulty, recomputed independently from the CSV
    closes = hsi.loc[:"2025-02-14", "close"].dropna().to_numpy()[-253:]
    sigma = float(np.std(np.diff(np.log(closes)), ddof=1))
    s = sigma * math.sqrt(248)
    b = abs(math.log(23200 / 22620.33)) + BGK_BETA * sigma
    p = 2 * (1 - PHI(b / s))
    assert result.sigma == pytest.approx(sigma, rel=1e-12)
    assert result.difficulty == pytest.approx(p, rel=1e-9)
    assert result.difficulty == pytest.approx(0.889, abs=0.001)
    assert result.skill == pytest.approx(1 - p, rel=1e-9)


@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        pytest.param(datetime(2025, 2, 20, 16, 0, tzinfo=HK), Status.PENDING, id="day before"),
        pytest.param(datetime(2025, 2, 21, 15, 59, tzinfo=HK), Status.PENDING, id="hit day, still trading"),
        pytest.param(datetime(2025, 2, 21, 16, 0, tzinfo=HK), Status.HIT, id="hit day, at the close"),
    ],
)
def test_seed_as_of(hsi: pd.DataFrame, as_of: datetime, status: Status) -> None:
    assert score(SEED, hsi, XHKG, as_of=as_of).status is status


@pytest.mark.parametrize(
    ("made_at", "baseline_date", "baseline", "first"),
    [
        pytest.param(
            datetime(2025, 2, 14, 13, 33, tzinfo=HK),
            date(2025, 2, 13),
            21814.37,
            date(2025, 2, 17),
            id="13:33 HKT on a trading day: previous close, window from the next day",
        ),
        pytest.param(
            datetime(2025, 2, 14, 9, 0, tzinfo=HK),
            date(2025, 2, 13),
            21814.37,
            date(2025, 2, 14),
            id="before the open: that day is in the window",
        ),
        pytest.param(
            datetime(2025, 1, 28, 12, 30, tzinfo=HK),
            date(2025, 1, 28),
            None,
            date(2025, 2, 3),
            id="after the 12:00 half-day close: that day is the baseline",
        ),
        pytest.param(
            datetime(2025, 1, 28, 11, 0, tzinfo=HK),
            date(2025, 1, 27),
            None,
            date(2025, 2, 3),
            id="during the half day: neither",
        ),
    ],
)
def test_made_at_on_xhkg(hsi, made_at, baseline_date, baseline, first) -> None:
    result = score(
        Claim(kind=Kind.REACH, target=30000, made_at=made_at),
        hsi,
        XHKG,
        as_of=datetime(2026, 1, 1, tzinfo=HK),
    )
    assert result.baseline_date == baseline_date
    assert result.first_session == first
    if baseline is not None:
        assert result.baseline == baseline
    else:
        assert result.baseline == hsi.loc[pd.Timestamp(baseline_date), "close"]


def test_half_day_completes_at_its_early_close(hsi: pd.DataFrame) -> None:
    made = datetime(2025, 1, 27, 16, 0, tzinfo=HK)
    c = Claim(kind=Kind.DIRECTION_UP, made_at=made, deadline=date(2025, 1, 28))
    at_noon = score(c, hsi, XHKG, as_of=datetime(2025, 1, 28, 12, 0, tzinfo=HK))
    assert at_noon.status in (Status.HIT, Status.MISS)
    assert at_noon.resolved_on == date(2025, 1, 28)
    assert score(c, hsi, XHKG, as_of=datetime(2025, 1, 28, 11, 59, tzinfo=HK)).status is Status.PENDING


def test_bars_on_non_sessions_are_ignored() -> None:
    bars = make_bars([101, 102, 103, 104, 98])
    saturday = pd.DataFrame(
        {"close": [200.0], "high": [200.0], "low": [200.0]}, index=pd.DatetimeIndex(["2025-03-08"])
    )
    bars = pd.concat([bars, saturday]).sort_index()
    result = score(claim(R, 105, deadline=date(2025, 3, 10)), bars, CAL, as_of=AWAIT)
    assert result.status is Status.PENDING  # 3/10 still missing; the Saturday bar is no session
    assert result.missing_sessions == (date(2025, 3, 10),)


def test_bars_index_validation() -> None:
    bars = make_bars([101])
    with pytest.raises(ValueError, match="sorted"):
        score(claim(R, 105), bars.iloc[::-1], CAL, as_of=LATE)
    with pytest.raises(TypeError):
        score(claim(R, 105), bars.reset_index(), CAL, as_of=LATE)


# ---------------------------------------------------------------------------------------- properties
KINDS = st.sampled_from([(R, 104.0), (R, 96.0), (MP, 3.0), (CA, 101.0), (CB, 99.0), (DU, None), (DD, None)])
PRICE = st.one_of(st.floats(90, 110), st.just(NAN), st.none())


def _score_all(kind_target, basis, closes, as_of) -> ScoreResult:
    kind, target = kind_target
    return score(claim(kind, target, basis=basis, deadline=W[9]), make_bars(closes), CAL, as_of=as_of)


@settings(max_examples=150, deadline=None)
@given(
    kind_target=KINDS,
    basis=st.sampled_from([C, IN]),
    closes=st.lists(PRICE, min_size=1, max_size=20),
    k=st.integers(0, 19),
)
def test_bars_after_as_of_do_not_matter(kind_target, basis, closes, k) -> None:
    as_of = after(k)
    full = _score_all(kind_target, basis, closes, as_of)
    truncated = _score_all(kind_target, basis, closes[: k + 1], as_of)
    assert full == truncated


@settings(max_examples=150, deadline=None)
@given(
    kind_target=KINDS,
    basis=st.sampled_from([C, IN]),
    closes=st.lists(PRICE, min_size=1, max_size=20),
    k=st.integers(0, 19),
    later=st.integers(0, 19),
)
def test_decided_results_are_final(kind_target, basis, closes, k, later) -> None:
    early = _score_all(kind_target, basis, closes, after(k))
    late = _score_all(kind_target, basis, closes, after(max(k, later)))
    if early.status in (Status.HIT, Status.MISS):
        assert (late.status, late.resolved_on, late.resolution_price) == (
            early.status,
            early.resolved_on,
            early.resolution_price,
        )


@settings(max_examples=150, deadline=None)
@given(kind_target=KINDS, basis=st.sampled_from([C, IN]), closes=st.lists(PRICE, min_size=10, max_size=20))
def test_a_gap_never_becomes_a_miss_and_filling_it_keeps_decisions(kind_target, basis, closes) -> None:
    result = _score_all(kind_target, basis, closes, LATE)
    if result.status is Status.MISS and kind_target[0] in (R, MP):
        assert not result.missing_sessions
    # Filling gaps can only turn pending into decided; a hit or miss decided on present bars stays.
    filled = _score_all(kind_target, basis, [100.0 if c is None else c for c in closes], LATE)
    if result.status in (Status.HIT, Status.MISS):
        assert filled.status is result.status
