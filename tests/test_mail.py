"""E-mail that carries no personal data (issue 18, item 3): every mail is queued in the
transaction of its event and delivered by the sender to a real SMTP server on loopback, over
STARTTLS, once, however long the server was down."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from hub.accounts import administration, own_access
from hub.accounts.models import SignInAttempt
from hub.accounts.sessions import viewer_for
from hub.audit.log import Actor
from hub.cli import app as cli
from hub.clients.models import Person
from hub.db import get_engine
from hub.keyrotation import sealed_columns
from hub.mail.models import OutboxMail
from hub.mail.services import (
    ALERT_SUBJECT,
    DIGEST_SUBJECT,
    INVITATION_SUBJECT,
    NOTIFICATION_SUBJECT,
    claim_due,
    delivery_of,
    send_due,
    set_delivery,
)
from hub.notifications.services import notify
from hub.settings import Settings, get_settings
from hub.vocabulary import MailDelivery, MailKind, MailStatus, NotificationKind, Role
from tests.certificates import free_port, self_signed
from tests.factories import PASSWORD
from tests.mail_support import HOST, RELAY_LOGIN, RELAY_PASSWORD, MailServer
from tests.signing_in import code_for, sign_in_for_real

PUBLIC_URL = "https://hub.cascadia-lead.example"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning, before nothing in particular


@pytest.fixture
def smtp(tmp_path, settings_env, database_url):
    """The mail server (down until the test starts it) and the hub's settings pointing at it."""
    cert, key = self_signed(tmp_path)
    server = MailServer(port=free_port(), cert=cert, key=key)
    settings_env(
        smtp_host=HOST,
        smtp_port=server.port,
        smtp_username=RELAY_LOGIN,
        smtp_password=RELAY_PASSWORD,
        smtp_ca_file=cert,
        public_url=PUBLIC_URL,
        mail_digest_hour=7,
    )
    yield server
    server.stop()


def outbox(db: Session) -> list[OutboxMail]:
    rows = list(db.exec(select(OutboxMail).order_by(col(OutboxMail.id))).all())
    db.commit()  # SQLite: release the read transaction
    return rows


def preference(db: Session, user_id: int) -> MailDelivery:
    delivery = delivery_of(db, user_id)
    db.commit()  # SQLite: release the read transaction before the app writes again
    return delivery


def bodies(server: MailServer) -> list[str]:
    return [str(r.message.get_content()) for r in server.received]


def test_a_notification_queued_while_the_server_is_down_arrives_once_when_it_is_up(world, smtp, db):
    manager = world.users["case_manager"]
    set_delivery(db, manager.id, MailDelivery.immediate)
    referral, _ = world.arrest(now=T0)  # tells the case-management agency: a notification
    person = db.get(Person, referral.person_id)
    [mail] = [m for m in outbox(db) if m.user_id == manager.id]
    assert (mail.kind, mail.status, mail.attempts) == (MailKind.notification, MailStatus.pending, 0)

    # Down: the connection is refused; the mail waits a minute, then two, then four.
    for attempt, wait in ((1, 1), (2, 2), (3, 4)):
        now = mail.next_attempt_at
        report = send_due(db, now)
        assert (report.sent, report.retrying) == (0, 1)
        [mail] = [m for m in outbox(db) if m.user_id == manager.id]
        assert mail.status == MailStatus.pending and mail.attempts == attempt
        assert mail.next_attempt_at == now + timedelta(minutes=wait)
        assert mail.last_error == "ConnectionRefusedError"
        # Not due yet: nothing is tried, even with the server up.
        assert send_due(db, now + timedelta(minutes=wait) - timedelta(seconds=1)).retrying == 0

    smtp.start()
    assert send_due(db, mail.next_attempt_at - timedelta(seconds=1)).sent == 0
    assert send_due(db, mail.next_attempt_at).sent == 1
    # Sent is sent: later passes send nothing again.
    assert send_due(db, mail.next_attempt_at + timedelta(days=1)).sent == 0
    [received] = [r for r in smtp.received if r.recipients == [manager.email]]
    assert received.over_tls and received.logged_in
    assert received.message["Subject"] == NOTIFICATION_SUBJECT
    body = received.message.get_content()
    assert f"{PUBLIC_URL}/notifications" in body
    for personal in (person.first_name, person.last_name, manager.display_name, str(referral.id)):
        assert personal not in body and personal not in received.message["Subject"]
    [mail] = [m for m in outbox(db) if m.user_id == manager.id]
    assert (mail.status, mail.attempts, mail.sent_at) == (MailStatus.sent, 4, mail.next_attempt_at)


