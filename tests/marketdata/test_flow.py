"""Market data through the database: held bars, revisions, NVDA's split end to end, completeness,
backfill, locks, the holiday skip and the admin pages (CSV upload included)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import time_machine
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import path

from forecasts import services as forecast_services
from forecasts.models import Forecast, Status
from forecasts.services import forecasts_score
from marketdata import services
from marketdata.locks import job_lock
from marketdata.models import BarStatus, HeldBar, Instrument, PriceBar, PriceBarRevision, Split, TaskLock
from marketdata.providers import OfflineCSVProvider, read_price_csv
from tests.factories import SourceFactory, make_forecast
from tests.paths import PRICE_DATA

pytestmark = pytest.mark.django_db
DATA = PRICE_DATA
NY = ZoneInfo("America/New_York")
# The admin pages are tested against this module's own URLconf (only the admin).
urlpatterns = [path("admin/", admin.site.urls)]


class CannedProvider:
    """Serves a fixed frame (bars from the bundled CSVs, edited per test)."""

    def __init__(self, bars: pd.DataFrame, name: str = "vendor"):
        self.bars, self.name = bars, name

    def fetch_daily_bars(self, ref, start, end):
        return self.bars.loc[pd.Timestamp(start) : pd.Timestamp(end)]

    def fetch_splits(self, ref, start, end):
        return (
            OfflineCSVProvider().fetch_splits(ref, start, end)
            if ref.symbol == "NVDA"
            else pd.DataFrame(
                {"ratio": pd.Series(dtype="float64")}, index=pd.DatetimeIndex([], name="ex_date")
            )
        )


def hsi_bars() -> pd.DataFrame:
    return read_price_csv(DATA / "HSI.csv")


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.HINDSIGHT_PROVIDER_RATES = {}
    settings.HINDSIGHT_PROVIDER_BACKOFF = 0.0


# --- held bars ------------------------------------------------------------------------------------


def test_a_spike_is_held_out_of_scoring_until_an_admin_decides(hsi, seed_forecast) -> None:
    bars = hsi_bars()
    services.upsert_price_bars(hsi, bars.loc[:"2025-02-20"], source="offline")
    spiked = bars.loc["2025-02-21":"2025-02-21"].copy()
    spiked[["open", "high", "low", "close"]] *= 10  # a vendor's unit error
    now = datetime(2025, 2, 22, tzinfo=UTC)

    result = services.prices_refresh(hsi, provider=CannedProvider(spiked), now=now)

    assert result.upsert.created == 0 and len(result.upsert.held) == 1
    held = HeldBar.objects.get(instrument=hsi)
    assert (held.session, held.status, held.source) == (date(2025, 2, 21), BarStatus.HELD, "vendor")
    assert "sigma" in held.reason and held.z_score > 12
    assert pd.Timestamp("2025-02-21") not in services.bars_frame(hsi.pk).index
    with time_machine.travel(now, tick=False):
        forecasts_score(hsi)
    f = Forecast.objects.get(pk=seed_forecast.pk)
    assert f.status == Status.PENDING  # not a hit on a bad bar

    # Fetching the same bad values again does not queue them twice.
    services.prices_refresh(hsi, provider=CannedProvider(spiked), now=now)
    assert HeldBar.objects.filter(instrument=hsi).count() == 1

    assert services.reject_held_bar(held, note="10x unit error")
    services.prices_refresh(hsi, provider=CannedProvider(spiked), now=now)
    assert HeldBar.objects.filter(instrument=hsi).count() == 1  # a rejected value stays rejected

    # The vendor fixes it: the right bar passes and decides the forecast.
    services.prices_refresh(hsi, provider=CannedProvider(bars.loc["2025-02-21":"2025-02-21"]), now=now)
    with time_machine.travel(now, tick=False):
        forecasts_score(hsi)
    f.refresh_from_db()
    assert (f.status, f.resolved_on) == (Status.HIT, date(2025, 2, 21))


def test_releasing_a_held_bar_stores_it(hsi) -> None:
    bars = hsi_bars()
    services.upsert_price_bars(hsi, bars.loc[:"2025-04-04"], source="offline")
    crash = bars.loc["2025-04-07":"2025-04-07"].copy()
    crash[["open", "high", "low", "close"]] *= 0.5  # -50%: held (a real -13% day is not)
    services.prices_refresh(hsi, provider=CannedProvider(crash), now=datetime(2025, 4, 8, tzinfo=UTC))
    held = HeldBar.objects.get(status=BarStatus.HELD)
    result = services.release_held_bar(held, note="checked against HKEX")
    assert result.created == 1
    assert PriceBar.objects.get(instrument=hsi, session=date(2025, 4, 7)).close == pytest.approx(
        bars.loc["2025-04-07", "close"] * 0.5
    )
    held.refresh_from_db()
    assert held.status == BarStatus.RELEASED


def test_invalid_bars_are_recorded_as_rejected_with_the_reason(hsi) -> None:
    bars = hsi_bars().loc["2025-02-14":"2025-02-18"].copy()
    bars.index = pd.DatetimeIndex(["2025-02-14", "2025-02-15", "2025-02-17"], name="session")  # Saturday
    result = services.ingest_bars(hsi, bars, source="vendor", now=datetime(2025, 2, 17, 3, tzinfo=UTC))
    assert result.created == 1
    assert result.rejected == ["2025-02-15: not a XHKG session", "2025-02-17: session not closed yet"]
    # The not-yet-closed bar is timing, not quality: it is not recorded as a rejection.
    assert list(HeldBar.objects.values_list("session", "status")) == [(date(2025, 2, 15), "rejected")]


# --- revisions ------------------------------------------------------------------------------------


def test_a_revision_is_recorded_and_rescores_the_forecast_with_history(
    hsi_with_prices, seed_forecast, settings, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from marketdata.tasks import refresh_prices

    forecasts_score(hsi_with_prices)
    assert Forecast.objects.get(pk=seed_forecast.pk).resolved_on == date(2025, 2, 21)
    revised = hsi_bars().loc["2025-02-14":"2025-02-28"].copy()
    revised.loc["2025-02-21", ["high", "close"]] = [23190.0, 23150.0]  # below the 23,200 target now
    provider = CannedProvider(revised, name="vendor-fix")
    from marketdata.services import fetching

    monkeypatch.setattr(fetching, "get_provider", lambda name=None: provider)
    # Refresh only the revised stretch: the newest stored bar is 2026-08-26, so ask from 2025-02-14.
    original = services.prices_refresh
    monkeypatch.setattr(
        services,
        "prices_refresh",
        lambda inst, **kw: original(inst, start=date(2025, 2, 14), **kw),
    )

    with django_capture_on_commit_callbacks(execute=True):
        summary = refresh_prices.delay(hsi_with_prices.pk).get()

    assert summary["revised_sessions"] == ["2025-02-21"]
    rev = PriceBarRevision.objects.get()
    assert (rev.session, rev.old_source, rev.new_source) == (date(2025, 2, 21), "offline", "vendor-fix")
    assert rev.old_values["close"] == pytest.approx(23477.92) and rev.new_values["close"] == 23150.0
    f = Forecast.objects.get(pk=seed_forecast.pk)
    assert (f.status, f.resolved_on) == (Status.HIT, date(2025, 2, 24))
    event = f.events.latest("id")
    assert event.action == "rescored" and "revised" in event.reason
    assert event.changes["resolved_on"] == ["2025-02-21", "2025-02-24"]


# --- NVIDIA's 10-for-1 split, end to end on real data ---------------------------------------------


@pytest.fixture
def nvda(db):
    call_command("import_prices", str(DATA / "NVDA.csv"), stdout=io.StringIO())
    return Instrument.objects.get(symbol="NVDA")


def nvda_forecast(nvda, kind: str, target: float, deadline: date) -> Forecast:
    source = SourceFactory(published_at=forecast_services.end_of_day(date(2023, 12, 15), "America/New_York"))
    return make_forecast(instrument=nvda, kind=kind, target=target, deadline=deadline, source=source)


def test_import_serves_raw_nvda_prices_and_records_the_split(nvda) -> None:
    assert list(Split.objects.filter(instrument=nvda).values_list("ex_date", "ratio")) == [
        (date(2024, 6, 10), 10.0)
    ]
    closes = dict(PriceBar.objects.filter(instrument=nvda).values_list("session", "close"))
    assert closes[date(2023, 12, 15)] == 488.9 and closes[date(2024, 6, 7)] == 1208.88
    assert closes[date(2024, 6, 10)] == 121.79
    again = call_command("import_prices", str(DATA), stdout=io.StringIO())  # the whole folder
    assert again is None and PriceBarRevision.objects.count() == 0  # re-import changes nothing


def test_a_1100_target_from_december_2023_means_110_after_the_split(nvda) -> None:
    reach = nvda_forecast(nvda, "reach", 1100, date(2024, 12, 31))
    above = nvda_forecast(nvda, "close_above", 1100, date(2024, 12, 31))
    late = nvda_forecast(nvda, "reach", 1300, date(2024, 12, 31))

    forecasts_score(nvda)

    reach.refresh_from_db(), above.refresh_from_db(), late.refresh_from_db()
    # Touched before the split, in the raw prices of the day.
    assert (reach.status, reach.resolved_on, reach.resolution_price) == (
        Status.HIT,
        date(2024, 5, 28),
        1139.01,
    )
    assert reach.baseline == 488.9 and reach.baseline_date == date(2023, 12, 15)
    # $1,100 is $110 after the split: the 2024-12-31 close of 134.29 is above it.
    assert (above.status, above.resolved_on, above.resolution_price) == (
        Status.HIT,
        date(2024, 12, 31),
        134.29,
    )
    # $1,300 is $130 after the split: first close at or above it is 2024-06-14 (131.88).
    assert (late.status, late.resolved_on, late.resolution_price) == (Status.HIT, date(2024, 6, 14), 131.88)
    for f in (reach, above, late):
        assert 0 < f.difficulty < 1


def test_the_demo_nvda_forecast_scores_as_it_did_on_adjusted_prices(nvda) -> None:
    """Baruah (Loop Capital), 2025-06-25, NVDA to $250: after the split, so raw and adjusted agree;
    the volatility history spans the split and must not see it as a -90% day."""
    from forecasts import scoring
    from marketdata.calendars import get_calendar

    source = SourceFactory(published_at=forecast_services.end_of_day(date(2025, 6, 25), "America/New_York"))
    f = make_forecast(instrument=nvda, kind="reach", target=250, deadline=date(2026, 6, 25), source=source)
    as_of = datetime(2026, 1, 2, tzinfo=UTC)
    [(_, raw_result)] = forecasts_score(nvda, as_of=as_of).results
    adjusted = scoring.score(
        forecast_services.claim_for(f), read_price_csv(DATA / "NVDA.csv"), get_calendar("XNYS"), as_of=as_of
    )
    assert raw_result.status == adjusted.status == scoring.Status.PENDING
    assert raw_result.baseline == adjusted.baseline == 154.31
    assert raw_result.difficulty == pytest.approx(adjusted.difficulty, rel=1e-9)


# --- completeness and backfill ----------------------------------------------------------------------


def test_missing_sessions_lists_the_gaps_of_the_window(hsi_with_prices) -> None:
    gaps = services.missing_sessions(hsi_with_prices, date(2026, 6, 1), date(2026, 8, 26))
    assert gaps == [date(2026, 7, 14), date(2026, 8, 4), date(2026, 8, 17)]  # METHODOLOGY §6
    assert services.missing_sessions(hsi_with_prices, date(2023, 8, 28), date(2023, 9, 11)) == []  # typhoon
    assert services.missing_sessions(
        hsi_with_prices, date(2026, 8, 24), date(2026, 9, 1), now=datetime(2026, 8, 28, 3, tzinfo=UTC)
    ) == [date(2026, 8, 27)]  # 08-28 has not closed yet at that instant


def test_history_reaches_300_sessions_before_the_earliest_baseline(hsi, seed_forecast) -> None:
    start = services.history_start(hsi)
    from marketdata.calendars import get_calendar

    assert get_calendar("XHKG").count_sessions(start, date(2025, 2, 14)) == 301


def test_backfill_task_fills_the_gaps_and_new_instruments_get_their_history(
    hsi, seed_forecast, settings
) -> None:
    from marketdata.tasks import backfill_prices

    settings.HINDSIGHT_BACKFILL_DAYS = 0
    summary = backfill_prices.delay(hsi.pk).get()  # a new instrument: offline provider fills it
    first = PriceBar.objects.filter(instrument=hsi).order_by("session").first().session
    assert first <= services.history_start(hsi) and summary["created"] > 600
    PriceBar.objects.filter(instrument=hsi, session__range=(date(2025, 1, 1), date(2025, 1, 31))).delete()
    assert len(services.missing_sessions(hsi, date(2025, 1, 1), date(2025, 1, 31))) == 19
    summary = backfill_prices.delay(hsi.pk).get()
    assert summary["created"] == 19
    assert services.missing_sessions(hsi, date(2025, 1, 1), date(2025, 1, 31)) == []


# --- locks and the schedule -------------------------------------------------------------------------


def test_db_lock_is_exclusive_and_an_expired_one_is_taken_over() -> None:
    with job_lock("refresh:1") as first:
        assert first
        with job_lock("refresh:1") as second:
            assert not second
    assert not TaskLock.objects.exists()
    TaskLock.objects.create(key="refresh:2", token="dead-worker", expires_at=datetime(2020, 1, 1, tzinfo=UTC))
    with job_lock("refresh:2") as taken:
        assert taken


def test_a_refresh_already_running_is_skipped(hsi) -> None:
    from marketdata.tasks import refresh_prices

    with job_lock(f"refresh:{hsi.pk}"):
        assert refresh_prices.delay(hsi.pk).get()["skipped"]
    assert not PriceBar.objects.exists()


@pytest.mark.parametrize(
    ("when", "refreshed"),
    [
        (datetime(2025, 2, 17, 17, 0, tzinfo=ZoneInfo("Asia/Hong_Kong")), True),
        (datetime(2025, 1, 28, 17, 0, tzinfo=ZoneInfo("Asia/Hong_Kong")), True),  # half day
        (datetime(2025, 1, 29, 17, 0, tzinfo=ZoneInfo("Asia/Hong_Kong")), False),  # Lunar New Year
        (datetime(2023, 9, 8, 17, 0, tzinfo=ZoneInfo("Asia/Hong_Kong")), False),  # black rainstorm
    ],
)
def test_refresh_market_skips_days_without_a_session(hsi, when, refreshed, monkeypatch) -> None:
    from marketdata import tasks

    queued = []
    monkeypatch.setattr(tasks.refresh_prices, "delay", lambda pk: queued.append(pk))
    monkeypatch.setattr(tasks, "backfill_gaps", lambda code=None: 0)
    with time_machine.travel(when, tick=False):
        assert tasks.refresh_market("XHKG") == (1 if refreshed else 0)
    assert queued == ([hsi.pk] if refreshed else [])


@pytest.mark.parametrize(
    ("code", "when", "expected"),
    [
        ("XNYS", datetime(2025, 7, 4, 17, 0, tzinfo=NY), False),  # Independence Day
        ("XNYS", datetime(2025, 7, 3, 17, 0, tzinfo=NY), True),  # early close 13:00
        ("24/7", datetime(2025, 12, 26, 0, 30, tzinfo=UTC), True),
        ("24/5", datetime(2025, 2, 15, 1, 0, tzinfo=UTC), True),  # Saturday run for Friday
        ("CMES", datetime(2025, 2, 17, 18, 0, tzinfo=ZoneInfo("America/Chicago")), False),  # Presidents' Day
    ],
)
def test_which_markets_traded(code, when, expected) -> None:
    from marketdata.tasks import market_closed_a_session_recently

    assert market_closed_a_session_recently(code, now=when) is expected


# --- admin -------------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, django_user_model, settings):
    settings.ROOT_URLCONF = __name__
    settings.SECURE_SSL_REDIRECT = False
    user = django_user_model.objects.create_superuser("ops", "ops@example.invalid", "pw")
    client.force_login(user)
    return client


def test_admin_pages_show_gaps_held_bars_revisions_and_fetches(staff_client, hsi_with_prices) -> None:
    for url in [
        "/admin/marketdata/instrument/",
        f"/admin/marketdata/instrument/{hsi_with_prices.pk}/change/",
        "/admin/marketdata/heldbar/",
        "/admin/marketdata/pricebarrevision/",
        "/admin/marketdata/fetchlog/",
        "/admin/marketdata/pricebar/",
        "/admin/marketdata/pricebar/upload-csv/",
    ]:
        response = staff_client.get(url)
        assert response.status_code == 200, url
    page = staff_client.get(f"/admin/marketdata/instrument/{hsi_with_prices.pk}/change/").content.decode()
    assert "2026-07-14" in page and "2026-08-17" in page


def test_admin_csv_upload_rejects_the_whole_file_naming_line_and_column(staff_client, hsi) -> None:
    bad = b"date,open,high,low,close,volume\n2025-02-14,1,2,0.5,1.5,10\n2025-02-17,1,x,0.5,1.5,10\n"
    response = staff_client.post(
        "/admin/marketdata/pricebar/upload-csv/",
        {"instrument": hsi.pk, "file": SimpleUploadedFile("hsi.csv", bad)},
    )
    assert "line 3: high &#x27;x&#x27; is not a finite number" in response.content.decode()
    weekend = b"date,close\n2025-02-14,1.5\n2025-02-15,1.6\n"
    response = staff_client.post(
        "/admin/marketdata/pricebar/upload-csv/",
        {"instrument": hsi.pk, "file": SimpleUploadedFile("hsi.csv", weekend)},
    )
    assert "line 3 (2025-02-15): not a XHKG session" in response.content.decode()
    assert not PriceBar.objects.exists()


def test_admin_csv_upload_previews_then_imports(staff_client, hsi_with_prices) -> None:
    text = (
        "date,open,high,low,close,volume\n2025-02-20,22716.71,22849.66,22436.13,22576.98,4200400000\n"
        "2025-02-21,23090.03,23190.0,22901.69,23150.0,6167300000\n"
    )
    response = staff_client.post(
        "/admin/marketdata/pricebar/upload-csv/",
        {
            "instrument": hsi_with_prices.pk,
            "file": SimpleUploadedFile("fix.csv", text.encode()),
            "source": "hkex-fix",
        },
    )
    page = response.content.decode()
    assert "2 rows: 0 new, 1 revised, 1 unchanged" in page and "23477.92" in page
    assert PriceBar.objects.get(instrument=hsi_with_prices, session=date(2025, 2, 21)).close == 23477.92
    confirm = response.context["confirm"]
    data = {name: confirm[name].value() for name in confirm.fields}
    data["confirm"] = "1"
    response = staff_client.post("/admin/marketdata/pricebar/upload-csv/", data)
    assert response.status_code == 302
    bar = PriceBar.objects.get(instrument=hsi_with_prices, session=date(2025, 2, 21))
    assert (bar.close, bar.source) == (23150.0, "hkex-fix")
    assert PriceBarRevision.objects.get().new_source == "hkex-fix"
    # Tampering with the confirmed content is refused.
    data["content"] = data["content"].replace("23150.0", "1.0")
    response = staff_client.post("/admin/marketdata/pricebar/upload-csv/", data)
    assert PriceBar.objects.get(instrument=hsi_with_prices, session=date(2025, 2, 21)).close == 23150.0


def test_admin_release_action_rescores(staff_client, hsi) -> None:
    bars = hsi_bars()
    services.upsert_price_bars(hsi, bars.loc[:"2025-04-04"], source="offline")
    crash = bars.loc["2025-04-07":"2025-04-07"].copy()
    crash[["open", "high", "low", "close"]] *= 0.5
    services.prices_refresh(hsi, provider=CannedProvider(crash), now=datetime(2025, 4, 8, tzinfo=UTC))
    held = HeldBar.objects.get()
    response = staff_client.post(
        "/admin/marketdata/heldbar/", {"action": "release", "_selected_action": [held.pk]}
    )
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == BarStatus.RELEASED and held.decided_by.username == "ops"
    assert PriceBar.objects.filter(instrument=hsi, session=date(2025, 4, 7)).exists()


def test_recent_sessions_after_the_data_end_are_missing(hsi_with_prices) -> None:
    """The bundled HSI ends on 2026-08-26; later XHKG sessions are missing once they have closed."""
    now = datetime(2026, 9, 1, tzinfo=UTC)
    gaps = services.missing_sessions(hsi_with_prices, date(2026, 8, 20), now.date(), now=now)
    assert gaps == [date(2026, 8, 27), date(2026, 8, 28), date(2026, 8, 31)]
    # Monday 31 August closes at 16:00 HKT (08:00 UTC): not missing a minute before, missing at the close.
    close = datetime(2026, 8, 31, 8, 0, tzinfo=UTC)
    before = services.missing_sessions(
        hsi_with_prices, date(2026, 8, 20), now.date(), now=close - timedelta(minutes=1)
    )
    at_close = services.missing_sessions(hsi_with_prices, date(2026, 8, 20), now.date(), now=close)
    assert (before[-1], at_close[-1]) == (date(2026, 8, 28), date(2026, 8, 31))
