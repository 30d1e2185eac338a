"""An invited prosecutor signs in through the agency's OpenID provider (npm's oidc-provider on
loopback, with MFA that the program office trusts), opens the charging queue, and is signed
out when the provider sends a back-channel logout (issue 18: "done when")."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import select

from hub.accounts.administration import OPERATOR
from hub.audit.log import Actor
from hub.identity import provider as oidc
from hub.identity.config import ProviderSettings, configure_provider, secret_variable
from hub.identity.models import OidcSession
from hub.settings import get_settings
from hub.vocabulary import AgencyKind, Role
from tests.oidc_support import CLIENT_ID, CLIENT_SECRET, OpenIdProvider, start_provider

pytestmark = pytest.mark.browser


@pytest.fixture
def provider(live_server: Any, tmp_path: Any) -> Iterator[OpenIdProvider]:
    started = start_provider(tmp_path, [live_server.url])
    yield started
    started.stop()


def test_sign_in_through_the_provider_then_back_channel_logout(
    page, live_server, provider, db, factories, monkeypatch, browser_log
):
    agency = factories.Agency(name="Salish County Prosecutor", kind=AgencyKind.prosecution)
    user = factories.User(
        role=Role.prosecutor, agency=agency, email="prosecutor1@salish-prosecutor.example"
    )
    monkeypatch.setenv("HUB_PUBLIC_URL", live_server.url)
    monkeypatch.setenv(secret_variable(agency), CLIENT_SECRET)
    get_settings.cache_clear()
    oidc.forget_keys()
    settings = ProviderSettings(
        name="Salish County ID",
        issuer=provider.issuer,
        client_id=CLIENT_ID,
        allowed_domains=["salish-prosecutor.example"],
        trust_mfa=True,
    )
    configure_provider(db, Actor(role="operator"), OPERATOR, agency.id, settings)

    page.goto("/")
    page.wait_for_url("**/sign-in")
    page.get_by_role("link", name="Sign in with Salish County ID").click()
    page.wait_for_url(f"{live_server.url}/")  # through the provider and the callback page
    assert user.display_name in page.content()

    queue = page.goto("/charging")
    assert queue is not None and queue.status == 200
    assert page.url == f"{live_server.url}/charging"
    # The queue loads its counts by htmx after the page: let that finish while signed in, or
    # it may land after the logout and answer 401.
    page.wait_for_load_state("networkidle")

    federated = db.exec(select(OidcSession)).one()
    db.commit()
    provider.send_backchannel_logout("prosecutor-sub", federated.sid)

    page.goto("/charging")
    page.wait_for_url("**/sign-in")
    assert browser_log.errors == []
    assert browser_log.blocked == []