def test_the_mail_is_part_of_its_events_transaction(world, smtp, db):
    manager = world.users["case_manager"]
    set_delivery(db, manager.id, MailDelivery.immediate)
    notify(db, [manager.id], NotificationKind.new_referral, "/referrals/1", "test:rolled-back")
    db.rollback()  # the event did not happen: neither did its mail
    assert outbox(db) == []
    notify(db, [manager.id], NotificationKind.new_referral, "/referrals/1", "test:committed")
    db.commit()
    assert [m.kind for m in outbox(db)] == [MailKind.notification]


def test_without_a_preference_notifications_stay_in_the_hub(world, smtp, db):
    world.arrest(now=T0)
    assert outbox(db) == []
    set_delivery(db, world.users["case_manager"].id, MailDelivery.off)
    world.arrest(now=T0)
    assert outbox(db) == []


def test_a_daily_digest_gathers_the_days_notifications_into_one_mail(world, smtp, db):
    manager = world.users["case_manager"]
    set_delivery(db, manager.id, MailDelivery.daily_digest)
    smtp.start()
    for key in ("a", "b", "c"):
        notify(db, [manager.id], NotificationKind.deadline_near, "/referrals/1", f"digest:{key}")
    db.commit()
    assert [m.status for m in outbox(db)] == [MailStatus.held] * 3

    # Held until the digest hour (07:00 on the site's clock) on the next day.
    before = outbox(db)[0].next_attempt_at - timedelta(seconds=1)
    assert send_due(db, before).sent == 0 and smtp.received == []
    report = send_due(db, before + timedelta(seconds=1))
    assert (report.digests, report.sent) == (1, 1)
    [received] = smtp.received
    assert received.message["Subject"] == DIGEST_SUBJECT
    assert "3 new notification(s)" in received.message.get_content()
    rows = outbox(db)
    [digest] = [m for m in rows if m.kind == MailKind.digest]
    assert digest.status == MailStatus.sent
    assert all(m.status == MailStatus.folded and m.digest_id == digest.id for m in rows[:3])
    assert send_due(db, before + timedelta(days=2)).sent == 0 and len(smtp.received) == 1


def test_the_invitation_carries_the_enrolment_link_sealed_at_rest(db, factories, smtp, caplog):
    agency = factories.Agency()
    admin = factories.User(role=Role.admin, agency_id=agency.id)
    scope = administration.Scope.of(viewer_for(db, admin))
    new = administration.create_user(
        db,
        Actor(user_id=admin.id, role=admin.role.value),
        scope,
        email="new.person@evergreen-hrs.example",
        display_name="Rowan Newcomer",
        role=Role.case_manager,
        agency_id=agency.id,
    )
    link = f"{PUBLIC_URL}/sign-in/welcome/{new.enrolment_token}"
    [mail] = outbox(db)
    assert mail.kind == MailKind.invitation and link in mail.body
    # At rest the body is sealed: the database holds no link, and the body is re-sealed with
    # the other sealed values when the data keys rotate.
    with get_engine().connect() as raw:
        stored = raw.execute(text("SELECT body FROM outbox")).scalar_one()
    assert new.enrolment_token not in stored and stored.startswith("v1:")
    assert ("outbox", "id", "body") in sealed_columns()

    # The server is down: the log says so without the address or the link.
    with caplog.at_level(logging.INFO):
        assert send_due(db, mail.next_attempt_at).retrying == 1
    assert "not delivered (ConnectionRefusedError)" in caplog.text
    for secret in (new.enrolment_token, "new.person", "Rowan"):
        assert secret not in caplog.text

    smtp.start()
    assert send_due(db, outbox(db)[0].next_attempt_at).sent == 1
    [received] = smtp.received
    assert received.recipients == ["new.person@evergreen-hrs.example"]
    assert received.message["Subject"] == INVITATION_SUBJECT
    assert link in received.message.get_content()
    assert "Rowan" not in received.message.as_string()
    # Delivered, the link leaves the outbox.
    [mail] = outbox(db)
    assert mail.status == MailStatus.sent and mail.body == ""


