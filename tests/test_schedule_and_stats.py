import pickle
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from forecasts.stats import skill_summary, wilson_interval
from marketdata.schedule import beat_schedule


def test_one_beat_entry_per_market_in_its_time_zone():
    schedule = beat_schedule()
    assert set(schedule) == {"refresh-XHKG", "refresh-XNYS", "refresh-CMES", "refresh-24/5", "refresh-24/7"}
    hk = schedule["refresh-XHKG"]["schedule"]
    assert hk.tz == ZoneInfo("Asia/Hong_Kong")
    assert hk.hour == {17} and hk.day_of_week == {1, 2, 3, 4, 5}
    ny = schedule["refresh-XNYS"]["schedule"]
    assert pickle.loads(pickle.dumps(ny)).tz == ZoneInfo("America/New_York")
    # 17:00 New York is 21:00 or 22:00 UTC depending on daylight saving: the clock is local.
    with time_machine.travel(datetime(2025, 7, 1, 16, 0, tzinfo=ZoneInfo("America/New_York")), tick=False):
        last = datetime(2025, 6, 30, 17, 0, tzinfo=ZoneInfo("America/New_York"))
        assert ny.remaining_estimate(last).total_seconds() == pytest.approx(3600, abs=1)
    with time_machine.travel(datetime(2025, 1, 6, 16, 0, tzinfo=ZoneInfo("America/New_York")), tick=False):
        last = datetime(2025, 1, 3, 17, 0, tzinfo=ZoneInfo("America/New_York"))
        assert ny.remaining_estimate(last).total_seconds() == pytest.approx(3600, abs=1)
    assert all(e["task"] == "marketdata.tasks.refresh_market" for e in schedule.values())


@pytest.mark.parametrize(
    ("hits", "n", "low", "high"),
    [
        (0, 0, None, None),
        (1, 1, 0.2065, 1.0),
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
    ],
)
def test_wilson_interval(hits, n, low, high):
    got = wilson_interval(hits, n)
    if low is None:
        assert got is None
    else:
        assert got == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))


def test_skill_summary():
    values = [0.5, -0.2, 0.8, 0.1]
    s = skill_summary(len(values), sum(values), sum(v * v for v in values))
    mean = sum(values) / 4
    var = sum((v - mean) ** 2 for v in values) / 3
    assert s.mean == pytest.approx(mean)
    assert s.se == pytest.approx((var / 4) ** 0.5)
    assert s.lower_bound == pytest.approx(mean - 1.96 * (var / 4) ** 0.5)
    assert skill_summary(1, 0.4, 0.16).lower_bound is None
    assert skill_summary(0, 0, 0).mean is None
