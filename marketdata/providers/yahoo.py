"""Yahoo Finance daily bars through yfinance, returned as the raw quotes of each day.

Targets are quoted in raw prices, so this provider:
  * ignores "Adj Close" (dividend- and split-adjusted);
  * undoes Yahoo's split adjustment: Yahoo's OHLC and volume are split-adjusted even with
    ``auto_adjust=False``, so prices before each split's ex-date are multiplied by the
    split ratio and volume divided by it;
  * rounds prices to Yahoo's ``priceHint`` decimals, because Yahoo serialises float32 values
    (23477.92 arrives as 23477.919921875) and a "touch" rule must see 23477.92.

Split adjustment covers every split up to *today*, not just those inside the requested
window, so each call downloads daily bars from ``start`` to today (a few hundred rows per
year) and trims afterwards. Yahoo dates daily bars in the exchange's time zone; those dates
are used as the session dates.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd
import requests
import yfinance as yf
from curl_cffi import requests as curl_requests
from yfinance.exceptions import YFDataException, YFException, YFRateLimitError, YFTickerMissingError

from .base import (
    InstrumentRef,
    ProviderDataError,
    ProviderError,
    ProviderTransientError,
    SymbolNotFound,
    empty_bars,
    empty_splits,
    resolve_symbol,
    validate_bars,
)

logger = logging.getLogger(__name__)

# Our symbol -> Yahoo symbol. Anything not listed (0700.HK, AAPL, BTC-USD) is sent as is.
YAHOO_DEFAULT_SYMBOLS: Mapping[str, str] = MappingProxyType(
    {
        "HSI": "^HSI",
        "HSCEI": "^HSCE",
        # Yahoo quotes the Hang Seng TECH index as HSTECH.HK (not ^HSTECH). Its daily history
        # has been patchy (yfinance issue #1763 saw only the current day); unverified here.
        "HSTECH": "HSTECH.HK",
        "GSPC": "^GSPC",
        "IXIC": "^IXIC",
        "NDX": "^NDX",
        "GC_F": "GC=F",
    }
)

_CHART_PATH = "/v8/finance/chart/"
# HTTP statuses worth retrying besides 5xx: Yahoo answers its crumb/consent hiccups with
# 401/403, and 408 is a server-side timeout.
_TRANSIENT_STATUSES = frozenset({401, 403, 408, 429})


class _ChartStatusLog(threading.local):
    """HTTP statuses of the Yahoo chart requests made by the current thread's fetch.

    yfinance folds "HTTP 5xx with an error body" and "valid symbol, no bars in range" into the
    same YFPricesMissingError, and never exposes the status. Telling them apart decides between
    retrying and returning an empty frame, so the provider taps the session to see it.
    """

    statuses: list[int] | None = None


_chart_log = _ChartStatusLog()


def _tap_chart_statuses(session: Any) -> None:
    """Wrap ``session.get`` (once) so chart responses' statuses land in ``_chart_log``."""
    if getattr(session, "_hindsight_chart_tap", False):
        return
    inner_get: Callable[..., Any] = session.get

    def get(url: str, *args: Any, **kwargs: Any) -> Any:
        response = inner_get(url, *args, **kwargs)
        statuses = _chart_log.statuses
        if statuses is not None and _CHART_PATH in str(url):
            statuses.append(int(response.status_code))
        return response

    session.get = get
    session._hindsight_chart_tap = True


_default_session: Any = None
_default_session_lock = threading.Lock()


def _shared_default_session() -> Any:
    """One curl_cffi session per process, shared by every default YahooProvider.

    yfinance caches its crumb in a process-wide singleton, tied to the cookies of the session
    that fetched it; a fresh session per provider would pair the old crumb with no cookie.
    """
    global _default_session
    with _default_session_lock:
        if _default_session is None:
            _default_session = curl_requests.Session(impersonate="chrome")
        return _default_session


