"""Public site pages on the demo data: content, filters, cache headers and query counts.

Query counts are bounded per page and shown to be constant in the number of forecasts: each page is measured,
then more forecasts (with sources, histories and a second strategist) are added to the same strategist,
firm, instrument and source, and the page must issue exactly as many queries again.
"""

import csv
import io
import re
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date

from forecasts.models import Forecast, Source
from forecasts.selectors import pages
from tests.factories import SourceFactory, StrategistFactory, make_forecast

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed(demo):
    return Forecast.objects.select_related("strategist", "firm", "instrument", "source").get(
        strategist__slug="alvin-ngan"
    )


def page_urls(seed) -> dict[str, str]:
    return {
        "home": "/",
        "leaderboard": "/leaderboard/",
        "leaderboard-filtered": "/leaderboard/?market=XHKG&kind=reach&sort=-hits",
        "firms": "/firms/",
        "firm": f"/firms/{seed.firm.slug}/",
        "strategist": f"/strategists/{seed.strategist.slug}/",
        "forecast": f"/forecasts/{seed.pk}/",
        "instrument": f"/instruments/{seed.instrument.symbol}/",
        "source": f"/sources/{seed.source_id}/",
        "methodology": "/methodology/",
        "search": "/search/?q=hs",
        "feed": "/feeds/resolutions/",
    }


# The most queries each page may issue (including the one Last-Modified query).
QUERY_BOUNDS = {
    "home": 6,
    "leaderboard": 6,  # the board: its counts, a page of the ranked, the top of the unranked (any size)
    "leaderboard-filtered": 5,
    "firms": 6,
    "firm": 6,
    "strategist": 5,
    "forecast": 4,
    "instrument": 6,  # + the open calls' authors' records (what strategists expect now)
    "source": 3,
    "methodology": 0,
    "search": 5,
    "feed": 2,  # the decisions, and the last ledger entry for the signed head
}


def _count(client, url: str) -> int:
    """Queries for one uncached request (leaderboards are cached per data version)."""
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _add_forecasts(seed, n: int = 6) -> None:
    """More forecasts on the seed's strategist, firm, instrument and source, plus another strategist."""
    other = StrategistFactory(firm=seed.firm)
    mine = []
    for i in range(n):
        source = seed.source if i % 2 else SourceFactory(publication=f"Extra {i}")
        f = make_forecast(
            strategist=seed.strategist if i % 3 else other,
            source=source,
            instrument=seed.instrument,
            target=24000.0 + 100 * i,
            quote=f"HSI to {24000 + 100 * i} (extra {i})",
        )
        if f.strategist_id == seed.strategist_id:
            mine.append(f)
        # Resolve some of them so every list (resolved, upcoming, charts) grows.
        if i % 2:
            Forecast.all_objects.filter(pk=f.pk).update(
                status="hit", resolved_on=seed.resolved_on + timedelta(days=i), difficulty=0.4, skill=0.6
            )
    # Revisions: a chain from the seed (its page links to the revision; the strategist's lists the chain).
    Forecast.all_objects.filter(pk=mine[0].pk).update(supersedes=seed)
    Forecast.all_objects.filter(pk=mine[1].pk).update(supersedes=mine[0])


@pytest.mark.parametrize("name", list(QUERY_BOUNDS))
def test_every_page_loads_within_its_query_bound(client, seed, name, django_assert_max_num_queries):
    url = page_urls(seed)[name]
    with django_assert_max_num_queries(QUERY_BOUNDS[name]):
        response = client.get(url)
    assert response.status_code == 200


def test_query_counts_do_not_grow_with_the_number_of_forecasts(client, seed):
    urls = page_urls(seed)
    before = {name: _count(client, url) for name, url in urls.items()}
    _add_forecasts(seed)
    assert Forecast.objects.filter(strategist=seed.strategist).count() >= 5
    after = {name: _count(client, url) for name, url in urls.items()}
    assert after == before


def _forecast_links(html: str) -> list[str]:
    return re.findall(r'<p class="fi-head">.*?<a href="(/forecasts/\d+/)"', html, re.S)


