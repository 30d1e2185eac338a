"""What a person does with their own access: change their password, end their sessions,
make and revoke their API tokens."""

from datetime import timedelta

import pyotp
from sqlmodel import Session, col, select

from hub.accounts.models import (
    ApiToken,
    User,
    UserSession,
)
from hub.accounts.passwords import (
    MIN_LENGTH,
    hash_password,
    verify_password,
)
from hub.accounts.rules import (
    API_TOKEN_DEFAULT_DAYS,
    API_TOKEN_MAX_DAYS,
    BAD_CODE,
    AccountError,
    SignInRefused,
    record,
)
from hub.accounts.second_factor import confirm_enrolment
from hub.accounts.sessions import (
    hash_token,
    new_token,
)
from hub.accounts.signing_in import end_access, end_session, reauthenticate
from hub.audit.log import Actor
from hub.crypto import key_ring
from hub.db import ident, utcnow
from hub.mail.services import mail_security_alert
from hub.settings import get_settings
from hub.vocabulary import (
    SecurityAlert,
    SecurityEventTag,
    TokenScope,
    UserStatus,
)


def check_new_password(new: str, again: str | None = None) -> None:
    if len(new) < MIN_LENGTH:
        raise AccountError(f"The new password needs at least {MIN_LENGTH} characters.")
    if len(new) > 256:
        raise AccountError("The new password may have at most 256 characters.")
    if again is not None and new != again:
        raise AccountError("The two new passwords are not the same.")


def start_reenrolment(
    db: Session, actor: Actor, user: User, session: UserSession, current_password: str
) -> None:
    """Puts a new secret up for confirmation. Asks the password again (ASVS V6: changing an
    authenticator needs re-authentication), so a left-open session cannot swap the factor."""
    reauthenticate(db, actor, user, current_password)
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
        codes = confirm_enrolment(db, session, user, code, actor=actor)
    except SignInRefused as refused:
        raise AccountError(BAD_CODE) from refused
    db.commit()
    return codes


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
    reauthenticate(db, actor, user, current)
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
        end_session(db, session, "ended_by_user")
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
        user_id=ident(user.id),
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
