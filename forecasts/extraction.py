"""Article text -> candidate forecasts for an editor to confirm (pure: no Django).

`extract_forecasts(text, published=..., instruments=...)` splits the text into sentences, keeps the
forward-looking ones (a hedge or forecast word, no past-only clause), finds who is speaking, which
instrument the sentence is about, the price levels / ranges / percentage moves it names and the horizon,
and returns one `Candidate` per claim. It is a rule-based pre-fill, tuned for precision over recall on
market reports in English and Chinese; EXTRACTION.md documents the grammar and its measured accuracy.

Offsets: `start`/`end` index the *original* text and `text[start:end] == quote` always. Full-width
digits and letters are mapped one-to-one before matching, so offsets never shift.
"""

from __future__ import annotations

import calendar
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

__all__ = [
    "DEFAULT_ALIASES",
    "Candidate",
    "Deadline",
    "Level",
    "extract_forecasts",
    "find_deadlines",
    "find_instruments",
    "html_to_text",
    "parse_levels",
]


@dataclass(frozen=True)
class Candidate:
    strategist: str | None
    firm: str | None
    quote: str
    instrument: str
    kind: str
    target: float | None
    target_upper: float | None
    deadline: str | None  # ISO date
    deadline_source: str  # stated / implied / none
    hedge: str | None
    start: int
    end: int
    # why it was made (for the editor's desk), and the newer annotation fields
    group: str | None = None  # consensus / poll / unnamed group ("analysts polled by Reuters", "市場")
    superseded_target: float | None = None  # a revision: the old X in "raised to Y from X"
    cue: str | None = None  # the words that set the kind ("target", "climb to", "上望")
    speaker_evidence: str | None = None  # how the speaker was found ("named in sentence", "firm only", ...)
    deadline_phrase: str | None = None  # the horizon words as written, or None
    confidence: float = 0.5  # 0..1; >= 0.7 only for a numeric claim with a named speaker


# --------------------------------------------------------------------------------------------- text prep

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH.update({0x3000: 0x20, 0xFE52: 0x2E, 0x2019: 0x27, 0x2018: 0x27, 0x2013: 0x2D, 0x2014: 0x2D})
_FULLWIDTH.update({0x201C: 0x22, 0x201D: 0x22, 0x00A0: 0x20})


_VARIANTS = str.maketrans({"恆": "恒", "匯": "滙", "纔": "才", "週": "周", "臺": "台", "裏": "裡"})
_S2T: Callable[[str], str] | bool | None = None


def _opencc() -> Callable[[str], str] | None:
    """OpenCC's Simplified -> Traditional (Hong Kong) converter, or None when the library is missing."""
    global _S2T
    if _S2T is None:
        try:
            import opencc

            _S2T = opencc.OpenCC("s2hk").convert
        except Exception:  # the extractor still works on Traditional text without it
            _S2T = False
    return _S2T if callable(_S2T) else None


def _to_traditional(text: str) -> str:
    """Simplified -> Traditional, character for character (a line whose length would change is kept)."""
    convert = _opencc()
    if convert is None:
        return text
    out: str = convert(text)
    if len(out) == len(text):
        return out
    lines = text.split("\n")
    return "\n".join(c if len(c := convert(line)) == len(line) else line for line in lines)


def _normalise(text: str) -> str:
    """Same length as `text`: full-width ASCII to ASCII, curly quotes and dashes to plain ones, Simplified
    Chinese to Traditional (OpenCC) and a few variant characters folded (恆 -> 恒, 匯 -> 滙)."""
    out = text.translate(_FULLWIDTH)
    if _CJK_RE.search(out):
        out = _to_traditional(out).translate(_VARIANTS)
    return out


_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")


def _is_cjk(ch: str) -> bool:
    return bool(ch) and bool(_CJK_RE.match(ch))


def html_to_text(html: str | bytes) -> str:
    """The main text of an HTML page (trafilatura); a plain tag-stripped fallback for fragments."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    if not html or not html.strip():
        return ""
    try:
        import trafilatura

        extracted = trafilatura.extract(
            html, include_comments=False, include_tables=False, favor_recall=True, deduplicate=False
        )
    except Exception:  # trafilatura raises on some malformed input; fall back below
        extracted = None
    if extracted and extracted.strip():
        return extracted.strip()
    try:
        import lxml.html
        from lxml_html_clean import Cleaner

        tree = lxml.html.fromstring(html)
        tree = Cleaner(scripts=True, javascript=True, style=True, comments=True).clean_html(tree)
        text = tree.text_content()
    except Exception:  # not parseable as HTML at all: strip anything tag-like
        text = re.sub(r"<[^>]*>", " ", html)
    return re.sub(r"[ \t]+", " ", re.sub(r"\n\s*\n+", "\n\n", text)).strip()


# ---------------------------------------------------------------------------------------- sentences

_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Inc|Corp|Co|Ltd|No|vs|etc|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
    r"|U\.S|U\.K|e\.g|i\.e|a\.m|p\.m)|\b[A-Z])\.$"
)
_END_CJK = "。！？!?；"
_CLOSERS = "」』\"')]）"


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    paragraph: int


def _split_sentences(norm: str) -> list[_Sentence]:
    """Sentences with offsets. A line break ends a sentence unless the line wraps mid-sentence (a CJK
    line without closing punctuation followed by CJK text, or an English line ending in a word or a comma
    followed by lowercase or, on the next line, an opening parenthesis)."""
    out: list[_Sentence] = []
    n = len(norm)
    start = 0
    paragraph = 0
    i = 0

    def emit(a: int, b: int) -> None:
        while a < b and norm[a].isspace():
            a += 1
        while b > a and norm[b - 1].isspace():
            b -= 1
        # very long runs without punctuation are cut so every step stays linear
        while b - a > 1500:
            out.append(_Sentence(a, a + 1500, paragraph))
            a += 1500
        if b > a:
            out.append(_Sentence(a, b, paragraph))

    while i < n:
        ch = norm[i]
        if ch == "\n":
            j = i
            while j < n and norm[j] in " \t\r\n":
                j += 1
            prev = norm[i - 1] if i > 0 else ""
            nxt = norm[j] if j < n else ""
            cjk_wrap = (_is_cjk(prev) or prev in "，、：,:") and (_is_cjk(nxt) or nxt in "，、。：」,:")
            # wire copy wrapped at a fixed width: "…the target price for Alibaba\n(09988) to HKD212.7"
            en_wrap = (prev.isalnum() or prev == ",") and (
                nxt.islower() or (nxt == "(" and "\n" not in norm[i + 1 : j])
            )
            if not (cjk_wrap or en_wrap):
                emit(start, i)
                start = j
                if "\n" in norm[i + 1 : j] or j >= n:
                    paragraph += 1
            i = j
            continue
        if ch in _END_CJK or (ch == ";" and (_is_cjk(norm[i - 1 : i]) or _is_cjk(norm[i + 1 : i + 2]))):
            k = i + 1
            while k < n and norm[k] in _CLOSERS:
                k += 1
            emit(start, k)
            start = k
            i = k
            continue
        if ch == "." or ch == "…":
            k = i + 1
            while k < n and norm[k] in _CLOSERS:
                k += 1
            if k < n and norm[k] in " \t" and not _ABBREV.search(norm[max(0, i - 6) : i + 1]):
                m = k
                while m < n and norm[m] in " \t":
                    m += 1
                if m < n and (
                    norm[m].isupper() or norm[m] in "\"'(“‘" or _is_cjk(norm[m]) or norm[m].isdigit()
                ):
                    emit(start, k)
                    start = m
                    i = m
                    continue
        i += 1
    emit(start, n)
    return out


def _clauses(norm: str, a: int, b: int) -> list[tuple[int, int]]:
    """Clause spans of a sentence: split on commas, semicolons and dashes (not inside numbers)."""
    spans = []
    s = a
    for m in re.finditer(r"[，；;]|,(?!\d{3})|\s[-–—]\s", norm[a:b]):
        e = a + m.start()
        if e > s:
            spans.append((s, e))
        s = a + m.end()
    if b > s:
        spans.append((s, b))
    return spans


# -------------------------------------------------------------------------------------- instruments

DEFAULT_ALIASES: dict[str, str | None] = {
    # Hang Seng family (longest first at match time, so "Hang Seng Tech" beats "Hang Seng")
    "Hang Seng Index": "HSI",
    "Hang Seng": "HSI",
    "HSI": "HSI",
    "恒指": "HSI",
    "恒生指數": "HSI",
    "恒生指数": "HSI",
    "Hong Kong stocks": "HSI",
    "Hong Kong shares": "HSI",
    "Hong Kong equities": "HSI",
    "Hong Kong's stock market": "HSI",
    "Hong Kong stock market": "HSI",
    "港股": "HSI",
    "大市": "HSI",
    "Hang Seng Tech Index": "HSTECH",
    "Hang Seng Technology Index": "HSTECH",
    "Hang Seng Tech": "HSTECH",
    "Hang Seng TECH": "HSTECH",
    "HSTECH": "HSTECH",
    "恒生科技指數": "HSTECH",
    "恒生科技指数": "HSTECH",
    "恒生科技": "HSTECH",
    "科指": "HSTECH",
    "HSCEI": "HSCEI",
    "H-shares": "HSCEI",
    "H shares": "HSCEI",
    "H-share index": "HSCEI",
    "Hang Seng China Enterprises Index": "HSCEI",
    "China Enterprises Index": "HSCEI",
    "國企指數": "HSCEI",
    "国企指数": "HSCEI",
    "國企股指數": "HSCEI",
    "國指": "HSCEI",
    "国指": "HSCEI",
    "H股指數": "HSCEI",
    # United States
    "S&P 500": "GSPC",
    "S&P500": "GSPC",
    "S&P": "GSPC",
    "S & P 500": "GSPC",  # as some copy spaces it
    "S & P": "GSPC",
    "SPX": "GSPC",
    "Standard & Poor's 500": "GSPC",
    "標普500": "GSPC",
    "标普500": "GSPC",
    "標普": "GSPC",
    "標指": "GSPC",  # the Hong Kong press's short name for the S&P 500
    "Nasdaq Composite": "IXIC",
    "Nasdaq": "IXIC",
    "納指": "IXIC",
    "纳指": "IXIC",
    "Nasdaq-100": "NDX",
    "Nasdaq 100": "NDX",
    "NDX": "NDX",
    "Nikkei 225": "N225",
    "Nikkei": "N225",
    "日經": "N225",
    "日经": "N225",
    # Commodities and crypto
    "gold": "GC_F",
    "spot gold": "GC_F",
    "bullion": "GC_F",
    "黃金": "GC_F",
    "黄金": "GC_F",
    "金價": "GC_F",
    "金价": "GC_F",
    "bitcoin": "BTC-USD",
    "BTC": "BTC-USD",
    "比特幣": "BTC-USD",
    "比特币": "BTC-USD",
    # Companies
    "Nvidia": "NVDA",
    "NVDA": "NVDA",
    "英偉達": "NVDA",
    "英伟达": "NVDA",
    "Apple": "AAPL",
    "AAPL": "AAPL",
    "蘋果": "AAPL",
    "苹果": "AAPL",
    "Tesla": "TSLA",
    "TSLA": "TSLA",
    "特斯拉": "TSLA",
    "China Mobile": "0941.HK",
    "中國移動": "0941.HK",
    "中国移动": "0941.HK",
    "中移動": "0941.HK",
    "China Telecom": "0728.HK",
    "中國電信": "0728.HK",
    "中国电信": "0728.HK",
    "China Unicom": "0762.HK",
    "中國聯通": "0762.HK",
    "中国联通": "0762.HK",
    "Tencent": "0700.HK",
    "騰訊": "0700.HK",
    "腾讯": "0700.HK",
    "Alibaba": "9988.HK",
    "阿里巴巴": "9988.HK",
    "Meituan": "3690.HK",
    "美團": "3690.HK",
    "Xiaomi": "1810.HK",
    "小米": "1810.HK",
    "小米集團": "1810.HK",
    # Japan, China, the Dow, currencies (no bundled prices for some: still recognised)
    "Nikkei Stock Average": "N225",
    "Nikkei average": "N225",
    "日經平均指數": "N225",
    "日經指數": "N225",
    "日經225": "N225",
    "Topix": "TOPIX",
    "TOPIX": "TOPIX",
    "東證指數": "TOPIX",
    "Dow Jones Industrial Average": "DJI",
    "Dow Jones": "DJI",
    "Dow": "DJI",
    "DJIA": "DJI",
    "道指": "DJI",
    "道瓊斯指數": "DJI",
    "道瓊指數": "DJI",
    "Shanghai Composite": "SSEC",
    "Shanghai Composite Index": "SSEC",
    "Shanghai benchmark": "SSEC",
    "上證指數": "SSEC",
    "上證綜指": "SSEC",
    "上證綜合指數": "SSEC",
    "上證": "SSEC",
    "上证": "SSEC",
    "CSI 300": "CSI300",
    "CSI300": "CSI300",
    "滬深300": "CSI300",
    "沪深300": "CSI300",
    "滬深300指數": "CSI300",
    "USD/JPY": "USDJPY",
    "USDJPY": "USDJPY",
    "dollar-yen": "USDJPY",
    "dollar/yen": "USDJPY",
    "the yen": "USDJPY",
    "美元兌日圓": "USDJPY",
    "美元兌日元": "USDJPY",
    "USD/CNY": "USDCNY",
    "USD/CNH": "USDCNY",
    "USDCNY": "USDCNY",
    "USDCNH": "USDCNY",
    "dollar-yuan": "USDCNY",
    "the yuan": "USDCNY",
    "offshore yuan": "USDCNY",
    "onshore yuan": "USDCNY",
    "美元兌人民幣": "USDCNY",
    "人民幣兌美元": "USDCNY",
    "離岸人民幣": "USDCNY",
    "在岸人民幣": "USDCNY",
    "人民幣匯率": "USDCNY",
    "the Japanese yen": "USDJPY",
    "the renminbi": "USDCNY",
    "EUR/USD": "EURUSD",
    "EURUSD": "EURUSD",
    "the euro": "EURUSD",
    "歐元": "EURUSD",
    "Standard and Poor's 500": "GSPC",
    "標準普爾500指數": "GSPC",
    "標準普爾500": "GSPC",
    "標普500指數": "GSPC",
    "美國股市基準指數": "GSPC",
    "美股基準指數": "GSPC",
    "恒生中國企業指數": "HSCEI",
    "Hang Seng China Enterprises": "HSCEI",
    "納斯達克指數": "IXIC",
    "納斯達克": "IXIC",
    "納斯達克100": "NDX",
    "納指100": "NDX",
    "道瓊斯": "DJI",
    "道瓊": "DJI",
    "滬指": "SSEC",
    "倫敦金": "GC_F",
    "現貨金": "GC_F",
    "XAU/USD": "GC_F",
    "XAUUSD": "GC_F",
    "BTC/USD": "BTC-USD",
    "美元/日圓": "USDJPY",
    "日圓": "USDJPY",
    "日元": "USDJPY",
    "美元/日元": "USDJPY",
    "日圓匯率": "USDJPY",
    "日元匯率": "USDJPY",
    "美元/人民幣": "USDCNY",
    "the greenback against the yen": "USDJPY",
    "US dollar/yen": "USDJPY",
    "dollar/yuan": "USDCNY",
    "USD/yuan": "USDCNY",
    "Euro to US Dollar": "EURUSD",
    "阿里": "9988.HK",
    "期金": "GC_F",
    "XAU": "GC_F",
    "恒科指": "HSTECH",
    "恒科": "HSTECH",
    "東證": "TOPIX",
    "USD-JPY": "USDJPY",
    "USD-CNH": "USDCNY",
    "美元指數": None,
    "dollar index": None,
    "DXY": None,
    "騰訊控股": "0700.HK",
    "納斯達克綜合指數": "IXIC",
    # Things we do not track: a number next to them must not be given to a tracked instrument.
    "MSCI": None,
    "Kospi": None,
    "ASX": None,
    "A-shares": None,
    "ChiNext": None,
    "深成指": None,
    "FTSE": None,
    "Russell 2000": None,
    "Ethereum": None,
    "以太坊": None,
    "silver": None,
    "白銀": None,
    "oil": None,
    "crude": None,
    "油價": None,
    "人民幣": None,
    "Treasury": None,
    "Treasuries": None,
    "Brent": None,
    "WTI": None,
    "Ether": None,
    "ETH": None,
    "XRP": None,
    "Solana": None,
    "Dogecoin": None,
    "DAX": None,
    "Stoxx": None,
    "Sensex": None,
    "Nifty": None,
    "copper": None,
    "platinum": None,
    "A股": None,
    "創業板": None,
    "深證成指": None,
    "銅價": None,
    "原油": None,
    "台積電": None,
}

_DEFAULT_KEYS = frozenset(k.casefold() for k in DEFAULT_ALIASES)
_CJK_ALIAS_RE = re.compile(
    "|".join(
        re.escape(_normalise(k)) for k in sorted(DEFAULT_ALIASES, key=len, reverse=True) if _CJK_RE.search(k)
    )
)
_ANAPHORA = re.compile(
    r"\b(?:the|its) (?:index|benchmark|gauge|metal|stock|shares|cryptocurrency|token|company)\b"
    r"|指數|指数|該股|该股",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    symbol: str | None
    alias: str


# A yuan-per-dollar level a few words after 人民幣 ("人民幣續有上升空間，中期料升至6.95"), not an amount
_YUAN_LEVEL = re.compile(r"[^。；;\d]{0,20}?(?<![\d.])[5-8]\.\d{1,4}(?![\d.%])(?!\s*(?:萬|万|億|亿|兆|元|%))")


class _AliasTable:
    def __init__(self, extra: Mapping[str, str] | None):
        aliases: dict[str, str | None] = dict(DEFAULT_ALIASES)
        for alias, symbol in (extra or {}).items():
            if alias and alias.strip():
                aliases[alias.strip()] = symbol
        # Chinese aliases go through the same normalisation as the text (OpenCC's Hong Kong forms: 兌 -> 兑)
        aliases = {(_normalise(k) if _CJK_RE.search(k) else k): v for k, v in aliases.items()}
        latin: list[str] = []
        cjk: list[str] = []
        self.symbol_of: dict[str, str | None] = {}
        for alias, target in aliases.items():
            self.symbol_of[alias.casefold()] = target
            (cjk if _CJK_RE.search(alias) else latin).append(alias)
        parts = []
        if latin:
            alts = "|".join(re.escape(a).replace(r"\ ", r"\s+") for a in sorted(latin, key=len, reverse=True))
            parts.append(rf"(?<![A-Za-z0-9_&])(?:{alts})(?![A-Za-z0-9_&]|-\d)")
        if cjk:
            parts.append("|".join(re.escape(a) for a in sorted(cjk, key=len, reverse=True)))
        self.regex = re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def find(self, norm: str, a: int, b: int) -> list[_Mention]:
        if self.regex is None:
            return []
        found = []
        for m in self.regex.finditer(norm, a, b):
            if m.group(0) == "國指" and norm[m.start() - 1 : m.start()] == "中":
                continue  # "MSCI中國指數" is not the HSCEI
            if m.group(0) == "港股" and re.match(
                r"(?:[和及與与、]美股)?(?:的)?(?:目標價|目标价)", norm[m.end() : m.end() + 7]
            ):
                continue  # "阿里巴巴港股目標價": the stock's Hong Kong line, not the market
            if (
                m.group(0) in ("日圓", "日元")
                and re.search(r"\d\s*$", norm[max(a, m.start() - 2) : m.start()])
                and re.search(r"日經|日经|東證|东证|(?i:topix|nikkei)", norm[a:b])
            ):
                continue  # "日經平均指數…將達到60,000日圓": the index's unit, not the yen pair
            key = re.sub(r"\s+", " ", m.group(0)).casefold()
            symbol = self.symbol_of.get(key)
            if (
                symbol is None
                and m.group(0) in ("人民幣", "人民币")
                and _YUAN_LEVEL.match(norm, m.end(), min(b, m.end() + 24))
            ):
                symbol = "USDCNY"  # "人民幣中期料升至6.95": the yuan per dollar
            found.append(_Mention(m.start(), m.end(), symbol, m.group(0)))
        return found


def find_instruments(text: str, instruments: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(alias as written, symbol) for every tracked instrument named in `text`, in order."""
    norm = _normalise(text)
    table = _AliasTable(instruments)
    return [(m.alias, m.symbol) for m in table.find(norm, 0, len(norm)) if m.symbol]


# ------------------------------------------------------------------------------------------- numbers

_CURRENCY = r"(?:US\$|HK\$|S\$|A\$|\$|USD\s?|HKD\s?|RMB\s?|CNY\s?|€|£)"
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MULT = r"(?:[kK](?![a-zA-Z])|bn\b|million\b|billion\b|trillion\b|萬|万|億|亿)"
_UNIT = (
    r"(?:points?\b|pts?\b|-point\b|level\b|an ounce\b|per ounce\b|/oz\b|oz\b|a share\b|per share\b"
    r"|yuan\b|dollars?\b|per\s*cent\b|percent\b|%|yen\b|per\s+dollar\b|to\s+the\s+dollar\b|日圓|日元"
    r"|點(?!子)|点(?!子)|美元|港元|元|厘|安士)"
)
_LEVEL_RE = re.compile(
    rf"(?P<cur>{_CURRENCY})?\s?(?P<num>{_NUMBER})\s?(?P<mult>{_MULT})?\s?(?P<unit>{_UNIT})?"
    rf"(?:\s?(?:-|–|to|至|and|及|與)\s?(?P<cur2>{_CURRENCY})?\s?(?P<num2>{_NUMBER})\s?(?P<mult2>{_MULT})?"
    rf"\s?(?P<unit2>{_UNIT})?)?"
)


@dataclass(frozen=True)
class Level:
    """A number as written: `value` (and `upper` for a range), percent or price, offsets in the text."""

    value: float
    upper: float | None
    percent: bool
    price_like: bool
    start: int
    end: int
    prior: float | None = None  # "from X to Y": X, the level replaced


