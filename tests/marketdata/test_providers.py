"""Tests for marketdata.providers: the frame contract, the CSV reader and both providers.

Pure tests: no database, no network. Yahoo is faked at the HTTP-session level (see
``FakeYahooSession``), so yfinance's real request building and JSON parsing run on canned
payloads from tests/fixtures/yahoo/. pytest-socket (``--disable-socket`` in pyproject addopts)
makes any accidental real connection fail loudly.
"""

from __future__ import annotations

import copy
import io
import json
import socket
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import requests

from marketdata.providers import (
    BAR_COLUMNS,
    InstrumentRef,
    OfflineCSVProvider,
    PriceProvider,
    ProviderDataError,
    ProviderError,
    ProviderTransientError,
    SymbolNotFound,
    read_price_csv,
    resolve_symbol,
    validate_bars,
)
from tests.paths import FIXTURES

FIXTURES = FIXTURES / "yahoo"

HSI = InstrumentRef("HSI", "XHKG", "Asia/Hong_Kong")
NVDA = InstrumentRef("NVDA", "XNAS", "America/New_York")


def bars(rows: dict[str, tuple[float, float, float, float, float]]) -> pd.DataFrame:
    """Build a bar frame from {"YYYY-MM-DD": (open, high, low, close, volume)}."""
    index = pd.DatetimeIndex(list(rows), name="session").as_unit("ns")
    return pd.DataFrame(list(rows.values()), index=index, columns=list(BAR_COLUMNS), dtype="float64")


GOOD = {
    "2025-02-20": (22716.71, 22849.66, 22436.13, 22576.98, 4200400000.0),
    "2025-02-21": (23090.03, 23477.92, 22901.69, 23477.92, 6167300000.0),
}


# --- InstrumentRef and symbol resolution -----------------------------------------------


def test_instrument_ref_rejects_unknown_timezone() -> None:
    with pytest.raises(ValueError, match="Hong Kong"):
        InstrumentRef("HSI", "XHKG", "Hong Kong")


def test_instrument_ref_is_hashable_and_copies_provider_symbols() -> None:
    overrides = {"yahoo": "^HSI"}
    ref = InstrumentRef("HSI", "XHKG", "Asia/Hong_Kong", overrides)
    overrides["yahoo"] = "changed"
    assert ref.provider_symbols["yahoo"] == "^HSI"
    assert hash(ref) == hash(InstrumentRef("HSI", "XHKG", "Asia/Hong_Kong", {"yahoo": "^HSI"}))
    with pytest.raises(TypeError):
        ref.provider_symbols["yahoo"] = "x"  # type: ignore[index]


def test_resolve_symbol_prefers_override_then_default_then_symbol() -> None:
    defaults = {"HSI": "^HSI"}
    assert resolve_symbol(HSI, "yahoo", defaults) == "^HSI"
    assert (
        resolve_symbol(InstrumentRef("HSI", "XHKG", "Asia/Hong_Kong", {"yahoo": "X"}), "yahoo", defaults)
        == "X"
    )
    assert resolve_symbol(InstrumentRef("0700.HK", "XHKG", "Asia/Hong_Kong"), "yahoo", defaults) == "0700.HK"


def test_providers_satisfy_the_protocol() -> None:
    from marketdata.providers import YahooProvider

    assert isinstance(OfflineCSVProvider(), PriceProvider)
    assert isinstance(YahooProvider(session=FakeYahooSession({})), PriceProvider)


# --- validate_bars -------------------------------------------------------------------------


def test_validate_bars_returns_canonical_frame() -> None:
    df = bars(GOOD).iloc[::-1][["close", "open", "volume", "low", "high"]]  # unsorted, shuffled
    df.index = df.index.as_unit("s")
    df["volume"] = df["volume"].astype("int64")

    out = validate_bars(df, source="test")

    assert list(out.columns) == list(BAR_COLUMNS)
    assert (out.dtypes == "float64").all()
    assert out.index.dtype == "datetime64[ns]" and out.index.name == "session"
    assert out.index.is_monotonic_increasing
    assert out.attrs["source"] == "test"
    assert out.loc["2025-02-21", "close"] == 23477.92


