"""Pages and API on the demo data: content, field names and bounded query counts."""

import pytest

from forecasts.models import Forecast

pytestmark = pytest.mark.django_db


def test_track_record_api_returns_the_seed_hit(client, demo, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = client.get("/api/strategists/alvin-ngan/track-record/")
    assert response.status_code == 200
    body = response.json()
    assert body["strategist"] == {
        "slug": "alvin-ngan",
        "name": "Alvin Ngan",
        "firm": "Zhongtai Financial International",
        "title": "",
    }
    summary = body["summary"]
    assert (summary["hits"], summary["misses"], summary["pending"], summary["resolved"]) == (1, 0, 0, 1)
    assert summary["hit_rate"] == 1.0 and 0 < summary["hit_rate_wilson_low"] < 1
    [f] = body["forecasts"]
    assert f["status"] == "hit"
    assert f["resolved_on"] == "2025-02-21"
    assert f["resolution_price"] == 23477.92
    assert f["baseline"] == 22620.33
    assert 0 < f["difficulty"] < 1 and f["skill"] == pytest.approx(1 - f["difficulty"])
    assert f["claim"].startswith(
        "Hang Seng Index closes at or above 23,200 on any trading day from 17 Feb 2025 to 14 Feb 2026"
    )
    assert "12-month default" in f["claim"]


def test_track_record_unknown_strategist_is_404(client, demo):
    assert client.get("/api/strategists/nobody/track-record/").status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("strategist=geoff-kendrick", 4),
        ("instrument=GSPC", 26),
        ("status=hit", None),
        ("strategist=geoff-kendrick&status=hit", 1),
        ("instrument=NOPE", 0),
    ],
)
def test_forecast_list_filters(client, demo, query, expected, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = client.get(f"/api/forecasts/?{query}")
    assert response.status_code == 200
    body = response.json()
    if expected is None:
        expected = Forecast.objects.filter(status="hit").count()
    assert body["count"] == expected
    if "status=hit" in query:
        assert {f["status"] for f in body["results"]} == {"hit"}


def test_forecast_list_rejects_an_unknown_status(client, demo):
    response = client.get("/api/forecasts/?status=maybe")
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def _write_attempts(forecast):
    """Every write the API has, with bodies that would pass validation."""
    return [
        ("/api/sources/", {"url": "https://example.com/a", "publication": "X", "forecasts": []}),
        (f"/api/forecasts/{forecast.pk}/correct/", {"changes": {"target": 1.0}, "reason": "test"}),
        (f"/api/forecasts/{forecast.pk}/void/", {"reason": "test"}),
    ]


def test_api_is_read_only_for_anonymous(client, demo, django_user_model):
    """Writes need a token: 401 without one, 403 with a token of a user who may not write; nothing changes."""
    from knox.models import AuthToken

    seed = Forecast.objects.get(strategist__slug="alvin-ngan")
    before = (Forecast.all_objects.count(), seed.target, seed.status)
    for url, body in _write_attempts(seed):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 401, (url, response.content[:300])
        assert response.json()["error"]["code"] == "not_authenticated"
    reader = django_user_model.objects.create_user("reader", password="x")
    token = AuthToken.objects.create(user=reader)[1]
    for url, body in _write_attempts(seed):
        response = client.post(
            url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
        )
        assert response.status_code == 403, (url, response.content[:300])
    # The list itself takes no writes: 401 without a token, and with one the method is not allowed.
    assert client.post("/api/forecasts/", {"quote": "x"}).status_code == 401
    assert (
        client.post("/api/forecasts/", {"quote": "x"}, HTTP_AUTHORIZATION=f"Token {token}").status_code == 405
    )
    seed.refresh_from_db()
    assert (Forecast.all_objects.count(), seed.target, seed.status) == before


def test_leaderboard_page(client, demo, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):  # 3 for the board at any size (QUERY_BOUNDS in test_pages.py)
        response = client.get("/leaderboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "the lower bound of mean skill" in html
    assert "Alvin Ngan" in html and "Not yet ranked" in html


def test_strategist_page(client, demo, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        response = client.get("/strategists/geoff-kendrick/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="badge badge-') == 4
    assert "cryptonewsdesk.com" in html


def test_forecast_page_explains_the_claim_and_history(client, demo, django_assert_max_num_queries):
    f = Forecast.objects.get(strategist__slug="alvin-ngan")
    with django_assert_max_num_queries(4):
        response = client.get(f"/forecasts/{f.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    claim = "Hang Seng Index closes at or above 23,200 on any trading day from 17 Feb 2025 to 14 Feb 2026"
    assert claim in html
    assert "no deadline was stated, so the 12-month default applies" in html
    assert "21 Feb 2025" in html and "23477.92" in html and "22620.33" in html
    assert "Recorded" in html and "Scored" in html


def test_user_text_is_escaped(client, demo):
    f = Forecast.objects.get(strategist__slug="alvin-ngan")
    Forecast.objects.filter(pk=f.pk).update(quote="<script>alert(1)</script>")
    html = client.get(f"/forecasts/{f.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_pages_404(client, demo):
    assert client.get("/strategists/nobody/").status_code == 404
    assert client.get("/forecasts/999999/").status_code == 404


def test_admin_pages_load(admin_client, demo):
    for url in [
        "/admin/forecasts/forecast/",
        "/admin/forecasts/source/",
        "/admin/marketdata/pricebar/",
        "/admin/marketdata/instrument/",
        "/admin/forecasts/strategist/",
    ]:
        assert admin_client.get(url).status_code == 200, url
    f = Forecast.objects.get(strategist__slug="alvin-ngan")
    assert admin_client.get(f"/admin/forecasts/forecast/{f.pk}/change/").status_code == 200
    source = f.source
    page = admin_client.get(f"/admin/forecasts/source/{source.pk}/change/").content.decode()
    assert "23200" in page  # forecasts inline
