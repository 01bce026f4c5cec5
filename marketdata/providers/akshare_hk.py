"""Hong Kong fallback provider: Sina daily bars through akshare (an optional extra).

An independent source for when Yahoo fails: ``stock_hk_index_daily_sina`` for the Hang Seng
indices and ``stock_hk_daily(adjust="")`` (raw, unadjusted) for HK stocks. akshare is heavy
(py_mini_racer, many scrapers) and changes often, so it is imported only when a fetch needs it;
tests pass canned frames through ``fetchers``. akshare's own ``requests.get`` calls have no
time-out: the service layer (marketdata.resilience) runs every provider call under one.

Sina reports no split events here; a split on an HK stock is entered in the admin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from types import MappingProxyType
from typing import Any

import pandas as pd

from .base import (
    BAR_COLUMNS,
    InstrumentRef,
    ProviderDataError,
    ProviderTransientError,
    SymbolNotFound,
    empty_bars,
    empty_splits,
    resolve_symbol,
    validate_bars,
)

# Our symbol -> Sina's. Index symbols are the bare codes; stocks are five digits ("00941").
AKSHARE_DEFAULT_SYMBOLS: Mapping[str, str] = MappingProxyType(
    {"HSI": "HSI", "HSCEI": "HSCEI", "HSTECH": "HSTECH"}
)
INDEX_SYMBOLS = frozenset({"HSI", "HSCEI", "HSTECH", "HSCCI"})
# akshare returns English names for these two functions today; older releases used Chinese ones.
_COLUMN_NAMES = {
    "date": "date",
    "日期": "date",
    "open": "open",
    "开盘": "open",
    "high": "high",
    "最高": "high",
    "low": "low",
    "最低": "low",
    "close": "close",
    "收盘": "close",
    "volume": "volume",
    "成交量": "volume",
}

Fetcher = Callable[..., pd.DataFrame]


def _default_fetchers() -> dict[str, Fetcher]:
    try:
        import akshare as ak
    except ImportError as exc:  # an optional extra
        raise ProviderDataError("akshare is not installed (pip install 'hindsight[hk-fallback]')") from exc
    return {"index": ak.stock_hk_index_daily_sina, "stock": ak.stock_hk_daily}


class AkshareHKProvider:
    """Raw daily bars for Hong Kong indices and stocks from Sina, via akshare."""

    name = "akshare"

    def __init__(self, fetchers: Mapping[str, Fetcher] | None = None):
        self._fetchers = dict(fetchers) if fetchers is not None else None

    def symbol_for(self, ref: InstrumentRef) -> str:
        symbol = resolve_symbol(ref, self.name, AKSHARE_DEFAULT_SYMBOLS)
        if symbol.upper().endswith(".HK"):  # 0941.HK -> 00941
            symbol = symbol[:-3].zfill(5)
        return symbol

    def fetch_daily_bars(self, ref: InstrumentRef, start: date, end: date) -> pd.DataFrame:
        symbol = self.symbol_for(ref)
        fetchers = self._fetchers if self._fetchers is not None else _default_fetchers()
        try:
            if symbol in INDEX_SYMBOLS:
                raw = fetchers["index"](symbol=symbol)
            else:
                raw = fetchers["stock"](symbol=symbol, adjust="")
        except Exception as exc:
            raise _classify(exc, symbol) from exc
        bars = _to_bars(raw, symbol)
        window = bars.loc[pd.Timestamp(start) : pd.Timestamp(end)]
        return validate_bars(window, source=self.name, symbol=symbol)

    def fetch_splits(self, ref: InstrumentRef, start: date, end: date) -> pd.DataFrame:
        return empty_splits(source=self.name)


def _classify(exc: Exception, symbol: str) -> Exception:
    where = f"akshare {symbol}"
    names = {c.__name__ for c in type(exc).__mro__}
    if names & {"Timeout", "ConnectionError", "ConnectTimeout", "ReadTimeout", "TimeoutError"}:
        return ProviderTransientError(f"{where}: network error: {exc!r}")
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int) and (status >= 500 or status == 429):
        return ProviderTransientError(f"{where}: Sina answered HTTP {status}")
    if isinstance(status, int) and status == 404:
        return SymbolNotFound(f"{where}: Sina does not know this symbol")
    # Sina answers an unknown symbol with an empty or odd payload that akshare fails to parse.
    if isinstance(exc, KeyError | IndexError | ValueError | TypeError | AttributeError):
        return ProviderDataError(f"{where}: unexpected payload: {exc!r}")
    return ProviderDataError(f"{where}: {type(exc).__name__}: {exc}")


def _to_bars(raw: Any, symbol: str) -> pd.DataFrame:
    where = f"akshare {symbol}"
    if not isinstance(raw, pd.DataFrame):
        raise ProviderDataError(f"{where}: expected a DataFrame, got {type(raw).__name__}")
    if raw.empty:
        return empty_bars(source="akshare")
    frame = raw.rename(columns={c: _COLUMN_NAMES.get(str(c).strip(), str(c)) for c in raw.columns})
    missing = [c for c in ("date", "close") if c not in frame.columns]
    if missing:
        raise ProviderDataError(f"{where}: payload lacks columns {missing}; got {list(raw.columns)}")
    try:
        sessions = pd.to_datetime(frame["date"]).dt.normalize()
    except (ValueError, TypeError) as exc:
        raise ProviderDataError(f"{where}: dates are not dates: {exc}") from exc
    out = pd.DataFrame(
        {c: (frame[c].to_numpy() if c in frame.columns else float("nan")) for c in BAR_COLUMNS},
        index=pd.DatetimeIndex(sessions.to_numpy(), name="session").as_unit("ns"),
    )
    return out.sort_index()
