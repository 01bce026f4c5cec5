"""Score many forecasts on one instrument at once: the vectorised twin of ``forecasts.scoring.single.score``.

Pure module: no Django, no I/O, no clock. ``score_many(claims, bars, calendar, as_of=...)`` returns, for
each claim, the very ``ScoreResult`` that ``single.score`` would return (every field, the note's text
included; difficulty, skill and boldness are computed by the same scalar code, so they are equal, not just
close). ``tests/forecasts/scoring/test_bulk.py`` checks that with hypothesis on random bars, claims,
splits and instants.

How it stays near the cost of reading the data once (numbers in BENCHMARKS.md):
- the bars are aligned once onto the calendar's session array (NaN where there is no bar, or the session
  has not closed at ``as_of``), so every later lookup is an integer index;
- per claim, the baseline, first and last window sessions are ``searchsorted`` on the calendar's close /
  open / day arrays, for all claims in one call each;
- ``reach`` / ``move_pct`` decide on a (claims x complete window sessions) gather matrix: the first hit and
  the first session lacking data are ``argmax`` over boolean masks, row by row;
- the last-session kinds are direct lookups at the last window session;
- sigma is computed once per distinct baseline, with the same arithmetic as the pure scorer (log of the
  same closes, ``np.diff``, ``np.std(ddof=1)`` along the contiguous axis, which numpy sums pairwise exactly
  as it does for a 1-D slice), so difficulty matches bit for bit;
- splits are applied in the same order, with the same multiplications, as the pure scorer.

What is not vectorised: ``outperform`` (needs instrument B; scored by the pure scorer per claim), claims
the pure scorer rejects (made before the calendar's first session, a deadline past the calendar's end:
they go through the pure scorer, which raises the same error), and calendars that do not expose their
session arrays (anything but ``marketdata.calendars.TradingCalendar``): all claims then go through the
pure scorer. Notes and the shared decisions (automatic voids, skill, boldness, the last-close rule) come from
``forecasts.scoring.rules``, the rulebook both scorers use; nothing here restates a rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from forecasts.scoring import single
from forecasts.scoring.difficulty import log_return_sigma, random_walk_probability
from forecasts.scoring.rules import (
    DEFAULT_HORIZON_MONTHS,
    HISTORY_SCAN,
    MIN_RETURNS,
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
    automatic_void,
    boldness_of,
    default_deadline,
    judge_last_close,
    note_awaiting,
    note_last_close,
    note_last_session_pending,
    note_manual,
    note_never_touched,
    note_no_session,
    note_not_yet_made,
    note_touch_pending,
    note_touched,
    skill_of,
    touch_level,
)

__all__ = ["Other", "score_many"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
#: Cells of one gather matrix (claims x window sessions); bounds memory per chunk (~8 bytes a cell, x6).
_MATRIX_CELLS = 1 << 21

_CODE = {
    Kind.REACH: 0,
    Kind.MOVE_PCT: 1,
    Kind.CLOSE_ABOVE: 2,
    Kind.CLOSE_BELOW: 3,
    Kind.RANGE: 4,
    Kind.DIRECTION_UP: 5,
    Kind.DIRECTION_DOWN: 6,
    Kind.OUTPERFORM: 7,
    Kind.MANUAL: 8,
}
_REACH, _MOVE, _CA, _CB, _RANGE, _DU, _DD, _OUT, _MANUAL = range(9)


@dataclass(frozen=True, slots=True)
class Other:
    """Instrument B of an ``outperform`` claim: what ``single.score`` takes as ``other_*``."""

    bars: pd.DataFrame
    calendar: SessionCalendar
    splits: Sequence[Split] = ()


# ------------------------------------------------------------------------------------------ calendar


class _CalendarArrays:
    __slots__ = ("closes", "day_objects", "days", "last_day", "n", "opens")

    def __init__(self, days: np.ndarray, opens: np.ndarray, closes: np.ndarray, last_day: date) -> None:
        self.days = np.asarray(days, dtype="datetime64[D]")
        self.opens = np.asarray(opens, dtype="datetime64[ns]").astype(np.int64)
        self.closes = np.asarray(closes, dtype="datetime64[ns]").astype(np.int64)
        self.day_objects: list[date] = self.days.astype(object).tolist()
        self.last_day = np.datetime64(last_day, "D")
        self.n = len(self.days)


# A decision as the bulk scorer builds it: (status, note, resolved_on, price, missing).
_Outcome = tuple[Status, str, date | None, float | None, tuple[date, ...]]

_CALENDAR_CACHE: dict[int, tuple[SessionCalendar, _CalendarArrays]] = {}


def _calendar_arrays(calendar: SessionCalendar) -> _CalendarArrays | None:
    """The session, open and close arrays of a TradingCalendar (cached per calendar object); None for
    other calendars, which are then scored by the pure scorer."""
    cached = _CALENDAR_CACHE.get(id(calendar))
    if cached is not None and cached[0] is calendar:
        return cached[1]
    trading: Any = calendar  # duck-typed: a TradingCalendar's arrays; other calendars raise AttributeError
    try:
        days = trading.sessions
        opens = getattr(trading, "opens", None)
        opens = trading._opens if opens is None else opens
        closes = getattr(trading, "closes", None)
        closes = trading._closes if closes is None else closes
        last_day = trading.last_date
    except AttributeError:
        return None
    arrays = _CalendarArrays(days, opens, closes, last_day)
    if len(_CALENDAR_CACHE) >= 32:
        _CALENDAR_CACHE.clear()
    _CALENDAR_CACHE[id(calendar)] = (calendar, arrays)
    return arrays


# ---------------------------------------------------------------------------------------------- bars


class _Aligned:
    """Bars on the calendar's sessions (visible only through ``as_of``), plus the bar rows the
    volatility history scans (the pure scorer scans bar rows, not sessions)."""

    __slots__ = (
        "close",
        "high",
        "low",
        "row_ns",
        "row_valid",
        "valid_closes",
        "valid_log_returns",
        "valid_prefix",
    )

    def __init__(self, bars: pd.DataFrame, cal: _CalendarArrays, complete_index: int) -> None:
        index = bars.index
        if not isinstance(index, pd.DatetimeIndex):
            raise TypeError("bars must be indexed by a DatetimeIndex of session dates")
        if index.tz is not None:
            raise ValueError("bars index must be naive session dates, not timezone-aware instants")
        if not (index.is_monotonic_increasing and index.is_unique):
            raise ValueError("bars index must be sorted and unique")
        if "close" not in bars.columns:
            raise ValueError("bars need a 'close' column")
        row_ns = index.to_numpy().astype("datetime64[ns]")
        visible_end = 0
        if complete_index >= 0:
            through = cal.days[complete_index].astype("datetime64[ns]")
            visible_end = int(np.searchsorted(row_ns, through, "right"))
        row_ns = row_ns[:visible_end]
        close = _column(bars, "close", visible_end)
        high = _column(bars, "high", visible_end)
        low = _column(bars, "low", visible_end)
        row_day = row_ns.astype("datetime64[D]")
        pos = np.searchsorted(cal.days, row_day)
        on_day = pos < cal.n
        on_day[on_day] = cal.days[pos[on_day]] == row_day[on_day]
        # A bar stamped at 12:00 is no session's bar for decisions, but the pure scorer's volatility
        # history compares dates only (floored), so it counts there: keep both.
        on = on_day & (row_day.astype("datetime64[ns]") == row_ns)
        # one spare slot at the end: index cal.n reads NaN
        self.close = np.full(cal.n + 1, np.nan)
        self.high = np.full(cal.n + 1, np.nan)
        self.low = np.full(cal.n + 1, np.nan)
        self.close[pos[on]] = close[on]
        self.high[pos[on]] = high[on]
        self.low[pos[on]] = low[on]
        self.row_ns = row_ns
        self.row_valid = on_day & ~np.isnan(close)
        self.valid_closes = close[self.row_valid]
        self.valid_prefix = np.concatenate(([0], np.cumsum(self.row_valid)))
        # log of the same closes, elementwise: the very values the pure scorer's slices give
        self.valid_log_returns = (
            np.diff(np.log(self.valid_closes)) if len(self.valid_closes) > 1 else np.empty(0)
        )


def _column(bars: pd.DataFrame, name: str, n: int) -> np.ndarray:
    if name not in bars.columns:
        return np.full(n, np.nan)
    return bars[name].to_numpy(dtype=float, na_value=np.nan)[:n]


def _sigmas(
    aligned: _Aligned, cal: _CalendarArrays, baseline_index: np.ndarray, splits: Sequence[Split]
) -> dict[int, float | None]:
    """sigma (as ``log_return_sigma`` of ``_Bars.history``) per distinct baseline session."""
    out: dict[int, float | None] = {}
    distinct = np.unique(baseline_index)
    if not len(distinct):
        return out
    through_ns = cal.days[distinct].astype("datetime64[ns]")
    end_row = np.searchsorted(aligned.row_ns, through_ns, "right")
    start_row = np.maximum(0, end_row - HISTORY_SCAN)
    valid_end = aligned.valid_prefix[end_row]
    count = np.minimum(VOLATILITY_CLOSES, valid_end - aligned.valid_prefix[start_row])
    split_days = [np.datetime64(s.ex_date, "D") for s in splits]
    adjusted = np.array(
        [any(ex <= cal.days[b] for ex in split_days) for b in distinct]
        if split_days
        else [False] * len(distinct)
    )
    for k in np.unique(count):
        rows = (count == k) & ~adjusted
        if not rows.any():
            continue
        if k - 1 < MIN_RETURNS:
            out.update(dict.fromkeys(distinct[rows].tolist()))
            continue
        first_return = valid_end[rows] - k
        matrix = aligned.valid_log_returns[first_return[:, None] + np.arange(k - 1)]
        sig = np.std(matrix, axis=1, ddof=1)
        out.update(zip(distinct[rows].tolist(), sig.tolist(), strict=True))
    # Splits on or before the baseline: the adjusted closes depend on the baseline; as the pure scorer.
    for j in np.flatnonzero(adjusted):
        b = int(distinct[j])
        lo_row, hi_row = int(start_row[j]), int(end_row[j])
        keep = aligned.row_valid[lo_row:hi_row]
        days = aligned.row_ns[lo_row:hi_row][keep].astype("datetime64[D]")[-VOLATILITY_CLOSES:]
        first_valid = int(aligned.valid_prefix[lo_row])
        closes = aligned.valid_closes[first_valid : first_valid + int(keep.sum())][-VOLATILITY_CLOSES:].copy()
        through = cal.days[b]
        for split, ex in zip(splits, split_days, strict=True):
            if ex <= through:
                closes[days < ex] /= split.ratio
        out[b] = log_return_sigma(closes)[0]
    return out


def _cum(splits: Sequence[Split], first_day: np.ndarray, session_day: np.ndarray) -> np.ndarray:
    """Cumulative split ratio at ``session_day`` for windows starting ``first_day`` (broadcast), with
    the pure scorer's multiplications in its order."""
    shape = np.broadcast_shapes(first_day.shape, session_day.shape)
    cum = np.ones(shape)
    for split in splits:
        ex = np.datetime64(split.ex_date, "D")
        cum[(ex >= first_day) & (session_day >= ex)] *= split.ratio
    return cum