def test_security_alerts_go_at_once_without_a_preference(app, db, factories, smtp):
    user = factories.User(role=Role.case_manager, email="alerted@evergreen-hrs.example")

    def sign_in_from(address: str, step: int) -> None:
        with TestClient(app, base_url="https://testserver", client=(address, 50000)) as browser:
            response = sign_in_for_real(browser, user, code_for(user, step))
            assert response.status_code == 303, response.text

    sign_in_from("198.51.100.7", 0)  # the first sign-in: nothing to compare with
    assert outbox(db) == []
    sign_in_from("203.0.113.9", 1)  # a new address
    db.refresh(user)
    own_access.create_api_token(db, Actor(user_id=user.id), user, "records system", 30)
    own_access.change_password(
        db,
        Actor(user_id=user.id),
        user,
        None,
        PASSWORD,
        "a new long passphrase 1",
        "a new long passphrase 1",
    )
    mails = outbox(db)
    assert [m.kind for m in mails] == [MailKind.security_alert] * 3

    smtp.start()
    assert send_due(db, mails[-1].next_attempt_at).sent == 3
    texts = bodies(smtp)
    assert "from a network address it has not used before" in texts[0]
    assert "API token was created" in texts[1]
    assert "password of your account was changed" in texts[2]
    for received, body in zip(smtp.received, texts, strict=True):
        assert received.message["Subject"] == ALERT_SUBJECT
        assert "203.0.113.9" not in body and user.display_name not in body
        assert f"{PUBLIC_URL}/account" in body


def test_a_sign_in_from_a_known_address_raises_no_alert(app, db, factories, smtp):
    user = factories.User(role=Role.case_manager)
    db.add(
        SignInAttempt(
            user_id=user.id, address="198.51.100.7", succeeded=True, stage="second_factor"
        )
    )
    db.commit()
    with TestClient(app, base_url="https://testserver", client=("198.51.100.7", 50000)) as browser:
        assert sign_in_for_real(browser, user).status_code == 303
    assert outbox(db) == []


def test_two_senders_never_claim_the_same_mail(world, smtp, db):
    manager = world.users["case_manager"]
    set_delivery(db, manager.id, MailDelivery.immediate)
    notify(db, [manager.id], NotificationKind.new_referral, "/referrals/1", "claim:one")
    db.commit()
    now = outbox(db)[0].next_attempt_at
    with Session(get_engine()) as first, Session(get_engine()) as second:
        claimed = claim_due(first, now)
        assert claimed is not None
        assert claim_due(second, now) is None  # held by the first sender's lease
        # A sender that died mid-send: once its lease ends another sender takes the mail over.
        assert claim_due(second, now + timedelta(minutes=6)) == claimed


def test_on_postgresql_a_mail_another_sender_is_claiming_is_skipped(world, smtp, db, backend):
    if backend == "sqlite":
        pytest.skip("SQLite lets one writer in at a time: there is no row lock to skip")
    manager = world.users["case_manager"]
    set_delivery(db, manager.id, MailDelivery.immediate)
    notify(db, [manager.id], NotificationKind.new_referral, "/referrals/1", "claim:locked")
    db.commit()
    now = outbox(db)[0].next_attempt_at
    with Session(get_engine()) as first, Session(get_engine()) as second:
        # The first sender is between its SELECT ... FOR UPDATE and its commit.
        first.exec(select(OutboxMail).with_for_update()).all()
        assert claim_due(second, now) is None  # skipped, not waited for
        first.rollback()
        assert claim_due(second, now) is not None


