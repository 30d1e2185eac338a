"""Registering agency systems as OAuth 2 clients, and a second person's decision.

A manager of the agency (its admin, or the program office's coordinator:
hub.accounts.administration.Scope) asks for a client with a role the agency may hold and the
scopes it needs; the secret is shown once, to them, and kept hashed. The client obtains no token
until someone of the approvers of that role (hub.permissions.APPROVERS, never the one who
asked) approves it. Wider scopes take the same second person; narrower scopes and disabling take
effect at once.
"""

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, update

from hub.accounts import approvals
from hub.accounts.administration import Scope
from hub.accounts.models import AccessRequest, Agency, User
from hub.accounts.rules import AccountError, record
from hub.accounts.sessions import Viewer
from hub.apiclients.models import ApiClient, ApiClientRequest, ApiClientToken
from hub.audit.log import Actor
from hub.db import ident, utcnow
from hub.permissions import agency_system_may_act_as, agency_system_roles
from hub.vocabulary import (
    AccessRequestKind,
    AccessRequestStatus,
    ApiClientRequestKind,
    ApiClientStatus,
    ClientScope,
    Role,
    SecurityEventTag,
    UserStatus,
)

CLIENT_MAX_DAYS = 365
# The service account cannot sign in: no password hashes to this (hub.accounts.passwords
# refuses a value that is not an argon2 hash).
_NO_PASSWORD = "!api-client"  # noqa: S105 - matches no password


class ApiClientError(AccountError):
    """A rule refused the request; the message is safe to show."""


@dataclass(frozen=True)
class ClientRegistered:
    """What the person who asked sees once: the credentials to give the agency's system."""

    client: ApiClient
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(client: ApiClient, secret: str) -> bool:
    return hmac.compare_digest(client.secret_hash, hash_secret(secret))


def scopes_text(scopes: Iterable[ClientScope | str]) -> str:
    return " ".join(sorted({ClientScope(scope).value for scope in scopes}))


def scope_list(text: str) -> list[str]:
    return text.split()


def client_roles(agency: Agency) -> list[Role]:
    """The roles a client of this agency may act in."""
    return agency_system_roles(agency.kind)


def _withdraw_pending(db: Session, client: ApiClient) -> None:
    db.exec(
        update(ApiClientRequest)
        .where(
            col(ApiClientRequest.api_client_id) == client.id,
            col(ApiClientRequest.status) == AccessRequestStatus.pending,
        )
        .values(status=AccessRequestStatus.withdrawn)
    )


def _open_request(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    client: ApiClient,
    kind: ApiClientRequestKind,
    scopes: str,
    **detail: Any,
) -> ApiClientRequest:
    """A request for a second person, replacing any older one still waiting; logged."""
    _withdraw_pending(db, client)
    pending = ApiClientRequest(
        api_client_id=ident(client.id),
        kind=kind,
        scopes=scopes,
        requested_by_id=viewer.user_id,
    )
    db.add(pending)
    db.flush()
    record(
        db,
        actor,
        SecurityEventTag.api_client_requested,
        api_client_id=client.id,
        request_id=pending.id,
        kind=kind.value,
        scopes=scopes,
        **detail,
    )
    return pending


def _refuse(db: Session, actor: Actor, action: str, **detail: Any) -> ApiClientError:
    record(db, actor, SecurityEventTag.access_denied, "denied", action=action, **detail)
    db.commit()
    return ApiClientError("That client or agency is not yours to manage.")


