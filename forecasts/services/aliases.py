"""The names readers and articles use for the bundled instruments, kept as Alias rows.

Site search, the API's instrument parameters and imports look instruments up by symbol or alias
(forecasts.services.people.instrument_by_name), so "恒指", "恒生指数" and "Hang Seng" all mean HSI.
Migration 0008 seeded a frozen copy of these for the instruments that existed then (a migration must not
change when this table does); an instrument created later from the catalog gets them when it is first
saved (seed_on_create, connected in ForecastsConfig.ready).
"""

from __future__ import annotations

from forecasts.models import Alias
from marketdata.models import Instrument

# English, Traditional and Simplified Chinese names and common tickers; the symbol itself is listed so
# that a lower-case ticker (hsi) is found too (aliases match case-insensitively, symbols exactly).
INSTRUMENT_ALIASES: dict[str, tuple[str, ...]] = {
    "HSI": ("HSI", "Hang Seng", "Hang Seng Index", "恒生", "恒指", "恒生指數", "恒生指数", "恆生指數"),
    "HSCEI": (
        "HSCEI",
        "Hang Seng China Enterprises Index",
        "China Enterprises Index",
        "H-share index",
        "國企指數",
        "国企指数",
        "國指",
        "国指",
        "H股指數",
        "H股指数",
        "恒生中國企業指數",
        "恒生中国企业指数",
    ),
    "HSTECH": (
        "HSTECH",
        "Hang Seng Tech",
        "Hang Seng TECH Index",
        "恒生科技",
        "恒生科技指數",
        "恒生科技指数",
        "科指",
    ),
    "0941.HK": ("China Mobile", "中國移動", "中国移动", "中移動", "中移动"),
    "0728.HK": ("China Telecom", "中國電信", "中国电信"),
    "0762.HK": ("China Unicom", "中國聯通", "中国联通"),
    "GSPC": (
        "GSPC",
        "S&P",
        "S&P 500",
        "S&P500",
        "SPX",
        "標普",
        "标普",
        "標普500",
        "标普500",
        "標準普爾500指數",
        "标准普尔500指数",
    ),
    "IXIC": (
        "IXIC",
        "Nasdaq",
        "Nasdaq Composite",
        "納指",
        "纳指",
        "納斯達克",
        "纳斯达克",
        "納斯達克綜合指數",
        "纳斯达克综合指数",
    ),
    "NDX": ("NDX", "Nasdaq-100", "Nasdaq 100", "納指100", "纳指100", "納斯達克100指數", "纳斯达克100指数"),
    "AAPL": ("AAPL", "Apple", "蘋果", "苹果"),
    "NVDA": ("NVDA", "Nvidia", "英偉達", "英伟达", "輝達", "辉达"),
    "TSLA": ("TSLA", "Tesla", "特斯拉"),
    "BTC-USD": ("BTC", "Bitcoin", "比特幣", "比特币"),
    "GC_F": ("Gold", "Gold futures", "金價", "金价", "黃金", "黄金", "黃金期貨", "黄金期货"),
}


def seed_instrument_aliases(instrument: Instrument) -> int:
    """Add the bundled aliases of one instrument that are not taken yet (by it or another); the count added.

    Idempotent: an alias already there, or a name already used for another instrument (an editor's choice
    wins), is left alone.
    """
    names = INSTRUMENT_ALIASES.get(instrument.symbol, ())
    if not names:
        return 0
    taken = {
        n.casefold()
        for n in Alias.objects.filter(target=Alias.Target.INSTRUMENT).values_list("name", flat=True)
    }
    added = 0
    for name in names:
        if name.casefold() in taken:
            continue
        Alias.objects.create(target=Alias.Target.INSTRUMENT, name=name, instrument=instrument)
        taken.add(name.casefold())
        added += 1
    return added


def seed_on_create(sender, instance: Instrument, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of Instrument: a bundled instrument created now gets its aliases (not from fixtures)."""
    if created and not raw and instance.symbol in INSTRUMENT_ALIASES:
        seed_instrument_aliases(instance)
