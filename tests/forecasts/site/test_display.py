"""What readers see: instrument and market names in their language, aliases, "chance by luck", numbers.

Issue 14: names instead of tickers (Hang Seng Index / 恒生指數 / 恒生指数, never GC_F), aliases seeded so
search and the API understand 恒指 and 恒生指数, the stored `difficulty` said the right way round, and
figures without "-0.00" or long floats.
"""

import importlib
import re

import pytest
from django.apps import apps
from django.core.cache import cache
from django.utils import translation

from forecasts.models import Alias, Forecast
from forecasts.services.aliases import INSTRUMENT_ALIASES, seed_instrument_aliases
from forecasts.site.presentation import short_claim, status_detail
from forecasts.templatetags import hindsight
from marketdata.models import Instrument
from marketdata.names import instrument_name, instrument_names, market_name
from marketdata.services import get_or_create_instrument

LANGUAGES = ("en", "zh-hant", "zh-hans")
PREFIX = {"en": "", "zh-hant": "/zh-hant", "zh-hans": "/zh-hans"}


@pytest.fixture(autouse=True)
def _fresh_page_cache():
    """Pages are cached whole per URL, and a request leaves its language active in the thread: leave
    neither behind for the next tests."""
    cache.clear()
    translation.activate("en")
    yield
    cache.clear()
    translation.activate("en")


MINUS_ZERO = re.compile(r"[-−]0(?:\.0+)?(?![.\d])(?!%)|[-−]0(?:\.0+)?%")  # -0, -0.00, -0%, never -0.004


# --- number filters (unit) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (22620.33, "22,620.33"),
        (26800.0, "26,800"),
        (1234567.891, "1,234,567.89"),
        (0.5, "0.50"),
        (-0.001, "0"),
        (-0.0, "0"),
        (None, "—"),
        ("", "—"),
    ],
)
def test_price(value, expected):
    assert hindsight.price(value) == expected


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (0.4234, 2, "+0.42"),
        (-0.1, 2, "-0.10"),
        (-0.001, 2, "+0.00"),
        (-0.0, 2, "+0.00"),
        (0.004, 2, "+0.00"),
        (-0.004, 2, "+0.00"),
        (-0.006, 2, "-0.01"),
        (12.3456, 1, "+12.3"),
        (None, 2, "—"),
    ],
)
def test_signed_never_shows_minus_zero(value, digits, expected):
    assert hindsight.signed(value, digits) == expected


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (0.1234, 0, "12%"),
        (0.1234, 1, "12.3%"),
        (-0.00001, 0, "0%"),
        (-0.0004, 1, "0.0%"),
        (1.0, 0, "100%"),
        (None, 0, "—"),
    ],
)
def test_pct(value, digits, expected):
    assert hindsight.pct(value, digits) == expected


def test_decimal_and_boldness():
    assert hindsight.decimal(1.23456) == "1.23"
    assert hindsight.decimal(-0.001) == "0.00"
    assert hindsight.decimal(None) == "—"
    # Boldness is 1 − the chance by luck: an easy call (89% by luck) is 11% bold.
    assert hindsight.boldness(0.89) == "11%"
    assert hindsight.boldness(0.1, 1) == "90.0%"
    assert hindsight.boldness(None) == "—"


# --- names ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("symbol", "names"),
    [
        ("HSI", ("Hang Seng Index", "恒生指數", "恒生指数")),
        ("HSCEI", ("Hang Seng China Enterprises Index", "恒生中國企業指數", "恒生中国企业指数")),
        ("GSPC", ("S&P 500", "標普500", "标普500")),
        ("BTC-USD", ("Bitcoin", "比特幣", "比特币")),
        ("GC_F", ("Gold (COMEX futures)", "黃金期貨", "黄金期货")),
    ],
)
def test_instrument_names_in_each_language(symbol, names):
    instrument = get_or_create_instrument(symbol)[0]
    assert instrument_names(instrument) == dict(zip(LANGUAGES, names, strict=True))
    for language, name in zip(LANGUAGES, names, strict=True):
        with translation.override(language):
            assert instrument_name(instrument) == name
            assert hindsight.instrument_name(instrument) == name