def _revise(earlier: Forecast, target: float, days: int, **kwargs) -> Forecast:
    """The same strategist's later call on the same instrument, linked to the one it revises."""
    return make_forecast(
        strategist=earlier.strategist,
        instrument=earlier.instrument,
        source=SourceFactory(publication="Revision desk"),
        target=target,
        made_at=earlier.made_at + timedelta(days=days),
        deadline=earlier.deadline,
        deadline_source="stated",
        supersedes=earlier,
        quote=f"raised its target to {target:,.0f}",
        **kwargs,
    )


def test_revisions_on_the_strategist_and_forecast_pages(client, seed):
    first = _revise(seed, 23800, days=3)
    second = _revise(first, 24400, days=9)
    html = client.get(f"/strategists/{seed.strategist.slug}/").content.decode()
    (chain,) = re.findall(r'<ul class="revision-chains">(.*?)</ul>', html, re.S)
    links = re.findall(r'<a href="/forecasts/(\d+)/">([^<]+)</a> \(<time[^>]*>([\d-]+)</time>\)', chain)
    assert [int(pk) for pk, _, _ in links] == [seed.pk, first.pk, second.pk]
    assert [label for _, label, _ in links] == [f"{seed.target:,.0f}", "23,800", "24,400"]
    assert links[0][2] == f"{seed.made_at:%Y-%m-%d}" and "revised from" in chain and " → " in chain
    calls = Forecast.objects.filter(strategist=seed.strategist).count()
    days = sorted(
        [(seed.deadline - first.made_at.date()).days, (first.deadline - second.made_at.date()).days]
    )
    median = round(sum(days) / 2)
    marker = re.search(r'<p class="revised-marker">(.*?)</p>', html, re.S).group(1)
    assert f"Revised 2 of {calls} calls, median {median} days before the deadline." in " ".join(
        marker.split()
    )
    # Each forecast page links to the call it revises and the one revising it.
    page = client.get(f"/forecasts/{first.pk}/").content.decode()
    assert (
        f'href="/forecasts/{seed.pk}/" rel="prev"' in page
        and f'href="/forecasts/{second.pk}/" rel="next"' in page
    )
    assert "23,800" in page and "Revises the strategist" in page and "Revised later:" in page
    page = client.get(f"/forecasts/{seed.pk}/").content.decode()
    assert f'href="/forecasts/{first.pk}/" rel="next"' in page and 'rel="prev"' not in page


def test_a_draft_revision_stays_hidden(client, seed):
    draft = _revise(seed, 23800, days=3, publish=False)
    page = client.get(f"/forecasts/{seed.pk}/").content.decode()
    assert f"/forecasts/{draft.pk}/" not in page and "Revised later:" not in page
    assert 'class="revisions"' not in client.get(f"/strategists/{seed.strategist.slug}/").content.decode()
    assert client.get(f"/api/forecasts/{seed.pk}/").json()["superseded_by"] is None


def test_the_api_forecast_detail_names_its_revisions(client, seed):
    first = _revise(seed, 23800, days=3)
    second = _revise(first, 24400, days=9)
    body = {pk: client.get(f"/api/forecasts/{pk}/").json() for pk in (seed.pk, first.pk, second.pk)}
    assert (body[seed.pk]["supersedes"], body[seed.pk]["superseded_by"]) == (None, first.pk)
    assert (body[first.pk]["supersedes"], body[first.pk]["superseded_by"]) == (seed.pk, second.pk)
    assert (body[second.pk]["supersedes"], body[second.pk]["superseded_by"]) == (first.pk, None)
    # Both stay on record: the list has every call.
    listed = {f["id"] for f in client.get("/api/forecasts/", {"limit": 500}).json()["results"]}
    assert {seed.pk, first.pk, second.pk} <= listed


