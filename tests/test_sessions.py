"""Sessions (CJIS AC-11/AC-12, ASVS V7): timeouts, sign-out, sign-out everywhere, the account
page, CSRF on forms and htmx requests, and the security headers on every kind of response."""

import re
from datetime import timedelta

import pytest
from sqlmodel import col, select, update

from hub.accounts import own_access
from hub.accounts.models import ApiToken, UserSession
from hub.accounts.sessions import hash_token, load_api_token
from hub.db import utcnow
from hub.settings import get_settings
from hub.vocabulary import Role, SecurityEventTag, UserStatus
from tests.factories import PASSWORD
from tests.fixtures.markup import first_group
from tests.fixtures.security_headers import assert_security_headers
from tests.signing_in import csrf_of, fresh, logged, sign_in_for_real, submit_password

NEW_PASSWORD = "a much longer new passphrase"


def _move_session(db, signed_in, **values):
    db.exec(
        update(UserSession)
        .where(col(UserSession.csrf_token) == signed_in.csrf_token)
        .values(**values)
    )
    db.commit()


def _session_of(db, signed_in):
    row = db.exec(
        select(UserSession).where(col(UserSession.csrf_token) == signed_in.csrf_token)
    ).one()
    db.commit()
    return row


def test_idle_timeout(db, sign_in):
    officer = sign_in(Role.officer)
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    _move_session(db, officer, last_seen_at=utcnow() - idle + timedelta(minutes=1))
    assert officer.client.get("/").status_code == 200  # within the limit; touched again
    assert utcnow() - _session_of(db, officer).last_seen_at < timedelta(minutes=1)

    _move_session(db, officer, last_seen_at=utcnow() - idle - timedelta(seconds=1))
    response = officer.client.get("/", follow_redirects=False)
    assert response.headers["location"] == "/sign-in"
    assert _session_of(db, officer).ended_reason == "idle_timeout"
    # The hub closing a session is a security event too (CJIS AU-2).
    assert logged(db, SecurityEventTag.session_expired, reason="idle_timeout")
    # Ended, not merely idle: being active again does not bring it back.
    _move_session(db, officer, last_seen_at=utcnow())
    assert officer.client.get("/", follow_redirects=False).status_code == 303


def test_absolute_timeout(db, sign_in):
    officer = sign_in(Role.officer)
    _move_session(db, officer, expires_at=utcnow() - timedelta(seconds=1))
    assert officer.client.get("/", follow_redirects=False).headers["location"] == "/sign-in"
    assert _session_of(db, officer).ended_reason == "absolute_timeout"
    assert logged(db, SecurityEventTag.session_expired, reason="absolute_timeout")


def test_absolute_lifetime_is_set_at_sign_in(db, sign_in):
    officer = sign_in(Role.officer)
    session = _session_of(db, officer)
    lifetime = session.expires_at - session.created_at
    assert lifetime == timedelta(hours=get_settings().session_absolute_hours)


def test_sign_out_ends_the_session_on_the_server(db, sign_in):
    officer = sign_in(Role.officer)
    cookie_name = get_settings().session_cookie_name
    old_token = officer.client.cookies[cookie_name]
    response = officer.client.post(
        "/sign-out", data={"csrf_token": officer.csrf_token}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"
    cleared = [h for h in response.headers.get_list("set-cookie") if h.startswith(cookie_name)]
    assert cleared and "max-age=0" in cleared[0].lower()
    assert _session_of(db, officer).ended_reason == "sign_out"
    assert logged(db, SecurityEventTag.sign_out)
    # The old cookie, replayed, opens nothing.
    officer.client.cookies.set(cookie_name, old_token)
    assert officer.client.get("/", follow_redirects=False).headers["location"] == "/sign-in"


def test_sign_out_needs_the_csrf_token(db, sign_in):
    officer = sign_in(Role.officer)
    assert officer.client.post("/sign-out", follow_redirects=False).status_code == 403
    assert _session_of(db, officer).ended_at is None


def test_password_change_ends_every_other_session(db, factories, sign_in, client):
    user = factories.User(role=Role.case_manager)
    here = sign_in(user=user)
    elsewhere = sign_in(user=user)
    response = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "Other sessions ended: 1" in response.text
    assert here.client.get("/").status_code == 200
    assert elsewhere.client.get("/", follow_redirects=False).status_code == 303
    assert _session_of(db, elsewhere).ended_reason == "password_changed"
    assert logged(db, SecurityEventTag.password_changed, account_id=user.id)
    assert submit_password(client, user.email).status_code == 401
    assert submit_password(client, user.email, NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "again", "problem"),
    [
        ("wrong password here", NEW_PASSWORD, NEW_PASSWORD, "current password is not right"),
        (PASSWORD, "too short", "too short", "at least 12 characters"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "not the same"),
        (PASSWORD, PASSWORD, PASSWORD, "must differ"),
    ],
)
def test_a_refused_password_change_changes_nothing(db, sign_in, current, new, again, problem):
    user_session = sign_in(Role.case_manager)
    before = user_session.user.password_hash
    response = user_session.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "new_password_again": again},
    )
    assert response.status_code == 400
    assert problem in response.text
    assert fresh(db, user_session.user).password_hash == before
    assert not logged(db, SecurityEventTag.password_changed)


