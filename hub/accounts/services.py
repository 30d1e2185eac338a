"""Sign-in, the second factor, lockout and account administration: the rules, without HTTP.

CJIS IA-2 (multi-factor, replay-resistant), AC-7 (lockout), AC-2(3) (inactive accounts) and
AU-2 (every security event is appended to hub.audit.log in the transaction that makes it).
Sessions themselves (AC-11, AC-12) live in hub.accounts.sessions.
"""

import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypedDict

import pyotp
import segno
from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select, update

from hub.accounts.models import (
    AccessRequest,
    Agency,
    ApiToken,
    EnrolmentLink,
    RecoveryCode,
    SignInAttempt,
    User,
    UserSession,
)
from hub.accounts.passwords import (
    DUMMY_HASH,
    MIN_LENGTH,
    hash_password,
    hash_recovery_code,
    needs_rehash,
    verify_password,
    verify_recovery_code,
)
from hub.accounts.sessions import (
    Viewer,
    end_all_sessions,
    hash_token,
    load_session,
    new_token,
    revoke_api_tokens,
    start_session,
)
from hub.audit.log import Actor, Event, append
from hub.crypto import key_ring
from hub.db import utcnow
from hub.mail.services import mail_invitation, mail_security_alert
from hub.settings import get_settings
from hub.vocabulary import (
    ROLES_BY_AGENCY_KIND,
    AccessRequestKind,
    AccessRequestStatus,
    AgencyKind,
    Role,
    SecurityAlert,
    SecurityEventTag,
    SignInStage,
    TokenScope,
    UserStatus,
)

GENERIC_FAILURE = (
    "The e-mail address and password do not match an account that can sign in now. "
    "Check them and try again. After 5 failed attempts an account is locked until an "
    "administrator releases it."
)
RATE_LIMITED = (
    "Too many sign-in attempts have failed from your network address. Wait 15 minutes and "
    "try again, or ask the administrator of your agency."
)
BAD_CODE = (
    "That code is not right or has been used already. Enter the current 6-digit code from "
    "your authenticator app, or one of your recovery codes."
)
ISSUER = "Diversion Hub"
RECOVERY_CODE_COUNT = 10
API_TOKEN_MAX_DAYS = 365
API_TOKEN_DEFAULT_DAYS = 90
# The link a new user opens to set their password and second factor (CJIS IA-5).
ENROLMENT_LINK_HOURS = 72
ENROLMENT_PATH = "/sign-in/welcome/"
# The second factor must follow the password promptly; a half session left open is ended.
HALF_SESSION_MINUTES = 10
# hub.audit.log's actor_role for changes made at the command line by the server's operator,
# who holds no hub account.
OPERATOR_ROLE = "operator"

_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """A rule refused the request; the message says why and is safe to show to the person."""


class NotPermitted(AccountError):
    """The account or agency is outside the manager's scope (answered 403, logged as denied)."""


class SignInRefused(AccountError):
    """A sign-in step failed; the message is the same whatever the reason (no enumeration)."""


class SignInRateLimited(AccountError):
    """Too many failures from one network address (a guard against password spraying)."""


# --- the log ----------------------------------------------------------------------------------


def record(
    db: Session,
    actor: Actor,
    tag: SecurityEventTag,
    outcome: str = "success",
    **detail: Any,
) -> None:
    """Appends one security event (CJIS AU-2/AU-3) in the caller's transaction."""
    append(db, actor, Event(kind="security", tag=tag.value, outcome=outcome, detail=detail or None))


def acting_as(actor: Actor, user: User) -> Actor:
    """The actor once the person has proven who they are."""
    return replace(actor, user_id=user.id, role=user.role.value, agency_id=user.agency_id)


# --- sign-in ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HalfSignIn:
    """The password step passed: a session that opens no page until the second factor."""

    token: str
    needs_enrolment: bool


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(db: Session, email: str) -> User | None:
    return db.exec(select(User).where(col(User.email) == normalise_email(email))).first()


