"""Sign-in through the real forms: password, second factor (TOTP or recovery code), enrolment,
lockout (CJIS AC-7), the per-address limit, inactive accounts, cookies."""

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from hub.accounts import signing_in
from hub.accounts.models import SignInAttempt, UserSession
from hub.accounts.rules import BAD_CODE, GENERIC_FAILURE, RATE_LIMITED
from hub.accounts.sessions import hash_token
from hub.db import utcnow
from hub.settings import get_settings
from hub.vocabulary import Role, SecurityEventTag, UserStatus
from tests.audit_support import detail_of
from tests.fixtures.markup import first_group
from tests.signing_in import (
    code_for,
    csrf_of,
    fresh,
    logged,
    sign_in_for_real,
    sign_out,
    submit_code,
    submit_password,
)

COOKIE = "__Host-hub_session"


def _sessions_of(db, user):
    rows = db.exec(
        select(UserSession).where(col(UserSession.user_id) == user.id).order_by(col(UserSession.id))
    ).all()
    db.commit()
    return rows


def test_full_sign_in_with_totp(client, db, factories):
    user = factories.User(role=Role.officer)
    page = client.get("/sign-in")
    assert page.status_code == 200
    assert 'for="email"' in page.text and 'for="password"' in page.text

    response = submit_password(client, user.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in/second-factor"
    half_token = client.cookies[COOKIE]
    # A half session opens no page.
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"

    response = submit_code(client, code_for(user))
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    full_token = client.cookies[COOKIE]
    assert full_token != half_token
    home = client.get("/")
    assert home.status_code == 200
    assert "officer" in home.text

    half, full = _sessions_of(db, user)
    # ASVS V7.2.4: a fresh session id at each step; the half session is over.
    assert half.token_hash == hash_token(half_token) and not half.mfa_passed
    assert half.ended_reason == "second_factor_passed"
    assert full.token_hash == hash_token(full_token) and full.mfa_passed
    assert full.ended_at is None
    assert fresh(db, user).last_active_at is not None
    assert len(logged(db, SecurityEventTag.sign_in_success)) == 1
    attempts = db.exec(select(SignInAttempt).where(col(SignInAttempt.user_id) == user.id)).all()
    db.commit()
    assert [(a.stage, a.succeeded) for a in attempts] == [
        ("password", True),
        ("second_factor", True),
    ]


def test_the_old_half_session_token_opens_nothing_afterwards(client, db, factories):
    user = factories.User()
    submit_password(client, user.email)
    half_token = client.cookies[COOKIE]
    submit_code(client, code_for(user))
    other = TestClient(client.app, base_url="https://testserver")
    other.cookies.set(COOKIE, half_token)
    assert other.get("/", follow_redirects=False).headers["location"] == "/sign-in"
    assert other.get("/sign-in/second-factor", follow_redirects=False).status_code == 303


def test_a_replayed_code_is_refused(client, db, factories):
    user = factories.User()
    code = code_for(user)
    assert sign_in_for_real(client, user, code).status_code == 303
    sign_out(client)

    response = sign_in_for_real(client, user, code)
    assert response.status_code == 401
    assert BAD_CODE in response.text
    assert COOKIE in client.cookies  # still the half session: no page opens
    assert client.get("/", follow_redirects=False).status_code == 303
    assert logged(db, SecurityEventTag.sign_in_failure, reason="wrong_code")

    # A code of a later time step works.
    assert submit_code(client, code_for(user, steps_ahead=1)).status_code == 303
    assert client.get("/").status_code == 200


def test_enrolment_then_a_recovery_code_works_once(client, db, factories):
    user = factories.User(totp_secret_sealed=None, mfa_enrolled_at=None)
    response = submit_password(client, user.email)
    assert response.headers["location"] == "/sign-in/enrol"
    page = client.get("/sign-in/enrol")
    assert page.status_code == 200
    assert "<svg" in page.text and "<img" not in page.text  # inline QR, no external image
    secret = first_group(r'<code class="secret"[^>]*>([A-Z2-7 ]+)</code>', page.text)
    secret = secret.replace(" ", "")

    import pyotp

    wrong = client.post(
        "/sign-in/enrol",
        data={"code": "000000", "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert wrong.status_code == 401
    confirmed = client.post(
        "/sign-in/enrol",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert confirmed.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", confirmed.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/").status_code == 200  # signed in
    user = fresh(db, user)
    assert user.mfa_enrolled_at is not None and user.totp_secret_sealed
    assert logged(db, SecurityEventTag.mfa_enrolled, account_id=user.id)

    sign_out(client)
    assert sign_in_for_real(client, user, codes[3].upper()).status_code == 303
    assert client.get("/").status_code == 200
    assert detail_of(logged(db, SecurityEventTag.recovery_code_used)[0])["remaining"] == 9

    sign_out(client)
    again = sign_in_for_real(client, user, codes[3])
    assert again.status_code == 401
    assert BAD_CODE in again.text


def test_one_message_for_unknown_address_wrong_password_and_locked_account(client, db, factories):
    user = factories.User()
    locked = factories.User(status=UserStatus.locked)
    disabled = factories.User(status=UserStatus.disabled)
    answers = [
        submit_password(client, "nobody@example.test"),
        submit_password(client, user.email, "not the password at all"),
        submit_password(client, locked.email),
        submit_password(client, disabled.email),
    ]
    for answer in answers:
        assert answer.status_code == 401
        assert GENERIC_FAILURE in answer.text
    reasons = [detail_of(e)["reason"] for e in logged(db, SecurityEventTag.sign_in_failure)]
    assert reasons == ["unknown_account", "wrong_password", "account_locked", "account_disabled"]


def test_five_failures_lock_the_account_until_an_admin_releases_it(client, db, factories, sign_in):
    user = factories.User(role=Role.officer)
    for _ in range(4):
        assert submit_password(client, user.email, "wrong password, again").status_code == 401
    assert fresh(db, user).status == UserStatus.active
    submit_password(client, user.email, "wrong password, again")
    assert fresh(db, user).status == UserStatus.locked
    assert logged(db, SecurityEventTag.account_locked, account_id=user.id)
    # The right password no longer opens it, and the answer says nothing more.
    refused = submit_password(client, user.email)
    assert refused.status_code == 401 and GENERIC_FAILURE in refused.text

    admin = factories.User(role=Role.admin, agency_id=user.agency_id)
    manager = sign_in(user=admin)
    page = manager.client.get(f"/admin/users/{user.id}")
    assert "Release lockout" in page.text
    assert manager.post(f"/admin/users/{user.id}/release").status_code == 200
    assert fresh(db, user).status == UserStatus.active
    assert logged(db, SecurityEventTag.account_unlocked, account_id=user.id)
    # The failures before the release no longer count.
    assert submit_password(client, user.email, "one more wrong one").status_code == 401
    assert fresh(db, user).status == UserStatus.active
    assert sign_in_for_real(client, user).status_code == 303


def test_second_factor_failures_lock_too(client, db, factories):
    user = factories.User()
    assert submit_password(client, user.email).status_code == 303
    for _ in range(4):
        assert submit_code(client, "000000").status_code == 401
    last = submit_code(client, "000000")
    assert last.status_code == 401
    assert GENERIC_FAILURE in last.text  # back to the password step
    assert fresh(db, user).status == UserStatus.locked
    half = _sessions_of(db, user)[0]
    assert half.ended_at is not None


def test_a_passed_password_step_does_not_reset_the_count(client, db, factories):
    user = factories.User()
    for _ in range(2):
        submit_password(client, user.email)
        submit_code(client, "000000")
        submit_code(client, "000000")
    assert fresh(db, user).status == UserStatus.active
    submit_password(client, user.email)
    submit_code(client, "000000")
    assert fresh(db, user).status == UserStatus.locked


def test_per_address_limit(app, db, factories, settings_env):
    settings_env(address_attempts_per_window=3)
    user = factories.User()
    with TestClient(app, base_url="https://testserver", client=("192.0.2.7", 5000)) as sprayer:
        for n in range(3):
            assert submit_password(sprayer, f"guess{n}@example.test").status_code == 401
        limited = submit_password(sprayer, user.email)
        assert limited.status_code == 429
        assert RATE_LIMITED in limited.text
    assert logged(db, SecurityEventTag.sign_in_rate_limited)
    assert logged(db, SecurityEventTag.sign_in_rate_limited)[0].outcome == "denied"
    attempts = db.exec(select(SignInAttempt).where(col(SignInAttempt.address) == "192.0.2.7")).all()
    db.commit()
    assert len(attempts) == 4
    # Another address is not held back, and the account is not locked by the sprayer.
    with TestClient(app, base_url="https://testserver", client=("192.0.2.8", 5000)) as other:
        assert sign_in_for_real(other, user).status_code == 303
    assert fresh(db, user).status == UserStatus.active


def test_an_inactive_account_is_refused_and_disabled(client, db, factories, sign_in):
    long_ago = utcnow() - timedelta(days=get_settings().inactive_account_days + 1)
    user = factories.User(created_at=long_ago, last_active_at=long_ago)
    token_holder = sign_in(user=user)  # a session that must end with the account
    refused = submit_password(client, user.email)
    assert refused.status_code == 401 and GENERIC_FAILURE in refused.text
    assert fresh(db, user).status == UserStatus.disabled
    assert logged(db, SecurityEventTag.user_disabled_inactive, account_id=user.id)
    assert token_holder.client.get("/", follow_redirects=False).status_code == 303


def test_disable_inactive_accounts_service(db, factories, sign_in):
    from hub.audit.log import Actor

    long_ago = utcnow() - timedelta(days=get_settings().inactive_account_days + 1)
    idle = factories.User(created_at=long_ago, last_active_at=long_ago)
    never_used = factories.User(created_at=long_ago)
    released_lately = factories.User(
        created_at=long_ago, last_active_at=long_ago, status_changed_at=utcnow()
    )
    busy = factories.User(created_at=long_ago, last_active_at=utcnow())
    session = sign_in(user=idle)

    disabled = signing_in.disable_inactive_accounts(db, Actor(role="operator"))
    assert sorted(disabled) == sorted([idle.id, never_used.id])
    for user, expected in [
        (idle, UserStatus.disabled),
        (never_used, UserStatus.disabled),
        (released_lately, UserStatus.active),
        (busy, UserStatus.active),
    ]:
        assert fresh(db, user).status == expected
    assert session.client.get("/", follow_redirects=False).status_code == 303
    assert len(logged(db, SecurityEventTag.user_disabled_inactive)) == 2


def _set_cookie_headers(response, name):
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]


def test_session_cookie_attributes(client, factories):
    user = factories.User()
    response = sign_in_for_real(client, user)
    (cookie,) = _set_cookie_headers(response, COOKIE)
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path", "samesite"} <= attributes
    assert "samesite=strict" in cookie.lower()
    assert "path=/" in cookie.lower()
    assert "domain" not in attributes  # __Host- forbids it
    # The pre-session CSRF cookie is strict too, and cleared once signed in.
    cleared = _set_cookie_headers(response, "hub_signin_csrf")
    assert cleared and "max-age=0" in cleared[0].lower()


def test_plain_http_configuration(app, factories, settings_env):
    settings_env(cookie_secure="false")
    assert get_settings().session_cookie_name == "hub_session"
    user = factories.User()
    with TestClient(app, base_url="http://testserver") as plain:
        response = sign_in_for_real(plain, user)
        assert response.status_code == 303
        (cookie,) = _set_cookie_headers(response, "hub_session")
        assert "secure" not in cookie.lower()
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        home = plain.get("/")
        assert home.status_code == 200
        assert "strict-transport-security" not in home.headers


def test_signed_in_visitor_is_sent_home_from_the_sign_in_page(sign_in):
    officer = sign_in(Role.officer)
    assert officer.client.get("/sign-in", follow_redirects=False).headers["location"] == "/"


def test_sign_in_form_without_its_csrf_token_is_refused(client, db, factories):
    user = factories.User()
    client.get("/sign-in")
    response = client.post(
        "/sign-in", data={"email": user.email, "password": "x"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert not logged(db, SecurityEventTag.sign_in_failure)  # refused before any check


@pytest.mark.parametrize("email", ["USER@Example.test ", "user@example.test"])
def test_email_is_matched_without_case_or_spaces(client, factories, email):
    user = factories.User(email="user@example.test")
    response = submit_password(client, email)
    assert response.status_code == 303
    assert submit_code(client, code_for(user)).status_code == 303
