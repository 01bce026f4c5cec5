"""The API docs in a real browser: Swagger UI starts under the site's CSP ('self' only, no 'unsafe-inline',
no nonce), lists the operations, and "Try it out" runs a read against the live server."""

import pytest

pytestmark = pytest.mark.browser

# Recorded by the page itself (an init script is not subject to the page's CSP).
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_swagger_ui_runs_under_the_csp_and_tries_out_a_read(demo_site, page, screenshot):
    page.add_init_script(WATCH_CSP)
    response = page.goto(demo_site + "/api/docs/")
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "nonce-" not in csp
    # The operations are listed (from the schema, fetched by the static init script).
    list_op = page.locator("#operations-forecasts-forecasts_list")
    list_op.wait_for()
    assert page.locator(".opblock").count() > 10
    assert page.locator(".opblock-summary-path", has_text="/api/forecasts/").count() >= 1
    # Try it out -> Execute on the forecast list: the live answer, 200, is shown in the UI.
    list_op.locator(".opblock-summary").first.click()
    list_op.locator("button.try-out__btn").click()
    list_op.locator("button.execute").click()
    status = list_op.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip().startswith("200")
    assert (
        '"count"'
        in list_op.locator(".live-responses-table .response .response-col_description").first.inner_text()
    )
    screenshot(page, "api-docs-try-it-out")
    assert page.evaluate("window.__cspViolations") == []
    assert page.console.errors == []