def sign_in_with_password(
    db: Session, email: str, password: str, *, actor: Actor, user_agent: str | None
) -> HalfSignIn:
    """Checks the password step and starts a half session. Raises SignInRefused with the same
    message for an unknown address, a wrong password and a locked or disabled account."""
    address = _address(actor)
    _refuse_if_rate_limited(db, actor, address, SignInStage.password)
    user = user_by_email(db, email)
    if user is None:
        # Spend the time a real check takes, so the answer's timing names no account.
        verify_password(DUMMY_HASH, password)
        _fail(db, actor, None, SignInStage.password, "unknown_account")
        raise SignInRefused(GENERIC_FAILURE)
    password_ok = verify_password(user.password_hash, password)
    if user.status == UserStatus.active and is_inactive(user, utcnow()):
        _disable(db, actor, user, SecurityEventTag.user_disabled_inactive, "inactive")
    if user.status != UserStatus.active:
        _fail(db, actor, user, SignInStage.password, f"account_{user.status.value}")
        raise SignInRefused(GENERIC_FAILURE)
    if not password_ok:
        _fail(db, actor, user, SignInStage.password, "wrong_password")
        raise SignInRefused(GENERIC_FAILURE)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.add(user)
    _attempt(db, user, address, SignInStage.password, succeeded=True)
    token, half = start_session(db, user, mfa_passed=False, address=address, user_agent=user_agent)
    needs_enrolment = not has_second_factor(user)
    if needs_enrolment:
        half.pending_totp_sealed = key_ring().seal(pyotp.random_base32())
        db.add(half)
    db.commit()
    return HalfSignIn(token=token, needs_enrolment=needs_enrolment)


def load_half_session(db: Session, token: str) -> tuple[UserSession, User] | None:
    """The session between the password and the second factor, if it is still open."""
    loaded = load_session(db, token)
    if loaded is None or loaded[0].mfa_passed:
        return None
    half, user, _agency = loaded
    if utcnow() - half.created_at > timedelta(minutes=HALF_SESSION_MINUTES):
        _end(db, half, "second_factor_timeout")
        db.commit()
        return None
    return half, user


def pass_second_factor(
    db: Session,
    half: UserSession,
    user: User,
    code: str,
    *,
    actor: Actor,
    user_agent: str | None,
) -> str:
    """Checks a TOTP or recovery code and replaces the half session with a full one (a fresh
    session id, ASVS V7.2.4). Returns the new cookie token."""
    address = _address(actor)
    _refuse_if_rate_limited(db, actor, address, SignInStage.second_factor)
    used_recovery_code = False
    accepted = _accept_totp(db, user, _open(user.totp_secret_sealed), code)
    if not accepted:
        used_recovery_code = accepted = _use_recovery_code(db, user, code)
    if not accepted:
        _fail(db, actor, user, SignInStage.second_factor, "wrong_code")
        if user.status != UserStatus.active:
            _end(db, half, "locked")
            db.commit()
        raise SignInRefused(BAD_CODE)
    if used_recovery_code:
        remaining = unused_recovery_codes(db, user)
        record(db, acting_as(actor, user), SecurityEventTag.recovery_code_used, remaining=remaining)
    return _complete_sign_in(db, half, user, actor=actor, user_agent=user_agent)


def enrol_during_sign_in(
    db: Session, half: UserSession, user: User, code: str, *, actor: Actor, user_agent: str | None
) -> tuple[str, list[str]]:
    """Confirms the first second factor with a code from the new authenticator and completes
    the sign-in. Returns the new cookie token and the recovery codes, shown once."""
    _refuse_if_rate_limited(db, actor, _address(actor), SignInStage.second_factor)
    if has_second_factor(user):
        raise AccountError("This account already has a second factor.")
    try:
        codes = _confirm_enrolment(db, half, user, code, actor=actor)
    except SignInRefused:
        _fail(db, actor, user, SignInStage.second_factor, "wrong_enrolment_code")
        raise
    token = _complete_sign_in(db, half, user, actor=actor, user_agent=user_agent)
    return token, codes


def _complete_sign_in(
    db: Session, half: UserSession, user: User, *, actor: Actor, user_agent: str | None
) -> str:
    _end(db, half, "second_factor_passed")
    address = _address(actor)
    token, full = start_session(db, user, mfa_passed=True, address=address, user_agent=user_agent)
    user.last_active_at = utcnow()
    db.add(user)
    if _signed_in_before(db, user) and not _signed_in_before(db, user, address):
        mail_security_alert(db, user, SecurityAlert.new_address)
    _attempt(db, user, address, SignInStage.second_factor, succeeded=True)
    record(db, acting_as(actor, user), SecurityEventTag.sign_in_success, session_id=full.id)
    db.commit()
    return token


def _signed_in_before(db: Session, user: User, address: str | None = None) -> bool:
    """Whether the account has signed in before (from this address, if one is named)."""
    query = select(SignInAttempt.id).where(
        col(SignInAttempt.user_id) == user.id,
        col(SignInAttempt.succeeded).is_(True),
        col(SignInAttempt.stage) == SignInStage.second_factor.value,
    )
    if address is not None:
        query = query.where(col(SignInAttempt.address) == address)
    return db.exec(query.limit(1)).first() is not None


def sign_out(db: Session, actor: Actor, session_id: int) -> None:
    """Ends the session on the server (CJIS AC-12): its cookie opens nothing afterwards."""
    session = db.get(UserSession, session_id)
    if session is None or session.ended_at is not None:
        return
    _end(db, session, "sign_out")
    record(db, actor, SecurityEventTag.sign_out, session_id=session_id)
    db.commit()