def _to_float(num: str, mult: str | None) -> float:
    value = float(num.replace(",", ""))
    m = (mult or "").lower()
    if m == "million":
        value *= 1_000_000
    elif m == "k":
        value *= 1_000
    elif m in ("萬", "万"):
        value *= 10_000
    return value


def parse_levels(text: str) -> list[Level]:
    """Numbers in their usual forms: 23,200; 23.2k; 23,200 points; US$100,000; $100k; HK$85; 7.3 yuan;
    2.5 per cent / 2.5%; ranges "18,000-20,000", "18,000 to 20,000", "28000至30000點".

    Not levels (skipped): years, day/month counts ("50-day", "12個月"), multiples ("11.3 times"), market
    values in million/billion/trillion, tickers and codes glued to letters ("2H", "Q2", "1H25")."""
    norm = _normalise(text)
    return list(_levels(norm, 0, len(norm)))


_CN_NUMERAL = re.compile(
    r"(?P<cn>[一二兩三四五六七八九十][零一二兩三四五六七八九十百千萬]*)(?P<unit>\s?(?:點|大關|關|水平|以上|以下))?"
)
_WAN_THOUSANDS = re.compile(
    r"(?<![\d.])(?P<w>[1-9]\d?)\s?[萬万]\s?(?P<k>[1-9])(?:\s?千)?(?![\d.,萬万億亿個个人])(?:\s?[點点])?"
)
_CN_PERCENT = re.compile(r"(?P<cn>[一二兩三四五六七八九半])成")


def _cn_levels(norm: str, a: int, b: int) -> Iterator[Level]:
    """Chinese numerals: 二萬六 (26,000), 三萬點, 七千四; 三成 (30%). cn2an reads the numeral."""
    for m in _CN_NUMERAL.finditer(norm, a, b):
        cn = m.group("cn")
        if not re.search("[萬千]", cn) or (len(cn) < 2 and not m.group("unit")):
            continue
        follow = norm[m.end("cn") : m.end("cn") + 3]
        if re.match(r"\s?(?:億|元|人|個|名|家|宗|年|月|日|天|倍|多|餘)", follow):
            continue
        value = _cn_number(cn)
        if value is None or value < 1000:
            continue
        yield Level(value, None, False, True, m.start(), m.end())
    for m in _WAN_THOUSANDS.finditer(norm, a, b):  # "2萬6千點", "2萬6": 26,000
        yield Level(
            float(m.group("w")) * 10_000 + float(m.group("k")) * 1_000, None, False, True, m.start(), m.end()
        )
    for m in _CN_PERCENT.finditer(norm, a, b):
        n = 0.5 if m.group("cn") == "半" else _cn_number(m.group("cn"))
        if n:
            yield Level(n * 10, None, True, False, m.start(), m.end())


def _cn_number(cn: str) -> float | None:
    try:
        import cn2an

        return float(cn2an.cn2an(cn.replace("兩", "二"), "smart"))
    except Exception:  # not a numeral cn2an reads (or cn2an missing)
        return None


def _levels(norm: str, a: int, b: int, small: bool = False) -> Iterator[Level]:
    """Levels in norm[a:b]; with `small`, plain numbers that are not price-like ("160", "7.40") too, with
    price_like False (the claims keep them only for a currency pair after a cue)."""
    found = sorted(
        [*_arabic_levels(norm, a, b, small), *_cn_levels(norm, a, b)], key=lambda lv: (lv.start, -lv.end)
    )
    last_end = -1
    for lv in found:
        if lv.start >= last_end:
            last_end = lv.end
            yield lv


def _arabic_levels(norm: str, a: int, b: int, small: bool = False) -> Iterator[Level]:
    pos = a
    while True:
        m = _LEVEL_RE.search(norm, pos, b)
        if m is None:
            return
        pos = m.end()
        prior = None
        s = m.start("cur") if m.group("cur") else m.start("num")
        e = max(m.end(g) for g in ("num", "mult", "unit", "num2", "mult2", "unit2") if m.group(g))
        before = norm[s - 1] if s > 0 else ""
        if (before.isalpha() and not _is_cjk(before) and not m.group("cur")) or (
            before and (before in "-/." or before.isdigit())
        ):
            # "Q2", "H1", "BTC2", "mid-2026": not a level; a second number the match took with it
            # ("by mid-2026 and 28,800 by December") is read on the next pass
            pos = m.end("num")
            continue
        num, mult, unit, cur = m.group("num"), m.group("mult"), m.group("unit"), m.group("cur")
        num2 = m.group("num2")
        tail_end = m.end("num2") if num2 else m.end("num")
        after = norm[tail_end : tail_end + 12]
        if not unit and not mult and re.match(r"[A-Za-z]", norm[m.end("num") : m.end("num") + 1]):
            continue  # "2H", "1H25"
        lowered_mult = (mult or "").lower()
        if lowered_mult == "million" and cur and re.fullmatch(r"0\.\d+", num):
            pass  # "$0.25 million" (a coin's price written in millions)
        elif lowered_mult in ("bn", "million", "billion", "trillion", "億", "亿") or (
            m.group("mult2") or ""
        ).lower() in ("bn", "million", "billion", "trillion", "億", "亿"):
            continue
        follow = norm[m.end() : m.end() + 14].lower()
        counter = re.match(
            r"\s?(?:-?\s?days?\b|天|日|號|号|個月|个月|months?\b|-month|weeks?\b|-week|years?\b|-year|年|月|季"
            r"|times\b|x\b|倍|basis|bp|bps\b|點子|個交易日|个交易日|個|个|宗|人|name|家|間|位|名|隻|次"
            r"|sessions?\b|-session|deliveries\b|units\b|cars\b|vehicles\b|wafers\b|iPhones\b|phones\b|devices"
            r"|chips\b|employees\b|jobs\b|people\b|users\b|customers\b|tonnes\b|tons\b|barrels\b|homes\b|orders\b"
            r"|contracts\b|輛|部|台"
            r"|trading days|percentage points?"
            r"|gmt\b|utc\b|hkt\b|et\b|est\b|edt\b|[ap]\.m\.|[ap]m\b)",  # "1006 GMT - Meituan…": a time
            follow,
        )
        if counter and (not re.match(r"\s?(?:年底|年尾|年中)", follow) or not unit):
            continue
        if unit is None and re.match(r"\s?(?:月|年)", after):
            continue
        value = _to_float(num, mult)
        percent = bool(unit and re.match(r"per\s*cent|percent|%|厘", unit))
        upper = None
        if num2:
            connector = norm[m.end("num") : m.start("num2")]
            v2 = _to_float(num2, m.group("mult2") or mult)
            if m.group("mult2") and not mult:
                value = _to_float(num, m.group("mult2"))
            unit2 = m.group("unit2")
            percent = percent or bool(unit2 and re.match(r"per\s*cent|percent|%|厘", unit2))
            lead = norm[max(0, s - 30) : s]
            range_from = re.search(r"\brange[sd]?\s+from\s*$", lead, re.IGNORECASE)
            unit2_pct = bool(m.group("unit2") and re.match(r"per\s*cent|percent|%", m.group("unit2")))
            pct_then_level = percent and not unit2_pct
            # "raised its target price of $245 to $260": the old target, then the new one
            revised_from = re.search(
                r"(?i)\b(?:rais|lift|boost|hik|bump|cut|lower|trim|reduc)\w*\b[^.;]{0,40}\b(?:target|forecast|estimate)"
                r"(?:\s+price)?\s+(?:of\s+)?$",
                norm[max(0, s - 70) : s],
            )
            from_to = pct_then_level or (
                "to" in connector
                and not range_from
                and (
                    v2 >= value * 1.5
                    or re.search(r"\b(?:from|by)\b(?:\s+\S+){0,2}\s*$", lead) is not None
                    or revised_from is not None
                )
            )
            # "目標提高300點至7,000點": a move in points, then the level it ends at (not a band 300-7,000)
            from_to = from_to or (
                re.search(r"[至到]", connector) is not None
                and (
                    v2 >= value * 3
                    or re.search(
                        r"(?:提高|提升|上調|上调|調高|调高|下調|下调|調低|调低|降低|削減|削减)\s*$", lead
                    )
                    is not None
                )
            )
            between = re.search(r"(?:between|介乎|介於|介于)\s*$", norm[max(0, s - 12) : s], re.IGNORECASE)
            if from_to:
                # "from $169 to $204", "by $25 to $325": only the second number is a level
                if re.search(r"\bfrom\b(?:\s+\S+){0,2}\s*$", lead) or revised_from:
                    prior = value
                s = m.start("cur2") if m.group("cur2") else m.start("num2")
                percent = unit2_pct
                value, num, cur, unit = v2, num2, m.group("cur2") or cur, m.group("unit2") or unit
                mult = m.group("mult2") or mult
                lowered_mult = (mult or "").lower()
            elif v2 > value and (
                "-" in connector
                or "至" in connector
                or "to" in connector
                or (between and v2 < value * 3)
                or range_from
            ):
                upper = v2
            elif re.search(r"and|及|與", connector):
                # "X and Y" that is not a range: two levels; the second is read on the next pass
                e = m.end("unit") if unit else m.end("mult") if mult else m.end("num")
                pos = e
            else:
                e = m.end("num")
                pos = e
        year_like = (
            not cur
            and not unit
            and not mult
            and upper is None
            and re.fullmatch(r"(?:19|20)\d\d", num) is not None
        )
        if year_like:
            continue
        if upper is None and num2 and e == m.end() and not from_to:
            e = m.end("num")
        has_point_unit = bool(unit and re.match(r"point|pts?|-point|level|點|点", unit))
        money_unit = unit or (m.group("unit2") if upper is not None else None)
        has_money = bool(cur) or bool(
            money_unit
            and re.match(
                r"an ounce|per ounce|/oz|oz|a share|per share|yuan|dollar|yen|per dollar|to the dollar"
                r"|美元|港元|元|安士|日",
                money_unit,
            )
        )
        grouped = "," in num or lowered_mult == "k" or lowered_mult in ("萬", "万")
        price_like = not percent and (has_point_unit or has_money or grouped or value >= 1000)
        if re.fullmatch(r"(?:19|20)\d\d", num) and not (cur or unit or mult) and upper is not None:
            continue  # "2024-2025"
        if not (price_like or percent) and not (small and value > 0):
            continue
        if re.search(
            r"[(（]\s*(?:[滬深港]\s*[:：]\s*|(?:HK|SH|SZ)\s*[:：]?\s*)?$", norm[max(0, s - 5) : s]
        ) and re.match(r"\s*(?:\.HK)?\s*[)）]", norm[e : e + 6]):
            continue  # a stock code or a parenthetical conversion: "(滬：688256)", "(9988)", "(€2,646.30)"
        yield Level(value, upper, percent, price_like, s, e, prior)


# ------------------------------------------------------------------------------------------ deadlines

_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_RE = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)"
)
_NUMWORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "nine": 9,
    "twelve": 12, "eighteen": 18, "seven": 7, "eight": 8, "ten": 10, "eleven": 11,
}  # fmt: skip
_CN_DIGITS = {
    "一": 1,
    "二": 2,
    "兩": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十二": 12,
}
_QUARTER_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "一": 1, "二": 2, "三": 3, "四": 4}


@dataclass(frozen=True)
class Deadline:
    """A horizon phrase: `when` is the inclusive last day (None when it needs a publication date we
    do not have), `source` is "stated" (absolute: names a year or a date) or "implied" (relative)."""

    when: date | None
    source: str
    start: int
    end: int
    phrase: str
    # a list of horizons in one phrase ("for March, June and September 2026", "in three, six and twelve
    # months", "2026年3月、6月和9月"): every one, in order; this Deadline is the last of them
    series: tuple[Deadline, ...] = ()


def _month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _year(tok: str) -> int:
    y = int(tok)
    return y + 2000 if y < 100 else y


_YR = r"(?:19|20)\d\d"
_DEADLINE_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.IGNORECASE), name)
    for p, name in [
        # absolute
        (
            rf"\b(?:first|1st)\s+half\s+of\s+(?P<y>{_YR})\b|\bH1\s*(?P<y2>{_YR})\b|\b1H\s?(?P<y3>\d\d(?:\d\d)?)\b",
            "h1_abs",
        ),
        (
            rf"\b(?:second|2nd)\s+half\s+of\s+(?P<y>{_YR})\b|\bH2\s*(?P<y2>{_YR})\b|\b2H\s?(?P<y3>\d\d(?:\d\d)?)\b",
            "h2_abs",
        ),
        (
            rf"\b(?:(?P<qw>first|second|third|fourth)\s+quarter|Q(?P<qn>[1-4]))\s*(?:of\s+)?(?P<y>{_YR})\b",
            "q_abs",
        ),
        (rf"\b(?:by\s+|in\s+)?mid[- ](?P<y>{_YR})\b|\bmiddle\s+of\s+(?P<y2>{_YR})\b", "mid_abs"),
        (
            rf"\b(?:(?:end|close)[- ](?:of[- ])?(?:the[- ])?(?:year[- ])?|year[- ]end[- ]|by\s+)"
            rf"(?P<y>{_YR})\b"
            rf"|\b(?P<y2>{_YR})\s+year[- ]end\b",
            "year_abs",
        ),
        (rf"\b(?P<y>{_YR})-end\b", "year_abs"),
        # "see the S&P 500 ending 2026 at 7,400", "BTC will end 2025 at $30k"
        (rf"\b(?:end|ends|ending|finish|finishes|finishing)\s+(?P<y>{_YR})\b", "year_abs"),
        # "its 2025 HSI target", "a 2026 year-end forecast": the target for that year's end
        (
            rf"\b(?P<y>{_YR})\s+(?:[A-Z][\w&.]*\s+){{0,3}}?(?:year[- ]end\s+)?(?:price\s+)?"
            r"(?:targets?|forecasts?|estimates?|projections?)\b",
            "year_abs",
        ),
        (rf"\b(?:by\s+)?late[- ](?P<y>{_YR})\b|\bfiscal\s+(?:year\s+)?(?P<y2>{_YR})\b", "year_abs"),
        (rf"\b(?:end[- ](?:of[- ])?)?(?P<m>{_MONTH_RE})\.?\s+(?P<y>{_YR})\b", "month_abs"),
        (rf"\bin\s+(?P<y>{_YR})\b|\bfor\s+(?P<y2>{_YR})\b", "year_abs"),
        (rf"(?P<y>{_YR})\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*[日號号]", "cn_date"),
        (rf"(?P<y>{_YR})\s*年\s*(?:第?(?P<q>[一二三四1-4])|首)\s*季度?", "cn_q_abs"),
        (r"(?:未來|未来|今後|今后)\s*(?P<n>\d+|[一兩两二三])\s*年(?!底|中|內|内|初)", "cn_years"),
        (rf"(?P<y>{_YR})\s*年\s*(?P<m>1[0-2]|0?[1-9])\s*月\s*(?:底|末|份)?(?!\s*\d)", "cn_month_abs"),
        (rf"(?P<y>{_YR})\s*年\s*(?P<p>底|年底|年尾|中|上半年|下半年)?", "cn_year_abs"),
        # relative, with a month: "by the end of June next year"
        (
            rf"\b(?:by\s+)?(?:the\s+)?(?:end\s+of\s+)?(?P<m>{_MONTH_RE})\s+(?:of\s+)?next\s+year\b",
            "month_next",
        ),
        (
            r"\bearly\s+next\s+year\b|\b(?:the\s+)?(?:start|beginning)\s+of\s+next\s+year\b"
            r"|\bfirst\s+quarter\s+of\s+next\s+year\b",
            "early_next",
        ),
        (r"\b(?:by\s+)?mid[- ]?year\b|\bthe\s+middle\s+of\s+(?:the|this)\s+year\b", "mid_year"),
        (r"\b(?:later|late)\s+this\s+month\b", "this_month"),
        (r"\b(?:in|over|during)\s+the\s+(?:coming|next)\s+(?:few\s+|couple\s+of\s+)?quarters\b", "quarters"),
        (r"\b(?:in|over|during)\s+the\s+(?:coming|next)\s+(?:few\s+|couple\s+of\s+)?weeks\b", "weeks"),
        (
            r"(?:未來|今後)?\s*(?P<n>\d+|[一二兩三四五六七八九])\s*(?:個)?(?:周|星期|週|禮拜|礼拜)(?:內)?",
            "cn_weeks",
        ),
        # relative, longest first
        (r"\b(?:in\s+)?the\s+(?P<h>first|second)\s+half\s+of\s+next\s+year\b", "half_next"),
        (
            r"\b(?:by\s+|at\s+|before\s+)?(?:the\s+)?(?:end|close)\s+of\s+next\s+year\b|\blate\s+next\s+year\b"
            r"|\bnext\s+year'?s\s+end\b",
            "next_year",
        ),
        (r"\b(?:by\s+)?mid[- ]next[- ]year\b|\bthe\s+middle\s+of\s+next\s+year\b", "mid_next"),
        (
            r"\b(?:by|before|at|until|toward|towards|through)?\s*(?:the\s+)?(?:end|close)\s+of\s+"
            r"(?:the\s+|this\s+)?(?:\[)?(?:year|this\s+year)(?:\])?\b|\byear[- ]end\b|\byear'?s\s+end\b"
            r"|\bend[- ]of[- ](?:the[- ])?year\b"
            r"|\b(?:later|late)\s+this\s+year\b|\bthis\s+year\b|\bthe\s+rest\s+of\s+the\s+year\b"
            r"|\bthe\s+later\s+part\s+of\s+the\s+year\b|\bthe\s+tail[- ]end\s+of\s+the\s+year\b"
            r"|\b(?:end|ends|ending|finish|finishes|finishing|close\s+out)\s+(?:the|this)\s+year\b",
            "this_year",
        ),
        (r"\bnext\s+year\b", "next_year"),
        (
            r"\b(?:by\s+)?(?:the\s+)?end\s+of\s+(?:\[)?(?:the|this)\s+month(?:\])?\b|\bmonth[- ]end\b",
            "this_month",
        ),
        (r"\bnext\s+month\b", "next_month"),
        (r"\bnext\s+week\b", "next_week"),
        (
            r"\b(?:within|in|over|during)\s+(?:the\s+)?(?:next|coming)\s+(?P<n>\d+|[a-z]+)\s+(?P<u>months?|years?|weeks?)\b"
            r"|\bwithin\s+(?P<n2>\d+|[a-z]+)\s+(?P<u2>months?|years?|weeks?)\b"
            r"|\bin\s+(?P<n3>\d+|[a-z]+)\s+(?P<u3>months?|years?|weeks?)(?:'|’)?\s+time\b"
            r"|\b(?P<n4>\d+|[a-z]+)\s+(?P<u4>months?|years?)\s+from\s+now\b"
            r"|\b(?P<n5>\d+|one|two|three|six|nine|twelve|eighteen)-(?P<u5>month|year)\b"
            r"|\b(?:in|over)\s+(?P<n6>\d+|one|two|three|six|nine|twelve|eighteen)\s+(?P<u6>months|years)\b",
            "span",
        ),
        (
            r"\b(?:in|during|by)?\s*(?:the\s+)?(?P<h>first|second)\s+half(?:\s+of\s+(?:this|the)\s+year)?\b"
            r"|\b(?P<h2>[12])H\b|\bH(?P<h3>[12])\b",
            "half",
        ),
        (
            r"\b(?:in|by|during)?\s*(?:the\s+)?(?:end\s+of\s+)?(?:(?P<qw>first|second|third|fourth)\s+quarter|Q(?P<qn>[1-4]))\b",
            "quarter",
        ),
        (
            rf"\b(?:by|in|before|until|through|end[- ]|by\s+end[- ]|(?:by\s+|at\s+)?the\s+end\s+of)\s*"
            rf"(?:early|mid|late)?[- ]?"
            rf"(?:(?:to\s+)?(?:early|mid|late)\s+)?(?P<m>{_MONTH_RE})\b",
            "month",
        ),
        # Chinese
        # "明年 12 月底", "今年6月": a month of a named year; "3月底前": the next end of that month
        (r"(?P<rel>明年|今年|本年)\s*(?P<m>1[0-2]|0?[1-9])\s*月\s*(?:底|末|份)?(?!\s*\d)", "cn_month_rel"),
        (r"(?<![\d年])(?P<m>1[0-2]|0?[1-9])\s*月\s*(?:底|末)\s*(?:前)?", "cn_month_bare"),
        (r"明年\s*(?P<p>底|年底|年尾|中|上半年|下半年|初|首季)?", "cn_next"),
        (
            r"(?:今年|本年)\s*(?P<p>底|年底|年尾|內|内|餘下|剩下的時間|上半年|下半年|年中|中(?![國国港美期長长短線线]))?|年底|年尾|年內|年内|年末|年終|年终"
            r"|(?<!明)年中",
            "cn_this",
        ),
        (
            r"(?:未來|未来|今後|今后)\s*(?P<n>\d+|[一二兩两三四五六九]|十二)\s*個?个?月(?:內|内)?"
            r"|(?P<n2>\d+|[一二兩两三四五六九]|十二)\s*[個个]月(?:內|内)?",
            "cn_span",
        ),
        (r"(?:下半年|上半年)", "cn_half"),
        (r"下(?:個)?月|下个月", "next_month"),
        (r"(?:本月|月底)", "this_month"),
        (r"(?:第(?P<q>[一二三四1-4])|首|(?<![\d年])(?P<q2>[一二三四])(?=季度))季", "cn_quarter"),
    ]
]


def _number_word(tok: str) -> int | None:
    if tok.isdigit():
        return int(tok)
    return _NUMWORDS.get(tok.lower())


