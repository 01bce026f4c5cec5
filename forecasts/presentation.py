"""Plain-words descriptions of claims and outcomes, shared by pages and the API."""

from __future__ import annotations

from datetime import date

from forecasts.models import Basis, DeadlineSource, Forecast, Kind


def _num(x: float | None) -> str:
    if x is None:
        return "?"
    return (
        f"{x:,.2f}".rstrip("0").rstrip(".") if abs(x) < 1000 else f"{x:,.0f}" if x == int(x) else f"{x:,.2f}"
    )


def _day(d: date | None) -> str:
    return f"{d.day} {d:%b %Y}" if d else "?"


def describe_claim(f: Forecast) -> str:
    """E.g. 'HSI closes at or above 23,200 on any trading day from 17 Feb 2025 to 14 Feb 2026 —
    no deadline was stated, so the 12-month default applies.'"""
    sym = f.instrument.symbol
    start = f.window_start
    span = f"from {_day(start)} to {_day(f.deadline)}" if start else f"by {_day(f.deadline)}"
    price = "trades" if f.basis == Basis.INTRADAY else "closes"
    if f.kind in (Kind.REACH, Kind.MOVE_PCT):
        if f.kind == Kind.MOVE_PCT:
            what = f"{sym} moves {f.target:+g}% from its baseline close"
            if f.baseline:
                what += f" ({_num(f.baseline)}, so {_num(f.baseline * (1 + f.target / 100))})"
        else:
            up = f.baseline is None or f.target >= f.baseline
            what = f"{sym} {price} at or {'above' if up else 'below'} {_num(f.target)}"
        text = f"{what} on any trading day {span}"
    elif f.kind == Kind.CLOSE_ABOVE:
        text = f"{sym} closes at or above {_num(f.target)} on the last trading day up to {_day(f.deadline)}"
    elif f.kind == Kind.CLOSE_BELOW:
        text = f"{sym} closes at or below {_num(f.target)} on the last trading day up to {_day(f.deadline)}"
    elif f.kind == Kind.RANGE:
        text = (
            f"{sym} closes between {_num(f.target)} and {_num(f.target_upper)} on the last trading day "
            f"up to {_day(f.deadline)}"
        )
    elif f.kind in (Kind.DIRECTION_UP, Kind.DIRECTION_DOWN):
        word = "above" if f.kind == Kind.DIRECTION_UP else "below"
        text = (
            f"{sym} closes {word} its baseline ({_num(f.baseline)}) "
            f"on the last trading day up to {_day(f.deadline)}"
        )
    elif f.kind == Kind.OUTPERFORM:
        other = f.other_instrument.symbol if f.other_instrument else "?"
        text = f"{sym} returns more than {other} from the call to {_day(f.deadline)}"
    else:
        text = f"A qualitative claim about {sym}, judged by an editor, by {_day(f.deadline)}"
    if f.deadline_source == DeadlineSource.NONE:
        text += " — no deadline was stated, so the 12-month default applies"
    elif f.deadline_source == DeadlineSource.IMPLIED:
        text += " — the deadline is implied, not stated"
    return text + "."
