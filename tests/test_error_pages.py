"""A crash is answered like any other response: the security headers and the request id are on
the 500 too (the page is rendered outside the middleware stack, in Starlette's
ServerErrorMiddleware), the page says only that something went wrong, and the log line names
the request, never what the exception said (it may hold personal data)."""

import logging
from collections.abc import Iterator

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from tests.fixtures.security_headers import assert_security_headers

# What a crash might carry: a database error quotes the values of its statement.
SECRET = "Marguerite Oyelaran-Test 1984-02-29"
GENERIC = "Something went wrong; nothing was shown or changed."


def _crash() -> None:
    raise RuntimeError(f"duplicate key (name)=({SECRET})")


def _crash_in_dependency() -> None:
    raise ValueError(SECRET)


def _crash_after_yield() -> Iterator[None]:
    yield
    raise ValueError(SECRET)


def _add_crashing_routes(app: FastAPI) -> None:
    """Only in the test's app: production has no route that raises on purpose."""
    for prefix in ("/crash", "/api/v1/crash"):
        app.add_api_route(f"{prefix}/{{record_id}}", _crash_route, methods=["GET"])
        app.add_api_route(
            f"{prefix}/dependency/{{record_id}}",
            _ok_route,
            methods=["GET"],
            dependencies=[Depends(_crash_in_dependency)],
        )
        app.add_api_route(
            f"{prefix}/teardown/{{record_id}}",
            _ok_route,
            methods=["GET"],
            dependencies=[Depends(_crash_after_yield)],
        )


def _crash_route(record_id: int) -> None:
    _crash()


def _ok_route(record_id: int) -> dict[str, str]:
    return {"ok": "yes"}


@pytest.fixture
def crashing(app: FastAPI) -> Iterator[TestClient]:
    _add_crashing_routes(app)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


PATHS = [
    f"{prefix}/{kind}7" for prefix in ("/crash", "/api/v1/crash") for kind in ("", "dependency/")
]


@pytest.mark.parametrize("path", PATHS)
def test_a_crash_has_the_headers_the_request_id_and_no_detail(crashing, caplog, path):
    with caplog.at_level(logging.INFO, logger="hub"):
        response = crashing.get(path)
    assert response.status_code == 500
    assert_security_headers(response)
    assert response.headers["x-frame-options"] == "DENY"
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 24
    assert SECRET not in response.text and "duplicate key" not in response.text
    if path.startswith("/api/"):
        assert response.json() == {"detail": GENERIC, "request_id": request_id}
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert GENERIC in response.text and request_id in response.text
    _assert_one_crash_line(caplog, request_id, path)


@pytest.mark.parametrize("prefix", ["/crash", "/api/v1/crash"])
def test_a_crash_after_the_response_went_out_is_logged_the_same(crashing, caplog, prefix):
    """A dependency's teardown runs after its response was sent: the client keeps that answer
    (with its headers), and the crash is still logged without what it said."""
    path = f"{prefix}/teardown/7"
    with caplog.at_level(logging.INFO, logger="hub"):
        response = crashing.get(path)
    assert response.status_code == 200
    assert_security_headers(response)
    _assert_one_crash_line(caplog, response.headers["x-request-id"], path)


def _assert_one_crash_line(caplog, request_id, path):
    lines = [r.getMessage() for r in caplog.records if r.name == "hub"]
    crash_lines = [line for line in lines if "unhandled" in line]
    assert len(crash_lines) == 1, lines
    assert request_id in crash_lines[0] and path in crash_lines[0]
    assert SECRET not in caplog.text and "duplicate key" not in caplog.text
    assert all(r.levelno == logging.ERROR for r in caplog.records if "unhandled" in r.getMessage())