def test_home_shows_board_top_and_lists(client, demo):
    html = client.get("/").content.decode()
    assert "Who is worth listening to?" in html
    assert "Top of the leaderboard" in html and "Recently resolved" in html
    assert "Upcoming deadlines" in html and "Newest quotes" in html
    assert 'href="/leaderboard/"' in html
    # "Recently resolved": the six latest decided (hit or miss) forecasts, newest decision first.
    latest = Forecast.objects.filter(status__in=["hit", "miss"]).order_by("-resolved_on", "-pk")[:6]
    section = html[html.index("Recently resolved") : html.index("Upcoming deadlines")]
    assert _forecast_links(section) == [f"/forecasts/{f.pk}/" for f in latest]


def test_leaderboard_says_how_it_ranks(client, demo):
    html = client.get("/leaderboard/").content.decode()
    assert "Ranked by the" in html and "lower bound of mean skill" in html
    assert "Alvin Ngan" in html and "Not yet ranked" in html
    assert "Wilson interval" in html


def test_leaderboard_filters_change_the_results(client, demo):
    everyone = client.get("/leaderboard/").content.decode()
    hk = client.get("/leaderboard/?market=XHKG").content.decode()
    assert "Geoff Kendrick" in everyone and "Geoff Kendrick" not in hk  # bitcoin only
    assert "Alvin Ngan" in hk
    btc = client.get("/leaderboard/?instrument=BTC-USD").content.decode()
    assert "Geoff Kendrick" in btc and "Alvin Ngan" not in btc
    later = client.get("/leaderboard/?made_from=2025-01-01").content.decode()
    assert "Tom Lee" not in later and "Alvin Ngan" in later
    closes = client.get("/leaderboard/?kind=close_above").content.decode()
    assert "Dan Ives" not in closes
    # A bad value is reported, not a crash; nothing is filtered.
    bad = client.get("/leaderboard/?made_from=yesterday")
    assert bad.status_code == 200 and "Tom Lee" in bad.content.decode()
    assert 'role="alert"' in bad.content.decode()


def test_leaderboard_filter_fields_have_labels(client, demo):
    html = client.get("/leaderboard/").content.decode()
    for name in ("market", "instrument", "firm", "kind", "made_from", "made_to"):
        assert f'<label for="id_{name}">' in html


def test_leaderboard_sorts_by_a_column(client, demo):
    html = client.get("/leaderboard/?sort=name").content.decode()
    assert 'aria-sort="ascending"' in html
    unranked = html[html.index("Not yet ranked") :]
    names = ["Alvin Ngan", "Laura Wang", "Yoni Assia"]
    positions = [unranked.index(n) for n in names]
    assert positions == sorted(positions)
    desc = client.get("/leaderboard/?sort=-name").content.decode()
    unranked = desc[desc.index("Not yet ranked") :]
    assert unranked.index("Yoni Assia") < unranked.index("Alvin Ngan")


def test_firm_leaderboard_and_firm_page(client, seed):
    html = client.get("/firms/").content.decode()
    assert "Firm leaderboard" in html and seed.firm.name in html
    page = client.get(f"/firms/{seed.firm.slug}/").content.decode()
    assert "Alvin Ngan" in page and "23,200" in page
    assert client.get("/firms/nope/").status_code == 404


def test_strategist_page_has_charts_history_and_csv_link(client, demo):
    response = client.get("/strategists/geoff-kendrick/")
    html = response.content.decode()
    assert html.count('class="badge badge-') >= 3
    assert "cryptonewsdesk.com" in html
    assert 'id="skill-data"' in html and 'id="difficulty-data"' in html
    assert "track-record.csv" in html
    assert "History (" in html  # revisions from ForecastEvent
    skill = response.context["skill_chart"]
    assert len(skill) == 3 and [p["x"] for p in skill] == sorted(p["x"] for p in skill)
    assert len(response.context["difficulty_chart"]) == 3


def test_forecast_page_chart_payload(client, seed):
    response = client.get(f"/forecasts/{seed.pk}/")
    html = response.content.decode()
    claim = "Hang Seng Index closes at or above 23,200 on any trading day from 17 Feb 2025 to 14 Feb 2026"
    assert claim in html
    assert "no deadline was stated, so the 12-month default applies" in html
    chart = response.context["chart"]
    assert chart["targets"] == [23200.0]
    assert chart["baseline"] == 22620.33 and chart["resolved_on"] == "2025-02-21"
    assert chart["deadline"] == "2026-02-14"
    dates = [p[0] for p in chart["prices"]]
    assert "2025-02-21" in dates and dates[0] < "2025-02-14" and dates[-1] > "2026-02-14"
    assert len(chart["prices"]) <= 420  # downsampled
    assert "Chance by luck" in html and "random" in html


