"""What Hindsight knows about instruments before any are in the database.

Used when prices arrive for a symbol that has no Instrument yet: a known symbol
gets its proper name, class, calendar and vendor symbols; an unknown one gets a
calendar guessed from its shape, which an admin can correct.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class InstrumentSpec:
    symbol: str
    name: str
    asset_class: str
    calendar_code: str
    currency: str = ""
    provider_symbols: dict[str, str] = field(default_factory=dict)
    name_zh_hant: str = ""  # the Simplified name is derived from it (marketdata.names)


KNOWN_INSTRUMENTS: dict[str, InstrumentSpec] = {
    spec.symbol: spec
    for spec in [
        InstrumentSpec("HSI", "Hang Seng Index", "index", "XHKG", "", {"yahoo": "^HSI"}, "恒生指數"),
        InstrumentSpec(
            "HSCEI",
            "Hang Seng China Enterprises Index",
            "index",
            "XHKG",
            "",
            {"yahoo": "^HSCE"},
            "恒生中國企業指數",
        ),
        InstrumentSpec(
            "HSTECH", "Hang Seng TECH Index", "index", "XHKG", "", {"yahoo": "HSTECH.HK"}, "恒生科技指數"
        ),
        InstrumentSpec("0941.HK", "China Mobile", "equity", "XHKG", "HKD", {"yahoo": "0941.HK"}, "中國移動"),
        InstrumentSpec(
            "0728.HK", "China Telecom (H)", "equity", "XHKG", "HKD", {"yahoo": "0728.HK"}, "中國電信"
        ),
        InstrumentSpec("0762.HK", "China Unicom", "equity", "XHKG", "HKD", {"yahoo": "0762.HK"}, "中國聯通"),
        InstrumentSpec("GSPC", "S&P 500", "index", "XNYS", "", {"yahoo": "^GSPC"}, "標普500"),
        InstrumentSpec(
            "IXIC", "Nasdaq Composite", "index", "XNYS", "", {"yahoo": "^IXIC"}, "納斯達克綜合指數"
        ),
        InstrumentSpec("NDX", "Nasdaq-100", "index", "XNYS", "", {"yahoo": "^NDX"}, "納斯達克100指數"),
        InstrumentSpec("AAPL", "Apple", "equity", "XNYS", "USD", {"yahoo": "AAPL"}, "蘋果"),
        InstrumentSpec("NVDA", "NVIDIA", "equity", "XNYS", "USD", {"yahoo": "NVDA"}, "英偉達"),
        InstrumentSpec("TSLA", "Tesla", "equity", "XNYS", "USD", {"yahoo": "TSLA"}, "特斯拉"),
        InstrumentSpec("BTC-USD", "Bitcoin", "crypto", "24/7", "USD", {"yahoo": "BTC-USD"}, "比特幣"),
        InstrumentSpec(
            "GC_F", "Gold (COMEX futures)", "commodity", "CMES", "USD", {"yahoo": "GC=F"}, "黃金期貨"
        ),
    ]
}

_HK_INDICES = {"HSI", "HSTECH", "HSCEI", "^HSI", "^HSCE", "^HSTECH"}
_FX_PAIR = re.compile(r"^[A-Z]{6}(=X)?$|^[A-Z]{3}[/_-][A-Z]{3}$")
_CURRENCIES = {"USD", "HKD", "CNY", "CNH", "EUR", "JPY", "GBP", "AUD", "CAD", "CHF", "SGD", "NZD"}


def guess_calendar(symbol: str) -> str:
    """Calendar code for a symbol we know nothing else about.

    `.HK` and the Hang Seng indices trade on XHKG; `XXX-USD` is crypto (every UTC
    day); six-letter currency pairs are FX (Mon-Fri); anything else is taken as
    a US listing (XNYS).
    """
    s = symbol.strip().upper()
    if s.endswith(".HK") or s in _HK_INDICES:
        return "XHKG"
    if s.endswith("-USD") and s[:-4] not in _CURRENCIES:
        return "24/7"
    if _FX_PAIR.match(s):
        letters = re.sub(r"[^A-Z]", "", s.removesuffix("=X"))
        if letters[:3] in _CURRENCIES and letters[3:6] in _CURRENCIES:
            return "24/5"
    return "XNYS"


def spec_for_symbol(symbol: str) -> InstrumentSpec:
    """The known spec, or a guessed one (asset class from the calendar)."""
    symbol = symbol.strip()
    if symbol in KNOWN_INSTRUMENTS:
        return KNOWN_INSTRUMENTS[symbol]
    calendar = guess_calendar(symbol)
    asset_class = {"24/7": "crypto", "24/5": "fx"}.get(calendar, "equity")
    return InstrumentSpec(symbol, symbol, asset_class, calendar)
