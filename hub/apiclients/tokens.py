"""Bearer tokens of agency systems: issued by POST /oauth/token (hub.apiclients.oauth), kept
as their SHA-256, and turned into a Viewer on every /api/v1 call: the client's service
account, in the client's role and agency, so the one policy layer decides what it receives
and every disclosure is logged with it as the actor."""

import secrets
from datetime import timedelta

from sqlmodel import Session, col, select

from hub.accounts.models import Agency, User
from hub.accounts.sessions import Viewer, hash_token
from hub.apiclients.models import ApiClient, ApiClientToken
from hub.apiclients.services import scope_list, secret_matches
from hub.db import ident, utcnow
from hub.settings import get_settings
from hub.vocabulary import ApiClientStatus, TokenScope, UserStatus

# Tells a client's token from a person's at a glance (and in a leaked-secret scanner).
TOKEN_PREFIX = "hubc_"  # noqa: S105 - a prefix, not a secret


def usable(client: ApiClient) -> bool:
    """Whether the client may obtain and use tokens: approved, not disabled, not expired."""
    return client.status == ApiClientStatus.active and utcnow() < client.expires_at


def client_by_id(db: Session, client_id: str) -> ApiClient | None:
    return db.exec(select(ApiClient).where(col(ApiClient.client_id) == client_id[:64])).first()


def authenticated(db: Session, client_id: str, secret: str) -> ApiClient | None:
    client = client_by_id(db, client_id)
    return client if client is not None and secret_matches(client, secret) else None


def new_access_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def lifetime_seconds() -> int:
    return get_settings().api_client_token_minutes * 60


def store_token(db: Session, client: ApiClient, access_token: str, scopes: str) -> ApiClientToken:
    """Keeps the token's hash; the caller logs and commits."""
    now = utcnow()
    row = ApiClientToken(
        api_client_id=ident(client.id),
        token_hash=hash_token(access_token),
        scopes=scopes,
        issued_at=now,
        expires_at=now + timedelta(seconds=lifetime_seconds()),
    )
    db.add(row)
    db.flush()
    return row


def token_row(db: Session, access_token: str) -> ApiClientToken | None:
    return db.exec(
        select(ApiClientToken).where(col(ApiClientToken.token_hash) == hash_token(access_token))
    ).first()


def client_viewer(db: Session, access_token: str) -> Viewer | None:
    """The Viewer behind a live client token, or None (an expired, revoked or unknown token,
    or a client no longer usable: 401)."""
    if not access_token.startswith(TOKEN_PREFIX):
        return None
    row = db.exec(
        select(ApiClientToken, ApiClient, User, Agency)
        .join(ApiClient, col(ApiClient.id) == ApiClientToken.api_client_id)
        .join(User, col(User.id) == ApiClient.service_user_id)
        .join(Agency, col(Agency.id) == ApiClient.agency_id)
        .where(
            col(ApiClientToken.token_hash) == hash_token(access_token),
            col(ApiClientToken.revoked_at).is_(None),
        )
    ).first()
    if row is None:
        return None
    token, client, service, agency = row
    if utcnow() >= token.expires_at or not usable(client) or service.status != UserStatus.active:
        return None
    # Scopes narrowed since the token was issued are gone from it too.
    scopes = frozenset(scope_list(token.scopes)) & frozenset(scope_list(client.scopes))
    writes = any(scope.endswith(":write") for scope in scopes)
    return Viewer(
        user_id=ident(service.id),
        role=client.role,
        agency_id=ident(agency.id),
        agency_kind=agency.kind,
        display_name=service.display_name,
        token_scope=TokenScope.read_write if writes else TokenScope.read,
        client_scopes=scopes,
    )
