"""Signing in through an agency's own OpenID provider (issue 18, item 1), against a real one:
npm's oidc-provider on loopback (tests/oidc_support.py), on both databases.

The hub links a provider's verified e-mail to an account it invited, never makes one from
claims; the provider's MFA counts only where the program office trusts it; ID tokens are
checked for issuer, audience, expiry, nonce and signature (a rotated key is fetched again);
a replayed code, a forged logout token and a provider that is down are refused clearly.
"""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from hub.accounts.administration import OPERATOR, Scope
from hub.accounts.models import Agency, User, UserSession
from hub.accounts.rules import AccountError
from hub.audit.log import Actor
from hub.db import ident, utcnow
from hub.identity import provider as oidc
from hub.identity.config import ProviderSettings, configure_provider, secret_variable
from hub.identity.models import IdentityLink, IdentityProvider, OidcAuthorization, OidcSession
from hub.identity.services import AUTHORIZATION_MINUTES
from hub.settings import get_settings
from hub.vocabulary import AgencyKind, Role, SecurityEventTag
from tests.audit_support import detail_of
from tests.oidc_support import CLIENT_ID, CLIENT_SECRET, OpenIdProvider, start_provider
from tests.oidc_support import through_provider as provider_redirects
from tests.signing_in import code_for, csrf_of, fresh, logged, sign_in_for_real, submit_code

HUB = "https://testserver"
OPERATOR_ACTOR = Actor(role="operator", request_id="cli:test")


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[OpenIdProvider]:
    started = start_provider(tmp_path, [HUB])
    yield started
    started.stop()


@pytest.fixture
def prosecution(
    db: Session, factories: SimpleNamespace, provider: OpenIdProvider, monkeypatch: Any
) -> SimpleNamespace:
    """The prosecutor's office, its provider (MFA trusted) and its invited prosecutor."""
    agency = factories.Agency(name="Salish County Prosecutor", kind=AgencyKind.prosecution)
    user = factories.User(
        role=Role.prosecutor, agency=agency, email="prosecutor1@salish-prosecutor.example"
    )
    monkeypatch.setenv("HUB_PUBLIC_URL", HUB)
    monkeypatch.setenv(secret_variable(agency), CLIENT_SECRET)
    get_settings.cache_clear()
    oidc.forget_keys()
    configure(db, agency, provider.issuer, trust_mfa=True)
    return SimpleNamespace(agency=agency, user=user, provider=provider)


def configure(db: Session, agency: Agency, issuer: str, **changes: Any) -> IdentityProvider:
    fields: dict[str, Any] = {
        "name": "Salish County ID",
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "allowed_domains": ["salish-prosecutor.example"],
    }
    settings = ProviderSettings(**{**fields, **changes})
    return configure_provider(db, OPERATOR_ACTOR, OPERATOR, ident(agency.id), settings)


def start(client: TestClient, agency_id: int) -> Any:
    assert client.get("/sign-in").status_code == 200
    return client.get(f"/sign-in/oidc/agency/{agency_id}", follow_redirects=False)


def callback_for(client: TestClient, world: SimpleNamespace, subject: str) -> str:
    """Starts a sign-in at the hub and signs in at the provider as `subject`; returns the
    hub callback (path and query) the provider sent the browser to."""
    started = start(client, world.agency.id)
    assert started.status_code == 303, started.text
    world.provider.use_account(subject)
    return provider_redirects(started.headers["location"], HUB)


def sign_in_through(client: TestClient, world: SimpleNamespace, subject: str) -> Any:
    return client.get(callback_for(client, world, subject), follow_redirects=False)


def test_the_sign_in_page_offers_the_agencys_provider(client, prosecution):
    page = client.get("/sign-in")
    assert "Sign in with Salish County ID" in page.text
    assert f'href="/sign-in/oidc/agency/{prosecution.agency.id}"' in page.text


