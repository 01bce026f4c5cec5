"""The whole-page cache (forecasts.site.pagecache) under the data version (forecasts.services.dataversion).

These tests turn the cache on (the suite runs with it off, see config/test_settings.py) and commit for
real (transactional_db), since the version moves only after a commit.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from django.core.cache import cache

from forecasts.models import Forecast, Strategist
from forecasts.services import aggregates, dataversion
from forecasts.services.editorial import forecast_void
from marketdata.models import PriceBar
from marketdata.services.bars import upsert_price_bars

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "/",
    "/leaderboard/",
    "/zh-hant/leaderboard/",
    "/zh-hans/",
    "/strategists/alvin-ngan/",
    "/instruments/HSI/",
    "/methodology/",
    "/api/forecasts/",
    "/api/strategists/alvin-ngan/track-record/",
]


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.HINDSIGHT_PAGE_CACHE = True
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("path", PAGES)
def test_a_second_read_is_one_cache_hit_with_no_query(
    client, hsi_with_prices, seed_forecast, path, django_assert_num_queries
):
    first = client.get(path)
    assert first.status_code == 200 and first["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        again = client.get(path)
    assert again["X-Page-Cache"] == "hit"
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again["ETag"] == first["ETag"] and again["Last-Modified"] == first["Last-Modified"]
    # The headers of the middlewares above the cache are there on a hit too.
    assert "Content-Security-Policy" in again and "X-Frame-Options" in again
    with django_assert_num_queries(0):
        assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_every_kind_of_write_shows_on_the_next_read(
    client, hsi_with_prices, seed_forecast, django_user_model
):
    page = "/strategists/alvin-ngan/"
    client.get(page)
    assert client.get(page)["X-Page-Cache"] == "hit"

    # An admin-style model save (a strategist's title edited).
    strategist = Strategist.objects.get(slug="alvin-ngan")
    strategist.title = "Head of Research"
    strategist.save()
    assert "Head of Research" in client.get(page).content.decode()

    # An editorial action through the service.
    reviewer = django_user_model.objects.create_superuser("rita", password="pw-12345")
    forecast_void(Forecast.objects.get(pk=seed_forecast.pk), reason="Withdrawn by the firm", actor=reviewer)
    assert "Withdrawn by the firm" in client.get(page).content.decode()

    # New prices: a bulk write without model signals, announced by bars_changed.
    version = dataversion.current()
    instrument = Forecast.objects.get(pk=seed_forecast.pk).instrument
    last = PriceBar.objects.filter(instrument=instrument).order_by("-session").first()
    bar = {"open": last.close, "high": last.close, "low": last.close, "close": last.close, "volume": 0}
    upsert_price_bars(
        instrument, pd.DataFrame([bar], index=pd.DatetimeIndex([date(2026, 8, 27)])), source="test"
    )
    assert dataversion.current() > version


def test_a_rolled_back_write_moves_nothing(client, hsi_with_prices, seed_forecast):
    from django.db import transaction

    version = dataversion.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        Strategist.objects.filter(slug="alvin-ngan").first().save()
        raise RuntimeError("abort")
    assert dataversion.current() == version


def test_editors_and_api_clients_with_credentials_bypass_it(
    client, hsi_with_prices, seed_forecast, django_user_model
):
    client.get("/leaderboard/")
    assert client.get("/leaderboard/")["X-Page-Cache"] == "hit"
    assert "X-Page-Cache" not in client.get("/api/forecasts/", HTTP_AUTHORIZATION="Token nope")
    user = django_user_model.objects.create_superuser("rita", password="pw-12345")
    client.force_login(user)
    assert "X-Page-Cache" not in client.get("/leaderboard/")


def test_errors_and_private_answers_are_never_stored(client, hsi_with_prices, seed_forecast):
    assert client.get("/strategists/nobody/").status_code == 404
    assert "X-Page-Cache" not in client.get("/strategists/nobody/")
    assert "X-Page-Cache" not in client.get("/healthz")


def test_with_the_cache_down_pages_still_render(client, hsi_with_prices, seed_forecast, monkeypatch):
    monkeypatch.setattr(dataversion, "current", lambda: None)
    response = client.get("/leaderboard/")
    assert response.status_code == 200 and "X-Page-Cache" not in response
    assert response["Last-Modified"]  # from the database then


def test_the_scorers_bulk_writes_move_the_version(client, hsi_with_prices, seed_forecast):
    from forecasts.services.scoring import forecasts_score

    Forecast.all_objects.filter(pk=seed_forecast.pk).update(
        status="pending", status_note="", resolved_on=None
    )
    page = f"/forecasts/{seed_forecast.pk}/"
    client.get(page)
    version = dataversion.current()
    summary = forecasts_score(hsi_with_prices)
    assert summary.changed == 1
    assert aggregates.check() == []  # the boards' figures followed the scorer's queryset updates
    assert dataversion.current() > version
    assert client.get(page)["X-Page-Cache"] == "miss"
    # Nothing changed the second time: the version (and every cached page) stays.
    version = dataversion.current()
    assert forecasts_score(hsi_with_prices).changed == 0
    assert dataversion.current() == version


def test_a_nightly_rescore_that_changes_nothing_keeps_every_cached_page(
    client, hsi_with_prices, seed_forecast
):
    """The incremental rescore writes its checkpoint on every run; bookkeeping like that must not move the
    data version, or each scheduled run would empty the page cache though no reader sees a difference."""
    from forecasts.services.scoring import forecasts_rescore_incremental

    forecasts_rescore_incremental(hsi_with_prices)  # the first run sets the checkpoint
    page = "/strategists/alvin-ngan/"
    client.get(page)
    version = dataversion.current()
    summary = forecasts_rescore_incremental(hsi_with_prices)
    assert summary.changed == 0
    assert dataversion.current() == version
    assert client.get(page)["X-Page-Cache"] == "hit"


def _retitle(title: str) -> None:
    strategist = Strategist.objects.get(slug="alvin-ngan")
    strategist.title = title
    strategist.save()


def test_writes_in_quick_succession_cost_one_render_per_page_per_window(
    client, hsi_with_prices, seed_forecast, settings
):
    """Coalescing: a page rendered less than HINDSIGHT_PAGE_FRESH_SECONDS ago is served as it is, with its
    own version as ETag, even though the data moved; once the window has passed the change shows."""
    page = "/strategists/alvin-ngan/"
    settings.HINDSIGHT_PAGE_FRESH_SECONDS = 3600
    first = client.get(page)
    _retitle("Head of Research")
    again = client.get(page)
    assert again["X-Page-Cache"] == "hit" and "Head of Research" not in again.content.decode()
    assert again["ETag"] == first["ETag"]  # not the new version's: a conditional GET must not be misled
    settings.HINDSIGHT_PAGE_FRESH_SECONDS = 0
    after = client.get(page)
    assert after["X-Page-Cache"] == "miss" and "Head of Research" in after.content.decode()
    assert after["ETag"] != first["ETag"]


def test_while_one_request_renders_a_changed_page_the_others_get_the_previous_one(
    client, hsi_with_prices, seed_forecast, settings
):
    from forecasts.site.pagecache import _key

    page = "/strategists/alvin-ngan/"
    first = client.get(page)
    lock = _key(first.wsgi_request) + ":rendering"
    _retitle("Head of Research")
    # Another worker is re-rendering this page (it holds the lock): this request does not render it again.
    assert cache.add(lock, 1, timeout=60)
    stale = client.get(page)
    assert stale["X-Page-Cache"] == "stale" and "Head of Research" not in stale.content.decode()
    # ... and says which version it is: a conditional GET against the old copy is answered by it, not by now.
    assert stale["ETag"] == first["ETag"]
    assert client.get(page, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    # A previous rendering older than HINDSIGHT_PAGE_STALE_SECONDS is not handed out: render it here.
    settings.HINDSIGHT_PAGE_STALE_SECONDS = 0
    fresh = client.get(page)
    assert fresh["X-Page-Cache"] == "miss" and "Head of Research" in fresh.content.decode()
    settings.HINDSIGHT_PAGE_STALE_SECONDS = 30
    cache.delete(lock)
    _retitle("Chief Strategist")
    # No one else rendering: this request takes the lock, renders, and gives the lock back.
    assert "Chief Strategist" in client.get(page).content.decode()
    assert cache.get(lock) is None
