"""The editor's desk in a real browser: an editor pastes the seed article, accepts the suggested
forecast, and sees it scored."""

import re

import pytest
from django.contrib.auth.models import Group

from tests.test_admin_desk import SEED_TEXT

pytestmark = pytest.mark.browser


@pytest.fixture
def editor(django_user_model, transactional_db):
    user = django_user_model.objects.create_user("eddie", password="desk-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def test_editor_pastes_the_seed_article_and_sees_it_scored(
    live_server, hsi_with_prices, editor, page, screenshot, settings
):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # the live server speaks HTTP
    base = live_server.url
    bad_responses = []
    page.on("response", lambda r: bad_responses.append(r.url) if r.status >= 400 else None)
    page.goto(
        f"{base}/{settings.HINDSIGHT_ADMIN_PATH}login/?next=/{settings.HINDSIGHT_ADMIN_PATH}forecasts/source/"
    )
    page.fill("#id_username", "eddie")
    page.fill("#id_password", "desk-pass-123")
    page.click("input[type=submit]")
    page.get_by_role("link", name=re.compile("Editor's desk")).click()

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
    screenshot(page, "desk-suggestions")

    page.click("input[name=save]")
    row = page.locator("#saved-forecasts tbody tr")
    assert row.count() == 1
    text = row.inner_text()
    assert "Alvin Ngan" in text and "hit" in text and "2025-02-21" in text and "draft awaiting review" in text
    screenshot(page, "desk-saved")
    assert page.console.errors == [], bad_responses
