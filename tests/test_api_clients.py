"""Agency systems as OAuth 2 clients (issue 18, item 2), end to end on both databases:
registered by one person and approved by a second, a client-credentials token from
POST /oauth/token, an /api/v1 read that the policy layer decides for the client's role and
agency and logs with the client as the reader, RFC 7009 revocation, scopes per route (a logged
403), expiry (401), and a client not yet approved refused."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from hub.apiclients.models import ApiClient, ApiClientRequest, ApiClientToken
from hub.apiclients.scopes import route_scope
from hub.audit.models import LogEntry
from hub.vocabulary import (
    AgencyKind,
    ClientScope,
    DisclosureTag,
    Role,
    SecurityEventTag,
    WithheldReason,
)
from hub.web.app import create_app
from tests.factories import full_client
from tests.routes import flat_routes
from tests.signing_in import logged

# A fixed "now" for everything the clients' services, tokens and endpoints read the time from
# (the log keeps its own clock).
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    moment = SimpleNamespace(now=START)
    with (
        mock.patch("hub.apiclients.services.utcnow", side_effect=lambda: moment.now),
        mock.patch("hub.apiclients.tokens.utcnow", side_effect=lambda: moment.now),
        mock.patch("hub.apiclients.oauth.utcnow", side_effect=lambda: moment.now),
    ):
        yield moment


@pytest.fixture
def office(factories, sign_in, db):
    """A prosecutor's office with two admins (one asks, the other approves), and a client of
    the program with a charging matter at that office and data in every category."""
    prosecution = factories.Agency(name="Salish Prosecutor", kind=AgencyKind.prosecution)
    police = factories.Agency(name="Cascadia Police", kind=AgencyKind.police)
    case_management = factories.Agency(name="Evergreen", kind=AgencyKind.case_management)
    officer = factories.User(role=Role.officer, agency_id=police.id)
    case_manager = factories.User(role=Role.case_manager, agency_id=case_management.id)
    person = full_client(
        db,
        referring_user=officer,
        case_management_agency_id=case_management.id,
        prosecuting_agency_id=prosecution.id,
        note_author=case_manager,
    )
    db.commit()
    return SimpleNamespace(
        agency=prosecution,
        asker=sign_in(user=factories.User(role=Role.admin, agency_id=prosecution.id)),
        approver=sign_in(user=factories.User(role=Role.admin, agency_id=prosecution.id)),
        person_id=person.id,
    )


def _ask(office, scopes=("clients:read",)):
    """The asking admin registers a case system through the page; returns (id, secret)."""
    page = office.asker.post(
        "/admin/api-clients",
        data={
            "name": "Case system",
            "agency_id": str(office.agency.id),
            "role": "prosecutor",
            "scopes": list(scopes),
            "days": "30",
        },
    )
    assert page.status_code == 200, page.text
    text = page.text
    client_id = text.split('Client id: <code class="secret">')[1].split("<")[0]
    secret = text.split('Secret: <code class="secret">')[1].split("<")[0]
    return client_id, secret


def _request_id(db, client_id):
    client = db.exec(select(ApiClient).where(col(ApiClient.client_id) == client_id)).one()
    db.commit()
    row = db.exec(
        select(ApiClientRequest)
        .where(col(ApiClientRequest.api_client_id) == client.id)
        .order_by(col(ApiClientRequest.id))
    ).all()[-1]
    db.commit()
    return row.id


def _token(api, client_id, secret, **extra):
    return api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", **extra},
        auth=(client_id, secret),
    )


@pytest.fixture
def api(app):
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


def _registered_and_approved(db, office, scopes=("clients:read",)):
    client_id, secret = _ask(office, scopes)
    approved = office.approver.post(
        f"/admin/api-clients/requests/{_request_id(db, client_id)}/approve"
    )
    assert approved.status_code == 200, approved.text
    return client_id, secret


def test_register_approve_token_read_revoke(db, office, api, clock):
    client_id, secret = _ask(office)
    # Not approved yet: the credentials open nothing (and the refusal is logged).
    refused = _token(api, client_id, secret)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert logged(db, SecurityEventTag.api_client_token_refused, error="invalid_client")

    # The one who asked cannot approve it.
    own = office.asker.post(f"/admin/api-clients/requests/{_request_id(db, client_id)}/approve")
    assert own.status_code == 400 and "not yours" in own.text
    approved = office.approver.post(
        f"/admin/api-clients/requests/{_request_id(db, client_id)}/approve"
    )
    assert approved.status_code == 200
    assert logged(db, SecurityEventTag.api_client_approved)

    issued = _token(api, client_id, secret)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["scope"] == "clients:read"
    assert "refresh_token" not in body
    assert issued.headers["cache-control"] == "no-store"
    access = body["access_token"]
    assert access.startswith("hubc_")
    stored = db.exec(select(ApiClientToken)).all()
    db.commit()
    assert [row.token_hash for row in stored] != [access]  # kept as a hash only

    headers = {"Authorization": f"Bearer {access}"}
    record = api.get(f"/api/v1/clients/{office.person_id}", headers=headers)
    assert record.status_code == 200, record.text
    data = record.json()
    # The policy layer decided for a prosecutor of this office: the matter's fields, never
    # health or treatment (42 CFR 2.12(d)).
    assert data["identity"]["withheld"] is False
    assert data["legal"]["withheld"] is False
    for category in ("health", "treatment"):
        assert data[category]["withheld"] is True
        assert data[category]["reason"] == WithheldReason.enforcement_rule.value
    entry = db.exec(select(LogEntry).where(col(LogEntry.seq) == data["log_seq"])).one()
    db.commit()
    client = db.exec(select(ApiClient).where(col(ApiClient.client_id) == client_id)).one()
    db.commit()
    assert entry.tag == DisclosureTag.client_record_read.value
    assert entry.actor_user_id == client.service_user_id
    assert entry.actor_role == Role.prosecutor.value
    assert entry.actor_agency_id == office.agency.id

    revoked = api.post("/oauth/revoke", data={"token": access}, auth=(client_id, secret))
    assert revoked.status_code == 200
    assert logged(db, SecurityEventTag.api_client_token_revoked, api_client_id=client.id)
    after = api.get(f"/api/v1/clients/{office.person_id}", headers=headers)
    assert after.status_code == 401


def test_a_route_outside_the_tokens_scopes_is_a_logged_403(db, office, api, clock):
    client_id, secret = _registered_and_approved(db, office)
    access = _token(api, client_id, secret).json()["access_token"]
    queue = api.get("/api/v1/charging/queue", headers={"Authorization": f"Bearer {access}"})
    assert queue.status_code == 403
    refusals = db.exec(
        select(LogEntry).where(col(LogEntry.tag) == SecurityEventTag.access_denied.value)
    ).all()
    db.commit()
    assert any((r.detail or {}).get("scope") == "charging:read" for r in refusals)
    # A scope it was not granted cannot be asked for either.
    wider = _token(api, client_id, secret, scope="charging:read")
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"


def test_an_expired_token_is_401(db, office, api, clock):
    client_id, secret = _registered_and_approved(db, office)
    # client_secret_post works as well as HTTP Basic.
    issued = api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    access = issued.json()["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    assert api.get(f"/api/v1/clients/{office.person_id}", headers=headers).status_code == 200
    clock.now = START + timedelta(minutes=15, seconds=1)
    assert api.get(f"/api/v1/clients/{office.person_id}", headers=headers).status_code == 401
    # The client itself expires (30 days, as asked): then no token is issued at all.
    assert _token(api, client_id, secret).status_code == 200
    clock.now = START + timedelta(days=30, seconds=1)
    assert _token(api, client_id, secret).status_code == 401


def test_disabling_a_client_revokes_its_tokens(db, office, api, clock):
    client_id, secret = _registered_and_approved(db, office)
    access = _token(api, client_id, secret).json()["access_token"]
    client = db.exec(select(ApiClient).where(col(ApiClient.client_id) == client_id)).one()
    db.commit()
    disabled = office.asker.post(f"/admin/api-clients/{client.id}/disable")
    assert disabled.status_code == 200
    headers = {"Authorization": f"Bearer {access}"}
    assert api.get(f"/api/v1/clients/{office.person_id}", headers=headers).status_code == 401
    rows = db.exec(select(ApiClientToken).where(col(ApiClientToken.api_client_id) == client.id))
    assert [row.revoked_reason for row in rows] == ["client_disabled"]
    db.commit()
    assert _token(api, client_id, secret).status_code == 401
    assert logged(db, SecurityEventTag.api_client_disabled, tokens_revoked=1)


def test_wider_scopes_wait_for_a_second_person(db, office, api, clock):
    client_id, secret = _registered_and_approved(db, office)
    client = db.exec(select(ApiClient).where(col(ApiClient.client_id) == client_id)).one()
    db.commit()
    asked = office.asker.post(
        f"/admin/api-clients/{client.id}/scopes",
        data={"scopes": ["clients:read", "charging:read"]},
    )
    assert "second person" in asked.text
    assert _token(api, client_id, secret, scope="charging:read").status_code == 400
    office.approver.post(f"/admin/api-clients/requests/{_request_id(db, client_id)}/approve")
    assert _token(api, client_id, secret, scope="charging:read").status_code == 200


def test_wrong_secret_and_unknown_grant_are_refused(db, office, api, clock):
    client_id, _secret = _registered_and_approved(db, office)
    assert _token(api, client_id, "not the secret").status_code == 401
    other = api.post("/oauth/token", data={"grant_type": "password"}, auth=(client_id, _secret))
    assert other.status_code == 400
    assert other.json()["error"] == "unsupported_grant_type"


def test_a_client_cannot_take_a_role_its_agency_does_not_hold(db, office):
    page = office.asker.post(
        "/admin/api-clients",
        data={
            "name": "Case system",
            "agency_id": str(office.agency.id),
            "role": "officer",
            "scopes": ["clients:read"],
        },
    )
    assert page.status_code == 400
    assert db.exec(select(ApiClient)).all() == []
    db.commit()


def test_every_api_route_has_a_scope():
    """Deny by default works, and no /api/v1 route is left out of every scope by mistake."""
    missing = []
    for route in flat_routes(create_app()):
        if not route.path.startswith("/api/v1"):
            continue
        for method in route.methods:
            if route_scope(route, method) is None:
                missing.append(f"{method} {route.path}")
    assert missing == []
    assert {s for s in ClientScope} >= {
        route_scope(r, m)
        for r in flat_routes(create_app())
        if r.path.startswith("/api/v1")
        for m in r.methods
    }


def test_the_page_shows_each_approver_what_they_may_decide(db, office, factories, sign_in):
    client_id, _ = _ask(office)
    mine = office.asker.client.get("/admin/api-clients")
    assert mine.status_code == 200
    assert client_id in mine.text and "Nothing waits for your approval." in mine.text
    theirs = office.approver.client.get("/admin/api-clients")
    assert f"/admin/api-clients/requests/{_request_id(db, client_id)}/approve" in theirs.text
    # An admin of another office neither sees it nor may approve it (a logged refusal).
    other = factories.Agency(name="City Attorney", kind=AgencyKind.prosecution)
    stranger = sign_in(user=factories.User(role=Role.admin, agency_id=other.id))
    assert client_id not in stranger.client.get("/admin/api-clients").text
    refused = stranger.post(f"/admin/api-clients/requests/{_request_id(db, client_id)}/approve")
    assert refused.status_code == 400
    assert logged(db, SecurityEventTag.access_denied, action="approve_api_client")