def test_instrument_page(client, seed):
    response = client.get("/instruments/HSI/")
    html = response.content.decode()
    assert response.status_code == 200 and "Hang Seng Index" in html
    chart = response.context["chart"]
    hsi = Forecast.objects.filter(instrument__symbol="HSI")
    assert len(chart["targets"]) == sum(2 if f.kind == "range" else 1 for f in hsi)
    assert 0 < len(chart["prices"]) <= 420
    # "What strategists expect now": exactly the open calls on the HSI (pending, deadline not passed).
    today = timezone.now().date()
    pending = Forecast.objects.filter(instrument__symbol="HSI", status="pending", deadline__gte=today)
    assert pending.exists() and "No open call on this market now." not in html
    section = html[html.index('id="open-calls"') :].split("</table>", 1)[0]
    links = re.findall(r'<td><a href="(/forecasts/\d+/)"', section)
    assert sorted(links) == sorted(f"/forecasts/{f.pk}/" for f in pending)
    assert client.get("/instruments/NOPE/").status_code == 404


def test_an_instrument_page_lists_its_forecasts_a_hundred_at_a_time(
    client, seed, monkeypatch, django_assert_max_num_queries
):
    from forecasts.site import views

    monkeypatch.setattr(views, "INSTRUMENT_PAGE_SIZE", 3)
    on_hsi = list(Forecast.objects.filter(instrument__symbol="HSI").order_by("-made_at", "-pk"))
    assert len(on_hsi) > 3
    first = client.get("/instruments/HSI/")
    listed = [f.pk for f in first.context["forecasts"]]
    assert listed == [f.pk for f in on_hsi[:3]]  # newest first
    assert 'rel="next"' in first.content.decode()
    with django_assert_max_num_queries(QUERY_BOUNDS["instrument"]):
        second = client.get("/instruments/HSI/?page=2")
    assert [f.pk for f in second.context["forecasts"]] == [f.pk for f in on_hsi[3:6]]
    # The chart and the open calls still cover every forecast, whatever the page.
    assert second.context["chart"]["targets"] == first.context["chart"]["targets"]
    last = second.context["page"].paginator.num_pages
    assert client.get("/instruments/HSI/?page=999").context["page"].number == last


def test_source_page_lists_its_forecasts(client, seed):
    html = client.get(f"/sources/{seed.source_id}/").content.decode()
    assert seed.source.url in html and "Alvin Ngan" in html
    assert client.get("/sources/999999/").status_code == 404


def test_a_source_page_shows_article_text_only_and_says_when_none_was_kept(client, seed):
    # The demo keeps quotes, not article texts: the seed's page says so and shows no notes of ours.
    html = client.get(f"/sources/{seed.source_id}/").content.decode()
    assert seed.source.article_text == ""
    assert "The text of this article was not kept" in html and "STATUS:" not in html
    Source.objects.filter(pk=seed.source_id).update(article_text="Hong Kong stocks rallied on Friday.")
    html = client.get(f"/sources/{seed.source_id}/").content.decode()
    assert "The article's text, as recorded" in html and "Hong Kong stocks rallied on Friday." in html
    assert "was not kept" not in html


def test_source_with_only_drafts_is_not_public(client, demo):
    source = SourceFactory()
    assert client.get(f"/sources/{source.pk}/").status_code == 404
    assert Source.objects.filter(pk=source.pk).exists()


def test_methodology_page(client, demo):
    html = client.get("/methodology/").content.decode()
    assert "lower end" in html and "Wilson" in html and "A gap in the data never becomes a miss" in html


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("kendrick", "Geoff Kendrick"),
        ("zhongtai", "Zhongtai"),
        ("hang seng", "HSI"),
        ("23,200", "Alvin Ngan"),
    ],
)
def test_search_finds_strategists_firms_instruments_and_quotes(client, demo, q, expected):
    html = client.get("/search/", {"q": q}).content.decode()
    assert expected in html


