"""The defender's "my clients" page: each current client's matters, decisions, intake due
dates, court dates and flags, as far as the policy layer allows (purpose: defense)."""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from hub.accounts.sessions import Viewer
from hub.db import utcnow
from hub.defense.services import ClientLine, defense_clients
from hub.disclosure.record import Identity, WithheldCategory, disclose_identities
from hub.referrals.rules import current_rules
from hub.vocabulary import Action, Category, Purpose
from hub.web.dependencies import DB, log_actor, require
from hub.web.templating import Page, render

router = APIRouter()

Defender = Annotated[Viewer, Depends(require(Action.defense_decisions))]


@dataclass(frozen=True)
class ClientRow:
    client: ClientLine
    identity: Identity | WithheldCategory
    shows_legal: bool
    shows_clock: bool  # engagement: the intake due date


@dataclass
class MyClientsPage(Page):
    rows: list[ClientRow] = field(default_factory=list)


@router.get("/defense/clients", response_class=HTMLResponse)
def my_clients(request: Request, db: DB, viewer: Defender) -> Response:
    rules = current_rules(db)
    clients = defense_clients(db, viewer, utcnow(), rules.tz)
    known = disclose_identities(
        db,
        viewer,
        [c.person_id for c in clients],
        Purpose.defense,
        log_actor(request, viewer),
        with_categories=(Category.legal, Category.engagement),
    )
    page = MyClientsPage(
        title="My clients",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        rows=[
            ClientRow(
                c,
                known.identity(c.person_id),
                known.allows(c.person_id, Category.legal),
                known.allows(c.person_id, Category.engagement),
            )
            for c in clients
        ],
    )
    return render(request, "defense/clients.html", page)
