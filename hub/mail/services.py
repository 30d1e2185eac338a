"""The outbox: mail is queued in the caller's transaction (the functions named mail_* flush,
never commit) and sent by `send_due`, which claims one due mail at a time, delivers it over
SMTP with STARTTLS, and marks it sent, or retries it later with exponential backoff.

No mail carries personal data: a fixed subject, a fixed sentence and a link to the hub. The
invitation's link is a secret: the body is sealed at rest (hub.crypto) and never logged."""

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, or_, select, update

from hub.accounts.models import User
from hub.db import ident, utcnow
from hub.mail.models import MailPreference, OutboxMail
from hub.referrals.rules import site_zone
from hub.settings import get_settings
from hub.vocabulary import MailDelivery, MailKind, MailStatus, SecurityAlert

logger = logging.getLogger(__name__)

NOTIFICATION_SUBJECT = "A new notification in Diversion Hub"
NOTIFICATION_BODY = "You have a new notification in Diversion Hub. Sign in to read it:\n{url}\n"
DIGEST_SUBJECT = "Your notifications in Diversion Hub"
DIGEST_BODY = (
    "You have {count} new notification(s) in Diversion Hub since your last digest. "
    "Sign in to read them:\n{url}\n"
)
INVITATION_SUBJECT = "Your Diversion Hub account"
INVITATION_BODY = (
    "An account in Diversion Hub was made for you. Open this link within {hours} hours to "
    "set your password and second factor. It works once; do not pass it on:\n{url}\n"
)
ALERT_SUBJECT = "Security alert from Diversion Hub"
ALERT_TEXTS: dict[SecurityAlert, str] = {
    SecurityAlert.new_address: "Your account was signed in to from a network address it has "
    "not used before",
    SecurityAlert.password_changed: "The password of your account was changed",
    SecurityAlert.api_token_created: "An API token was created for your account",
}
ALERT_BODY = (
    "{text}, at {at:%Y-%m-%d %H:%M %Z}. If this was you, there is nothing to do. If it was "
    "not, tell your agency's administrator at once, and review your account:\n{url}\n"
)

# A mail that fails is tried again after 1, 2, 4 ... minutes, at most 6 hours apart; after
# MAX_ATTEMPTS (about a day) it is marked failed.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
MAX_ATTEMPTS = 12
# How long a sender holds a claimed mail: longer than one SMTP conversation may take.
LEASE = timedelta(minutes=5)
SMTP_TIMEOUT_SECONDS = 30
BATCH = 500


class MailNotConfigured(RuntimeError):
    """HUB_SMTP_HOST is not set: mail waits in the outbox."""


def link(path: str) -> str:
    return get_settings().public_url + path


def queue_mail(
    db: Session,
    user: User,
    kind: MailKind,
    subject: str,
    body: str,
    *,
    status: MailStatus = MailStatus.pending,
    due: datetime | None = None,
) -> OutboxMail:
    """Adds one mail to the user's address to the outbox, in the caller's transaction."""
    mail = OutboxMail(
        user_id=user.id,
        to_address=user.email,
        kind=kind,
        subject=subject,
        body=body,
        status=status,
        next_attempt_at=due or utcnow(),
    )
    db.add(mail)
    db.flush()
    return mail


def delivery_of(db: Session, user_id: int) -> MailDelivery:
    preference = db.get(MailPreference, user_id)
    return preference.delivery if preference is not None else MailDelivery.off


def set_delivery(db: Session, user_id: int, delivery: MailDelivery) -> None:
    """Sets how the user gets notifications by e-mail, and commits."""
    preference = db.get(MailPreference, user_id) or MailPreference(
        user_id=user_id, delivery=delivery
    )
    preference.delivery = delivery
    preference.changed_at = utcnow()
    db.add(preference)
    db.commit()


def next_digest_at(now: datetime, zone: ZoneInfo) -> datetime:
    """The next time daily digests go out, after now: HUB_MAIL_DIGEST_HOUR on the site's clock,
    so a digest comes at the start of people's working day wherever the site is."""
    hour = get_settings().mail_digest_hour
    local = now.astimezone(zone)
    day = local.date() if local.hour < hour else local.date() + timedelta(days=1)
    return datetime.combine(day, time(hour), zone).astimezone(UTC)


def mail_notification(db: Session, user: User, now: datetime | None = None) -> None:
    """Tells the user by e-mail of a new notification, as their preference says: at once, in
    tomorrow's digest, or not at all."""
    delivery = delivery_of(db, ident(user.id))
    if delivery == MailDelivery.off:
        return
    body = NOTIFICATION_BODY.format(url=link("/notifications"))
    if delivery == MailDelivery.immediate:
        queue_mail(db, user, MailKind.notification, NOTIFICATION_SUBJECT, body)
        return
    # Held until the digest hour, when fold_digests gathers them into one mail.
    due = next_digest_at(now or utcnow(), site_zone(db))
    queue_mail(
        db, user, MailKind.notification, NOTIFICATION_SUBJECT, body, status=MailStatus.held, due=due
    )


def mail_invitation(db: Session, user: User, path: str, hours: int) -> None:
    """Sends the new user their enrolment link (a secret: sealed in the outbox)."""
    body = INVITATION_BODY.format(hours=hours, url=link(path))
    queue_mail(db, user, MailKind.invitation, INVITATION_SUBJECT, body)


def mail_security_alert(
    db: Session, user: User, alert: SecurityAlert, now: datetime | None = None
) -> None:
    """Tells the user at once of a security event on their account, whatever their
    preference for notifications."""
    at = (now or utcnow()).astimezone(site_zone(db))
    body = ALERT_BODY.format(text=ALERT_TEXTS[alert], at=at, url=link("/account"))
    queue_mail(db, user, MailKind.security_alert, ALERT_SUBJECT, body)


