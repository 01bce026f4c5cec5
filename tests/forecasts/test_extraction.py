"""forecasts.extraction: table tests of the grammar, the seed article, the annotated corpus of real articles
(precision / recall floors) and robustness properties. Pure except the command tests at the end."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasts.extraction import (
    Candidate,
    extract_forecasts,
    find_deadlines,
    find_instruments,
    html_to_text,
    parse_levels,
)
from tests.paths import FIXTURES, ROOT

# The development part only: tests/fixtures/articles/test/ is the frozen test part (ANNOTATION.md).
ARTICLES = FIXTURES / "articles" / "dev"
KINDS = {
    "reach",
    "close_above",
    "close_below",
    "range",
    "direction_up",
    "direction_down",
    "move_pct",
    "outperform",
    "manual",
}


def one(text: str, **kwargs) -> Candidate:
    found = extract_forecasts(text, **kwargs)
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "value", "upper", "percent"),
    [
        ("23,200", 23200, None, False),
        ("23.2k", 23200, None, False),
        ("23,200 points", 23200, None, False),
        ("3,000 points", 3000, None, False),
        ("US$100,000", 100000, None, False),
        ("$100k", 100000, None, False),
        ("HK$85", 85, None, False),
        ("7.3 yuan", 7.3, None, False),
        ("2.5 per cent", 2.5, None, True),
        ("2.5%", 2.5, None, True),
        ("10 per cent", 10, None, True),
        ("between 18,000 and 20,000", 18000, 20000, False),
        ("18,000-20,000", 18000, 20000, False),
        ("USD2,950-3,650 per ounce", 2950, 3650, False),
        ("28000至30000點", 28000, 30000, False),
        ("２７４６４點", 27464, None, False),
        ("$4,000 an ounce", 4000, None, False),
        ("11,800 to 12,000", 11800, 12000, False),
    ],
)
def test_numbers(text, value, upper, percent):
    levels = parse_levels(text)
    assert len(levels) == 1, levels
    level = levels[0]
    assert level.value == pytest.approx(value)
    assert level.upper == (pytest.approx(upper) if upper else None)
    assert level.percent is percent


@pytest.mark.parametrize(
    "text",
    [
        "in 2025",
        "the 200-day average",
        "12個月",
        "20天線",
        "11.3 times",
        "a $5 trillion market",
        "240 million iPhones",
        "in 2H",
        "Q2",
        "25點子",
        "3 months",
    ],
)
def test_not_levels(text):
    assert parse_levels(text) == []


def test_from_to_keeps_only_the_new_level():
    assert [lv.value for lv in parse_levels("raised its target from $169 to $204")] == [204]
    assert [lv.value for lv in parse_levels("by $25 to $325")] == [325]


# ------------------------------------------------------------------------------------------- aliases


@pytest.mark.parametrize(
    ("text", "symbol"),
    [
        ("the Hang Seng Index rose", "HSI"),
        ("the HSI could", "HSI"),
        ("Hang Seng closed", "HSI"),
        ("恒指", "HSI"),
        ("恒生指數", "HSI"),
        ("恒生指数", "HSI"),
        ("Hang Seng Tech Index", "HSTECH"),
        ("HSTECH", "HSTECH"),
        ("恒生科技指數", "HSTECH"),
        ("HSCEI", "HSCEI"),
        ("H-shares", "HSCEI"),
        ("China Enterprises Index", "HSCEI"),
        ("國企指數", "HSCEI"),
        ("S&P 500", "GSPC"),
        ("the S&P", "GSPC"),
        ("SPX", "GSPC"),
        ("Nasdaq Composite", "IXIC"),
        ("Nasdaq", "IXIC"),
        ("Nasdaq-100", "NDX"),
        ("Nasdaq 100", "NDX"),
        ("Nikkei", "N225"),
        ("gold", "GC_F"),
        ("bitcoin", "BTC-USD"),
        ("BTC", "BTC-USD"),
        ("Nvidia", "NVDA"),
        ("Apple", "AAPL"),
        ("Tesla", "TSLA"),
        ("China Mobile", "0941.HK"),
        ("China Telecom", "0728.HK"),
        ("China Unicom", "0762.HK"),
        ("Tencent", "0700.HK"),
        ("Alibaba", "9988.HK"),
        ("黃金", "GC_F"),
    ],
)
def test_aliases(text, symbol):
    assert find_instruments(text)[0][1] == symbol


def test_longest_alias_wins_and_lookalikes_do_not_match():
    assert [s for _, s in find_instruments("Hang Seng Tech Index and Hang Seng China Enterprises Index")] == [
        "HSTECH",
        "HSCEI",
    ]
    assert find_instruments("China's economy and Goldman Sachs") == []
    assert find_instruments("the Shanghai Composite")[0][1] == "SSEC"  # recognised, no bundled prices
    assert find_instruments("Kospi and MSCI China") == []  # known, but not tracked


def test_extra_aliases_from_the_database():
    text = "Jane Doe, a strategist at Acme Securities, said Zorbex could hit HK$60 by year end."
    assert extract_forecasts(text) == []
    found = one(text, instruments={"Zorbex": "9999.HK"}, published=date(2025, 3, 1))
    assert (found.instrument, found.kind, found.target, found.deadline) == (
        "9999.HK",
        "reach",
        60,
        "2025-12-31",
    )


# ------------------------------------------------------------------------------------------ deadlines


@pytest.mark.parametrize(
    ("phrase", "published", "deadline", "source"),
    [
        ("by year end", date(2025, 2, 14), "2025-12-31", "implied"),
        ("by the end of the year", date(2025, 2, 14), "2025-12-31", "implied"),
        ("end-2025", date(2024, 11, 1), "2025-12-31", "stated"),
        ("by the end of 2024", date(2024, 3, 1), "2024-12-31", "stated"),
        ("by end-June", date(2025, 2, 14), "2025-06-30", "implied"),
        ("by end-June", date(2025, 8, 1), "2026-06-30", "implied"),
        ("next month", date(2025, 2, 14), "2025-03-31", "implied"),
        ("within three months", date(2025, 2, 14), "2025-05-14", "implied"),
        ("in the next 12 months", date(2025, 2, 14), "2026-02-14", "implied"),
        ("a year from now", date(2024, 9, 24), "2025-09-24", "implied"),
        ("in the second half", date(2025, 2, 14), "2025-12-31", "implied"),
        ("in the first half of next year", date(2025, 2, 14), "2026-06-30", "implied"),
        ("by mid-2026", date(2025, 2, 14), "2026-06-30", "stated"),
        ("this year", date(2025, 2, 14), "2025-12-31", "implied"),
        ("next year", date(2025, 2, 14), "2026-12-31", "implied"),
        ("in Q2", date(2025, 2, 14), "2025-06-30", "implied"),
        ("in the second quarter", date(2025, 2, 14), "2025-06-30", "implied"),
        ("in the second quarter of 2025", date(2025, 4, 28), "2025-06-30", "stated"),
        ("by March", date(2025, 2, 14), "2025-03-31", "implied"),
        ("by December 2025", date(2024, 11, 1), "2025-12-31", "stated"),
        ("年底", date(2025, 9, 23), "2025-12-31", "implied"),
        ("明年中", date(2025, 9, 23), "2026-06-30", "implied"),
        ("明年", date(2025, 11, 18), "2026-12-31", "implied"),
        ("下半年", date(2020, 6, 10), "2020-12-31", "implied"),
        ("未來12個月", date(2025, 10, 10), "2026-10-10", "implied"),
        ("2026年", date(2025, 12, 5), "2026-12-31", "stated"),
    ],
)
def test_deadlines(phrase, published, deadline, source):
    found = find_deadlines(phrase, published)
    assert len(found) == 1, found
    assert (found[0].when.isoformat(), found[0].source) == (deadline, source)


def test_relative_deadline_without_a_publication_date_is_left_to_the_editor():
    (found,) = find_deadlines("by year end")
    assert (found.when, found.source) == (None, "implied")
    (absolute,) = find_deadlines("by mid-2026")
    assert (absolute.when, absolute.source) == (date(2026, 6, 30), "stated")


def test_dateparser_traps_are_not_dates():
    assert find_deadlines("the HSI could hit 23,200 by year", date(2025, 2, 14)) == []
    assert find_deadlines("the 'January effect' and May Day", date(2025, 2, 14)) == []
    assert find_deadlines("stocks may rise", date(2025, 2, 14)) == []


# ---------------------------------------------------------------------------- speakers, hedges, kinds

PUB = date(2025, 2, 14)


@pytest.mark.parametrize(
    ("text", "strategist", "firm"),
    [
        (
            "Alvin Ngan, a strategist at Zhongtai Financial International, said the HSI could reclaim "
            "23,200.",
            "Alvin Ngan",
            "Zhongtai Financial International",
        ),
        ("The HSI could reach 23,200, said Jane Smith of Acme Securities.", "Jane Smith", "Acme Securities"),
        ("According to Jane Smith, the HSI could reach 23,200.", "Jane Smith", None),
        ("Goldman Sachs's David Kostin expects the S&P 500 to hit 6,000.", "David Kostin", "Goldman Sachs"),
        (
            "Morgan Stanley strategist Mike Wilson sees the S&P 500 falling to 4,500.",
            "Mike Wilson",
            "Morgan Stanley",
        ),
        ("中泰國際策略師顏子琪表示，恒指有望挑戰23200點。", "顏子琪", "中泰國際"),
        ("According to Fidelity International, gold could reach $4,000.", None, "Fidelity International"),
        ("渣打預期恒指年底升至28000點。", None, "渣打"),
    ],
)
def test_speakers(text, strategist, firm):
    found = one(text, published=PUB)
    assert (found.strategist, found.firm) == (strategist, firm)


def test_surnames_and_pronouns_refer_back():
    text = (
        "Tom Schroeder, an analyst at SG Securities, spoke on Monday. "
        "The Hang Seng Index will reach 12,000 in February, he said. "
        "It could then fall to 9,200 by December, Mr Schroeder said."
    )
    found = extract_forecasts(text, published=date(2025, 1, 6))
    assert [(c.strategist, c.target, c.deadline) for c in found] == [
        ("Tom Schroeder", 12000, "2025-02-28"),
        ("Tom Schroeder", 9200, "2025-12-31"),
    ]


@pytest.mark.parametrize(
    ("sentence", "hedge"),
    [
        ("the HSI could reach 23,200", "could"),
        ("the HSI will reach 23,200", "will"),
        ("the HSI may reach 23,200", "may"),
        ("she expects the HSI to reach 23,200", "expects"),
        ("she sees the HSI reaching 23,200", "sees"),
        ("she forecasts the HSI to reach 23,200", "forecasts"),
        ("she predicts the HSI will reach 23,200", "predicts"),
        ("恒指預計升至23200點", "預計"),
    ],
)
def test_hedges(sentence, hedge):
    assert one(f"Jane Smith of Acme Securities said {sentence}.").hedge == hedge


@pytest.mark.parametrize(
    ("sentence", "kind", "target", "upper"),
    [
        ("the HSI could reclaim last year's peak of around 23,200 points", "reach", 23200, None),
        ("bitcoin could hit $100,000", "reach", 100000, None),
        ("the S&P 500 will climb to 6,000", "reach", 6000, None),
        ("the HSI could test 20,000", "reach", 20000, None),
        ("the S&P 500 has a year-end target of 6,000", "close_above", 6000, None),
        ("the S&P 500 will end the year at 6,000", "close_above", 6000, None),
        ("the HSI will rise 10 per cent", "move_pct", 10, None),
        ("the Nasdaq could fall 5%", "move_pct", -5, None),
        ("the HSI will trade between 18,000 and 20,000", "range", 18000, 20000),
        ("the HSI will stay in an 18,000-20,000 range", "range", 18000, 20000),
        ("the HSI cannot be expected to exceed 30,000 points", "close_below", 30000, None),
        ("Hong Kong stocks will trend higher", "direction_up", None, None),
        ("the Nasdaq will fall further", "direction_down", None, None),
        ("gold is headed for record highs", "manual", None, None),
    ],
)
def test_kinds(sentence, kind, target, upper):
    found = one(f"Jane Smith of Acme Securities said {sentence}.")
    assert (found.kind, found.target, found.target_upper) == (kind, target, upper)


@pytest.mark.parametrize(
    "text",
    [
        "Kenny Ng, a strategist at Everbright Securities International, said the rally was driven by tech.",
        "Hong Kong stocks rose 2 per cent on Friday as the Hang Seng Index closed at 22,620.",
        "The Hang Seng Index finished yesterday at 9,851.93 points, 47.91 per cent higher than its low.",
        "Tencent rose 1.7 per cent to HK$330.60, said Jane Smith of Acme Securities.",
        "'The number of mobile phone users is expected to reach 120 million by next year,' Mr Ng said.",
        "Jane Smith of Acme Securities said China's economy will grow 5 per cent next year.",
        "恒生指數昨再跌331點或1.3%，至25,434點。",
    ],
)
def test_explanations_and_non_forecasts_give_nothing(text):
    assert extract_forecasts(text, published=PUB) == []


def test_multiple_claims_get_their_own_deadlines():
    text = (
        "Standard Chartered's Geoffrey Kendrick expects bitcoin to surge to $120,000 in the second "
        "quarter of 2025 before advancing toward $200,000 by year-end."
    )
    found = extract_forecasts(text, published=date(2025, 4, 28))
    assert [(c.target, c.deadline, c.deadline_source) for c in found] == [
        (120000, "2025-06-30", "stated"),
        (200000, "2025-12-31", "implied"),
    ]


def test_chinese_targets_and_full_width_digits():
    text = "花旗銀行投資策略及資產配置主管廖嘉豪表示，已將恒指年尾目標價調高至26800點，明年中為27500點。"
    found = extract_forecasts(text, published=date(2025, 9, 23))
    assert [(c.strategist, c.kind, c.target, c.deadline) for c in found] == [
        ("廖嘉豪", "close_above", 26800, "2025-12-31"),
        ("廖嘉豪", "close_above", 27500, "2026-06-30"),
    ]
    wide = one("因此，恒指下站看２７４６４點。《信誠證券投資服務董事 蕭猷華》")
    assert (wide.strategist, wide.target, wide.kind) == ("蕭猷華", 27464, "reach")


# ----------------------------------------------------------------------------------------------- seed


def test_seed_article():
    text = (ARTICLES / "01-chinadailyhk-seed-hsi-ngan.txt").read_text(encoding="utf-8").split("\n---\n", 1)[1]
    found = extract_forecasts(text, published=date(2025, 2, 14))
    assert len(found) == 1
    (ngan,) = found
    assert (ngan.strategist, ngan.firm) == ("Alvin Ngan", "Zhongtai Financial International")
    assert (ngan.instrument, ngan.kind, ngan.target, ngan.target_upper) == ("HSI", "reach", 23200, None)
    assert (ngan.deadline, ngan.deadline_source, ngan.hedge) == (None, "none", "could")
    assert text[ngan.start : ngan.end] == ngan.quote
    assert "could reclaim last year's peak of around 23,200 points" in ngan.quote
    assert not any("Kenny Ng" in c.quote or c.strategist == "Kenny Ng" for c in found)


# --------------------------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class Article:
    name: str
    body: str
    published: date | None
    expected: list[dict]


def load_corpus() -> list[Article]:
    articles = []
    for path in sorted(ARTICLES.glob("*.txt")):
        head, body = path.read_text(encoding="utf-8").split("\n---\n", 1)
        published = re.search(r"^Published: (.*)$", head, re.M).group(1).strip()
        expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        articles.append(
            Article(path.stem, body, None if published == "none" else date.fromisoformat(published), expected)
        )
    return articles


# Floors a little under what `make eval-extraction` measures on the development part (EXTRACTION.md), so
# that a regression fails the suite. Raise them when the extractor improves. (language, figure) -> floor.
FLOORS = {
    # round 4: 100 harder, unseen articles joined dev (196 now); in-sample for the model (EXTRACTION.md)
    ("en", "recall"): 0.72,
    ("en", "precision"): 0.80,
    ("en", "fully right"): 0.42,
    ("en", "speaker"): 0.85,
    ("zh", "recall"): 0.86,
    ("zh", "precision"): 0.80,
    ("zh", "fully right"): 0.54,
    ("zh", "speaker"): 0.80,
}


def test_corpus_is_big_enough_and_well_formed():
    articles = load_corpus()
    assert len(articles) >= 15
    assert sum(1 for a in articles if re.search(r"[\u4e00-\u9fff]", a.body)) >= 2
    assert sum(len(a.expected) for a in articles) >= 40
    for article in articles:
        for e in article.expected:
            assert e["kind"] in KINDS, article.name
            assert e["deadline_source"] in {"stated", "implied", "none"}, article.name
            assert e["strategist"] or e["firm"] or e.get("group"), article.name


def test_corpus_figures_on_the_development_part(capsys):
    from tests.extraction_eval import load, report

    out = io.StringIO()
    figures = report("dev", load("dev"), False, out=out)
    with capsys.disabled():
        print("\n" + out.getvalue())
    for key, floor in FLOORS.items():
        value = figures[key][0]
        assert value is not None and value >= floor, f"{key} {value:.3f} fell below {floor}"


# ----------------------------------------------------------------------------------------- robustness


def _check_offsets(text: str, found: list[Candidate]) -> None:
    for c in found:
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start : c.end] == c.quote
        assert c.kind in KINDS
        assert c.deadline_source in {"stated", "implied", "none"}
        if c.deadline is not None:
            date.fromisoformat(c.deadline)


FRAGMENTS = st.sampled_from(
    [
        "Alvin Ngan, a strategist at Zhongtai Financial International, said ",
        "the HSI could reclaim 23,200 points by year end. ",
        "恒指明年目標30,000點。",
        "US$100,000",
        " between 18,000 and 20,000 ",
        "<script>alert('x')</script>",
        "\x00\x01\ufffd",
        "２７４６４點",
        "…",
        "\n\n",
        "Mr. ",
        "'",
        "by end-June ",
        "$",
        "%",
        "12,",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=40)), max_size=30), st.none() | st.dates())
def test_never_raises_and_offsets_are_sane(parts, published):
    text = "".join(parts)
    _check_offsets(text, extract_forecasts(text, published=published))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000))
def test_binary_ish_text_never_raises(data):
    text = data.decode("latin-1")
    _check_offsets(text, extract_forecasts(text))


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=300))
def test_html_never_raises(fragment):
    html = f"<html><body><p>{fragment}</p><script>var x = '{fragment}';</script></body></html>"
    text = html_to_text(html)
    assert isinstance(text, str)
    assert "var x" not in text
    _check_offsets(text, extract_forecasts(text))


def test_huge_text_is_handled():
    sentence = (
        "Alvin Ngan, a strategist at Zhongtai Financial International, said the HSI could reach 23,200. "
    )
    text = sentence * 3000 + "x" * 200_000 + "1,234," * 20_000
    found = extract_forecasts(text)
    assert len(found) == 1  # identical claims are reported once
    _check_offsets(text, found)


def test_empty_and_odd_inputs():
    assert extract_forecasts("") == []
    assert extract_forecasts("   \n\t ") == []
    assert extract_forecasts(None) == []  # type: ignore[arg-type]


def test_html_to_text_keeps_the_article_and_drops_scripts():
    html = (
        "<html><head><script>document.write('HSI 99,999');</script><style>p{}</style></head><body>"
        "<nav>Home | Markets</nav><article><h1>Stocks</h1><p>Alvin Ngan, a strategist at Zhongtai Financial "
        "International, said the HSI could reclaim last year's peak of around 23,200 points.</p>"
        "<p>Hong Kong stocks rallied on Friday.</p></article></body></html>"
    )
    text = html_to_text(html)
    assert "23,200" in text and "99,999" not in text
    assert one(text).target == 23200


# ---------------------------------------------------------------------------------- management command


def run_command(*args) -> list[dict]:
    out = io.StringIO()
    call_command("extract_forecasts", *args, stdout=out)
    return json.loads(out.getvalue())


def test_command_text_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(
        "Alvin Ngan, a strategist at Zhongtai Financial International, said the HSI could reclaim "
        "last year's peak of around 23,200 points by year end.",
        encoding="utf-8",
    )
    (row,) = run_command(str(path), "--published", "2025-02-14", "--json")
    assert list(row) == [
        "strategist",
        "firm",
        "quote",
        "instrument",
        "kind",
        "target",
        "target_upper",
        "deadline",
        "deadline_source",
        "hedge",
        "start",
        "end",
    ]
    assert (row["instrument"], row["target"], row["deadline"], row["deadline_source"]) == (
        "HSI",
        23200,
        "2025-12-31",
        "implied",
    )


def test_command_html_and_stdin(tmp_path, monkeypatch):
    html = tmp_path / "a.html"
    html.write_text(
        "<html><body><article><p>Jane Smith of Acme Securities said gold could hit $4,000 next year.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    assert run_command(str(html), "--json")[0]["instrument"] == "GC_F"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"Nothing to see here.")))
    assert run_command("-", "--json") == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\x7fELF\x00\x01\x02", "binary"),
        (b"caf\xe9 au lait", "not UTF-8"),
    ],
)
def test_command_rejects_bad_files(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("extract_forecasts", str(path), "--json")


def test_command_rejects_missing_files_and_bad_dates(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("extract_forecasts", str(tmp_path / "missing.txt"))
    with pytest.raises(CommandError, match="directory"):
        call_command("extract_forecasts", str(tmp_path))
    path = tmp_path / "a.txt"
    path.write_text("text", encoding="utf-8")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("extract_forecasts", str(path), "--published", "14/02/2025")


def test_extraction_module_stays_pure():
    source = (ROOT / "forecasts" / "extraction.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(?:from|import)\s+django", source, re.M)


# ------------------------------------------------------- issue 12: what real articles do (invented text)

P25 = date(2025, 3, 3)


def test_firm_or_desk_with_no_person():
    en = one("Nomura's strategists now see the Topix at 3,100 by year end.", published=P25)
    assert (en.strategist, en.firm, en.instrument, en.target) == (None, "Nomura", "TOPIX", 3100)
    assert en.speaker_evidence.startswith("firm only")
    zh = one("大摩預測恒指明年底升至28000點。", published=P25)
    assert (zh.strategist, zh.firm, zh.target, zh.deadline) == (None, "大摩", 28000, "2026-12-31")


def test_speaker_carried_across_sentences_and_list_items():
    text = (
        "Jane Smith, a strategist at Acme Securities, spoke on Monday. "
        "Gold could climb to $3,600 an ounce by mid-year, she said."
    )
    found = one(text, published=P25)
    assert (found.strategist, found.deadline, found.deadline_phrase) == (
        "Jane Smith",
        "2025-06-30",
        "by mid-year",
    )
    assert "pronoun" in found.speaker_evidence
    firm = "UBS raised its outlook on Monday. The bank expects the Nikkei to reach 41,000 early next year."
    c = one(firm, published=P25)
    assert (c.strategist, c.firm, c.instrument, c.deadline) == (None, "UBS", "N225", "2026-03-31")
    listed = extract_forecasts(
        "Year-end targets for the S&P 500:\n• UBS: 6,600\n• Citi: 6,300\n", published=P25
    )
    assert [(c.firm, c.target, c.instrument) for c in listed] == [
        ("UBS", 6600, "GSPC"),
        ("Citi", 6300, "GSPC"),
    ]


def test_consensus_and_polls_name_the_group():
    c = one(
        "The median forecast of 40 strategists polled by Reuters sees the S&P 500 at 6,500 by year end.",
        published=P25,
    )
    assert (c.strategist, c.firm, c.kind, c.target) == (None, None, "close_above", 6500)
    assert "median" in c.group and c.confidence < 0.7
    zh = one("市場普遍預期恒指今年底可升至二萬六。", published=P25)
    assert (zh.group, zh.target, zh.deadline) == ("市場", 26000, "2025-12-31")
    g = one("Many analysts now expect the Hang Seng Index to rise later this year.", published=P25)
    assert (g.kind, g.strategist, g.firm, g.group) == ("direction_up", None, None, "Many analysts")


def test_several_targets_in_one_sentence():
    found = extract_forecasts(
        "Jane Smith of Acme Securities expects the Nasdaq 100 at 21,000 by June and 22,500 by December.",
        published=P25,
    )
    assert [(c.target, c.deadline) for c in found] == [(21000, "2025-06-30"), (22500, "2025-12-31")]
    pair = extract_forecasts(
        "Jane Smith of Acme Securities sees the S&P 500 and the Dow at 5,900 and 44,000, respectively.",
        published=P25,
    )
    assert [(c.instrument, c.target) for c in pair] == [("GSPC", 5900), ("DJI", 44000)]
    zh = extract_forecasts("該行對恒指及國指的目標分別為25,000點及9,100點。", published=P25)
    # "該行" with no bank named before: nobody to attribute it to. The model may still offer the levels
    # (an editor can name the bank), but never with a made-up speaker and never pre-ticked.
    assert all(c.firm is None and c.strategist is None and c.confidence <= 0.5 for c in zh)
    zh = extract_forecasts("瑞銀發表報告。該行對恒指及國指的目標分別為25,000點及9,100點。", published=P25)
    assert [(c.instrument, c.target, c.firm) for c in zh] == [("HSI", 25000, "瑞銀"), ("HSCEI", 9100, "瑞銀")]


def test_revisions_keep_the_superseded_target():
    en = one("Acme Securities raised its year-end target for the S&P 500 to 6,400 from 6,000.", published=P25)
    assert (en.kind, en.target, en.superseded_target, en.deadline) == (
        "close_above",
        6400,
        6000,
        "2025-12-31",
    )
    zh = one("花旗將美團目標價由150元上調至180元。", published=P25)
    assert (zh.instrument, zh.kind, zh.target, zh.superseded_target, zh.firm) == (
        "3690.HK",
        "close_above",
        180,
        150,
        "花旗",
    )


def test_percentages_with_and_without_a_level():
    with_level = one("Jane Smith of Acme Securities expects a 12% rise to 26,000 for the Hang Seng Index.")
    assert (with_level.kind, with_level.target) == ("reach", 26000)
    alone = one(
        "Jane Smith of Acme Securities expects the Hang Seng Index to rise 12% this year.", published=P25
    )
    assert (alone.kind, alone.target) == ("move_pct", 12)
    cn = one("中泰國際策略師李大文預期恒指今年升三成。", published=P25)
    assert (cn.kind, cn.target) == ("move_pct", 30)


def test_kind_from_claim_and_baseline():
    text = (
        "The S&P 500 closed at 6,100 on Friday. "
        "Jane Smith of Acme Securities has a year-end target of 5,800 for the S&P 500."
    )
    assert one(text, published=P25).kind == "close_below"
    assert one("Jane Smith of Acme Securities said gold could touch $3,900.").kind == "reach"
    band = one("Jane Smith of Acme Securities sees the yen trading between 140 and 150 per dollar.")
    assert (band.instrument, band.kind, band.target, band.target_upper) == ("USDJPY", "range", 140, 150)


@pytest.mark.parametrize(
    ("phrase", "deadline", "source"),
    [
        ("by mid-year", "2025-06-30", "implied"),
        ("early next year", "2026-03-31", "implied"),
        ("later this month", "2025-03-31", "implied"),
        ("in the coming quarters", "2025-09-03", "implied"),
        ("年底", "2025-12-31", "implied"),
        ("明年上半年", "2026-06-30", "implied"),
        ("未來兩周", "2025-03-17", "implied"),
        ("第二季度", "2025-06-30", "implied"),
        ("2026年第二季度", "2026-06-30", "stated"),
    ],
)
def test_new_deadline_phrases(phrase, deadline, source):
    (found,) = find_deadlines(phrase, P25)
    assert (found.when.isoformat(), found.source) == (deadline, source)


def test_horizon_in_a_neighbouring_sentence():
    text = (
        "Jane Smith of Acme Securities is looking at the second half of next year. "
        "The index could climb to 27,000 on the Hang Seng, she said."
    )
    found = extract_forecasts(text, published=P25)
    assert [(c.target, c.deadline) for c in found] == [(27000, "2026-12-31")]


@pytest.mark.parametrize(
    ("text", "symbol"),
    [
        ("the US dollar/yen rate", None),
        ("USD/JPY", "USDJPY"),
        ("USD/CNY", "USDCNY"),
        ("美元兌人民幣", "USDCNY"),
        ("標普500", "GSPC"),
        ("标准普尔500指数", "GSPC"),
        ("美國股市基準指數", "GSPC"),
        ("恒指", "HSI"),
        ("恆生指數", "HSI"),
        ("國企指數", "HSCEI"),
        ("美團", "3690.HK"),
        ("美团", "3690.HK"),
        ("Topix", "TOPIX"),
        ("Nikkei 225", "N225"),
        ("EUR/USD", "EURUSD"),
        ("Dow Jones Industrial Average", "DJI"),
        ("上證指數", "SSEC"),
        ("CSI 300", "CSI300"),
        ("Xiaomi", "1810.HK"),
    ],
)
def test_instrument_names_in_both_scripts(text, symbol):
    found = [s for _, s in find_instruments(text)]
    if symbol is None:
        assert found == [] or found == ["USDJPY"]
    else:
        assert found[:1] == [symbol]


def test_simplified_text_is_read_through_opencc_with_offsets_kept():
    text = "中泰国际策略师颜子琪表示，恒生指数有望挑战23200点。"
    c = one(text, published=P25)
    assert (c.strategist, c.instrument, c.target) == ("顏子琪", "HSI", 23200)
    assert text[c.start : c.end] == c.quote


def test_hong_kong_stocks_in_index_points():
    c = one("Jane Smith of Acme Securities said Hong Kong stocks could rebound to 24,500 points.")
    assert (c.instrument, c.target) == ("HSI", 24500)


@pytest.mark.parametrize(
    "text",
    [
        "Jane Smith of Acme Securities said the S&P 500 is trading near 6,050 and will be volatile.",
        "Jane Smith of Acme Securities said gold, which set an all-time high of $3,500 in April, may pause.",
        "寒武紀（滬：688256）股價將受關注，中泰國際策略師李大文表示。",
        "Jane Smith of Acme Securities expects Apple's earnings per share to rise to $7.50 next year.",
        "Jane Smith of Acme Securities said China's GDP will grow 4.8% this year, lifting the Hang Seng.",
        "This is not investment advice; the S&P 500 may fall 5% or rise 5%, past results say nothing.",
    ],
)
def test_what_is_not_a_target(text):
    assert [c for c in extract_forecasts(text, published=P25) if c.target is not None] == []


def test_candidates_explain_themselves():
    c = one(
        "Goldman Sachs's David Kostin raised his year-end target for the S&P 500 to 6,600 from 6,100.",
        published=P25,
    )
    assert (c.cue, c.speaker_evidence, c.deadline_phrase) == ("target", "named in sentence", "year-end")
    assert c.superseded_target == 6100 and c.confidence >= 0.7
    qualitative = one("Jane Smith of Acme Securities said gold is headed for record highs.")
    assert qualitative.kind == "manual" and qualitative.confidence < 0.7


# ------------------------------------------------------------------ the candidate model (issue 12, round 2)


def test_the_candidate_model_ships_and_loads_offline():
    from forecasts import extraction

    model = extraction._model()
    assert model is not None, "forecasts/extraction_model.json is missing (make train-extraction)"
    assert model.weights and 0 < model.threshold <= 1


def test_the_model_keeps_plain_forecasts_on_invented_sentences():
    from forecasts import extraction

    model = extraction._model()
    for text, target in [
        (
            "Jane Doe, chief strategist at Acme Securities, expects the Hang Seng Index to reach 28,000 "
            "by year end.",
            28000,
        ),
        (
            "Acme Securities raised its year-end target for the S&P 500 to 7,000 from 6,500, "
            "strategist John Roe said.",
            7000,
        ),
    ]:
        found = extraction._extract(text, date(2025, 3, 1), None, model)
        assert [c.target for c in found] == [target]
        _check_offsets(text, found)


def test_the_model_drops_a_past_record_offered_as_a_level_to_retest():
    from forecasts import extraction

    text = (
        "Acme Bank said gold's all-time high of $4,100 could be tested again, "
        "while its earnings estimate was $12."
    )
    # round 3: "'s all-time high of" is a past level for the rules too (it used to take the model to drop it)
    assert extraction._extract(text, date(2025, 3, 1), None, None) == []
    assert extraction._extract(text, date(2025, 3, 1), None, extraction._model()) == []


def test_claims_only_the_model_reads_are_never_pre_ticked():
    from forecasts import extraction

    text = "Hang Seng Index: Acme Securities 28,000."  # no forecast word: the rules skip it
    collected: list = []
    extraction._extract(text, None, None, extraction._PERMISSIVE, collected)
    assert all(c.confidence <= 0.5 for c, _ in collected)
    assert all("rules_skip=True" in f for _, f in collected)


# ------------------------------------------- issue 12, round 3: generalising to unseen articles (invented)


@pytest.mark.parametrize(
    ("text", "symbol", "target"),
    [
        ("Jane Smith of Acme Securities expects USD/CNY at 7.40 in the coming weeks.", "USDCNY", 7.4),
        ("Jane Smith of Acme Securities expects US dollar/yen to climb to 160 by next year.", "USDJPY", 160),
        ("Acme Securities strategist Jane Smith sees the dollar at 158 yen by year-end.", "USDJPY", 158),
        ("Acme Bank sees 1 dollar = 162 yen by June.", "USDJPY", 162),
        ("野村預計美元兌日圓明年上半年將跌至141。", "USDJPY", 141),
        ("瑞銀認為到2026年6月底時1美元將兌換155日元。", "USDJPY", 155),
        ("花旗預期美元兌人民幣年底將升至7.35。", "USDCNY", 7.35),
    ],
)
def test_currency_pairs_with_plain_small_numbers(text, symbol, target):
    c = one(text, published=P25)
    assert (c.instrument, c.target) == (symbol, target)


def test_small_numbers_stay_out_for_everything_but_currency_pairs():
    assert extract_forecasts("Jane Smith of Acme Securities expects the index to gain 3 points.") == []
    assert (
        extract_forecasts("Jane Smith of Acme Securities expects gold to add 40 by June.", published=P25)
        == []
    )
    assert parse_levels("160") == []  # the public parser is unchanged


def test_firms_the_lists_do_not_know_as_subjects():
    en = one("Zephyrine Advisors maintains an end-2026 target of $190,000 for bitcoin.", published=P25)
    assert (en.strategist, en.firm, en.kind, en.target, en.deadline, en.deadline_source) == (
        None,
        "Zephyrine Advisors",
        "close_above",
        190000,
        "2026-12-31",
        "stated",
    )
    zh = one("星河證券研究所預計，恒生科技指數年內或上望6,200點。", published=P25)
    assert (zh.strategist, zh.instrument, zh.target, zh.deadline) == (None, "HSTECH", 6200, "2025-12-31")
    assert zh.firm and zh.firm.startswith("星河")
    # words that only look like a subject are not firms
    assert extract_forecasts("但市場預計恒指年內上望26,000點。", published=P25)[0].firm is None


@pytest.mark.parametrize(
    ("text", "strategist", "firm"),
    [
        (
            "Analysts at Acme Bank led by John McDonald see bitcoin hitting $150,000 by mid-2026.",
            "John McDonald",
            "Acme Bank",
        ),
        (
            "The Topix could climb to 3,000 by March, said Mary Lee at Acme Securities.",
            "Mary Lee",
            "Acme Securities",
        ),
        (
            "In a note, Acme Bank strategists wrote that the Nikkei could reach 45,000 by mid-2026.",
            None,
            "Acme Bank",
        ),
        ("Acme Capital's price objective for Tesla is $410.", None, "Acme Capital"),
        (
            "John O'Neill, head of research at Acme Partners, expects gold to climb to $4,000.",
            "John O'Neill",
            "Acme Partners",
        ),
        ("國泰君安國際首席經濟學家周浩預期，恒生科技指數明年上半年可見5,500點。", "周浩", "國泰君安"),
    ],
)
def test_more_ways_to_name_the_speaker(text, strategist, firm):
    c = one(text, published=P25)
    assert (c.strategist, c.firm) == (strategist, firm)


def test_a_group_is_not_a_person_called_putong():
    c = one("分析師普遍預期，恒生指數年底前將重上25000點。", published=P25)
    assert (c.strategist, c.firm, c.group) == (None, None, "分析師普遍")


def test_kinds_from_the_words_around_the_level():
    assert one("Jane Smith, an analyst at Acme Capital, sees gold at $3,500.").kind == "close_above"
    both = extract_forecasts(
        "For the Hang Seng Index, Acme Bank expects 24,000 by mid-year and 26,000 by year-end.", published=P25
    )
    assert [(c.kind, c.target, c.deadline) for c in both] == [
        ("close_above", 24000, "2025-06-30"),
        ("close_above", 26000, "2025-12-31"),
    ]
    bearish = one("Acme Capital set a price target of $150 for Apple, implying downside of 15%.")
    assert (bearish.kind, bearish.target) == ("close_below", 150)
    cases = extract_forecasts(
        "Acme Capital's bull case for the S&P 500 is 7,500 while its bear case is 5,000."
    )
    assert [(c.kind, c.target) for c in cases] == [("close_above", 7500), ("close_below", 5000)]
    # Chinese press: the most bullish case is a level to touch
    assert one("大摩預測恒指明年底最牛目標為31,000點。", published=P25).kind == "reach"
    listed = extract_forecasts(
        "Year-end targets for the Nikkei:\n• Nomura: 42,000\n• Daiwa: 41,000\n", published=P25
    )
    assert [(c.firm, c.kind, c.target) for c in listed] == [
        ("Nomura", "close_above", 42000),
        ("Daiwa", "close_above", 41000),
    ]


def test_a_future_horizon_makes_a_sentence_forward_looking():
    c = one("UBS has gold at $3,700 by the end of next year.", published=P25)
    assert (c.firm, c.instrument, c.target, c.deadline, c.hedge) == (
        "UBS",
        "GC_F",
        3700,
        "2026-12-31",
        "by the end of next year",
    )


def test_current_levels_and_past_horizons_are_not_claims():
    c = one("Jane Smith of Acme Securities said the S&P 500, now at 6,000, will end the year at 5,500.")
    assert (c.kind, c.target) == ("close_below", 5500)  # "now at 6,000" is the baseline, not a claim
    past = one(
        "Bitcoin, which hit a record of $109,000 in January, could fall to $80,000, "
        "warned Mary Lee of Acme Capital.",
        published=P25,
    )
    assert (past.target, past.deadline) == (80000, None)  # "in January" belongs to the past clause
    future_record = one(
        "Billy Chan of Acme Securities expects the Nasdaq Composite to hit a record high 22,100 by year end.",
        published=P25,
    )
    assert (future_record.target, future_record.deadline) == (22100, "2025-12-31")
    move = one("Mary Lee of Acme Securities expects the S&P 500 to fall 15% from current levels.")
    assert (move.kind, move.target) == ("move_pct", -15)


def test_chinese_dates_are_not_horizons():
    assert find_deadlines("2025年6月3日") == []
    assert find_deadlines("6月", published=P25) == []  # June, not six months
    [d] = find_deadlines("到2025年6月底時", published=P25)
    assert (d.when, d.source) == (date(2025, 6, 30), "stated")
    [d] = find_deadlines("12個月內", published=P25)
    assert d.when == date(2026, 3, 3)


def test_alias_boundaries_between_scripts():
    assert find_instruments("MSCI中國指數目標為85點") == []  # not the HSCEI, and MSCI is untracked
    assert find_instruments("Apple股價") == [("Apple", "AAPL")]
    assert find_instruments("美元/日元與XAU/USD") == [("美元/日元", "USDJPY"), ("XAU/USD", "GC_F")]
    assert extract_forecasts("高盛預計，未來12個月MSCI中國指數目標為85點。", published=P25) == []


def test_the_same_speakers_next_target_shares_the_horizon():
    found = extract_forecasts("滙豐調高恒指2025年底目標至27,010點。國指目標價升至9,720點。", published=P25)
    assert [(c.instrument, c.target, c.deadline) for c in found] == [
        ("HSI", 27010, "2025-12-31"),
        ("HSCEI", 9720, "2025-12-31"),
    ]


def test_levels_outside_an_instruments_plausible_band_are_dropped():
    # a count next to a stock name, and a coin's level carried to gold, are not prices
    assert extract_forecasts("Jane Smith of Acme Securities expects Tesla deliveries to reach 450,000.") == []
    found = extract_forecasts(
        "Jane Smith of Acme Securities sees gold at $3,600. She expects $190,000 for the coin.", published=P25
    )
    assert [(c.instrument, c.target) for c in found] == [("GC_F", 3600)]


def test_more_number_and_horizon_forms():
    assert [lv.value for lv in parse_levels("2萬6千點")] == [26000]
    assert [lv.value for lv in parse_levels("上望2萬6")] == [26000]
    assert [lv.value for lv in parse_levels("$0.3 million")] == [300000]
    assert parse_levels("$5 million") == []  # still a market value
    for phrase, when in [
        ("in 12 months", date(2026, 3, 3)),
        ("a one-year view", date(2026, 3, 3)),
        ("by 2026-end", date(2026, 12, 31)),
        ("未來一年", date(2026, 3, 3)),
        ("四季度", date(2025, 12, 31)),
        ("2026年四季度", date(2026, 12, 31)),
    ]:
        [d] = find_deadlines(phrase, published=P25)
        assert d.when == when, phrase


def test_chinese_firm_then_name_without_a_title():
    c = one("中泰國際顏大文表示，恒指年底前可上望26,000點。", published=P25)
    assert (c.strategist, c.firm, c.target) == ("顏大文", "中泰國際", 26000)
    assert one("高盛報告表示，恒指年底目標為27,000點。", published=P25).strategist is None


def test_a_yen_band_written_with_the_currency_name():
    c = one("瑞穗策略師山田健預期日圓明年將徘徊於145至158之間。", published=P25)
    assert (c.instrument, c.kind, c.target, c.target_upper, c.strategist) == (
        "USDJPY",
        "range",
        145,
        158,
        "山田健",
    )
    assert c.firm == "瑞穗"


def test_headline_style_surname_after_the_firm():
    c = one("Barclays's Hartley sees the Topix at 3,100 by year-end.", published=P25)
    assert (c.strategist, c.firm, c.kind, c.target) == ("Hartley", "Barclays", "close_above", 3100)
    h = one("Goldman Raises Nikkei Target To 44,000")
    assert (h.firm, h.instrument, h.kind, h.target) == ("Goldman", "N225", "close_above", 44000)


def test_conditions_and_old_calls_inside_a_sentence_are_not_claims():
    assert (
        extract_forecasts(
            "瑞穗策略師山田健表示，如果美元兌日圓升至165以上，日本央行可能加息。", published=P25
        )
        == []
    )
    assert (
        extract_forecasts(
            "Jane Smith of Acme Securities said that if the S&P 500 falls to 5,000, the Fed could step in."
        )
        == []
    )
    c = one("瑞銀由原來預測的1美元兌換141日圓修正為1美元兌換156日圓。", published=P25)
    assert (c.instrument, c.target) == ("USDJPY", 156)
    new = one("Gold hit a record high of $3,500 on Monday, and Acme Bank expects it to reach $3,900 by June.")
    assert new.target == 3900


def test_connectives_are_not_firms():
    # Every reading (the sentence has no speaker, so whether it is kept at all is the model's call).
    from forecasts import extraction

    [c] = extraction._extract("所以預計恒指年底前可上望26,000點。", P25, None, extraction._PERMISSIVE)
    assert c.firm is None or c.firm != "所以"


# ------------------------------------------- issue 12, round 4: what the second batch of unseen articles did


@pytest.mark.parametrize(
    "text, target, old",
    [
        ("野村將恒指年底目標從之前的24000點上調至26000點。", 26000, 24000),
        ("大摩將騰訊目標價由原先500元大削20%至400元。", 400, 500),
        ("高盛將金價預期從每安士3000美元大幅上調至3500美元。", 3500, 3000),
        ("花旗把蘋果目標價從原先200美元，調高至240美元。", 240, 200),
    ],
)
def test_a_revision_with_words_between_from_and_the_old_level(text, target, old):
    c = one(text, published=P25)  # one claim: the old level is not a second one
    assert (c.target, c.superseded_target, c.kind) == (target, old, "close_above")


def test_yuanta_is_not_read_out_of_a_currency_unit():
    c = one("花旗將蘋果目標價從200美元大幅上調至240美元。", published=P25)
    assert c.firm == "花旗"
    assert one("滙豐將美團目標價由150元大削至120元。", published=P25).firm == "滙豐"


def test_a_transcribed_foreign_name_with_the_original_in_brackets():
    c = one("富國銀行策略師克里斯·哈維（Chris Harvey）預計標普500指數年底將升至7,000點。", published=P25)
    assert (c.strategist, c.instrument, c.target) == ("Chris Harvey", "GSPC", 7000)


@pytest.mark.parametrize(
    "text, deadline, source",
    [
        ("Acme's Jane Roe expects the S&P 500 to end the year at 6,100.", "2025-12-31", "implied"),
        ("Jane Roe of Acme Securities sees bitcoin rising to $150,000 by late 2026.", "2026-12-31", "stated"),
        (
            "Jane Roe of Acme Securities expects the Nikkei to trade at 41,000 at the end of December.",
            "2025-12-31",
            "implied",
        ),
        ("Jane Roe of Acme Securities expects gold at $3,400 by fiscal year 2026.", "2026-12-31", "stated"),
        ("聶大文表示，小米未來兩個禮拜目標價看44元。", "2025-03-17", "implied"),
    ],
)
def test_more_horizon_phrases(text, deadline, source):
    c = one(text, published=P25)
    assert (c.deadline, c.deadline_source) == (deadline, source)


def test_averages_growth_rates_and_prior_targets_are_not_claims():
    assert extract_forecasts("Acme Bank expects gold to average $3,100 an ounce.", published=P25) == []
    assert extract_forecasts("Acme Bank's prior price target for Nvidia was $120.", published=P25) == []
    assert (
        extract_forecasts(
            "Acme Bank raised its forecast for 2026 earnings growth for Hang Seng Index companies to 9.8%.",
            published=P25,
        )
        == []
    )
    # an average in one clause does not drop the target in the next
    c = one(
        "摩通預計，今年第四季金價將平均每安士3,675美元，2026年第二季將突破每安士4,000美元。", published=P25
    )
    assert (c.target, c.deadline) == (4000, "2026-06-30")


def test_the_institution_and_the_bank_named_last_carry_the_firm():
    found = extract_forecasts(
        "摩根大通預計，2026年滬深300指數的基準目標為5200點。悲觀情景和樂觀情景下，該機構的目標點位分別為4000點和6000點。",
        published=P25,
    )
    assert [(c.target, c.firm, c.group) for c in found] == [
        (5200, "摩根大通", None),
        (4000, "摩根大通", None),
        (6000, "摩根大通", None),
    ]
    c = one(
        "Citi kept its view. The move followed a similar one by HSBC last month. "
        "The bank lifted its year-end target for the Hang Seng Index to 27,010.",
        published=P25,
    )
    assert c.firm == "HSBC"


def test_a_chinese_desk_and_a_target_named_after_the_level():
    c = one("J.P.摩根策略師預計，標指明年底將升見約7500點。", published=P25)
    assert (c.strategist, c.firm, c.instrument, c.target) == (None, "J.P.摩根", "GSPC", 7500)
    c = one("英偉達股價大漲。美銀喊出了 235 美元的目標價。", published=P25)
    assert (c.instrument, c.kind, c.target, c.firm) == ("NVDA", "close_above", 235, "美銀")


def test_an_unknown_firm_that_has_set_a_target_and_the_one_market_after_the_level():
    c = one("East Asia Bank has set a 12-month target level for the Hang Seng Index at 19500.", published=P25)
    assert (c.firm, c.target, c.deadline) == ("East Asia Bank", 19500, "2026-03-03")
    c = one(
        "TD Cowen's Krish Sankar reaffirmed a Buy rating with a $275 price target, "
        "expecting Apple to report in-line revenue.",
        published=P25,
    )
    assert (c.strategist, c.instrument, c.target) == ("Krish Sankar", "AAPL", 275)


def test_round_4_second_batch_forms():
    # 自 as "from", 原估 as the old estimate
    c = one("野村周三將標普 500 年終目標自 6,550 點上調至 7,000 點。", published=P25)
    assert (c.target, c.superseded_target) == (7000, 6550)
    c = one("至於明年，瑞銀提高年中的標普500指數目標值，由原估的6,500點上修至6,800點。", published=P25)
    assert (c.target, c.superseded_target) == (6800, 6500)
    # a Latin name after a Chinese title
    c = one("摩根大通的首席日本外匯策略師 Junya Tanase 預測，2026 年底美元兌日圓將達到 164。", published=P25)
    assert (c.strategist, c.firm, c.instrument, c.target) == ("Junya Tanase", "摩根大通", "USDJPY", 164)
    # "這位策略師" is the person named before, not a group called 策略師
    found = extract_forecasts(
        "摩根士丹利首席策略師威爾遜表示樂觀。這位策略師預計，到2026年底，標普500指數將交投於7800點左右。",
        published=P25,
    )
    assert [(c.strategist, c.target) for c in found] == [("威爾遜", 7800)]
    # earnings per share is not a price; a year-end level of N is a level, not the current one
    assert extract_forecasts("瑞穗預計英偉達二季度營收為462億美元，每股收益為1.01美元。", published=P25) == []
    c = one("Jane Roe of Acme Securities projected a year-end level of 7,000 for the S&P 500.", published=P25)
    assert (c.instrument, c.target, c.deadline) == ("GSPC", 7000, "2025-12-31")


def test_round_6_forms():
    # a second target after a horizon with a year in it ("mid-2026 and 28,800")
    found = extract_forecasts(
        "Acme Bank expects the Hang Seng Index to climb to 27,500 by mid-2026 and 28,800 by the end of "
        "next year.",
        published=P25,
    )
    assert [(c.target, c.deadline) for c in found] == [(27500, "2026-06-30"), (28800, "2026-12-31")]
    # the S&P 500 as some copy spaces it
    c = one("Jane Roe of Acme Securities sees the S & P 500 at 6,400 by year end.", published=P25)
    assert (c.instrument, c.target) == ("GSPC", 6400)
    # wire copy wrapped at a fixed width: the line break inside the sentence does not end it
    c = one(
        "Acme Securities lowered the target price for Tencent\n(00700) to HKD612 from HKD650 and kept\n"
        "its buy rating.",
        published=P25,
    )
    assert (c.instrument, c.target, c.superseded_target, c.firm) == ("0700.HK", 612, 650, "Acme Securities")
    # a wire timestamp is not a level
    found = extract_forecasts(
        "0815 GMT - Tencent's games pipeline looks strong, Acme Securities analysts say in a note.",
        published=P25,
    )
    assert [c for c in found if c.target is not None] == []
    # two analysts named as one speaker: a forecast for each
    found = extract_forecasts(
        "Acme Securities analysts Mary Major and John Minor say they raise the target price for Tencent "
        "to HK$700 from HK$650.",
        published=P25,
    )
    assert sorted((c.strategist, c.target) for c in found) == [("John Minor", 700), ("Mary Major", 700)]
    # ...but not two firms, and not a pair named elsewhere
    found = extract_forecasts(
        "Donald Duck and Daisy Duck met on Monday. Mary Major of Acme said the S&P 500 could reach 6,500.",
        published=P25,
    )
    assert [(c.strategist, c.firm, c.target) for c in found] == [("Mary Major", "Acme", 6500)]


def test_a_target_price_of_is_not_the_current_price_and_a_revision_of_it_is_not_a_band():
    c = one("Acme Securities says Apple has a target price of $245.", published=P25)
    assert (c.instrument, c.target) == ("AAPL", 245)
    c = one("Acme Securities raised Apple's target price of $245 to $260.", published=P25)
    assert (c.target, c.target_upper, c.superseded_target) == (260, None, 245)
    c = one(
        "Acme Securities sees the S&P 500 trading in a range of 6,000 to 6,500 by year end.", published=P25
    )
    assert (c.kind, c.target, c.target_upper) == ("range", 6000, 6500)


@pytest.mark.parametrize(
    ("text", "strategist", "firm"),
    [
        ("Mary Major of Acme said the S&P 500 could reach 6,500.", "Mary Major", "Acme"),
        (
            "Mary Major, a strategist at Acme Partners, said the S&P 500 could reach 6,500.",
            "Mary Major",
            "Acme Partners",
        ),
        (
            "Mary Major from Zhongtai Futures expects the Hang Seng Index to reach 28,000.",
            "Mary Major",
            "Zhongtai Futures",
        ),
    ],
)
def test_a_person_of_a_firm_the_lists_do_not_know(text, strategist, firm):
    c = one(text, published=P25)
    assert (c.strategist, c.firm) == (strategist, firm)


@pytest.mark.parametrize(
    ("text", "instrument", "target", "firms"),
    [
        # two firms as one speaker: a forecast for each
        (
            "Barclays and Macquarie are the most pessimistic, predicting that gold will fall to $2,500 by "
            "year end.",
            "GC_F",
            2500,
            ["Barclays", "Macquarie"],
        ),
        (
            "Acme Securities said USD/yuan is seen rising to 7.4 by the end of 2025.",
            "USDCNY",
            7.4,
            ["Acme Securities"],
        ),
        # "exchange rate" is not an interest rate; a pair's band after "into"
        (
            "Currency analysts at Deutsche Bank forecast that the Euro to US Dollar exchange rate will reach "
            "1.20 by the end of 2025.",
            "EURUSD",
            1.2,
            ["Deutsche Bank"],
        ),
        ("UBS said: We expect EURUSD to move into the 1.15-1.20 range soon.", "EURUSD", 1.15, ["UBS"]),
        (
            "Citibank said Hong Kong's stock market could surge to as high as 27,000 points by the middle of "
            "next year.",
            "HSI",
            27000,
            ["Citibank"],
        ),
        # "worth" a price is a level; "net worth" is not
        (
            "Morgan Stanley expects the yuan to be worth 7.35 per dollar in mid-2025.",
            "USDCNY",
            7.35,
            ["Morgan Stanley"],
        ),
    ],
)
def test_round_6_pairs_markets_and_joint_firms(text, instrument, target, firms):
    found = [c for c in extract_forecasts(text, published=P25) if c.target is not None]
    assert sorted(c.firm for c in found) == firms
    assert {(c.instrument, c.target) for c in found} == {(instrument, target)}


def test_a_descriptor_before_a_name_is_not_part_of_it():
    c = one("Futurist Joseph Raczynski thinks bitcoin will reach $80k by the end of 2025.", published=P25)
    assert c.strategist == "Joseph Raczynski"
    found = extract_forecasts(
        "The S&P 500 will rise by year end, said Jane Roe of Acme Securities, whose net worth is $8,000.",
        published=P25,
    )
    assert [c.target for c in found if c.target is not None] == []


@pytest.mark.parametrize(
    ("text", "kind", "deadline", "source"),
    [
        # a level at the end of a period is a closing claim (ANNOTATION.md: a year-end level, "sees X by")
        (
            "Jane Roe of Acme Securities said the S&P 500 will rise to 6,300 by the end of the year.",
            "close_above",
            "2025-12-31",
            "implied",
        ),
        (
            "Acme Securities predicts that gold will fall to $2,500 by year end.",
            "close_below",
            "2025-12-31",
            "implied",
        ),
        (
            "Acme Securities expects the Hang Seng Index to touch 28,000 next month.",
            "reach",
            "2025-04-30",
            "implied",
        ),
        # a target named before the level
        (
            "Acme Securities set a target for the Hang Seng Index to reach 31,000 points.",
            "close_above",
            None,
            "none",
        ),
        # "its 2025 HSI target", 年終目標: the horizon is the year's end
        ("Acme Securities raised its 2025 HSI target to 25,500.", "close_above", "2025-12-31", "stated"),
        ("德銀周三將標普500年終目標自6,550點上調至7,000點。", "close_above", "2025-12-31", "implied"),
        ("瑞銀預期恒指明年底可升至30,000點。", "close_above", "2026-12-31", "implied"),
    ],
)
def test_round_6_kinds_and_horizons(text, kind, deadline, source):
    c = one(text, published=P25)
    assert (c.kind, c.deadline, c.deadline_source) == (kind, deadline, source)


def test_a_chinese_firm_only_claim_goes_to_the_person_of_that_firm_named_before():
    found = extract_forecasts(
        "摩根大通首席策略師Jane Roe表示，美股前景樂觀。摩通預計標普500指數明年底將升見7,500點。",
        published=P25,
    )
    assert [(c.strategist, c.firm, c.target) for c in found if c.target] == [("Jane Roe", "摩根大通", 7500)]
    # the same in Simplified copy (firm names are compared after the text's Traditional folding)
    found = extract_forecasts(
        "摩根大通首席策略师Jane Roe表示，美股前景乐观。小摩预计标普500指数明年底将升见7,500点。",
        published=P25,
    )
    assert [(c.strategist, c.target) for c in found if c.target] == [("Jane Roe", 7500)]
    # another firm's claim stays that firm's
    found = extract_forecasts(
        "摩根大通首席策略師Jane Roe表示，美股前景樂觀。高盛預計標普500指數明年底將升見7,200點。",
        published=P25,
    )
    assert [(c.strategist, c.firm, c.target) for c in found if c.target] == [(None, "高盛", 7200)]


def test_strategists_at_a_firm_and_a_year_the_market_ends_at():
    c = one(
        "Strategists at Acme Research now see the S&P 500 ending 2026 at 7,400, up from 7,000.", published=P25
    )
    assert (c.firm, c.strategist, c.target, c.superseded_target, c.deadline, c.deadline_source) == (
        "Acme Research",
        None,
        7400,
        7000,
        "2026-12-31",
        "stated",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a stock's Hong Kong line ("港股目標價") is not the market
        ("高盛將阿里巴巴港股目標價從158港元上調至174港元，維持「買入」評級。", [("9988.HK", 174, None)]),
        # 觸及 ahead (a modal before it) is a level, and a pair's small level after it
        ("華泰證券預計人民幣兌美元2026年底或觸及6.82。", [("USDCNY", 6.82, "2026-12-31")]),
        ("中金劉剛表示，恒指極端樂觀情境有望觸及31000點。", [("HSI", 31000, None)]),
        # firms the lists now know
        ("法興銀行的分析師也預計，到今年年底，黃金價格將達到每盎司6000元。", [("GC_F", 6000, "2025-12-31")]),
        # 今年中 and 年底 paired with the levels, respectively
        (
            "花旗維持對恒指今年中及年底的目標價分別為27,500點及28,800點。",
            [("HSI", 27500, "2025-06-30"), ("HSI", 28800, "2025-12-31")],
        ),
    ],
)
def test_round_6_chinese_forms(text, expected):
    found = [c for c in extract_forecasts(text, published=P25) if c.target is not None]
    assert [(c.instrument, c.target, c.deadline) for c in found] == expected


def test_a_touch_in_the_past_is_still_not_a_claim():
    assert [
        c for c in extract_forecasts("花旗表示，恒指昨日一度觸及26,000點。", published=P25) if c.target
    ] == []


def test_a_percentage_move_of_earnings_or_the_economy_is_not_the_markets():
    for text in (
        "Earnings of Hang Seng Index companies should rise more than 9 per cent next year, Acme said.",
        "Acme Securities said the Hang Seng Index's cloud revenue will grow by 18% next year.",
        "Acme Securities expects Hong Kong's economy to grow 2.8% and the Hang Seng Index to rally.",
    ):
        assert [c for c in extract_forecasts(text, published=P25) if c.kind == "move_pct"] == [], text
    c = one(
        "Acme Securities expects the Hang Seng Index to rise 9 per cent next year on better earnings.",
        published=P25,
    )
    assert (c.kind, c.target) == ("move_pct", 9)


def test_a_list_of_horizons_in_one_phrase():
    # one target for each of several dates
    found = extract_forecasts(
        "Acme Bank has raised its gold price target to US$6,200 per ounce from $5,000 for March, June and "
        "September 2026.",
        published=P25,
    )
    assert [(c.target, c.deadline, c.superseded_target) for c in found] == [
        (6200, "2026-03-31", 5000),
        (6200, "2026-06-30", 5000),
        (6200, "2026-09-30", 5000),
    ]
    found = extract_forecasts(
        "瑞銀將2026年3月、6月和9月的金價目標，從每盎司5000美元上調至6200美元。", published=P25
    )
    assert [c.deadline for c in found] == ["2026-03-31", "2026-06-30", "2026-09-30"]
    # the i-th level with the i-th horizon
    found = extract_forecasts(
        "Acme strategist Jane Roe sees USD/JPY at around 155, 150, and 145 in three, six, and twelve months, "
        "respectively.",
        published=P25,
    )
    assert [(c.target, c.deadline) for c in found] == [
        (155, "2025-06-03"),
        (150, "2025-09-03"),
        (145, "2026-03-03"),
    ]


def test_the_person_just_named_described_by_title():
    found = extract_forecasts(
        "Strategist Jane Roe turned bullish on Monday. The chief strategist at Acme Securities raised her "
        "target for the S&P 500 to 6,600.",
        published=P25,
    )
    assert [(c.strategist, c.firm, c.target) for c in found] == [("Jane Roe", "Acme Securities", 6600)]
    # a title at another firm than the one the person was named with is that firm's
    found = extract_forecasts(
        "Jane Roe of Acme Securities spoke on Monday. The chief strategist at Goldman Sachs expects the S&P "
        "500 to reach 6,500.",
        published=P25,
    )
    assert [(c.strategist, c.firm) for c in found if c.target] == [(None, "Goldman Sachs")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a points move, then the level it ends at
        ("巴克萊把2026年標普500目標提高300點至7,000點。", [(None, "巴克萊", 7000, None)]),
        ("瑞銀預期恒指介乎24,000至26,000點。", [(None, "瑞銀", 24000, 26000)]),
        # two firms as one speaker, in Chinese
        (
            "美銀與摩根大通分析師預測金價有望升至每盎司6000美元。",
            [(None, "摩根大通", 6000, None), (None, "美銀", 6000, None)],
        ),
        # a columnist's bare name; a weekday is not a name
        ("郭思治表示，恒指料將持續強勢，並上望26,000點大關。", [("郭思治", None, 26000, None)]),
    ],
)
def test_round_6_chinese_speakers_and_moves(text, expected):
    found = [c for c in extract_forecasts(text, published=P25) if c.target is not None]
    assert [(c.strategist, c.firm, c.target, c.target_upper) for c in found] == expected


def test_a_weekday_is_not_a_bare_name():
    found = extract_forecasts("高盛周一表示，金價有望升至每盎司6000美元。", published=P25)
    assert [(c.strategist, c.firm) for c in found if c.target] == [(None, "高盛")]


# --- round 7: tables and bank lists ---------------------------------------------------------------


def _rows(found):
    return [
        (c.firm, c.instrument, c.kind, c.target, c.target_upper, c.superseded_target, c.deadline)
        for c in found
        if c.cue == "table row"
    ]


def test_a_poll_table_reads_each_row_under_its_heading():
    text = (
        "The Australian dollar last traded at 0.6650 per US dollar on Friday, and banks have been "
        "revising their calls.\n\n"
        "Some of the forecasts for the euro were revised this week: the euro last traded at 1.0850.\n\n"
        "Below are the banks' views on the euro:\n\n"
        "END-2024 FORECASTS\n\n"
        "BANK NEW OLD\n\n"
        "Barclays 1.12 1.08\n\n"
        "Nomura 1.05 1.10\n\n"
        "Acme Capital 1.00-1.04 1.06\n\n"
        "Markets\n\n"
        "Mizuho 1.09 1.07\n"
    )
    rows = _rows(extract_forecasts(text, published=date(2024, 3, 8)))
    assert rows[:2] == [
        ("Barclays", "EURUSD", "close_above", 1.12, None, 1.08, "2024-12-31"),
        ("Nomura", "EURUSD", "close_below", 1.05, None, 1.10, "2024-12-31"),
    ]
    assert rows[2:] == [
        ("Acme Capital", "EURUSD", "range", 1.00, 1.04, 1.06, "2024-12-31"),  # its name wrapped in the copy
        ("Mizuho", "EURUSD", "close_above", 1.09, None, 1.07, "2024-12-31"),
    ]
    found = extract_forecasts(text, published=date(2024, 3, 8))
    row = next(c for c in found if c.cue == "table row")
    assert (
        row.speaker_evidence == "first column of a table or list" and row.confidence < 0.7
    )  # not pre-ticked


def test_a_bank_list_takes_the_market_the_article_is_about():
    text = (
        "The Hang Seng Index fell 1% on Monday. Strategists still see room for the Hang Seng Index to "
        "rise, while the Hang Seng Tech Index lagged.\n\n"
        "What the banks expect\n\n"
        "• Goldman Sachs: 27,000 (12x forward earnings)\n\n"
        "• UBS: 25,500 (earnings growth of 6%)\n\n"
        "• Acme Securities: 24,000-26,000\n"
    )
    rows = _rows(extract_forecasts(text, published=P25))
    assert rows == [
        ("Goldman Sachs", "HSI", "close_above", 27000, None, None, None),
        ("UBS", "HSI", "close_above", 25500, None, None, None),
        ("Acme Securities", "HSI", "range", 24000, 26000, None, None),
    ]


def test_a_chinese_bank_list_under_a_heading_that_names_the_market():
    text = (
        "恒指昨日收報23,500點。\n\n大行對恒指年底目標：\n\n"
        "高盛：27,000點\n\n摩根士丹利：25,800點\n\n瑞銀：22,000點\n"
    )
    rows = _rows(extract_forecasts(text, published=P25))
    assert [(r[0], r[1], r[2], r[3], r[6]) for r in rows] == [
        ("高盛", "HSI", "close_above", 27000, "2025-12-31"),
        ("摩根士丹利", "HSI", "close_above", 25800, "2025-12-31"),
        ("瑞銀", "HSI", "close_below", 22000, "2025-12-31"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        # prices of stocks, not banks' forecasts: no firm in the first column
        "Hang Seng Index movers\n\nTencent 480.20\n\nMeituan 160.50\n\nAlibaba 110.30\n",
        # one row is not a table
        "The Hang Seng Index closed at 23,000.\n\nTargets\n\n• Goldman Sachs: 27,000\n",
        # percentages are not levels
        "Hang Seng Index earnings growth\n\n• Goldman Sachs: 6%\n\n• UBS: 5.5%\n",
        # levels no reading of the market allows
        "The Hang Seng Index fell.\n\nBanks\n\n• Goldman Sachs: 12\n\n• UBS: 14\n",
    ],
)
def test_what_is_not_a_table_of_forecasts(text):
    assert _rows(extract_forecasts(text, published=P25)) == []


def test_a_bulleted_list_after_a_heading_of_targets_inherits_its_speaker():
    text = (
        "Nomura turned more positive on Chinese equities on Tuesday.\n"
        "The bank has raised its year-end target values for the main indices:\n"
        "- the Hang Seng Index at 27,000 points\n"
        "- the Hang Seng China Enterprises Index at 9,800 points\n"
        "Reasons for optimism\n"
    )
    found = [(c.firm, c.instrument, c.target) for c in extract_forecasts(text, published=P25)]
    assert found == [("Nomura", "HSI", 27000), ("Nomura", "HSCEI", 9800)]


def test_a_broker_rating_table_reads_each_stock_with_its_old_and_new_target():
    text = (
        "Acme研究發表報告，對內銀股H股評級及目標價表列如下:\n"
        "股份 | 投資評級 | 目標價(港元)\n"
        "騰訊(00700.HK) 沽空 $9.57千萬; 比率 7.1% | 買入 | 600元 → 650元\n"
        "美團(03690.HK) 沽空 $2.70千萬; 比率 9.1% | 沽售 | 130元 → 120元\n"
        "某股(09999.HK) | 持有 | 12元\n"
    )
    found = [
        (c.firm, c.instrument, c.kind, c.target, c.superseded_target)
        for c in extract_forecasts("高盛" + text.replace("Acme研究", ""), published=P25)
        if c.cue == "rating table row"
    ]
    assert found == [
        ("高盛", "0700.HK", "close_above", 650, 600),
        ("高盛", "3690.HK", "close_below", 120, 130),
    ]


@pytest.mark.parametrize(
    "text, kept",
    [
        # the same bank's replaced call, in a sentence of its own: not a forecast
        (
            "Nomura raised its Hang Seng Index target to 27,000 points by the end of 2026. "
            "Previously, the bank set a target of 24,500 points by the end of June.",
            [27000],
        ),
        ("野村將恒指明年底目標上調至27,000點。該行此前予恒指的目標為24,500點。", [27000]),
        (
            "Nomura raised its Hang Seng Index target to 27,000 points "
            "(the bank had predicted 24,500 points).",
            [27000],
        ),
        ("野村上調恒指12個月目標至28,000點(原為26,000點)。", [28000]),
        # another firm's earlier call is still that firm's call
        (
            "Nomura sees the Hang Seng Index at 27,000 points by June. "
            "Previously, analysts at UBS had cut their Hang Seng Index target to 24,000 points.",
            [27000, 24000],
        ),
    ],
)
def test_a_call_the_same_bank_has_replaced_is_not_suggested(text, kept):
    assert [c.target for c in extract_forecasts(text, published=P25) if c.target is not None] == kept


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Acme Bank has cut its USD/CNY forecasts to 6.90 in three months, 6.80 in six months and 6.70 "
            "over 12 months.",
            [(6.9, "2025-04-20"), (6.8, "2025-07-20"), (6.7, "2026-01-20")],
        ),
        (
            "Acme Bank expects USD/JPY to reach 155.00, 152.00 and 150.00 by March 2025, June 2025 and "
            "September 2025.",
            [(155.0, "2025-03-31"), (152.0, "2025-06-30"), (150.0, "2025-09-30")],
        ),
    ],
)
def test_round_7_a_level_for_each_horizon(text, expected):
    found = extract_forecasts(text, published=date(2025, 1, 20))
    assert [(c.target, c.deadline) for c in found] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a clause between the speaker and the level: a current-level word does not reach across a comma
        (
            "中泰國際張三表示，疊加估值抬升，恒指目標28,000至29,000點。",
            [("張三", "中泰國際", "HSI", "range", 28000, 29000)],
        ),
        # a second firm's call in the same sentence, with a modal touch ("或觸及" is ahead, not past)
        (
            "美國銀行預測，明年人民幣兌美元匯率將升至6.8，華泰證券則估明年底或觸及6.82。",
            [
                (None, "美國銀行", "USDCNY", "reach", 6.8, None),
                (None, "華泰證券", "USDCNY", "reach", 6.82, None),
            ],
        ),
        # the firm, its 公司, then the person; a subject firm without the words before it
        ("中金公司張三表示，恒指目標28,000點。", [("張三", "中金", "HSI", "close_above", 28000, None)]),
        ("當中以海通國際預測恒指目標28,000點最高。", [(None, "海通國際", "HSI", "close_above", 28000, None)]),
        # 港股和美股目標價: the stock's two listings, not the Hang Seng; the US-dollar one is not HK's
        (
            "中金下調阿里巴巴港股和美股目標價13%至172港元和178美元。",
            [(None, "中金", "9988.HK", "close_above", 172, None)],
        ),
        # a scenario's level, whatever condition the sentence opens with
        (
            "中泰國際張三表示，如果企業盈利強勁增長，樂觀情境下恒指可達34,000點。",
            [("張三", "中泰國際", "HSI", "reach", 34000, None)],
        ),
        # "由之前預測的X點上調至Y-Z點": the new band is kept (the old call is X only; written without
        # thousands separators, as the copy had it, "3225點上調至" is within the old-call pattern's reach)
        (
            "Acme的策略師Jane Roe上調了對標普500指數的年終目標，由之前預測的3225點上調至3600-3800點。",
            [("Jane Roe", None, "GSPC", "range", 3600, 3800)],
        ),
    ],
)
def test_round_8_chinese_clauses_and_second_claims(text, expected):
    found = [c for c in extract_forecasts(text, published=P25) if c.target is not None]
    assert [(c.strategist, c.firm, c.instrument, c.kind, c.target, c.target_upper) for c in found] == expected


@pytest.mark.parametrize(
    ("phrase", "deadline"),
    [
        ("至明年 12 月底的目標", "2026-12-31"),
        ("3月底前", "2026-03-31"),
        ("12月底", "2025-12-31"),
        ("今年6月", "2025-06-30"),
    ],
)
def test_round_8_chinese_month_deadlines(phrase, deadline):
    found = find_deadlines(phrase, published=date(2025, 11, 20))
    assert [d.when.isoformat() for d in found] == [deadline]


def test_the_index_is_the_market_named_before_whose_levels_these_are():
    text = (
        "The S&P 500 and the Dow hit record highs this week. Bullish targets are spreading. "
        "Veteran strategist Jane Roe also sees the index reaching 7,700."
    )
    found = [c for c in extract_forecasts(text, published=P25) if c.target is not None]
    assert [(c.instrument, c.target) for c in found] == [("GSPC", 7700)]


def test_a_currency_pair_carries_to_a_small_level_in_the_next_sentence():
    text = "Acme Bank expects USD/JPY to reach 155 by March. It also set a target of 145.00 for December."
    found = [c for c in extract_forecasts(text, published=P25) if c.target is not None]
    assert [(c.instrument, c.target) for c in found] == [("USDJPY", 155), ("USDJPY", 145)]
    # a count in the next sentence is not a level of the pair
    text = "Acme Bank expects USD/JPY to reach 155 by March. The bank has 145 analysts."
    assert [c.target for c in extract_forecasts(text, published=P25) if c.target] == [155]


def test_a_past_weekday_does_not_make_a_projection_past():
    text = (
        "Acme Bank raised its gold target to $4,200. However, the bank in a note on Thursday projected a "
        "decline to $3,900 by year-end."
    )
    found = [c for c in extract_forecasts(text, published=P25) if c.target is not None]
    assert [(c.firm, c.target, c.deadline) for c in found] == [
        ("Acme Bank", 4200, None),
        ("Acme Bank", 3900, "2025-12-31"),
    ]


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("甲乙銀行首席策略師羅伯特·史密斯預計標普500指數年底達到4,000點。", "羅伯特·史密斯"),
        ("羅伯特·史密斯預計標普500指數年底達到4,000點。", "羅伯特·史密斯"),
        # the firm's person named before: the firm-only call in the next sentence is his
        (
            "摩根士丹利首席美股策略師邁克爾·威爾遜表示，市場將走強。摩根士丹利預計標普500指數明年底見7,800點。",
            "邁克爾·威爾遜",
        ),
    ],
)
def test_a_transcribed_foreign_name_without_the_original(text, who):
    found = [c for c in extract_forecasts(text, published=P25) if c.target is not None]
    assert [c.strategist for c in found] == [who]


@pytest.mark.parametrize(
    ("text", "firm"),
    [
        ("觀察各行預測，現由高盛證券以27,800點居冠。恒指目標27,800點。", "高盛證券"),
        ("摩根士丹利基本預測恒指為27,500點。", "摩根士丹利"),
        ("花旗又預計金價將升至每盎司4,000美元。", "花旗"),
    ],
)
def test_the_words_a_chinese_subject_firm_is_taken_with_are_not_the_firm(text, firm):
    found = [c for c in extract_forecasts(text, published=P25) if c.target is not None]
    assert found and {c.firm for c in found} == {firm}


def test_a_subject_that_is_no_firm_leaves_the_speaker_before():
    text = "中泰國際張三表示，金價前景向好。根據模型預測，金價年中可達到每盎司3,100美元。"
    found = [c for c in extract_forecasts(text, published=P25) if c.target is not None]
    assert [(c.strategist, c.target) for c in found] == [("張三", 3100)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 人民幣 with a yuan-per-dollar level after it is the pair; an amount in 人民幣 is not
        ("中泰國際張三認為人民幣中期料升至6.95。", [("USDCNY", 6.95)]),
        ("中泰國際張三表示，小米投入逾600億人民幣，股價料升至50元。", []),
        ("中泰國際張三預期，離岸人民幣兌美元或可升值至兌6.85。", [("USDCNY", 6.85)]),
        # the Nikkei Stock Average in yen: 平均 is its name, 日圓 its unit
        ("野村證券預計2026年底日經平均指數將達到60,000日圓。", [("N225", 60000)]),
    ],
)
def test_round_8_the_yuan_and_the_nikkei_in_yen(text, expected):
    found = [c for c in extract_forecasts(text, published=P25) if c.target is not None]
    assert [(c.instrument, c.target) for c in found] == expected
