"""Price providers: pure adapters that turn a vendor's data into validated daily-bar frames.

``YahooProvider`` is imported lazily (``from marketdata.providers import YahooProvider`` still
works) because importing yfinance pulls in curl_cffi, bs4 and peewee, which code that only
reads CSVs (the import_prices command, most tests) does not need.
"""

from typing import TYPE_CHECKING, Any

from .base import (
    BAR_COLUMNS,
    InstrumentRef,
    PriceProvider,
    ProviderDataError,
    ProviderError,
    ProviderTransientError,
    SymbolNotFound,
    empty_bars,
    empty_splits,
    resolve_symbol,
    validate_bars,
)
from .offline import OfflineCSVProvider, read_price_csv

if TYPE_CHECKING:
    from .yahoo import YAHOO_DEFAULT_SYMBOLS, YahooProvider

__all__ = [
    "BAR_COLUMNS",
    "YAHOO_DEFAULT_SYMBOLS",
    "InstrumentRef",
    "OfflineCSVProvider",
    "PriceProvider",
    "ProviderDataError",
    "ProviderError",
    "ProviderTransientError",
    "SymbolNotFound",
    "YahooProvider",
    "empty_bars",
    "empty_splits",
    "read_price_csv",
    "resolve_symbol",
    "validate_bars",
]


def __getattr__(name: str) -> Any:
    if name in ("YahooProvider", "YAHOO_DEFAULT_SYMBOLS"):
        from . import yahoo

        return getattr(yahoo, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
