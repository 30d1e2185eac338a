"""What the management page shows of clients and of the requests a viewer may decide: views,
never table rows (no secret, no token)."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hub.accounts.administration import Scope
from hub.accounts.models import Agency
from hub.accounts.sessions import Viewer
from hub.apiclients.models import ApiClient, ApiClientRequest
from hub.apiclients.services import may_decide, scope_list
from hub.db import ident
from hub.vocabulary import AccessRequestStatus, ApiClientRequestKind, ApiClientStatus, Role


@dataclass(frozen=True)
class ClientRow:
    """A client as the management page shows it: never its secret or its tokens."""

    id: int
    client_id: str
    name: str
    agency_name: str
    role: Role
    scopes: list[str]
    status: ApiClientStatus
    expires_at: datetime


@dataclass(frozen=True)
class ClientRequestRow:
    id: int
    kind: ApiClientRequestKind
    client_id: str
    name: str
    agency_name: str
    role: Role
    scopes: list[str]
    requested_at: datetime


def clients_for(db: Session, viewer: Viewer) -> list[ClientRow]:
    """The clients of the agencies this viewer manages or approves for, newest first."""
    scope = Scope.of(viewer)
    query = select(ApiClient, Agency).join(Agency, col(Agency.id) == ApiClient.agency_id)
    if not scope.all_agencies:
        query = query.where(col(ApiClient.agency_id) == viewer.agency_id)
    rows = db.exec(query.order_by(col(ApiClient.id).desc())).all()
    return [
        ClientRow(
            id=ident(c.id),
            client_id=c.client_id,
            name=c.name,
            agency_name=a.name,
            role=c.role,
            scopes=scope_list(c.scopes),
            status=c.status,
            expires_at=c.expires_at,
        )
        for c, a in rows
    ]


def requests_for(db: Session, viewer: Viewer) -> list[ClientRequestRow]:
    """The waiting requests this viewer may decide, oldest first."""
    rows = db.exec(
        select(ApiClientRequest, ApiClient, Agency)
        .join(ApiClient, col(ApiClient.id) == ApiClientRequest.api_client_id)
        .join(Agency, col(Agency.id) == ApiClient.agency_id)
        .where(col(ApiClientRequest.status) == AccessRequestStatus.pending)
        .order_by(col(ApiClientRequest.requested_at), col(ApiClientRequest.id))
    ).all()
    return [
        ClientRequestRow(
            id=ident(r.id),
            kind=r.kind,
            client_id=c.client_id,
            name=c.name,
            agency_name=a.name,
            role=c.role,
            scopes=scope_list(r.scopes),
            requested_at=r.requested_at,
        )
        for r, c, a in rows
        if may_decide(db, viewer, c, r)
    ]