def _resolve(name: str, m: re.Match[str], published: date | None) -> tuple[date | None, str] | None:
    g = m.groupdict()
    p = published
    if name == "h1_abs":
        return date(_year(g["y"] or g["y2"] or g["y3"]), 6, 30), "stated"
    if name == "h2_abs":
        return date(_year(g["y"] or g["y2"] or g["y3"]), 12, 31), "stated"
    if name == "q_abs":
        q = int(g["qn"]) if g.get("qn") else _QUARTER_WORDS[g["qw"].lower()]
        return _month_end(int(g["y"]), q * 3), "stated"
    if name == "mid_abs":
        return date(int(g["y"] or g["y2"]), 6, 30), "stated"
    if name == "year_abs":
        return date(int(g["y"] or g["y2"]), 12, 31), "stated"
    if name == "month_abs":
        return _month_end(int(g["y"]), _MONTHS[g["m"].lower().rstrip(".")]), "stated"
    if name == "cn_q_abs":
        tok = g.get("q") or "1"
        q = int(tok) if tok.isdigit() else _QUARTER_WORDS[tok]
        return _month_end(int(g["y"]), q * 3), "stated"
    if name == "cn_month_abs":
        return _month_end(int(g["y"]), int(g["m"])), "stated"
    if name == "cn_year_abs":
        y = int(g["y"])
        part = g.get("p") or ""
        if part in ("中", "上半年"):
            return date(y, 6, 30), "stated"
        return date(y, 12, 31), "stated"
    # relative phrases need the publication date
    if p is None:
        return None, "implied"
    if name == "cn_month_rel":
        return _month_end(p.year + (1 if g["rel"] == "明年" else 0), int(g["m"])), "implied"
    if name == "cn_month_bare":
        end = _month_end(p.year, int(g["m"]))
        return (end if end >= p else _month_end(p.year + 1, int(g["m"]))), "implied"
    if name == "month_next":
        return _month_end(p.year + 1, _MONTHS[g["m"].lower().rstrip(".")]), "implied"
    if name == "early_next":
        return date(p.year + 1, 3, 31), "implied"
    if name == "mid_year":
        end = date(p.year, 6, 30)
        return (end if end >= p else date(p.year + 1, 6, 30)), "implied"
    if name == "quarters":
        return _add_months(p, 6), "implied"
    if name == "weeks":
        return date.fromordinal(p.toordinal() + 14), "implied"
    if name == "cn_weeks":
        tok = g["n"]
        count = int(tok) if tok.isdigit() else _CN_DIGITS.get(tok)
        if not count or count > 52:
            return None
        return date.fromordinal(p.toordinal() + 7 * count), "implied"
    if name == "half_next":
        return (date(p.year + 1, 6, 30) if g["h"].lower() == "first" else date(p.year + 1, 12, 31)), "implied"
    if name == "next_year":
        return date(p.year + 1, 12, 31), "implied"
    if name == "mid_next":
        return date(p.year + 1, 6, 30), "implied"
    if name == "this_year":
        return date(p.year, 12, 31), "implied"
    if name == "this_month":
        return _month_end(p.year, p.month), "implied"
    if name == "next_month":
        nm = _add_months(date(p.year, p.month, 1), 1)
        return _month_end(nm.year, nm.month), "implied"
    if name == "next_week":
        return date.fromordinal(p.toordinal() + 7), "implied"
    if name == "span":
        n = next((g[k] for k in ("n", "n2", "n3", "n4", "n5", "n6") if g.get(k)), None)
        u = next((g[k] for k in ("u", "u2", "u3", "u4", "u5", "u6") if g.get(k)), "")
        count = _number_word(n or "")
        if not count:
            return None
        u = u.lower()
        if u.startswith("week"):
            return date.fromordinal(p.toordinal() + 7 * count), "implied"
        return _add_months(p, count * (12 if u.startswith("year") else 1)), "implied"
    if name == "half":
        first = (g.get("h") or "").lower() == "first" or g.get("h2") == "1" or g.get("h3") == "1"
        end = date(p.year, 6, 30) if first else date(p.year, 12, 31)
        if end < p:
            end = date(end.year + 1, end.month, end.day)
        return end, "implied"
    if name == "quarter":
        q = int(g["qn"]) if g.get("qn") else _QUARTER_WORDS[g["qw"].lower()]
        end = _month_end(p.year, q * 3)
        if end < p:
            end = _month_end(p.year + 1, q * 3)
        return end, "implied"
    if name == "month":
        month = _MONTHS[g["m"].lower()]
        end = _month_end(p.year, month)
        if end < p:
            end = _month_end(p.year + 1, month)
        return end, "implied"
    if name == "cn_next":
        part = g.get("p") or ""
        if part in ("中", "上半年"):
            return date(p.year + 1, 6, 30), "implied"
        if part in ("初", "首季"):
            return date(p.year + 1, 3, 31), "implied"
        return date(p.year + 1, 12, 31), "implied"
    if name == "cn_this":
        part = g.get("p") or ""
        if part in ("上半年", "年中", "中") or m.group(0) == "年中":
            return date(p.year, 6, 30), "implied"
        return date(p.year, 12, 31), "implied"
    if name == "cn_span":
        tok = g["n"] or g["n2"]
        count = int(tok) if tok.isdigit() else _CN_DIGITS.get(tok)
        if not count or count > 120:
            return None
        return _add_months(p, count), "implied"
    if name == "cn_half":
        first = m.group(0).startswith("上")
        end = date(p.year, 6, 30) if first else date(p.year, 12, 31)
        if end < p:
            end = date(end.year + 1, end.month, end.day)
        return end, "implied"
    if name == "cn_years":
        tok = g["n"]
        count = int(tok) if tok.isdigit() else _CN_DIGITS.get(tok)
        if not count or count > 10:
            return None
        return _add_months(p, 12 * count), "implied"
    if name == "cn_quarter":
        tok = g.get("q") or g.get("q2") or "1"
        q = int(tok) if tok.isdigit() else _QUARTER_WORDS[tok]
        end = _month_end(p.year, q * 3)
        if end < p:
            end = _month_end(p.year + 1, q * 3)
        return end, "implied"
    return None


_SERIES_WORD = r"(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen)"
_MONTH_SERIES = re.compile(
    rf"\b(?:for|in|by|at\s+the\s+end\s+of|end-)\s*(?P<list>{_MONTH_RE}(?:\s*,\s*{_MONTH_RE})*,?\s+and\s+{_MONTH_RE})"
    rf"\s+(?:of\s+)?(?P<y>{_YR})\b",
    re.IGNORECASE,
)
_SPAN_SERIES = re.compile(
    rf"\b(?:in|over)\s+(?:the\s+next\s+)?(?P<list>{_SERIES_WORD}(?:\s*,\s*{_SERIES_WORD})*,?\s+and\s+{_SERIES_WORD})"
    r"\s+(?P<u>months|years)\b",
    re.IGNORECASE,
)
_MONTH_YEAR_SERIES = re.compile(
    rf"\b(?:for|in|by|at\s+the\s+end\s+of|end-)\s*(?P<list>{_MONTH_RE}\s+{_YR}(?:\s*,\s*{_MONTH_RE}\s+{_YR})*"
    rf",?\s+and\s+{_MONTH_RE}\s+{_YR})\b",
    re.IGNORECASE,
)
_CN_MONTH_SERIES = re.compile(
    rf"(?P<y>{_YR})\s*年\s*(?P<list>\d{{1,2}}\s*月(?:\s*[、,，]\s*\d{{1,2}}\s*月)*\s*(?:和|及|與|与|、)\s*\d{{1,2}}\s*月)"
)


def _deadline_series(norm: str, a: int, b: int, published: date | None) -> list[Deadline]:
    """Lists of horizons in one phrase, each as the Deadline of its last item carrying the whole series."""
    out: list[Deadline] = []
    for regex in (_MONTH_YEAR_SERIES, _MONTH_SERIES, _SPAN_SERIES, _CN_MONTH_SERIES):
        for m in regex.finditer(norm, a, b):
            if regex is not _MONTH_YEAR_SERIES and any(d.start <= m.start() < d.end for d in out):
                continue
            items = re.findall(r"\d+|[A-Za-z]+", m.group("list"))
            items = [t for t in items if t.lower() != "and"]
            whens: list[tuple[date | None, str]] = []
            if regex is _MONTH_YEAR_SERIES:  # "by December 2024, March 2025, June 2025 and September 2025"
                pairs = list(zip(items[::2], items[1::2], strict=False))
                for t, y in pairs:
                    month = _MONTHS.get(t.lower())
                    if not month or not y.isdigit():
                        break
                    whens.append((_month_end(int(y), month), "stated"))
                items = [month for month, _ in pairs]
            elif regex is _SPAN_SERIES:
                months = 12 if m.group("u").lower() == "years" else 1
                for t in items:
                    n = _number_word(t)
                    if not n:
                        break
                    whens.append((_add_months(published, n * months) if published else None, "implied"))
            else:
                y = int(m.group("y"))
                for t in items:
                    month = int(t) if t.isdigit() else _MONTHS.get(t.lower())
                    if not month or not 1 <= month <= 12:
                        break
                    whens.append((_month_end(y, month), "stated"))
            if len(whens) != len(items) or len(whens) < 2:
                continue
            phrase = norm[m.start() : m.end()]
            series = tuple(Deadline(w, src, m.start(), m.end(), phrase) for w, src in whens)
            out.append(replace(series[-1], series=series))
    return out


def _deadlines(norm: str, a: int, b: int, published: date | None) -> list[Deadline]:
    probe = norm.replace("[", " ").replace("]", " ")  # "by the end of [this month]"
    found: list[Deadline] = _deadline_series(norm, a, b, published)
    taken: list[tuple[int, int]] = [(d.start, d.end) for d in found]
    for regex, name in _DEADLINE_RULES:
        for m in regex.finditer(probe, a, b):
            s, e = m.start(), m.end()
            while s < e and probe[s].isspace():
                s += 1
            if e <= s or any(s < te and ts < e for ts, te in taken):
                continue
            if (
                name == "month"
                and m.group("m") == "May"
                and not re.match(r"(?i)(?:by|in|end|before|until)", m.group(0))
            ):
                continue
            if name == "month" and m.group("m").lower() == "may" and m.group("m") != "May":
                continue  # the modal "may"
            if name == "month" and m.group(0).strip().lower() == m.group("m").lower():
                continue  # a bare month name is not a horizon
            if name in ("cn_this", "cn_next") and re.match(r"以來|以来|至今|初至今", norm[e : e + 3]):
                continue
            if name == "cn_date":
                taken.append((s, e))  # "2025年6月3日": a date in the text, not a horizon
                continue
            resolved = _resolve(name, m, published)
            if resolved is None:
                continue
            when, source = resolved
            taken.append((s, e))
            found.append(Deadline(when, source, s, e, norm[s:e]))
    found.sort(key=lambda d: d.start)
    return found


def find_deadlines(text: str, published: date | None = None) -> list[Deadline]:
    """Every horizon phrase in `text`, resolved against `published` (see the module grammar)."""
    norm = _normalise(text)
    return _deadlines(norm, 0, len(norm), published)


# -------------------------------------------------------------------------------------------- hedges

# 觸及 is where the market went, unless a modal makes it ahead: "或觸及6.82", "有望觸及31000點"
_PAST_TOUCH = (
    r"(?<!有望)(?<!或)(?<!可)(?<!將)(?<!将)(?<!會)(?<!会)(?<!料)(?<!能)(?<!機會)(?<!机会)(?:觸及|触及)"
)
_HEDGE_EN = re.compile(
    r"\b(?:will|would|could|may|might|should|shall|can\s+still|expects?|expected|expecting|expectations?"
    r"|sees|see|seeing|forecasts?|forecasting|forecasted|predicts?|predicted|predicting|predictions?"
    r"|projects?|projected|projecting|projections?|anticipates?|anticipated|anticipating|estimates?|estimated"
    r"|targets?|targeting|likely|unlikely|poised|set\s+to|on\s+track|(?:is|are|'s)\s+headed|looking\s+at"
    r"|believes?|calls?\s+for|at\s+(?:the\s+)?risk\s+of|(?:is|are)\s+going\s+to|outlook|bullish|bearish"
    r"|stuck\s+to|reiterated|objectives?|(?:bull|bear|base)\s+case|scenario)\b|'ll\b"
    r"|(?-i:\b(?:TP|PT)\b)",  # broker copy's "cuts TP to HK$140", "cut PT to HK$185"
    re.IGNORECASE,
)
_HEDGE_CN = re.compile(
    r"預計|预计|預期|预期|料|估計|估计|相信|認為|认为|目標|目标|預測|预测|可望|有望|看好|看淡|上望|下望|挑戰|挑战"
    r"|可見|可升|應該|应该|將|将|會|会|或|下站看|向下看|審慎|审慎|上調|調高|調升|下調|調低|評級|評級"
    r"|預估|预估|上看|看至|有機會|有机会|可能|劍指|剑指|展望|最牛|最熊|上試|上试|下試|下试|可達|可达"
)
_PAST_CLAUSE = re.compile(
    r"\b(?:yesterday|last\s+(?:week|month|year|Friday|Monday|Tuesday|Wednesday|Thursday)|ago|earlier\s+this"
    r"|rose|fell|climbed|jumped|gained|added|dropped|slid|slumped|surged|soared|tumbled|closed|finished|ended"
    r"|rallied|rebounded|advanced|declined|lost|was\s+driven|were\s+driven|has\s+risen|has\s+fallen|had\s+been"
    r"|(?<!to\s)(?<!ll\s)hit\s+a\s+record|(?<!to\s)(?<!ll\s)hit\s+an?\s+(?:all-time|record)|reached\s+a|so\s+far\s+this\s+year|year-to-date\s+(?:gain|rise)"
    r"|had\s+(?:a|an)|traded|remains?\s+around|on\s+(?:Monday|Tuesday|Wednesday|Thursday|Friday))\b"
    r"|昨|上周|上週|上星期|過去|过去|以來|以来|早前|早先|曾|收市|收報|收报|高見|低見|年初至今|累升|累跌|累計|全年累"
    r"|已(?:大|累|經)?(?:升|跌|漲)|暫跌|暫升|半日|單日|巨震|全年(?:升|跌|上升|下跌)|(?<!預)(?<!目標)報(?=\s?\d)|當時|当时|次日|之後|跑贏|跑輸|(?:漲|升|跌)了|急擴|擴至|表現最好"
    rf"|{_PAST_TOUCH}",
    re.IGNORECASE,
)
_FUTURE_IN_CLAUSE = re.compile(
    r"\b(?:will|would|could|may|might|expects?|expecting|anticipat\w*|sees|forecast(?:s|ed)?|predict(?:s|ed)?"
    r"|project(?:s|ed|ing)|target|likely|poised|set\s+to)\b|預計|预计|料|目標|目标|有望|可望|預估",
    re.IGNORECASE,
)


def _hedge_position(norm: str, a: int, b: int) -> int:
    m = _HEDGE_EN.search(norm, a, b)
    c = _HEDGE_CN.search(norm, a, b)
    return min(x.start() for x in (m, c) if x) if (m or c) else b


def _hedge(norm: str, a: int, b: int) -> str | None:
    m = _HEDGE_EN.search(norm, a, b)
    c = _HEDGE_CN.search(norm, a, b)
    if m and (not c or m.start() <= c.start()):
        return re.sub(r"\s+", " ", m.group(0)).lower().lstrip("'")
    if c:
        return c.group(0)
    return None


# ---------------------------------------------------------------------------------------- kinds / cues

_CUE_RE = re.compile(
    r"(?P<below>\bbelow\b|\bunder\b|\bnot\s+(?:top|exceed)|won't\s+top|\bcap(?:ped)?\s+at|\bbear\s+case|最熊|最悲觀|最悲观|跌穿)"
    r"|(?P<reach>可達|可达|highest\s+target|\bhigh\s+of|\bpeak\s+of|\bhit(?:s|ting)?\b|\breach(?:es|ing)?\b|\btouch(?:es|ing)?\b"
    r"|\b(?:climb|rise|rising|surge|jump|rally|soar|advance|advancing|move|moving|head|heading|go|fall|falling|drop"
    r"|dropping|decline|slide|sink|collapse|collapsing|tumble|dip|plunge|slip|return|rebound|recover)s?\s+(?:to|toward|towards)\b"
    r"|\b(?:higher|lower)\s+to\b|\btumble\b|\breclaim(?:s|ing)?\b|\bretake|\bregain|\btest(?:s|ing)?\b"
    r"|\btoward(?:s)?\b|\bup\s+to\b|\bas\s+(?:high|low)\s+as\b|\bbreak\s+(?:above|through)|\bsurpass|\btop(?:ping)?\b"
    r"|\bexceed(?:ing)?\b|\blooking\s+at\b|\bbringing\s+it\s+to|\bfalling\s+to"
    r"|升至|升上|重上|挑戰|挑战|觸及|触及|上看|看至|看到|劍指|剑指|反彈至|反弹至|下站看|向下看|跌至|上望|下望|下試|下试|可見|可见|升穿|突破|(?<![年月])上(?=\s?\d))"
    r"|(?P<above>\btarget(?:s|ed)?\b|(?-i:\b(?:TP|PT)\b)|\bforecast\b|\bprojection\b|\bprediction\b|\bestimate\b|\bend\s+the\s+year\s+at"
    r"|\bfinish\s+the\s+year\s+at|\bend\s+at\b|\btrade\s+around|\b(?:sees?|expects?|forecasts?|predicts?|projects?)\s+(?:the\s+)?[^,;.]{1,30}?\b(?:at|ending\s+(?:the\s+year\s+)?at)\b"
    r"|\bprice\s+objective|\b(?:base|bull)\s+case"
    r"|\b(?:sees?|expects?|forecasts?|predicts?|projects?)\s+(?:about\s+|around\s+|roughly\s+)?$|目標|目标|預測|预测|基準|基准|看(?=\s?\d)|[兌兑][換换]?\s*$)"
    r"|(?P<manual>consolidat\w*|整固|區間上落|横行|橫行)",
    re.IGNORECASE,
)
_AFTER_MANUAL = re.compile(
    r"\s*(?:點|点|points?)?\s*(?:附近)?\s*(?:作出整固|整固|橫行|横行|consolidat)", re.IGNORECASE
)
_AFTER_TARGET = re.compile(
    r"\s*(?:(?:a\s+share|per\s+share)\s+)?(?:price\s+)?(?:target|objective)\b|\s*PT\b"
    r"|\s*(?:點|点|美元|港元|元)?\s*的?\s*(?:目標|目标)",
    re.IGNORECASE,
)
_BULL_BEAR = re.compile(
    r"(?P<bull>最牛|最樂觀|最乐观|bull\s+case)|(?P<bear>最熊|最悲觀|最悲观|bear\s+case)", re.IGNORECASE
)
_EXCLUDE_BEFORE = re.compile(
    r"\bfrom\s+(?:\S+\s+){0,4}(?:target|forecast|estimate|call)\s+of\s*$|(?:\bfrom\b|close\s+of|closed\s+at|closing|record\s+close"
    r"|(?<!hit\sa\s)(?<!reach\sa\s)(?<!to\sa\s)(?<!new\s)record\s+high|finished|currently|trading\s+(?:at|around|near)"
    r"|\bnow\s+(?:at|around|near)|hovering\s+(?:at|around|near)"
    r"|is\s+trading|press\s+time|(?<!target )price\s+of|previous|earlier|up\s+from|\blows?\b|low\s+of"
    r"|average\s+(?:target|of)"
    r"|(?<!year-end )(?<!target )(?<!price )levels?\s+(?:around|of|near)|remains?\s+(?:around|near|at)"
    r"|(?<!hit\s)(?<!reach\s)an?\s+(?:all-time|record)\s+high\s+of"
    r"|較|较|收市|收報|收报|報(?!告)|高見|低見|早前|早先|年初的|加"
    rf"|{_PAST_TOUCH})\w*(?:\s*[^\s\d,;]+){{0,2}}?\s*$",
    re.IGNORECASE,
)
_MOVE_UP = re.compile(
    r"\b(?:rise|rises|rising|gain|gains|rally|jump|climb|surge|soar|advance|upside|increase)\b|升|漲|涨",
    re.IGNORECASE,
)
_MOVE_DOWN = re.compile(
    r"\b(?:fall|falls|falling|drop|drops|decline|declines|slump|slide|correction|pullback|pull-back|loss|losses"
    r"|downside|plunge|tumble|crash|sell-?off|drawdown)\b|跌|回調|回调",
    re.IGNORECASE,
)
_IMPLIED_MOVE = re.compile(
    r"impl(?:y|ies|ying)|represent|meaning|suggest|signal|reflect|equat|translat|潛在|潜在|即|potential|相當於|意味|較",
    re.IGNORECASE,
)
_DIR_UP = re.compile(
    r"\b(?:rise|rises|rising|climb|climbs|gain|gains|rally|rallies|rebound|higher|upward|upwards|uptrend|surge|soar"
    r"|advance|trend\s+higher|move\s+higher|outperform|recover|recovery|upside)\b|向上|上升|升浪|反彈|反弹|看好|強勢|强势",
    re.IGNORECASE,
)
_DIR_DOWN = re.compile(
    r"\b(?:fall|falls|falling|decline|declines|drop|drops|slump|lower|downward|downside|correction|pullback|sell-?off"
    r"|selloff|tumble|crash|underperform|weaken|weaker)\b|下跌|回調|回调|看淡|偏淡|弱勢|弱势",
    re.IGNORECASE,
)
_QUALITATIVE = re.compile(
    r"\b(?:record\s+highs?|new\s+highs?|all-time\s+highs?|consolidat\w*|range-bound|sideways|volatile|stall|unlikely"
    r"|cap\b|limited|(?:under|out)?perform\w*|strong(?:ly)?|weak(?:ly|ness)?)|整固|反覆|反复|橫行|横行|偏淡|審慎|审慎|樂觀|乐观|悲觀|悲观",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:unlikely|not|no|won't|cannot|can't|never)\b|不會|不会|難以|难以", re.IGNORECASE)


# ------------------------------------------------------------------------------------------ speakers

