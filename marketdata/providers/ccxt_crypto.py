"""Crypto provider: daily UTC candles from one fixed exchange per symbol, via ccxt (an optional extra).

A day's candle on an exchange opens at 00:00 UTC, the same session as our "24/7" calendar. Prices
differ a little between venues, so each symbol is pinned to ONE venue (``venue:PAIR`` in the symbol
map) rather than taken from whichever answers: a series never mixes venues silently. ccxt is imported
only when a fetch needs it; tests pass a fake exchange through ``exchange_factory``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pandas as pd

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

# Our symbol -> "exchange_id:PAIR". Bitstamp: public daily OHLCV back to 2011, USD pairs, no key.
CCXT_DEFAULT_SYMBOLS: Mapping[str, str] = MappingProxyType(
    {"BTC-USD": "bitstamp:BTC/USD", "ETH-USD": "bitstamp:ETH/USD"}
)
PAGE_LIMIT = 1000  # candles per request (Bitstamp's maximum)
MAX_PAGES = 10

# ccxt's error classes, by name so this module does not need ccxt to classify them.
_TRANSIENT = {"NetworkError", "RequestTimeout", "DDoSProtection", "RateLimitExceeded", "ExchangeNotAvailable"}
_NOT_FOUND = {"BadSymbol"}

ExchangeFactory = Callable[[str, float], Any]


def _default_factory(exchange_id: str, timeout: float) -> Any:
    try:
        import ccxt
    except ImportError as exc:  # an optional extra
        raise ProviderDataError("ccxt is not installed (pip install 'hindsight[crypto]')") from exc
    cls = getattr(ccxt, exchange_id, None)
    if cls is None:
        raise ProviderError(f"ccxt has no exchange {exchange_id!r}")
    # ccxt's timeout is in milliseconds; its own rate limiter stays on.
    return cls({"timeout": int(timeout * 1000), "enableRateLimit": True})


class CCXTProvider:
    """Daily candles (UTC days) for crypto pairs from a pinned exchange."""

    name = "ccxt"

    def __init__(self, exchange_factory: ExchangeFactory | None = None, timeout: float = 10.0):
        self._factory = exchange_factory or _default_factory
        self.timeout = timeout

    def venue_for(self, ref: InstrumentRef) -> tuple[str, str]:
        mapped = resolve_symbol(ref, self.name, CCXT_DEFAULT_SYMBOLS)
        if ":" not in mapped:
            raise SymbolNotFound(f"ccxt: no venue for {ref.symbol!r}; map it as 'exchange:BASE/QUOTE'")
        exchange_id, pair = mapped.split(":", 1)
        return exchange_id, pair

    def fetch_daily_bars(self, ref: InstrumentRef, start: date, end: date) -> pd.DataFrame:
        exchange_id, pair = self.venue_for(ref)
        exchange = self._factory(exchange_id, self.timeout)
        since = int(datetime.combine(start, datetime.min.time(), tzinfo=UTC).timestamp() * 1000)
        until = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC).timestamp() * 1000
        rows: list[list[Any]] = []
        for _ in range(MAX_PAGES):
            try:
                page = exchange.fetch_ohlcv(pair, timeframe="1d", since=since, limit=PAGE_LIMIT)
            except Exception as exc:
                raise _classify(exc, exchange_id, pair) from exc
            if not isinstance(page, list):
                raise ProviderDataError(f"ccxt {exchange_id} {pair}: expected a list of candles")
            page = [c for c in page if isinstance(c, list | tuple) and len(c) >= 6 and c[0] >= since]
            rows.extend(page)
            if len(page) < PAGE_LIMIT or not page or page[-1][0] >= until:
                break
            since = int(page[-1][0]) + 1
        return validate_bars(_to_bars(rows, start, end), source=self.name, symbol=f"{exchange_id}:{pair}")

    def fetch_splits(self, ref: InstrumentRef, start: date, end: date) -> pd.DataFrame:
        return empty_splits(source=self.name)


def _classify(exc: Exception, exchange_id: str, pair: str) -> Exception:
    names = {c.__name__ for c in type(exc).__mro__}
    where = f"ccxt {exchange_id} {pair}"
    if names & _TRANSIENT or isinstance(exc, TimeoutError | ConnectionError):
        return ProviderTransientError(f"{where}: {type(exc).__name__}: {exc}")
    if names & _NOT_FOUND:
        return SymbolNotFound(f"{where}: {exc}")
    if "ExchangeError" in names or "BaseError" in names:
        return ProviderError(f"{where}: {type(exc).__name__}: {exc}")
    return ProviderDataError(f"{where}: {type(exc).__name__}: {exc}")


def _to_bars(rows: list[list[Any]], start: date, end: date) -> pd.DataFrame:
    if not rows:
        return empty_bars(source="ccxt")
    frame = pd.DataFrame([r[:6] for r in rows], columns=["ts", "open", "high", "low", "close", "volume"])
    stamps = pd.to_datetime(frame["ts"], unit="ms", utc=True)
    if (stamps != stamps.dt.normalize()).any():
        raise ProviderDataError("ccxt: daily candles must open at 00:00 UTC")
    frame.index = pd.DatetimeIndex(stamps.dt.tz_localize(None).to_numpy(), name="session").as_unit("ns")
    frame = frame[~frame.index.duplicated(keep="last")].drop(columns="ts").sort_index()
    return frame.loc[pd.Timestamp(start) : pd.Timestamp(end)]
