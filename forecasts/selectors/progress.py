"""How far a pending forecast's window has got, computed when it is shown (not stored).

The scorer's pending notes are stable from day to day ("pending: decided at the close of 2026-12-31"), so
the nightly rescore rewrites no row whose outcome did not change; the progress that used to be written
into them ("k of n sessions complete") is computed here instead:

    sessions complete = the sessions of the instrument's calendar from ``window_start`` to the last
    complete bar (the newest stored bar of a session that has closed), capped at ``window_end``;

over ``window_sessions`` (the whole window, future sessions included, as the scorer counts them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from forecasts.models import Forecast, Status
from marketdata.calendars import get_calendar
from marketdata.models import Instrument, PriceBar

__all__ = ["Progress", "calendar_progress", "last_complete_bars", "window_progress"]


@dataclass(frozen=True, slots=True)
class Progress:
    complete: int
    sessions: int

    def __str__(self) -> str:
        return gettext("%(complete)s of %(sessions)s sessions complete") % {
            "complete": f"{self.complete:,}",
            "sessions": f"{self.sessions:,}",
        }

    def as_dict(self) -> dict[str, int]:
        return {"sessions_complete": self.complete, "window_sessions": self.sessions}


def last_complete_bars(instruments: Iterable[Instrument], *, now: datetime | None = None) -> dict[int, date]:
    """Per instrument, the session of its newest bar whose session has closed by ``now`` (one query)."""
    now = now or timezone.now()
    instruments = list(instruments)
    if not instruments:
        return {}
    rows = (
        PriceBar.objects.filter(instrument__in=[i.pk for i in instruments])
        .values_list("instrument_id")
        .annotate(last=Max("session"))
    )
    out: dict[int, date] = {}
    by_pk = {i.pk: i for i in instruments}
    for pk, last in rows:
        closed = get_calendar(by_pk[pk].calendar_code).last_session_closed_at_or_before(now)
        if closed is None:
            continue
        if last > closed:  # a bar of a session still in progress: the last complete one is older
            last = (
                PriceBar.objects.filter(instrument_id=pk, session__lte=closed)
                .order_by("-session")
                .values_list("session", flat=True)
                .first()
            )
        if last is not None:
            out[pk] = last
    return out


def window_progress(
    forecast: Forecast, *, last_bar: date | None = None, now: datetime | None = None
) -> Progress | None:
    """Sessions complete of a pending forecast's window, or None (decided, void, never scored, or no
    window). ``last_bar``: the instrument's last complete bar, if the caller has it (lists read them for
    all their instruments at once with ``last_complete_bars``)."""
    if forecast.status != Status.PENDING or not forecast.window_sessions:
        return None
    start, end = forecast.window_start, forecast.window_end
    if start is None or end is None:
        return None
    if last_bar is None:
        last_bar = last_complete_bars([forecast.instrument], now=now).get(forecast.instrument_id)
    complete = 0
    if last_bar is not None and last_bar >= start:
        calendar = get_calendar(forecast.instrument.calendar_code)
        complete = calendar.count_sessions(start, min(last_bar, end))
    return Progress(min(complete, forecast.window_sessions), forecast.window_sessions)


def calendar_progress(forecast: Forecast, *, now: datetime | None = None) -> Progress | None:
    """``window_progress`` counted to the instrument calendar's last closed session instead of its last
    bar: no query (the API's lists). The two differ only while a closed session's bar is missing or not
    yet fetched, which the forecast's awaiting_data and note say."""
    if forecast.status != Status.PENDING or not forecast.window_sessions:
        return None
    closed = get_calendar(forecast.instrument.calendar_code).last_session_closed_at_or_before(
        now or timezone.now()
    )
    if closed is None:
        return Progress(0, forecast.window_sessions)
    return window_progress(forecast, last_bar=closed)
