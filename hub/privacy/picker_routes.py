"""The client picker's one route (hub.privacy.picker): htmx swaps its answer into the page
that asked (break-glass, court orders, the console's accounting); without JavaScript the
answer is a page of its own with the same links."""

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from hub.accounts.sessions import Viewer
from hub.privacy.picker import Pick, PickError, pick_clients
from hub.vocabulary import Action
from hub.web.dependencies import DB, log_actor, require
from hub.web.templating import Page, is_htmx, render

router = APIRouter(prefix="/privacy", include_in_schema=False)

Officer = Annotated[Viewer, Depends(require(Action.privacy_console))]


@dataclass
class PickerPage(Page):
    picked_for: str = "accounting"
    query: str = ""
    picks: list[Pick] | None = None
    error: str | None = None


@router.post("/pick", response_class=HTMLResponse)
def pick(
    request: Request,
    db: DB,
    viewer: Officer,
    query: Annotated[str, Form(max_length=200)] = "",
    picked_for: Annotated[Literal["break_glass", "court_order", "accounting"], Form()] = (
        "accounting"
    ),
) -> HTMLResponse:
    """Clients a name or record number finds, as far as the policy names them (logged)."""
    page = PickerPage(
        title="Choose a client",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        picked_for=picked_for,
        query=query,
    )
    try:
        page.picks = pick_clients(db, viewer, query, log_actor(request, viewer))
    except PickError as error:
        page.error = str(error)
    template = "privacy/_picks.html" if is_htmx(request) else "privacy/pick.html"
    return render(request, template, page, 200 if page.error is None else 422)
