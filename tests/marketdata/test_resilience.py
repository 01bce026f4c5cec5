"""Vendors misbehaving: time-outs, retries, rate limit, circuit breaker, fallback, and the two
fallback adapters (akshare for Hong Kong, ccxt for crypto) on canned payloads. No network."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from django.core.cache import cache

from marketdata import resilience, services
from marketdata.models import FetchLog, FetchOutcome, PriceBar
from marketdata.providers import (
    InstrumentRef,
    ProviderDataError,
    ProviderError,
    ProviderTransientError,
    SymbolNotFound,
    read_price_csv,
)
from marketdata.providers.akshare_hk import AkshareHKProvider
from marketdata.providers.ccxt_crypto import CCXTProvider
from marketdata.resilience import CircuitBreaker, CircuitOpen, RateLimitTimeout, guarded_call
from marketdata.services import fetching
from tests.paths import FIXTURES, PRICE_DATA

FIXTURES = FIXTURES
DATA = PRICE_DATA
HSI_REF = InstrumentRef("HSI", "XHKG", "Asia/Hong_Kong")
BTC_REF = InstrumentRef("BTC-USD", "24/7", "UTC")


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.HINDSIGHT_PROVIDER_BACKOFF = 0.0
    settings.HINDSIGHT_PROVIDER_ATTEMPTS = 3
    settings.HINDSIGHT_PROVIDER_TIMEOUT = 2.0
    settings.HINDSIGHT_BREAKER_THRESHOLD = 3
    settings.HINDSIGHT_BREAKER_COOLDOWN = 60
    settings.HINDSIGHT_PROVIDER_RATES = {}  # the rate-limit test sets its own
    cache.clear()
    yield
    cache.clear()


# --- canned vendor payloads -----------------------------------------------------------------


def akshare_hsi() -> pd.DataFrame:
    payload = json.loads((FIXTURES / "akshare" / "stock_hk_index_daily_sina_HSI.json").read_text())
    return pd.DataFrame(payload["records"])


class FakeExchange:
    """ccxt-shaped exchange serving canned daily candles."""

    def __init__(self, candles=None, error: Exception | None = None):
        self.candles = candles
        self.error = error
        self.calls: list[tuple] = []

    def fetch_ohlcv(self, pair, timeframe="1d", since=None, limit=None):
        self.calls.append((pair, timeframe, since, limit))
        if self.error:
            raise self.error
        return [c for c in self.candles if c[0] >= since][:limit]


def ccxt_candles() -> list:
    return json.loads((FIXTURES / "ccxt" / "fetch_ohlcv_BTC_USD_1d.json").read_text())["candles"]


# ccxt's error classes are matched by name, so stand-ins with the same names behave the same.
class NetworkError(Exception):
    pass


class RequestTimeout(NetworkError):
    pass


class BadSymbol(Exception):
    pass


class Timeout(Exception):  # requests.exceptions.Timeout, by name
    pass


# --- akshare adapter --------------------------------------------------------------------------


def test_akshare_hsi_matches_the_bundled_yahoo_history() -> None:
    provider = AkshareHKProvider(fetchers={"index": lambda symbol: akshare_hsi(), "stock": None})
    got = provider.fetch_daily_bars(HSI_REF, date(2025, 2, 14), date(2025, 2, 21))
    expected = read_price_csv(DATA / "HSI.csv").loc["2025-02-14":"2025-02-21"]
    pd.testing.assert_frame_equal(got, expected, check_freq=False, check_like=False)
    assert got.attrs["source"] == "akshare"


def test_akshare_stock_symbol_map_asks_for_raw_prices_and_reads_chinese_columns() -> None:
    asked = {}

    def stock(symbol, adjust):
        asked.update(symbol=symbol, adjust=adjust)
        return pd.DataFrame(
            {
                "日期": ["2025-02-14"],
                "开盘": [84.0],
                "最高": [85.5],
                "最低": [83.9],
                "收盘": [85.0],
                "成交量": [1.0e7],
                "成交额": [8.5e8],
            }
        )

    ref = InstrumentRef("0941.HK", "XHKG", "Asia/Hong_Kong")
    got = AkshareHKProvider(fetchers={"index": None, "stock": stock}).fetch_daily_bars(
        ref, date(2025, 2, 14), date(2025, 2, 14)
    )
    assert asked == {"symbol": "00941", "adjust": ""}
    assert got["close"].tolist() == [85.0]


@pytest.mark.parametrize(
    ("error", "expected"),
    [(Timeout("read timed out"), ProviderTransientError), (KeyError("data"), ProviderDataError)],
)
def test_akshare_errors_are_classified(error: Exception, expected: type) -> None:
    def boom(symbol):
        raise error

    with pytest.raises(expected):
        AkshareHKProvider(fetchers={"index": boom, "stock": None}).fetch_daily_bars(
            HSI_REF, date(2025, 2, 14), date(2025, 2, 21)
        )


# --- ccxt adapter -----------------------------------------------------------------------------


def test_ccxt_daily_candles_are_utc_sessions_from_the_pinned_venue() -> None:
    exchange = FakeExchange(ccxt_candles())
    opened = []
    provider = CCXTProvider(exchange_factory=lambda venue, timeout: opened.append(venue) or exchange)
    got = provider.fetch_daily_bars(BTC_REF, date(2025, 2, 12), date(2025, 2, 18))
    expected = read_price_csv(DATA / "BTC-USD.csv").loc["2025-02-12":"2025-02-18"]
    pd.testing.assert_frame_equal(got, expected, check_freq=False)
    assert opened == ["bitstamp"] and exchange.calls[0][:2] == ("BTC/USD", "1d")
    assert exchange.calls[0][2] == int(datetime(2025, 2, 12, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RequestTimeout("timed out"), ProviderTransientError),
        (BadSymbol("bitstamp does not have market symbol XYZ/USD"), SymbolNotFound),
    ],
)
def test_ccxt_errors_are_classified(error: Exception, expected: type) -> None:
    provider = CCXTProvider(exchange_factory=lambda venue, timeout: FakeExchange(error=error))
    with pytest.raises(expected):
        provider.fetch_daily_bars(BTC_REF, date(2025, 2, 12), date(2025, 2, 18))


def test_ccxt_needs_a_venue_in_its_symbol_map() -> None:
    with pytest.raises(SymbolNotFound, match="exchange:BASE/QUOTE"):
        CCXTProvider(exchange_factory=lambda v, t: None).fetch_daily_bars(
            InstrumentRef("DOGE-USD", "24/7", "UTC"), date(2025, 1, 1), date(2025, 1, 2)
        )


# --- time-outs, retries, breaker, rate limit --------------------------------------------------


def test_a_hanging_vendor_call_times_out_as_transient() -> None:
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(ProviderTransientError, match=r"no answer within 0\.2s"):
        resilience.call_with_timeout(lambda: release.wait(10), timeout=0.2, label="slow")
    assert time.monotonic() - started < 2
    release.set()


def test_transient_errors_are_retried_then_succeed() -> None:
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ProviderTransientError("HTTP 503")
        return "bars"

    assert guarded_call("flaky", flaky, sleep=lambda s: None) == "bars"
    assert len(calls) == 3
    assert CircuitBreaker("flaky").state() == "closed" and CircuitBreaker("flaky").failures() == 0


@pytest.mark.parametrize("error", [SymbolNotFound("nope"), ProviderDataError("bad payload")])
def test_permanent_errors_are_not_retried(error: ProviderError) -> None:
    calls = []

    def fail():
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        guarded_call("permanent", fail)
    assert len(calls) == 1


def test_the_breaker_opens_stops_calling_then_lets_one_probe_through(monkeypatch) -> None:
    calls = []

    def down():
        calls.append(1)
        raise ProviderTransientError("HTTP 502")

    for _ in range(3):  # threshold 3, each call = 3 attempts
        with pytest.raises(ProviderTransientError):
            guarded_call("down", down, attempts=1)
    assert CircuitBreaker("down").state() == "open"
    with pytest.raises(CircuitOpen):
        guarded_call("down", down)
    assert len(calls) == 3  # not called while open

    later = time.time() + 61
    monkeypatch.setattr(resilience.time, "time", lambda: later)
    breaker = CircuitBreaker("down")
    assert breaker.state() == "half-open"
    assert breaker.allow() is True and breaker.allow() is False  # one probe only, across workers
    breaker.record_success()
    assert breaker.state() == "closed"


def test_a_failed_probe_opens_the_breaker_again(monkeypatch) -> None:
    breaker = CircuitBreaker("probe", threshold=1, cooldown=60)
    breaker.record_failure()
    later = time.time() + 61
    monkeypatch.setattr(resilience.time, "time", lambda: later)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state() == "open"


def test_the_rate_limit_is_shared_per_provider(settings) -> None:
    settings.HINDSIGHT_PROVIDER_RATES = {"limited-test": 2}
    resilience.acquire_rate_limit("limited-test", timeout=0.05)
    resilience.acquire_rate_limit("limited-test", timeout=0.05)
    with pytest.raises(RateLimitTimeout):
        resilience.acquire_rate_limit("limited-test", timeout=0.05)
    resilience.acquire_rate_limit("unlimited-test", timeout=0.05)  # no rate configured


# --- fallback, through the database -------------------------------------------------------------


class DownProvider:
    name = "yahoo-down"

    def __init__(self, error: Exception | None = None):
        self.error = error or ProviderTransientError("yahoo ^HSI: Yahoo answered HTTP 503")
        self.calls = 0

    def fetch_daily_bars(self, ref, start, end):
        self.calls += 1
        raise self.error

    def fetch_splits(self, ref, start, end):
        raise self.error


@pytest.mark.django_db
def test_when_the_primary_fails_the_fallback_fills_in_and_the_admin_log_shows_it(hsi, settings) -> None:
    down = DownProvider()
    akshare = AkshareHKProvider(fetchers={"index": lambda symbol: akshare_hsi(), "stock": None})
    result = services.fetch_with_fallback(
        hsi, date(2025, 2, 10), date(2025, 2, 24), providers=[down, akshare]
    )
    assert result.provider == "akshare" and result.fallback_used
    logs = list(FetchLog.objects.order_by("id").values_list("provider", "outcome", "fallback_used"))
    assert logs == [("yahoo-down", FetchOutcome.FAILED, False), ("akshare", FetchOutcome.OK, True)]
    assert "HTTP 503" in FetchLog.objects.get(provider="yahoo-down").error
    assert down.calls == 3  # retried (transient), then given up

    refreshed = services.prices_refresh(
        hsi, provider=akshare, now=datetime(2025, 2, 25, tzinfo=UTC), start=date(2025, 2, 10)
    )
    assert refreshed.upsert.created == 11
    assert set(PriceBar.objects.filter(instrument=hsi).values_list("source", flat=True)) == {"akshare"}


@pytest.mark.django_db
def test_the_chain_comes_from_settings_and_skips_an_open_circuit(hsi, settings, monkeypatch) -> None:
    settings.HINDSIGHT_PRICE_PROVIDER = "yahoo-down"
    settings.HINDSIGHT_FALLBACK_PROVIDERS = {"XHKG": ["akshare"]}
    down = DownProvider()
    akshare = AkshareHKProvider(fetchers={"index": lambda symbol: akshare_hsi(), "stock": None})
    monkeypatch.setattr(
        fetching, "get_provider", lambda name=None: {"yahoo-down": down, "akshare": akshare}[name]
    )
    assert services.provider_chain(hsi) == ["yahoo-down", "akshare"]
    for _ in range(3):
        services.fetch_with_fallback(hsi, date(2025, 2, 10), date(2025, 2, 24))
    assert CircuitBreaker("yahoo-down").state() == "open"
    calls = down.calls
    services.fetch_with_fallback(hsi, date(2025, 2, 10), date(2025, 2, 24))
    assert down.calls == calls  # not hammered while open
    assert FetchLog.objects.filter(provider="yahoo-down", outcome=FetchOutcome.CIRCUIT_OPEN).count() == 1


@pytest.mark.django_db
def test_when_every_provider_fails_nothing_is_written_and_the_task_can_retry(hsi) -> None:
    with pytest.raises(ProviderTransientError):
        services.prices_refresh(
            hsi, provider=DownProvider(), now=datetime(2025, 2, 25, tzinfo=UTC), start=date(2025, 2, 10)
        )
    assert not PriceBar.objects.filter(instrument=hsi).exists()
    assert FetchLog.objects.get().outcome == FetchOutcome.FAILED


@pytest.mark.django_db
def test_a_malformed_payload_is_rejected_whole_with_its_reason(hsi) -> None:
    def garbage(symbol):
        frame = akshare_hsi()
        frame.loc[3, "high"] = 1.0  # high below close on 2025-02-13
        return frame

    akshare = AkshareHKProvider(fetchers={"index": garbage, "stock": None})
    with pytest.raises(ProviderDataError):
        services.fetch_with_fallback(hsi, date(2025, 2, 10), date(2025, 2, 24), providers=[akshare])
    assert "2025-02-13 high" in FetchLog.objects.get().error


@pytest.mark.services
def test_with_redis_the_lock_and_the_rate_limit_are_shared_between_processes(settings) -> None:
    import os
    import uuid

    from marketdata.locks import job_lock
    from tests.conftest import require_service

    url = os.environ.get("HINDSIGHT_TEST_REDIS_URL", "")
    require_service("Redis", bool(url))
    settings.REDIS_URL = url
    key = f"test-{uuid.uuid4().hex}"
    with job_lock(key) as first, job_lock(key) as second:
        assert (first, second) == (True, False)
    with job_lock(key) as again:
        assert again
    settings.HINDSIGHT_PROVIDER_RATES = {key: 1}
    resilience.acquire_rate_limit(key, timeout=0.05)
    resilience._limiter.cache_clear()  # a fresh limiter, as in another process: same Redis bucket
    with pytest.raises(RateLimitTimeout):
        resilience.acquire_rate_limit(key, timeout=0.05)
