"""Every page type, in English, Traditional and Simplified Chinese, at a desktop and a phone width:
no console error, nothing wider than the screen, the language the URL asks for, and the leaderboard's
table whole at 1280 px (no sideways scrolling of its own)."""

from __future__ import annotations

import pytest

from forecasts.models import Forecast

LANGUAGES = {"en": ("", "en"), "zh-hant": ("/zh-hant", "zh-Hant"), "zh-hans": ("/zh-hans", "zh-Hans")}
WIDTHS = {"desktop": 1280, "phone": 390}

# Elements wider than the window, outside a container that scrolls sideways on purpose (wide tables sit
# in one; at 390 px they may scroll inside it, the page itself may not).
OVERFLOWING = """() => {
  const limit = document.documentElement.clientWidth + 1;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= limit) continue;
    let p = el.parentElement, scrolls = false;
    while (p && p !== document.body) {
      const s = getComputedStyle(p);
      if (['auto', 'scroll', 'hidden'].includes(s.overflowX)) { scrolls = true; break; }
      p = p.parentElement;
    }
    const cls = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '';
    if (!scrolls) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls);
  }
  return {page: document.documentElement.scrollWidth - window.innerWidth, elements: out.slice(0, 5)};
}"""


def page_types() -> dict[str, str]:
    seed = Forecast.objects.select_related("firm", "source", "instrument").get(strategist__slug="alvin-ngan")
    return {
        "home": "/",
        "leaderboard": "/leaderboard/",
        "firms": "/firms/",
        "firm": f"/firms/{seed.firm.slug}/",
        "strategist": "/strategists/alvin-ngan/",
        "forecast": f"/forecasts/{seed.pk}/",
        "instrument": f"/instruments/{seed.instrument.symbol}/",
        "source": f"/sources/{seed.source_id}/",
        "methodology": "/methodology/",
        "search": "/search/?q=HSI",
    }


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_every_page_type_fits_in_every_language(demo_site, chromium, screenshot, width_name):
    width = WIDTHS[width_name]
    phone = width < 600
    context = chromium.new_context(
        viewport={"width": width, "height": 900},
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    problems = []
    try:
        for code, (prefix, html_lang) in LANGUAGES.items():
            for name, path in page_types().items():
                response = page.goto(demo_site + prefix + path)
                where = f"{code} {name} {prefix + path} at {width}px"
                if response is None or response.status != 200:
                    problems.append(f"{where}: HTTP {response.status if response else '?'}")
                    continue
                if page.locator("html").get_attribute("lang") != html_lang:
                    problems.append(f"{where}: lang={page.locator('html').get_attribute('lang')}")
                found = page.evaluate(OVERFLOWING)
                if found["page"] > 1 or found["elements"]:
                    problems.append(f"{where}: {found['page']}px too wide, {found['elements']}")
                if name == "leaderboard" and not phone:
                    inner = page.evaluate(
                        "() => Math.max(0, ...[...document.querySelectorAll('main table')]"
                        ".map(t => t.scrollWidth - t.parentElement.clientWidth))"
                    )
                    if inner > 1:
                        problems.append(f"{where}: the board table scrolls sideways by {inner}px")
                if name in ("instrument", "leaderboard", "strategist") or code == "en":
                    screenshot(page, f"{width_name}-{code}-{name}")
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
    assert errors == [], "\n".join(errors)