def test_wrong_current_passwords_count_toward_lockout(db, sign_in):
    user_session = sign_in(Role.case_manager)
    data = {
        "current_password": "wrong",
        "new_password": NEW_PASSWORD,
        "new_password_again": NEW_PASSWORD,
    }
    for _ in range(4):
        assert user_session.post("/account/password", data=data).status_code == 400
    last = user_session.post("/account/password", data=data, follow_redirects=False)
    assert last.status_code == 303
    assert fresh(db, user_session.user).status == UserStatus.locked
    assert user_session.client.get("/", follow_redirects=False).status_code == 303


def test_a_disabled_accounts_sessions_end(db, factories, sign_in):
    user = factories.User(role=Role.officer)
    officer = sign_in(user=user)
    admin = sign_in(user=factories.User(role=Role.admin, agency_id=user.agency_id))
    assert admin.post(f"/admin/users/{user.id}/disable").status_code == 200
    assert _session_of(db, officer).ended_reason == "account_disabled"
    assert officer.client.get("/", follow_redirects=False).status_code == 303
    assert logged(db, SecurityEventTag.user_disabled, account_id=user.id)


def test_account_page_lists_sessions_and_ends_one_with_htmx(db, factories, sign_in):
    user = factories.User()
    here = sign_in(user=user)
    elsewhere = sign_in(user=user)
    page = here.client.get("/account")
    assert page.status_code == 200
    assert page.text.count("End this session") == 2
    assert "(this session)" in page.text
    other_id = _session_of(db, elsewhere).id
    fragment = here.post(f"/account/sessions/{other_id}/end", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="sessions"')
    assert fragment.text.count("End this session") == 1
    assert elsewhere.client.get("/", follow_redirects=False).status_code == 303
    assert logged(db, SecurityEventTag.sign_out, session_id=other_id)


def test_ending_someone_elses_session_is_refused(db, factories, sign_in):
    mine = sign_in(Role.case_manager)
    theirs = sign_in(Role.case_manager)
    response = mine.post(f"/account/sessions/{_session_of(db, theirs).id}/end")
    assert response.status_code == 404
    assert theirs.client.get("/").status_code == 200


def test_api_token_is_shown_once_stored_hashed_and_revocable(db, sign_in):
    user_session = sign_in(Role.case_manager)
    response = user_session.post(
        "/account/tokens", data={"name": "reporting", "days": "30"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    token = first_group(r'<code class="secret">([^<]+)</code>', response.text)
    row = db.exec(select(ApiToken)).one()
    db.commit()
    assert row.token_hash == hash_token(token) and token not in row.token_hash
    loaded = load_api_token(db, token)
    assert loaded is not None and loaded.id == user_session.user.id
    db.commit()
    assert token not in user_session.client.get("/account").text  # never shown again
    assert logged(db, SecurityEventTag.api_token_created, token_id=row.id)

    revoked = user_session.post(f"/account/tokens/{row.id}/revoke")
    assert revoked.status_code == 200
    assert load_api_token(db, token) is None
    db.commit()
    assert logged(db, SecurityEventTag.api_token_revoked, token_id=row.id)


def test_a_bearer_token_cannot_manage_the_account(app, db, factories):
    from fastapi.testclient import TestClient

    from hub.audit.log import Actor

    user = factories.User()
    token = own_access.create_api_token(db, Actor(), user, "script", 5)
    with TestClient(app, base_url="https://testserver") as api:
        bearer = {"Authorization": f"Bearer {token}"}
        # Pages ignore bearer tokens altogether: the request is as good as anonymous.
        page = api.get("/account", headers=bearer, follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"] == "/sign-in"
        changed = api.post(
            "/account/password",
            headers=bearer,
            data={
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_again": NEW_PASSWORD,
            },
        )
        assert changed.status_code == 403


@pytest.mark.parametrize("days", ["0", "366"])
def test_api_token_lifetime_is_bounded(db, sign_in, days):
    user_session = sign_in(Role.case_manager)
    response = user_session.post("/account/tokens", data={"name": "x", "days": days})
    assert response.status_code == 400
    assert db.exec(select(ApiToken)).all() == []
    db.commit()


def test_reenrolment_needs_the_password_and_a_code(db, sign_in):
    import pyotp

    user_session = sign_in(Role.case_manager)
    old_secret = user_session.user.totp_secret_sealed
    refused = user_session.post("/account/mfa/start", data={"current_password": "wrong"})
    assert refused.status_code == 400
    started = user_session.post(
        "/account/mfa/start", data={"current_password": PASSWORD}, follow_redirects=False
    )
    assert started.headers["location"] == "/account/mfa"
    page = user_session.client.get("/account/mfa")
    secret = first_group(r'<code class="secret"[^>]*>([A-Z2-7 ]+)</code>', page.text)
    assert fresh(db, user_session.user).totp_secret_sealed == old_secret  # old one still works
    done = user_session.post(
        "/account/mfa", data={"code": pyotp.TOTP(secret.replace(" ", "")).now()}
    )
    assert done.status_code == 200
    assert len(re.findall(r"<li><code>", done.text)) == 10
    assert fresh(db, user_session.user).totp_secret_sealed != old_secret
    assert logged(db, SecurityEventTag.mfa_enrolled, account_id=user_session.user.id)


# --- CSRF --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "data"),
    [
        ({}, {"name": "n", "days": "5"}),  # a form without its token
        ({}, {"name": "n", "days": "5", "csrf_token": "forged"}),
        ({"HX-Request": "true"}, {"name": "n", "days": "5"}),  # htmx without the header
        ({"HX-Request": "true", "X-CSRF-Token": "forged"}, {"name": "n", "days": "5"}),
    ],
)
def test_csrf_rejection(db, sign_in, headers, data):
    user_session = sign_in(Role.case_manager)
    response = user_session.client.post("/account/tokens", headers=headers, data=data)
    assert response.status_code == 403
    assert db.exec(select(ApiToken)).all() == []
    db.commit()


@pytest.mark.parametrize("how", ["form", "header"])
def test_csrf_token_accepted(db, sign_in, how):
    user_session = sign_in(Role.case_manager)
    data = {"name": "n", "days": "5"}
    if how == "form":
        response = user_session.client.post(
            "/account/tokens", data={**data, "csrf_token": user_session.csrf_token}
        )
    else:
        response = user_session.post("/account/tokens", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 200


def test_a_half_signed_in_session_token_is_not_the_csrf_token(client, factories):
    user = factories.User()
    submit_password(client, user.email)
    page = client.get("/sign-in/second-factor")
    response = client.post(
        "/sign-in/second-factor", data={"code": "123456", "csrf_token": "x" + csrf_of(page)}
    )
    assert response.status_code == 403


# --- security headers --------------------------------------------------------------------------


def test_security_headers_on_html_json_and_errors(client, sign_in):
    html = client.get("/sign-in")
    assert html.headers["content-type"].startswith("text/html")
    assert_security_headers(html)
    assert_security_headers(client.get("/healthz"))
    assert_security_headers(client.get("/api/openapi.json"))
    not_found = client.get("/no-such-page")
    assert not_found.status_code == 404
    assert_security_headers(not_found)
    api_error = client.get("/api/no-such-thing")
    assert api_error.status_code == 404 and api_error.json()["detail"]
    assert_security_headers(api_error)
    forbidden = sign_in(Role.officer).client.get("/admin/users")
    assert forbidden.status_code == 403
    assert_security_headers(forbidden)


def test_no_hsts_over_plain_http(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as plain:
        assert_security_headers(plain.get("/healthz"), https=False)


def test_real_sign_in_then_sign_out_through_the_page(client, db, factories):
    user = factories.User()
    sign_in_for_real(client, user)
    home = client.get("/")
    assert 'action="/sign-out"' in home.text
    response = client.post("/sign-out", data={"csrf_token": csrf_of(home)}, follow_redirects=False)
    assert response.headers["location"] == "/sign-in"
    assert client.get("/", follow_redirects=False).status_code == 303