def test_an_invited_prosecutor_signs_in_with_the_providers_trusted_mfa(db, client, prosecution):
    done = sign_in_through(client, prosecution, "prosecutor-sub")
    assert done.status_code == 200, [
        e.detail for e in logged(db, SecurityEventTag.oidc_sign_in_failure)
    ]
    assert 'content="0; url=/"' in done.text
    assert client.get("/", follow_redirects=False).status_code == 200
    link = db.exec(select(IdentityLink)).one()
    assert (link.user_id, link.issuer, link.subject) == (
        prosecution.user.id,
        prosecution.provider.issuer,
        "prosecutor-sub",
    )
    assert logged(db, SecurityEventTag.oidc_link_created, agency_id=prosecution.agency.id)
    success = logged(db, SecurityEventTag.oidc_sign_in_success, mfa="provider")
    assert [e.actor_user_id for e in success] == [prosecution.user.id]
    session = db.exec(select(UserSession).where(col(UserSession.mfa_passed).is_(True))).one()
    assert session.user_id == prosecution.user.id
    # Accounts come from the hub only: nothing was created from the claims.
    assert len(db.exec(select(User)).all()) == 1


def test_a_later_sign_in_matches_on_the_subject_not_the_email(db, client, prosecution):
    assert sign_in_through(client, prosecution, "prosecutor-sub").status_code == 200
    user = fresh(db, prosecution.user)
    user.email = "renamed@salish-prosecutor.example"
    db.add(user)
    db.commit()
    client.cookies.clear()
    assert sign_in_through(client, prosecution, "prosecutor-sub").status_code == 200
    assert client.get("/", follow_redirects=False).status_code == 200
    assert len(logged(db, SecurityEventTag.oidc_link_created)) == 1


def test_without_trust_in_the_provider_the_hub_totp_step_follows(db, client, prosecution):
    configure(db, prosecution.agency, prosecution.provider.issuer, trust_mfa=False)
    done = sign_in_through(client, prosecution, "prosecutor-sub")
    assert done.status_code == 200
    assert 'content="0; url=/sign-in/second-factor"' in done.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"
    assert logged(db, SecurityEventTag.oidc_sign_in_success, mfa="hub_totp_follows")
    finished = submit_code(client, code_for(prosecution.user))
    assert finished.status_code == 303 and finished.headers["location"] == "/"
    assert client.get("/", follow_redirects=False).status_code == 200


def test_trusted_provider_without_mfa_in_amr_still_needs_the_totp_step(client, prosecution):
    done = sign_in_through(client, prosecution, "password-only-sub")
    assert 'content="0; url=/sign-in/second-factor"' in done.text


def test_an_uninvited_email_is_refused_and_no_account_is_made(db, client, prosecution):
    refused = sign_in_through(client, prosecution, "stranger-sub")
    assert refused.status_code == 401
    assert "must have been created in the hub first" in refused.text
    assert logged(db, SecurityEventTag.oidc_sign_in_failure, reason="no_invited_account")
    assert db.exec(select(IdentityLink)).all() == []
    assert len(db.exec(select(User)).all()) == 1
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"


def test_an_unverified_email_is_not_linked(db, client, prosecution):
    assert sign_in_through(client, prosecution, "unverified-sub").status_code == 401
    assert logged(db, SecurityEventTag.oidc_sign_in_failure, reason="email_not_verified")
    assert db.exec(select(IdentityLink)).all() == []


def test_an_email_of_another_domain_is_not_linked(db, client, prosecution):
    configure(
        db, prosecution.agency, prosecution.provider.issuer, allowed_domains=["other.example"]
    )
    assert sign_in_through(client, prosecution, "prosecutor-sub").status_code == 401
    assert logged(db, SecurityEventTag.oidc_sign_in_failure, reason="domain_not_allowed")


def _latest_authorization(db: Session) -> OidcAuthorization:
    row = db.exec(select(OidcAuthorization).order_by(col(OidcAuthorization.id).desc())).first()
    db.commit()
    assert row is not None
    return row


