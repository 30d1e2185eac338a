"""`hub users ...` and `hub agencies ...`: each works on the test database, writes its security
event, and fails with a clear message and a non-zero exit code."""

import time
from datetime import timedelta

import pyotp
import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from hub.accounts import enrolment, signing_in
from hub.accounts.models import Agency, ApiToken, User
from hub.accounts.sessions import hash_token, load_api_token
from hub.audit.log import Actor
from hub.cli import app as cli
from hub.crypto import key_ring
from hub.db import utcnow
from hub.vocabulary import AgencyKind, Role, SecurityEventTag, TokenScope, UserStatus
from tests.signing_in import fresh, logged

runner = CliRunner()


def hub(*args: str, input: str | None = None):
    return runner.invoke(cli, list(args), input=input)


def _user(db, email):
    user = db.exec(select(User).where(col(User.email) == email)).one()
    db.commit()
    return user


def test_agencies_add_and_users_add(db):
    result = hub("agencies", "add", "--name", "Police Department", "--kind", "police")
    assert result.exit_code == 0, result.output
    agency = db.exec(select(Agency)).one()
    db.commit()
    assert agency.kind == AgencyKind.police
    assert logged(db, SecurityEventTag.agency_created, agency_id=agency.id)
    assert logged(db, SecurityEventTag.agency_created)[0].actor_role == "operator"

    result = hub(
        "users",
        "add",
        "--email",
        "Sgt@Example.test",
        "--name",
        "Sergeant S",
        "--role",
        "sergeant",
        "--agency",
        "Police Department",
    )
    assert result.exit_code == 0, result.output
    # Issue 12: the operator gets a one-time enrolment link, never a password or TOTP secret.
    assert "password:" not in result.output and "TOTP secret" not in result.output
    token = result.output.split("enrolment link: /sign-in/welcome/")[1].split()[0]
    user = _user(db, "sgt@example.test")
    assert user.role == Role.sergeant and user.mfa_enrolled_at is None
    assert user.status == UserStatus.pending
    assert logged(db, SecurityEventTag.user_created, account_id=user.id)
    assert logged(db, SecurityEventTag.enrolment_link_issued, account_id=user.id)

    # The person sets their own password and second factor through the link...
    found = enrolment.enrolment_link(db, token)
    assert found is not None
    link, _ = found
    assert link.pending_totp_sealed is not None
    secret = key_ring().open(link.pending_totp_sealed)
    password = "the sergeant's own passphrase"
    enrolment.complete_enrolment(
        db, Actor(address="cli-test"), token, password, password, pyotp.TOTP(secret).now()
    )
    # ...and the operator approves the first sergeant of a new agency, whom nobody else can.
    result = hub("users", "approve", "sgt@example.test")
    assert result.exit_code == 0, result.output
    assert fresh(db, user).status == UserStatus.active
    assert logged(db, SecurityEventTag.access_approved, account_id=user.id)
    assert hub("users", "approve", "sgt@example.test").exit_code == 1  # nothing waits

    # What the person chose signs them in (the next time step's code: the last one is used).
    half = signing_in.sign_in_with_password(
        db, "sgt@example.test", password, actor=Actor(address="cli-test"), user_agent=None
    )
    assert not half.needs_enrolment
    loaded = signing_in.load_half_session(db, half.token)
    assert loaded is not None
    signing_in.pass_second_factor(
        db,
        *loaded,
        pyotp.TOTP(secret).at(time.time() + 30),
        actor=Actor(address="cli-test"),
        user_agent=None,
    )


