"""/admin/api-clients: ask for an agency system's OAuth 2 client, see its secret once, and
decide the requests of others. Thin: parse, call hub.apiclients.services, render."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from hub.accounts.administration import Scope
from hub.accounts.models import Agency
from hub.accounts.sessions import Viewer
from hub.apiclients import services, views
from hub.apiclients.services import CLIENT_MAX_DAYS, ApiClientError
from hub.apiclients.views import ClientRequestRow, ClientRow
from hub.audit.log import Actor
from hub.db import ident
from hub.vocabulary import Action, ClientScope, Role
from hub.web.dependencies import DB, log_actor, require
from hub.web.params import Count, RecordNumber
from hub.web.templating import Page, render

router = APIRouter(prefix="/admin/api-clients")

TEMPLATE = "admin/api_clients.html"


def _browser(action: Action) -> Callable[[Viewer], Viewer]:
    def _check(viewer: Annotated[Viewer, Depends(require(action))]) -> Viewer:
        # Clients are managed from a signed-in browser, never with a token.
        if viewer.session_id is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Sign in with a browser to do this.")
        return viewer

    return _check


Reader = Annotated[Viewer, Depends(_browser(Action.api_clients_read))]
Requester = Annotated[Viewer, Depends(_browser(Action.api_clients_request))]
Approver = Annotated[Viewer, Depends(_browser(Action.api_clients_approve))]


@dataclass(frozen=True)
class AgencyChoice:
    id: int
    name: str
    roles: list[Role]


@dataclass
class ApiClientsPage(Page):
    clients: list[ClientRow] = field(default_factory=list)
    requests: list[ClientRequestRow] = field(default_factory=list)
    agencies: list[AgencyChoice] = field(default_factory=list)
    scopes: list[ClientScope] = field(default_factory=list)
    max_days: int = CLIENT_MAX_DAYS
    created_client_id: str | None = None
    created_secret: str | None = None
    error: str | None = None


class ClientForm(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    agency_id: RecordNumber
    role: Role
    scopes: list[ClientScope] = Field(min_length=1)
    days: Annotated[Count, Field(le=CLIENT_MAX_DAYS)] = CLIENT_MAX_DAYS


class ScopesForm(BaseModel):
    scopes: list[ClientScope] = Field(min_length=1)


def _agencies(db: Session, viewer: Viewer) -> list[AgencyChoice]:
    scope = Scope.of(viewer)
    query = select(Agency).order_by(col(Agency.name))
    if not scope.all_agencies:
        query = query.where(col(Agency.id) == viewer.agency_id)
    return [
        AgencyChoice(ident(a.id), a.name, services.client_roles(a)) for a in db.exec(query).all()
    ]


def _page(db: Session, viewer: Viewer, **extra: Any) -> ApiClientsPage:
    return ApiClientsPage(
        title="Agency systems (API clients)",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        clients=views.clients_for(db, viewer),
        requests=views.requests_for(db, viewer),
        agencies=_agencies(db, viewer),
        scopes=list(ClientScope),
        **extra,
    )


def _refused(request: Request, db: Session, viewer: Viewer, error: ApiClientError) -> Response:
    page = _page(db, viewer, error=str(error))
    return render(request, TEMPLATE, page, status.HTTP_400_BAD_REQUEST)


@router.get("", response_class=HTMLResponse)
def api_clients(request: Request, db: DB, viewer: Reader) -> Response:
    return render(request, TEMPLATE, _page(db, viewer))


@router.post("", response_class=HTMLResponse)
def ask_for_client(
    request: Request, db: DB, viewer: Requester, form: Annotated[ClientForm, Form()]
) -> Response:
    """Registers a client waiting for a second person; its secret is shown now, only."""
    try:
        registered = services.request_client(
            db,
            log_actor(request, viewer),
            viewer,
            name=form.name,
            agency_id=form.agency_id,
            role=form.role,
            scopes=form.scopes,
            days=form.days,
        )
    except ApiClientError as error:
        return _refused(request, db, viewer, error)
    page = _page(
        db,
        viewer,
        created_client_id=registered.client.client_id,
        created_secret=registered.secret,
    )
    return render(request, TEMPLATE, page)


def _decide(
    request: Request,
    db: Session,
    viewer: Viewer,
    request_id: int,
    decide: Callable[[Session, Actor, Viewer, int], object],
    message: str,
) -> Response:
    try:
        decide(db, log_actor(request, viewer), viewer, request_id)
    except ApiClientError as error:
        return _refused(request, db, viewer, error)
    page = _page(db, viewer)
    page.messages.append(message)
    return render(request, TEMPLATE, page)


@router.post("/requests/{request_id}/approve", response_class=HTMLResponse)
def approve(request: Request, db: DB, viewer: Approver, request_id: RecordNumber) -> Response:
    return _decide(request, db, viewer, request_id, services.approve, "Approved.")


@router.post("/requests/{request_id}/refuse", response_class=HTMLResponse)
def refuse(request: Request, db: DB, viewer: Approver, request_id: RecordNumber) -> Response:
    return _decide(request, db, viewer, request_id, services.refuse, "Refused.")


@router.post("/{api_client_id}/scopes", response_class=HTMLResponse)
def change_scopes(
    request: Request,
    db: DB,
    viewer: Requester,
    api_client_id: RecordNumber,
    form: Annotated[ScopesForm, Form()],
) -> Response:
    """Narrower scopes at once; wider ones wait for a second person."""
    try:
        opened = services.change_scopes(
            db, log_actor(request, viewer), viewer, api_client_id, form.scopes
        )
    except ApiClientError as error:
        return _refused(request, db, viewer, error)
    page = _page(db, viewer)
    page.messages.append("Wider scopes wait for a second person." if opened else "Scopes changed.")
    return render(request, TEMPLATE, page)


@router.post("/{api_client_id}/disable", response_class=HTMLResponse)
def disable(request: Request, db: DB, viewer: Requester, api_client_id: RecordNumber) -> Response:
    try:
        services.disable(db, log_actor(request, viewer), viewer, api_client_id)
    except ApiClientError as error:
        return _refused(request, db, viewer, error)
    page = _page(db, viewer)
    page.messages.append("Disabled; its tokens are revoked.")
    return render(request, TEMPLATE, page)