@pytest.mark.django_db
def test_a_simplified_name_of_its_own_wins_and_an_unknown_ticker_shows_itself():
    hsi = get_or_create_instrument("HSI")[0]
    hsi.name_zh_hans = "恒生指数（香港）"
    assert instrument_name(hsi, "zh-hans") == "恒生指数（香港）"
    assert instrument_name(hsi, "zh-hant") == "恒生指數"
    odd = get_or_create_instrument("ZZZZ")[0]  # not in the catalog: no names yet
    assert {instrument_name(odd, lang) for lang in LANGUAGES} == {"ZZZZ"}


def test_market_names():
    assert [market_name("XHKG", lang) for lang in LANGUAGES] == ["Hong Kong", "香港", "香港"]
    assert market_name("XNYS", "zh-hans") == "美国"
    assert market_name("NOPE", "zh-hant") == "NOPE"


@pytest.mark.django_db
def test_claims_name_the_instrument_not_its_ticker():
    from tests.factories import make_forecast

    gold = get_or_create_instrument("GC_F")[0]
    f = make_forecast(instrument=gold, target=4100.0)
    assert short_claim(f).startswith("Gold (COMEX futures) ")
    with translation.override("zh-hant"):
        assert "GC_F" not in short_claim(f)


# --- void said once -------------------------------------------------------------------------------------


def test_void_is_said_once():
    note = "void: no trading session between made_at and the deadline 2025-03-01"
    f = Forecast(status="void", status_note=note, void_reason=note)
    with translation.override("en"):
        detail = status_detail(f)
    assert detail == "No trading session between made_at and the deadline 2025-03-01"
    assert f"{hindsight.status_label(f)} — {hindsight.status_detail(f)}".lower().count("void") == 1
    editor = Forecast(status="void", status_note="", void_reason="Misquote: the article says 2,320")
    assert hindsight.status_detail(editor) == "Misquote: the article says 2,320"
    assert status_detail(Forecast(status="void", void_reason="void")) == ""
    with translation.override("zh-hant"):
        shown = f"{hindsight.status_label(f)} — {hindsight.status_detail(f)}"
        assert shown.count("無效") + shown.count("作廢") == 1, shown
    # The same for any status whose note starts with its own name.
    pending = Forecast(status="pending", status_note="pending: decided at the close of 2026-12-04")
    assert hindsight.status_detail(pending) == "Decided at the close of 2026-12-04"


# --- aliases --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bundled_instrument_gets_its_aliases_and_seeding_is_idempotent():
    hsi = get_or_create_instrument("HSI")[0]
    names = set(hsi.aliases.values_list("name", flat=True))
    assert {"恒生", "恒指", "恒生指數", "恒生指数", "Hang Seng", "HSI"} <= names
    assert seed_instrument_aliases(hsi) == 0
    assert hsi.aliases.count() == len(INSTRUMENT_ALIASES["HSI"])


@pytest.mark.django_db
def test_the_alias_migration_is_idempotent_and_reversible():
    migration = importlib.import_module("forecasts.migrations.0008_seed_instrument_aliases")
    hsi = Instrument.objects.create(symbol="HSI", name="Hang Seng Index", calendar_code="XHKG")
    Alias.objects.filter(instrument=hsi).delete()  # as before the migration ran
    Alias.objects.create(target="instrument", name="大市", instrument=hsi)  # an editor's own alias
    migration.seed(apps, None)
    count = Alias.objects.filter(instrument=hsi).count()
    assert count == len(migration.ALIASES["HSI"]) + 1
    migration.seed(apps, None)
    assert Alias.objects.filter(instrument=hsi).count() == count
    migration.unseed(apps, None)
    assert list(Alias.objects.filter(instrument=hsi).values_list("name", flat=True)) == ["大市"]