# --- sending ------------------------------------------------------------------------------------


def fold_digests(db: Session, now: datetime) -> int:
    """Gathers each user's held notification mails that are due into one digest mail; returns
    how many digests were made, and commits."""
    held = db.exec(
        select(OutboxMail)
        .where(OutboxMail.status == MailStatus.held, col(OutboxMail.next_attempt_at) <= now)
        .order_by(col(OutboxMail.user_id), col(OutboxMail.id))
        .with_for_update(skip_locked=True)
    ).all()
    groups: dict[tuple[int | None, str], list[OutboxMail]] = {}
    for mail in held:
        groups.setdefault((mail.user_id, mail.to_address), []).append(mail)
    for (user_id, address), mails in groups.items():
        digest = OutboxMail(
            user_id=user_id,
            to_address=address,
            kind=MailKind.digest,
            subject=DIGEST_SUBJECT,
            body=DIGEST_BODY.format(count=len(mails), url=link("/notifications")),
            next_attempt_at=now,
        )
        db.add(digest)
        db.flush()
        for mail in mails:
            mail.status = MailStatus.folded
            mail.digest_id = digest.id
            db.add(mail)
    db.commit()
    return len(groups)


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: MailKind
    to_address: str
    subject: str
    body: str
    attempts: int


def claim_due(db: Session, now: datetime) -> Claimed | None:
    """Claims the oldest due mail for LEASE and commits: on PostgreSQL a row another sender is
    claiming is skipped (FOR UPDATE SKIP LOCKED); on SQLite the transaction holds the write
    lock. A claimed mail is left alone by every other sender until its lease ends."""
    mail = db.exec(
        select(OutboxMail)
        .where(
            OutboxMail.status == MailStatus.pending,
            col(OutboxMail.next_attempt_at) <= now,
            or_(col(OutboxMail.claimed_until).is_(None), col(OutboxMail.claimed_until) < now),
        )
        .order_by(col(OutboxMail.next_attempt_at), col(OutboxMail.id))
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if mail is None or mail.id is None:
        db.commit()
        return None
    claimed = Claimed(mail.id, mail.kind, mail.to_address, mail.subject, mail.body, mail.attempts)
    mail.claimed_until = now + LEASE
    db.add(mail)
    db.commit()
    return claimed


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the attempts-th failure."""
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_RETRY)


def message_for(mail: Claimed, now: datetime) -> EmailMessage:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now)
    # One id per outbox row: should a mail ever be handed over twice, mail systems see one.
    message["Message-ID"] = f"<outbox.{mail.id}@{urlsplit(settings.public_url).hostname}>"
    message.set_content(mail.body)
    return message


def smtp_deliver(message: EmailMessage) -> None:
    """Hands one message to HUB_SMTP_HOST, upgrading to TLS with STARTTLS (the server's
    certificate verified) before logging in or sending, unless HUB_SMTP_STARTTLS is off."""
    settings = get_settings()
    if not settings.smtp_host:
        raise MailNotConfigured("HUB_SMTP_HOST is not set")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            ca_file = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
            smtp.starttls(context=ssl.create_default_context(cafile=ca_file))
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)


@dataclass(frozen=True)
class SendReport:
    digests: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def send_due(
    db: Session,
    now: datetime | None = None,
    *,
    deliver: Callable[[EmailMessage], None] = smtp_deliver,
) -> SendReport:
    """One pass of the sender: folds the digests that are due, then delivers every due mail
    once, each in its own claim; a mail that fails waits longer before each retry."""
    now = now or utcnow()
    if deliver is smtp_deliver and not get_settings().smtp_host:
        raise MailNotConfigured("HUB_SMTP_HOST is not set: mail waits in the outbox")
    digests = fold_digests(db, now)
    sent = retrying = failed = 0
    for _ in range(BATCH):
        mail = claim_due(db, now)
        if mail is None:
            break
        try:
            deliver(message_for(mail, now))
        except (OSError, smtplib.SMTPException) as error:
            attempts = mail.attempts + 1
            gave_up = attempts >= MAX_ATTEMPTS
            # The error's type only: its text may name the recipient.
            logger.warning(
                "mail %s not delivered (%s), attempt %s%s",
                mail.id,
                type(error).__name__,
                attempts,
                ", giving up" if gave_up else "",
            )
            _settle(
                db,
                mail.id,
                attempts=attempts,
                status=MailStatus.failed if gave_up else MailStatus.pending,
                next_attempt_at=now + retry_delay(attempts),
                last_error=type(error).__name__[:100],
            )
            failed += gave_up
            retrying += not gave_up
            continue
        # The enrolment link leaves the outbox once it is delivered.
        spent = {"body": ""} if mail.kind == MailKind.invitation else {}
        _settle(
            db, mail.id, attempts=mail.attempts + 1, status=MailStatus.sent, sent_at=now, **spent
        )
        sent += 1
    return SendReport(digests=digests, sent=sent, retrying=retrying, failed=failed)


def _settle(db: Session, mail_id: int, **values: object) -> None:
    db.exec(
        update(OutboxMail).where(col(OutboxMail.id) == mail_id).values(claimed_until=None, **values)
    )
    db.commit()


def waiting(db: Session) -> int:
    """How many mails wait to be sent (pending or held for a digest)."""
    return len(
        db.exec(
            select(OutboxMail.id).where(
                col(OutboxMail.status).in_([MailStatus.pending, MailStatus.held])
            )
        ).all()
    )
