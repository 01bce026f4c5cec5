"""The beat schedule: one refresh per market, after its close plus a buffer,
in the exchange's own time zone (so daylight saving in New York is handled by
the clock, not by us)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from celery.schedules import crontab


@dataclass(frozen=True)
class MarketRefresh:
    calendar_code: str
    timezone: str
    hour: int
    minute: int
    day_of_week: str


# Closes: HKEX 16:00 (16:10 closing auction), NYSE 16:00, CME gold 17:00 CT
# (settlement published later), crypto/FX days end at 00:00 UTC. Buffers of
# 30-60 minutes let vendors publish the final bar.
MARKET_REFRESHES = (
    MarketRefresh("XHKG", "Asia/Hong_Kong", 17, 0, "mon-fri"),
    MarketRefresh("XNYS", "America/New_York", 17, 0, "mon-fri"),
    MarketRefresh("CMES", "America/Chicago", 18, 0, "mon-fri"),
    MarketRefresh("24/5", "UTC", 1, 0, "tue-sat"),
    MarketRefresh("24/7", "UTC", 0, 30, "*"),
)


def beat_schedule() -> dict:
    """Celery beat entries, each evaluated in its market's time zone via nowfun."""
    entries = {}
    for market in MARKET_REFRESHES:
        # partial(datetime.now, tz) is picklable, unlike a lambda, so the
        # persistent beat scheduler can store it.
        now_in_market = partial(datetime.now, ZoneInfo(market.timezone))
        entries[f"refresh-{market.calendar_code}"] = {
            "task": "marketdata.tasks.refresh_market",
            "schedule": crontab(
                hour=market.hour, minute=market.minute, day_of_week=market.day_of_week, nowfun=now_in_market
            ),
            "args": (market.calendar_code,),
            "options": {"expires": 6 * 3600},
        }
    return entries
