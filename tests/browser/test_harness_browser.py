"""The browser harness itself, on pages that need no sign-in: the live server answers with the
security headers, and htmx loads from the pinned CDN URL with its SRI hash checked by chromium."""

import pytest

from hub.web.security import CONTENT_SECURITY_POLICY, HTMX_URL

pytestmark = pytest.mark.browser


def test_health_answers_with_the_security_headers(page, browser_log):
    response = page.goto("/healthz")
    assert response.status == 200
    assert response.json() == {"status": "ok"}
    headers = response.headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert headers["x-request-id"]
    assert "strict-transport-security" not in headers  # plain HTTP on 127.0.0.1
    assert "server" not in headers
    assert browser_log.errors == []


def test_home_sends_a_stranger_to_sign_in(page):
    page.goto("/")
    assert page.url.endswith("/sign-in")


def test_error_page_loads_htmx_with_sri_and_no_console_errors(page, browser_log):
    response = page.goto("/no-such-page")
    assert response.status == 404
    page.wait_for_load_state("load")
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("window.htmx.version") == "2.0.8"
    script = page.locator(f'script[src="{HTMX_URL}"]')
    assert script.get_attribute("integrity").startswith("sha384-")
    assert page.title() == "Error 404 · Diversion Hub"
    assert browser_log.errors == []
    assert browser_log.blocked == []


def test_tampered_htmx_is_refused_by_sri(page, browser_log):
    """Proves the integrity check is real: different bytes at the CDN URL do not run."""
    page.route(
        HTMX_URL,
        lambda route: route.fulfill(
            status=200,
            body=b"window.htmx = {tampered: true};",
            headers={
                "content-type": "application/javascript",
                "access-control-allow-origin": "*",
            },
        ),
    )
    page.goto("/no-such-page")
    page.wait_for_load_state("load")
    assert page.evaluate("typeof window.htmx") == "undefined"
    assert any("integrity" in error for error in browser_log.errors)


def test_inline_script_is_refused_by_the_content_security_policy(page, browser_log):
    """CSP violations reach browser_log.errors, so a test that asserts no errors catches them."""
    page.goto("/no-such-page")
    page.wait_for_load_state("load")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = 1'; document.body.appendChild(s); }"
    )
    assert page.evaluate("typeof window.injected") == "undefined"
    assert any("Content Security Policy" in error for error in browser_log.errors)
