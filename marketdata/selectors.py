"""Reads of market data: stored bars as the scorer wants them, missing sessions, instruments by symbol."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime

import pandas as pd
from django.utils import timezone

from marketdata.calendars import get_calendar
from marketdata.models import (
    Instrument,
    PriceBar,
)

log = logging.getLogger(__name__)


def missing_sessions(
    instrument: Instrument, start: date, end: date, *, now: datetime | None = None
) -> list[date]:
    """Sessions of the instrument's calendar in ``start``..``end`` that have closed by ``now``
    (and are not after ``trading_ended_on``) with no stored bar. Held bars count as missing."""
    now = now or timezone.now()
    calendar = get_calendar(instrument.calendar_code)
    last_closed = calendar.last_session_closed_at_or_before(now)
    if last_closed is None:
        return []
    end = min(end, last_closed, calendar.last_date)
    if instrument.trading_ended_on:
        end = min(end, instrument.trading_ended_on)
    start = max(start, calendar.first_date)
    if end < start:
        return []
    have = set(
        PriceBar.objects.filter(instrument=instrument, session__gte=start, session__lte=end).values_list(
            "session", flat=True
        )
    )
    return [d for d in calendar.sessions_between(start, end) if d not in have]


def bars_frame(instrument_id: int, *, until: date | None = None) -> pd.DataFrame:
    """All stored bars of an instrument as the scorer wants them: index session
    (DatetimeIndex), columns open, high, low, close (float, NaN for blanks)."""
    qs = PriceBar.objects.filter(instrument_id=instrument_id)
    if until is not None:
        qs = qs.filter(session__lte=until)
    rows = list(qs.order_by("session").values_list("session", "open", "high", "low", "close"))
    frame = pd.DataFrame(rows, columns=["session", "open", "high", "low", "close"])
    frame["session"] = pd.to_datetime(frame["session"])
    frame = frame.set_index("session")
    return frame.astype("float64")


def instruments_by_symbol(symbols: Iterable[str]) -> dict[str, Instrument]:
    return {i.symbol: i for i in Instrument.objects.filter(symbol__in=list(symbols))}
