import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

HK = ZoneInfo("Asia/Hong_Kong")
REQUIRE_SERVICES = os.environ.get("HINDSIGHT_REQUIRE_SERVICES") == "1"


def require_service(name: str, available: bool) -> None:
    """Skip a service test locally when the service is missing; fail it in CI."""
    if available:
        return
    message = f"{name} is not available (run the suite through `make test`, which starts it)"
    if REQUIRE_SERVICES:
        pytest.fail(message + " — required in CI")
    pytest.skip(message)


@pytest.fixture(scope="module")
def _demo_data(django_db_setup, django_db_blocker):
    """The demo loaded once per test module; each test runs in a transaction rolled back after it."""
    from io import StringIO

    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("load_demo", "--no-admin", stdout=StringIO())
    yield
    with django_db_blocker.unblock():
        call_command("flush", "--no-input")


@pytest.fixture
def demo(_demo_data, db):
    """The demo data (real prices, the seed and the other demo forecasts, all scored)."""
    return None


@pytest.fixture
def hsi(db):
    from marketdata.services import get_or_create_instrument

    return get_or_create_instrument("HSI")[0]


@pytest.fixture
def hsi_with_prices(hsi):
    """HSI with its real bundled history loaded (2021-06-24 .. 2026-08-26)."""
    from django.conf import settings

    from marketdata.providers.offline import read_price_csv
    from marketdata.services import upsert_price_bars

    bars = read_price_csv(settings.HINDSIGHT_OFFLINE_DATA_DIR / "HSI.csv")
    upsert_price_bars(hsi, bars, source="offline")
    return hsi


@pytest.fixture
def seed_forecast(hsi):
    """Alvin Ngan's HSI 23,200 call from the China Daily HK article of 2025-02-14 (date only)."""
    from forecasts import services

    firm = services.firm_get_or_create("Zhongtai Financial International")
    ngan = services.strategist_get_or_create("Alvin Ngan", firm=firm)
    source, _ = services.source_get_or_create(
        url="https://www.chinadailyhk.com/hk/article/604533",
        publication="China Daily HK",
        title="Hong Kong stocks rallied on Friday",
        published=date(2025, 2, 14),
        tz_name="Asia/Hong_Kong",
    )
    return services.forecast_create(
        strategist=ngan,
        source=source,
        instrument=hsi,
        kind="reach",
        target=23200,
        quote="the HSI could reclaim last year's peak of around 23,200 points",
    )


def hk(*args) -> datetime:
    return datetime(*args, tzinfo=HK)