def test_an_id_token_for_another_client_is_refused(db, client, prosecution):
    """The provider's real ID token, checked as if the hub were another client: wrong aud."""
    callback = callback_for(client, prosecution, "prosecutor-sub")
    code = callback.split("code=")[1].split("&")[0]
    pending = _latest_authorization(db)
    metadata = oidc.discover(prosecution.provider.issuer)
    id_token, _ = oidc.exchange_code(
        metadata,
        CLIENT_ID,
        CLIENT_SECRET,
        HUB + "/sign-in/oidc/callback",
        code=code,
        code_verifier=pending.code_verifier,
    )
    assert oidc.validate_id_token(id_token, metadata, CLIENT_ID, pending.nonce)["sub"]
    with pytest.raises(oidc.TokenRefused) as refused:
        oidc.validate_id_token(id_token, metadata, "another-agencys-client", pending.nonce)
    assert refused.value.reason == "wrong_audience"
    # Nor does an ID token pass for a back-channel logout token.
    with pytest.raises(oidc.TokenRefused) as refused:
        oidc.validate_logout_token(id_token, metadata, CLIENT_ID)
    assert refused.value.reason == "not_a_logout_token"


def test_a_replayed_code_is_refused(db, client, prosecution):
    first = callback_for(client, prosecution, "prosecutor-sub")
    assert client.get(first, follow_redirects=False).status_code == 200
    # The same callback again: its state is used up.
    assert client.get(first, follow_redirects=False).status_code == 401
    assert logged(db, SecurityEventTag.oidc_sign_in_failure, reason="unknown_state")
    # The old code under a fresh request's state: the provider refuses to redeem it twice.
    client.cookies.clear()
    started = start(client, prosecution.agency.id)
    state = started.headers["location"].split("state=")[1].split("&")[0]
    code = first.split("code=")[1].split("&")[0]
    replayed = client.get(f"/sign-in/oidc/callback?code={code}&state={state}")
    assert replayed.status_code == 401
    assert logged(db, SecurityEventTag.oidc_sign_in_failure, reason="code_refused")


def test_a_nonce_mismatch_is_refused(db, client, prosecution):
    callback = callback_for(client, prosecution, "prosecutor-sub")
    pending = _latest_authorization(db)
    pending.nonce = "not-the-nonce-the-provider-saw"
    db.add(pending)
    db.commit()
    assert client.get(callback, follow_redirects=False).status_code == 401
    assert logged(db, SecurityEventTag.oidc_sign_in_failure, reason="nonce_mismatch")
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"


def test_a_callback_in_another_browser_is_refused(db, app, client, prosecution):
    callback = callback_for(client, prosecution, "prosecutor-sub")
    with TestClient(app, base_url=HUB) as other:
        assert other.get(callback, follow_redirects=False).status_code == 401
    assert logged(db, SecurityEventTag.oidc_sign_in_failure, reason="other_browser")


def test_a_rotated_signing_key_is_fetched_again(db, client, prosecution, monkeypatch):
    # The once-a-second limit on refetching is tested on a set clock (test_oidc_keys.py); here
    # it would make the outcome depend on how fast the provider restarts.
    monkeypatch.setattr(oidc, "KEYS_REFETCH_SECONDS", 0.0)
    assert sign_in_through(client, prosecution, "prosecutor-sub").status_code == 200
    old_kid = prosecution.provider.key["kid"]
    prosecution.provider.restart(new_key=True)  # the old key is gone from its JWKS
    assert prosecution.provider.key["kid"] != old_kid
    client.cookies.clear()
    assert sign_in_through(client, prosecution, "prosecutor-sub").status_code == 200
    assert len(logged(db, SecurityEventTag.oidc_sign_in_success)) == 2


def test_a_provider_that_is_down_gets_a_clear_message_and_passwords_still_work(
    db, client, prosecution
):
    prosecution.provider.stop()
    down = start(client, prosecution.agency.id)
    assert down.status_code == 503
    assert "Salish County ID cannot be reached just now" in down.text
    assert logged(db, SecurityEventTag.oidc_sign_in_failure, reason="provider_unreachable")
    signed_in = sign_in_for_real(client, prosecution.user)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"


