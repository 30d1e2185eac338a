"""Nothing typed is lost: the kept forms' pages (a signed-in person opens, sends again or
discards their own) and the "stay signed in" answer to the idle warning (static/idle.js)."""

from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.accounts.kept_forms import (
    KeptFormGone,
    KeptFormView,
    discard_kept_form,
    kept_form,
    take_kept_form,
)
from hub.web.dependencies import DB, CurrentViewer
from hub.web.params import RecordNumber
from hub.web.templating import Page, render

router = APIRouter(include_in_schema=False)


@dataclass
class KeptFormPage(Page):
    kept: KeptFormView | None = None


def _gone(exc: KeptFormGone) -> HTTPException:
    return HTTPException(404, str(exc))


@router.get("/kept-forms/{kept_id}", response_class=HTMLResponse)
def open_kept_form(
    request: Request, viewer: CurrentViewer, db: DB, kept_id: RecordNumber
) -> HTMLResponse:
    try:
        kept = kept_form(db, viewer.user_id, kept_id)
    except KeptFormGone as exc:
        raise _gone(exc) from None
    page = KeptFormPage(
        title="A form you were sending", viewer=viewer, csrf_token=viewer.csrf_token, kept=kept
    )
    return render(request, "accounts/kept_form.html", page)


@router.post("/kept-forms/{kept_id}/send")
def send_kept_form(viewer: CurrentViewer, db: DB, kept_id: RecordNumber) -> Response:
    """307: the browser posts the same body (this session's token included) to where the form
    was going, so it meets that route's own checks."""
    try:
        path = take_kept_form(db, viewer.user_id, kept_id)
    except KeptFormGone as exc:
        raise _gone(exc) from None
    return RedirectResponse(path, status_code=307)


@router.post("/kept-forms/{kept_id}/discard")
def discard(viewer: CurrentViewer, db: DB, kept_id: RecordNumber) -> Response:
    try:
        discard_kept_form(db, viewer.user_id, kept_id)
    except KeptFormGone as exc:
        raise _gone(exc) from None
    return RedirectResponse("/", status_code=303)


@router.post("/account/stay")
def stay_signed_in(viewer: CurrentViewer) -> Response:
    """The idle warning's button: a request the person made, so the session's idle clock
    starts again (hub.accounts.sessions.load_session touched it)."""
    return Response(status_code=204)
