"""An agency's OpenID provider, the link of a provider's subject to an invited account, the
authorization requests in flight, and which hub sessions a provider sign-in opened."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from hub.db import utc_field, utcnow


class IdentityProvider(SQLModel, table=True):
    """One agency's OpenID provider, configured by the program office (a security event).
    The client secret is never stored: `secret_variable` names the environment variable
    that holds it."""

    __tablename__ = "identity_provider"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", unique=True)
    name: str = Field(max_length=100)  # the button says "Sign in with <name>"
    issuer: str = Field(max_length=300)
    client_id: str = Field(max_length=200)
    secret_variable: str = Field(max_length=100)
    # Comma-separated e-mail domains whose verified addresses may be linked to this agency.
    allowed_domains: str = Field(max_length=1000)
    # CJIS IA-2: whether the provider's own multi-factor sign-in (amr/acr) replaces the hub's
    # TOTP step for this agency's staff.
    trust_mfa: bool = Field(default=False)
    trusted_acr: str | None = Field(default=None, max_length=200)
    changed_at: datetime = utc_field(default_factory=utcnow)


class IdentityLink(SQLModel, table=True):
    """The provider's subject that signs in as an invited account. Made at the first sign-in
    from a verified e-mail; later sign-ins match on (issuer, subject) only."""

    __tablename__ = "identity_link"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", unique=True)
    issuer: str = Field(max_length=300)
    subject: str = Field(max_length=255)
    created_at: datetime = utc_field(default_factory=utcnow)


class OidcAuthorization(SQLModel, table=True):
    """An authorization request in flight: its state, nonce and PKCE verifier, bound to the
    browser that started it (the hash of a flow cookie). Used once."""

    __tablename__ = "oidc_authorization"

    id: int | None = Field(default=None, primary_key=True)
    state_hash: str = Field(max_length=64, unique=True)
    browser_hash: str = Field(max_length=64)
    agency_id: int = Field(foreign_key="agency.id")
    nonce: str = Field(max_length=100)
    code_verifier: str = Field(max_length=200)
    created_at: datetime = utc_field(default_factory=utcnow)
    used_at: datetime | None = utc_field(default=None)


class OidcSession(SQLModel, table=True):
    """A hub session opened through a provider, so that the provider's back-channel logout
    (by subject or by its session id `sid`) can end it."""

    __tablename__ = "oidc_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    session_id: int = Field(foreign_key="user_session.id", unique=True)
    issuer: str = Field(max_length=300)
    subject: str = Field(max_length=255)
    sid: str | None = Field(default=None, max_length=255, index=True)
    created_at: datetime = utc_field(default_factory=utcnow)
