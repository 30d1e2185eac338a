"""Server-side sessions (CJIS AC-11/AC-12, ASVS V7) and API bearer tokens.

The browser holds only a random token; the database holds its SHA-256, so a copied database
opens no session. A session is ended, never deleted, so the security log can refer to it.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select, update

from hub.accounts.models import Agency, ApiToken, User, UserSession
from hub.audit.log import Actor, Event, append
from hub.db import ident, utcnow
from hub.settings import get_settings
from hub.vocabulary import AgencyKind, Role, SecurityEventTag, TokenScope, UserStatus

# Writing last_seen_at on every request would serialise page loads on SQLite; a minute of
# slack on a 30-minute idle limit is well inside CJIS AC-11.
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, as every policy decision sees them."""

    user_id: int
    role: Role
    agency_id: int
    agency_kind: AgencyKind
    display_name: str
    session_id: int | None = None  # None for an API token
    csrf_token: str | None = None
    token_scope: TokenScope | None = None  # an API token's scope; None for a session
    # An agency system's OAuth 2 token (hub.apiclients): the ClientScope values it carries,
    # which the /api/v1 routes check (hub.apiclients.scopes). None for a person.
    client_scopes: frozenset[str] | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def start_session(
    db: Session, user: User, *, mfa_passed: bool, address: str | None, user_agent: str | None
) -> tuple[str, UserSession]:
    """A fresh session id at every sign-in step (ASVS V7.2.4); returns the cookie's token."""
    settings = get_settings()
    token = new_token()
    now = utcnow()
    record = UserSession(
        token_hash=hash_token(token),
        user_id=ident(user.id),
        mfa_passed=mfa_passed,
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
        address=address,
        user_agent=(user_agent or "")[:300] or None,
    )
    db.add(record)
    db.flush()
    return token, record


def load_session(
    db: Session, token: str, *, touch: bool = True
) -> tuple[UserSession, User, Agency] | None:
    """The live session for a cookie token, its user and the user's agency, or None once it
    has ended, idled out or expired.
    `touch=False` for requests the browser makes by itself (a polling badge): they must not
    keep an idle session alive (CJIS AC-11)."""
    # The agency comes in the same statement: viewer_for needs it on every request.
    row = db.exec(
        select(UserSession, User, Agency)
        .join(User, col(User.id) == UserSession.user_id)
        .join(Agency, col(Agency.id) == User.agency_id)
        .where(UserSession.token_hash == hash_token(token), col(UserSession.ended_at).is_(None))
    ).first()
    if row is None:
        return None
    record, user, agency = row
    now = utcnow()
    idle_limit = timedelta(minutes=get_settings().session_idle_minutes)
    if user.status != UserStatus.active:
        _expire(db, record, user, "account_not_active")
        return None
    if now >= record.expires_at:
        _expire(db, record, user, "absolute_timeout")
        return None
    if now - record.last_seen_at > idle_limit:
        _expire(db, record, user, "idle_timeout")
        return None
    if touch and now - record.last_seen_at > _TOUCH_EVERY:
        record.last_seen_at = now
        user.last_active_at = now
        db.add(record)
        db.add(user)
        db.commit()
    return record, user, agency


def _expire(db: Session, record: UserSession, user: User, reason: str) -> None:
    """Ends a session the hub itself closed (CJIS AC-11/AC-12), as a security event (AU-2)."""
    append(
        db,
        Actor(user_id=user.id, role=user.role.value, agency_id=user.agency_id),
        Event(
            kind="security",
            tag=SecurityEventTag.session_expired.value,
            outcome="success",
            detail={"session_id": record.id, "reason": reason},
        ),
    )
    end_session(db, record, reason)


def end_session(db: Session, record: UserSession, reason: str) -> None:
    record.ended_at = utcnow()
    record.ended_reason = reason
    db.add(record)
    db.commit()


def end_all_sessions(db: Session, user_id: int, reason: str, *, keep: int | None = None) -> int:
    """Ends every live session of a user (disable, password change, admin action)."""
    statement = (
        update(UserSession)
        .where(col(UserSession.user_id) == user_id, col(UserSession.ended_at).is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )
    if keep is not None:
        statement = statement.where(col(UserSession.id) != keep)
    result = db.exec(statement)
    return int(result.rowcount or 0)


def revoke_api_tokens(db: Session, user_id: int, reason: str) -> int:
    """Revokes every live API token of a user: a token ends with the credentials and status it
    was issued under (CJIS IA-5, AC-2). Enabling the account again revives none."""
    result = db.exec(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    return int(result.rowcount or 0)


def load_api_grant(db: Session, token: str) -> tuple[User, TokenScope] | None:
    """The user behind a live, unexpired, unrevoked bearer token, and the token's scope."""
    row = db.exec(
        select(ApiToken, User)
        .join(User, col(User.id) == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token), col(ApiToken.revoked_at).is_(None))
    ).first()
    if row is None:
        return None
    api_token, user = row
    now = utcnow()
    if user.status != UserStatus.active or now >= api_token.expires_at:
        return None
    if api_token.last_used_at is None or now - api_token.last_used_at > _TOUCH_EVERY:
        api_token.last_used_at = now
        db.add(api_token)
        db.commit()
    return user, api_token.scope


def load_api_token(db: Session, token: str) -> User | None:
    grant = load_api_grant(db, token)
    return grant[0] if grant else None


def viewer_for(
    db: Session,
    user: User,
    record: UserSession | None = None,
    agency: Agency | None = None,
    token_scope: TokenScope | None = None,
) -> Viewer:
    agency = agency or db.get(Agency, user.agency_id)
    assert agency is not None and user.id is not None
    return Viewer(
        user_id=user.id,
        role=user.role,
        agency_id=ident(agency.id),
        agency_kind=agency.kind,
        display_name=user.display_name,
        session_id=record.id if record else None,
        csrf_token=record.csrf_token if record else None,
        token_scope=token_scope,
    )


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
