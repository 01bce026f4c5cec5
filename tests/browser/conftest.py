"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Chromium is never downloaded (no `playwright install`): the system binary is used. Without it the tests skip
locally and fail when HINDSIGHT_REQUIRE_SERVICES=1 (CI).
"""

import os
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import require_service

CHROMIUM = os.environ.get("HINDSIGHT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# The live server runs in a thread of this process and Playwright's sync API runs an event loop here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    # Also to be declared in pyproject.toml ([tool.pytest.ini_options] markers); harmless twice.
    config.addinivalue_line("markers", "browser: drives a real Chromium against a live server")


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    available = os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)
    require_service(f"Chromium ({CHROMIUM})", available)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        require_service("the playwright package", False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def demo_site(live_server, transactional_db):
    """The demo loaded into the live server's database; returns the server's base URL."""
    call_command("load_demo", "--no-admin", stdout=StringIO())
    return live_server.url


class ConsoleWatch:
    """Collects console errors and uncaught page errors."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.console = ConsoleWatch(page)
    yield page
    context.close()


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.console = ConsoleWatch(page)
    yield page
    context.close()


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
