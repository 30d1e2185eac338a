"""What every account step shares: the messages a person may be shown, the errors, the one
security event writer (CJIS AU-2/AU-3, appended in the caller's transaction) and lookups by
e-mail address and id."""

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlmodel import Session, col, select

from hub.accounts.models import (
    Agency,
    User,
)
from hub.audit.log import Actor, Event, append
from hub.vocabulary import (
    SecurityEventTag,
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


RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """A rule refused the request; the message says why and is safe to show to the person."""


class NotPermitted(AccountError):
    """The account or agency is outside the manager's scope (answered 403, logged as denied)."""


class SignInRefused(AccountError):
    """A sign-in step failed; the message is the same whatever the reason (no enumeration)."""


class SignInRateLimited(AccountError):
    """Too many failures from one network address (a guard against password spraying)."""


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


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(db: Session, email: str) -> User | None:
    return db.exec(select(User).where(col(User.email) == normalise_email(email))).first()


def agency_of(db: Session, agency_id: int) -> Agency:
    agency = db.get(Agency, agency_id)
    if agency is None:
        raise AccountError("There is no such agency.")
    return agency


def display_names(db: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """Display names of these accounts, for pages that say who did something."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = db.exec(select(User.id, User.display_name).where(col(User.id).in_(ids))).all()
    return {uid: name for uid, name in rows if uid is not None}