# --- lockout and rate limits (CJIS AC-7) -------------------------------------------------------


def _address(actor: Actor) -> str:
    return (actor.address or "unknown")[:64]


def _window_start() -> datetime:
    return utcnow() - timedelta(minutes=get_settings().lockout_window_minutes)


def _attempt(
    db: Session, user: User | None, address: str, stage: SignInStage, *, succeeded: bool
) -> None:
    db.add(
        SignInAttempt(
            user_id=user.id if user else None,
            address=address,
            succeeded=succeeded,
            stage=stage.value,
        )
    )


def _refuse_if_rate_limited(db: Session, actor: Actor, address: str, stage: SignInStage) -> None:
    # Failures, not attempts: a station's shared address signs many officers in at shift change.
    failures = db.exec(
        select(func.count())
        .select_from(SignInAttempt)
        .where(
            col(SignInAttempt.address) == address,
            col(SignInAttempt.succeeded).is_(False),
            col(SignInAttempt.at) >= _window_start(),
        )
    ).one()
    if failures < get_settings().address_attempts_per_window:
        return
    _attempt(db, None, address, stage, succeeded=False)
    record(db, actor, SecurityEventTag.sign_in_rate_limited, "denied", stage=stage.value)
    db.commit()
    raise SignInRateLimited(RATE_LIMITED)


def refuse_if_rate_limited(db: Session, actor: Actor, stage: SignInStage) -> None:
    """Raises SignInRateLimited (logged) when the actor's address has failed too often: for
    sign-in steps outside this module (hub.identity)."""
    _refuse_if_rate_limited(db, actor, _address(actor), stage)


def _fail(db: Session, actor: Actor, user: User | None, stage: SignInStage, reason: str) -> None:
    """Records a failed attempt, logs it, locks the account when AC-7 says so, and commits."""
    _attempt(db, user, _address(actor), stage, succeeded=False)
    # The person has not proven who they are: the account goes in the detail, not as actor.
    record(
        db,
        actor,
        SecurityEventTag.sign_in_failure,
        "failure",
        stage=stage.value,
        reason=reason,
        account_id=user.id if user else None,
    )
    if user is not None and user.status == UserStatus.active:
        db.flush()
        if _recent_failures(db, user) >= get_settings().lockout_failures:
            _set_status(db, user, UserStatus.locked, "failed_sign_ins")
            ended = end_access(db, user, "locked")
            record(db, actor, SecurityEventTag.account_locked, account_id=user.id, **ended)
    db.commit()


def _recent_failures(db: Session, user: User) -> int:
    """Failures in the window since the later of the last release and the last completed
    sign-in. A passed password step does not reset the count, or the second factor could be
    guessed without end."""
    since = _window_start()
    last_success = db.exec(
        select(func.max(SignInAttempt.at)).where(
            col(SignInAttempt.user_id) == user.id,
            col(SignInAttempt.succeeded).is_(True),
            col(SignInAttempt.stage) == SignInStage.second_factor.value,
        )
    ).one()
    for moment in (last_success, user.status_changed_at):
        if moment is not None and moment > since:
            since = moment
    return int(
        db.exec(
            select(func.count())
            .select_from(SignInAttempt)
            .where(
                col(SignInAttempt.user_id) == user.id,
                col(SignInAttempt.succeeded).is_(False),
                col(SignInAttempt.at) > since,
            )
        ).one()
    )


def _set_status(db: Session, user: User, status: UserStatus, reason: str) -> None:
    user.status = status
    user.status_changed_at = utcnow()
    user.status_reason = reason
    db.add(user)


class AccessEnded(TypedDict):
    sessions_ended: int
    tokens_revoked: int


def end_access(db: Session, user: User, reason: str, *, keep: int | None = None) -> AccessEnded:
    """Ends every session of the account (but `keep`) and revokes every API token: access ends
    with the credentials or status it was granted under (CJIS IA-5, AC-2; ASVS V7.4). Returns
    the counts, for the log entry."""
    assert user.id is not None
    return {
        "sessions_ended": end_all_sessions(db, user.id, reason, keep=keep),
        "tokens_revoked": revoke_api_tokens(db, user.id, reason),
    }


def _end(db: Session, session: UserSession, reason: str) -> None:
    session.ended_at = utcnow()
    session.ended_reason = reason
    session.pending_totp_sealed = None
    db.add(session)


# --- inactive accounts (CJIS AC-2(3)) ----------------------------------------------------------


def is_inactive(user: User, now: datetime) -> bool:
    """No sign-in, session use, creation or re-activation within inactive_account_days."""
    moments = [m for m in (user.last_active_at, user.created_at, user.status_changed_at) if m]
    return now - max(moments) > timedelta(days=get_settings().inactive_account_days)


