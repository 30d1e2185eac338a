"""Signing in with a password and a second factor (CJIS IA-2), lockout and rate limits (AC-7),
ending a person's access, and disabling inactive accounts (AC-2(3)). Sessions themselves
(AC-11, AC-12) live in hub.accounts.sessions."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

import pyotp
from sqlalchemy import func
from sqlmodel import Session, col, select, update

from hub.accounts.models import (
    AccessRequest,
    SignInAttempt,
    User,
    UserSession,
)
from hub.accounts.passwords import (
    DUMMY_HASH,
    hash_password,
    needs_rehash,
    verify_password,
)
from hub.accounts.rules import (
    BAD_CODE,
    GENERIC_FAILURE,
    HALF_SESSION_MINUTES,
    RATE_LIMITED,
    AccountError,
    SignInRateLimited,
    SignInRefused,
    acting_as,
    record,
    user_by_email,
)
from hub.accounts.second_factor import (
    accept_totp,
    confirm_enrolment,
    has_second_factor,
    open_sealed,
    unused_recovery_codes,
    use_recovery_code,
)
from hub.accounts.sessions import (
    end_all_sessions,
    load_session,
    revoke_api_tokens,
    start_session,
)
from hub.audit.log import Actor
from hub.crypto import key_ring
from hub.db import ident, utcnow
from hub.mail.services import mail_security_alert
from hub.settings import get_settings
from hub.vocabulary import (
    AccessRequestStatus,
    SecurityAlert,
    SecurityEventTag,
    SignInStage,
    UserStatus,
)


@dataclass(frozen=True)
class HalfSignIn:
    """The password step passed: a session that opens no page until the second factor."""

    token: str
    needs_enrolment: bool


def sign_in_with_password(
    db: Session, email: str, password: str, *, actor: Actor, user_agent: str | None
) -> HalfSignIn:
    """Checks the password step and starts a half session. Raises SignInRefused with the same
    message for an unknown address, a wrong password and a locked or disabled account."""
    address = address_of(actor)
    _refuse_if_rate_limited(db, actor, address, SignInStage.password)
    user = user_by_email(db, email)
    if user is None:
        # Spend the time a real check takes, so the answer's timing names no account.
        verify_password(DUMMY_HASH, password)
        refuse_sign_in(db, actor, None, SignInStage.password, "unknown_account")
        raise SignInRefused(GENERIC_FAILURE)
    password_ok = verify_password(user.password_hash, password)
    if user.status == UserStatus.active and is_inactive(user, utcnow()):
        disable_for(db, actor, user, SecurityEventTag.user_disabled_inactive, "inactive")
    if user.status != UserStatus.active:
        refuse_sign_in(db, actor, user, SignInStage.password, f"account_{user.status.value}")
        raise SignInRefused(GENERIC_FAILURE)
    if not password_ok:
        refuse_sign_in(db, actor, user, SignInStage.password, "wrong_password")
        raise SignInRefused(GENERIC_FAILURE)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.add(user)
    log_attempt(db, user, address, SignInStage.password, succeeded=True)
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
        end_session(db, half, "second_factor_timeout")
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
    address = address_of(actor)
    _refuse_if_rate_limited(db, actor, address, SignInStage.second_factor)
    used_recovery_code = False
    accepted = accept_totp(db, user, open_sealed(user.totp_secret_sealed), code)
    if not accepted:
        used_recovery_code = accepted = use_recovery_code(db, user, code)
    if not accepted:
        refuse_sign_in(db, actor, user, SignInStage.second_factor, "wrong_code")
        if user.status != UserStatus.active:
            end_session(db, half, "locked")
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
    _refuse_if_rate_limited(db, actor, address_of(actor), SignInStage.second_factor)
    if has_second_factor(user):
        raise AccountError("This account already has a second factor.")
    try:
        codes = confirm_enrolment(db, half, user, code, actor=actor)
    except SignInRefused:
        refuse_sign_in(db, actor, user, SignInStage.second_factor, "wrong_enrolment_code")
        raise
    token = _complete_sign_in(db, half, user, actor=actor, user_agent=user_agent)
    return token, codes


def _complete_sign_in(
    db: Session, half: UserSession, user: User, *, actor: Actor, user_agent: str | None
) -> str:
    end_session(db, half, "second_factor_passed")
    address = address_of(actor)
    token, full = start_session(db, user, mfa_passed=True, address=address, user_agent=user_agent)
    user.last_active_at = utcnow()
    db.add(user)
    if _signed_in_before(db, user) and not _signed_in_before(db, user, address):
        mail_security_alert(db, user, SecurityAlert.new_address)
    log_attempt(db, user, address, SignInStage.second_factor, succeeded=True)
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
    end_session(db, session, "sign_out")
    record(db, actor, SecurityEventTag.sign_out, session_id=session_id)
    db.commit()


def address_of(actor: Actor) -> str:
    return (actor.address or "unknown")[:64]


def _window_start() -> datetime:
    return utcnow() - timedelta(minutes=get_settings().lockout_window_minutes)


def log_attempt(
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
    log_attempt(db, None, address, stage, succeeded=False)
    record(db, actor, SecurityEventTag.sign_in_rate_limited, "denied", stage=stage.value)
    db.commit()
    raise SignInRateLimited(RATE_LIMITED)


def refuse_if_rate_limited(db: Session, actor: Actor, stage: SignInStage) -> None:
    """Raises SignInRateLimited (logged) when the actor's address has failed too often: for
    sign-in steps outside this module (hub.identity)."""
    _refuse_if_rate_limited(db, actor, address_of(actor), stage)


def refuse_sign_in(
    db: Session, actor: Actor, user: User | None, stage: SignInStage, reason: str
) -> None:
    """Records a failed attempt, logs it, locks the account when AC-7 says so, and commits."""
    log_attempt(db, user, address_of(actor), stage, succeeded=False)
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
            set_status(db, user, UserStatus.locked, "failed_sign_ins")
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


def set_status(db: Session, user: User, status: UserStatus, reason: str) -> None:
    user.status = status
    user.status_changed_at = utcnow()
    user.status_reason = reason
    db.add(user)


class AccessEnded(TypedDict):
    sessions_ended: int
    tokens_revoked: int


def reauthenticate(db: Session, actor: Actor, user: User, password: str) -> None:
    if not verify_password(user.password_hash, password):
        # Counts toward AC-7, or a left-open session could be used to guess the password.
        refuse_sign_in(db, actor, user, SignInStage.reauthentication, "wrong_password")
        raise AccountError("The current password is not right.")


def withdraw_requests(db: Session, user: User) -> int:
    result = db.exec(
        update(AccessRequest)
        .where(
            col(AccessRequest.user_id) == user.id,
            col(AccessRequest.status) == AccessRequestStatus.pending,
        )
        .values(status=AccessRequestStatus.withdrawn, decided_at=utcnow())
    )
    return int(result.rowcount or 0)


def end_access(db: Session, user: User, reason: str, *, keep: int | None = None) -> AccessEnded:
    """Ends every session of the account (but `keep`) and revokes every API token: access ends
    with the credentials or status it was granted under (CJIS IA-5, AC-2; ASVS V7.4). Returns
    the counts, for the log entry."""
    assert user.id is not None
    return {
        "sessions_ended": end_all_sessions(db, user.id, reason, keep=keep),
        "tokens_revoked": revoke_api_tokens(db, user.id, reason),
    }


def end_session(db: Session, session: UserSession, reason: str) -> None:
    session.ended_at = utcnow()
    session.ended_reason = reason
    session.pending_totp_sealed = None
    db.add(session)


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
            disable_for(db, actor, user, SecurityEventTag.user_disabled_inactive, "inactive")
            disabled.append(int(ident(user.id)))
    db.commit()
    return disabled


def disable_for(db: Session, actor: Actor, user: User, tag: SecurityEventTag, reason: str) -> None:
    """Disabling ends every session at once (ASVS V7.4.2)."""
    set_status(db, user, UserStatus.disabled, reason)
    ended = end_access(db, user, "account_disabled")
    withdrawn = withdraw_requests(db, user)
    record(db, actor, tag, account_id=user.id, reason=reason, requests_withdrawn=withdrawn, **ended)
