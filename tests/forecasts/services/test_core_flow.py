"""The core path end to end on the real bundled HSI prices: record, refresh, score, read."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import time_machine
from django.db import IntegrityError

from forecasts.models import DeadlineSource, Forecast, ForecastEvent, Status
from forecasts.services import forecasts_score
from marketdata.models import PriceBar
from marketdata.services import upsert_price_bars

pytestmark = pytest.mark.django_db


def test_seed_forecast_is_a_hit_on_2025_02_21(hsi_with_prices, seed_forecast):
    assert seed_forecast.deadline == date(2026, 2, 14)
    assert seed_forecast.deadline_source == DeadlineSource.NONE
    assert seed_forecast.made_at == datetime(2025, 2, 15, tzinfo=ZoneInfo("Asia/Hong_Kong"))

    summary = forecasts_score(hsi_with_prices)

    f = Forecast.objects.get(pk=seed_forecast.pk)
    assert summary.changed == 1
    assert f.status == Status.HIT
    assert f.resolved_on == date(2025, 2, 21)
    assert f.resolution_price == pytest.approx(23477.92)
    assert f.baseline == pytest.approx(22620.33)
    assert f.baseline_date == date(2025, 2, 14)
    assert f.window_start == date(2025, 2, 17)
    assert 0 < f.difficulty < 1
    assert f.skill == pytest.approx(1 - f.difficulty)
    assert f.scorer_version
    assert list(f.events.values_list("action", flat=True)) == ["created", "published", "scored"]


def test_rescoring_is_idempotent(hsi_with_prices, seed_forecast):
    forecasts_score(hsi_with_prices)
    before = Forecast.objects.values().get(pk=seed_forecast.pk)
    again = forecasts_score(hsi_with_prices, revised_from=date(2025, 1, 1))
    assert again.changed == 0
    assert Forecast.objects.values().get(pk=seed_forecast.pk) == before
    assert ForecastEvent.objects.filter(forecast=seed_forecast).count() == 3  # created, published, scored


def test_no_prices_means_pending_awaiting_data_never_a_miss(hsi, seed_forecast):
    with time_machine.travel(datetime(2025, 3, 1, tzinfo=ZoneInfo("UTC")), tick=False):
        forecasts_score(hsi)
    f = Forecast.objects.get(pk=seed_forecast.pk)
    assert f.status == Status.PENDING
    assert f.awaiting_data
    assert f.resolved_on is None


def test_still_no_prices_ten_sessions_after_the_deadline_is_void(hsi, seed_forecast):
    # Deadline 2026-02-14; "now" is well past ten HKEX sessions after it.
    with time_machine.travel(datetime(2026, 3, 31, tzinfo=ZoneInfo("UTC")), tick=False):
        forecasts_score(hsi)
    f = Forecast.objects.get(pk=seed_forecast.pk)
    assert f.status == Status.VOID
    assert "10 sessions after the deadline" in f.void_reason
    assert f.skill is None


def test_as_of_reports_the_past_without_writing(hsi_with_prices, seed_forecast):
    as_of = datetime.combine(date(2025, 2, 20), time(23, 59), tzinfo=ZoneInfo("UTC"))
    summary = forecasts_score(hsi_with_prices, as_of=as_of)
    [(pk, result)] = summary.results
    assert result.status.value == "pending"
    assert Forecast.objects.get(pk=pk).status == Status.PENDING  # nothing written
    later = forecasts_score(hsi_with_prices, as_of=datetime(2025, 2, 22, tzinfo=ZoneInfo("UTC"))).results[0][
        1
    ]
    assert later.status.value == "hit"


def test_as_of_before_the_forecast_was_made_skips_it(hsi_with_prices, seed_forecast):
    summary = forecasts_score(hsi_with_prices, as_of=datetime(2025, 2, 10, tzinfo=ZoneInfo("UTC")))
    assert summary.scored == 0


def test_a_revised_deciding_bar_rescores_with_history(hsi_with_prices, seed_forecast):
    forecasts_score(hsi_with_prices)
    # The vendor revises 2025-02-21 below the target: the first close >= 23,200 is now 2025-02-24.
    revised = pd.DataFrame(
        {
            "open": [23090.03],
            "high": [23190.0],
            "low": [22901.69],
            "close": [23150.0],
            "volume": [6167300000.0],
        },
        index=pd.DatetimeIndex([pd.Timestamp("2025-02-21")], name="session"),
    )
    upsert = upsert_price_bars(hsi_with_prices, revised, source="vendor-fix")
    assert upsert.revised_sessions == [date(2025, 2, 21)]

    forecasts_score(hsi_with_prices, revised_from=upsert.first_changed_session)

    f = Forecast.objects.get(pk=seed_forecast.pk)
    assert (f.status, f.resolved_on, f.resolution_price) == (
        Status.HIT,
        date(2025, 2, 24),
        pytest.approx(23341.61),
    )
    event = f.events.latest("id")
    assert event.action == "rescored"
    expected = "Price bars that decided it were revised: 2025-02-21 close 23,477.92 → 23,150.0"
    assert f"{expected} (offline → vendor-fix)" in event.reason
    assert event.changes["resolved_on"] == ["2025-02-21", "2025-02-24"]


def test_upsert_is_idempotent(hsi_with_prices):
    from django.conf import settings

    from marketdata.providers.offline import read_price_csv

    count = PriceBar.objects.filter(instrument=hsi_with_prices).count()
    again = upsert_price_bars(
        hsi_with_prices, read_price_csv(settings.HINDSIGHT_OFFLINE_DATA_DIR / "HSI.csv"), source="offline"
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, count)


def test_refresh_task_in_process_turns_pending_into_hit(
    hsi, seed_forecast, settings, django_capture_on_commit_callbacks
):
    """The embedded default: no broker, tasks chained in-process, offline provider."""
    from marketdata.tasks import refresh_prices

    settings.HINDSIGHT_BACKFILL_DAYS = 10_000
    with django_capture_on_commit_callbacks(execute=True):
        result = refresh_prices.delay(hsi.pk).get()
    assert result["created"] > 1000
    f = Forecast.objects.get(pk=seed_forecast.pk)
    assert (f.status, f.resolved_on) == (Status.HIT, date(2025, 2, 21))
    # A second refresh finds nothing new and changes nothing.
    assert refresh_prices.delay(hsi.pk).get()["created"] == 0
    assert f.events.count() == 3  # created, published, scored


def test_database_rejects_a_negative_target(hsi, seed_forecast):
    with pytest.raises(IntegrityError):
        Forecast.objects.filter(pk=seed_forecast.pk).update(target=-5)


def test_database_rejects_a_hit_without_a_date(hsi, seed_forecast):
    with pytest.raises(IntegrityError):
        Forecast.objects.filter(pk=seed_forecast.pk).update(status=Status.HIT)


def test_unfinished_session_is_not_stored(hsi):
    from marketdata.services import finished_sessions_only

    frame = pd.DataFrame(
        {
            "open": [1.0, 1.0, 1.0],
            "high": [1.0] * 3,
            "low": [1.0] * 3,
            "close": [1.0] * 3,
            "volume": [0.0] * 3,
        },
        index=pd.DatetimeIndex(["2025-02-14", "2025-02-15", "2025-02-17"], name="session"),
    )
    # 2025-02-17 10:00 HKT: Friday's bar is final, Saturday is no session, Monday is still trading.
    now = datetime(2025, 2, 17, 10, 0, tzinfo=ZoneInfo("Asia/Hong_Kong"))
    kept, rejected = finished_sessions_only(frame, "XHKG", now=now)
    assert [d.date() for d in kept.index] == [date(2025, 2, 14)]
    assert rejected == ["2025-02-15: not a XHKG session", "2025-02-17: session not closed yet"]


def test_directional_call_is_measured_against_the_market_benchmark(hsi_with_prices):
    """SCORING §4: a direction_up call on HSCEI gets its return and HSI's over the same dates."""
    from django.conf import settings

    from forecasts.selectors import summarize
    from marketdata.providers.offline import read_price_csv
    from marketdata.services import get_or_create_instrument
    from tests.factories import make_forecast

    hscei = get_or_create_instrument("HSCEI")[0]
    upsert_price_bars(
        hscei, read_price_csv(settings.HINDSIGHT_OFFLINE_DATA_DIR / "HSCEI.csv"), source="offline"
    )
    f = make_forecast(
        instrument=hscei,
        kind="direction_up",
        target=None,
        deadline=date(2025, 6, 30),
        deadline_source="stated",
    )  # made 2025-02-14 (date only), baseline that day's close
    forecasts_score(hscei)
    f.refresh_from_db()
    days = [date(2025, 2, 14), date(2025, 6, 30)]

    def closes(instrument):
        return dict(
            PriceBar.objects.filter(instrument=instrument, session__in=days).values_list("session", "close")
        )

    own, hsi = closes(hscei), closes(hsi_with_prices)
    assert f.status in (Status.HIT, Status.MISS) and f.window_end == date(2025, 6, 30)
    assert f.window_return == pytest.approx(own[days[1]] / own[days[0]] - 1)
    assert f.benchmark_return == pytest.approx(hsi[days[1]] / hsi[days[0]] - 1)
    s = summarize(Forecast.objects.filter(pk=f.pk))
    assert s.mean_directional_return == pytest.approx(f.window_return)
    assert s.mean_directional_excess_return == pytest.approx(f.window_return - f.benchmark_return)