@pytest.mark.django_db
def test_names_migration_fills_the_bundled_names_and_keeps_an_editors():
    migration = importlib.import_module("marketdata.migrations.0004_instrument_display_names")
    gold = Instrument.objects.create(symbol="GC_F", name="Gold futures (front month)", calendar_code="CMES")
    hsi = Instrument.objects.create(symbol="HSI", name="HSI (edited)", calendar_code="XHKG")
    migration.fill_names(apps, None)
    gold.refresh_from_db()
    hsi.refresh_from_db()
    assert (gold.name, gold.name_zh_hant) == ("Gold (COMEX futures)", "黃金期貨")
    assert (hsi.name, hsi.name_zh_hant) == ("HSI (edited)", "恒生指數")
    migration.restore_names(apps, None)
    gold.refresh_from_db()
    assert gold.name == "Gold futures (front month)"


@pytest.mark.django_db
@pytest.mark.parametrize("q", ["恒生", "恒指", "恒生指數", "恒生指数", "Hang Seng", "hsi"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_search_finds_the_index_by_any_of_its_names(client, demo, q, language):
    response = client.get(f"{PREFIX[language]}/search/", {"q": q})
    html = response.content.decode()
    assert f'href="{PREFIX[language]}/instruments/HSI/"' in html
    expected = {"en": "Hang Seng Index", "zh-hant": "恒生指數", "zh-hans": "恒生指数"}[language]
    assert expected in html


@pytest.mark.django_db
@pytest.mark.parametrize("alias", ["恒指", "恒生指数", "Hang Seng", "hsi"])
def test_the_api_takes_an_alias_wherever_it_takes_an_instrument(client, demo, alias):
    by_symbol = client.get("/api/forecasts/", {"instrument": "HSI"}).json()
    by_alias = client.get("/api/forecasts/", {"instrument": alias}).json()
    assert by_alias["count"] == by_symbol["count"] > 0
    assert {f["instrument"] for f in by_alias["results"]} == {"HSI"}
    assert client.get(f"/api/instruments/{alias}/").json()["symbol"] == "HSI"
    board = client.get("/api/leaderboard/", {"instrument": alias}).json()
    assert board == client.get("/api/leaderboard/", {"instrument": "HSI"}).json()
    found = client.get("/api/instruments/", {"search": alias}).json()
    rows = found["results"] if isinstance(found, dict) else found
    assert "HSI" in [r["symbol"] for r in rows]


@pytest.mark.django_db
def test_the_api_keeps_symbols_and_adds_names(client, demo):
    hsi = client.get("/api/instruments/HSI/").json()
    assert hsi["symbol"] == "HSI" and hsi["name"] == "Hang Seng Index"
    assert hsi["names"] == {"en": "Hang Seng Index", "zh-hant": "恒生指數", "zh-hans": "恒生指数"}
    f = client.get("/api/forecasts/", {"instrument": "GC_F"}).json()["results"][0]
    assert f["instrument"] == "GC_F" and f["instrument_name"] == "Gold (COMEX futures)"
    assert client.get("/api/instruments/NOPE/").status_code == 404


# --- pages ----------------------------------------------------------------------------------------------


def _visible_text(html: str) -> str:
    """The page as read: no scripts, no tags (so no URLs or attributes)."""
    html = re.sub(r"<script.*?</script>|<svg.*?</svg>|<style.*?</style>", " ", html, flags=re.S)
    html = re.sub(r"<small class=\"muted symbol\">.*?</small>", " ", html)  # the ticker as a small label
    return re.sub(r"<[^>]+>", " ", html)


def _pages(demo_forecast: Forecast) -> list[str]:
    gold = Forecast.objects.filter(instrument__symbol="GC_F").first()
    strategist = gold.strategist if gold else demo_forecast.strategist
    return [
        "/",
        "/leaderboard/",
        "/leaderboard/?market=XHKG",
        "/firms/",
        f"/firms/{demo_forecast.firm.slug}/",
        f"/strategists/{strategist.slug}/",
        f"/strategists/{demo_forecast.strategist.slug}/",
        f"/forecasts/{demo_forecast.pk}/",
        *([f"/forecasts/{gold.pk}/", "/instruments/GC_F/"] if gold else []),
        "/instruments/HSI/",
        "/instruments/GSPC/",
        f"/sources/{demo_forecast.source_id}/",
        "/methodology/",
        "/search/?q=hs",
    ]


@pytest.fixture
def seed(demo):
    return Forecast.objects.select_related("strategist", "firm", "instrument").get(
        strategist__slug="alvin-ngan"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_shows_a_ticker_minus_zero_or_a_long_float(client, seed, language):
    cache.clear()
    for path in _pages(seed):
        response = client.get(PREFIX[language] + path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert not MINUS_ZERO.search(html), (path, MINUS_ZERO.search(html))
        figures = re.sub(r'datetime="[^"]*"', "", html)  # ISO times are not figures
        assert not re.search(r"\d\.\d{5,}", figures), (path, re.search(r".{40}\d\.\d{5,}.{10}", figures))
        text = _visible_text(html)
        for ticker in ("GC_F", "GSPC", "BTC-USD"):
            assert not re.search(rf"(?<![\w/]){re.escape(ticker)}(?![\w])", text), (path, ticker)
        assert not re.search(r"(?i)difficulty\s+\d", text), path  # said as "chance by luck"


@pytest.mark.django_db
def test_leaderboard_market_filter_names_markets(client, seed):
    english = client.get("/leaderboard/").content.decode()
    assert '<option value="XHKG">Hong Kong</option>' in english
    chinese = client.get("/zh-hant/leaderboard/").content.decode()
    assert '<option value="XHKG">香港</option>' in chinese
    assert ">恒生指數</option>" in chinese and ">GC_F" not in chinese


@pytest.mark.django_db
def test_forecast_page_in_chinese_names_the_index(client, seed):
    html = client.get(f"/zh-hant/forecasts/{seed.pk}/").content.decode()
    assert "恒生指數" in html
    assert "22,620.33" in html  # the baseline, with its thousands separator
    simplified = client.get(f"/zh-hans/forecasts/{seed.pk}/").content.decode()
    assert "恒生指数" in simplified


@pytest.mark.django_db
def test_chance_by_luck_chart_caption_matches_its_axis(client, seed):
    html = client.get(f"/strategists/{seed.strategist.slug}/").content.decode()
    assert 'data-x-label="chance by luck (left: bold, right: safe)"' in html
    assert "left = a bold call" in html and "Hits on the left are the impressive ones" in html
    assert "Difficulty against outcome" not in html


@pytest.mark.django_db
def test_admin_lists_and_change_pages_show_figures_not_long_floats(client, seed, django_user_model):
    from marketdata.models import PriceBar

    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    Forecast.all_objects.filter(pk=seed.pk).update(difficulty=0.10000000000000009, skill=-0.0000001)
    bar = PriceBar.objects.filter(instrument=seed.instrument).first()
    PriceBar.objects.filter(pk=bar.pk).update(close=22576.980468750004)
    for url in (
        "/admin/forecasts/forecast/",
        f"/admin/forecasts/forecast/{seed.pk}/change/",
        f"/admin/marketdata/pricebar/?instrument__id__exact={seed.instrument_id}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = re.sub(r'datetime="[^"]*"|value="[^"]*"', "", response.content.decode())
        assert not re.search(r"\d\.\d{5,}", html), (url, re.search(r".{60}\d\.\d{5,}.{10}", html))
        assert not MINUS_ZERO.search(_visible_text(html)), url
    change = client.get(f"/admin/forecasts/forecast/{seed.pk}/change/").content.decode()
    assert "chance by luck" in change.lower() and "10.0%" in change


@pytest.mark.django_db
def test_feed_names_instruments_and_says_void_once(client, seed):
    feed = client.get("/feeds/resolutions/").content.decode()
    assert " on Hang Seng Index</title>" in feed and " on HSI</title>" not in feed
    assert not re.search(r"(?i)void:\s*void:", feed)
    chinese = client.get("/zh-hant/feeds/resolutions/")
    if chinese.status_code == 200:  # the feed in Chinese, where the URL has a language prefix
        assert "恒生指數" in chinese.content.decode()


@pytest.mark.django_db
def test_track_record_csv_names_the_instrument_and_keeps_its_symbol(client, seed):
    import csv
    import io

    response = client.get(f"/api/strategists/{seed.strategist.slug}/track-record/?format=csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {r["instrument"] for r in rows} == {"HSI"}
    assert {r["instrument_name"] for r in rows} == {"Hang Seng Index"}
    assert all(r["claim"].startswith("Hang Seng Index ") for r in rows)
