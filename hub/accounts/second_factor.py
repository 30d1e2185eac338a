"""The second factor: TOTP codes (each used once), recovery codes, and enrolling or
re-enrolling an authenticator."""

import hmac
import re
import secrets
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select, update

from hub.accounts.models import (
    RecoveryCode,
    User,
    UserSession,
)
from hub.accounts.passwords import (
    hash_recovery_code,
    verify_recovery_code,
)
from hub.accounts.rules import (
    BAD_CODE,
    ISSUER,
    RECOVERY_ALPHABET,
    RECOVERY_CODE_COUNT,
    SignInRefused,
    acting_as,
    record,
)
from hub.audit.log import Actor
from hub.crypto import key_ring
from hub.db import ident, utcnow
from hub.vocabulary import (
    SecurityEventTag,
)


def has_second_factor(user: User) -> bool:
    return user.mfa_enrolled_at is not None and user.totp_secret_sealed is not None


def open_sealed(sealed: str | None) -> str | None:
    return key_ring().open(sealed) if sealed else None


def totp_counter(secret: str, code: str) -> int | None:
    """The time step a code belongs to, within one step either side (pyotp's valid_window=1)."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(utcnow())
    for counter in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def accept_totp(db: Session, user: User, secret: str | None, code: str) -> bool:
    """CJIS IA-2 replay resistance: a code's time step must be later than the last accepted.
    The conditional update claims the step atomically, so two requests racing with one code
    cannot both pass."""
    if secret is None:
        return False
    counter = totp_counter(secret, code)
    if counter is None:
        return False
    claimed = db.exec(
        update(User)
        .where(
            col(User.id) == user.id,
            or_(col(User.totp_last_counter).is_(None), col(User.totp_last_counter) < counter),
        )
        .values(totp_last_counter=counter)
    )
    if claimed.rowcount != 1:
        return False
    user.totp_last_counter = counter
    return True


def _normalise_recovery_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def use_recovery_code(db: Session, user: User, code: str) -> bool:
    given = _normalise_recovery_code(code)
    if len(given) != 12:
        return False
    unused = db.exec(
        select(RecoveryCode).where(
            col(RecoveryCode.user_id) == user.id, col(RecoveryCode.used_at).is_(None)
        )
    ).all()
    for stored in unused:
        if verify_recovery_code(stored.code_hash, given):
            # Conditional, so that one code used twice at once still works only once.
            used = db.exec(
                update(RecoveryCode)
                .where(col(RecoveryCode.id) == stored.id, col(RecoveryCode.used_at).is_(None))
                .values(used_at=utcnow())
            )
            return used.rowcount == 1
    return False


def unused_recovery_codes(db: Session, user: User) -> int:
    return int(
        db.exec(
            select(func.count())
            .select_from(RecoveryCode)
            .where(col(RecoveryCode.user_id) == user.id, col(RecoveryCode.used_at).is_(None))
        ).one()
    )


def new_recovery_codes(db: Session, user: User) -> list[str]:
    db.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12))
        db.add(RecoveryCode(user_id=ident(user.id), code_hash=hash_recovery_code(raw)))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret as a QR code (inline SVG) and as text."""

    secret: str
    uri: str
    qr_svg: str


def pending_enrolment(session: UserSession, user: User) -> Enrolment | None:
    return sealed_enrolment(session.pending_totp_sealed, user)


def sealed_enrolment(sealed: str | None, user: User) -> Enrolment | None:
    secret = open_sealed(sealed)
    if secret is None:
        return None
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=5, title="QR code for your authenticator")
    return Enrolment(
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)), uri=uri, qr_svg=svg
    )


def confirm_enrolment(
    db: Session, session: UserSession, user: User, code: str, *, actor: Actor
) -> list[str]:
    secret = open_sealed(session.pending_totp_sealed)
    counter = totp_counter(secret, code) if secret else None
    if counter is None:
        raise SignInRefused(BAD_CODE)
    user.totp_secret_sealed = session.pending_totp_sealed
    user.totp_last_counter = counter
    user.mfa_enrolled_at = utcnow()
    session.pending_totp_sealed = None
    db.add(user)
    db.add(session)
    codes = new_recovery_codes(db, user)
    record(db, acting_as(actor, user), SecurityEventTag.mfa_enrolled, account_id=user.id)
    return codes


def issue_totp_secret(db: Session, actor: Actor, user: User) -> str:
    """Gives an account a confirmed TOTP secret (the command line prints it once)."""
    secret = pyotp.random_base32()
    user.totp_secret_sealed = key_ring().seal(secret)
    user.totp_last_counter = None
    user.mfa_enrolled_at = utcnow()
    db.add(user)
    record(db, actor, SecurityEventTag.mfa_enrolled, account_id=user.id)
    db.commit()
    return secret