_TITLE_WORDS = (
    r"(?i:strategists?|analysts?|economists?|director|officer|head|manager|president|chairman|chairwoman|CIO|CEO"
    r"|partner|specialist|investor|trader|founder|adviser|advisor|researcher|commentator|executive|portfolio\s+manager"
    r"|fund\s+manager|chief)"
)
_TITLE_NAME_WORDS = (
    r"(?i:strategists?|analysts?|economists?|director|officer|head|manager|specialist|researcher|commentator"
    r"|portfolio\s+manager|fund\s+manager)"
)
_NAME_TOKEN = r"(?:Mc|Mac|O'|D')?[A-Z][a-z]+(?:-[A-Z]?[a-z]+)?"
_NAME = (
    rf"{_NAME_TOKEN}(?:\s+[A-Z]\.)?"
    rf"(?:\s+(?:van\s+der|van|de|da|von|al|bin|le)\s+{_NAME_TOKEN}|\s+{_NAME_TOKEN}){{1,2}}"
)
_FIRM_SUFFIX = (
    r"(?:Securities(?:\s+International)?(?:\s+\(HK\))?|Sachs|Capital(?:\s+Markets)?|Bank|Group|International|Research"
    r"|Partners|Advisors|Advisers|Asset\s+Management|Fund\s+Management|Wealth\s+Management|Management|Markets"
    r"|Investments|Financial(?:\s+International)?|Chartered|Stanley|Strategy|Global\s+Advisors|Invest|Insights)"
    r"(?:\s+(?:Group\s+)?(?:Inc|Ltd|Corp|Co|LLC|AG|Plc|SA)\.?)?"
)
_KNOWN_FIRMS = (
    r"Goldman(?:\s+Sachs)?|Morgan\s+Stanley|JPMorgan(?:\s+Chase)?|J\.P\.\s+Morgan|Citi(?:group|bank)?|UBS|HSBC|BofA"
    r"|Bank\s+of\s+America|Wedbush(?:\s+Securities)?|Standard\s+Chartered|Fidelity(?:\s+International)?|Nomura|CLSA"
    r"|Jefferies|Barclays|Deutsche\s+Bank|Truist(?:\s+Securities)?|Piper\s+Sandler|Fundstrat|Wells\s+Fargo|Bernstein"
    r"|Macquarie|BlackRock|Loop\s+Capital|Independent\s+Strategy|BOCOM\s+International|BOC\s+International|DBS"
    r"|Everbright\s+Securities\s+International|Zhongtai\s+Financial\s+International|RBC(?:\s+Capital\s+Markets)?"
    r"|Evercore(?:\s+ISI)?|Oppenheimer|Stifel|BMO(?:\s+Capital\s+Markets)?|Societe\s+Generale|SocGen|BNP\s+Paribas"
    r"|Yardeni\s+Research|Ned\s+Davis(?:\s+Research)?|Capital\s+Economics|ING|Mizuho|Daiwa|SMBC\s+Nikko|CICC"
    r"|Haitong|CMB\s+International|Saxo(?:\s+Bank)?|Canaccord(?:\s+Genuity)?|Raymond\s+James|LPL\s+Financial"
    r"|Charles\s+Schwab|Vanguard|Invesco|Amundi|Pictet|Julius\s+Baer|Natixis|Commerzbank|Rabobank|Morningstar"
    r"|Ark\s+Invest|Credit\s+Suisse|Bank\s+of\s+China|ANZ|Westpac|Citic|CITIC|Futu|Phillip\s+Securities|IG"
    r"|MUFG|Mitsubishi\s+UFJ(?:\s+Morgan\s+Stanley)?(?:\s+Securities)?|TD\s+Cowen|Bernstein|Scotiabank|TD\s+Securities|Deutsche|Barclays|Wolfe\s+Research|Ritholtz|Bespoke|Sanford\s+C\.\s+Bernstein"
)
_FIRM = (
    rf"(?:(?:{_KNOWN_FIRMS})(?:\s+{_FIRM_SUFFIX})?"
    rf"|(?:[A-Z][\w&.'-]*\s+(?:(?:of|and|&)\s+)?){{0,4}}{_FIRM_SUFFIX})"
)
_SPEECH_EN = (
    r"(?:said|says|say|told|tells|wrote|writes|noted|notes|added|adds|warned|warns|expects?|expected|predicts?|predicted"
    r"|forecasts?|sees|saw|believes?|thinks?|estimated|estimates|projected|projects|anticipated|anticipates|stated|states"
    r"|pointed\s+out|argued|argues|explained|cautioned|cautions|reiterated|remarked|agrees|observed|highlighted"
    r"|drew\s+attention|reaffirmed|reaffirms|maintained|maintains|raised|raises|lifted|lifts|boosted|boosts|hiked|hikes"
    r"|lowered|lowers|trimmed|trims|set|sets|has|had|is|now\s+sees)"
)
_FIRM_RE = re.compile(_FIRM)
_PERSON_PATTERNS = [
    # "Alvin Ngan, a strategist at Zhongtai Financial International"
    re.compile(
        rf"(?P<name>{_NAME}),\s+(?:(?:a|an|the)\s+)?(?:[\w.'-]+\s+){{0,6}}?{_TITLE_WORDS}"
        rf"(?:\s+[\w.'-]+){{0,4}}?\s+(?:at|of|with|from)\s+(?P<firm>{_FIRM}|the\s+(?:firm|bank|company|broker))"
    ),
    # "Kimmy Tong, Everbright Securities International's global and Fx market strategist"
    re.compile(rf"(?P<name>{_NAME}),\s+(?P<firm>{_FIRM})(?:'s|')\s+(?:[\w.'-]+\s+){{0,6}}?{_TITLE_WORDS}"),
    # "Piper Sandler's head market specialist Craig Johnson", "Standard Chartered's Geoffrey Kendrick"
    re.compile(
        rf"(?P<firm>{_FIRM})(?:'s|')\s+(?:\([^)]{{0,20}}\)\s+)?(?:(?:[\w.'-]+\s+){{0,5}}?{_TITLE_WORDS}\s+)?(?P<name>{_NAME})"
    ),
    # "Morgan Stanley Chief U.S. Equity Strategist Mike Wilson", "Wedbush analysts led by Dan Ives"
    re.compile(
        rf"(?:(?P<firm>{_FIRM})\s+)?(?:[\w.'-]+\s+){{0,4}}?{_TITLE_NAME_WORDS}(?:,?\s+led\s+by)?\s+(?P<name>{_NAME})"
    ),
    # "RBC Capital Markets Head of U.S. Equity Strategy Lori Calvasina"
    re.compile(
        rf"(?P<firm>{_FIRM})(?:'s|')?\s+(?:Global\s+|Chief\s+|Senior\s+)?(?:Head|Director|Chief)\s+of\s+"
        rf"(?:[A-Z][\w.&-]*\s+){{1,5}}?(?P<name>{_NAME})"
    ),
    # "analysts at Acme Bank led by John McDonald"
    re.compile(
        rf"(?i:analysts|strategists|economists|team)\s+(?:at|of|from|with)\s+(?P<firm>{_FIRM})[^.;]{{0,20}}?"
        rf"\s+led\s+by\s+(?P<name>{_NAME})"
    ),
    # "Daniel Ives of Wedbush Securities", "Mary Lee at Acme Securities"
    re.compile(rf"(?P<name>{_NAME})\s+(?:of|at|with|from)\s+(?P<firm>{_FIRM})"),
    # a firm the lists do not know, set off by the verb: "Jane Smith of Acme said", "Jane Smith, a
    # strategist at Acme Partners, said", "Jane Smith from Zhongtai Futures expects"
    re.compile(
        rf"(?P<name>{_NAME})(?:,\s+(?:(?:a|an|the)\s+)?(?:[\w.'-]+\s+){{0,6}}?{_TITLE_WORDS}(?:\s+[\w.'-]+){{0,4}}?)?"
        rf"\s+(?:of|at|with|from)\s+(?P<firm>[A-Z][\w&.'-]*(?:\s+(?:[A-Z][\w&.'-]*|&)){{0,3}}),?\s+"
        rf"(?:also\s+|now\s+|still\s+)?{_SPEECH_EN}\b"
    ),
    # "said Ken Chen", "according to David Roche"
    re.compile(rf"\b(?:said|says|(?i:according)\s+to|told\s+by)\s+(?P<name>{_NAME})"),
    # "Scott Rubner sees", "Chen Weicong stated"
    re.compile(rf"(?P<name>{_NAME})\s+(?:also\s+|now\s+|still\s+)?{_SPEECH_EN}\b"),
    # headline style, the surname only: "Goldman's Kostin sees", "Wedbush's Ives Says"
    re.compile(
        rf"(?P<firm>{_KNOWN_FIRMS})(?:'s|')\s+(?P<name>{_NAME_TOKEN})\s+(?:also\s+|now\s+|still\s+)?"
        r"(?i:sees|expects|says|said|predicts|forecasts|thinks|warns|believes|raises|lifts|cuts|boosts|targets)\b"
    ),
]
_NOT_NAMES = re.compile(
    r"^(?:Hang|Hong\s+Kong|Goldman|Morgan|Standard|Bank|Wall|Federal|White|New|United|South|North|China|Chinese|Vice"
    r"|President|Donald|Fed|Treasury|Bloomberg|Reuters|Nasdaq|Apple|Tesla|Nvidia|Bitcoin|Gold|The|This|That|His|Her"
    r"|Their|Its|Our|Asia|Asian|Europe|Mainland|Last|Next|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
    r"|January|February|March|April|May|June|July|August|September|October|November|December|Street|Visible|Market"
    r"|Markets|Meanwhile|However|Historically|Seasonal|Looking|Given|Despite|Judging|According|Finally|Cumulatively"
    r"|Considering|Recently|Still|Chief|Head|Senior|Analyst|Analysts|Strategist|Strategists|Research|Global|Regional)\b"
)
_NAME_STOPWORDS = frozenset(
    [
        "Are",
        "Is",
        "Was",
        "Were",
        "Be",
        "Been",
        "Being",
        "Feeling",
        "So",
        "Why",
        "How",
        "What",
        "Who",
        "When",
        "Where",
        "Keep",
        "Keeps",
        "Getting",
        "Get",
        "Gets",
        "Will",
        "Would",
        "Could",
        "Should",
        "May",
        "Might",
        "Can",
        "Do",
        "Does",
        "Did",
        "Has",
        "Have",
        "Had",
        "Not",
        "And",
        "Or",
        "But",
        "For",
        "With",
        "From",
        "Into",
        "Over",
        "Under",
        "Than",
        "Then",
        "There",
        "Here",
        "Stocks",
        "Stock",
        "Shares",
        "Index",
        "Targets",
        "Target",
        "Raised",
        "Raises",
        "Cut",
        "Cuts",
        "Sees",
        "See",
        "Says",
        "Said",
        "Expects",
        "Now",
        "Also",
        "Year",
        "Month",
        "Week",
        "Day",
        "Today",
        "Tomorrow",
        "Yesterday",
        "Price",
        "Prices",
        "Rally",
        "Rallies",
        "Outlook",
        "Forecast",
        "Forecasts",
        "Equity",
        "Equities",
        "Strategy",
        "Investment",
        "Investors",
        "Wealth",
        "Securities",
        "Capital",
        "Partners",
        "Believes",
        "Thinks",
        "Warns",
        "Predicts",
        "Calls",
        "Lifts",
        "Hikes",
        "Boosts",
    ]
)
_GROUP_EN = re.compile(
    r"\b(?:the\s+)?(?:median|average|mean|consensus)(?:\s+(?:year-end\s+|price\s+)?(?:forecast|estimate|target|view"
    r"|call|expectation|projection)s?)?(?:\s+(?:of|among|from|for)\s+(?:the\s+)?(?:\d+|[a-z]+)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:analysts|strategists|economists|forecasters|brokers|fund\s+managers|market\s+participants|respondents"
    r"|houses|banks)(?:\s+(?:polled|surveyed)(?:\s+by\s+[A-Z][\w&]+)?|\s+in\s+an?\s+[A-Z][\w&]+\s+(?:poll|survey))?)?"
    r"|\b(?:an?|the)\s+[A-Z][\w&]+\s+(?:poll|survey)(?:\s+of\s+(?:\d+|[a-z]+)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:analysts|strategists|economists|forecasters|fund\s+managers))?"
    r"|\b(?:\d+|[a-z]+)\s+(?:[\w-]+\s+){0,2}?(?:analysts|strategists|economists)\s+(?:polled|surveyed)"
    r"(?:\s+by\s+[A-Z][\w&]+)?"
    r"|\b(?:(?i:many|some|most|other|several|Wall\s+Street|sell-side|market)\s+)?(?:[\w-]+\s+){0,4}?"
    r"(?i:analysts|strategists|economists|forecasters|traders|investors|observers|experts|leaders|executives"
    r"|participants)(?=\s+(?:now\s+|still\s+|also\s+|broadly\s+|generally\s+)?(?:expect|see|predict|forecast"
    r"|believe|say|said|think|anticipate|estimate|are\s+betting|reckon))"
    r"|(?i:\bconsensus\b)"
)
_GROUP_CN = re.compile(
    r"(?:多間|多家|部分|個別|不少|主要|外資|中資|各大)?(?:大行|券商|投行|機構)(?:普遍|均|都|亦)?"
    r"(?=.{0,6}?(?:預期|預計|料|看|認為|相信|估計|目標|預測|上調|下調))"
    r"|市場人士|業界人士|證券業人士|分析師普遍|分析師平均|策略師平均|策略師普遍|經濟學家普遍|受訪(?:者|分析師|經濟學家|策略師)"
    r"|(?:市場|分析師|策略師|投資者)(?=普遍|憧憬|預期|預計|料|估計|認為|相信|看好|看淡|平均)"
)
_GENERIC_SUBJECT = re.compile(
    r"\b(?:many|some|most|other|several)\s+(?:analysts|strategists|economists|investors|traders|observers|experts)\b"
    r"|\banalysts\s+(?:say|said|expect|believe|see|predict|warn)|\bthe\s+average\s+"
    r"|\bconsensus\b|\bmedian\b|市場人士|业界人士|業界人士|證券業人士|证券业人士|分析師普遍|分析师普遍|市場普遍|市场普遍",
    re.IGNORECASE,
)
_PRONOUN = re.compile(
    r"\b(?:he|she|his|her|I|we|the\s+(?:strategist|analyst|analysts|economist)|the\s+firm's\s+[\w\s.]{0,40}?strategist)\b"
    r"|^\s*['\"]|他|她|其個人|其个人",
)
# "這位策略師預計…": the person named before (not a group called 策略師).
_CN_THIS_PERSON = re.compile(
    r"(?:這位|該名|該位|这位|该名)(?:首席)?(?:策略師|分析師|經濟學家|經濟師|策略师|分析师)"
)
_FIRM_ANAPHORA = re.compile(
    r"\b(?:the|this)\s+(?:firm|bank|broker|house|brokerage|lender)\b|該行|该行|該公司|该公司|該機構|该机构|該券商|该券商|該投行|该投行"
)
_EN_FIRM_SPEAKER = re.compile(
    rf"\b(?i:according)\s+to\s+(?P<f1>{_FIRM})|\b(?:prediction|forecast|call|note|report)\s+(?:from|by)\s+(?P<f2>{_FIRM})"
    rf"|(?P<f3>{_FIRM})\s+(?:also\s+)?(?i:expects?|predicts?|forecasts?|sees|said|says|projects|estimates|raise[sd]?|cuts?"
    rf"|lift(?:s|ed)?|bump(?:s|ed)?|set|sets|maintains?|kept|keeps|believes|hikes?|hiked|boosts?|boosted|lowers?|lowered)\b"
)

_CN_TITLES = (
    r"(?:經濟學家|经济学家|投資官|投资官|交易員|交易员|分析員|分析员|研究總監|研究总监|首席策略師|首席策略师|策略師|策略师|分析師|分析师|經濟師|经济师|投資總監|投资总监|總監|总监|主管|董事|主席|總裁|总裁"
    r"|經理|经理|顧問|顾问|研究員|研究员|合夥人|合伙人|創辦人|创办人)"
)
_CN_VERBS = (
    r"(?:表示|認為|认为|稱|称|指出|指|預計|预计|預期|预期|明言|相信|估計|估计|料|說|说|提到|補充|补充|強調|强调|坦言|直言"
    r"|建議|建议|又|亦|則|则|周中|週中|分析|看好|看淡|預測|预测|判斷|判断|估算|提醒|警告|形容|解釋|解释|透露|續指|续指"
    r"|續稱|续称|回應|回应|在報告|在报告|於報告|于报告|在研究|接受|日前|近日|早前|最新|今日|昨日|昨天|今天)"
)
_CN_PERSON = re.compile(rf"{_CN_TITLES}\s?(?P<name>[{_CJK}]{{2,3}}?)(?={_CN_VERBS})")
# A foreign name transcribed, with the original in brackets: "分析師丹·艾夫斯(Dan Ives)" -> Dan Ives.
_CN_FOREIGN_PERSON = re.compile(
    rf"(?:{_CN_TITLES})?\s?[{_CJK}]{{1,5}}[·•‧][{_CJK}]{{1,6}}\s*[(（]\s*(?P<name>[A-Z][A-Za-z.'-]+(?:\s+[A-Z][A-Za-z.'-]+){{1,3}})\s*[)）]"
)
# A foreign name transcribed, without the original: "首席美股策略師邁克爾·威爾遜表示", "大衛·科斯汀預計".
_CN_DOT_NAME = rf"[{_CJK}]{{1,5}}[·•‧][{_CJK}]{{1,6}}?(?=\s*(?:{_CN_VERBS}|[，,]))"
_CN_DOT_PERSON = re.compile(
    rf"{_CN_TITLES}\s?(?P<name>{_CN_DOT_NAME})|(?<![{_CJK}·•‧])(?P<bare>{_CN_DOT_NAME})"
)
# A Latin name after a Chinese title: "摩根大通的首席日本外匯策略師 Junya Tanase 預測", "分析師Ben Hoff表示".
_CN_LATIN_PERSON = re.compile(
    rf"{_CN_TITLES}\s?(?P<name>[A-Z][a-z][A-Za-z'-]*(?:\s+[A-Z][A-Za-z'-]+){{1,2}})\s?(?=[{_CJK}，,])"
)
_CN_WEEKDAY = r"[周週][一二三四五六日末]|星期[一二三四五六日天]?"
_CN_NOT_NAME = re.compile(
    r"[普平均們们都亦則则一也皆多紛纷等團团隊队及和與与對对表認认預预料指稱称相近今昨早最再續续又還还]|大多|大致"
    rf"|{_CN_WEEKDAY}|方面|方向|江山"  # "高盛周一表示": a weekday, not a person called 周一
)
_CN_BYLINE = re.compile(rf"《(?P<org>[^《》]{{0,40}}?){_CN_TITLES}\s*(?P<name>(?:[{_CJK}]\s*){{2,3}})》")
_CN_KNOWN_FIRMS = (
    r"摩根士丹利|大摩|小摩|摩根大通|摩通|J\.?P\.?\s?摩根|高盛|花旗銀行|花旗|滙豐私人銀行|滙豐環球投資研究|滙豐|汇丰|渣打|瑞銀|瑞银|美銀|美银|中金|星展"
    r"|富瑞|麥格理|巴克萊|德銀|德意志銀行|法巴|法國巴黎銀行|瑞信|大和|野村|貝萊德|景順|施羅德|富達|安聯|輝立|致富|第一上海|時富"
    r"|凱基|(?<![0-9美港日])元大(?![幅削升跌漲])|群益|國信|中信證券|中信里昂|海通國際|海通|國泰君安|招商證券|華泰證券|華泰|廣發證券|申萬宏源|興業證券|東方證券"
    r"|工銀國際|農銀國際|國投證券|信達國際|中州國際|勝利證券|艾德證券|盈透證券|老虎證券|長橋證券|西證國際|恒生銀行|恒生投資|東亞"
    r"|野村|東亞銀行|东亚银行|光大證券國際|光大证券国际|中泰國際|中泰国际|耀才證券|耀才证券|富途證券|富途证券|建銀國際|建银国际"
    r"|瑞穗|三菱日聯|三菱日联|三井住友|華贏東方證券|华赢东方证券|信誠證券投資服務|交銀國際|交银国际|中銀國際|中银国际|招銀國際|招银国际"
    r"|法國興業銀行|法国兴业银行|法興銀行|法兴银行|法興|法兴|富國銀行|富国银行|傑富瑞|杰富瑞|美國銀行|美国银行|美林|澳新銀行|澳新"
    r"|華僑銀行|华侨银行|大華銀行|大华银行|荷蘭國際|荷兰国际|加拿大皇家銀行|加拿大皇家银行|道明證券|道明证券|摩根資產管理|摩根资产管理"
)
_CN_FIRM_GENERIC = (
    rf"[{_CJK}]{{2,6}}?"
    r"(?:證券國際|证券国际|證券|证券|銀行|银行|國際|国际|資本|资本|基金|資產管理|资产管理|金融)"
)
_CN_FIRM_SPEAKER = re.compile(
    rf"(?P<firm>{_CN_KNOWN_FIRMS}|{_CN_FIRM_GENERIC})(?:亦|昨|今|則|则|也|繼續|继续)?"
    r"(?=恒指|恒生|港股|國指|国指|科指|預期|预期|預計|预计|表示|認為|认为|發布|发布|發表|发表|指|料|看好|看淡|給予|给予|對|对|將|将|以|為|为|把脈|把脉|明年|今年)"
)


# "中泰國際顏子琪表示" (firm, then the name, no title)
_CN_FIRM_PERSON = re.compile(
    rf"(?P<firm>{_CN_KNOWN_FIRMS})(?:公司|集團|集团)?(?P<name>[{_CJK}]{{2,3}}?)"
    r"(?=表示|認為|认为|指出|預計|预计|預期|预期|相信|估計|估计|坦言|直言|強調|强调)"
)
_CN_NAME_WORDS = re.compile(
    r"研究|報告|报告|分析|首席|策略|團隊|团队|經濟|经济|發表|发表|最新|預測|预测|指數|指数|港股|恒指|目標|目标|銀行|银行"
    r"|證券|证券|國際|国际|環球|环球|私人|財富|财富|集團|集团|中國|中国|亞洲|亚洲|香港|資產|资产|投資|投资|今年|明年|認|預|表"
)


@dataclass
class _Person:
    name: str
    firm: str | None