def request_client(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    *,
    name: str,
    agency_id: int,
    role: Role,
    scopes: Iterable[ClientScope],
    days: int = CLIENT_MAX_DAYS,
) -> ClientRegistered:
    """Registers a client waiting for approval, logs the request and commits; the secret in
    the answer is the only copy."""
    agency = db.get(Agency, agency_id)
    if agency is None:
        raise ApiClientError("There is no such agency.")
    if not Scope.of(viewer).covers(agency.id):
        raise _refuse(db, actor, "request_api_client", agency_id=agency_id)
    name = name.strip()
    errors = []
    if not name or len(name) > 100:
        errors.append("Give the client a name of 1 to 100 characters.")
    if not agency_system_may_act_as(agency.kind, role):
        errors.append("A client of this agency cannot act in that role.")
    granted = scopes_text(scopes)
    if not granted:
        errors.append("Choose at least one scope.")
    if not 1 <= days <= CLIENT_MAX_DAYS:
        errors.append(f"A client lasts between 1 and {CLIENT_MAX_DAYS} days.")
    if errors:
        raise ApiClientError(" ".join(errors))
    client_id = f"hubc-{secrets.token_hex(8)}"
    secret = secrets.token_urlsafe(32)
    service = User(
        agency_id=ident(agency.id),
        email=f"{client_id}@api-clients.invalid",
        display_name=f"API client {name}"[:200],
        role=role,
        status=UserStatus.pending,
        password_hash=_NO_PASSWORD,
        status_reason="api_client",
    )
    db.add(service)
    db.flush()
    client = ApiClient(
        client_id=client_id,
        secret_hash=hash_secret(secret),
        name=name,
        agency_id=ident(agency.id),
        role=role,
        service_user_id=ident(service.id),
        expires_at=utcnow() + timedelta(days=days),
    )
    db.add(client)
    db.flush()
    _open_request(
        db,
        actor,
        viewer,
        client,
        ApiClientRequestKind.registration,
        granted,
        agency_id=agency.id,
        role=role.value,
        days=days,
    )
    db.commit()
    return ClientRegistered(client, secret)


def may_decide(db: Session, viewer: Viewer, client: ApiClient, pending: ApiClientRequest) -> bool:
    """The same rule as for a person's new access (hub.accounts.approvals.may_decide): an
    approver of the client's role, of its agency, never the one who asked."""
    as_access = AccessRequest(
        user_id=client.service_user_id,
        kind=AccessRequestKind.new_account,
        role=client.role,
        requested_by_id=pending.requested_by_id,
    )
    service = db.get(User, client.service_user_id)
    assert service is not None
    return approvals.may_decide(approvals.Approver.of(viewer), as_access, service)


def _claim(
    db: Session, actor: Actor, viewer: Viewer, request_id: int, action: str
) -> tuple[ApiClientRequest, ApiClient]:
    pending = db.get(ApiClientRequest, request_id)
    if pending is None or pending.status != AccessRequestStatus.pending:
        raise ApiClientError("There is no such request waiting for a decision.")
    client = db.get(ApiClient, pending.api_client_id)
    assert client is not None
    if not may_decide(db, viewer, client, pending):
        raise _refuse(db, actor, action, request_id=request_id, api_client_id=client.id)
    # A conditional update, so that two approvers at once decide it only once.
    claimed = db.exec(
        update(ApiClientRequest)
        .where(
            col(ApiClientRequest.id) == request_id,
            col(ApiClientRequest.status) == AccessRequestStatus.pending,
        )
        .values(decided_by_id=viewer.user_id, decided_at=utcnow())
    )
    if claimed.rowcount != 1:
        db.rollback()
        raise ApiClientError("There is no such request waiting for a decision.")
    db.refresh(pending)
    return pending, client


def _set_service_status(db: Session, client: ApiClient, status: UserStatus) -> None:
    service = db.get(User, client.service_user_id)
    assert service is not None
    service.status = status
    service.status_changed_at = utcnow()
    db.add(service)


