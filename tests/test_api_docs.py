"""/api/docs works under the hub's strict CSP (issue 12, item 10): no inline script or style,
every script one the CSP allows and pinned by its SRI hash, and it points to the OpenAPI
document, which lists the same routes."""

import re

from hub.web.security import CONTENT_SECURITY_POLICY, HTMX_INTEGRITY, HTMX_URL

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)


def _script_sources() -> set[str]:
    directive = next(d for d in CONTENT_SECURITY_POLICY.split("; ") if d.startswith("script-src"))
    return set(directive.split()[1:])


def test_the_api_docs_page_needs_nothing_the_csp_refuses(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    page = response.text
    allowed = _script_sources()
    for attributes, body in _SCRIPT.findall(page):
        assert not body.strip(), "an inline script: the CSP refuses it"
        src = re.search(r'src="([^"]+)"', attributes)
        assert src, "a script without src is inline"
        if src.group(1).startswith("/"):
            assert "'self'" in allowed
        else:
            # A third-party script is pinned: the exact URL the CSP names, and its SRI hash.
            assert src.group(1) == HTMX_URL and HTMX_URL in allowed
            assert f'integrity="{HTMX_INTEGRITY}"' in attributes
    assert "<style" not in page and " style=" not in page  # style-src 'self': no inline style
    assert "swagger" not in page.lower() and "cdn.jsdelivr.net/npm/swagger" not in page


def test_the_api_docs_page_lists_the_api_and_points_to_its_openapi_document(client):
    page = client.get("/api/docs").text
    assert 'href="/api/openapi.json"' in page
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/v1/charging/decisions" in paths
    for path in paths:
        assert f"<code>{path}</code>" in page, path