def test_validate_bars_allows_missing_optional_values() -> None:
    df = bars({"2025-02-21": (np.nan, np.nan, np.nan, 23477.92, np.nan)})
    assert validate_bars(df, source="test")["close"].iloc[0] == 23477.92


def _set(column: str, value: Any) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df = df.astype({column: "object"}) if isinstance(value, str) else df
        df.loc[pd.Timestamp("2025-02-21"), column] = value
        return df

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set("close", np.nan), r"2025-02-21 close is missing"),
        (_set("close", 0.0), r"2025-02-21 close \(0\.0\) must be > 0"),
        (_set("low", -1.0), r"2025-02-21 low \(-1\.0\) must be > 0"),
        (_set("open", np.inf), r"2025-02-21 open \(inf\) is not finite"),
        (_set("volume", -5.0), r"2025-02-21 volume \(-5\.0\) must be >= 0"),
        (_set("high", 23000.0), r"2025-02-21 high \(23000\.0\) is below open"),
        (_set("high", 23400.0), r"2025-02-21 high \(23400\.0\) is below close"),
        (_set("low", 23100.0), r"2025-02-21 low \(23100\.0\) is above open"),
        (_set("close", "n/a"), r"2025-02-21 close is not a number"),
        (lambda df: pd.concat([df, df.iloc[[1]]]), r"2025-02-21 session appears more than once"),
        (lambda df: df.tz_localize("Asia/Hong_Kong"), r"tz-aware"),
        (
            lambda df: df.set_axis(df.index + pd.Timedelta(hours=9, minutes=30)),
            r"2025-02-20 09:30:00 .*not midnight",
        ),
        (lambda df: df.drop(columns="volume"), r"missing \['volume'\]"),
        (lambda df: df.assign(adj_close=1.0), r"unexpected \['adj_close'\]"),
        (lambda df: df.reset_index(drop=True), r"DatetimeIndex"),
    ],
)
def test_validate_bars_names_the_bad_row_and_column(
    change: Callable[[pd.DataFrame], pd.DataFrame], expected: str
) -> None:
    with pytest.raises(ProviderDataError, match=rf"^test X: .*{expected}"):
        validate_bars(change(bars(GOOD)), source="test", symbol="X")


def test_validate_bars_error_carries_session_column_and_count() -> None:
    df = bars(GOOD)
    df["close"] = np.nan
    with pytest.raises(
        ProviderDataError, match=r"2025-02-20 close is missing; close is required \(and 1 more row\)"
    ) as ei:
        validate_bars(df, source="test")
    assert ei.value.session == date(2025, 2, 20)
    assert ei.value.column == "close"


# --- read_price_csv --------------------------------------------------------------------


def test_read_price_csv_parses_blanks_as_nan_and_sorts() -> None:
    text = (
        "date,open,high,low,close,volume\n"
        "2025-02-21,,23477.92,,23477.92,\n"
        "\n"
        "2025-02-20,22716.71,22849.66,22436.13,22576.98,4200400000\n"
    )
    df = read_price_csv(io.StringIO(text))
    assert list(df.index.strftime("%Y-%m-%d")) == ["2025-02-20", "2025-02-21"]
    assert np.isnan(df.loc["2025-02-21", "open"]) and np.isnan(df.loc["2025-02-21", "volume"])
    assert df.loc["2025-02-20", "volume"] == 4_200_400_000.0
    assert df.attrs["source"] == "csv"


def test_read_price_csv_accepts_minimal_header_bytes_and_bom() -> None:
    df = read_price_csv(io.BytesIO("\ufeffDate , Close\n2025-02-21,23477.92\n".encode()))
    assert df["close"].tolist() == [23477.92]
    assert df[["open", "high", "low", "volume"]].isna().all().all()


