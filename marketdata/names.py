"""What readers call instruments, markets and asset classes, in the page's language.

Tickers (HSI, GC_F, GSPC) are Hindsight's keys: they stay in URLs, the API and imports. Readers see names:
"Hang Seng Index" / 恒生指數 / 恒生指数. An instrument stores its English `name` and its Traditional
Chinese `name_zh_hant`; the Simplified name is `name_zh_hans` when an editor set one, otherwise the
Traditional one converted by OpenCC (Hong Kong forms to Simplified, `hk2s`), so the two Chinese forms
never drift apart and one edit fixes both. Market and asset-class names are fixed here the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django.utils.translation import get_language

from marketdata.models import AssetClass, CalendarCode, Instrument

# Calendar code -> (English, Traditional Chinese). Simplified is derived like instrument names.
MARKET_NAMES: dict[str, tuple[str, str]] = {
    CalendarCode.XHKG: ("Hong Kong", "香港"),
    CalendarCode.XNYS: ("United States", "美國"),
    CalendarCode.CMES: ("CME futures", "芝商所期貨"),
    CalendarCode.FX_24_5: ("Currencies", "外匯"),
    CalendarCode.CRYPTO_24_7: ("Crypto", "加密貨幣"),
}

ASSET_CLASS_NAMES: dict[str, tuple[str, str]] = {
    AssetClass.INDEX: ("Index", "指數"),
    AssetClass.EQUITY: ("Stock", "股票"),
    AssetClass.FX: ("Currency pair", "貨幣對"),
    AssetClass.COMMODITY: ("Commodity", "商品"),
    AssetClass.CRYPTO: ("Cryptocurrency", "加密貨幣"),
}


@lru_cache(maxsize=2)
def _opencc(profile: str) -> Callable[[str], str] | None:
    try:
        import opencc
    except ImportError:  # pragma: no cover - opencc is a dependency; without it the text is shown as stored
        return None
    return opencc.OpenCC(profile).convert


@lru_cache(maxsize=2048)
def to_simplified(text: str) -> str:
    """Traditional (Hong Kong) Chinese in Simplified characters: 恒生指數 -> 恒生指数."""
    convert = _opencc("hk2s")
    return convert(text) if convert and text else text


@lru_cache(maxsize=2048)
def to_traditional(text: str) -> str:
    """Simplified Chinese in Hong Kong Traditional characters: 恒生指数 -> 恒生指數 (others unchanged)."""
    convert = _opencc("s2hk")
    return convert(text) if convert and text else text


def script(language: str | None = None) -> str:
    """'en', 'zh-hant' or 'zh-hans' for a language code (the active language by default)."""
    code = (language if language is not None else get_language() or "en").lower().replace("_", "-")
    if code.startswith("zh"):
        simplified = code in ("zh-hans", "zh-cn", "zh-sg", "zh-my") or code.startswith("zh-hans")
        return "zh-hans" if simplified else "zh-hant"
    return "en"


def _pick(english: str, traditional: str, simplified: str = "", language: str | None = None) -> str:
    which = script(language)
    if which == "en" or not traditional:
        return english
    if which == "zh-hant":
        return traditional
    return simplified or to_simplified(traditional)


def instrument_names(instrument: Instrument) -> dict[str, str]:
    """The instrument's name in each of the site's languages."""
    return {code: instrument_name(instrument, code) for code in ("en", "zh-hant", "zh-hans")}


def instrument_name(instrument: Instrument | None, language: str | None = None) -> str:
    """The name readers see for an instrument, in `language` (default: the active one).

    An instrument without a name of its own (one created from a bare ticker) is shown by its symbol.
    """
    if instrument is None:
        return "?"
    english = instrument.name or instrument.symbol
    return _pick(english, instrument.name_zh_hant, instrument.name_zh_hans, language)


def market_name(code: str, language: str | None = None) -> str:
    """A market (trading calendar) as readers know it: XHKG -> Hong Kong / 香港."""
    english, traditional = MARKET_NAMES.get(code, (code, ""))
    return _pick(english, traditional, "", language)


def asset_class_name(code: str, language: str | None = None) -> str:
    english, traditional = ASSET_CLASS_NAMES.get(code, (code, ""))
    return _pick(english, traditional, "", language)