@dataclass
class _Speakers:
    people: list[_Person] = field(default_factory=list)
    last_person: _Person | None = None
    last_firm: str | None = None
    byline: _Person | None = None
    found_in: dict[tuple[int, int], list[tuple[int, _Person, int]]] = field(default_factory=dict)

    def register(self, name: str, firm: str | None) -> _Person:
        name = re.sub(r"\s+", " ", name).strip()
        for p in self.people:
            if p.name == name:
                if firm and not p.firm:
                    p.firm = firm
                return p
        person = _Person(name, firm)
        self.people.append(person)
        return person

    def lookup(self, sentence: str) -> _Person | None:
        """The first registered person named in the sentence, by full name or surname (English: last word,
        as in 'Mr Ng' or 'Kendrick'; Chinese: the full name)."""
        best: tuple[int, _Person] | None = None
        for p in self.people:
            keys = [p.name]
            if not _CJK_RE.search(p.name):
                keys.append(p.name.split()[-1])
                keys.append(p.name.split()[0])  # Chinese order: "Hong Hao" -> "Hong"
            for key in keys:
                pattern = re.escape(key) if _CJK_RE.search(key) else rf"\b{re.escape(key)}\b"
                m = re.search(pattern, sentence)
                if m and (best is None or m.start() < best[0]):
                    best = (m.start(), p)
        return best[1] if best else None


def _clean_firm(firm: str | None) -> str | None:
    if not firm:
        return None
    firm = re.sub(r"\s+", " ", firm).strip(" ,.'")
    firm = re.sub(r"(?:'s|')$", "", firm)
    if re.fullmatch(r"the (?:firm|bank|company|broker)", firm, re.IGNORECASE):
        return None
    return firm or None


_CN_ANY_FIRM_RE = re.compile(rf"{_CN_KNOWN_FIRMS}|{_CN_FIRM_GENERIC}")


# Words a Chinese subject-firm match takes with the firm: "現由高盛證券", "而瑞銀", "較樂觀的光大證券國際",
# "摩根士丹利基本預測", "花旗又指出"; and subjects that are no firm at all ("根據模型預測", "焦點預期").
_CN_FIRM_LEAD = re.compile(
    r"^(?:現由|现由|當中以|当中以|其中|當中|当中|而|和|與|与|及|由|據|据|較[^的]{1,4}的|较[^的]{1,4}的)"
)
_CN_FIRM_TAIL = re.compile(r"(?:基本|又|再)$")
_CN_NO_FIRM = re.compile(r"^(?:根據|根据|隨著|随着|焦點|焦点|合夥人|合伙人|及)|^(?:華爾街|华尔街)?金融$")


def _known_firm_ending(words: str) -> str | None:
    """A known firm that ends `words` after other words ("當中以海通國際" -> 海通國際)."""
    known = _ANY_FIRM_RE.search(words)
    return known.group(0) if known and known.end() == len(words) and known.start() > 0 else None


def _tidy_cn_firm(firm: str) -> str | None:
    """The firm without the words it was matched with, or None when the subject is no firm."""
    known = _known_firm_ending(firm)
    if known:
        return known
    tidy = _CN_FIRM_TAIL.sub("", _CN_FIRM_LEAD.sub("", firm)) or firm
    return None if _CN_NO_FIRM.search(tidy) else tidy


def _cn_firm_before(sent: str, pos: int, speakers: _Speakers) -> str | None:
    """The firm named just before a Chinese-press name ("中泰國際策略師顏子琪"), else the last firm met."""
    firms = list(_CN_ANY_FIRM_RE.finditer(sent, max(0, pos - 24), pos))
    return _tidy_cn_firm(firms[-1].group(0)) if firms else speakers.last_firm


def _find_people(norm: str, a: int, b: int, speakers: _Speakers) -> list[tuple[int, _Person, int]]:
    """(start, person, end) for people introduced in this sentence (offsets within the sentence)."""
    cached = speakers.found_in.get((a, b))
    if cached is not None:
        return cached  # the speaker and the speaker marks of one sentence read it twice
    sent = norm[a:b]
    found: list[tuple[int, _Person, int]] = []
    firm_spans: list[tuple[int, int]] = []  # "Jane Smith from Zhongtai Futures expects": not a person
    for i, pattern in enumerate(_PERSON_PATTERNS):
        for m in pattern.finditer(sent):
            name = m.group("name")
            if _NOT_NAMES.match(name) or _FIRM_RE.fullmatch(name):
                continue
            if any(lo <= m.start("name") < hi for lo, hi in firm_spans):
                continue
            if m.groupdict().get("firm"):
                firm_spans.append((m.start("firm"), m.end("firm")))
            if any(tok in _NAME_STOPWORDS for tok in re.split(r"[\s-]+", name)):
                continue
            name = re.sub(r"\s+(?:said|says|of|at|and)$", "", name)
            # "Futurist Joseph Raczynski", "Billionaire John Paulson": a descriptor, then the name
            name = re.sub(
                r"^(?:Futurist|Billionaire|Veteran|Famed|Legendary|Investor|Trader|Economist|Strategist|Analyst)\s+"
                r"(?=\S+\s+\S)",
                "",
                name,
            )
            honorific = re.match(r"(?:Mr|Mrs|Ms|Dr|Prof)\.?\s+(\S+)$", name)
            if honorific:
                known = speakers.lookup(honorific.group(1))
                if known is not None:
                    found.append((m.start(), known, m.end()))
                    continue
                name = honorific.group(1)
            firm = _clean_firm(m.groupdict().get("firm"))
            if firm is None:
                nearby = list(_FIRM_RE.finditer(sent, max(0, m.start("name") - 60), m.start("name")))
                firm = _clean_firm(nearby[-1].group(0)) if nearby else None
            person = speakers.register(name, firm or None)
            if person.firm is None and i in (0, 2):
                person.firm = speakers.last_firm
            found.append((m.start(), person, m.end()))
    for m in _CN_PERSON.finditer(sent):
        if _CN_NOT_NAME.match(m.group("name")):
            continue  # "分析師普遍預期": a group, not a person called 普遍
        person = speakers.register(m.group("name"), _cn_firm_before(sent, m.start(), speakers))
        found.append((m.start(), person, m.end()))
    transcribed = (_CN_FOREIGN_PERSON, _CN_LATIN_PERSON, _CN_DOT_PERSON)
    for m in (m for pattern in transcribed for m in pattern.finditer(sent)):
        if any(start <= m.start() < end for start, _, end in found):
            continue
        name = m.groupdict().get("name") or m.group("bare")
        person = speakers.register(name, _cn_firm_before(sent, m.start(), speakers))
        found.append((m.start(), person, m.end()))
    if not any(_CJK_RE.match(p.name) for _, p, _ in found):
        for m in _CN_FIRM_PERSON.finditer(sent):
            name = m.group("name")
            if not _cn_name_ok(name):
                continue
            person = speakers.register(name, m.group("firm"))
            found.append((m.start(), person, m.end()))
            break
    found.sort(key=lambda t: t[0])
    speakers.found_in[(a, b)] = found
    return found


@dataclass(frozen=True)
class _Who:
    """Who makes a claim, and how we know."""

    strategist: str | None
    firm: str | None
    group: str | None
    evidence: str
    weight: float  # how sure the attribution is (feeds Candidate.confidence)

    def carried(self, evidence: str, weight: float) -> _Who:
        return _Who(self.strategist, self.firm, self.group, evidence, min(self.weight, weight))


_FIRM_DESK = re.compile(
    rf"(?P<firm>{_KNOWN_FIRMS}|{_FIRM})\s+(?i:strategists|analysts|economists)\b"
    rf"|(?P<firm2>{_KNOWN_FIRMS}|{_FIRM})(?:'s|')\s+(?:[\w-]+\s+){{0,3}}?(?i:strategists|analysts|economists|desk|team"
    rf"|research|house\s+view|(?:year-end\s+|price\s+|\d+-month\s+)?(?:target|objective|forecast|prediction|estimate)s?"
    rf"|(?:bull|bear|base)\s+case|outlook|call)\b"
    # "strategists at Acme Research now see", "analysts from Goldman Sachs expect"
    rf"|(?i:strategists|analysts|economists|researchers)\s+(?:at|from|with|of)\s+(?P<firm3>{_KNOWN_FIRMS}|{_FIRM})"
)
# "J.P.摩根策略師預計", "高盛的分析師團隊認為": the firm's desk, no person named.
_CN_FIRM_DESK = re.compile(
    rf"(?P<firm>{_CN_KNOWN_FIRMS})(?:的)?(?:首席)?(?:策略師|分析師|經濟學家|經濟師|研究團隊|分析師團隊|研究部|團隊)(?:們)?"
    rf"(?:{_CN_VERBS})"
)
_LIST_ITEM = re.compile(
    rf"^\s*(?:[•·▪●◆■*-]\s*)?(?P<firm>{_KNOWN_FIRMS}|{_CN_KNOWN_FIRMS}|{_FIRM}|[A-Z][\w&.'-]+(?:\s+[A-Z][\w&.'-]+){{0,3}})"
    r"\s*(?:\([^)]{0,30}\)\s*)?[:：]\s*(?=[$\dUSH])"
)
_BULLET = re.compile(r"^\s*[•·▪●◆■*]\s*|^\s*-\s+")


_EN_SUBJECT_FIRM = re.compile(
    r"^\W*(?P<firm>[A-Z][\w&.-]*(?:\s+(?:&\s+)?[A-Z][\w&.-]*){0,2})\s+(?:has\s+|have\s+|had\s+)?(?:also\s+|now\s+|still\s+)?"
    r"(?:maintains|maintained|expects|expected|sees|saw|predicts|predicted|forecasts|forecast|projects|projected"
    r"|estimates|estimated|raised|lifted|boosted|cut|lowered|trimmed|reiterated|kept|keeps|set|believes|has\s+(?:a|an)"
    r"|targets|is\s+targeting|now\s+sees|called\s+for|calls\s+for|upgraded|downgraded|initiated)\b"
)
_EN_NOT_FIRM = re.compile(
    r"^(?:It|He|She|They|We|I|You|This|That|These|Those|The|A|An|Analysts?|Strategists?|Economists?|Investors?"
    r"|Traders?|Experts?|Observers?|Markets?|Wall|Street|Consensus|Everyone|Some|Many|Most|Others?|Bulls|Bears"
    r"|Bank|Banks|Brokers?|Firms?|Companies|Company|Management|Officials?|Fed|Federal|Government|Beijing|Washington"
    r"|Tokyo|China|Japan|Hong|US|U\.S\.|America|Europe|Asia|Investing|Trading|Shares|Stocks|Prices|Gold|Bitcoin)\b"
)
_CN_SUBJECT_FIRM = re.compile(
    rf"(?:^|[，,：:。]\s*)(?P<firm>[{_CJK}A-Za-z]{{2,8}}?)(?:亦|也|則|则|更|仍|再)?"
    r"(?=預計|预计|預期|预期|預測|预测|預估|预估|認為|认为|表示|指出|料|相信|估計|估计)"
)
_CN_NOT_FIRM = re.compile(
    r"市場|市场|投資者|投资者|分析|外界|業界|业界|機構|机构|專家|专家|報告|报告|該行|该行|他們|他们|我們|我们|公司|大行|券商"
    r"|投行|人士|外資|外资|中資|中资|報道|报道|文章|研報|研报|團隊|团队|部分|不少|多間|多家|有|並|并|但|而|另|同時|同时|此外"
    r"|目前|現時|现时|今年|明年|年底|本周|日前|近日|早前|最新|官方|政府|央行|當局|当局|美聯儲|美联储|聯儲局|联储局"
    r"|所以|因此|不過|不过|然而|至於|至于|雖然|虽然|如果|由於|由于|因為|因为|加上|另外|總括|总括|整體|整体|短期|長期"
    r"|长期|中期|後市|后市|大市|個股|个股|暫時|暂时|預料|预料"
)


_ANY_FIRM_RE = re.compile(rf"{_KNOWN_FIRMS}|{_CN_KNOWN_FIRMS}")


def _subject_firm(sent: str) -> str | None:
    """A firm the lists do not know, named as the subject of a forecast verb at the start of the sentence
    ("VanEck maintains an end-2025 target", "中信建投預計…")."""
    m = _EN_SUBJECT_FIRM.match(sent)
    if m:
        firm = m.group("firm")
        words = firm.split()
        if (
            not _EN_NOT_FIRM.match(firm)
            and words[0] not in _NAME_STOPWORDS
            and firm.casefold() not in _DEFAULT_KEYS
            and not _NOT_NAMES.match(firm)
        ):
            return _clean_firm(firm)
    for cm in _CN_SUBJECT_FIRM.finditer(sent):
        firm = cm.group("firm")
        if _CN_NOT_FIRM.search(firm) or _normalise(firm) in _DEFAULT_KEYS or _CJK_ALIAS_RE.search(firm):
            continue
        known = _known_firm_ending(firm)
        if known:
            return known  # "當中以海通國際預測…": the firm, without the words before it
        if re.search(r"[的將将會会或可在於于是為为和與与及把被從从由向至最進进步]", firm) or re.match(
            r"[惟但而並并他她其亦則则更仍且故即若如因就據据還还再又這这那該该此本另各]", firm
        ):
            continue
        return firm
    return None


def _group_name(sent: str) -> str | None:
    m = _GROUP_EN.search(sent) or _GROUP_CN.search(sent)
    if not m:
        return None
    name = re.sub(r"\s+", " ", m.group(0)).strip()
    return name or None


# Press nicknames and short forms of one house, after _normalise (Simplified text arrives Traditional).
_FIRM_SHORT = {
    "大摩": "摩根士丹利",
    "小摩": "摩根大通",
    "摩通": "摩根大通",
    "美銀": "美國銀行",
    "花旗銀行": "花旗",
    "花旗集團": "花旗",
    "JPMorgan": "J.P. Morgan",
    "JPMorgan Chase": "J.P. Morgan",
    "Citigroup": "Citi",
    "Citibank": "Citi",
    "BofA": "Bank of America",
    "Goldman": "Goldman Sachs",
}


def _firm_key(firm: str) -> str:
    firm = re.sub(r"\s+", " ", _normalise(firm)).strip()
    return _FIRM_SHORT.get(firm, firm).casefold()


def _same_firm(one: str | None, two: str | None) -> bool:
    if not one or not two:
        return False
    a, b = _firm_key(one), _firm_key(two)
    return a == b or (min(len(a), len(b)) >= 2 and (a in b or b in a))


_CN_SURNAMES = (
    "王李張张劉刘陳陈楊杨黃黄趙赵吳吴周徐孫孙馬马朱胡郭何林羅罗鄭郑梁謝谢宋唐許许韓韩馮冯鄧邓曹彭曾蕭萧田董袁潘蔡蔣蒋"
    "余杜葉叶程魏蘇苏呂吕丁任沈姚盧卢姜崔鍾钟譚谭陸陆汪范廖賈贾夏韋韦方鄒邹孟熊秦邱江尹薛閻阎段雷侯史陶黎賀贺顧顾"
    "毛郝龔龚邵錢钱嚴严覃戴莫孔湯汤聶聂麥麦岑翁區区伍阮溫温歐欧"
)
# A 2-3 character Chinese name: a common surname, then no character a firm, market or group name has.
_CN_BARE_NAME = re.compile(rf"[{_CN_SURNAMES}][{_CJK}]{{1,2}}")
_NOT_IN_NAME = re.compile(r"[行股市價价指局府會会司團团業业券金融資资基經经國国港美中央部所報报網网財财]")


def _cn_name_ok(name: str) -> bool:
    """Could this be a person's Chinese name (not a group word, a firm or market word, or an alias)?"""
    return not (_CN_NOT_NAME.match(name) or _CN_NAME_WORDS.search(name) or _CJK_ALIAS_RE.search(name))


_TITLE_OF_FIRM = re.compile(
    rf"\b[Tt]he\s+(?:[\w.'-]+\s+){{0,4}}?{_TITLE_WORDS}\s+(?:of|at)\s+(?P<firm>{_KNOWN_FIRMS}|{_FIRM})"
)


def _speaker(norm: str, a: int, b: int, speakers: _Speakers, previous: _Who | None) -> _Who | None:
    """Who makes the claims in norm[a:b], or None when nobody can be named. A firm-only claim in Chinese
    copy goes to the person of that firm the article named before ("摩根大通首席策略師Dubravko Lakos-Bujas
    表示…。摩根大通預計標指明年底將升見7500點" is his call: the annotated corpus records it so)."""
    who = _speaker_rule(norm, a, b, speakers, previous)
    if who is not None and who.firm and _CJK_RE.search(who.firm):
        # "高盛周一表示", "瑞銀昨日指": the firm, without the day it spoke
        firm = re.sub(rf"(?:{_CN_WEEKDAY}|今日|昨日|日前|近日|早前)+$", "", who.firm)
        who = replace(who, firm=_tidy_cn_firm(firm or who.firm))
        if who.strategist is None and who.firm is None and who.group is None:
            # "根據模型預測…", "焦點預期…": no firm spoke; the speaker of the sentences before, if any
            return previous.carried("carried from previous sentence", 0.75) if previous is not None else None
    if who is None or who.strategist is not None or who.group is not None or not who.firm:
        return who
    if _bare_cn_name(who.firm):
        # "郭思治表示，恒指料將…上望26,000點": a columnist's bare name, not a firm
        person = speakers.register(who.firm, None)
        speakers.last_person = person
        return _Who(person.name, None, None, "named in sentence (a bare Chinese name)", 0.8)
    if _CJK_RE.search(norm[a:b]):
        for person in reversed(speakers.people):
            if _same_firm(person.firm, who.firm):
                return _Who(person.name, person.firm, None, f"{who.evidence}; its person named before", 0.75)
    return who


def _bare_cn_name(word: str) -> bool:
    return bool(
        _CN_BARE_NAME.fullmatch(word)
        and not _NOT_IN_NAME.search(word[1:])
        and _cn_name_ok(word)
        and not _ANY_FIRM_RE.fullmatch(word)
        and word not in DEFAULT_ALIASES
    )


def _speaker_rule(norm: str, a: int, b: int, speakers: _Speakers, previous: _Who | None) -> _Who | None:
    sent = norm[a:b]
    people = _find_people(norm, a, b, speakers)
    if people:
        person = people[0][1]
        speakers.last_person = person
        if person.firm:
            speakers.last_firm = person.firm
        return _Who(person.name, person.firm, None, "named in sentence", 0.9)
    item = _LIST_ITEM.match(sent)
    if item and not _NOT_NAMES.match(item.group("firm")) and item.group("firm") not in DEFAULT_ALIASES:
        firm = _clean_firm(item.group("firm"))
        if firm:
            speakers.last_firm = firm
            return _Who(None, firm, None, "firm only (list item)", 0.8)
    known = speakers.lookup(sent)
    if known is not None:
        speakers.last_person = known
        return _Who(known.name, known.firm, None, "named earlier (name or surname in sentence)", 0.85)
    title_of = _TITLE_OF_FIRM.search(sent)
    if title_of and speakers.last_person is not None:
        # "Ed Yardeni issued a bull call … The president of Yardeni Research raised his target": the
        # person just named, described by title
        p = speakers.last_person
        firm = _clean_firm(title_of.group("firm"))
        if p.firm is None or _same_firm(p.firm, firm):
            p.firm = p.firm or firm
            return _Who(p.name, p.firm, None, "named earlier (described by title)", 0.8)
    firm_speaker = _EN_FIRM_SPEAKER.search(sent)
    if firm_speaker:
        firm = _clean_firm(next(g for g in firm_speaker.groups() if g))
        if firm:
            speakers.last_firm = firm
            return _Who(None, firm, None, "firm only (named in sentence)", 0.8)
    cn_firm = _CN_FIRM_SPEAKER.search(sent)
    if cn_firm and not re.match(r"[有的業业]", cn_firm.group("firm")):
        speakers.last_firm = cn_firm.group("firm")
        return _Who(None, cn_firm.group("firm"), None, "firm only (named in sentence)", 0.8)
    subject = _subject_firm(sent)
    if subject:
        speakers.last_firm = subject
        return _Who(None, subject, None, "firm only (subject of a forecast verb)", 0.7)
    desk = _FIRM_DESK.search(sent)
    if desk:
        firm = _clean_firm(desk.group("firm") or desk.group("firm2") or desk.group("firm3"))
        if firm:
            speakers.last_firm = firm
            return _Who(None, firm, None, "firm only (its strategists / desk)", 0.8)
    cn_desk = _CN_FIRM_DESK.search(sent)
    if cn_desk:
        speakers.last_firm = cn_desk.group("firm")
        return _Who(None, cn_desk.group("firm"), None, "firm only (its strategists / desk)", 0.8)
    first_firm = _ANY_FIRM_RE.search(sent)
    firm_here = first_firm.group(0) if first_firm else None
    carried_firm = None
    if speakers.last_firm and _FIRM_ANAPHORA.search(sent):
        carried_firm = _Who(None, speakers.last_firm, None, "firm carried ('the bank', '該行')", 0.75)
    if carried_firm and not firm_here:
        return (
            carried_firm  # "the bank", "該機構": the firm named before, not a group (機構 alone reads as one)
        )
    if speakers.last_person and _CN_THIS_PERSON.search(sent):
        p = speakers.last_person
        return _Who(p.name, p.firm, None, "carried by pronoun ('he said')", 0.8)
    group = _group_name(sent)
    if group:
        return _Who(None, None, group, "group / consensus (no person)", 0.6)
    if carried_firm:
        return carried_firm
    if firm_here:
        speakers.last_firm = firm_here
        return _Who(None, firm_here, None, "firm only (named in sentence)", 0.7)
    if _PRONOUN.search(sent) and speakers.last_person:
        p = speakers.last_person
        return _Who(p.name, p.firm, None, "carried by pronoun ('he said')", 0.8)
    if previous is not None:
        return previous.carried("carried from previous sentence", 0.75)
    if speakers.byline:
        return _Who(speakers.byline.name, speakers.byline.firm, None, "column byline", 0.75)
    return None