def test_search_short_query_is_empty(client, demo):
    response = client.get("/search/?q=a")
    assert response.status_code == 200 and response.context["count"] == 0


def test_feed_of_resolutions(client, demo):
    response = client.get("/feeds/resolutions/")
    assert response["Content-Type"].startswith("application/atom+xml")
    body = response.content.decode()
    # First the signed ledger head (tests/forecasts/test_ledger_head.py), then the 50 latest decisions,
    # newest first.
    decided = Forecast.objects.filter(status__in=["hit", "miss", "void"], scored_at__isnull=False)
    latest = list(decided.order_by("-scored_at", "-resolved_on", "-pk")[:50])
    assert len(latest) == min(decided.count(), 50) > 0
    assert body.count("<entry>") == len(latest) + 1
    assert body.index("<title>Ledger head #") < body.index("<entry>", body.index("<entry>") + 1)
    guids = re.findall(r"<id>tag:testserver,2025-01-01:forecast/(\d+)/", body)
    assert [int(pk) for pk in guids] == [f.pk for f in latest]
    assert latest[0].strategist.name in body


TAG_URI = re.compile(r"^tag:[a-z0-9.-]+,\d{4}(-\d{2}(-\d{2})?)?:[\w.~!$&'()*+,;=:@/?%-]+$")


def test_feed_entry_ids_are_stable_tag_uris(client, demo):
    """RFC 4151 tag: URIs with the site's domain (no port) and a fixed date; the same on every request."""
    from urllib.parse import urlsplit
    from xml.etree import ElementTree

    atom = "{http://www.w3.org/2005/Atom}"

    def entry_ids(**extra) -> list[str]:
        root = ElementTree.fromstring(client.get("/feeds/resolutions/", **extra).content)
        return [e.find(f"{atom}id").text for e in root.iter(f"{atom}entry")]

    first = entry_ids()
    assert len(first) > 1 and len(set(first)) == len(first)
    for entry_id in first:
        assert TAG_URI.match(entry_id), entry_id
        parts = urlsplit(entry_id)
        assert parts.scheme == "tag" and parts.path.startswith("testserver,2025-01-01:")
    cache.clear()
    assert entry_ids() == first  # stable across requests
    # The port is no part of the tagging entity; the site's domain is.
    assert entry_ids(HTTP_HOST="testserver:8000") == first
    other = entry_ids(HTTP_HOST="localhost")
    assert other == [i.replace("tag:testserver,", "tag:localhost,") for i in first]


def test_track_record_csv(client, demo):
    response = client.get("/strategists/geoff-kendrick/track-record.csv", follow=True)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 4  # Geoff Kendrick's four demo forecasts
    assert {r["status"] for r in rows} <= {"hit", "miss", "pending", "void"}
    assert all(r["source_url"].startswith("http") and r["quote"] for r in rows)


def test_csv_for_excel_starts_with_a_bom_and_the_plain_csv_does_not(client, seed):
    Forecast.objects.filter(pk=seed.pk).update(quote="恒指年底目標上調至26,000點")
    url = f"/strategists/{seed.strategist.slug}/track-record.csv"
    plain = client.get(url, follow=True)
    excel = client.get(url + "?excel=1", follow=True)
    assert excel.redirect_chain[-1][0].endswith("?format=csv&excel=1")
    for response in (plain, excel):
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert not plain.content.startswith(b"\xef\xbb\xbf")
    assert excel.content.startswith(b"\xef\xbb\xbf") and excel.content[3:] == plain.content
    assert 'track-record-excel.csv"' in excel["Content-Disposition"]
    assert 'track-record.csv"' in plain["Content-Disposition"]
    # Both are UTF-8 throughout: the Chinese quote survives (utf-8-sig drops the BOM, and only the BOM).
    for text in (plain.content.decode("utf-8"), excel.content.decode("utf-8-sig")):
        (row,) = [r for r in csv.DictReader(io.StringIO(text)) if r["id"] == str(seed.pk)]
        assert row["quote"] == "恒指年底目標上調至26,000點"
        assert text.startswith("id,")  # no BOM glued to a header
    html = client.get(f"/strategists/{seed.strategist.slug}/").content.decode()
    assert f'href="{url}?excel=1"' in html and "CSV for Excel" in html