def test_read_price_csv_reads_a_path(tmp_path: Path) -> None:
    path = tmp_path / "X.csv"
    path.write_text("date,close\n2025-02-21,1.5\n")
    assert read_price_csv(path)["close"].tolist() == [1.5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", r"file is empty"),
        ("date,open\n2025-02-21,1\n", r"line 1: header must contain 'date' and 'close'"),
        ("date,close,adj close\n2025-02-21,1,1\n", r"line 1: unknown columns \['adj close'\]"),
        ("date,close,close\n2025-02-21,1,1\n", r"repeated columns \['close'\]"),
        ("date,close\n2025-02-21,1\n21/02/2025,2\n", r"line 3: date '21/02/2025' is not a YYYY-MM-DD date"),
        ("date,close\n20250221,1\n", r"line 2: date '20250221'"),
        ("date,close\n2025-02-30,1\n", r"line 2: date '2025-02-30'"),
        ("date,close,high\n2025-02-21,1,abc\n", r"line 2: high 'abc' is not a finite number"),
        ("date,close\n2025-02-21,nan\n", r"line 2: close 'nan' is not a finite number"),
        ("date,close\n2025-02-21,1,234\n", r"line 2: expected 2 fields, got 3"),
        ("date,close\n2025-02-21,1\n2025-02-21,2\n", r"2025-02-21 session appears more than once"),
        ("date,close,high\n2025-02-21,10,9\n", r"2025-02-21 high \(9\.0\) is below close"),
        ("date,close\n2025-02-21,\n", r"2025-02-21 close is missing"),
    ],
)
def test_read_price_csv_rejects_bad_input(text: str, expected: str) -> None:
    with pytest.raises(ProviderDataError, match=expected):
        read_price_csv(io.StringIO(text), source="upload.csv")


# --- OfflineCSVProvider ----------------------------------------------------------------


@pytest.mark.parametrize("symbol", OfflineCSVProvider().available_symbols())
def test_every_bundled_csv_meets_the_contract(symbol: str) -> None:
    ref = InstrumentRef(symbol, "XXXX", "UTC")
    df = OfflineCSVProvider().fetch_daily_bars(ref, date(1990, 1, 1), date(2100, 1, 1))
    assert len(df) > 300
    assert df.attrs["source"] == "offline"


def test_offline_known_closes_and_inclusive_range() -> None:
    df = OfflineCSVProvider().fetch_daily_bars(HSI, date(2025, 2, 14), date(2025, 2, 21))
    assert df.index[0] == pd.Timestamp("2025-02-14") and df.index[-1] == pd.Timestamp("2025-02-21")
    assert df.loc["2025-02-14", "close"] == 22620.33
    assert df.loc["2025-02-21", "close"] == 23477.92
    assert len(df) == 6


def test_offline_range_without_sessions_is_empty_with_schema() -> None:
    df = OfflineCSVProvider().fetch_daily_bars(HSI, date(2025, 2, 22), date(2025, 2, 23))  # weekend
    assert df.empty
    assert list(df.columns) == list(BAR_COLUMNS) and df.index.dtype == "datetime64[ns]"


def test_offline_uses_provider_symbol_map() -> None:
    gold = InstrumentRef("GC=F", "CMES", "America/New_York", {"offline": "GC_F"})
    df = OfflineCSVProvider().fetch_daily_bars(gold, date(2024, 12, 31), date(2024, 12, 31))
    assert df["close"].tolist() == [2629.2]


@pytest.mark.parametrize("symbol", ["NOPE", "../data/HSI", "HSI/../HSI", ".hidden"])
def test_offline_unknown_or_unsafe_symbol_is_not_found(symbol: str) -> None:
    with pytest.raises(SymbolNotFound):
        OfflineCSVProvider().fetch_daily_bars(
            InstrumentRef(symbol, "X", "UTC"), date(2025, 1, 1), date(2025, 1, 2)
        )


def test_offline_splits_come_from_the_corporate_actions_file() -> None:
    df = OfflineCSVProvider().fetch_splits(NVDA, date(2024, 1, 1), date(2024, 12, 31))
    assert list(df.columns) == ["ratio"] and df.index.name == "ex_date"
    assert df["ratio"].to_dict() == {pd.Timestamp("2024-06-10"): 10.0}
    assert OfflineCSVProvider().fetch_splits(NVDA, date(2024, 6, 11), date(2024, 12, 31)).empty
    assert OfflineCSVProvider().fetch_splits(HSI, date(2024, 1, 1), date(2024, 12, 31)).empty
    with pytest.raises(SymbolNotFound):
        OfflineCSVProvider().fetch_splits(
            InstrumentRef("NOPE", "X", "UTC"), date(2024, 1, 1), date(2024, 1, 2)
        )