def _speaker_marks(norm: str, a: int, b: int, speakers: _Speakers) -> list[tuple[int, _Who]]:
    """Speaker mentions inside a sentence (absolute positions), for sentences that name several: each
    claim goes to the nearest speaker named before it ("匯豐將目標價…；高盛由…", "UBS sees 6,600 and
    Citi 6,300")."""
    sent = norm[a:b]
    marks: list[tuple[int, int, _Who]] = []
    for start, person, end in _find_people(norm, a, b, speakers):
        marks.append((a + start, a + end, _Who(person.name, person.firm, None, "named in sentence", 0.9)))
    for m in re.finditer(rf"{_KNOWN_FIRMS}|{_CN_KNOWN_FIRMS}|{_CN_FIRM_GENERIC}", sent):
        s0, e0 = a + m.start(), a + m.end()
        if any(ps <= s0 < pe or s0 <= ps < e0 for ps, pe, _ in marks):
            continue
        if re.match(r"[有的業业]", m.group(0)):
            continue
        marks.append(
            (s0, e0, _Who(None, _clean_firm(m.group(0)), None, "firm only (named in sentence)", 0.8))
        )
    marks.sort(key=lambda t: t[0])
    return [(s0, who) for s0, _, who in marks]


# ------------------------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class _Claim:
    instrument: str
    kind: str
    target: float | None
    target_upper: float | None
    deadline: Deadline | None
    position: int
    cue: str | None = None
    superseded: float | None = None
    who: _Who | None = None  # overrides the sentence's speaker
    explicit: bool = True  # the kind was set by a cue (not the default)
    flags: tuple[str, ...] = ()  # rule filters that would have dropped it (model mode only)


