"""The public API on the demo data: schema and docs, every read and filter, the error format, conditional
GET, CSV, CORS, throttling and bounded query counts."""

import os
import re
import subprocess
import sys
from datetime import date

import pytest
import yaml
from django.db.models import Q
from django.test import RequestFactory
from drf_spectacular.validation import validate_schema
from rest_framework.throttling import AnonRateThrottle

from forecasts.models import Firm, Forecast, Kind, Source, Status, Strategist
from forecasts.selectors import ForecastFilters, filter_forecasts, leaderboard
from marketdata.models import Instrument, PriceBar
from tests.conftest import require_service
from tests.factories import SourceFactory, make_forecast

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _api_settings(settings):
    """What the lead adds to settings: the one error format. The cache is cleared so throttle counts
    from other tests do not leak in."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "EXCEPTION_HANDLER": "forecasts.api.errors.exception_handler",
    }
    from django.core.cache import cache

    cache.clear()


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "code", "message", "fields"} and error["status"] == status
    assert error["message"]
    return error


# --- schema and docs -------------------------------------------------------------------------------


def test_schema_is_valid_openapi_and_documents_every_endpoint(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in [
        "/api/strategists/",
        "/api/strategists/{slug}/",
        "/api/strategists/{slug}/track-record/",
        "/api/firms/",
        "/api/firms/{slug}/track-record/",
        "/api/instruments/",
        "/api/instruments/{symbol}/bars/",
        "/api/sources/",
        "/api/forecasts/",
        "/api/forecasts/{id}/correct/",
        "/api/forecasts/{id}/void/",
        "/api/leaderboard/",
        "/api/auth/login/",
        "/api/auth/logout/",
    ]:
        assert path in paths, path
    params = {p["name"] for p in paths["/api/forecasts/"]["get"]["parameters"]}
    assert params >= {
        "strategist", "firm", "instrument", "kind", "status", "made_from", "made_to", "deadline_from",
        "deadline_to", "resolved_from", "resolved_to", "search", "ordering", "limit", "offset",
    }  # fmt: skip
    board = {p["name"] for p in paths["/api/leaderboard/"]["get"]["parameters"]}
    assert board >= {"as_of", "by", "market", "instrument", "firm", "kind", "made_from", "made_to"}
    track = paths["/api/strategists/{slug}/track-record/"]["get"]
    assert set(track["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert track["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    # Every operation documents its errors in the one format.
    for path, operations in paths.items():
        for method, op in operations.items():
            assert "429" in op["responses"], (method, path)


def test_docs_are_served_without_a_cdn(client, db, settings):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/api/schema/" in html
    assert "cdn" not in html.lower() and "http://" not in html and "https://" not in html
    # The bundle is a static file of the sidecar app, served from our own origin.
    from django.contrib.staticfiles import finders

    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_docs_have_no_inline_script_or_style_and_are_the_same_for_every_reader(client, db, django_user_model):
    """Under CSP 'self' without 'unsafe-inline' and without nonces: everything runs from static files."""
    first = client.get("/api/docs/")
    csp = first["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "nonce-" not in csp and "script-src 'self'" in csp
    html = first.content.decode()
    assert "<style" not in html and " style=" not in html
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert 'src="/static/forecasts/api-docs.js"' in html
    assert re.search(r"\bon\w+=", html) is None  # no inline event handlers
    # No nonce, no CSRF token: an editor's page is byte for byte a reader's.
    client.force_login(django_user_model.objects.create_user("ed", password="pw", is_staff=True))
    assert client.get("/api/docs/").content == first.content


# --- reads -----------------------------------------------------------------------------------------


def test_strategists_firms_instruments_sources_are_paginated_lists(client, demo):
    for url, model in [
        ("/api/strategists/", Strategist),
        ("/api/firms/", Firm),
        ("/api/instruments/", Instrument),
        ("/api/sources/", Source),
    ]:
        body = client.get(url, {"limit": 2}).json()
        assert body["count"] == model.objects.count() and len(body["results"]) == 2
        assert "offset=2" in body["next"]
    ngan = client.get("/api/strategists/alvin-ngan/").json()
    assert ngan == {
        "slug": "alvin-ngan",
        "name": "Alvin Ngan",
        "title": "",
        "firm": {"slug": "zhongtai-financial-international", "name": "Zhongtai Financial International"},
    }
    by_firm = client.get("/api/strategists/", {"firm": "standard-chartered"}).json()
    assert {s["slug"] for s in by_firm["results"]} == {
        "geoff-kendrick",
        "zheng-zifeng",
        "standard-chartered-strategists",
    }
    assert client.get("/api/strategists/", {"search": "ngan"}).json()["count"] == 1
    assert client.get("/api/firms/", {"search": "goldman"}).json()["results"][0]["slug"] == "goldman-sachs"
    hk = client.get("/api/instruments/", {"market": "XHKG"}).json()
    assert hk["count"] == Instrument.objects.filter(calendar_code="XHKG").count() > 0
    source = client.get("/api/sources/", {"search": "chinadailyhk"}).json()["results"][0]
    assert source["publication"] == "China Daily HK"
    seed = Forecast.objects.get(strategist__slug="alvin-ngan")
    assert source["forecasts"] == [seed.pk]
    assert client.get(f"/api/sources/{source['id']}/").json()["url"] == source["url"]


def test_an_instrument_with_a_dot_in_its_symbol(client, demo):
    symbol = Instrument.objects.filter(symbol__contains=".").values_list("symbol", flat=True).first()
    assert symbol, "the demo has Hong Kong stocks such as 0941.HK"
    assert client.get(f"/api/instruments/{symbol}/").json()["symbol"] == symbol


def test_price_bars_by_date_range(client, demo):
    body = client.get("/api/instruments/HSI/bars/", {"from": "2025-02-17", "to": "2025-02-21"}).json()
    sessions = [b["session"] for b in body["results"]]
    assert sessions == ["2025-02-17", "2025-02-18", "2025-02-19", "2025-02-20", "2025-02-21"]
    assert body["results"][-1]["high"] >= 23200  # the seed forecast's hit
    assert set(body) == {"next", "previous", "results"}
    first = client.get("/api/instruments/HSI/bars/", {"from": "2025-01-01", "to": "2025-03-31", "limit": 10})
    page = first.json()
    assert len(page["results"]) == 10 and page["next"]
    second = client.get(page["next"]).json()
    assert second["results"][0]["session"] > page["results"][-1]["session"]
    # Walking every page gives each bar of the range exactly once, in order: Q1 2025 has 60 XHKG sessions
    # (19 in January, 20 in February, 21 in March), all in the bundled HSI file.
    walked, url = [], first.request["PATH_INFO"] + "?" + first.request["QUERY_STRING"]
    while url:
        page = client.get(url).json()
        walked += [b["session"] for b in page["results"]]
        url = page["next"]
    expected = list(
        PriceBar.objects.filter(
            instrument__symbol="HSI", session__gte=date(2025, 1, 1), session__lte=date(2025, 3, 31)
        )
        .order_by("session")
        .values_list("session", flat=True)
    )
    assert len(expected) == 60
    assert walked == [d.isoformat() for d in expected]
    assert (walked[0], walked[-1]) == ("2025-01-02", "2025-03-31")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2025-02-30"}, "from"),
        ({"to": "soon"}, "to"),
        ({"from": "2025-03-01", "to": "2025-02-01"}, "to"),
    ],
)
def test_price_bars_reject_bad_dates(client, demo, query, field):
    error = error_of(client.get("/api/instruments/HSI/bars/", query), 400)
    assert field in error["fields"]


FILTERS = [
    ({"strategist": "geoff-kendrick"}, Q(strategist__slug="geoff-kendrick")),
    ({"firm": "standard-chartered"}, Q(firm__slug="standard-chartered")),
    ({"instrument": "GSPC"}, Q(instrument__symbol="GSPC")),
    ({"market": "XHKG"}, Q(instrument__calendar_code="XHKG")),
    ({"kind": "reach"}, Q(kind="reach")),
    ({"status": "hit"}, Q(status="hit")),
    ({"status": "miss"}, Q(status="miss")),
    ({"made_from": "2025-01-01"}, Q(made_at__date__gte=date(2025, 1, 1))),
    ({"made_to": "2024-06-30"}, Q(made_at__date__lte=date(2024, 6, 30))),
    ({"deadline_from": "2025-06-01"}, Q(deadline__gte=date(2025, 6, 1))),
    ({"deadline_to": "2024-12-31"}, Q(deadline__lte=date(2024, 12, 31))),
    ({"resolved_from": "2025-01-01"}, Q(resolved_on__gte=date(2025, 1, 1))),
    ({"resolved_to": "2024-12-31"}, Q(resolved_on__lte=date(2024, 12, 31))),
    (
        {"strategist": "geoff-kendrick", "status": "hit"},
        Q(strategist__slug="geoff-kendrick", status="hit"),
    ),
    ({"search": "hang seng"}, Q(quote__icontains="hang seng") | Q(instrument__name__icontains="hang seng")),
    ({"search": "Kendrick"}, Q(strategist__name__icontains="kendrick")),
    ({"instrument": "NOPE"}, Q(pk__in=[])),
]


@pytest.mark.parametrize(("query", "expected"), FILTERS, ids=[str(q) for q, _ in FILTERS])
def test_every_forecast_filter(client, demo, query, expected, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = client.get("/api/forecasts/", {**query, "limit": 500})
    assert response.status_code == 200
    body = response.json()
    ids = {f["id"] for f in body["results"]}
    want = set(Forecast.objects.filter(expected).values_list("pk", flat=True))
    assert ids == want and body["count"] == len(want)
    if query in ({"instrument": "NOPE"},):
        return
    assert want, f"the demo should have forecasts for {query}"


@pytest.mark.parametrize(
    "query",
    [{"status": "maybe"}, {"kind": "guess"}, {"made_from": "2025-99-01"}, {"market": "MOON"}],
)
def test_a_bad_filter_is_a_400_naming_it(client, demo, query):
    error = error_of(client.get("/api/forecasts/", query), 400)
    assert set(error["fields"]) == set(query)


@pytest.mark.parametrize("field", ["made_at", "deadline", "resolved_on", "skill", "difficulty", "id"])
def test_forecast_ordering(client, demo, field):
    for direction in ("", "-"):
        results = client.get("/api/forecasts/", {"ordering": direction + field, "limit": 500}).json()[
            "results"
        ]
        values = [(r[field] if field != "id" else r["id"]) for r in results]
        present = [v for v in values if v is not None]
        assert present == sorted(present, reverse=direction == "-")


def test_default_order_is_newest_first_and_pages_are_stable(client, demo):
    results = client.get("/api/forecasts/", {"limit": 500}).json()["results"]
    assert [r["made_at"] for r in results] == sorted((r["made_at"] for r in results), reverse=True)
    paged = [r["id"] for off in range(0, len(results), 5) for r in
             client.get("/api/forecasts/", {"limit": 5, "offset": off}).json()["results"]]  # fmt: skip
    assert paged == [r["id"] for r in results]


def test_forecast_detail_and_drafts_are_hidden(client, demo):
    seed = Forecast.objects.get(strategist__slug="alvin-ngan")
    body = client.get(f"/api/forecasts/{seed.pk}/").json()
    assert body["status"] == "hit" and body["source"]["publication"] == "China Daily HK"
    Forecast.all_objects.filter(pk=seed.pk).update(published_at=None)
    error_of(client.get(f"/api/forecasts/{seed.pk}/"), 404)
    assert client.get("/api/strategists/alvin-ngan/track-record/").json()["forecasts"] == []


def test_firm_track_record(client, demo):
    body = client.get("/api/firms/standard-chartered/track-record/").json()
    assert body["firm"]["slug"] == "standard-chartered" and body["as_of"] is None
    expected = Forecast.objects.filter(firm__slug="standard-chartered")
    assert {f["id"] for f in body["forecasts"]} == set(expected.values_list("pk", flat=True))
    assert body["summary"]["forecasts"] == expected.count()
    assert body["summary"]["hits"] == expected.filter(status=Status.HIT).count()
    error_of(client.get("/api/firms/nobody/track-record/"), 404)


def test_track_record_keeps_its_field_names(client, demo):
    body = client.get("/api/strategists/alvin-ngan/track-record/").json()
    assert set(body) == {"strategist", "as_of", "summary", "forecasts"}
    assert list(body["summary"]) == [
        "forecasts", "resolved", "hits", "misses", "pending", "void", "hit_rate", "hit_rate_wilson_low",
        "hit_rate_wilson_high", "skill_scored", "mean_skill", "mean_skill_se", "skill_points",
        "skill_lower_bound", "mean_boldness", "mean_directional_return", "mean_directional_excess_return",
    ]  # fmt: skip
    [f] = body["forecasts"]
    assert {"status", "resolved_on", "resolution_price", "baseline", "difficulty", "skill"} <= set(f)


# --- the leaderboard -------------------------------------------------------------------------------


def _board(rows):
    return [(r.rank, r.subject.slug) for r in rows]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"by": "firm"},
        {"market": "XNYS"},
        {"instrument": "GSPC"},
        {"firm": "standard-chartered"},
        {"strategist": "geoff-kendrick"},
        {"kind": "reach"},
        {"status": "hit"},
        {"made_from": "2024-06-01"},
        {"made_to": "2024-12-31"},
        {"by": "firm", "market": "XHKG", "made_from": "2024-01-01"},
    ],
    ids=str,
)
def test_leaderboard_matches_the_selector(client, demo, query, django_assert_max_num_queries, settings):
    settings.HINDSIGHT_LEADERBOARD_MIN_RESOLVED = 2  # the demo has few resolved forecasts per person
    with django_assert_max_num_queries(3):
        response = client.get("/api/leaderboard/", {**query, "limit": 500})
    body = response.json()
    by = query.get("by", "strategist")
    filters = ForecastFilters(**{k: v for k, v in query.items() if k != "by"})
    filters = ForecastFilters(
        **{
            **filters.__dict__,
            "made_from": date.fromisoformat(query["made_from"]) if "made_from" in query else None,
            "made_to": date.fromisoformat(query["made_to"]) if "made_to" in query else None,
        }
    )
    expected = leaderboard(filter_forecasts(Forecast.objects.all(), filters), by=by)
    assert [(r["rank"], r["slug"]) for r in body["results"]] == _board(expected)
    assert body["by"] == by and body["min_resolved"] == 2 and "lower bound" in body["ranking"]
    assert body["count"] == len(expected)


def test_leaderboard_rows_and_pagination(client, demo):
    body = client.get("/api/leaderboard/", {"limit": 3}).json()
    assert len(body["results"]) == 3 and body["next"] and body["count"] == Strategist.objects.count()
    row = body["results"][0]
    assert set(row) == {"rank", "slug", "name", "firm", "summary"}
    by_firm = client.get("/api/leaderboard/", {"by": "firm"}).json()
    firms = by_firm["results"]
    with_forecasts = set(Forecast.objects.filter(firm__isnull=False).values_list("firm__slug", flat=True))
    assert by_firm["count"] == len(with_forecasts) == len(firms) > 1  # every firm fits on the first page
    assert {r["slug"] for r in firms} == with_forecasts
    assert all(r["firm"] is None for r in firms)  # a firm row names no firm of its own


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"by": "team"}, "by"),
        ({"kind": "x"}, "kind"),
        ({"made_from": "2025-02-01", "made_to": "2025-01-01"}, "made_to"),
    ],
)
def test_leaderboard_rejects_bad_parameters(client, demo, query, field):
    assert field in error_of(client.get("/api/leaderboard/", query), 400)["fields"]


# --- one error format ------------------------------------------------------------------------------


def test_every_error_has_the_one_format(client, demo):
    assert error_of(client.get("/api/strategists/nobody/track-record/"), 404)["code"] == "not_found"
    assert error_of(client.get("/api/strategists/nobody/"), 404)["fields"] == {}
    assert error_of(client.get("/api/no-such-thing/"), 404)["message"] == "No such API endpoint."
    assert error_of(client.patch("/api/auth/login/"), 405)["code"] == "method_not_allowed"
    assert error_of(client.get("/api/forecasts/", HTTP_ACCEPT="image/png"), 406)["code"] == "not_acceptable"
    assert error_of(client.post("/api/sources/", {}, content_type="application/json"), 401)
    error = error_of(
        client.get("/api/strategists/alvin-ngan/track-record/", {"as_of": "x", "format": "csv"}), 400
    )
    assert "as_of" in error["fields"]


def test_a_missing_slash_still_redirects(client, db):
    response = client.get("/api/forecasts?limit=1")
    assert response.status_code == 301 and response["Location"] == "/api/forecasts/?limit=1"


def test_unexpected_errors_are_500_in_the_format(client, db, monkeypatch):
    from forecasts.api.views import records as views

    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(views, "filtered_leaderboard", boom)
    error = error_of(client.get("/api/leaderboard/"), 500)
    assert error["code"] == "server_error" and "bug" not in error["message"]


# --- conditional GET, CSV, CORS ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/strategists/alvin-ngan/track-record/",
        "/api/firms/standard-chartered/track-record/",
        "/api/forecasts/",
        "/api/leaderboard/",
        "/api/instruments/HSI/bars/?from=2025-02-01&to=2025-02-28",
        "/api/strategists/",
    ],
)
def test_conditional_get(client, demo, url):
    first = client.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"')
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    if first.has_header("Last-Modified"):
        since = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
        assert since.status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_a_change_invalidates_the_etag_and_last_modified(client, demo):
    url = "/api/strategists/alvin-ngan/track-record/"
    first = client.get(url)
    assert first.has_header("Last-Modified")
    seed = Forecast.objects.get(strategist__slug="alvin-ngan")
    Forecast.all_objects.filter(pk=seed.pk).update(
        status_note="changed", updated_at=seed.updated_at.replace(year=2099)
    )
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200


@pytest.mark.parametrize("how", [{"format": "csv"}, {"HTTP_ACCEPT": "text/csv"}])
def test_track_record_as_csv(client, demo, how):
    query = {k: v for k, v in how.items() if k == "format"}
    headers = {k: v for k, v in how.items() if k != "format"}
    response = client.get("/api/firms/standard-chartered/track-record/", query, **headers)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="standard-chartered-track-record.csv"' in response["Content-Disposition"]
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("id,made_at,strategist,strategist_name,firm,instrument,kind,target")
    assert len(lines) == 1 + Forecast.objects.filter(firm__slug="standard-chartered").count()
    as_of = client.get("/api/strategists/alvin-ngan/track-record/", {"format": "csv", "as_of": "2025-02-20"})
    [_header, row] = as_of.content.decode().strip().splitlines()
    assert ",pending," in row and "as-of-2025-02-20" in as_of["Content-Disposition"]


def test_csv_cells_cannot_run_as_formulas(client, demo):
    seed = Forecast.objects.get(strategist__slug="alvin-ngan")
    Forecast.all_objects.filter(pk=seed.pk).update(quote="=HYPERLINK(1)")
    text = client.get("/api/strategists/alvin-ngan/track-record/?format=csv").content.decode()
    assert "'=HYPERLINK(1)" in text


def test_cors_allows_reads_from_anywhere_but_not_writes(client, demo):
    response = client.get("/api/leaderboard/", HTTP_ORIGIN="https://example.org")
    assert response["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        "/api/forecasts/",
        HTTP_ORIGIN="https://example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert preflight.status_code == 200 and "GET" in preflight["Access-Control-Allow-Methods"]
    assert "POST" not in preflight["Access-Control-Allow-Methods"]
    assert not client.get("/admin/login/", HTTP_ORIGIN="https://example.org").has_header(
        "Access-Control-Allow-Origin"
    )


# --- throttling ------------------------------------------------------------------------------------


def _anon_request(ip="203.0.113.9"):
    request = RequestFactory().get("/api/forecasts/", REMOTE_ADDR=ip)
    request.user = type("Anon", (), {"is_authenticated": False})()
    return request


def test_two_throttles_share_one_count_through_the_cache(db, monkeypatch):
    """Two throttle objects, as in two worker processes, count in the same cache entry: the default
    cache, which is Redis when REDIS_URL is set (see the Redis test below for two real processes)."""
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    first, second = AnonRateThrottle(), AnonRateThrottle()
    assert first.allow_request(_anon_request(), None)
    assert second.allow_request(_anon_request(), None)
    assert first.allow_request(_anon_request(), None)
    assert not second.allow_request(_anon_request(), None)  # the 4th request, whichever process sees it
    assert AnonRateThrottle().allow_request(_anon_request("198.51.100.7"), None)  # counts are per client


def test_throttled_api_requests_get_429_in_the_one_format(client, db, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    assert client.get("/api/firms/").status_code == 200
    assert client.get("/api/strategists/").status_code == 200
    response = client.get("/api/firms/")
    error = error_of(response, 429)
    assert error["code"] == "throttled" and int(response["Retry-After"]) > 0


CHILD = """
import django, os, sys
django.setup()
from django.test import RequestFactory
from rest_framework.throttling import AnonRateThrottle
request = RequestFactory().get("/api/forecasts/", REMOTE_ADDR="203.0.113.77")
request.user = type("Anon", (), {"is_authenticated": False})()
sys.exit(0 if all(AnonRateThrottle().allow_request(request, None) for _ in range(2)) else 1)
"""


@pytest.mark.services
def test_throttle_counts_are_shared_across_processes_through_redis(db, settings, monkeypatch):
    redis_url = os.environ.get("HINDSIGHT_TEST_REDIS_URL", "")
    require_service("Redis", bool(redis_url))
    rates = {"anon": "3/minute"}
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)
    from django.core.cache import cache

    cache.clear()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "HINDSIGHT_API_ANON_RATE": rates["anon"],
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
    }
    env.pop("DATABASE_URL", None)  # the child needs no database
    child = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr[-2000:]
    request = _anon_request("203.0.113.77")
    assert AnonRateThrottle().allow_request(request, None)  # the 3rd in a minute
    assert not AnonRateThrottle().allow_request(request, None)  # the 4th: the child's two counted
    cache.clear()


# --- query counts ----------------------------------------------------------------------------------

QUERY_BOUNDS = [
    ("/api/strategists/", 2),
    ("/api/strategists/geoff-kendrick/", 1),
    ("/api/firms/", 2),
    ("/api/instruments/", 2),
    ("/api/instruments/HSI/", 1),
    ("/api/instruments/HSI/bars/?from=2025-01-01&to=2025-06-30", 3),
    ("/api/sources/", 3),
    ("/api/forecasts/", 3),
    ("/api/forecasts/?search=index&ordering=-skill", 3),
    ("/api/strategists/geoff-kendrick/track-record/", 3),
    ("/api/strategists/geoff-kendrick/track-record/?as_of=2025-01-01", 3),
    ("/api/strategists/geoff-kendrick/track-record/?format=csv", 3),
    ("/api/firms/standard-chartered/track-record/", 3),
    ("/api/firms/standard-chartered/track-record/?as_of=2025-01-01", 3),
    ("/api/leaderboard/", 3),
    ("/api/leaderboard/?by=firm", 3),
    ("/api/leaderboard/?as_of=2025-01-01", 3),
    ("/api/leaderboard/?as_of=2025-01-01&by=firm", 3),
]


@pytest.mark.parametrize(("url", "bound"), QUERY_BOUNDS, ids=[u for u, _ in QUERY_BOUNDS])
def test_query_counts_do_not_grow_with_rows(client, demo, url, bound, django_assert_max_num_queries):
    with django_assert_max_num_queries(bound):
        assert client.get(url).status_code == 200
    # 30 more forecasts (and sources) for the same strategist and firm, some decided, with history.
    kendrick = Strategist.objects.get(slug="geoff-kendrick")
    hsi = Instrument.objects.get(symbol="HSI")
    for i in range(30):
        f = make_forecast(
            strategist=kendrick,
            firm=kendrick.firm,
            source=SourceFactory(),
            instrument=hsi,
            kind=Kind.REACH,
            target=20000 + i,
            quote=f"extra {i}",
        )
        if i % 2:
            Forecast.all_objects.filter(pk=f.pk).update(
                status=Status.HIT, resolved_on=date(2025, 3, 3), difficulty=0.4, skill=0.6
            )
    with django_assert_max_num_queries(bound):
        assert client.get(url).status_code == 200