def disable_inactive_accounts(db: Session, actor: Actor) -> list[int]:
    """Disables every active account unused for inactive_account_days; returns their ids."""
    now = utcnow()
    users = db.exec(select(User).where(col(User.status) == UserStatus.active)).all()
    disabled = []
    for user in users:
        if is_inactive(user, now):
            _disable(db, actor, user, SecurityEventTag.user_disabled_inactive, "inactive")
            disabled.append(int(user.id))  # type: ignore[arg-type]
    db.commit()
    return disabled


def _disable(db: Session, actor: Actor, user: User, tag: SecurityEventTag, reason: str) -> None:
    """Disabling ends every session at once (ASVS V7.4.2)."""
    _set_status(db, user, UserStatus.disabled, reason)
    ended = end_access(db, user, "account_disabled")
    withdrawn = _withdraw_requests(db, user)
    record(db, actor, tag, account_id=user.id, reason=reason, requests_withdrawn=withdrawn, **ended)


# --- the second factor -------------------------------------------------------------------------


def has_second_factor(user: User) -> bool:
    return user.mfa_enrolled_at is not None and user.totp_secret_sealed is not None


def _open(sealed: str | None) -> str | None:
    return key_ring().open(sealed) if sealed else None


def _totp_counter(secret: str, code: str) -> int | None:
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


def _accept_totp(db: Session, user: User, secret: str | None, code: str) -> bool:
    """CJIS IA-2 replay resistance: a code's time step must be later than the last accepted.
    The conditional update claims the step atomically, so two requests racing with one code
    cannot both pass."""
    if secret is None:
        return False
    counter = _totp_counter(secret, code)
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


def _use_recovery_code(db: Session, user: User, code: str) -> bool:
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


def _new_recovery_codes(db: Session, user: User) -> list[str]:
    db.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
        db.add(RecoveryCode(user_id=user.id, code_hash=hash_recovery_code(raw)))  # type: ignore[arg-type]
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret as a QR code (inline SVG) and as text."""

    secret: str
    uri: str
    qr_svg: str


def pending_enrolment(session: UserSession, user: User) -> Enrolment | None:
    return _enrolment(session.pending_totp_sealed, user)


def _enrolment(sealed: str | None, user: User) -> Enrolment | None:
    secret = _open(sealed)
    if secret is None:
        return None
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=5, title="QR code for your authenticator")
    return Enrolment(
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)), uri=uri, qr_svg=svg
    )


def _confirm_enrolment(
    db: Session, session: UserSession, user: User, code: str, *, actor: Actor
) -> list[str]:
    secret = _open(session.pending_totp_sealed)
    counter = _totp_counter(secret, code) if secret else None
    if counter is None:
        raise SignInRefused(BAD_CODE)
    user.totp_secret_sealed = session.pending_totp_sealed
    user.totp_last_counter = counter
    user.mfa_enrolled_at = utcnow()
    session.pending_totp_sealed = None
    db.add(user)
    db.add(session)
    codes = _new_recovery_codes(db, user)
    record(db, acting_as(actor, user), SecurityEventTag.mfa_enrolled, account_id=user.id)
    return codes


def start_reenrolment(
    db: Session, actor: Actor, user: User, session: UserSession, current_password: str
) -> None:
    """Puts a new secret up for confirmation. Asks the password again (ASVS V6: changing an
    authenticator needs re-authentication), so a left-open session cannot swap the factor."""
    _reauthenticate(db, actor, user, current_password)
    session.pending_totp_sealed = key_ring().seal(pyotp.random_base32())
    db.add(session)
    db.commit()


def confirm_reenrolment(
    db: Session, actor: Actor, user: User, session: UserSession, code: str
) -> list[str]:
    """Replaces the second factor with the pending one; returns new recovery codes."""
    if session.pending_totp_sealed is None:
        raise AccountError("Start again: there is no new authenticator waiting for a code.")
    try:
        codes = _confirm_enrolment(db, session, user, code, actor=actor)
    except SignInRefused as refused:
        raise AccountError(BAD_CODE) from refused
    db.commit()
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


# --- passwords --------------------------------------------------------------------------------


def check_new_password(new: str, again: str | None = None) -> None:
    if len(new) < MIN_LENGTH:
        raise AccountError(f"The new password needs at least {MIN_LENGTH} characters.")
    if len(new) > 256:
        raise AccountError("The new password may have at most 256 characters.")
    if again is not None and new != again:
        raise AccountError("The two new passwords are not the same.")


def _reauthenticate(db: Session, actor: Actor, user: User, password: str) -> None:
    if not verify_password(user.password_hash, password):
        # Counts toward AC-7, or a left-open session could be used to guess the password.
        _fail(db, actor, user, SignInStage.reauthentication, "wrong_password")
        raise AccountError("The current password is not right.")


def change_password(
    db: Session,
    actor: Actor,
    user: User,
    session_id: int | None,
    current: str,
    new: str,
    again: str,
) -> int:
    """Changes the password and ends every other session (sign-out everywhere); returns how
    many sessions ended."""
    _reauthenticate(db, actor, user, current)
    check_new_password(new, again)
    if verify_password(user.password_hash, new):
        raise AccountError("The new password must differ from the current one.")
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    db.add(user)
    ended = end_access(db, user, "password_changed", keep=session_id)
    record(db, actor, SecurityEventTag.password_changed, account_id=user.id, **ended)
    mail_security_alert(db, user, SecurityAlert.password_changed)
    db.commit()
    return ended["sessions_ended"]


# --- own sessions and API tokens ---------------------------------------------------------------


def active_sessions(db: Session, user_id: int) -> list[UserSession]:
    """The person's live, fully signed-in sessions, newest first."""
    now = utcnow()
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    rows = db.exec(
        select(UserSession)
        .where(
            col(UserSession.user_id) == user_id,
            col(UserSession.ended_at).is_(None),
            col(UserSession.mfa_passed).is_(True),
        )
        .order_by(col(UserSession.created_at).desc())
    ).all()
    return [s for s in rows if s.expires_at > now and now - s.last_seen_at <= idle]