def _clause_of(clauses: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for c in clauses:
        if c[0] <= pos < c[1]:
            return c
    return clauses[-1] if clauses else (pos, pos)


def _instrument_for(
    pos: int, clause: tuple[int, int], mentions: list[_Mention], carried: str | None
) -> str | None:
    preceding = [m for m in mentions if m.end <= pos]
    in_clause_before = [m for m in preceding if m.start >= clause[0]]
    if in_clause_before:
        return in_clause_before[-1].symbol
    following = [m for m in mentions if m.start >= pos and m.start < clause[1]]
    if following:
        return following[0].symbol
    if preceding:
        return preceding[-1].symbol
    symbols = {m.symbol for m in mentions}
    if len(symbols) == 1 and None not in symbols:
        # "…with a $275 price target, expecting Apple to report…": the one market the sentence names
        return next(iter(symbols))
    if mentions:
        return None  # the sentence is about something else
    return carried


def _deadline_for(
    pos: int, clause: tuple[int, int], deadlines: list[Deadline], cjk: bool, single: bool
) -> Deadline | None:
    in_clause = [d for d in deadlines if clause[0] <= d.start < clause[1]]
    before = [d for d in in_clause if d.end <= pos]
    after = [d for d in in_clause if d.start >= pos]
    order = (before[-1:] + after[:1]) if cjk else (after[:1] + before[-1:])
    if order:
        return order[0]
    if single and deadlines:
        return deadlines[0]
    preceding = [d for d in deadlines if d.end <= pos]
    return preceding[-1] if preceding else None


# A target named before the level ("set a target for the index to reach 31,000", "That new price target has
# Moore expecting shares to reach $304") or "(to) trade at": a closing claim too.
_CLOSING_BEFORE = re.compile(
    r"(?i)\btargets?\b|\btrade\s+at\s*(?:about\s+|around\s+)?$"
)  # English only: 目標可達 is reach
# Words that keep a level `reach` at the end of a period too: a touch ("could hit HK$60 by year end"), or a
# scenario's level (a bull case is a level to touch: "最牛目標為31,000點").
_TOUCH = re.compile(
    r"(?i)\b(?:hit|hits|touch|touches|test|tests|breach|revisit|bull|bullish|upside)\b"
    r"|觸及|触及|挑戰|挑战|下試|上試|最牛|牛市|樂觀|乐观"
)
_END_OF_PERIOD = re.compile(r"(?i)\bend\b|year[- ]end|\bend-|年底|年尾|年末|年终|年終")
_SEE_BEFORE = re.compile(r"\bsee(?:s|ing|n)?\b[^.;]{0,45}$", re.IGNORECASE)


def _kind_for(norm: str, level: Level, cue_from: int, sentence_start: int) -> tuple[str, str | None, bool]:
    """(kind, cue words, whether a cue set it)."""
    window = norm[cue_from : level.start]
    base = cue_from
    cues = list(_CUE_RE.finditer(window))
    if not cues:
        base = sentence_start
        cues = list(_CUE_RE.finditer(norm[sentence_start : level.start]))
    bull_bear = _BULL_BEAR.search(norm[cue_from : level.start]) or _BULL_BEAR.search(
        norm[max(sentence_start, level.start - 30) : level.start]
    )
    if level.upper is not None:
        return "range", norm[level.start : level.end], True
    kind, cue, explicit = "reach", None, False
    if cues:
        last = max(cues, key=lambda m: (m.end(), m.end() - m.start()))
        kind = {"below": "close_below", "reach": "reach", "above": "close_above", "manual": "manual"}[
            last.lastgroup or "reach"
        ]
        cue, explicit = re.sub(r"\s+", " ", last.group(0)), True
        before_cue = norm[max(sentence_start, base + last.start() - 60) : base + last.start()]
        if kind == "reach" and re.match(r"(?i)hit|reach|at\b", cue) and _SEE_BEFORE.search(before_cue):
            kind = "close_above"  # "sees the S&P 500 hitting 5,400 in 12 months": a target
    if (
        bull_bear
        and bull_bear.lastgroup == "bull"
        and _is_cjk(bull_bear.group(0)[:1])
        and kind in ("close_above", "reach")
    ):
        kind, cue, explicit = "reach", bull_bear.group(0), True
    if bull_bear and bull_bear.lastgroup == "bear" and kind in ("close_above", "reach"):
        kind = "close_below" if kind == "close_above" else kind
        cue = cue or bull_bear.group(0)
    return kind, cue, explicit


_CONDITIONAL = re.compile(
    r"^\W*(?:if\b|unless\b|should\s+the\b|(?:a|an|any|such\s+a)\s+(?:[\w%.-]+\s+){0,3}?(?:pullback|correction|decline"
    r"|loss|drop|sell-?off|slump|crash|fall|rally|rise|gain|recession)\s+(?:would|could|might|may)\b)"
    r"|^\W*(?:如果|若|假如|倘若|一旦)",
    re.IGNORECASE,
)
_CONDITIONAL_CLAUSE = re.compile(
    r"(?:^|\W)(?:(?i:if|unless)\b|如果|假如|倘若|一旦)|^\W*若|[,，]\s*若(?![干非])"
)
# "如果企業盈利強勁增長，樂觀情境下目標可達34000點", "in a bull case, 8,000": a scenario's level is
# a forecast (ANNOTATION.md), whatever condition the sentence opens with
_SCENARIO = re.compile(r"(?i)\b(?:bull|bear|base)(?:ish)?[- ]case\b|\bscenario\b|情境|情景|最牛|最熊")
_OLD_CALL = re.compile(
    r"(?:原來|原来|原先|此前|之前|先前|早前|原)(?:的)?(?:預測|预测|預期|预期|目標|目标)(?:價|价)?(?:的|為|为|是)?[^\s\d]{0,8}(?:1\s*美元\s*(?:兌|兑)?(?:換|换)?)?$"
    r"|\b(?:previous|prior|earlier|old|original)\s+(?:year-end\s+|price\s+|\d+-month\s+)?(?:target|forecast|estimate|call)s?"
    r"(?:\s+of|[^.;\d]{0,30}?\b(?:was|were|had\s+been|stood\s+at))?\s+\S{0,6}$",
    re.IGNORECASE,
)
# "Previously, the bank set a target of 24,500", "該行此前予恒指…目標為24,500點": a call since replaced
_PREVIOUSLY = re.compile(
    r"(?i)\W*(?:previously|earlier|before\s+that),?\s+(?:the\s+(?:bank|firm|broker|house)|it)\b"
    r"|\W*(?:該行|该行|該公司|该公司|其)(?:此前|早前|先前|原先)|\W*(?:此前|早前|先前|原先)[,，]?\s*(?:該行|该行)"
)
_NOW_AGAIN = re.compile(r"(?i)\bnow\b|\bbut\b|現時|现时|現在|现在|目前|最新|如今")
# "(the bank had predicted a base case of 20,800)", "(原為26,000點)", "高於去年12月預測的每盎司5000美元"
_PAREN_OLD = re.compile(
    r"(?i)[(（][^()（）]{0,40}\b(?:had\s+(?:predicted|forecast|expected|set|projected)|previously|was)\b[^()（）]{0,40}$"
    r"|[(（](?:原為|原为|原先為|原先为|原本為|原本为|前值)\S{0,10}$"
    r"|(?:去年|上月|早前|此前|之前)\S{0,8}(?:預測|预测|預期|预期|目標|目标)的\S{0,6}$"
)
_PAST_RECORD = re.compile(
    r"(?i)(?:\bhit\s+an?|'s|\bits|\bthe|\ban?)\s+(?:previous\s+)?(?:all-time|record)\s+high\s+of\s*\S{0,4}$"
)
_MODAL_HIT = re.compile(
    r"(?i)\b(?:to|will|would|could|may|might|can|'ll)\s+(?:hit|reach|top|set|make)\s+(?:a\s+new\s+|an?\s+|new\s+)?"
    r"(?:all-time|record)"
)
_NOT_PRICE_BEFORE = re.compile(
    r"(?:\bearnings|\bEPS\b|per[- ]share\s+(?:estimate|earnings|forecast)|\brevenues?|\bsales\b|\bprofits?\b"
    r"|\bGDP\b"
    r"|\bdividends?|\binflation|\bCPI\b|\byields?\b|(?<!exchange )\brates?\b|\bunemployment"
    r"|\bmarket\s+(?:value|cap)"
    r"|\bturnover\b|\bvolumes?\b|\binflows?\b|\boutflows?\b|\bdeliveries|\bshipments|\bproduction|\boutput|\bEBIT"
    r"|\bmargins?\b|\bvaluation\s+of|\bnet\s+worth\b|\bworth\s+of\b|\bvalue\s+of|盈利|每股盈利|每股收益|收入|營收|純利|淨利|利潤|經濟增長|經濟|通脹|息率|成交額|成交"
    r"|利率|資金|交付|銷量|出貨|估值|市值)"
    r"(?:[^.;。；]|\.(?=\d)){0,30}$",
    re.IGNORECASE,
)
# An average price over a period is not a level the market must reach or close at: "to average $3,100",
# "平均每安士3,675美元", "平均金價預測從4000美元" (but "平均目標價" is the analysts' consensus target).
_NOT_PRICE_SUBJECT = re.compile(
    r"(?i)\b(?:earnings|EPS|revenues?|sales|profits?|GDP|economy|economic\s+growth|inflation|margins?|dividends?"
    r"|deliveries|shipments)\b|盈利|收入|營收|营收|純利|纯利|淨利|净利|利潤|利润|經濟|经济|通脹|通胀|銷量|销量|出貨|出货"
)
_AVERAGE_BEFORE = re.compile(
    r"(?i)(?:\bto\s+average|\baveraging|\baverage\s+(?:price|gold\s+price)\s+of|(?<!日經)(?<!日经)平均(?!目標|預測|預期|預估|波幅|指數|指数|股價|股价))[^,，.;。；]{0,14}$"
)
# "9.8 per cent growth", "0.9% earnings growth", "增長5%": a growth rate, not a move of the price.
_GROWTH_AFTER = re.compile(
    r"(?i)\s*(?:(?:earnings|profit|revenue|sales|GDP|economic)\s+)?growth\b|\s*(?:的)?(?:增長|增速)"
)
_CURRENT_BEFORE = re.compile(
    r"(?:\bclos(?:ed|ing|e)\s+(?:at|of)|\btrading\s+(?:at|around|near)|\bis\s+trading|\bcurrently|\bnow\s+(?:at|around)"
    r"|\bstands?\s+at|\bsits?\s+at|\bended\s+at|\bfinished\s+at|\bsettled\s+at|\bhovering|\bpress\s+time|\bto\b"
    r"|收報|收市報|收於|現報|現時|目前|暫報|報)\s*(?:\S+\s*){0,2}?$",
    re.IGNORECASE,
)
_PRIOR_AFTER = re.compile(
    r"\s*,?\s*(?:up|down)?\s*from\s+(?:an?\s+|its\s+|his\s+|her\s+|their\s+|the\s+)?(?:previous\s+|prior\s+|earlier\s+"
    r"|old\s+|original\s+)?(?:(?:year-end\s+)?(?:target|forecast|estimate|call|projection)\s+(?:of\s+)?)?"
    rf"{_CURRENCY}?(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
# "由", "從" and what may stand between it and the old level:
# "從之前的6500點", "由原先180元", "從每盎司2890美元".
_CN_FROM = (
    r"(?:由|從|自)\s*(?:原先|原來|原本|原估|原預估|之前|此前|先前|早前)?的?(?:預測|預期|預估|目標價|目標)?(?:的|為)?"
    r"\s*(?:每安士|每盎司|每股)?\s*"
)
_PRIOR_BEFORE = re.compile(
    _CN_FROM + r"(?:US\$|HK\$|\$)?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?:點|元|港元|美元)?"
    r"\s*[,，]?\s*(?:大幅|輕微|略為|大)?(?:上調|調高|調升|提高|升|上修|下調|調低|調降|降|削減|削|下修|減)?"
    r"\s*(?:\d+(?:\.\d+)?\s*%\s*)?(?:至|到|為)\s*(?:每安士|每盎司)?\s*$"
)
_CN_FROM_END = re.compile(_CN_FROM + r"(?:US\$|HK\$|\$)?$")
_PRIOR_CLAUSE = re.compile(
    r"\b(?:up|down)?\s*from\s+(?:his|her|its|their|the|a)\s+(?:prior|previous|earlier|old|original)\b",
    re.IGNORECASE,
)
_PAIR_UNIT = re.compile(r"(?i)\s*(?:yen\b|日圓|日元|yuan\b(?!\s+a\s+share)|人民幣)")
_POINTS_CHANGE = re.compile(
    r"(?:(?<![上升])升|(?<!下)跌|漲|挫|彈|落|上升|下跌|累升|累跌|急升|急跌|大升|大跌|反彈|回落|高開|低開|巨震|波動|點或|或)"
    r"\s*(?:了|逾|近|約|超過|多達|不足)?\s*$"
)
_DOWNSIDE_AFTER = re.compile(
    r"(?i)[^.;。；]{0,25}?(?:\b(?:implying|implies|representing|suggesting|signalling|signaling|indicating|which\s+implies"
    r"|or)\s+(?:an?\s+|about\s+|around\s+)?(?:potential\s+)?(?:\d+(?:\.\d+)?\s*(?:%|per\s*cent)\s+)?"
    r"(?:downside|decline|drop|fall|loss)\b|(?:潛在|潜在|預示|即)?(?:跌幅|下跌空間|下行空間))"
)
_RESPECTIVELY = re.compile(r"\brespectively\b|分別|各自", re.IGNORECASE)
_MEDIAN_GROUP = re.compile(r"median|average|mean|consensus|poll|survey|平均", re.IGNORECASE)


_FX = ("USDJPY", "USDCNY", "EURUSD")
_SMALL_CUE = re.compile(
    r"(?i)(?:\b(?:to|at|of|into|toward|towards|around|near|above|below|beyond|past|between|hit|reach|test|touch|top"
    r"|exceed|breach|break)|至|到|見|於|于|上望|下望|挑戰|上試|下試|目標(?:價|位)?(?:為|是|定於|定在)?|升穿|跌穿|跌破|突破|介乎|在|約"
    r"|觸及|触及|達|达)"
    r"\s*(?:about\s+|around\s+|roughly\s+)?(?:the\s+)?(?:兌|兑)?\s*$"
)
_PAIR_SENTENCE = re.compile(
    r"(?i)(?P<jpy>\bdollar\b.{0,60}?\d\s?(?:yen\b|日圓|日元)|美元.{0,20}?\d\s?(?:日圓|日元))"
    r"|(?P<cny>\bdollar\b.{0,60}?\d\s?yuan\b(?!\s+a\s+share)|美元.{0,20}?\d\s?(?:元人民幣|人民幣))"
)


_AFTER_SPAN = re.compile(r"(?i)\b(?:months?|weeks?|years?|quarters?)\s*(?:,\s*(?:and\s+)?|\s+and\s+)$")


def _small_level_ok(
    norm: str, a: int, level: Level, mentions: list[_Mention], carried: str | None = None
) -> bool:
    """A plain small number is a level only for a currency pair ("USD/JPY to 160", "美元兌日圓跌至140",
    "1 dollar = 160 yen", or the pair the sentences before are about: "UBS has also set a target of 145
    for December 2025") right after a level cue; never a year, a count or a share of something."""
    if level.value <= 0 or level.value >= 1000 or re.fullmatch(r"(?:19|20)\d\d", str(int(level.value))):
        return False
    pair_unit = _PAIR_UNIT.match(norm, level.end, level.end + 8)
    before = [m for m in mentions if m.end <= level.start and m.start >= a]
    fx_before = (bool(before) and before[-1].symbol in _FX) or (not mentions and carried in _FX)
    if not (fx_before or (pair_unit and re.search(r"(?i)\bdollar\b|美元", norm[a : level.start]))):
        return False
    lead = norm[max(a, level.start - 16) : level.start]
    # "around 155, 150, and 145": the next levels of a list that a cue opened
    listed = re.search(r"\d\s*(?:,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+|[、及和])\s*$", lead) is not None
    # "6.90 in three months, 6.80 in six months and 6.70 over 12 months": each level with its horizon
    listed = (
        listed
        or re.search(r"(?i)\b(?:months?|weeks?|years?|quarters?)\s*(?:,\s*(?:and\s+)?|\s+and\s+)$", lead)
        is not None
    )
    return bool(pair_unit) or _SMALL_CUE.search(lead) is not None or listed


def _respective_targets(
    norm: str, a: int, levels: list[Level], mentions: list[_Mention], marks: list[tuple[int, _Who]]
) -> tuple[list[str] | None, list[_Who] | None, list[str | None] | None]:
    """For "A and B at X and Y, respectively" / "分別為X及Y": the i-th level goes with the i-th instrument,
    speaker or bull/bear label named before the first level."""
    first = levels[0].start
    symbols: list[str] = []
    for m in mentions:
        if m.symbol and m.end <= first and m.symbol not in symbols:
            symbols.append(m.symbol)
    who = [w for pos, w in marks if pos < first]
    labels = [bb.lastgroup for bb in _BULL_BEAR.finditer(norm, a, first)]
    n = len(levels)
    return (
        symbols if len(symbols) == n else None,
        who if len(who) == n else None,
        labels if len(labels) == n else None,
    )


# Price bands no level of the instrument plausibly leaves (a wide sanity check, not a forecast filter).
_PLAUSIBLE: dict[str, tuple[float, float]] = {
    "HSI": (5_000, 100_000),
    "HSCEI": (2_000, 40_000),
    "HSTECH": (1_000, 30_000),
    "GSPC": (1_000, 30_000),
    "IXIC": (3_000, 100_000),
    "NDX": (3_000, 100_000),
    "DJI": (10_000, 200_000),
    "N225": (5_000, 200_000),
    "TOPIX": (500, 10_000),
    "SSEC": (1_000, 10_000),
    "CSI300": (1_000, 15_000),
    "GC_F": (500, 30_000),
    "BTC-USD": (1_000, 10_000_000),
    "USDJPY": (50, 400),
    "USDCNY": (4, 12),
    "EURUSD": (0.5, 2.5),
    "NVDA": (1, 5_000),
    "AAPL": (10, 5_000),
    "TSLA": (10, 10_000),
}


def _plausible(symbol: str, level: Level) -> bool:
    band = _PLAUSIBLE.get(symbol)
    if band is None:
        band = (0.5, 5_000) if symbol.endswith(".HK") else (0.0, math.inf)
    return band[0] <= level.value <= band[1] and (level.upper is None or level.upper <= band[1])


def _past_only(norm: str, clause: tuple[int, int], upto: int) -> bool:
    text = norm[clause[0] : max(upto, clause[0])]
    return bool(_PAST_CLAUSE.search(text)) and not _FUTURE_IN_CLAUSE.search(norm[clause[0] : clause[1]])


def _claims_in(
    norm: str,
    a: int,
    b: int,
    mentions: list[_Mention],
    deadlines: list[Deadline],
    carried: str | None,
    marks: list[tuple[int, _Who]],
    baselines: dict[str, float],
    group_speaker: bool,
    learn_only: bool = False,
    soft: bool = False,
    alternates: tuple[str, ...] = (),
) -> list[_Claim]:
    """The claims in norm[a:b]. `learn_only`: only record the current levels the sentence gives.
    `alternates`: markets named earlier (latest first) for a level the carried one cannot have."""
    clauses = _clauses(norm, a, b)
    cjk = bool(_CJK_RE.search(norm[a:b]))
    # a horizon inside a past-only clause ("which hit a record in January") governs nothing ahead
    deadlines = [d for d in deadlines if not _past_only(norm, _clause_of(clauses, d.start), d.start)]
    levels = [
        lv
        for lv in _levels(norm, a, b, small=True)
        if lv.price_like or lv.percent or _small_level_ok(norm, a, lv, mentions, carried)
    ]
    claims: list[_Claim] = []
    last_target_end = a
    conditional = bool(_CONDITIONAL.search(norm[a:b]))
    # levels that are claims (after the filters), with their instrument
    kept: list[tuple[Level, str]] = []
    respectively = bool(_RESPECTIVELY.search(norm, a, b))  # instruments are assigned after the filters
    flagged: dict[int, list[str]] = {}  # soft mode: level.start -> the filters it failed
    for level in levels:
        flags = flagged.setdefault(level.start, [])
        clause = _clause_of(clauses, level.start)
        clause_text = norm[clause[0] : clause[1]]
        instrument = _instrument_for(level.start, clause, mentions, carried)
        lead = norm[max(a, level.start - 28) : level.start]
        upto = norm[clause[0] : level.start]
        if _PAST_CLAUSE.search(upto) and not _FUTURE_IN_CLAUSE.search(upto):
            if instrument and level.price_like and not level.percent and level.upper is None:
                baselines[instrument] = level.value
            if not soft:
                continue
            flags.append("past")
        if _EXCLUDE_BEFORE.search(lead):
            if instrument and level.price_like and _CURRENT_BEFORE.search(lead) and level.upper is None:
                baselines[instrument] = level.value
            if not soft:
                continue
            flags.append("current")
        old_call = (
            _OLD_CALL.search(norm[max(a, level.start - 60) : level.start])
            or _PAREN_OLD.search(norm[max(a, level.start - 70) : level.start])
            or (_PREVIOUSLY.match(norm, a, b) and not _NOW_AGAIN.search(norm, a, level.start))
        )
        if old_call or (_PAST_RECORD.search(lead) and not _MODAL_HIT.search(lead)):
            if instrument and level.price_like and level.upper is None and _PAST_RECORD.search(lead):
                baselines[instrument] = level.value
            continue  # "由原來預測的…138日圓", "the previous target of 6,000", "gold hit a record high of"
        if re.match(r"\s*(?:點|点)?\s*加", norm[level.end : level.end + 3]):
            continue  # "1546點加25918點": arithmetic, not a level
        if (
            re.match(r"\s*(?:to|至)\s*(?:US\$|HK\$|\$)?\d", norm[level.end : level.end + 8])
            and level.upper is None
        ) and (level.percent or re.search(r"\bby\s*$", norm[max(a, level.start - 8) : level.start])):
            continue  # "by $25 to $325", "surge by 30% to $2,000": the move is implied by the target
        if level.percent:
            if re.search(r"(?:點|点)\s*或\s*(?:跌|升)?\s*(?:不足|逾|近|約)?\s*$", lead):
                continue  # "跌224點或0.9%": the day's move
        elif _POINTS_CHANGE.search(norm[max(a, level.start - 8) : level.start]) and not re.match(
            r"\s*(?:點|美元|元)?\s*(?:水平|大關|關|目標)", norm[level.end : level.end + 4]
        ):
            continue  # "急升1093點或2.2%", "巨震500美元": a move in points, not a level
        if re.search(r"(?i)\bby\s*(?:about\s+|roughly\s+|some\s+|another\s+)?$", lead):
            continue  # "by $25 to $325", "by 300 points": the size of a move
        if _CN_FROM_END.search(norm[max(a, level.start - 16) : level.start]):
            continue  # "由156元升至185元": 156 is the superseded target (read with 185)
        pair = _PAIR_UNIT.match(norm, level.end, min(b, level.end + 8))
        if pair and re.search(r"(?i)\bdollar\b|美元", norm[a:b]):
            instrument = "USDJPY" if re.match(r"(?i)\s*(?:yen|日圓|日元)", pair.group(0)) else "USDCNY"
        if instrument is None:
            continue
        if not level.percent and not _plausible(instrument, level) and not respectively:
            # "…the S&P 500 and Dow hit records… Ed Yardeni sees the index reaching 7,700": the index
            # is the market named before whose levels these are, not just the last one named
            other = next((s for s in alternates if s in _PLAUSIBLE and _plausible(s, level)), None)
            if other is None or instrument != carried:
                continue  # "Tesla deliveries … 439,000", gold at $180,000: not a price of this instrument
            instrument = other
        if (
            instrument.endswith(".HK")
            and not level.percent
            and re.search(r"US\$|美元", norm[max(a, level.start - 3) : level.end + 2])
        ):
            continue  # "目標價至172港元和178美元": the US listing's target, not the Hong Kong line's
        if (
            _NOT_PRICE_BEFORE.search(norm[max(clause[0], level.start - 40) : level.start])
            or (level.percent and _GROWTH_AFTER.match(norm, level.end, min(b, level.end + 24)))
            # "Earnings of Hang Seng Index companies is expected to rise more than 9 per cent",
            # "cloud business revenue will grow by 18%", "香港經濟明年將增長2.8%": the move of something else
            or (level.percent and _NOT_PRICE_SUBJECT.search(norm[clause[0] : level.start]))
            or _AVERAGE_BEFORE.search(norm[max(clause[0], level.start - 24) : level.start])
        ):
            if not soft:
                continue  # earnings, GDP, yields, turnover: not a price
            flags.append("not_price")
        if (conditional or _CONDITIONAL_CLAUSE.search(upto)) and not _SCENARIO.search(clause_text):
            if not soft:
                continue
            flags.append("conditional")
        if re.search(r"(?i)\bhad\s+an?\b|\bat\s+the\s+(?:beginning|start)\s+of\s+the\s+year", upto):
            if not soft:
                continue  # "at the beginning of the year, he had a $4,500 price target": an old call
            flags.append("old_call")
        if level.value == 1 and re.match(
            r"\s*(?:將|将|可)?\s*(?:兌|兑|換|换|=)", norm[level.end : level.end + 4]
        ):
            continue  # "1美元將兌換160日元": the base of an exchange rate
        if kept and _PRIOR_CLAUSE.search(norm[kept[-1][0].end : level.start]):
            continue  # "…, up from his prior call that the index would fall to 4,500"
        kept.append((level, instrument))
    if learn_only:
        return []
    resp_symbols = resp_who = resp_labels = None
    resp_deadlines: list[Deadline] | None = None
    if len(kept) >= 2 and _RESPECTIVELY.search(norm, a, b):
        resp_symbols, resp_who, resp_labels = _respective_targets(
            norm, a, [lv for lv, _ in kept], mentions, marks
        )
        # "今年中及年底的目標價分別為27,500點及28,800點", "targets for mid-year and year-end of X and Y,
        # respectively": as many horizons before the first level as levels, in order
        ahead = [d for d in deadlines if d.end <= kept[0][0].start]
        if len(ahead) == len(kept) and len({d.when for d in ahead}) == len(ahead):
            resp_deadlines = ahead
    for index, (level, instrument) in enumerate(kept):
        clause = _clause_of(clauses, level.start)
        if resp_symbols:
            instrument = resp_symbols[index]
        if not level.percent and not _plausible(instrument, level):
            continue
        who = resp_who[index] if resp_who else None
        if who is None and len(marks) >= 2:
            before = [w for pos, w in marks if pos < level.start]
            who = before[-1] if before else None
        if level.percent:
            ctx_before = norm[max(clause[0], level.start - 40) : level.start]
            ctx_after = norm[level.end : min(clause[1], level.end + 25)]
            if _IMPLIED_MOVE.search(ctx_before) or (
                re.match(
                    r"\s*(?:\w+\s+){0,2}?(?:from|above|below)\s+(?:its\s+|the\s+)?current|\s*(?:\w+\s+){0,2}?from\s+(?:current|today)",
                    ctx_after,
                    re.IGNORECASE,
                )
                and any(not lv.percent for lv, _ in kept)
            ):
                continue
            if any(
                c.target is not None and c.kind != "move_pct" and c.instrument == instrument for c in claims
            ):
                continue  # "target $200, signalling 38% upside": the move restates the target
            if re.match(
                r"\s*,?\s*(?:[a-z]+\s+){0,2}?(?:to|至)\s*(?:about\s+|around\s+)?(?:US\$|HK\$|\$)?\d",
                norm[level.end : level.end + 30],
            ):
                continue  # "a 12% rise to 26,000": the level is the claim
            down = _MOVE_DOWN.search(ctx_before[-30:]) or _MOVE_DOWN.search(ctx_after)
            up = _MOVE_UP.search(ctx_before[-30:]) or _MOVE_UP.search(ctx_after)
            if not (up or down) or level.upper is not None:
                continue
            sign = -1.0 if down and not (up and up.start() > (down.start() if down else 0)) else 1.0
            if down and up:
                sign = -1.0 if _MOVE_DOWN.search(ctx_after) or not _MOVE_UP.search(ctx_after) else 1.0
            if level.value <= 0 or level.value >= 100:
                continue
            deadline = _deadline_for(level.start, clause, deadlines, cjk, len(levels) == 1)
            move = down if sign < 0 else up
            assert move is not None  # a percentage is kept only with a move word (checked above)
            cue: str | None = move.group(0)
            claims.append(
                _Claim(
                    instrument,
                    "move_pct",
                    sign * level.value,
                    None,
                    deadline,
                    level.start,
                    cue,
                    None,
                    who,
                    flags=tuple(flagged.get(level.start, ())),
                )
            )
            continue
        kind, cue, explicit = _kind_for(norm, level, last_target_end, a)
        previous_claim = next((c for c in reversed(claims) if c.target is not None), None)
        gap = norm[last_target_end : level.start]
        if (
            previous_claim is not None
            and previous_claim.kind in ("reach", "close_above", "close_below")
            and last_target_end > a
            and len(gap) < 45
            and not _CUE_RE.search(gap)
            and re.search(r"(?i)\band\b|\bthen\b|及|和|與|与|、|，|,", gap)
            and not any(last_target_end <= pos < level.start for pos, _ in marks)  # another speaker's claim
        ):
            # "expects 24,000 by mid-year and 26,000 by year-end": the second level shares the first's kind
            kind, cue, explicit = previous_claim.kind, previous_claim.cue, previous_claim.explicit
        last_target_end = level.end
        after_level = norm[level.end : min(b, level.end + 16)]
        if _AFTER_MANUAL.match(after_level):
            kind = "manual"
        elif kind == "reach" and _AFTER_TARGET.match(after_level):
            after_target = _AFTER_TARGET.match(after_level)
            assert after_target is not None  # matched just above
            kind, cue, explicit = "close_above", after_target.group(0).strip(), True
        if (
            kind == "reach"
            and re.search(r"(?i)\btarget\b|目標|預測", norm[clause[0] : level.start])
            and re.search(
                r"(?i)(?:raise|rais|lift|boost|hike|cut|lower|trim|bump|上調|調高|調升|升|提高|下調|調低|降|削)\w*\s*(?:it\w*\s+)?(?:\w+\s+){0,4}?(?:to|至)\s*$",
                norm[clause[0] : level.start],
            )
        ):
            kind, cue = "close_above", "target"  # "raised its target to 6,600", "將目標價由156元升至185元"
        if kind == "close_above" and _DOWNSIDE_AFTER.match(norm, level.end, min(b, level.end + 70)):
            kind = "close_below"  # "a target of $150, implying 15% downside", "目標價50元，潛在跌幅10%"
        if kind == "reach" and _NEGATION.search(norm[clause[0] : level.start]):
            kind = "close_below"  # "cannot be expected to exceed 30,000"
        if resp_labels and kind in ("reach", "close_above", "close_below"):
            kind = "reach" if resp_labels[index] == "bull" else "close_below"
            cue = cue or resp_labels[index]
        if group_speaker and who is None and kind == "reach" and _MEDIAN_GROUP.search(norm[a:b]):
            kind = "close_above"  # a median / poll forecast is a point forecast
        if kind == "close_above" and instrument in baselines and level.value < baselines[instrument] * 0.995:
            kind = "close_below"  # a target below the level the article gives for now
        deadline = _deadline_for(level.start, clause, deadlines, cjk, len(levels) == 1)
        series_extra: list[Deadline] = []
        if resp_deadlines:
            deadline = resp_deadlines[index]
        else:
            listed = [lv for lv, _ in kept if not lv.percent]
            listing = next((d for d in deadlines if d.series and len(d.series) == len(listed) > 1), None)
            if listing is not None and level in listed and listing.start > listed[-1].start:
                # "155, 150 and 145 in three, six and twelve months": the i-th level, the i-th horizon
                deadline = listing.series[listed.index(level)]
            elif deadline is not None and deadline.series and len(listed) == 1:
                # "a target of $6,200 for March, June and September 2026": one claim per horizon
                series_extra.extend(deadline.series[:-1])
        closing = (deadline is not None and _END_OF_PERIOD.search(deadline.phrase)) or _CLOSING_BEFORE.search(
            norm[clause[0] : level.start]
        )
        if kind == "reach" and closing and not _TOUCH.search(f"{cue or ''} {norm[clause[0] : level.start]}"):
            # "will rise to 6,300 by the end of the year", "gold to fall to $2,500 by year end", "年底見":
            # a level at the end of a period is where the close must be (ANNOTATION.md: a year-end level,
            # "sees X by …"), above the price unless the words or the price say below
            down = _MOVE_DOWN.search(norm[max(clause[0], level.start - 40) : level.start])
            below = instrument in baselines and level.value < baselines[instrument] * 0.995
            kind = "close_below" if down or below else "close_above"
        if kind == "manual":
            claims.append(_Claim(instrument, "manual", None, None, deadline, level.start, cue, None, who))
            continue
        if level.value <= 0:
            continue
        superseded = level.prior
        if superseded is None:
            pa = _PRIOR_AFTER.match(norm, level.end, min(b, level.end + 60))
            if pa:
                superseded = float(pa.group("num").replace(",", ""))
        if superseded is None:
            pb = _PRIOR_BEFORE.search(norm[max(a, level.start - 45) : level.start])
            if pb:
                superseded = float(pb.group("num").replace(",", ""))
        if superseded is not None and (superseded <= 0 or not 0.3 < superseded / level.value < 3):
            superseded = None
        if superseded is not None and kind == "reach":
            kind, cue = "close_above", cue or "target"  # a revised target: "由158元上調至174元"
        claims.append(
            _Claim(
                instrument,
                kind,
                level.value,
                level.upper,
                deadline,
                level.start,
                cue,
                superseded,
                who,
                explicit,
                tuple(flagged.get(level.start, ())),
            )
        )
        if series_extra:  # the earlier horizons of the list, before the last one
            last = claims.pop()
            listing_of = last.deadline.series if last.deadline is not None else ()
            claims.extend(replace(last, deadline=replace(d, series=listing_of)) for d in series_extra)
            claims.append(last)
    # qualitative claims: instruments with no numeric claim in this sentence
    numeric_symbols = {c.instrument for c in claims}
    symbols: list[tuple[str, int]] = []
    for m in mentions:
        if m.symbol and m.symbol not in numeric_symbols and m.symbol not in [s for s, _ in symbols]:
            symbols.append((m.symbol, m.start))
    if not mentions and carried and not claims and _ANAPHORA.search(norm[a:b]):
        symbols.append((carried, a))
    if levels or conditional:
        symbols = []  # a sentence with numbers is judged on its numbers only
    hedge_at = _hedge_position(norm, a, b)
    for symbol, pos in symbols:
        clause = _clause_of(clauses, pos)
        clause_text = norm[clause[0] : clause[1]]
        scope = norm[max(a, hedge_at) : b]
        if _PAST_CLAUSE.search(clause_text) and not _FUTURE_IN_CLAUSE.search(clause_text):
            continue
        qual = _QUALITATIVE.search(scope)
        up = _DIR_UP.search(scope)
        down = _DIR_DOWN.search(scope)
        if not (qual or up or down):
            continue
        if qual or (up and down) or _NEGATION.search(norm[max(a, hedge_at - 12) : b]):
            word = qual or up or down
            assert word is not None  # one of them matched (checked above)
            kind, cue = "manual", word.group(0)
        elif up is not None:
            kind, cue = "direction_up", up.group(0)
        else:
            assert down is not None
            kind, cue = "direction_down", down.group(0)
        deadline = deadlines[0] if deadlines else None
        claims.append(_Claim(symbol, kind, None, None, deadline, pos, cue))
    return claims


def _confidence(claim: _Claim, who: _Who, hedge: str | None) -> float:
    """0..1. Numeric claims with a named speaker and a cue score 0.7 and up; qualitative, group and
    unattributed ones stay below (they are not pre-ticked on the desk)."""
    if claim.target is None:
        return round(min(0.45, who.weight * 0.5), 2)
    score = who.weight
    if not claim.explicit:
        score -= 0.1
    if hedge is None:
        score -= 0.15
    if who.strategist is None and who.firm is None:
        score = min(score, 0.6)
    return round(max(0.05, min(0.95, score)), 2)


# ---------------------------------------------------------------------------------------------- main


# ------------------------------------------------------------------------------- the candidate model
#
# A logistic regression over binary features of each numeric claim (its kind, cue, speaker evidence,
# deadline source, whether the rules would have read the sentence at all, and the words just before and
# after the number) decides "forecast or not". Trained on the development annotations by
# `make train-extraction` (tests/extraction_eval.py --train); stored as plain weights in
# extraction_model.json and scored here in pure Python, so no scikit-learn is needed at run time.
# Without the file the extractor is the rules alone.

_MODEL_PATH = Path(__file__).with_name("extraction_model.json")
_WORD = re.compile(r"[a-z]+|[" + _CJK + r"]")
_NOBODY = _Who(None, None, None, "none found (model)", 0.3)


class _Scorer:
    """Logistic-regression weights over binary features."""

    def __init__(
        self, weights: Mapping[str, float], bias: float, threshold: float, extra_threshold: float = 1.0
    ) -> None:
        self.weights = dict(weights)
        self.bias = bias
        self.threshold = threshold  # for claims the rules make
        self.extra_threshold = extra_threshold  # for claims the rules would have dropped or skipped

    def score(self, features: list[str]) -> float:
        z = self.bias + sum(self.weights.get(f, 0.0) for f in set(features))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


class _KeepAll(_Scorer):
    def __init__(self) -> None:
        super().__init__({}, 0.0, 0.0, 0.0)

    def score(self, features: list[str]) -> float:
        return 1.0


_PERMISSIVE = _KeepAll()
_ANY_NUMBER = re.compile(r"\d|[一二兩两三四五六七八九十百千萬万]")
# Soft filters (the past / current-level / not-a-price / conditional filters as model features instead of
# drops) were tried: under 5-fold CV on dev they lowered precision more than they added recall. Off.
_SOFT_FILTERS = False
_LOADED: list[_Scorer | None] = []


def _model() -> _Scorer | None:
    if not _LOADED:
        scorer = None
        try:
            data = json.loads(_MODEL_PATH.read_text(encoding="utf-8"))
            scorer = _Scorer(
                data["weights"],
                float(data["bias"]),
                float(data["threshold"]),
                float(data.get("extra_threshold", 1.0)),
            )
        except (OSError, ValueError, KeyError, TypeError):
            scorer = None
        _LOADED.append(scorer)
    return _LOADED[0]


def _tokens(prefix: str, text: str) -> list[str]:
    chars = _WORD.findall(text.lower())
    out = [prefix + w for w in chars if len(w) > 1 or _is_cjk(w)]
    cjk = [w for w in chars if _is_cjk(w)]
    out += [prefix + x + y for x, y in itertools.pairwise(cjk)]
    return out


def _features(
    norm: str, a: int, b: int, claim: _Claim, who: _Who, hedge: str | None, model_only: bool, n: int
) -> list[str]:
    """Binary features of a numeric claim (see the model's comment above)."""
    pos = claim.position
    num = re.match(r"[\d,.\s]*", norm[pos : pos + 20])
    after = pos + (num.end() if num else 0)
    speaker = "person" if who.strategist else "firm" if who.firm else "group" if who.group else "nobody"
    symbol = claim.instrument
    family = (
        "fx"
        if symbol in ("USDJPY", "USDCNY", "EURUSD")
        else "stock"
        if symbol[:1].isdigit() or symbol in ("NVDA", "AAPL", "TSLA")
        else "asset"
        if symbol in ("GC_F", "BTC-USD")
        else "index"
    )
    feats = [
        f"kind={claim.kind}",
        f"speaker={speaker}",
        f"evidence={who.evidence.split(' (')[0]}",
        f"hedge={'no' if hedge is None else 'yes'}",
        f"rules_skip={model_only}",
        f"explicit={claim.explicit}",
        f"deadline={claim.deadline.source if claim.deadline else 'none'}",
        f"superseded={claim.superseded is not None}",
        f"range={claim.target_upper is not None}",
        f"claims={min(n, 3)}",
        f"family={family}",
        f"cjk={bool(_CJK_RE.search(norm[a:b]))}",
        *(f"filter={x}" for x in claim.flags),
        f"filtered={bool(claim.flags)}",
        f"cue={(claim.cue or '').lower().split(' ')[0]}",
        f"hedgeword={(hedge or '').lower()}",
    ]
    feats += _tokens("L:", norm[max(a, pos - 24) : pos])
    feats += _tokens("R:", norm[after : min(b, after + 16)])
    return feats


# Two people named as one speaker: "HSBC analysts Charlene Liu and Ritchie Sun say" (the corpus records
# a forecast for each).
_JOINT = re.compile(
    rf"(?<![A-Za-z])(?P<one>{_NAME})\s+and\s+(?P<two>{_NAME})(?=\s+(?:say|said|wrote|note|noted|expect|see|argue|predict)\w*\b|\s*[,.])"
)

_JOINT_FIRMS = re.compile(
    rf"(?P<one>{_KNOWN_FIRMS})\s+and\s+(?P<two>{_KNOWN_FIRMS})(?=\s+(?:are|were|both|say|said|see|saw|expect|expected"
    r"|predict|predicted|forecast|have|had|now)\b|\s*,)"
)

_JOINT_FIRMS_CN = re.compile(rf"(?P<one>{_CN_KNOWN_FIRMS})\s*(?:與|与|和|及|、)\s*(?P<two>{_CN_KNOWN_FIRMS})")

_CARRY_DEADLINE = True
_READ_TABLES = True
_INHERIT_HORIZON = True
_CONTINUES = re.compile(
    r"\W*(?:It|They|He|She|That|This|Its|And|But|Also|Then|In\s+addition|The\s+(?:index|benchmark|gauge|bank|firm"
    r"|metal|stock|broker|strategist|analyst)s?\b|至於)"
)
_LIST_HEAD = re.compile(r"[:：]\s*$")
_TARGET_WORD = re.compile(
    r"(?i)(?-i:\b(?:TP|PT)\b)|\btargets?\b|\bforecasts?\b|\bprojections?\b|\bcalls\b|目標|目标|預測|预测"
)
_AHEAD = re.compile(
    r"(?i)(?:by|before|until|toward|towards|through)\b|(?:the\s+)?end[- ]|year[- ]end|next\b|mid[- ]|within\b"
    r"|in\s+the\s+(?:next|coming)\b|(?:later|late)\s+this|\d+-month|明年|年底|年尾|年內|年内|未來|未来|今後|下半年|下月|下個月"
)


# ------------------------------------------------------------------------------- tables and bank lists
#
# A poll table or a list of banks' targets has no sentence to read: each line is a firm and its numbers,
# the market is the table's heading or the article's topic, the horizon is in the heading
# ("END-2023 FORECASTS / INVESTMENT HOUSE NEW OLD / Credit Agricole 6.95 6.70", "Institutional Targets:
# • BOC International: 25,700 (11.7x forward P/E)"). Two rows or more, at least one a known firm; a row's
# levels are those before any parenthesis; with a NEW / OLD header the second is the superseded target.

_ROW = re.compile(
    rf"^[ \t]*(?:[•·▪●◆■*-][ \t]*)?(?P<name>{_KNOWN_FIRMS}(?:[ \t]+{_FIRM_SUFFIX})?|{_CN_KNOWN_FIRMS}"
    r"|[A-Z][\w&.'’-]*(?:[ \t]+[A-Z&][\w&.'’-]*){0,4})"
    r"[ \t]*(?:\([A-Za-z]{1,8}:?\)[ \t]*)?[:：]?[ \t]*(?P<rest>(?:US\$|HK\$|\$)?\d[^\n]*)$",
    re.MULTILINE,
)
_ROW_NUMBER = re.compile(
    rf"(?:US\$|HK\$|\$)?(?P<lo>{_NUMBER})(?:\s*[-–~至]\s*(?P<hi>{_NUMBER}))?(?P<pct>\s*%)?"
)
_ROW_UNIT = re.compile(r"(?i)\s*(?:points?|pts|點|点|港元|美元|元)")
_NEW_OLD = re.compile(r"(?i)\bnew\b.{0,30}\b(?:old|previous|prior)\b|新.{0,6}[舊旧]")
_TABLE_HEAD_LINES = 4


def _row_levels(rest: str) -> list[tuple[float, float | None]] | None:
    """The levels at the start of a row ("6.95 6.70", "23,000-25,000 (risk premium…)"), or None when
    the row is not only numbers (a sentence that happens to start with a name)."""
    head = rest.split("(", 1)[0].split("（", 1)[0]
    levels, pos = [], 0
    while True:
        m = _ROW_NUMBER.match(head, pos)
        if m is None or m.group("pct"):
            break
        lo = float(m.group("lo").replace(",", ""))
        hi = float(m.group("hi").replace(",", "")) if m.group("hi") else None
        levels.append((lo, hi if hi is not None and hi > lo else None))
        pos = m.end()
        unit = _ROW_UNIT.match(head, pos)
        if unit:
            pos = unit.end()
        while pos < len(head) and head[pos] in " \t,;/":
            pos += 1
    leftover = head[pos:]
    if not levels or len(re.findall(r"[A-Za-z]+|[" + _CJK + r"]", leftover)) > 2:
        return None
    return levels


_LAST_TRADED = re.compile(
    rf"(?i)\b(?:last\s+)?(?:traded|trading|closed|stood|was|is)\s+(?:at|near|around)\s+(?:US\$|\$)?(?P<v>{_NUMBER})"
    rf"|(?:收報|收市報|現報|報)\s*(?P<cn>{_NUMBER})"
)


# A broker's rating table as Hong Kong pages print it: "股份 | 投資評級 | 目標價", then one row per stock
# ("中國移動(00941.HK) … | 買入 | 107元 → 111元"): the new target, the old one superseded; the firm is the
# one that published the table (named above it).
_RATING_ROW = re.compile(
    r"^(?P<stock>[^\n│|]{1,90}?)\s*[│|]\s*(?P<rating>[^\s│|\d]{1,6})\s*[│|]\s*"
    r"(?:(?P<old>\d+(?:\.\d+)?)\s*(?:港元|港幣|美元|元)?\s*(?:->|→|➝|⇒)\s*)?(?P<new>\d+(?:\.\d+)?)\s*(?:港元|港幣|美元|元)",
    re.MULTILINE,
)
_SELL_RATING = re.compile(r"沽售|賣出|卖出|減持|减持|跑輸|跑输|Sell|Underperform|Underweight", re.IGNORECASE)


def _rating_rows(norm: str, text: str, table: _AliasTable) -> tuple[list[Candidate], list[tuple[int, int]]]:
    out: list[Candidate] = []
    spans: list[tuple[int, int]] = []
    rows = list(_RATING_ROW.finditer(norm))
    if len(rows) < 2:
        return out, spans
    # the firm that wrote the report the table is from: named first above it ("滙豐研究發表研究報告"),
    # not one a related-link headline names just above the table
    before = norm[max(0, rows[0].start() - 1500) : rows[0].start()]
    firms = [*_ANY_FIRM_RE.finditer(before), *_CN_ANY_FIRM_RE.finditer(before)]
    if not firms:
        return out, spans
    firm = _clean_firm(min(firms, key=lambda f: f.start()).group(0))
    for m in rows:
        stocks = [x for x in table.find(norm, m.start("stock"), m.end("stock")) if x.symbol]
        if not stocks:
            continue
        new, old = float(m.group("new")), m.group("old")
        symbol = stocks[0].symbol or ""
        if not _plausible(symbol, Level(new, None, False, True, 0, 0)):
            continue
        a, b = m.start(), m.end()
        out.append(
            Candidate(
                strategist=None,
                firm=firm,
                quote=text[a:b].strip(),
                instrument=symbol,
                kind="close_below" if _SELL_RATING.search(m.group("rating")) else "close_above",
                target=new,
                target_upper=None,
                deadline=None,
                deadline_source="none",
                hedge=None,
                start=a,
                end=b,
                superseded_target=float(old) if old else None,
                cue="rating table row",
                speaker_evidence="the firm that published the table",
                confidence=0.6,
            )
        )
        spans.append((a, b))
    return out, spans


def _table_baseline(norm: str, symbol: str, mentions: list[_Mention], before: int) -> float | None:
    """The current level of a table's market when the sentence rules learned none (small FX levels are
    not price-like there): "the euro last traded at 1.0850", "恒指昨日收報23,500點", after a mention."""
    for m in reversed([m for m in mentions if m.symbol == symbol and m.start < before]):
        found = _LAST_TRADED.search(norm, m.end, min(before, m.end + 60))
        if found:
            value = float((found.group("v") or found.group("cn")).replace(",", ""))
            if _plausible(symbol, Level(value, None, False, True, 0, 0)):
                return value
    return None


def _table_head(norm: str, first: int) -> int:
    """Where the heading of a table starting at `first` begins: the short lines just above it ("END-2023
    FORECASTS", "INVESTMENT HOUSE NEW OLD") and the sentence that introduces it when it ends with a
    colon ("Here is a summary of some forecasts:"); prose above that is not the heading."""
    start, taken, pos = first, 0, first
    while taken < _TABLE_HEAD_LINES and pos > 0:
        line_start = norm.rfind("\n", 0, max(0, pos - 1)) + 1
        line = norm[line_start:pos].strip()
        if line:
            if line.endswith((":", "：")):
                return line_start
            if len(line) > 60 or re.search(r"[.!?。！？]$", line):
                break
            start, taken = line_start, taken + 1
        pos = line_start
    return start


def _table_claims(
    norm: str, text: str, published: date | None, table: _AliasTable, baselines: dict[str, float]
) -> tuple[list[Candidate], list[tuple[int, int]]]:
    """Candidates from tables and bank lists, and the spans of the rows they came from."""
    rows = []
    for m in _ROW.finditer(norm):
        levels = _row_levels(m.group("rest"))
        if levels is not None and len(m.group(0).strip()) <= 100:
            rows.append((m, levels))
    blocks: list[list[tuple[re.Match[str], list[tuple[float, float | None]]]]] = []
    for row in rows:
        if blocks:
            gap = norm[blocks[-1][-1][0].end() : row[0].start()]
            # rows are next to each other: blank lines or a wrapped word ("months)", "Markets") between
            if all(len(line.split()) <= 2 and not re.search(r"\d", line) for line in gap.split("\n")):
                blocks[-1].append(row)
                continue
        blocks.append([row])
    out: list[Candidate] = []
    spans: list[tuple[int, int]] = []
    everywhere: list[_Mention] | None = None  # the article's tracked mentions, read once a table is found
    for block in blocks:
        names = [_clean_firm(m.group("name")) for m, _ in block]
        if len(block) < 2 or len(set(names)) < 2 or not any(_ANY_FIRM_RE.match(n or "") for n in names):
            continue
        if everywhere is None:
            everywhere = [m for m in table.find(norm, 0, len(norm)) if m.symbol]
        first = block[0][0].start()
        head_start = _table_head(norm, first)
        head = norm[head_start:first]
        deadlines = _deadlines(norm, head_start, first, published)
        new_old = bool(_NEW_OLD.search(head))
        values = [levels[0] for _, levels in block]

        def fits(symbol: str, values: list[tuple[float, float | None]] = values) -> bool:
            base = baselines.get(symbol)
            for lo, hi in values:
                if not _plausible(symbol, Level(lo, hi, False, True, 0, 0)):
                    return False
                if base and not 0.5 * base <= lo <= 1.6 * base:
                    return False
            return True

        in_head = [m.symbol for m in table.find(norm, head_start, first) if m.symbol and fits(m.symbol)]
        symbol: str
        if in_head:
            symbol = in_head[-1]
        else:
            before = [m.symbol for m in everywhere if m.symbol and m.start < first and fits(m.symbol)]
            if not before:
                continue
            counts = {sym: before.count(sym) for sym in before}
            best = max(counts.values())
            symbol = next(sym for sym in reversed(before) if counts[sym] == best)
        deadline = deadlines[-1] if deadlines else None  # the one nearest the rows ("END-2023 FORECASTS")
        base = baselines.get(symbol) or _table_baseline(norm, symbol, everywhere, first)
        for (m, levels), firm in zip(block, names, strict=True):
            lo, hi = levels[0]
            superseded = levels[1][0] if new_old and len(levels) > 1 and levels[1][1] is None else None
            if hi is not None:
                kind = "range"
            elif base is not None and lo < base:
                kind = "close_below"
            else:
                kind = "close_above"
            a, b = m.start(), m.end()
            out.append(
                Candidate(
                    strategist=None,
                    firm=firm,
                    quote=text[a:b].strip(),
                    instrument=symbol,
                    kind=kind,
                    target=lo,
                    target_upper=hi,
                    deadline=deadline.when.isoformat() if deadline and deadline.when else None,
                    deadline_source=deadline.source if deadline else "none",
                    hedge=None,
                    start=a,
                    end=b,
                    superseded_target=superseded,
                    cue="table row",
                    speaker_evidence="first column of a table or list",
                    deadline_phrase=deadline.phrase if deadline else None,
                    confidence=0.6,  # the market comes from the heading or the topic: not pre-ticked
                )
            )
            spans.append((a, b))
    return out, spans


def extract_forecasts(
    text: str,
    *,
    published: date | None = None,
    instruments: Mapping[str, str] | None = None,
) -> list[Candidate]:
    """Candidate forecasts in `text`, in order of appearance. Never raises on odd input.

    `published` resolves relative horizons ("by year end", "next year", "明年中"); without it they come
    back as deadline None with deadline_source "implied". `instruments` adds aliases (alias -> symbol)
    to DEFAULT_ALIASES, e.g. the database's instrument aliases."""
    return _extract(text, published, instruments, _model())


def _extract(
    text: str,
    published: date | None,
    instruments: Mapping[str, str] | None,
    model: _Scorer | None,
    collect: list[tuple[Candidate, list[str]]] | None = None,
) -> list[Candidate]:
    """The extractor. With a `model`, sentences the rules skip (no forecast word, no speaker found) are
    read too, and every numeric claim is kept only if the model scores it as a forecast. `collect`
    (training) receives each candidate with its features; pass model=_PERMISSIVE to see them all."""
    if not isinstance(text, str) or not text.strip():
        return []
    # read what the rules skip only when the model is allowed to keep such claims (extra_threshold <= 1)
    permissive = model is not None and model.extra_threshold <= 1.0
    norm = _normalise(text)
    table = _AliasTable(instruments)
    speakers = _Speakers()
    byline = None
    for m in _CN_BYLINE.finditer(norm):
        byline = m
    if byline is not None:
        org = byline.group("org").strip() or None
        speakers.byline = _Person(re.sub(r"\s+", "", byline.group("name")), org)
    results: list[Candidate] = []
    seen: set[tuple[object, ...]] = set()
    previous: _Who | None = None
    carried: str | None = None
    carried_paragraph = -1
    named_markets: list[str] = []  # tracked symbols named so far, the latest last
    baselines: dict[str, float] = {}
    list_hedge: str | None = None
    list_deadlines: list[Deadline] = []
    list_target = False  # the list's heading says its levels are targets ("Year-end targets:")
    previous_deadlines: list[Deadline] = []
    previous_paragraph = -1
    previous_group_paragraph = -2
    claimed: dict[tuple[object, ...], int] = {}
    horizons: dict[tuple[str | None, str | None, str | None], tuple[Deadline, int]] = {}
    partners: dict[str, str] = {}  # "analysts Charlene Liu and Ritchie Sun say": each speaks for both
    firm_partners: dict[str, str] = {}  # "Barclays and Macquarie are the most pessimistic, predicting…"
    for sentence in _split_sentences(norm):
        a, b = sentence.start, sentence.end
        for joint in _JOINT.finditer(norm, a, b):
            one, two = (re.sub(r"\s+", " ", joint.group(g)) for g in ("one", "two"))
            if not any(_ANY_FIRM_RE.fullmatch(n) or _NAME_STOPWORDS & set(n.split()) for n in (one, two)):
                partners[one], partners[two] = two, one
        for joint in [*_JOINT_FIRMS.finditer(norm, a, b), *_JOINT_FIRMS_CN.finditer(norm, a, b)]:
            one, two = (_clean_firm(joint.group(g)) or "" for g in ("one", "two"))
            firm_partners[one], firm_partners[two] = two, one
        mentions = table.find(norm, a, b)
        tracked = [m for m in mentions if m.symbol]
        hedge = _hedge(norm, a, b)
        is_item = bool(_BULLET.match(norm[a:b]) or _LIST_ITEM.match(norm[a:b]))
        if hedge is None and is_item and list_hedge:
            hedge = list_hedge
        speaker = _speaker(norm, a, b, speakers, previous)
        previous = speaker
        named = list(_ANY_FIRM_RE.finditer(norm, a, b))
        if named:  # "…a similar move by HSBC Holdings. The bank lifted…": the bank is the firm named last
            speakers.last_firm = _clean_firm(named[-1].group(0)) or speakers.last_firm
        if speaker is not None and speaker.group and speaker.strategist is None and speaker.firm is None:
            previous = None if previous_group_paragraph == sentence.paragraph else speaker
            previous_group_paragraph = sentence.paragraph if previous is None else -1
        carry = carried if carried_paragraph == sentence.paragraph or not mentions else None
        if not tracked:
            pair_m = _PAIR_SENTENCE.search(norm, a, b)
            if pair_m:  # "the dollar at 160 yen", "1美元兌160日圓": the pair, named by its units
                carry = "USDJPY" if pair_m.group("jpy") else "USDCNY"
        for mention in tracked:
            if mention.symbol in named_markets:
                named_markets.remove(mention.symbol)
            named_markets.append(str(mention.symbol))
        if tracked:
            carried, carried_paragraph = tracked[-1].symbol, sentence.paragraph
        elif mentions:
            carried = None
        deadlines = _deadlines(norm, a, b, published)
        if hedge is None:
            ahead = next((d for d in deadlines if _AHEAD.match(d.phrase)), None)
            if ahead is not None:
                hedge = ahead.phrase
        if _LIST_HEAD.search(norm[a:b]):
            head_target = _TARGET_WORD.search(norm, a, b)
            list_target = bool(head_target)
            # "The bank has raised the annual target values for major indices:" — the items are its targets
            list_hedge = hedge or (head_target.group(0) if head_target and speaker is not None else None)
            list_deadlines = deadlines
        elif not is_item:
            list_hedge, list_deadlines, list_target = None, [], False
        own_deadlines = bool(deadlines)
        if not deadlines and is_item:
            deadlines = list_deadlines
        if (
            not deadlines
            and previous_paragraph == sentence.paragraph
            and _CARRY_DEADLINE
            and _CONTINUES.match(norm, a)
        ):
            deadlines = previous_deadlines  # a horizon in the sentence before governs this one
        if own_deadlines:
            previous_deadlines, previous_paragraph = deadlines, sentence.paragraph
        elif previous_paragraph != sentence.paragraph:
            previous_deadlines = []
        model_only = False
        if hedge is None or speaker is None:
            if not permissive or (not tracked and carry is None) or not _ANY_NUMBER.search(norm, a, b):
                if mentions or carry:  # still learn the current levels ("closed at 22,620")
                    _claims_in(norm, a, b, mentions, [], carry, [], baselines, False, learn_only=True)
                continue
            model_only = True  # the rules would skip it; the model decides on its numbers
            speaker = speaker or _NOBODY
        if not mentions and carry is None:
            continue
        marks = _speaker_marks(norm, a, b, speakers)
        claims = _claims_in(
            norm,
            a,
            b,
            mentions,
            deadlines,
            carry,
            marks,
            baselines,
            speaker.group is not None,
            soft=_SOFT_FILTERS and permissive,
            alternates=tuple(x for x in reversed(named_markets) if x != carry) if not tracked else (),
        )
        if is_item and list_target:
            claims = [
                replace(c, kind="close_above", cue=c.cue or "target")
                if c.kind == "reach" and not c.explicit
                else c
                for c in claims
            ]
        numeric_here = sum(1 for c in claims if c.target is not None)
        for claim in claims:
            who = claim.who or speaker
            speaker_key = (who.strategist, who.firm, who.group)
            if claim.target is not None and claim.deadline is None and _TARGET_WORD.search(claim.cue or ""):
                earlier = horizons.get(speaker_key)
                if earlier is not None and sentence.paragraph - earlier[1] <= 1 and _INHERIT_HORIZON:
                    # "滙豐調高恒指2025年底目標至27010點。國指目標價升至9720點": the same speaker's
                    # targets share the horizon stated just before
                    claim = replace(claim, deadline=earlier[0])
            if claim.target is not None and claim.deadline is not None:
                horizons[speaker_key] = (claim.deadline, sentence.paragraph)
            features: list[str] = []
            if model is not None:
                if claim.target is None and (model_only or claim.flags):
                    continue
                if claim.target is not None:
                    features = _features(norm, a, b, claim, who, hedge, model_only, numeric_here)
                    bar = model.extra_threshold if model_only or claim.flags else model.threshold
                    # A person named in the sentence, with a cue that set the kind: the plainest claim there
                    # is ("Jane Smith of Acme said the Nasdaq could fall 5%"); the model does not overrule it.
                    plain = (
                        not model_only
                        and not claim.flags
                        and claim.explicit
                        and who.evidence == "named in sentence"
                    )
                    if not plain and model.score(features) < bar:
                        continue
            d = claim.deadline
            deadline = d.when.isoformat() if d and d.when else None
            source = d.source if d else "none"
            who_evidence = who.evidence
            claim_firm = who.firm if who.strategist is None else None
            key = (
                who.strategist,
                claim_firm,
                who.group,
                claim.instrument,
                claim.kind,
                claim.target,
                claim.target_upper,
                deadline,
            )
            if key in seen:
                continue
            seen.add(key)
            # the same speaker's same level again (a summary, a restatement): reported once, keeping a
            # deadline the first mention lacked
            same = (
                who.strategist or claim_firm or ("group" if who.group else None),
                claim.instrument,
                claim.target,
                claim.target_upper,
                deadline if d is not None and d.series else None,  # one level for each of a list of dates
            )
            if claim.target is not None and same in claimed:
                first = results[claimed[same]]
                if first.deadline_source == "none" and d is not None:
                    results[claimed[same]] = replace(
                        first, deadline=deadline, deadline_source=source, deadline_phrase=d.phrase
                    )
                continue
            if claim.target is not None:
                claimed[same] = len(results)
            results.append(
                Candidate(
                    strategist=who.strategist,
                    firm=who.firm,
                    quote=text[a:b],
                    instrument=claim.instrument,
                    kind=claim.kind,
                    target=claim.target,
                    target_upper=claim.target_upper,
                    deadline=deadline,
                    deadline_source=source,
                    hedge=hedge,
                    start=a,
                    end=b,
                    group=who.group,
                    superseded_target=claim.superseded,
                    cue=claim.cue,
                    speaker_evidence=who_evidence,
                    deadline_phrase=d.phrase if d else None,
                    confidence=min(0.5, _confidence(claim, who, hedge))
                    if model_only
                    else _confidence(claim, who, hedge),
                )
            )
            if collect is not None and features:
                collect.append((results[-1], features))
            partner = partners.get(who.strategist or "")
            if partner and claim.target is not None and (partner, *key[1:]) not in seen:
                seen.add((partner, *key[1:]))
                results.append(
                    replace(results[-1], strategist=partner, speaker_evidence=f"named with {who.strategist}")
                )
            partner = firm_partners.get(claim_firm or "")
            if partner and claim.target is not None and (None, partner, *key[2:]) not in seen:
                seen.add((None, partner, *key[2:]))
                results.append(
                    replace(results[-1], firm=partner, speaker_evidence=f"named with {claim_firm}")
                )
    if _READ_TABLES:
        rows, spans = _table_claims(norm, text, published, table, baselines)
        rated, rated_spans = _rating_rows(norm, text, table)
        rows, spans = rows + rated, spans + rated_spans
        if rows:  # a row read as a table replaces what the sentence rules made of it
            results = [c for c in results if not any(a <= c.start < b for a, b in spans)] + rows
    return results
