"""Merging two records of one person: ask (`POST /person-merges`), the queue of merges awaiting
a second person (`GET /person-merges`), and confirm. Record numbers only: no client data is
shown here (the duplicate candidates are on the referral's page, through the policy layer)."""

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, Response

from hub.accounts.sessions import Viewer
from hub.person_merges.services import (
    MergeRefused,
    PendingMerge,
    confirm_merge,
    pending_merges,
    refuse_merge,
    request_merge,
)
from hub.vocabulary import Action
from hub.web.dependencies import DB, log_actor, require
from hub.web.params import RecordNumber
from hub.web.templating import Page, render

router = APIRouter(include_in_schema=False)

Merger = Annotated[Viewer, Depends(require(Action.persons_merge))]


@dataclass
class MergesPage(Page):
    pending: list[PendingMerge] = field(default_factory=list)
    error: str | None = None


def _page(request: Request, db: DB, viewer: Viewer, code: int = 200, **extra: Any) -> Response:
    page = MergesPage(
        title="Merging records",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        pending=pending_merges(db),
        **extra,
    )
    db.rollback()
    return render(request, "person_merges/merges.html", page, code)


@router.get("/person-merges", response_class=HTMLResponse)
def merges(request: Request, db: DB, viewer: Merger) -> Response:
    return _page(request, db, viewer)


@router.post("/person-merges", response_class=HTMLResponse)
def ask(
    request: Request,
    db: DB,
    viewer: Merger,
    merged_person_id: Annotated[RecordNumber, Form()],
    survivor_id: Annotated[RecordNumber, Form()],
) -> Response:
    try:
        request_merge(db, viewer, merged_person_id, survivor_id, log_actor(request, viewer))
    except MergeRefused as exc:
        return _page(request, db, viewer, status.HTTP_422_UNPROCESSABLE_CONTENT, error=str(exc))
    return _page(request, db, viewer, messages=["Asked: a second person confirms the merge."])


@router.post("/person-merges/{merge_id}/confirm", response_class=HTMLResponse)
def confirm(request: Request, db: DB, viewer: Merger, merge_id: RecordNumber) -> Response:
    try:
        confirm_merge(db, viewer, merge_id, log_actor(request, viewer))
    except MergeRefused as exc:
        return _page(request, db, viewer, status.HTTP_422_UNPROCESSABLE_CONTENT, error=str(exc))
    return _page(request, db, viewer, messages=["Merged: the records are one."])


@router.post("/person-merges/{merge_id}/refuse", response_class=HTMLResponse)
def refuse(request: Request, db: DB, viewer: Merger, merge_id: RecordNumber) -> Response:
    try:
        refuse_merge(db, viewer, merge_id, log_actor(request, viewer))
    except MergeRefused as exc:
        return _page(request, db, viewer, status.HTTP_422_UNPROCESSABLE_CONTENT, error=str(exc))
    return _page(request, db, viewer, messages=["Refused: the records stay apart."])
