from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from hub.crypto import EncryptedText
from hub.db import enum_column, utc_field, utcnow
from hub.vocabulary import (
    AccessRequestKind,
    AccessRequestStatus,
    AgencyKind,
    Role,
    TokenScope,
    UserStatus,
)


class Agency(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    kind: AgencyKind = Field(sa_column=enum_column(AgencyKind, nullable=False))
    # Which prosecutions an office handles, e.g. "misdemeanor" (city attorney) or "felony".
    jurisdiction: str | None = Field(default=None, max_length=100)
    created_at: datetime = utc_field(default_factory=utcnow)
    # 42 CFR 2.11: a Part 2 program. Whatever its staff record about a client, in any field, is
    # Part 2 data (hub.disclosure.origin). Set only by the program office, as a security event.
    part2_program: bool = Field(default=False)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    email: str = Field(max_length=254, unique=True)
    display_name: str = Field(max_length=200)
    role: Role = Field(sa_column=enum_column(Role, nullable=False))
    status: UserStatus = Field(
        default=UserStatus.active,
        sa_column=enum_column(UserStatus, nullable=False),
    )
    password_hash: str = Field(max_length=255)
    password_changed_at: datetime = utc_field(default_factory=utcnow)
    # The TOTP secret is sealed at rest (hub.crypto) and is None until enrolment is confirmed.
    totp_secret_sealed: str | None = Field(default=None)
    totp_last_counter: int | None = Field(default=None)  # refuses a replayed code (CJIS IA-2)
    mfa_enrolled_at: datetime | None = utc_field(default=None)
    created_at: datetime = utc_field(default_factory=utcnow)
    last_active_at: datetime | None = utc_field(default=None)
    status_changed_at: datetime | None = utc_field(default=None)
    status_reason: str | None = Field(default=None, max_length=200)


class RecoveryCode(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    code_hash: str = Field(max_length=255)
    used_at: datetime | None = utc_field(default=None)


class UserSession(SQLModel, table=True):
    """A server-side session; the cookie holds only a random token whose hash is the key."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    # False between the password step and the second factor: such a session opens no page.
    mfa_passed: bool = Field(default=False)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = utc_field(default_factory=utcnow)
    last_seen_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    ended_at: datetime | None = utc_field(default=None)
    ended_reason: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
    # A TOTP secret shown for enrolment but not yet confirmed with a code; sealed like the
    # confirmed one, and gone with the session if the person never confirms it.
    pending_totp_sealed: str | None = Field(default=None)


class SignInAttempt(SQLModel, table=True):
    """Every sign-in attempt, for lockout (per account) and rate limiting (per address)."""

    __tablename__ = "sign_in_attempt"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    address: str = Field(max_length=64, index=True)
    succeeded: bool
    stage: str = Field(max_length=16)  # hub.vocabulary.SignInStage


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64)
    created_at: datetime = utc_field(default_factory=utcnow)
    # Every token expires (at most a year); one without an end would outlive any review.
    expires_at: datetime = utc_field()
    last_used_at: datetime | None = utc_field(default=None)
    revoked_at: datetime | None = utc_field(default=None)
    revoked_reason: str | None = Field(default=None, max_length=40)
    scope: TokenScope = Field(
        default=TokenScope.read, sa_column=enum_column(TokenScope, nullable=False)
    )


class EnrolmentLink(SQLModel, table=True):
    """A one-time link the new user opens to set their password and second factor, so that
    whoever created the account never learns its authenticator (CJIS AC-5, IA-5). Only the
    token's hash is kept; a newer link for the account replaces the older ones."""

    __tablename__ = "enrolment_link"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    issued_by_id: int | None = Field(default=None, foreign_key="user.id")  # None: command line
    created_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(default=None)
    # The TOTP secret the link shows, sealed like a confirmed one until the person confirms it.
    pending_totp_sealed: str | None = Field(default=None)


class AccessRequest(SQLModel, table=True):
    """New access waiting for a second person (CJIS AC-2, AC-5): an account, a role, or an
    account enabled again takes effect only once someone other than the requester approves."""

    __tablename__ = "access_request"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: AccessRequestKind = Field(sa_column=enum_column(AccessRequestKind, nullable=False))
    role: Role = Field(sa_column=enum_column(Role, nullable=False))  # the role once approved
    role_before: Role | None = Field(default=None, sa_column=enum_column(Role, nullable=True))
    status: AccessRequestStatus = Field(
        default=AccessRequestStatus.pending,
        sa_column=enum_column(AccessRequestStatus, nullable=False, index=True),
    )
    requested_by_id: int | None = Field(default=None, foreign_key="user.id")  # None: operator
    requested_at: datetime = utc_field(default_factory=utcnow)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")  # None: operator
    decided_at: datetime | None = utc_field(default=None)


class KeptForm(SQLModel, table=True):
    """A form posted after its session ended (idle or absolute limit), kept for its author
    alone so that nothing typed is lost; its fields are sealed at rest and it expires."""

    __tablename__ = "kept_form"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    path: str = Field(max_length=300)
    # JSON list of [name, value] pairs, in the order posted (a field may repeat).
    fields: str = Field(sa_column=Column(EncryptedText, nullable=False))
    kept_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    sent_at: datetime | None = utc_field(default=None)
