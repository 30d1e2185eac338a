"""Nothing typed is lost (issue 17): a form posted after its session ended by a time limit
(CJIS AC-11 idle lock, AC-12 absolute limit) is kept, sealed, for its author alone, for 24
hours, and offered back after they sign in again. Only a form that carries the ended session's
own CSRF token is kept, so a forged request keeps nothing; file uploads are never kept."""

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from hub.accounts.models import KeptForm, User, UserSession
from hub.accounts.sessions import hash_token, tokens_match
from hub.audit.log import Actor, Event, append
from hub.db import ident, utcnow
from hub.vocabulary import LogKind, LogOutcome, SecurityEventTag, UserStatus

KEEP_FOR = timedelta(hours=24)
MAX_FIELDS = 200
# The limits the hub itself applies; a sign-out, a password change or a disabled account keeps
# nothing.
_TIME_LIMITS = frozenset({"idle_timeout", "absolute_timeout"})
_KEEPABLE_PATH = re.compile(r"^/[A-Za-z0-9/_.-]{0,299}$")
# Sign-in, the account page (passwords, second factor, tokens) and the API are never kept.
_NEVER_KEPT = ("/sign-in", "/sign-out", "/api/", "/kept-forms", "/account")
_CSRF_FIELD = "csrf_token"


class KeptFormGone(LookupError):
    """No kept form of this user by that number (another's, expired or sent)."""


@dataclass(frozen=True)
class KeptFormLine:
    id: int
    path: str
    kept_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class KeptFormView:
    id: int
    path: str
    kept_at: datetime
    fields: list[tuple[str, str]]


def keepable(path: str) -> bool:
    """A path of this hub ("//host" would send the form elsewhere when it is sent again)."""
    return (
        _KEEPABLE_PATH.match(path) is not None
        and not path.startswith("//")
        and not path.startswith(_NEVER_KEPT)
    )


def keep_form(
    db: Session,
    cookie_token: str,
    given_csrf: str | None,
    path: str,
    fields: list[tuple[str, str]],
    actor: Actor,
) -> bool:
    """Keeps the form if the cookie's session ended by a time limit less than 24 hours ago and
    the form carries that session's CSRF token; logs it (no content) and commits."""
    typed = [(name, value) for name, value in fields if name != _CSRF_FIELD]
    if not keepable(path) or not typed or len(typed) > MAX_FIELDS:
        return False
    now = utcnow()
    row = db.exec(
        select(UserSession, User)
        .join(User, col(User.id) == UserSession.user_id)
        .where(
            UserSession.token_hash == hash_token(cookie_token),
            col(UserSession.ended_at).is_not(None),
        )
    ).first()
    if row is None:
        return False
    record, user = row
    if (
        record.ended_reason not in _TIME_LIMITS
        or record.ended_at is None
        or now - record.ended_at > KEEP_FOR
        or user.status != UserStatus.active
        or not record.mfa_passed
        or not tokens_match(record.csrf_token, given_csrf)
    ):
        return False
    erase_expired_kept_forms(db)
    kept = KeptForm(
        user_id=ident(user.id),
        path=path,
        fields=json.dumps([[name, value] for name, value in typed]),
        kept_at=now,
        expires_at=now + KEEP_FOR,
    )
    db.add(kept)
    db.flush()
    append(
        db,
        Actor(
            user_id=user.id,
            role=user.role.value,
            agency_id=user.agency_id,
            request_id=actor.request_id,
            address=actor.address,
        ),
        Event(
            kind=LogKind.security,
            tag=SecurityEventTag.form_kept,
            outcome=LogOutcome.success,
            detail={"kept_form_id": kept.id, "path": path, "session_id": record.id},
        ),
    )
    db.commit()
    return True


def _live(db: Session, user_id: int) -> list[KeptForm]:
    return list(
        db.exec(
            select(KeptForm)
            .where(
                KeptForm.user_id == user_id,
                col(KeptForm.sent_at).is_(None),
                col(KeptForm.expires_at) > utcnow(),
            )
            .order_by(col(KeptForm.id).desc())
        )
    )


def kept_forms_of(db: Session, user_id: int) -> list[KeptFormLine]:
    """The user's kept forms not yet sent or expired, newest first (no content)."""
    return [KeptFormLine(ident(k.id), k.path, k.kept_at, k.expires_at) for k in _live(db, user_id)]


def _own(db: Session, user_id: int, kept_id: int) -> KeptForm:
    kept = next((k for k in _live(db, user_id) if k.id == kept_id), None)
    if kept is None:
        raise KeptFormGone("That kept form is gone: sent, discarded or past 24 hours.")
    return kept


def kept_form(db: Session, user_id: int, kept_id: int) -> KeptFormView:
    kept = _own(db, user_id, kept_id)
    pairs = [(str(name), str(value)) for name, value in json.loads(kept.fields)]
    return KeptFormView(ident(kept.id), kept.path, kept.kept_at, pairs)


def take_kept_form(db: Session, user_id: int, kept_id: int) -> str:
    """Marks the form sent (it is offered no more) and returns where it goes; commits. The
    browser then posts it there again with the new session's token, through every check."""
    kept = _own(db, user_id, kept_id)
    kept.sent_at = utcnow()
    db.add(kept)
    db.commit()
    return kept.path


def discard_kept_form(db: Session, user_id: int, kept_id: int) -> None:
    db.delete(_own(db, user_id, kept_id))
    db.commit()


def erase_expired_kept_forms(db: Session) -> int:
    """Deletes kept forms past their 24 hours, sent or not; the caller commits."""
    expired = list(db.exec(select(KeptForm).where(col(KeptForm.expires_at) <= utcnow())))
    for kept in expired:
        db.delete(kept)
    return len(expired)
