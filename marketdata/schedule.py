"""The beat schedule: one refresh per market, after its close plus a buffer,
in the exchange's own time zone (so daylight saving in New York is handled by
the clock, not by us)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from celery.schedules import crontab


class ExchangeCrontab(crontab):
    """A crontab read on an exchange's wall clock rather than the app's (UTC).

    Celery evaluates a crontab in `self.tz` (normally the app time zone); setting
    it per entry is all it takes. The zone travels through pickling, so the
    persistent beat scheduler keeps it.
    """

    def __init__(self, minute="*", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", **kwargs):
        zone = kwargs.pop("zone", "UTC")
        super().__init__(minute, hour, day_of_week, day_of_month, month_of_year, **kwargs)
        self._set_zone(zone)

    def _set_zone(self, zone: str) -> None:
        self.zone = zone
        self.tz = ZoneInfo(zone)  # shadows crontab's cached app timezone
        self._orig_kwargs = {**self._orig_kwargs, "zone": zone}

    def __setstate__(self, state) -> None:  # the other half of crontab.__reduce__
        state = dict(state)
        zone = state.pop("zone", "UTC")
        super().__setstate__(state)
        self._set_zone(zone)


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
    """Celery beat entries, each evaluated on its market's wall clock."""
    entries = {}
    for market in MARKET_REFRESHES:
        entries[f"refresh-{market.calendar_code}"] = {
            "task": "marketdata.tasks.refresh_market",
            "schedule": ExchangeCrontab(
                hour=market.hour, minute=market.minute, day_of_week=market.day_of_week, zone=market.timezone
            ),
            "args": (market.calendar_code,),
            "options": {"expires": 6 * 3600},
        }
    # Gaps are not a beat entry of their own: refresh_market queues a backfill (at most once a day per
    # instrument) for each instrument it refreshes that has missing sessions.
    return entries