def test_offline_serves_raw_nvda_prices_from_the_split_adjusted_file() -> None:
    """NVDA.csv is split-adjusted (10:1 on 2024-06-10); the provider un-adjusts the rows before it."""
    df = OfflineCSVProvider().fetch_daily_bars(NVDA, date(2023, 12, 14), date(2024, 6, 11))
    # 2023-12-14 in the file: 48.39 / 48.67 / 47.422 / 48.35, volume 391,232,000 (adjusted shares)
    assert df.loc["2023-12-14"].tolist() == [483.9, 486.7, 474.22, 483.5, 39123200.0]
    assert df.loc["2024-06-07", "close"] == 1208.88  # the last pre-split close, as quoted that day
    assert df.loc["2024-06-10", "close"] == 121.79  # ex-date: unchanged
    assert OfflineCSVProvider().available_symbols().count("corporate_actions") == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("symbol,ex_date,ratio\nNVDA,2024-06-10,10\n", "header must be"),
        ("symbol,ex_date,ratio,basis\nNVDA,2024-06-10,0,adjusted_in_file\n", "line 2: ratio must be > 0"),
        ("symbol,ex_date,ratio,basis\nNVDA,2024-06-10,10,adjusted\n", "line 2: basis 'adjusted'"),
        ("symbol,ex_date,ratio,basis\nNVDA,10/06/2024,10,raw_in_file\n", "line 2: date"),
    ],
)
def test_corporate_actions_file_is_strict(tmp_path: Path, text: str, expected: str) -> None:
    from marketdata.providers.offline import read_corporate_actions

    (tmp_path / "corporate_actions.csv").write_text(text)
    with pytest.raises(ProviderDataError, match=expected):
        read_corporate_actions(tmp_path / "corporate_actions.csv")


def test_offline_custom_data_dir(tmp_path: Path) -> None:
    (tmp_path / "ABC.csv").write_text("date,close\n2025-01-02,10\n2025-01-03,11\n")
    provider = OfflineCSVProvider(tmp_path)
    assert provider.available_symbols() == ["ABC"]
    df = provider.fetch_daily_bars(InstrumentRef("ABC", "X", "UTC"), date(2025, 1, 3), date(2025, 1, 3))
    assert df["close"].tolist() == [11.0]


# --- Yahoo: fake HTTP session ----------------------------------------------------------

ChartReply = dict[str, Any] | tuple[int, str | dict[str, Any]] | Exception