class YahooProvider:
    """Daily bars and split events from Yahoo Finance (via yfinance 1.x).

    ``session``: an HTTP session for yfinance (a ``curl_cffi`` or ``requests`` Session;
    yfinance rejects anything else and caching sessions). Default: one process-wide curl_cffi
    session impersonating Chrome, which is what yfinance itself uses. Note that yfinance keeps ONE
    process-wide session: every fetch installs this provider's session for all yfinance users
    in the process. ``timeout``: seconds per chart request (yfinance's own cookie/crumb
    requests use a fixed 30 s).

    Errors: ``ProviderTransientError`` for rate limits (429), 5xx, 401/403 crumb trouble,
    timeouts and connection failures; ``SymbolNotFound`` when Yahoo answers 404 ("No data
    found, symbol may be delisted"); ``ProviderDataError`` for non-JSON or malformed payloads
    and for bars that break the contract. A known symbol with no bars in the range gives an
    empty frame, never an error.
    """

    name = "yahoo"

    def __init__(self, session: Any = None, timeout: float = 10.0):
        self.timeout = timeout
        self._session = session if session is not None else _shared_default_session()
        _tap_chart_statuses(self._session)
        # yfinance 1.7 deprecates history(raise_errors=True) in favour of this global switch.
        # Without it yfinance logs and swallows errors (returning an empty frame), which would
        # look like "no data". We are the only yfinance user in the process.
        yf.config.debug.hide_exceptions = False

    def symbol_for(self, ref: InstrumentRef) -> str:
        """The Yahoo symbol for ``ref`` (override in ``ref.provider_symbols["yahoo"]`` wins)."""
        return resolve_symbol(ref, self.name, YAHOO_DEFAULT_SYMBOLS)

    def fetch_daily_bars(self, ref: InstrumentRef, start: date, end: date) -> pd.DataFrame:
        """Raw OHLCV for sessions ``start``..``end`` inclusive; empty frame if none.

        If ``end`` is today, the last row may be a partial (live) bar: the caller decides.
        Volume is 0 where Yahoo has none (yfinance fills missing volume with 0).
        """
        symbol = self.symbol_for(ref)
        bars, _splits = self._fetch_raw(ref, symbol, start)
        window = bars.loc[pd.Timestamp(start) : pd.Timestamp(end)]
        return validate_bars(window, source=self.name, symbol=symbol)

    def fetch_splits(self, ref: InstrumentRef, start: date, end: date) -> pd.DataFrame:
        """Split events with ex-date in ``start``..``end``; ``ratio`` = new shares per old share."""
        symbol = self.symbol_for(ref)
        _bars, splits = self._fetch_raw(ref, symbol, start)
        window = splits.loc[pd.Timestamp(start) : pd.Timestamp(end)]
        out = empty_splits(source=self.name)
        if not window.empty:
            out = pd.DataFrame({"ratio": window.astype("float64")}, index=window.index.rename("ex_date"))
            out.attrs["source"] = self.name
        return out

    def _fetch_raw(self, ref: InstrumentRef, symbol: str, start: date) -> tuple[pd.DataFrame, pd.Series]:
        """Unvalidated raw bars and split ratios for sessions from ``start`` to today."""
        ticker = yf.Ticker(symbol, session=self._session)
        # Narrowest seam into yfinance: seed the exchange time zone we already know. Otherwise
        # yfinance asks Yahoo for it first and, when that fails, falls back to the quoteSummary
        # endpoint; errors there surface as an HTTPError or YFTzMissingError that no longer says
        # whether the symbol is unknown or Yahoo is down. It also saves one request per fetch.
        ticker._tz = ref.timezone
        statuses: list[int] = []
        _chart_log.statuses = statuses
        try:
            history = ticker.history(
                # One day of slack: yfinance turns dates into timestamps with ``ref.timezone``,
                # which may differ by hours from Yahoo's exchange zone; we trim by date later.
                start=start - timedelta(days=1),
                end=None,  # up to now: un-splitting needs every later split
                interval="1d",
                auto_adjust=False,
                back_adjust=False,
                actions=True,
                repair=False,  # repair rewrites prices with heuristics; we want Yahoo's numbers
                keepna=False,
                rounding=False,
                timeout=self.timeout,
            )
        except Exception as exc:
            outcome = _classify_failure(exc, symbol, statuses)
            if outcome is None:
                raise  # not a provider failure (e.g. a bug, or a blocked socket in tests)
            if outcome == "empty":
                return empty_bars(source=self.name), _no_splits()
            raise outcome from exc
        finally:
            _chart_log.statuses = None

        if history.empty:
            return empty_bars(source=self.name), _no_splits()
        price_hint = _price_hint(ticker)
        return _to_raw_bars(history, symbol=symbol, expected_tz=ref.timezone, price_hint=price_hint)


def _classify_failure(
    exc: Exception, symbol: str, statuses: list[int]
) -> ProviderError | Literal["empty"] | None:
    """Map a yfinance/HTTP exception to a provider error, "empty" (no bars), or None (re-raise)."""
    where = f"yahoo {symbol}"
    status = statuses[-1] if statuses else None
    response_status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(response_status, int):
        status = response_status
    shown = f"HTTP {status}" if status is not None else "no HTTP status"

    if isinstance(exc, YFRateLimitError) or status == 429:
        return ProviderTransientError(f"{where}: rate limited by Yahoo ({shown})")
    if status is not None and (status >= 500 or status in _TRANSIENT_STATUSES):
        return ProviderTransientError(f"{where}: Yahoo answered {shown}: {exc}")
    if isinstance(exc, YFDataException) and "CURRENTLY DOWN" in str(exc):
        return ProviderTransientError(f"{where}: Yahoo maintenance page ({shown})")
    if isinstance(exc, json.JSONDecodeError):
        # Checked before network errors: requests/curl_cffi JSON errors also subclass OSError.
        return ProviderDataError(f"{where}: response is not JSON ({shown}): {exc}")
    if isinstance(exc, YFTickerMissingError):
        reason = getattr(exc, "yahoo_reason", None) or ""
        if status == 404:
            return SymbolNotFound(f"{where}: Yahoo does not know this symbol: {reason or exc}")
        if status == 200 or reason.startswith("Data doesn't exist"):
            return "empty"  # known symbol, no bars from start to today
        return ProviderError(f"{where}: no data ({shown}): {exc}")
    if isinstance(
        exc,
        requests.RequestException
        | curl_requests.exceptions.RequestException
        | TimeoutError
        | ConnectionError,
    ):
        return ProviderTransientError(f"{where}: network error: {exc!r}")
    if isinstance(exc, YFException | KeyError | TypeError | ValueError | IndexError):
        return ProviderDataError(f"{where}: malformed chart payload ({shown}): {exc!r}")
    return None


