"""Enrolment links (CJIS IA-5): whoever creates an account never learns its authenticator; the
new user opens the link, sets a password and enrols a second factor."""

from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlmodel import Session, col, select, update

from hub.accounts.models import (
    EnrolmentLink,
    User,
)
from hub.accounts.own_access import check_new_password
from hub.accounts.passwords import (
    hash_password,
)
from hub.accounts.rules import (
    BAD_CODE,
    ENROLMENT_LINK_HOURS,
    ENROLMENT_PATH,
    AccountError,
    acting_as,
    record,
)
from hub.accounts.second_factor import (
    Enrolment,
    new_recovery_codes,
    open_sealed,
    sealed_enrolment,
    totp_counter,
)
from hub.accounts.sessions import (
    hash_token,
    new_token,
)
from hub.audit.log import Actor
from hub.crypto import key_ring
from hub.db import ident, utcnow
from hub.mail.services import mail_invitation
from hub.vocabulary import (
    SecurityEventTag,
    UserStatus,
)


def issue_link(db: Session, actor: Actor, user: User) -> str:
    """A new one-time enrolment link for the account, replacing any unused one; returns its
    token (shown once, kept hashed)."""
    now = utcnow()
    db.exec(
        update(EnrolmentLink)
        .where(col(EnrolmentLink.user_id) == user.id, col(EnrolmentLink.used_at).is_(None))
        .values(expires_at=now)
    )
    token = new_token()
    link = EnrolmentLink(
        user_id=ident(user.id),
        token_hash=hash_token(token),
        issued_by_id=actor.user_id,
        created_at=now,
        expires_at=now + timedelta(hours=ENROLMENT_LINK_HOURS),
        pending_totp_sealed=key_ring().seal(pyotp.random_base32()),
    )
    db.add(link)
    db.flush()
    record(
        db,
        actor,
        SecurityEventTag.enrolment_link_issued,
        account_id=user.id,
        link_id=link.id,
        hours=ENROLMENT_LINK_HOURS,
    )
    # The person's own address gets the link; whoever issued it may also hand it over.
    mail_invitation(db, user, ENROLMENT_PATH + token, ENROLMENT_LINK_HOURS)
    return token


def enrolment_link(db: Session, token: str) -> tuple[EnrolmentLink, User] | None:
    """The unused, unexpired link for this token and its account, if the account may still
    enrol (awaiting approval or active, never disabled)."""
    row = db.exec(
        select(EnrolmentLink, User)
        .join(User, col(User.id) == EnrolmentLink.user_id)
        .where(col(EnrolmentLink.token_hash) == hash_token(token))
    ).first()
    if row is None:
        return None
    link, user = row
    if link.used_at is not None or utcnow() >= link.expires_at:
        return None
    if user.status not in (UserStatus.pending, UserStatus.active):
        return None
    return link, user


def link_enrolment(link: EnrolmentLink, user: User) -> Enrolment | None:
    return sealed_enrolment(link.pending_totp_sealed, user)


BAD_LINK = (
    "This enrolment link cannot be used: it was used already, has expired (links last "
    f"{ENROLMENT_LINK_HOURS} hours) or was replaced. Ask your agency's administrator for a new one."
)


@dataclass(frozen=True)
class Enrolled:
    recovery_codes: list[str]
    active: bool  # False: the account still waits for a second person's approval


def complete_enrolment(
    db: Session, actor: Actor, token: str, password: str, again: str, code: str
) -> Enrolled:
    """The new user sets their password and confirms their second factor through the link,
    which is then used up. Nothing changes when a check fails."""
    found = enrolment_link(db, token)
    if found is None:
        raise AccountError(BAD_LINK)
    link, user = found
    check_new_password(password, again)
    sealed = link.pending_totp_sealed
    secret = open_sealed(sealed)
    counter = totp_counter(secret, code) if secret else None
    if counter is None:
        raise AccountError(BAD_CODE)
    # Conditional, so that a link posted twice at once is used only once.
    used = db.exec(
        update(EnrolmentLink)
        .where(col(EnrolmentLink.id) == link.id, col(EnrolmentLink.used_at).is_(None))
        .values(used_at=utcnow(), pending_totp_sealed=None)
    )
    if used.rowcount != 1:
        db.rollback()
        raise AccountError(BAD_LINK)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.totp_secret_sealed = sealed
    user.totp_last_counter = counter
    user.mfa_enrolled_at = utcnow()
    db.add(user)
    codes = new_recovery_codes(db, user)
    record(db, acting_as(actor, user), SecurityEventTag.enrolment_completed, account_id=user.id)
    db.commit()
    return Enrolled(recovery_codes=codes, active=user.status == UserStatus.active)