def test_csv_neutralises_formulas(client, seed):
    Forecast.objects.filter(pk=seed.pk).update(quote="=HYPERLINK(1)")
    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/strategists/alvin-ngan/track-record.csv", follow=True).content.decode())
        )
    )
    assert rows[0]["quote"] == "'=HYPERLINK(1)"


def test_cache_headers_and_conditional_get(client, seed):
    from forecasts.services import dataversion

    response = client.get("/leaderboard/")
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    assert "stale-while-revalidate" in response["Cache-Control"]
    last_modified = response["Last-Modified"]
    assert last_modified
    again = client.get("/leaderboard/", HTTP_IF_MODIFIED_SINCE=last_modified)
    assert again.status_code == 304
    # A change (which moves the data version, as every writer does after commit) makes the page fresh again.
    time.sleep(1.01)  # Last-Modified has whole seconds
    dataversion.bump_now()
    assert client.get("/leaderboard/", HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 200
    older = http_date((timezone.now() - timedelta(days=3650)).timestamp())
    assert client.get("/methodology/", HTTP_IF_MODIFIED_SINCE=older).status_code == 200


def test_pages_are_read_only(client, demo):
    assert client.post("/leaderboard/").status_code == 405
    assert client.post("/").status_code == 405


def test_unpublished_forecasts_stay_off_public_pages(client, seed):
    draft = make_forecast(
        strategist=seed.strategist,
        source=seed.source,
        instrument=seed.instrument,
        target=30000.0,
        quote="a draft call to 30,000",
        publish=False,
    )
    assert client.get(f"/forecasts/{draft.pk}/").status_code == 404
    assert "a draft call to 30,000" not in client.get("/strategists/alvin-ngan/").content.decode()
    assert "a draft call to 30,000" not in client.get("/search/?q=draft").content.decode()


def test_pages_skip_link_and_language_links(client, demo):
    html = client.get("/leaderboard/?market=HK").content.decode()
    assert 'class="skip" href="#content"' in html
    # Plain links to this page in every language; no form or CSRF token a cache would have to vary on.
    for href in (
        'href="/leaderboard/?market=HK"',
        'href="/zh-hant/leaderboard/?market=HK"',
        'href="/zh-hans/leaderboard/?market=HK"',
    ):
        assert href in html
    assert "csrfmiddlewaretoken" not in html and 'method="post"' not in html


@pytest.mark.parametrize(
    "prefix, lang, word", [("/zh-hant", 'lang="zh-Hant"', "排行榜"), ("/zh-hans", 'lang="zh-Hans"', "排行榜")]
)
def test_language_is_chosen_by_url_prefix(client, demo, prefix, lang, word):
    html = client.get(f"{prefix}/leaderboard/").content.decode()
    assert lang in html and word in html
    # Unprefixed is English whatever the browser asks for: the URL alone decides.
    english = client.get("/leaderboard/", HTTP_ACCEPT_LANGUAGE="zh-Hant").content.decode()
    assert 'lang="en"' in english and "Leaderboard" in english


def test_user_text_is_escaped_everywhere(client, seed):
    Forecast.objects.filter(pk=seed.pk).update(quote="<script>alert(1)</script>")
    for url in ("/", f"/forecasts/{seed.pk}/", "/strategists/alvin-ngan/", f"/sources/{seed.source_id}/"):
        html = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html, url


def test_leaderboards_show_a_change_at_once(client, demo, django_assert_max_num_queries):
    from django.core.cache import cache as page_cache

    def ngan(response) -> tuple[int, int]:
        """Alvin Ngan's hits and misses as the page shows them (each page has a new CSRF token)."""
        [row] = [
            r
            for r in response.context["ranked"] + response.context["unranked"]
            if r.subject.slug == "alvin-ngan"
        ]
        html = response.content.decode()
        cells = re.search(r'href="/strategists/alvin-ngan/".*?</tr>', html, re.S).group(0)
        shown = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', cells)[1:3]]
        assert shown == [row.summary.hits, row.summary.misses]
        return row.summary.hits, row.summary.misses

    from forecasts.services import aggregates, dataversion

    page_cache.clear()
    assert ngan(client.get("/leaderboard/")) == (1, 0)
    # The version and the filter choices are cached; the unfiltered board is never cached, it is three
    # indexed queries over the aggregates (the counts, a page of the ranked, the top of the unranked).
    with django_assert_max_num_queries(3):
        assert ngan(client.get("/leaderboard/")) == (1, 0)
    f = Forecast.objects.get(strategist__slug="alvin-ngan")
    Forecast.all_objects.filter(pk=f.pk).update(status="miss", skill=-f.difficulty, updated_at=timezone.now())
    aggregates.forecasts_changed([f])  # what the scorer does after its queryset updates ...
    dataversion.bump_now()  # ... and after its commit
    assert ngan(client.get("/leaderboard/")) == (0, 1)  # a change of data is a new cache key


def test_leaderboard_is_paginated(client, demo, monkeypatch):
    from forecasts.site import views

    monkeypatch.setattr(views, "BOARD_PAGE_SIZE", 1)
    html = client.get("/leaderboard/?min=1").content.decode()
    assert "more not yet ranked" in html


def test_thousands_of_firms_make_the_firm_filter_a_text_field(client, demo, monkeypatch):
    """Past FIRM_SELECT_MAX the board carries no drop-down of every firm: a text field with suggestions
    from the API, which takes a name or a slug; an unknown name is said, not silently ignored."""
    monkeypatch.setattr(pages, "FIRM_SELECT_MAX", 2)
    html = client.get("/leaderboard/").content.decode()
    assert 'list="firm-suggestions"' in html and 'data-suggest="/api/firms/"' in html
    assert '<select name="firm"' not in html and "filters.js" in html
    by_name = client.get("/leaderboard/", {"firm": "standard chartered"})
    assert by_name.context["form"].filters().firm == "standard-chartered"
    names = [r.subject.name for r in by_name.context["ranked"] + by_name.context["unranked"]]
    assert names and all(
        r.subject.firm and r.subject.firm.slug == "standard-chartered"
        for r in by_name.context["ranked"] + by_name.context["unranked"]
    )
    unknown = client.get("/leaderboard/", {"firm": "No Such Bank"}).content.decode()
    assert "No firm is called" in unknown


def test_thousands_of_instruments_make_the_instrument_filter_a_text_field(client, demo, monkeypatch):
    """Past INSTRUMENT_SELECT_MAX (the benchmark's 5,000 instruments were 300 KB of options on every board
    page) the instrument filter is a text field taking a symbol or a name, with suggestions from the API."""
    monkeypatch.setattr(pages, "INSTRUMENT_SELECT_MAX", 1)
    html = client.get("/leaderboard/").content.decode()
    assert 'list="instrument-suggestions"' in html and 'data-suggest="/api/instruments/"' in html
    assert '<select name="instrument"' not in html and '<select name="market"' in html
    for typed in ("HSI", "hsi"):
        board = client.get("/leaderboard/", {"instrument": typed})
        assert board.context["form"].filters().instrument == typed
        assert board.context["ranked"] + board.context["unranked"]
    unknown = client.get("/leaderboard/", {"instrument": "No Such Index"}).content.decode()
    assert "No instrument is called" in unknown


@pytest.mark.parametrize(
    "path, lang, words",
    [
        ("/strategists/nobody/", 'lang="en"', "Not found"),
        ("/zh-hant/strategists/nobody/", 'lang="zh-Hant"', "找不到"),
        ("/zh-hans/strategists/nobody/", 'lang="zh-Hans"', "找不到"),
    ],
)
def test_not_found_is_a_page_of_the_site_in_its_language(client, demo, path, lang, words):
    response = client.get(path)
    assert response.status_code == 404
    html = response.content.decode()
    assert lang in html and words in html