# --------------------------------------------------------------------------------------------- score


def score_many(
    claims: Sequence[Claim],
    bars: pd.DataFrame,
    calendar: SessionCalendar,
    *,
    as_of: datetime,
    splits: Sequence[Split] = (),
    trading_ended_on: date | None = None,
    others: Sequence[Other | None] | None = None,
    default_horizon_months: int = DEFAULT_HORIZON_MONTHS,
) -> list[ScoreResult]:
    """``[single.score(c, bars, calendar, as_of=as_of, splits=splits, ...) for c in claims]``, fast.

    ``bars``, ``calendar``, ``splits``, ``trading_ended_on``: one instrument's, as for ``single.score``.
    ``others[i]``: instrument B of claims[i] when it is an ``outperform`` (scored by the pure scorer).
    Raises what ``single.score`` raises (naive ``as_of``, bad bars index, outperform without B, a deadline
    past the calendar's range, made_at before the calendar's first session).
    """
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must be a timezone-aware datetime")
    n_claims = len(claims)
    if others is not None and len(others) != n_claims:
        raise ValueError("others must have one entry per claim")
    cal = _calendar_arrays(calendar)
    if cal is None:
        return [
            _pure(c, bars, calendar, as_of, splits, trading_ended_on, others, i, default_horizon_months)
            for i, c in enumerate(claims)
        ]
    results: list[ScoreResult | None] = [None] * n_claims
    if not n_claims:
        _Aligned(bars, cal, -1)  # same input validation as the pure scorer
        return []

    # ---- claims as columns (the one per-claim Python pass on the way in)
    tz = calendar.tz
    code = np.empty(n_claims, dtype=np.int8)
    made_us = np.empty(n_claims, dtype=np.int64)
    deadlines: list[date] = [None] * n_claims  # type: ignore[list-item]
    defaulted = np.zeros(n_claims, dtype=bool)
    default_cache: dict[datetime, date] = {}
    for i, claim in enumerate(claims):
        code[i] = _CODE[claim.kind]
        made_us[i] = (claim.made_at - _EPOCH) // _US
        if claim.deadline is None:
            d = default_cache.get(claim.made_at)
            if d is None:
                d = default_cache[claim.made_at] = default_deadline(claim.made_at, tz, default_horizon_months)
            deadlines[i], defaulted[i] = d, True
        else:
            deadlines[i] = claim.deadline
    made_ns = made_us * 1000
    deadline_day = np.array(deadlines, dtype="datetime64[D]")
    as_of_ns = ((as_of - _EPOCH) // _US) * 1000

    # ---- frames: baseline, first, last, complete
    N = cal.n
    ci = int(np.searchsorted(cal.closes, as_of_ns, "right")) - 1  # last complete session, -1 if none
    bi = np.searchsorted(cal.closes, made_ns, "right") - 1
    fi = np.searchsorted(cal.opens, made_ns, "left")
    li = np.searchsorted(cal.days, deadline_day, "right") - 1
    # made before the calendar, deadline past its range, outperform: the pure scorer (raises or scores B)
    fallback = (bi < 0) | (deadline_day > cal.last_day) | (code == _OUT)
    first_none = fi >= N
    empty = first_none | (li < 0) | (fi > li)
    n_win = np.where(empty, 0, li - fi + 1)
    complete = np.where(empty, 0, np.clip(ci - fi + 1, 0, n_win))
    fi_c = np.minimum(fi, N - 1)
    li_c = np.maximum(li, 0)
    bi_c = np.maximum(bi, 0)

    aligned = _Aligned(bars, cal, ci)
    base_raw = aligned.close[bi_c]  # NaN when missing or not complete at as_of
    has_base = ~np.isnan(base_raw) & ~fallback

    baseline_day = cal.days[bi_c]
    first_day = cal.days[fi_c]
    pre = np.ones(n_claims)
    for split in splits:
        ex = np.datetime64(split.ex_date, "D")
        pre[(ex > baseline_day) & (first_none | (ex < first_day))] *= split.ratio
    base = base_raw / pre  # made_at prices
    last_day = cal.days[li_c]
    cum_last = _cum(splits, first_day, last_day) if splits else np.ones(n_claims)
    last_close = aligned.close[np.where(empty, N, li_c)]
    is_complete = ~empty & (complete == n_win)
    with np.errstate(invalid="ignore"):
        window_return = last_close * cum_last / base - 1.0
    window_return_ok = has_base & is_complete & ~np.isnan(last_close)

    not_yet = made_ns > as_of_ns
    live = ~fallback & ~not_yet & (code != _MANUAL) & ~empty  # reaches the decision
    coin = (code == _DU) | (code == _DD)
    needs_sigma = live & has_base & ~coin
    sigma_of = _sigmas(aligned, cal, bi_c[needs_sigma], splits)

    # ---- reach / move_pct on the gather matrix
    touch = live & ((code == _REACH) | (code == _MOVE))
    touch_hit = touch & has_base
    target_price = np.full(n_claims, np.nan)
    up = np.zeros(n_claims, dtype=bool)
    targets = np.array([np.nan if c.target is None else c.target for c in claims])
    reach_like = (code == _REACH) | (code == _CA) | (code == _CB)
    target_price[reach_like] = targets[reach_like]
    move = code == _MOVE
    target_price[move] = base[move] * (100.0 + targets[move]) / 100.0
    up[move] = targets[move] > 0
    up[code == _REACH] = target_price[code == _REACH] >= base[code == _REACH]
    intraday = np.array([c.basis is Basis.INTRADAY for c in claims])
    touch_out = _touch(
        np.flatnonzero(touch_hit), aligned, cal, splits, fi_c, complete, target_price, up, intraday, n_win
    )

    # ---- assemble, one claim at a time (notes are text); Python lists index ~5x faster than arrays
    cutoff = li_c + VOID_AFTER_SESSIONS
    cutoff_passed = (cutoff < N) & (cal.closes[np.minimum(cutoff, N - 1)] <= as_of_ns)
    (fallback, n_win, base_raw, has_base, base, bi, fi, li, empty, not_yet, defaulted, reach_like) = (
        a.tolist()
        for a in (
            fallback,
            n_win,
            base_raw,
            has_base,
            base,
            bi,
            fi,
            li,
            empty,
            not_yet,
            defaulted,
            reach_like,
        )
    )
    (
        target_price,
        up,
        coin,
        complete,
        last_close,
        cum_last,
        window_return,
        window_return_ok,
        cutoff_passed,
    ) = (  # type: ignore[assignment]  # deliberately rebound: arrays -> lists for the per-claim loop
        a.tolist()
        for a in (
            target_price,
            up,
            coin,
            complete,
            last_close,
            cum_last,
            window_return,
            window_return_ok,
            cutoff_passed,
        )
    )
    days = cal.day_objects
    complete_through = days[ci] if ci >= 0 else None
    for i in range(n_claims):
        claim = claims[i]
        if fallback[i]:
            results[i] = _pure(
                claim, bars, calendar, as_of, splits, trading_ended_on, others, i, default_horizon_months
            )
            continue
        n = int(n_win[i])
        raw = float(base_raw[i]) if has_base[i] else None
        common = {
            "baseline": raw,
            "baseline_date": days[bi[i]],
            "first_session": None if empty[i] else days[fi[i]],
            "last_session": None if empty[i] else days[li[i]],
            "deadline": deadlines[i],
            "deadline_defaulted": bool(defaulted[i]),
            "sessions_in_window": n,
        }
        if not_yet[i]:
            results[i] = ScoreResult(Status.PENDING, note_not_yet_made(as_of), **common)
            continue
        kind = claim.kind
        if kind is Kind.MANUAL:
            results[i] = ScoreResult(Status.PENDING, note_manual(), **common)
            continue
        if empty[i]:
            results[i] = ScoreResult(Status.VOID, note_no_session(deadlines[i]), **common)
            continue
        baseline = float(base[i]) if raw is not None else None
        tp = claim.target if reach_like[i] else None
        if kind is Kind.MOVE_PCT and baseline is not None:
            tp = float(target_price[i])
        direction = ("up" if up[i] else "down") if kind in TOUCH_KINDS and baseline is not None else None
        sigma: float | None = None
        p: float | None = None
        if coin[i]:
            p = 0.5
        elif baseline is not None:
            sigma = sigma_of[int(bi[i])]
            p = random_walk_probability(
                kind,
                claim.basis,
                baseline=baseline,
                sigma=sigma,
                sessions=n,
                target=tp if kind is not Kind.RANGE else claim.target,
                target_upper=claim.target_upper,
            )
        c = int(complete[i])
        last = days[li[i]]
        # decision: (status, note, resolved_on, price, missing)
        missing: tuple[date, ...] = ()
        if baseline is None:
            status, note, resolved_on, price = Status.PENDING, "", None, None
            missing = (days[bi[i]],)
            if kind in TOUCH_KINDS:
                closes = aligned.close[fi[i] : fi[i] + c]
                missing += tuple(days[fi[i] + k] for k in np.flatnonzero(np.isnan(closes)).tolist())
            elif c == n and math.isnan(last_close[i]):
                missing += (last,)
        elif kind in TOUCH_KINDS:
            status, note, resolved_on, price, missing = touch_out[i]
        else:
            status, note, resolved_on, price, missing = _last_session(
                claim, c, n, last, float(last_close[i]), float(cum_last[i]), baseline
            )
        if missing:
            missing = tuple(sorted(set(missing)))
            if status is Status.PENDING:
                note = note_awaiting(missing)
        awaiting = status is Status.PENDING and bool(missing)
        void_on = None
        if status is Status.PENDING:
            void = automatic_void(
                trading_ended_on=trading_ended_on,
                last=last,
                complete_through=complete_through,
                awaiting=awaiting,
                cutoff_passed=bool(cutoff_passed[i]),
                cutoff=cal.day_objects[int(cutoff[i])] if cutoff_passed[i] else None,
                missing=missing,
            )
            if void is not None:
                status, awaiting = Status.VOID, False
                note, void_on = void
        decided = status is Status.HIT or status is Status.MISS
        results[i] = ScoreResult(
            status=status,
            note=note,
            resolved_on=resolved_on if decided else None,
            resolution_price=price if decided else None,
            difficulty=p,
            skill=skill_of(status, p),
            boldness=boldness_of(p),
            awaiting_data=awaiting,
            missing_sessions=missing,
            target_price=tp,
            direction=direction,
            window_return=float(window_return[i]) if window_return_ok[i] else None,
            other_return=None,
            sigma=sigma,
            void_effective_on=void_on,
            **common,
        )
    return results  # type: ignore[return-value]


def _pure(
    claim: Claim,
    bars: pd.DataFrame,
    calendar: SessionCalendar,
    as_of: datetime,
    splits: Sequence[Split],
    trading_ended_on: date | None,
    others: Sequence[Other | None] | None,
    i: int,
    horizon: int,
) -> ScoreResult:
    other = others[i] if others is not None else None
    kwargs: dict[str, Any] = {}
    if other is not None:
        kwargs = {"other_bars": other.bars, "other_calendar": other.calendar, "other_splits": other.splits}
    return single.score(
        claim,
        bars,
        calendar,
        as_of=as_of,
        splits=splits,
        trading_ended_on=trading_ended_on,
        default_horizon_months=horizon,
        **kwargs,
    )


def _last_session(
    claim: Claim, c: int, n: int, last: date, close: float, cum: float, baseline: float
) -> _Outcome:
    """close_above / close_below / range / direction_*: as ``single._decide_last_session``."""
    if c < n:
        return Status.PENDING, note_last_session_pending(last), None, None, ()
    if math.isnan(close):
        return Status.PENDING, note_awaiting((last,)), None, None, (last,)
    ok, rule = judge_last_close(claim, close, baseline, cum)
    return (
        Status.HIT if ok else Status.MISS,
        note_last_close(close, last, ok, rule),
        last,
        close,
        (),
    )


def _touch(
    rows: np.ndarray,
    aligned: _Aligned,
    cal: _CalendarArrays,
    splits: Sequence[Split],
    fi: np.ndarray,
    complete: np.ndarray,
    target_price: np.ndarray,
    up_all: np.ndarray,
    intraday_all: np.ndarray,
    n_win: np.ndarray,
) -> dict[int, _Outcome]:
    """Decisions of reach / move_pct claims ``rows`` (baseline known), as ``single._decide_touch``."""
    out: dict[int, _Outcome] = {}
    if not len(rows):
        return out
    rows = rows[np.argsort(complete[rows], kind="stable")]
    widths = complete[rows]
    days = cal.day_objects
    start = 0
    while start < len(rows):
        # rows are sorted by width: the chunk's width is its last row's
        ends = np.arange(start + 1, len(rows) + 1)
        fits = ends[(ends - start) * widths[ends - 1] <= _MATRIX_CELLS]
        stop = int(fits[-1]) if len(fits) else start + 1
        chunk = rows[start:stop]
        start = stop
        width = max(1, int(widths[stop - 1]))  # width 0: one padding column keeps argmax defined
        c = complete[chunk]
        cols = np.arange(width)
        inside = cols < c[:, None]
        idx = np.where(inside, fi[chunk][:, None] + cols, cal.n)  # cal.n: the NaN slot
        close = aligned.close[idx]
        up = up_all[chunk][:, None]
        intraday = intraday_all[chunk][:, None]
        probe = np.where(intraday, np.where(up, aligned.high[idx], aligned.low[idx]), close)
        target = target_price[chunk]
        if splits:
            cum = _cum(splits, cal.days[fi[chunk]][:, None], cal.days[np.minimum(idx, cal.n - 1)])
            thresholds = target[:, None] / cum
        else:
            cum = None
            thresholds = np.broadcast_to(target[:, None], idx.shape)
        with np.errstate(invalid="ignore"):
            close_meets = np.where(up, close >= thresholds, close <= thresholds)
            probe_meets = np.where(up, probe >= thresholds, probe <= thresholds)
        known = ~np.isnan(close) & (~np.isnan(probe) | close_meets)
        known |= ~inside
        meets = known & (probe_meets | close_meets) & inside
        unknown_at = np.where(known.all(axis=1), c, np.argmin(known, axis=1))
        hit_at = np.where(meets.any(axis=1), np.argmax(meets, axis=1), c)
        # misses: the best (split-adjusted) close / high / low of the window, for the note
        adjusted = np.where(np.isnan(probe), close, probe)
        if cum is not None:
            adjusted = adjusted * cum
        fill = np.where(up, -np.inf, np.inf)
        adjusted = np.where(inside & ~np.isnan(adjusted), adjusted, fill)
        best = np.where(up[:, 0], np.argmax(adjusted, axis=1), np.argmin(adjusted, axis=1))
        for r, i in enumerate(chunk.tolist()):
            ci_, h, u = int(c[r]), int(hit_at[r]), int(unknown_at[r])
            is_up = bool(up[r, 0])
            basis_close = not bool(intraday[r, 0])
            side = "≥" if is_up else "≤"
            tgt = float(target[r])
            f0 = int(fi[i])
            if h < u:
                use_probe = bool(probe_meets[r, h])
                price = float(probe[r, h] if use_probe else close[r, h])
                label = (
                    ("closed at" if basis_close else ("high" if is_up else "low"))
                    if use_probe
                    else "closed at"
                )
                cum_h = 1.0 if cum is None else float(cum[r, h])
                d = days[f0 + h]
                out[i] = (
                    Status.HIT,
                    note_touched(label, price, side, float(thresholds[r, h]), cum_h, tgt, d),
                    d,
                    price,
                    (),
                )
                continue
            if u < ci_:
                miss_cols = np.flatnonzero(~known[r, :h])
                missing = tuple(days[f0 + k] for k in miss_cols.tolist())
                out[i] = (
                    Status.PENDING,
                    note_awaiting(missing),
                    None,
                    None,
                    missing,
                )
                continue
            level = touch_level(is_up, tgt)
            n = int(n_win[i])
            if ci_ and ci_ == n:
                b = int(best[r])
                word = "close" if basis_close else ("high" if is_up else "low")
                last = days[f0 + ci_ - 1]
                p_last = probe[r, ci_ - 1]
                price = float(p_last) if not math.isnan(p_last) else float(close[r, ci_ - 1])
                out[i] = (
                    Status.MISS,
                    note_never_touched(
                        Basis.CLOSE if basis_close else Basis.INTRADAY,
                        level,
                        ci_,
                        last,
                        word,
                        float(adjusted[r, b]),
                        days[f0 + b],
                    ),
                    last,
                    price,
                    (),
                )
            else:
                out[i] = (
                    Status.PENDING,
                    note_touch_pending(level, days[int(fi[i]) + n - 1]),
                    None,
                    None,
                    (),
                )
    return out
