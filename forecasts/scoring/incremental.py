"""Which pending forecasts a night's new bars can change: the incremental rescore's selection.

Pure module: no Django, no I/O, no clock. Shared by the service (forecasts.services.scoring, the nightly
tasks) and the benchmark pipeline (bench/pipeline.py), so both rescore the same forecasts.

A pending forecast's stored score (SCORE_COLUMNS) is a function of the bars and of the last complete
session. Since the pending notes count no sessions (rules.note_touch_pending / note_last_session_pending),
the stored score of a forecast that was pending at the last run, with every bar it needed, stays exactly
the same while sessions pass, unless one of these happens (then ``may_change`` says True and the caller
rescores it with the scorer itself, so the result is the scorer's, never a guess):

- it was never scored, or edited since (``fresh``), or its stored window is unknown;
- it is awaiting data and a new session in its window has no usable bar, or its window ends, or its void
  cutoff passes (a missing bar that arrives is a late bar: the caller's full rescore);
- its window has ended (``window_end`` on or before the last complete session): decided now, or awaiting,
  or an outperform waiting for its partner's last close (B's close decides it);
- ``reach`` / ``move_pct``: a new session inside its window has no usable bar (it turns "awaiting"), or
  its bar touches the target (a hit). With splits after the earliest baseline (``split_after``), every
  touch forecast whose window has new sessions is taken (the split-adjusted threshold is the scorer's job).

Anything the selection cannot see is the caller's to route to a full rescore of the instrument: bars that
arrived late for sessions already checked, revised bars (``revised_from``), a stopped instrument, a new
scorer version. The comparison keeps a relative margin (``MARGIN``) so a float rounding differently here
than in the scorer can only add candidates, never drop one.
"""

from __future__ import annotations

import numpy as np

from forecasts.scoring.rules import VOID_AFTER_SESSIONS, Basis, Kind

NAT = np.datetime64("NaT", "D")

__all__ = ["MARGIN", "may_change"]

#: Relative slack on the touch test: a bar within it of the target is rescored.
MARGIN = 1e-9


def may_change(
    *,
    kind: np.ndarray,
    basis: np.ndarray,
    target: np.ndarray,
    baseline: np.ndarray,
    window_start: np.ndarray,
    window_end: np.ndarray,
    awaiting: np.ndarray,
    fresh: np.ndarray,
    through: np.datetime64,
    new_days: np.ndarray,
    new_close: np.ndarray,
    new_high: np.ndarray,
    new_low: np.ndarray,
    split_after: bool = False,
    since: np.datetime64 | None = None,
    calendar_days: np.ndarray | None = None,
) -> np.ndarray:
    """A boolean per pending forecast: True if its stored score may differ from a rescore now.

    Per forecast (one instrument's, all arrays of one length): ``kind`` / ``basis`` (their string
    values), ``target`` (T, or X for move_pct; NaN if none), ``baseline`` (the stored raw baseline close;
    NaN if none), ``window_start`` / ``window_end`` (``datetime64[D]``, NaT if none), ``awaiting``,
    ``fresh`` (never scored, edited since it was, or scored by another scorer version).
    ``through``: the instrument calendar's last session complete now. ``new_days``: the calendar's
    sessions complete now but not at the last run (ascending ``datetime64[D]``); ``new_close`` / ``_high`` /
    ``_low``: their bars (NaN where there is none). ``since``: the last session complete at the last run;
    ``calendar_days``: the calendar's sessions. With both, a forecast awaiting data is rescored only when
    its stored score can change without a late bar: a new session in its window without a usable bar, its
    window ending, its void cutoff (VOID_AFTER_SESSIONS sessions after the window) passing; an outperform
    awaiting data always. Without them, every forecast awaiting data is rescored.
    """
    kind = np.asarray(kind, dtype=object)
    n = len(kind)
    start = np.asarray(window_start, dtype="datetime64[D]")
    end = np.asarray(window_end, dtype="datetime64[D]")
    target = np.asarray(target, dtype=float)
    baseline = np.asarray(baseline, dtype=float)
    awaiting = np.asarray(awaiting, dtype=bool)
    last = np.asarray(through, dtype="datetime64[D]")
    out = np.asarray(fresh, dtype=bool) | np.isnat(start) | np.isnat(end)
    with np.errstate(invalid="ignore"):
        ended = ~np.isnat(end) & (end <= last)
    if since is None or calendar_days is None:
        out |= awaiting | np.isnan(baseline) | ended
    else:
        # awaiting data (a missing baseline is awaiting too): its note lists the missing sessions, which
        # only a late bar (the caller's full rescore), a new session without a bar (below), the window's
        # end or the void cutoff change
        waits = awaiting | np.isnan(baseline)
        out |= ended & ~waits
        out |= waits & (kind == Kind.OUTPERFORM.value)
        cal = np.asarray(calendar_days, dtype="datetime64[D]")
        safe_end = np.where(np.isnat(end), cal[0], end)
        cutoff_at = np.searchsorted(cal, safe_end, "right") + VOID_AFTER_SESSIONS - 1
        cutoff = np.where(cutoff_at < len(cal), cal[np.minimum(cutoff_at, len(cal) - 1)], NAT)
        with np.errstate(invalid="ignore"):
            out |= waits & ~np.isnat(cutoff) & (cutoff <= last)
            out |= waits & ended & (end > np.asarray(since, dtype="datetime64[D]"))
    days = np.asarray(new_days, dtype="datetime64[D]")
    if not len(days) or not n:
        return out
    reach = kind == Kind.REACH.value
    move = kind == Kind.MOVE_PCT.value
    touch = (reach | move) & ~out
    if not touch.any():
        return out
    rows = np.flatnonzero(touch)
    inside = (days[None, :] >= start[rows, None]) & (days[None, :] <= end[rows, None])
    if split_after:
        out[rows] |= inside.any(axis=1)
        return out
    close = np.asarray(new_close, dtype=float)[None, :]
    high = np.asarray(new_high, dtype=float)[None, :]
    low = np.asarray(new_low, dtype=float)[None, :]
    t, b = target[rows], baseline[rows]
    threshold = np.where(move[rows], b * (100.0 + t) / 100.0, t)
    up = np.where(move[rows], t > 0, t >= b)[:, None]
    intraday = (np.asarray(basis, dtype=object)[rows] == Basis.INTRADAY.value)[:, None]
    probe = np.where(up, high, low)
    lo = (threshold * (1.0 - MARGIN))[:, None]
    hi = (threshold * (1.0 + MARGIN))[:, None]
    with np.errstate(invalid="ignore"):
        close_meets = np.where(up, close >= lo, close <= hi)
        probe_meets = np.where(up, probe >= lo, probe <= hi)
        unusable = np.isnan(close) | (intraday & np.isnan(probe))
        hit = close_meets | (intraday & probe_meets)
    out[rows] |= (inside & (unusable | hit)).any(axis=1)
    return out
