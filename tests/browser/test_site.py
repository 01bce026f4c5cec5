"""The public site in a real browser: every page loads cleanly, charts draw their data, filters and the
language switch work. A screenshot of each page goes to test-artifacts/screenshots/."""

import json
import re

import pytest

from forecasts.models import Forecast

pytestmark = pytest.mark.browser


def _pages(seed: Forecast) -> dict[str, str]:
    return {
        "home": "/",
        "leaderboard": "/leaderboard/",
        "firms": "/firms/",
        "firm": f"/firms/{seed.firm.slug}/",
        "strategist": "/strategists/geoff-kendrick/",
        "forecast": f"/forecasts/{seed.pk}/",
        "instrument": "/instruments/HSI/",
        "source": f"/sources/{seed.source_id}/",
        "methodology": "/methodology/",
        "search": "/search/?q=hang",
    }


# canvas id -> (json_script id, dataset index, how to count the points in the JSON)
CHARTS = {
    "strategist": {"skill-chart": ("skill-data", 0, len), "difficulty-chart": ("difficulty-data", None, len)},
    "forecast": {"price-chart": ("price-data", 0, lambda d: len(d["prices"]))},
    "instrument": {
        "instrument-chart": ("instrument-data", 0, lambda d: len(d["prices"])),
    },
}


def _points(page, canvas_id: str, dataset: int | None) -> int:
    return page.evaluate(
        """([id, ds]) => {
            const chart = Chart.getChart(id);
            if (!chart) return -1;
            const sets = chart.data.datasets;
            return ds === null ? sets.reduce((n, s) => n + s.data.length, 0) : sets[ds].data.length;
        }""",
        [canvas_id, dataset],
    )


def test_every_page_loads_without_errors_and_charts_draw(demo_site, page, screenshot):
    seed = Forecast.objects.select_related("firm").get(strategist__slug="alvin-ngan")
    for name, path in _pages(seed).items():
        response = page.goto(demo_site + path)
        assert response.status == 200, path
        page.wait_for_load_state("load")
        assert page.locator("h1").first.is_visible(), path
        for canvas_id, (data_id, dataset, count) in CHARTS.get(name, {}).items():
            page.wait_for_function("id => window.Chart && Chart.getChart(id)", arg=canvas_id)
            data = json.loads(page.locator(f"#{data_id}").text_content())
            assert count(data) > 0, (path, canvas_id)
            assert _points(page, canvas_id, dataset) == count(data), (path, canvas_id)
            box = page.locator(f"#{canvas_id}").bounding_box()
            assert box and box["width"] > 200 and box["height"] > 150, (path, canvas_id)
        screenshot(page, name)
        assert page.console.errors == [], (path, page.console.errors)


def test_forecast_chart_marks_target_window_and_deciding_session(demo_site, page):
    seed = Forecast.objects.get(strategist__slug="alvin-ngan")
    page.goto(f"{demo_site}/forecasts/{seed.pk}/")
    page.wait_for_function("() => window.Chart && Chart.getChart('price-chart')")
    info = page.evaluate(
        """() => {
            const c = Chart.getChart('price-chart');
            const ann = c.options.plugins.annotation.annotations;
            return {keys: Object.keys(ann).sort(), target: ann.target0.yMin,
                    decided: c.data.datasets[1].data[0]};
        }"""
    )
    assert info["keys"] == ["baseline", "deadline", "target0", "window"]
    assert info["target"] == 23200
    assert info["decided"] == {"x": "2025-02-21", "y": 23477.92}


def test_instrument_chart_plots_every_target(demo_site, page):
    page.goto(demo_site + "/instruments/HSI/")
    page.wait_for_function("() => window.Chart && Chart.getChart('instrument-chart')")
    plotted = _points(page, "instrument-chart", 1)
    hsi = Forecast.objects.filter(instrument__symbol="HSI")
    assert plotted == sum(2 if f.kind == "range" else 1 for f in hsi)


def test_leaderboard_filters_change_the_results(demo_site, page, screenshot):
    page.goto(demo_site + "/leaderboard/")
    assert page.get_by_role("link", name="Geoff Kendrick").count() == 1
    page.get_by_label("Market").select_option("XHKG")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"market=XHKG"))
    assert page.get_by_role("link", name="Geoff Kendrick").count() == 0
    assert page.get_by_role("link", name="Alvin Ngan").count() == 1
    screenshot(page, "leaderboard-filtered")
    # Sorting keeps the filter.
    page.get_by_role("link", name="Hits", exact=True).first.click()
    page.wait_for_url(re.compile(r"sort=-hits"))
    assert "market=XHKG" in page.url
    assert page.console.errors == []


def test_language_links(demo_site, page, screenshot):
    page.goto(demo_site + "/leaderboard/")
    page.get_by_role("navigation", name="Language").get_by_role("link", name="繁體中文").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/zh-hant/leaderboard/")
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    assert page.locator("h1").text_content().strip() == "策略師排行榜"
    screenshot(page, "leaderboard-zh-hant")
    page.get_by_role("navigation", name="語言").get_by_role("link", name="简体中文").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/zh-hans/leaderboard/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.locator("h1").text_content().strip() == "策略师排行榜"
    page.goto(demo_site + "/zh-hant/")
    screenshot(page, "home-zh-hant")
    page.get_by_role("navigation", name="語言").get_by_role("link", name="English").click()
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.console.errors == []


def test_phone_layout_and_keyboard(demo_site, phone, screenshot):
    seed = Forecast.objects.get(strategist__slug="alvin-ngan")
    for name, path in {
        "home": "/",
        "forecast": f"/forecasts/{seed.pk}/",
        "leaderboard": "/leaderboard/",
    }.items():
        phone.goto(demo_site + path)
        # Nothing but the scrollable tables is wider than the screen.
        overflow = phone.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path, overflow)
        screenshot(phone, f"phone-{name}")
    # The first Tab reaches the skip link, which moves focus to the content.
    phone.goto(demo_site + "/")
    phone.keyboard.press("Tab")
    assert phone.evaluate("() => document.activeElement.className") == "skip"
    phone.keyboard.press("Enter")
    assert phone.evaluate("() => document.activeElement.id") == "content"
    assert phone.console.errors == []