def test_users_add_offers_no_way_to_set_the_password(db, factories):
    # Issue 12 (CJIS AC-5, IA-5): `--password` let the operator choose the person's password;
    # it is gone, and the person sets their own through the enrolment link.
    factories.Agency(name="Defenders", kind=AgencyKind.defense)
    result = hub(
        "users",
        "add",
        "--email",
        "d@example.test",
        "--name",
        "D",
        "--role",
        "defender",
        "--agency",
        "Defenders",
        "--password",
        input="a long enough passphrase\na long enough passphrase\n",
    )
    assert result.exit_code == 2
    assert "No such option" in result.output
    assert db.exec(select(User)).all() == []
    db.commit()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "prosecutor", "--agency", "Police Department"], "police agency"),
        (["--role", "officer", "--agency", "No Such Agency"], "no agency named"),
        (["--role", "warden", "--agency", "Police Department"], "warden"),
    ],
)
def test_users_add_refusals(db, factories, args, message):
    factories.Agency(name="Police Department", kind=AgencyKind.police)
    result = hub("users", "add", "--email", "x@example.test", "--name", "X", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert db.exec(select(User)).all() == []
    db.commit()


def test_users_add_refuses_a_taken_address(db, factories):
    existing = factories.User(role=Role.officer)
    agency = db.get(Agency, existing.agency_id)
    db.commit()
    result = hub(
        "users",
        "add",
        "--email",
        existing.email,
        "--name",
        "Again",
        "--role",
        "officer",
        "--agency",
        agency.name,
    )
    assert result.exit_code == 1
    assert "exists already" in result.output


def test_disable_release_and_reset_mfa(db, factories, sign_in):
    user = factories.User(role=Role.officer)
    session = sign_in(user=user)

    assert hub("users", "release", user.email).exit_code == 1  # not locked
    fresh(db, user).status = UserStatus.locked
    db.add(user)
    db.commit()
    result = hub("users", "release", user.email)
    assert result.exit_code == 0, result.output
    assert fresh(db, user).status == UserStatus.active
    assert logged(db, SecurityEventTag.account_unlocked, account_id=user.id)

    assert hub("users", "reset-mfa", user.email).exit_code == 0
    assert fresh(db, user).totp_secret_sealed is None
    assert logged(db, SecurityEventTag.mfa_reset, account_id=user.id)
    assert session.client.get("/", follow_redirects=False).status_code == 303

    assert hub("users", "disable", user.email).exit_code == 0
    assert fresh(db, user).status == UserStatus.disabled
    assert logged(db, SecurityEventTag.user_disabled, account_id=user.id)


def test_unknown_email_is_a_clear_error(db):
    for command in ("disable", "release", "reset-mfa"):
        result = hub("users", command, "nobody@example.test")
        assert result.exit_code == 1
        assert "no account with that e-mail address" in result.output


def test_token_is_printed_once_and_stored_hashed(db, factories):
    user = factories.User()
    result = hub("users", "token", user.email, "--name", "nightly export", "--days", "7")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    row = db.exec(select(ApiToken)).one()
    db.commit()
    assert row.token_hash == hash_token(token)
    assert timedelta(days=6) < row.expires_at - utcnow() <= timedelta(days=7)
    loaded = load_api_token(db, token)
    assert loaded is not None and loaded.id == user.id
    db.commit()
    assert logged(db, SecurityEventTag.api_token_created, token_id=row.id)
    assert hub("users", "token", user.email, "--name", "x", "--days", "0").exit_code == 1


def test_disable_inactive(db, factories):
    long_ago = utcnow() - timedelta(days=400)
    idle = factories.User(created_at=long_ago, last_active_at=long_ago)
    busy = factories.User(last_active_at=utcnow())
    result = hub("users", "disable-inactive")
    assert result.exit_code == 0
    assert "Disabled 1 inactive account(s)." in result.output
    assert fresh(db, idle).status == UserStatus.disabled
    assert fresh(db, busy).status == UserStatus.active
    assert logged(db, SecurityEventTag.user_disabled_inactive, account_id=idle.id)


def test_agencies_add_refuses_a_duplicate(db, factories):
    factories.Agency(name="Police Department", kind=AgencyKind.police)
    result = hub("agencies", "add", "--name", "police department", "--kind", "police")
    assert result.exit_code == 1
    assert "exists already" in result.output


def test_token_scope_from_the_command_line(db, factories):
    # Issue 12, item 6: read only unless asked; a scope it does not know is refused.
    user = factories.User()
    assert hub("users", "token", user.email, "--name", "reports").exit_code == 0
    writer = hub("users", "token", user.email, "--name", "intake", "--scope", "read_write")
    assert writer.exit_code == 0
    assert hub("users", "token", user.email, "--name", "x", "--scope", "admin").exit_code == 2
    rows = db.exec(select(ApiToken).order_by(col(ApiToken.id))).all()
    db.commit()
    assert [(t.name, t.scope) for t in rows] == [
        ("reports", TokenScope.read),
        ("intake", TokenScope.read_write),
    ]
    assert all(t.expires_at - utcnow() > timedelta(days=89) for t in rows)