class FakeYahooSession(requests.Session):
    """Stands in for Yahoo at the HTTP-session seam yfinance exposes (``Ticker(session=...)``).

    A ``requests.Session`` subclass because yfinance 1.7 only accepts curl_cffi or requests
    sessions; overriding ``request`` catches every get/post yfinance makes. Serves:
    the cookie (fc.yahoo.com) and crumb endpoints, consent pages (hit on yfinance's retry
    after a 4xx), and ``/v8/finance/chart/<symbol>`` from ``charts``:
      * a dict: a chart payload served with 200, cut to the request's period1..period2 as
        Yahoo does (no sessions left -> Yahoo's "meta only" shape);
      * ``(status, body)``: served as is (a dict body is JSON-encoded);
      * an exception: raised, like a timeout from the HTTP client.
    Unknown chart symbols get Yahoo's 404 body. Any other URL is a test failure.
    """

    def __init__(self, charts: dict[str, ChartReply]):
        super().__init__()
        self.charts = charts
        self.calls: list[tuple[str, str, dict[str, Any], Any]] = []
        self.unexpected: list[str] = []

    def request(self, method: str, url: str, params: Any = None, timeout: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        params = dict(params or {})
        self.calls.append((method, url, params, timeout))
        if url.startswith("https://fc.yahoo.com"):
            return _response(url, 404, "")
        if url.endswith("/v1/test/getcrumb"):
            return _response(url, 200, "FakeCrumb123")
        if "consent.yahoo.com" in url or "guce.yahoo.com" in url:
            return _response(url, 200, "<html><body>consent</body></html>")
        if "/v8/finance/chart/" in url:
            symbol = url.rsplit("/", 1)[1]
            reply = self.charts.get(symbol, (404, _fixture_json("chart_not_found_404.json")))
            if isinstance(reply, Exception):
                raise reply
            if isinstance(reply, tuple):
                return _response(url, *reply)
            return _response(url, 200, _cut_to_period(reply, params))
        self.unexpected.append(url)
        raise AssertionError(f"unexpected request to {url}")

    def chart_calls(self) -> list[tuple[str, dict[str, Any], Any]]:
        return [
            (url, params, timeout) for _m, url, params, timeout in self.calls if "/v8/finance/chart/" in url
        ]


def _response(url: str, status: int, body: str | dict[str, Any]) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.url = url
    response.encoding = "utf-8"
    response._content = (json.dumps(body) if isinstance(body, dict) else body).encode()
    return response


def _cut_to_period(payload: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    lo, hi = int(params["period1"]), int(params["period2"])
    payload = copy.deepcopy(payload)
    result = payload["chart"]["result"][0]
    keep = [i for i, ts in enumerate(result.get("timestamp", [])) if lo <= ts < hi]
    if not keep:
        # What Yahoo sends for a known symbol with no sessions in the range.
        result.pop("timestamp", None)
        result.pop("events", None)
        result["indicators"] = {"quote": [{}], "adjclose": [{}]}
        return payload
    result["timestamp"] = [result["timestamp"][i] for i in keep]
    quote = result["indicators"]["quote"][0]
    for key in quote:
        quote[key] = [quote[key][i] for i in keep]
    adj = result["indicators"]["adjclose"][0]
    adj["adjclose"] = [adj["adjclose"][i] for i in keep]
    for kind, events in result.get("events", {}).items():
        result["events"][kind] = {k: v for k, v in events.items() if lo <= v["date"] < hi}
    return payload


def _fixture_json(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def _hsi_payload() -> dict[str, Any]:
    return _fixture_json("chart_HSI_2025-02-14_2025-02-24.json")


def _nvda_payload() -> dict[str, Any]:
    return _fixture_json("chart_NVDA_2024-06-04_2024-06-14.json")


def _set_quote(payload: dict[str, Any], day: str, field: str, value: Any, tz: str) -> dict[str, Any]:
    result = payload["chart"]["result"][0]
    ts = int(datetime.fromisoformat(f"{day}T09:30").replace(tzinfo=ZoneInfo(tz)).timestamp())
    result["indicators"]["quote"][0][field][result["timestamp"].index(ts)] = value
    return payload


@pytest.fixture(scope="module", autouse=True)
def _isolated_yfinance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep yfinance's sqlite caches out of ~/.cache and its process-wide session clean."""
    import yfinance as yf
    from yfinance.data import YfData

    yf.set_tz_cache_location(str(tmp_path_factory.mktemp("yfinance-cache")))
    yield
    # yfinance keeps one session for the whole process; don't leave a fake installed.
    from curl_cffi import requests as curl_requests

    YfData(session=curl_requests.Session(impersonate="chrome"))


@pytest.fixture
def yahoo() -> Iterator[Callable[[dict[str, ChartReply]], tuple[Any, FakeYahooSession]]]:
    from marketdata.providers import YahooProvider

    sessions: list[FakeYahooSession] = []

    def make(charts: dict[str, ChartReply]) -> tuple[Any, FakeYahooSession]:
        session = FakeYahooSession(charts)
        sessions.append(session)
        return YahooProvider(session=session, timeout=7.5), session

    yield make
    for session in sessions:
        assert session.unexpected == []


# yfinance 1.7 calls pandas methods with inplace=True, which pandas 3.1 deprecates (Pandas4Warning).
yahoo_warnings = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame:DeprecationWarning")


# --- Yahoo: tests ----------------------------------------------------------------------


@yahoo_warnings
def test_yahoo_hsi_matches_bundled_csv(yahoo: Any) -> None:
    provider, _ = yahoo({"^HSI": _hsi_payload()})

    df = provider.fetch_daily_bars(HSI, date(2025, 2, 18), date(2025, 2, 21))

    assert df.attrs["source"] == "yahoo"
    assert df.loc["2025-02-21", "close"] == 23477.92  # float32 23477.919921875 on the wire
    expected = OfflineCSVProvider().fetch_daily_bars(HSI, date(2025, 2, 18), date(2025, 2, 21))
    pd.testing.assert_frame_equal(df, expected, check_exact=True)


@yahoo_warnings
def test_yahoo_request_shape(yahoo: Any) -> None:
    provider, session = yahoo({"^HSI": _hsi_payload()})

    provider.fetch_daily_bars(HSI, date(2025, 2, 18), date(2025, 2, 21))

    # Exactly one chart request: the exchange time zone is seeded, so yfinance does not
    # make its own time-zone lookup (which would also hit the chart endpoint).
    [(url, params, timeout)] = session.chart_calls()
    assert url == "https://query2.finance.yahoo.com/v8/finance/chart/^HSI"
    assert params["interval"] == "1d"
    assert "splits" in params["events"]
    # One day of slack before start, in exchange time; period2 is "now" (splits need it).
    assert params["period1"] == int(datetime(2025, 2, 17, tzinfo=ZoneInfo("Asia/Hong_Kong")).timestamp())
    assert params["period2"] > int(datetime(2025, 2, 22, tzinfo=ZoneInfo("Asia/Hong_Kong")).timestamp())
    assert timeout == 7.5


@yahoo_warnings
def test_yahoo_provider_symbol_override(yahoo: Any) -> None:
    provider, session = yahoo({"^HSI": _hsi_payload()})
    ref = InstrumentRef("HANGSENG", "XHKG", "Asia/Hong_Kong", {"yahoo": "^HSI", "offline": "HSI"})

    df = provider.fetch_daily_bars(ref, date(2025, 2, 21), date(2025, 2, 21))

    assert df["close"].tolist() == [23477.92]
    assert session.chart_calls()[0][0].endswith("/chart/^HSI")


@pytest.mark.parametrize(
    ("symbol", "yahoo_symbol"),
    [
        ("HSI", "^HSI"),
        ("HSCEI", "^HSCE"),
        ("HSTECH", "HSTECH.HK"),
        ("GSPC", "^GSPC"),
        ("IXIC", "^IXIC"),
        ("NDX", "^NDX"),
        ("GC_F", "GC=F"),
        ("BTC-USD", "BTC-USD"),
        ("0700.HK", "0700.HK"),
        ("NVDA", "NVDA"),
    ],
)
def test_yahoo_default_symbols(symbol: str, yahoo_symbol: str) -> None:
    from marketdata.providers import YahooProvider

    provider = YahooProvider(session=FakeYahooSession({}))
    assert provider.symbol_for(InstrumentRef(symbol, "X", "UTC")) == yahoo_symbol


@yahoo_warnings
def test_yahoo_weekend_and_future_ranges_are_empty(yahoo: Any) -> None:
    provider, _ = yahoo({"^HSI": _hsi_payload()})

    weekend = provider.fetch_daily_bars(HSI, date(2025, 2, 22), date(2025, 2, 23))
    # Nothing from start to "now" in the fixture: Yahoo answers 200 with meta only.
    later = provider.fetch_daily_bars(HSI, date(2025, 3, 3), date(2025, 3, 7))

    for df in (weekend, later):
        assert df.empty
        assert list(df.columns) == list(BAR_COLUMNS)
        assert df.attrs["source"] == "yahoo"


@yahoo_warnings
def test_yahoo_unapplies_split_to_return_raw_quotes(yahoo: Any) -> None:
    provider, _ = yahoo({"NVDA": _nvda_payload()})

    df = provider.fetch_daily_bars(NVDA, date(2024, 6, 5), date(2024, 6, 12))

    # Yahoo sends 2024-06-07 as 120.888 (split-adjusted); the day's real quote was 1208.88.
    assert df.loc["2024-06-07"].tolist() == [1197.7, 1216.92, 1180.22, 1208.88, 41_238_600.0]
    assert df.loc["2024-06-06", "close"] == 1209.98
    # From the ex-date on, prices are already raw.
    assert df.loc["2024-06-10"].tolist() == [120.37, 123.1, 117.01, 121.79, 313_434_100.0]
    # Adj Close (dividend-adjusted) is ignored.
    assert df.loc["2024-06-12", "close"] == 125.2
    assert list(df.index.strftime("%Y-%m-%d")) == [
        "2024-06-05", "2024-06-06", "2024-06-07", "2024-06-10", "2024-06-11", "2024-06-12",
    ]  # fmt: skip


@yahoo_warnings
def test_yahoo_unapplies_splits_after_the_window(yahoo: Any) -> None:
    """A window that ends before the split is still split-adjusted by Yahoo; undo it too."""
    provider, _ = yahoo({"NVDA": _nvda_payload()})

    df = provider.fetch_daily_bars(NVDA, date(2024, 6, 4), date(2024, 6, 7))

    assert df["close"].tolist() == [1164.37, 1224.4, 1209.98, 1208.88]


@yahoo_warnings
def test_yahoo_fetch_splits(yahoo: Any) -> None:
    provider, _ = yahoo({"NVDA": _nvda_payload()})

    splits = provider.fetch_splits(NVDA, date(2024, 6, 1), date(2024, 6, 30))
    none = provider.fetch_splits(NVDA, date(2024, 6, 11), date(2024, 6, 30))

    assert splits.index.tolist() == [pd.Timestamp("2024-06-10")]
    assert splits.index.name == "ex_date" and splits["ratio"].tolist() == [10.0]
    assert splits.attrs["source"] == "yahoo"
    assert none.empty and list(none.columns) == ["ratio"]


@yahoo_warnings
def test_yahoo_refuses_split_that_yahoo_has_not_applied_yet(yahoo: Any) -> None:
    payload = _nvda_payload()
    quote = payload["chart"]["result"][0]["indicators"]["quote"][0]
    for field in ("open", "high", "low", "close"):
        quote[field] = [v * 10 if i < 4 else v for i, v in enumerate(quote[field])]  # 4 pre-split rows
    provider, _ = yahoo({"NVDA": payload})

    with pytest.raises(ProviderDataError, match=r"2024-06-10 split 10:1 .* look unadjusted") as ei:
        provider.fetch_daily_bars(NVDA, date(2024, 6, 4), date(2024, 6, 14))
    assert ei.value.session == date(2024, 6, 10)


@yahoo_warnings
def test_yahoo_rate_limit_is_transient(yahoo: Any) -> None:
    provider, _ = yahoo({"^HSI": (429, (FIXTURES / "rate_limited_429.txt").read_text())})

    with pytest.raises(ProviderTransientError, match="rate limited"):
        provider.fetch_daily_bars(HSI, date(2025, 2, 18), date(2025, 2, 21))


@yahoo_warnings
@pytest.mark.parametrize(
    "reply",
    [
        (503, "<html><body>Will be right back...</body></html>"),
        (502, "<html><body>Bad Gateway</body></html>"),
        (
            500,
            {"finance": {"result": None, "error": {"code": "Internal Server Error", "description": "oops"}}},
        ),
        (500, {"chart": {"result": None, "error": {"code": "Internal Server Error", "description": "oops"}}}),
    ],
)
def test_yahoo_server_errors_are_transient(yahoo: Any, reply: ChartReply) -> None:
    provider, _ = yahoo({"^HSI": reply})

    with pytest.raises(ProviderTransientError, match=r"HTTP 50\d|maintenance"):
        provider.fetch_daily_bars(HSI, date(2025, 2, 18), date(2025, 2, 21))


@yahoo_warnings
def test_yahoo_timeout_is_transient(yahoo: Any) -> None:
    from curl_cffi.requests.exceptions import ReadTimeout

    provider, _ = yahoo({"^HSI": ReadTimeout("Operation timed out after 7500 milliseconds")})

    with pytest.raises(ProviderTransientError, match="network error"):
        provider.fetch_daily_bars(HSI, date(2025, 2, 18), date(2025, 2, 21))


@yahoo_warnings
def test_yahoo_unknown_symbol(yahoo: Any) -> None:
    provider, session = yahoo({})

    with pytest.raises(SymbolNotFound, match="symbol may be delisted"):
        provider.fetch_daily_bars(
            InstrumentRef("NOPE.HK", "XHKG", "Asia/Hong_Kong"), date(2025, 2, 18), date(2025, 2, 21)
        )
    with pytest.raises(SymbolNotFound):
        provider.fetch_splits(
            InstrumentRef("NOPE.HK", "XHKG", "Asia/Hong_Kong"), date(2025, 2, 18), date(2025, 2, 21)
        )
    # yfinance retries a 4xx once with its other cookie strategy; never the quoteSummary fallback.
    assert session.chart_calls(), "the provider never asked Yahoo"
    assert all("/v8/finance/chart/NOPE.HK" in url for url, _p, _t in session.chart_calls())
    assert not any("quoteSummary" in url for _m, url, _p, _t in session.calls)


@yahoo_warnings
def test_yahoo_non_json_200_is_a_data_error(yahoo: Any) -> None:
    provider, _ = yahoo({"^HSI": (200, "<html>not json</html>")})

    with pytest.raises(ProviderDataError, match="not JSON"):
        provider.fetch_daily_bars(HSI, date(2025, 2, 18), date(2025, 2, 21))


@yahoo_warnings
def test_yahoo_malformed_payload_is_a_data_error(yahoo: Any) -> None:
    payload = _hsi_payload()
    del payload["chart"]["result"][0]["timestamp"]
    provider, _ = yahoo({"^HSI": (200, payload)})

    with pytest.raises(ProviderDataError, match="malformed"):
        provider.fetch_daily_bars(HSI, date(2025, 2, 18), date(2025, 2, 21))


@yahoo_warnings
@pytest.mark.parametrize(
    ("day", "field", "value", "expected"),
    [
        ("2025-02-20", "close", None, r"yahoo \^HSI: 2025-02-20 close is missing"),
        ("2025-02-19", "low", -22649.49, r"yahoo \^HSI: 2025-02-19 low \(-22649\.49\) must be > 0"),
        ("2025-02-18", "high", 20000.0, r"yahoo \^HSI: 2025-02-18 high \(20000\.0\) is below open"),
    ],
)
def test_yahoo_bad_values_name_date_and_column(
    yahoo: Any, day: str, field: str, value: Any, expected: str
) -> None:
    provider, _ = yahoo({"^HSI": _set_quote(_hsi_payload(), day, field, value, "Asia/Hong_Kong")})

    with pytest.raises(ProviderDataError, match=expected) as ei:
        provider.fetch_daily_bars(HSI, date(2025, 2, 17), date(2025, 2, 21))
    assert ei.value.session == date.fromisoformat(day)
    assert ei.value.column == field


@yahoo_warnings
def test_yahoo_bad_value_outside_window_does_not_fail_the_window(yahoo: Any) -> None:
    provider, _ = yahoo({"^HSI": _set_quote(_hsi_payload(), "2025-02-24", "close", None, "Asia/Hong_Kong")})

    df = provider.fetch_daily_bars(HSI, date(2025, 2, 17), date(2025, 2, 21))

    assert len(df) == 5


def test_errors_form_one_hierarchy() -> None:
    for error in (ProviderTransientError, ProviderDataError, SymbolNotFound):
        assert issubclass(error, ProviderError)


@pytest.mark.filterwarnings("ignore:A test tried to use socket:UserWarning")
def test_network_is_blocked() -> None:
    """Guard for the guard: pytest-socket must make real connections fail in this suite."""
    from pytest_socket import SocketBlockedError, SocketConnectBlockedError

    with pytest.raises((SocketBlockedError, SocketConnectBlockedError)):
        socket.create_connection(("192.0.2.1", 443), timeout=1)  # TEST-NET-1, never routable