def approve(db: Session, actor: Actor, viewer: Viewer, request_id: int) -> ApiClient:
    """Grants the registration or the wider scopes; logged and committed."""
    pending, client = _claim(db, actor, viewer, request_id, "approve_api_client")
    if pending.kind == ApiClientRequestKind.registration:
        if client.status != ApiClientStatus.pending:
            db.rollback()
            raise ApiClientError("The client is no longer waiting for approval.")
        client.status = ApiClientStatus.active
        _set_service_status(db, client, UserStatus.active)
    elif client.status != ApiClientStatus.active:
        db.rollback()
        raise ApiClientError("Only a client in use can be given wider scopes.")
    before, client.scopes = client.scopes, pending.scopes
    pending.status = AccessRequestStatus.approved
    db.add(client)
    db.add(pending)
    record(
        db,
        actor,
        SecurityEventTag.api_client_approved,
        api_client_id=client.id,
        request_id=pending.id,
        kind=pending.kind.value,
        scopes_before=before,
        scopes_after=client.scopes,
        requested_by_id=pending.requested_by_id,
    )
    db.commit()
    return client


def refuse(db: Session, actor: Actor, viewer: Viewer, request_id: int) -> ApiClient:
    """Refuses it: a registration's client never opens; a client keeps its scopes."""
    pending, client = _claim(db, actor, viewer, request_id, "refuse_api_client")
    if pending.kind == ApiClientRequestKind.registration:
        client.status = ApiClientStatus.refused
        _set_service_status(db, client, UserStatus.disabled)
    pending.status = AccessRequestStatus.refused
    db.add(client)
    db.add(pending)
    record(
        db,
        actor,
        SecurityEventTag.api_client_refused,
        api_client_id=client.id,
        request_id=pending.id,
        kind=pending.kind.value,
    )
    db.commit()
    return client


def _managed(
    db: Session, actor: Actor, viewer: Viewer, api_client_id: int, action: str
) -> ApiClient:
    client = db.get(ApiClient, api_client_id)
    if client is None:
        raise ApiClientError("There is no such client.")
    if not Scope.of(viewer).covers(client.agency_id):
        raise _refuse(db, actor, action, api_client_id=api_client_id)
    return client


def change_scopes(
    db: Session, actor: Actor, viewer: Viewer, api_client_id: int, scopes: Iterable[ClientScope]
) -> ApiClientRequest | None:
    """Narrower scopes apply at once (tokens already issued lose them too: hub.apiclients
    .tokens reads the client's scopes on every call); wider ones wait for a second person.
    Returns the request when one is opened."""
    client = _managed(db, actor, viewer, api_client_id, "change_api_client_scopes")
    if client.status != ApiClientStatus.active:
        raise ApiClientError("Only a client in use can change its scopes.")
    wanted = scopes_text(scopes)
    if not wanted:
        raise ApiClientError("Choose at least one scope.")
    if set(scope_list(wanted)) <= set(scope_list(client.scopes)):
        before, client.scopes = client.scopes, wanted
        db.add(client)
        record(
            db,
            actor,
            SecurityEventTag.api_client_scopes_changed,
            api_client_id=client.id,
            scopes_before=before,
            scopes_after=wanted,
        )
        db.commit()
        return None
    pending = _open_request(db, actor, viewer, client, ApiClientRequestKind.wider_scopes, wanted)
    db.commit()
    return pending


def revoke_client_tokens(db: Session, api_client_id: int, reason: str) -> int:
    result = db.exec(
        update(ApiClientToken)
        .where(
            col(ApiClientToken.api_client_id) == api_client_id,
            col(ApiClientToken.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    return int(result.rowcount or 0)


def disable(db: Session, actor: Actor, viewer: Viewer, api_client_id: int) -> ApiClient:
    """Disables the client and revokes every token it holds, at once (ASVS V8: revocation is
    effective immediately)."""
    client = _managed(db, actor, viewer, api_client_id, "disable_api_client")
    if client.status == ApiClientStatus.disabled:
        raise ApiClientError("The client is already disabled.")
    client.status = ApiClientStatus.disabled
    client.disabled_at = utcnow()
    db.add(client)
    _set_service_status(db, client, UserStatus.disabled)
    _withdraw_pending(db, client)
    revoked = revoke_client_tokens(db, ident(client.id), "client_disabled")
    record(
        db,
        actor,
        SecurityEventTag.api_client_disabled,
        api_client_id=client.id,
        tokens_revoked=revoked,
    )
    db.commit()
    return client
