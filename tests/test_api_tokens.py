"""API tokens end with the sessions and credentials they were issued under (issue 12, item 6;
CJIS IA-5, AC-2; ASVS V7.4): a password change, an administrator ending the sessions or
resetting the second factor, and disabling revoke every token, and enabling again revives
none. Tokens expire (90 days by default, at most a year) and carry a scope: a read-only token
is refused (403, logged) on the routes that write."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from hub.accounts import approvals
from hub.accounts.models import AccessRequest, ApiToken
from hub.accounts.own_access import create_api_token
from hub.audit.log import Actor
from hub.db import utcnow
from hub.vocabulary import AccessRequestStatus, AgencyKind, Role, SecurityEventTag, TokenScope
from tests.audit_support import detail_of
from tests.signing_in import PASSWORD, logged, submit_password

MISSING_CLIENT = "/api/v1/clients/999999"


@pytest.fixture
def agency(factories):
    return factories.Agency(name="Evergreen", kind=AgencyKind.case_management)


@pytest.fixture
def admin(sign_in, factories, agency):
    return sign_in(user=factories.User(role=Role.admin, agency_id=agency.id))


@pytest.fixture
def bearer(app, db):
    clients: list[TestClient] = []

    def _client(user, scope=TokenScope.read_write):
        token = create_api_token(db, Actor(user_id=user.id), user, "records system", scope=scope)
        client = TestClient(app, base_url="https://testserver")
        client.headers["Authorization"] = f"Bearer {token}"
        clients.append(client)
        return client

    yield _client
    for client in clients:
        client.close()


def _works(api) -> bool:
    """The token is honoured: an unknown client is 404, a dead token 401."""
    status = api.get(MISSING_CLIENT).status_code
    assert status in (401, 404)
    return status == 404


def _tokens(db, user):
    rows = db.exec(select(ApiToken).where(col(ApiToken.user_id) == user.id)).all()
    db.commit()
    return rows


def test_a_password_change_revokes_every_token(db, sign_in, bearer):
    manager = sign_in(Role.case_manager)
    api = bearer(manager.user)
    assert _works(api)
    changed = manager.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "new_password_again": "a brand new passphrase",
        },
    )
    assert changed.status_code == 200
    assert not _works(api)
    assert [t.revoked_reason for t in _tokens(db, manager.user)] == ["password_changed"]
    entry = logged(db, SecurityEventTag.password_changed, account_id=manager.user.id)[0]
    assert detail_of(entry)["tokens_revoked"] == 1


@pytest.mark.parametrize(
    ("action", "reason"), [("end-sessions", "ended_by_admin"), ("reset-mfa", "mfa_reset")]
)
def test_an_admin_ending_sessions_or_resetting_mfa_revokes_every_token(
    db, factories, agency, admin, bearer, action, reason
):
    manager = factories.User(role=Role.case_manager, agency_id=agency.id)
    apis = [bearer(manager), bearer(manager, TokenScope.read)]
    assert all(_works(api) for api in apis)
    assert admin.post(f"/admin/users/{manager.id}/{action}").status_code == 200
    assert not any(_works(api) for api in apis)
    assert {t.revoked_reason for t in _tokens(db, manager)} == {reason}


def test_disable_then_enable_does_not_revive_a_token(db, factories, sign_in, agency, admin, bearer):
    manager = factories.User(role=Role.case_manager, agency_id=agency.id)
    api = bearer(manager)
    assert admin.post(f"/admin/users/{manager.id}/disable").status_code == 200
    assert not _works(api)
    assert admin.post(f"/admin/users/{manager.id}/enable").status_code == 200
    request = db.exec(
        select(AccessRequest).where(
            col(AccessRequest.user_id) == manager.id,
            col(AccessRequest.status) == AccessRequestStatus.pending,
        )
    ).one()
    db.commit()
    supervisor = factories.User(role=Role.case_manager_supervisor, agency_id=agency.id)
    approver = approvals.Approver(supervisor.id, supervisor.role, agency.id, agency.kind)
    approvals.approve(db, Actor(), approver, request.id)
    # Active again, and its old token still opens nothing.
    assert not _works(api)
    assert _works(bearer(manager))  # a new token works


def test_a_lockout_revokes_every_token(db, client, factories, bearer, settings_env):
    settings_env(lockout_failures=2)
    manager = factories.User(role=Role.case_manager)
    api = bearer(manager)
    for _ in range(2):
        submit_password(client, manager.email, "not the password at all")
    assert not _works(api)
    assert [t.revoked_reason for t in _tokens(db, manager)] == ["locked"]


def test_a_read_only_token_is_refused_on_writes_and_logged(db, factories, bearer):
    manager = factories.User(role=Role.case_manager)
    reader = bearer(manager, TokenScope.read)
    assert _works(reader)
    # A search is a POST that reads: allowed.
    searched = reader.post("/api/v1/clients/search", json={"name": "Nobody Known"})
    assert searched.status_code == 200, searched.text
    refused = reader.post(
        f"{MISSING_CLIENT}/notes", json={"category": "engagement", "body": "Met at the clinic."}
    )
    assert refused.status_code == 403
    assert "only read" in refused.json()["detail"]
    (entry,) = logged(db, SecurityEventTag.access_denied, action="api:write")
    assert entry.actor_user_id == manager.id and detail_of(entry)["token_scope"] == "read"
    # The same request with a read-and-write token passes the door (the client is unknown).
    writer = bearer(manager, TokenScope.read_write)
    written = writer.post(
        f"{MISSING_CLIENT}/notes", json={"category": "engagement", "body": "Met at the clinic."}
    )
    assert written.status_code == 404


def test_tokens_are_read_only_and_last_90_days_unless_asked(db, sign_in):
    manager = sign_in(Role.case_manager)
    created = manager.post("/account/tokens", data={"name": "reporting"})
    assert created.status_code == 200
    (token,) = _tokens(db, manager.user)
    assert token.scope == TokenScope.read
    assert timedelta(days=89) < token.expires_at - utcnow() <= timedelta(days=90)
    assert "read" in manager.client.get("/account").text
    writer = manager.post(
        "/account/tokens", data={"name": "intake", "days": "365", "scope": "read_write"}
    )
    assert writer.status_code == 200
    assert {t.scope for t in _tokens(db, manager.user)} == {TokenScope.read, TokenScope.read_write}
    too_long = manager.post("/account/tokens", data={"name": "x", "days": "366"})
    assert too_long.status_code == 400


def test_every_api_route_that_writes_checks_the_token_scope():
    # Deny by default: a new /api/ router that forgot API_DEPENDENCIES would let a read-only
    # token write. Every POST/PUT/PATCH/DELETE under /api/ must run the scope check.
    from hub.web.api import refuse_read_only_writes
    from hub.web.app import create_app
    from tests.routes import calls, flat_routes

    writes = [
        route
        for route in flat_routes(create_app())
        if route.path.startswith("/api/")
        and set(getattr(route, "methods", None) or ()) - {"GET", "HEAD", "OPTIONS"}
    ]
    assert len(writes) >= 5  # referrals, decisions, notes, consents, revocations, search
    unchecked = [
        f"{sorted(route.methods)} {route.path}"
        for route in writes
        if refuse_read_only_writes not in set(calls(route.dependant))
    ]
    assert unchecked == []
