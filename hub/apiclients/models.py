"""An agency system's OAuth 2 client, the requests a second person decides, and the bearer
tokens issued to it. Secrets and tokens are kept as their SHA-256 only: they are long random
strings, so a copied database opens nothing."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from hub.db import enum_column, utc_field, utcnow
from hub.vocabulary import (
    AccessRequestStatus,
    ApiClientRequestKind,
    ApiClientStatus,
    Role,
)


class ApiClient(SQLModel, table=True):
    """A client of one agency. It acts through its own service account (`service_user_id`,
    an account that cannot sign in), so the policy layer decides for it as for a person of
    that role and agency, and every log entry names it."""

    __tablename__ = "api_client"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True)
    secret_hash: str = Field(max_length=64)
    name: str = Field(max_length=100)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    role: Role = Field(sa_column=enum_column(Role, nullable=False))
    service_user_id: int = Field(foreign_key="user.id", unique=True)
    # Space-separated hub.vocabulary.ClientScope values, granted once approved.
    scopes: str = Field(default="", max_length=500)
    status: ApiClientStatus = Field(
        default=ApiClientStatus.pending,
        sa_column=enum_column(ApiClientStatus, nullable=False),
    )
    created_at: datetime = utc_field(default_factory=utcnow)
    # Every client expires, as every personal token does; renewing is a new registration.
    expires_at: datetime = utc_field()
    disabled_at: datetime | None = utc_field(default=None)


class ApiClientRequest(SQLModel, table=True):
    """A registration or wider scopes, waiting for a second person (CJIS AC-2, AC-5)."""

    __tablename__ = "api_client_request"

    id: int | None = Field(default=None, primary_key=True)
    api_client_id: int = Field(foreign_key="api_client.id", index=True)
    kind: ApiClientRequestKind = Field(sa_column=enum_column(ApiClientRequestKind, nullable=False))
    scopes: str = Field(max_length=500)  # the scopes the client holds once approved
    status: AccessRequestStatus = Field(
        default=AccessRequestStatus.pending,
        sa_column=enum_column(AccessRequestStatus, nullable=False, index=True),
    )
    requested_by_id: int | None = Field(default=None, foreign_key="user.id")
    requested_at: datetime = utc_field(default_factory=utcnow)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = utc_field(default=None)


class ApiClientToken(SQLModel, table=True):
    """A bearer token from POST /oauth/token: minutes long, revocable (RFC 7009)."""

    __tablename__ = "api_client_token"

    id: int | None = Field(default=None, primary_key=True)
    api_client_id: int = Field(foreign_key="api_client.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    scopes: str = Field(max_length=500)
    issued_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    revoked_at: datetime | None = utc_field(default=None)
    revoked_reason: str | None = Field(default=None, max_length=40)
