"""The editor's desk in a real browser: an editor pastes the seed article, accepts the suggested
forecast, and sees it scored; and fetches an article from its address (a local server with recorded HTML)."""

import re

import pytest
from django.contrib.auth.models import Group

from tests.forecasts.editorial.test_desk_and_admin import SEED_TEXT, serve_pages

pytestmark = pytest.mark.browser


@pytest.fixture
def editor(django_user_model, transactional_db):
    user = django_user_model.objects.create_user("eddie", password="desk-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def _log_in_to_the_desk(page, base, settings):
    page.goto(
        f"{base}/{settings.HINDSIGHT_ADMIN_PATH}login/?next=/{settings.HINDSIGHT_ADMIN_PATH}forecasts/source/"
    )
    page.fill("#id_username", "eddie")
    page.fill("#id_password", "desk-pass-123")
    page.click("input[type=submit]")
    page.get_by_role("link", name=re.compile("Editor's desk")).click()


def test_editor_pastes_the_seed_article_and_sees_it_scored(
    live_server, hsi_with_prices, editor, page, screenshot, settings
):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # the live server speaks HTTP
    base = live_server.url
    bad_responses = []
    page.on("response", lambda r: bad_responses.append(r.url) if r.status >= 400 else None)
    _log_in_to_the_desk(page, base, settings)

    page.fill("#id_url", "https://www.chinadailyhk.com/hk/article/604533")
    page.fill("#id_publication", "China Daily HK")
    page.fill("#id_title", "Hong Kong stocks rallied on Friday")
    page.fill("#id_published", "2025-02-14")
    page.fill("#id_text", SEED_TEXT)
    page.click("input[name=analyse]")

    # One suggestion, pre-filled: Alvin Ngan's HSI 23,200 reach; nothing for Kenny Ng.
    assert page.locator("fieldset.candidate").count() == 2  # the suggestion + an empty row for a manual one
    assert page.input_value("#id_c-0-strategist") == "Alvin Ngan"
    assert page.input_value("#id_c-0-instrument") == "HSI"
    assert page.input_value("#id_c-0-kind") == "reach"
    assert float(page.input_value("#id_c-0-target")) == 23200
    assert "Kenny Ng" not in [page.input_value(f"#id_c-{i}-strategist") for i in range(2)]
    # ... saying why, and ticked because it is a confident numeric claim with a named speaker
    why = page.locator("#why-0").inner_text()
    assert "speaker: named in sentence" in why and "confidence 0.9" in why and "pre-ticked" in why
    assert page.is_checked("#id_c-0-accept") and not page.is_checked("#id_c-1-accept")
    assert page.locator("#why-1").count() == 0  # the hand-added row has no evidence
    screenshot(page, "desk-suggestions")

    page.click("input[name=save]")
    row = page.locator("#saved-forecasts tbody tr")
    assert row.count() == 1
    text = row.inner_text()
    assert "Alvin Ngan" in text and "hit" in text and "2025-02-21" in text and "draft awaiting review" in text
    screenshot(page, "desk-saved")
    assert page.console.errors == [], bad_responses


def test_editor_fetches_an_article_from_its_address(live_server, hsi, editor, page, screenshot, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.HINDSIGHT_DESK_FETCH_ALLOW_PRIVATE = True  # the recorded pages are served on loopback
    _log_in_to_the_desk(page, live_server.url, settings)
    with serve_pages() as pages:
        page.fill("#id_url", f"{pages}/missing")
        page.click("input[name=fetch]")
        assert "The page answered 404 Not Found." in page.locator("#fetch-error").inner_text()

        page.fill("#id_url", f"{pages}/article")
        page.click("input[name=fetch]")
    # the text, title, publication and date come from the page; four suggestions, two of them ticked
    assert "Alvin Ngan, a strategist at Zhongtai" in page.input_value("#id_text")
    assert page.input_value("#id_publication") == "Harbour Markets Daily"
    assert page.input_value("#id_published") == "2025-03-03"
    assert page.locator("fieldset.candidate").count() == 5
    assert [page.is_checked(f"#id_c-{i}-accept") for i in range(5)] == [True, True, False, False, False]
    assert page.input_value("#id_c-1-strategist") == "Goldman Sachs (strategists)"
    assert "replaces an earlier target of 24,000" in page.locator("#why-1").inner_text()
    assert "median of 40 strategists polled by Reuters" in page.locator("#why-2").inner_text()
    screenshot(page, "desk-fetched")
    assert page.console.errors == []
