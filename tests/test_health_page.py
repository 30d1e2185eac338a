"""/healthz/page, the load test's ceiling: a small template through the same middleware, and
nothing else (no database, no session, so no user activity; nothing in the API schema)."""

import pytest

from tests.fixtures.security_headers import assert_security_headers


def test_the_bare_page_renders_through_the_middleware_without_the_database(app, client):
    from hub.web.dependencies import database

    def no_database() -> None:
        pytest.fail("the bare page asked for the database")

    app.dependency_overrides[database] = no_database
    client.cookies.set("__Host-hub_session", "a-session-it-must-not-read")
    page = client.get("/healthz/page")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Ready</h1>" in page.text
    assert len(page.headers["x-request-id"]) == 24
    assert "set-cookie" not in page.headers
    assert_security_headers(page)


def test_the_bare_page_is_in_no_api_schema(client):
    assert not any(
        path.startswith("/healthz") for path in client.get("/api/openapi.json").json()["paths"]
    )