def test_back_channel_logout_ends_the_session(db, app, client, prosecution):
    assert sign_in_through(client, prosecution, "prosecutor-sub").status_code == 200
    federated = db.exec(select(OidcSession)).one()
    db.commit()
    assert federated.sid
    token = prosecution.provider.logout_token("prosecutor-sub", federated.sid)
    with TestClient(app, base_url=HUB) as provider_side:  # no cookie: server to server
        answer = provider_side.post(
            "/sign-in/oidc/backchannel-logout", data={"logout_token": token}
        )
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store"
        # A token the provider never signed changes nothing.
        forged = provider_side.post(
            "/sign-in/oidc/backchannel-logout", data={"logout_token": token[:-8] + "AAAAAAAA"}
        )
        assert forged.status_code == 400
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"
    assert logged(db, SecurityEventTag.oidc_logout, sessions_ended=1)


def test_sign_out_ends_the_session_at_the_provider_too(db, client, prosecution):
    assert sign_in_through(client, prosecution, "prosecutor-sub").status_code == 200
    page = client.get("/account")
    out = client.post("/sign-out", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert out.status_code == 200  # a page that moves on: a form may not redirect elsewhere
    assert f'content="0; url={prosecution.provider.issuer}/session/end?' in out.text
    assert f"client_id={CLIENT_ID}" in out.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"


def test_only_the_program_office_configures_a_provider(db, prosecution):
    agency_admin = Scope(all_agencies=False, agency_id=prosecution.agency.id, manager_id=1)
    with pytest.raises(AccountError):
        configure_provider(
            db,
            OPERATOR_ACTOR,
            agency_admin,
            prosecution.agency.id,
            ProviderSettings(
                name="Mine",
                issuer="https://id.example",
                client_id="c",
                allowed_domains=["x.example"],
            ),
        )
    changes = logged(db, SecurityEventTag.identity_provider_changed)
    assert len(changes) == 1 and "secret" not in str(changes[0].detail).lower()


def test_an_address_that_failed_too_often_is_refused_before_the_provider(
    db, client, prosecution, settings_env
):
    settings_env(address_attempts_per_window=2)
    for _ in range(2):
        assert sign_in_through(client, prosecution, "stranger-sub").status_code == 401
    limited = start(client, prosecution.agency.id)
    assert limited.status_code == 429
    assert logged(db, SecurityEventTag.sign_in_rate_limited, stage="provider")


def test_a_request_left_open_too_long_is_refused_and_old_ones_are_cleared(db, client, prosecution):
    callback = callback_for(client, prosecution, "prosecutor-sub")
    pending = _latest_authorization(db)
    pending.created_at = utcnow() - timedelta(minutes=AUTHORIZATION_MINUTES + 1)
    db.add(pending)
    db.commit()
    assert client.get(callback, follow_redirects=False).status_code == 401
    assert logged(db, SecurityEventTag.oidc_sign_in_failure, reason="request_expired")
    pending = fresh(db, pending)
    pending.created_at = utcnow() - timedelta(days=2)
    db.add(pending)
    db.commit()
    old_state = pending.state_hash
    assert start(client, prosecution.agency.id).status_code == 303
    remaining = db.exec(select(OidcAuthorization.state_hash)).all()
    db.commit()
    assert len(remaining) == 1 and remaining[0] != old_state


def test_an_error_from_the_provider_is_refused_and_logged_as_its_code_only(db, client, prosecution):
    started = start(client, prosecution.agency.id)
    state = started.headers["location"].split("state=")[1].split("&")[0]
    refused = client.get(
        f"/sign-in/oidc/callback?state={state}&error=access_denied%20%3Cscript%3E",
        follow_redirects=False,
    )
    assert refused.status_code == 401
    assert (
        detail_of(logged(db, SecurityEventTag.oidc_sign_in_failure, reason="provider_error")[0])[
            "error"
        ]
        == "access_deniedscript"
    )