def test_a_server_whose_certificate_is_not_trusted_gets_no_mail(world, smtp, db, monkeypatch):
    # The system's CAs only: none of them signed the test server's certificate.
    monkeypatch.delenv("HUB_SMTP_CA_FILE")
    get_settings.cache_clear()
    manager = world.users["case_manager"]
    set_delivery(db, manager.id, MailDelivery.immediate)
    notify(db, [manager.id], NotificationKind.new_referral, "/referrals/1", "tls:untrusted")
    db.commit()
    smtp.start()
    report = send_due(db, outbox(db)[0].next_attempt_at)
    assert (report.sent, report.retrying) == (0, 1)
    assert smtp.received == []
    assert outbox(db)[0].last_error == "SSLCertVerificationError"


def test_a_person_chooses_a_daily_digest_on_their_account_page(sign_in, db):
    person = sign_in(Role.case_manager)
    page = person.client.get("/account")
    assert 'name="delivery" value="off" checked' in page.text
    chosen = person.post("/account/mail", data={"delivery": "daily_digest"})
    assert chosen.status_code == 200 and "Your choice of e-mail is saved." in chosen.text
    assert 'name="delivery" value="daily_digest" checked' in chosen.text
    assert preference(db, person.user.id) == MailDelivery.daily_digest
    # A value that is no choice is refused and changes nothing.
    refused = person.post("/account/mail", data={"delivery": "hourly"})
    assert 400 <= refused.status_code < 500
    assert preference(db, person.user.id) == MailDelivery.daily_digest


def test_hub_mail_send_delivers_what_is_due_and_refuses_without_a_server(
    world, smtp, db, monkeypatch
):
    manager = world.users["case_manager"]
    set_delivery(db, manager.id, MailDelivery.immediate)
    notify(db, [manager.id], NotificationKind.new_referral, "/referrals/1", "cli:one")
    db.commit()
    due = outbox(db)[0].next_attempt_at.isoformat()

    monkeypatch.delenv("HUB_SMTP_HOST")
    get_settings.cache_clear()
    refused = CliRunner().invoke(cli, ["mail", "send", "--now", due])
    assert refused.exit_code == 1
    assert "HUB_SMTP_HOST is not set" in refused.output and "1 mail(s) waiting" in refused.output
    assert outbox(db)[0].attempts == 0  # nothing was tried

    monkeypatch.setenv("HUB_SMTP_HOST", HOST)
    get_settings.cache_clear()
    smtp.start()
    sent = CliRunner().invoke(cli, ["mail", "send", "--now", due])
    assert sent.exit_code == 0, sent.output
    assert "1 sent, 0 to retry, 0 given up" in sent.output
    assert len(smtp.received) == 1
    assert manager.email not in sent.output


@pytest.mark.parametrize("url", ["hub.cascadia-lead.example", "ftp://hub.example", "/hub"])
def test_a_public_url_that_is_no_web_address_is_refused(url, monkeypatch):
    monkeypatch.setenv("HUB_PUBLIC_URL", url)
    with pytest.raises(ValidationError, match="HUB_PUBLIC_URL must start with https://"):
        Settings()


def test_the_public_url_loses_its_trailing_slash(monkeypatch):
    monkeypatch.setenv("HUB_PUBLIC_URL", "https://hub.cascadia-lead.example/")
    assert Settings().public_url == "https://hub.cascadia-lead.example"


def test_with_starttls_off_nothing_is_upgraded_and_this_server_takes_nothing(
    world, smtp, db, settings_env
):
    # HUB_SMTP_STARTTLS=false is for a relay on the same host; this server insists on TLS
    # before a login, so the hub neither logs in nor sends, and tries again later.
    settings_env(smtp_starttls="false")
    manager = world.users["case_manager"]
    set_delivery(db, manager.id, MailDelivery.immediate)
    notify(db, [manager.id], NotificationKind.new_referral, "/referrals/1", "tls:off")
    db.commit()
    smtp.start()
    report = send_due(db, outbox(db)[0].next_attempt_at)
    assert (report.sent, report.retrying) == (0, 1)
    assert smtp.received == []
    assert outbox(db)[0].last_error == "SMTPNotSupportedError"