def end_own_session(db: Session, actor: Actor, user_id: int, session_id: int) -> None:
    """Ends one of the person's own sessions (another device, or this one)."""
    session = db.get(UserSession, session_id)
    if session is None or session.user_id != user_id:
        raise AccountError("There is no such session.")
    if session.ended_at is None:
        _end(db, session, "ended_by_user")
        record(db, actor, SecurityEventTag.sign_out, session_id=session_id, by="account_page")
    db.commit()


def api_tokens(db: Session, user_id: int) -> list[ApiToken]:
    return list(
        db.exec(
            select(ApiToken)
            .where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
            .order_by(col(ApiToken.created_at).desc())
        ).all()
    )


def create_api_token(
    db: Session,
    actor: Actor,
    user: User,
    name: str,
    days: int = API_TOKEN_DEFAULT_DAYS,
    *,
    scope: TokenScope = TokenScope.read,
) -> str:
    """Creates a bearer token that expires after `days`, for reading or for reading and writing;
    returns it (shown once, kept hashed)."""
    if user.status != UserStatus.active:
        raise AccountError("Only an active account can have API tokens.")
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("Give the token a name of 1 to 100 characters.")
    if not 1 <= days <= API_TOKEN_MAX_DAYS:
        raise AccountError(f"A token lasts between 1 and {API_TOKEN_MAX_DAYS} days.")
    token = new_token()
    row = ApiToken(
        user_id=user.id,  # type: ignore[arg-type]
        name=name,
        token_hash=hash_token(token),
        expires_at=utcnow() + timedelta(days=days),
        scope=scope,
    )
    db.add(row)
    db.flush()
    record(
        db,
        actor,
        SecurityEventTag.api_token_created,
        account_id=user.id,
        token_id=row.id,
        days=days,
        scope=scope.value,
    )
    mail_security_alert(db, user, SecurityAlert.api_token_created)
    db.commit()
    return token


