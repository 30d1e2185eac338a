"""The client's address behind a reverse proxy (issue 18, item 4): X-Forwarded-For and
X-Forwarded-Proto count only when they come from an address in HUB_TRUSTED_PROXIES; from
anyone else they are ignored, so a password sprayer cannot pick a fresh address per attempt and
the log records where a request really came from. tests/test_deploy_proxy.py runs the same
through nginx."""

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import col, select

from hub.accounts.models import SignInAttempt
from hub.settings import Settings
from hub.web.app import create_app
from tests.signing_in import csrf_of

PROXY = "192.0.2.10"
VISITOR = "198.51.100.23"
SPRAYER = "192.0.2.7"


def _fail_sign_in(client: TestClient, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = client.get("/sign-in", headers=headers)
    answer = client.post(
        "/sign-in",
        data={"email": "nobody@example.test", "password": "wrong", "csrf_token": csrf_of(page)},
        headers=headers,
        follow_redirects=False,
    )
    return answer.status_code


def _addresses(db) -> list[str]:
    rows = db.exec(select(SignInAttempt.address).order_by(col(SignInAttempt.id))).all()
    db.commit()
    return list(rows)


def test_without_trusted_proxies_a_forwarded_address_is_ignored(database_url, db, settings_env):
    settings_env(address_attempts_per_window=3)
    with TestClient(create_app(), base_url="https://testserver", client=(SPRAYER, 5000)) as c:
        answers = [_fail_sign_in(c, forwarded_for=f"203.0.113.{n}") for n in range(4)]
    # A fresh X-Forwarded-For per attempt does not escape the per-address limit.
    assert answers == [401, 401, 401, 429]
    assert _addresses(db) == [SPRAYER] * 4


def test_the_trusted_proxy_names_the_client(database_url, db, settings_env):
    settings_env(trusted_proxies=f"{PROXY}, 10.0.0.0/24")
    app = create_app()
    with TestClient(app, base_url="https://testserver", client=(PROXY, 5000)) as proxy:
        assert _fail_sign_in(proxy, forwarded_for=VISITOR) == 401
    with TestClient(app, base_url="https://testserver", client=("10.0.0.9", 5000)) as second:
        assert _fail_sign_in(second, forwarded_for="198.51.100.24") == 401
    with TestClient(app, base_url="https://testserver", client=(SPRAYER, 5000)) as direct:
        assert _fail_sign_in(direct, forwarded_for=VISITOR) == 401
    assert _addresses(db) == [VISITOR, "198.51.100.24", SPRAYER]


def test_the_scheme_comes_from_the_trusted_proxy_only(database_url, settings_env):
    # Behind a TLS proxy the hub hears plain HTTP; the proxy's X-Forwarded-Proto makes it HSTS.
    settings_env(trusted_proxies=PROXY)
    app = create_app()
    said_https = {"X-Forwarded-Proto": "https"}
    with TestClient(app, base_url="http://testserver", client=(PROXY, 5000)) as proxy:
        assert "strict-transport-security" in proxy.get("/sign-in", headers=said_https).headers
    with TestClient(app, base_url="http://testserver", client=(SPRAYER, 5000)) as direct:
        assert "strict-transport-security" not in direct.get("/sign-in", headers=said_https).headers


@pytest.mark.parametrize("value", ["*", "proxy.example", "127.0.0.1, *", "10.0.0.0/33"])
def test_trusted_proxies_are_addresses_or_networks(value):
    with pytest.raises(ValidationError, match="not an IP address or network"):
        Settings(trusted_proxies=value)