def _price_hint(ticker: yf.Ticker) -> int | None:
    """Yahoo's display precision for the instrument (2 for ^HSI/NVDA, 3 for HK stocks), if sane."""
    hint = ticker.history_metadata.get("priceHint")  # set by history(); no extra request
    if isinstance(hint, int) and not isinstance(hint, bool) and 0 <= hint <= 8:
        return hint
    return None


def _no_splits() -> pd.Series:
    return pd.Series(dtype="float64", index=pd.DatetimeIndex([], dtype="datetime64[ns]", name="ex_date"))


def _to_raw_bars(
    history: pd.DataFrame, *, symbol: str, expected_tz: str, price_hint: int | None
) -> tuple[pd.DataFrame, pd.Series]:
    """yfinance ``history()`` output -> (raw OHLCV by naive session date, split ratios by ex-date)."""
    where = f"yahoo {symbol}"
    index = history.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ProviderDataError(
            f"{where}: expected a tz-aware DatetimeIndex from yfinance, got {index.dtype}"
        )
    if str(index.tz) != expected_tz:
        # Yahoo's dates are right for Yahoo's zone; re-dating them could shift sessions by a day.
        # Expected for GC=F (Yahoo: New York, CMES calendar: Chicago), hence info, not warning.
        logger.info("%s: Yahoo dates bars in %s, instrument says %s", where, index.tz, expected_tz)
    sessions = pd.DatetimeIndex(index.tz_localize(None).normalize().as_unit("ns"), name="session")

    missing = [c for c in ("Open", "High", "Low", "Close", "Volume") if c not in history.columns]
    if missing:
        raise ProviderDataError(f"{where}: yfinance frame lacks columns {missing}")
    prices = history[["Open", "High", "Low", "Close"]].to_numpy(dtype="float64")
    volume = history["Volume"].to_numpy(dtype="float64")

    ratios = _split_ratios(history, sessions, where)
    _check_splits_applied(prices[:, 3], ratios, sessions, where)
    # Multiplier for each row: product of the ratios of all splits AFTER that row's session.
    after = np.cumprod(ratios[::-1])[::-1]
    factor = np.append(after[1:], 1.0)
    prices = prices * factor[:, None]
    volume = np.round(volume / factor)  # whole shares; a reverse split can leave fractions
    if price_hint is not None:
        prices = np.round(prices, price_hint)

    bars = pd.DataFrame(
        {
            "open": prices[:, 0],
            "high": prices[:, 1],
            "low": prices[:, 2],
            "close": prices[:, 3],
            "volume": volume,
        },
        index=sessions,
    )
    splits = pd.Series(ratios, index=sessions.rename("ex_date"))
    return bars, splits[splits != 1.0]


def _split_ratios(history: pd.DataFrame, sessions: pd.DatetimeIndex, where: str) -> np.ndarray:
    """Per-row split ratio (1.0 where no split). yfinance writes 0 for "no split"."""
    if "Stock Splits" not in history.columns:
        return np.ones(len(history))
    ratios = history["Stock Splits"].fillna(0.0).to_numpy(dtype="float64")
    bad = ~np.isfinite(ratios) | (ratios < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ProviderDataError(
            f"{where}: {sessions[i]:%Y-%m-%d} split ratio {ratios[i]!r} is not a positive number",
            session=sessions[i].date(),
            column="split",
        )
    return np.where(ratios == 0.0, 1.0, ratios)


def _check_splits_applied(
    adjusted_close: np.ndarray, ratios: np.ndarray, sessions: pd.DatetimeIndex, where: str
) -> None:
    """Refuse to un-split when Yahoo lists a split but has not yet adjusted the earlier prices.

    That happens for a day or two after some splits. Un-applying then would multiply raw prices
    by the ratio again. The test: across the ex-date, the adjusted close should move by much
    less than the split ratio (threshold: the square root of the ratio, in either direction).
    """
    for i in np.flatnonzero(ratios != 1.0).tolist():
        if i == 0 or not (adjusted_close[i - 1] > 0 and adjusted_close[i] > 0):
            continue
        jump = abs(math.log(adjusted_close[i - 1] / adjusted_close[i]))
        if jump > abs(math.log(ratios[i])) / 2:
            raise ProviderDataError(
                f"{where}: {sessions[i]:%Y-%m-%d} split {ratios[i]:g}:1 but Yahoo's prices before it look "
                f"unadjusted (close {adjusted_close[i - 1]:g} -> {adjusted_close[i]:g}); try again later",
                session=sessions[i].date(),
                column="close",
            )