def revoke_api_token(db: Session, actor: Actor, user_id: int, token_id: int) -> None:
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise AccountError("There is no such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.add(token)
        token.revoked_reason = "revoked_by_user"
        record(db, actor, SecurityEventTag.api_token_revoked, account_id=user_id, token_id=token_id)
    db.commit()


# --- administration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose accounts a manager may manage: an agency admin their own agency's, the program
    office's coordinator every agency's, the server operator (command line) everyone's.
    `withheld_roles`: roles this manager may not hand out (the coordinator creates no privacy
    officers or admins: those watch and run the hub, the coordinator among others)."""

    all_agencies: bool
    agency_id: int | None = None
    manager_id: int | None = None
    withheld_roles: frozenset[Role] = frozenset()

    @classmethod
    def of(cls, viewer: Viewer) -> "Scope":
        if viewer.role == Role.coordinator and viewer.agency_kind == AgencyKind.program_office:
            return cls(
                all_agencies=True,
                manager_id=viewer.user_id,
                withheld_roles=frozenset({Role.privacy_officer, Role.admin}),
            )
        if viewer.role == Role.admin:
            return cls(all_agencies=False, agency_id=viewer.agency_id, manager_id=viewer.user_id)
        return cls(all_agencies=False, manager_id=viewer.user_id)

    def covers(self, agency_id: int | None) -> bool:
        return self.all_agencies or (self.agency_id is not None and self.agency_id == agency_id)

    def grants(self, role: Role) -> bool:
        return role not in self.withheld_roles


OPERATOR = Scope(all_agencies=True)


def _deny(db: Session, actor: Actor, action: str, **detail: Any) -> NotPermitted:
    record(db, actor, SecurityEventTag.access_denied, "denied", action=action, **detail)
    db.commit()
    return NotPermitted("That account or agency is not yours to manage.")


def managed_user(db: Session, actor: Actor, scope: Scope, user_id: int, action: str) -> User:
    """The account, if the scope covers its agency; a refusal is logged."""
    user = db.get(User, user_id)
    if user is None:
        raise AccountError("There is no such account.")
    if not scope.covers(user.agency_id):
        raise _deny(db, actor, action, account_id=user_id)
    return user


def _not_self(scope: Scope, user: User) -> None:
    # Separation of duties: another manager changes a manager's own role, status or factor.
    if scope.manager_id is not None and scope.manager_id == user.id:
        raise AccountError("Ask another administrator to change your own account.")


def _may_grant(db: Session, actor: Actor, scope: Scope, role: Role, action: str) -> None:
    if not scope.grants(role):
        record(db, actor, SecurityEventTag.access_denied, "denied", action=action, role=role.value)
        db.commit()
        raise NotPermitted(
            f"The program office's coordinator does not give the role {role.value}; "
            "an administrator of the agency does."
        )


def agency_of(db: Session, agency_id: int) -> Agency:
    agency = db.get(Agency, agency_id)
    if agency is None:
        raise AccountError("There is no such agency.")
    return agency


def _check_role_fits(agency: Agency, role: Role) -> None:
    if role not in ROLES_BY_AGENCY_KIND[agency.kind]:
        allowed = ", ".join(sorted(r.value for r in ROLES_BY_AGENCY_KIND[agency.kind]))
        raise AccountError(
            f"A {agency.kind.value.replace('_', ' ')} agency's users can be: {allowed}."
        )


def list_users(db: Session, scope: Scope) -> list[tuple[User, Agency]]:
    query = select(User, Agency).join(Agency, col(Agency.id) == User.agency_id)
    if not scope.all_agencies:
        query = query.where(col(User.agency_id) == scope.agency_id)
    return list(db.exec(query.order_by(col(Agency.name), col(User.display_name))).all())


def list_agencies(db: Session, scope: Scope) -> list[Agency]:
    query = select(Agency)
    if not scope.all_agencies:
        query = query.where(col(Agency.id) == scope.agency_id)
    return list(db.exec(query.order_by(col(Agency.name))).all())


# --- access requests: a second person approves (hub.accounts.approvals decides them) ----------


def _open_request(
    db: Session, actor: Actor, user: User, kind: AccessRequestKind, role: Role
) -> AccessRequest:
    """Asks a second person to approve new access for the account (CJIS AC-2, AC-5); an older
    pending request of the same account is withdrawn."""
    _withdraw_requests(db, user)
    request = AccessRequest(
        user_id=user.id,  # type: ignore[arg-type]
        kind=kind,
        role=role,
        role_before=user.role if kind == AccessRequestKind.role_change else None,
        requested_by_id=actor.user_id,
    )
    db.add(request)
    db.flush()
    record(
        db,
        actor,
        SecurityEventTag.access_requested,
        account_id=user.id,
        request_id=request.id,
        kind=kind.value,
        role=role.value,
    )
    return request


def _withdraw_requests(db: Session, user: User) -> int:
    result = db.exec(
        update(AccessRequest)
        .where(
            col(AccessRequest.user_id) == user.id,
            col(AccessRequest.status) == AccessRequestStatus.pending,
        )
        .values(status=AccessRequestStatus.withdrawn, decided_at=utcnow())
    )
    return int(result.rowcount or 0)


def pending_request(db: Session, user_id: int) -> AccessRequest | None:
    return db.exec(
        select(AccessRequest).where(
            col(AccessRequest.user_id) == user_id,
            col(AccessRequest.status) == AccessRequestStatus.pending,
        )
    ).first()


# --- enrolment links (CJIS IA-5: whoever creates an account never learns its authenticator) --


def _issue_link(db: Session, actor: Actor, user: User) -> str:
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
        user_id=user.id,  # type: ignore[arg-type]
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


def issue_enrolment_link(db: Session, actor: Actor, scope: Scope, user_id: int) -> str:
    """A fresh link for an account whose person has not enrolled yet (the first one expired or
    was lost). Never for an account that has enrolled: that would hand its manager a way to
    set its password."""
    user = managed_user(db, actor, scope, user_id, "issue_enrolment_link")
    _not_self(scope, user)
    links = db.exec(select(EnrolmentLink).where(col(EnrolmentLink.user_id) == user.id)).all()
    if not links or any(link.used_at is not None for link in links):
        raise AccountError("This person has set their password already; no link is needed.")
    if user.status == UserStatus.disabled:
        raise AccountError("The account is disabled.")
    token = _issue_link(db, actor, user)
    db.commit()
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
    return _enrolment(link.pending_totp_sealed, user)


@dataclass(frozen=True)
class Enrolled:
    recovery_codes: list[str]
    active: bool  # False: the account still waits for a second person's approval


BAD_LINK = (
    "This enrolment link cannot be used: it was used already, has expired (links last "
    f"{ENROLMENT_LINK_HOURS} hours) or was replaced. Ask your agency's administrator for a new one."
)


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
    secret = _open(sealed)
    counter = _totp_counter(secret, code) if secret else None
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
    codes = _new_recovery_codes(db, user)
    record(db, acting_as(actor, user), SecurityEventTag.enrolment_completed, account_id=user.id)
    db.commit()
    return Enrolled(recovery_codes=codes, active=user.status == UserStatus.active)


# --- accounts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAccount:
    user: User
    enrolment_token: str  # the link's secret: shown once, to hand to the person


def create_user(
    db: Session,
    actor: Actor,
    scope: Scope,
    *,
    email: str,
    display_name: str,
    role: Role,
    agency_id: int,
) -> NewAccount:
    """Creates an account that waits for a second person's approval and has no password yet.
    Returns it with a one-time enrolment link through which the person sets their password
    and second factor: the manager never learns either (CJIS AC-5, IA-5)."""
    agency = agency_of(db, agency_id)
    if not scope.covers(agency.id):
        raise _deny(db, actor, "create_user", agency_id=agency_id)
    _may_grant(db, actor, scope, role, "create_user")
    email = normalise_email(email)
    display_name = display_name.strip()
    if not _EMAIL.match(email) or len(email) > 254:
        raise AccountError("Enter a valid e-mail address.")
    if not display_name or len(display_name) > 200:
        raise AccountError("Enter a name of 1 to 200 characters.")
    _check_role_fits(agency, role)
    if user_by_email(db, email) is not None:
        raise AccountError("An account with that e-mail address exists already.")
    user = User(
        agency_id=agency.id,  # type: ignore[arg-type]
        email=email,
        display_name=display_name,
        role=role,
        status=UserStatus.pending,
        status_reason="awaiting_approval",
        status_changed_at=utcnow(),
        # A password nobody knows, until the person sets theirs through the link.
        password_hash=hash_password(secrets.token_urlsafe(32)),
    )
    db.add(user)
    db.flush()
    request = _open_request(db, actor, user, AccessRequestKind.new_account, role)
    record(
        db,
        actor,
        SecurityEventTag.user_created,
        account_id=user.id,
        role=role.value,
        agency_id=agency.id,
        request_id=request.id,
    )
    token = _issue_link(db, actor, user)
    db.commit()
    return NewAccount(user=user, enrolment_token=token)


def change_role(db: Session, actor: Actor, scope: Scope, user_id: int, role: Role) -> User:
    """Asks for another role that fits the account's agency; it takes effect when a second
    person approves it (hub.accounts.approvals)."""
    user = managed_user(db, actor, scope, user_id, "change_role")
    _not_self(scope, user)
    _may_grant(db, actor, scope, role, "change_role")
    _check_role_fits(agency_of(db, user.agency_id), role)
    if user.role == role:
        raise AccountError("The account has that role already.")
    if user.status == UserStatus.disabled:
        raise AccountError("The account is disabled; enable it first.")
    if user.status == UserStatus.pending:
        raise AccountError(
            "The account waits for a second person's approval; change its role once it is "
            "decided (or have it refused and create the account again)."
        )
    _open_request(db, actor, user, AccessRequestKind.role_change, role)
    db.commit()
    return user


def disable_user(db: Session, actor: Actor, scope: Scope, user_id: int) -> User:
    """Disables an account, ends all its sessions and revokes its API tokens."""
    user = managed_user(db, actor, scope, user_id, "disable_user")
    _not_self(scope, user)
    if user.status != UserStatus.disabled:
        _disable(db, actor, user, SecurityEventTag.user_disabled, "disabled_by_manager")
    db.commit()
    return user


def enable_user(db: Session, actor: Actor, scope: Scope, user_id: int) -> User:
    """Asks for a disabled account to be active again; it waits for a second person's approval.
    Its API tokens stay revoked."""
    user = managed_user(db, actor, scope, user_id, "enable_user")
    _not_self(scope, user)
    _may_grant(db, actor, scope, user.role, "enable_user")
    if user.status != UserStatus.disabled:
        raise AccountError("That account is not disabled.")
    _set_status(db, user, UserStatus.pending, "awaiting_approval")
    _open_request(db, actor, user, AccessRequestKind.re_enable, user.role)
    db.commit()
    return user


def release_lockout(db: Session, actor: Actor, scope: Scope, user_id: int) -> User:
    """CJIS AC-7: an administrator releases a locked account (its API tokens stay revoked)."""
    user = managed_user(db, actor, scope, user_id, "release_lockout")
    if user.status != UserStatus.locked:
        raise AccountError("That account is not locked.")
    _set_status(db, user, UserStatus.active, "released")
    record(db, actor, SecurityEventTag.account_unlocked, account_id=user.id)
    db.commit()
    return user


def reset_mfa(db: Session, actor: Actor, scope: Scope, user_id: int) -> User:
    """Removes the second factor and recovery codes (the person enrols again at the next
    sign-in), ends every session and revokes every API token."""
    user = managed_user(db, actor, scope, user_id, "reset_mfa")
    _not_self(scope, user)
    user.totp_secret_sealed = None
    user.totp_last_counter = None
    user.mfa_enrolled_at = None
    db.add(user)
    db.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    ended = end_access(db, user, "mfa_reset")
    record(db, actor, SecurityEventTag.mfa_reset, account_id=user.id, **ended)
    db.commit()
    return user


def end_user_sessions(db: Session, actor: Actor, scope: Scope, user_id: int) -> int:
    """Ends every session of an account and revokes its API tokens (ASVS V7.4.5:
    administrators can end sessions; a token is a session by other means)."""
    user = managed_user(db, actor, scope, user_id, "end_sessions")
    ended = end_access(db, user, "ended_by_admin")
    record(db, actor, SecurityEventTag.session_ended_by_admin, account_id=user.id, **ended)
    db.commit()
    return ended["sessions_ended"]


def _agency_fields(
    db: Session, name: str, jurisdiction: str | None, agency_id: int | None
) -> tuple[str, str | None]:
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError("Enter an agency name of 1 to 200 characters.")
    jurisdiction = (jurisdiction or "").strip() or None
    if jurisdiction and len(jurisdiction) > 100:
        raise AccountError("The jurisdiction may have at most 100 characters.")
    taken = db.exec(
        select(Agency).where(func.lower(Agency.name) == name.lower(), col(Agency.id) != agency_id)
    ).first()
    if taken is not None:
        raise AccountError("An agency with that name exists already.")
    return name, jurisdiction


def create_agency(
    db: Session,
    actor: Actor,
    scope: Scope,
    *,
    name: str,
    kind: AgencyKind,
    jurisdiction: str | None = None,
) -> Agency:
    """Adds an agency; only the program office (or the operator) adds agencies."""
    if not scope.all_agencies:
        raise _deny(db, actor, "create_agency")
    name, jurisdiction = _agency_fields(db, name, jurisdiction, None)
    agency = Agency(name=name, kind=kind, jurisdiction=jurisdiction)
    db.add(agency)
    db.flush()
    record(db, actor, SecurityEventTag.agency_created, agency_id=agency.id, kind=kind.value)
    db.commit()
    return agency


def update_agency(
    db: Session, actor: Actor, scope: Scope, agency_id: int, *, name: str, jurisdiction: str | None
) -> Agency:
    """Renames an agency or changes its jurisdiction; its kind stays, as its roles rest on it."""
    agency = agency_of(db, agency_id)
    if not scope.covers(agency.id):
        raise _deny(db, actor, "update_agency", agency_id=agency_id)
    agency.name, agency.jurisdiction = _agency_fields(db, name, jurisdiction, agency.id)
    db.add(agency)
    record(db, actor, SecurityEventTag.agency_changed, agency_id=agency.id)
    db.commit()
    return agency


def set_part2_program(
    db: Session, actor: Actor, scope: Scope, agency_id: int, *, part2_program: bool
) -> Agency:
    """Marks an agency as a 42 CFR Part 2 program (2.11), or unmarks it: whatever its staff
    record about a client is then Part 2 data, in any field. Only the program office (or the
    operator) decides it, for every agency alike; logged as a security event. Commits."""
    agency = agency_of(db, agency_id)
    if not scope.all_agencies:
        raise _deny(db, actor, "set_part2_program", agency_id=agency_id)
    if agency.part2_program == part2_program:
        state = "already" if part2_program else "not"
        raise AccountError(f"{agency.name} is {state} a Part 2 program.")
    agency.part2_program = part2_program
    db.add(agency)
    record(
        db,
        actor,
        SecurityEventTag.agency_part2_program_changed,
        agency_id=agency.id,
        part2_program=part2_program,
    )
    db.commit()
    return agency


def display_names(db: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """Display names of these accounts, for pages that say who did something."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = db.exec(select(User.id, User.display_name).where(col(User.id).in_(ids))).all()
    return {uid: name for uid, name in rows if uid is not None}
