"""Notifications: the badge in the header (polled by htmx, without keeping an idle session
alive: hub.web.dependencies.PASSIVE_PATHS), the list, and marking one read. A notification
carries no personal data; the page it links to discloses through the policy layer."""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.clients.purposes import RECORD_PURPOSE
from hub.disclosure.record import Identity, disclose_identities
from hub.notifications.services import (
    NotificationError,
    NotificationLine,
    Subject,
    mark_all_read,
    mark_read,
    notification_lines,
    subjects,
    unread_count,
)
from hub.vocabulary import Action
from hub.web.dependencies import DB, log_actor, refused_as_not_found, require
from hub.web.paging import PageNumber, Paging
from hub.web.params import RecordNumber
from hub.web.templating import Page, is_htmx, render

router = APIRouter()

Reader = Annotated[Viewer, Depends(require(Action.notifications_read))]
BADGE_POLL_SECONDS = 60


@dataclass
class BadgeFragment(Page):
    unread: int = 0
    poll_seconds: int = BADGE_POLL_SECONDS


@dataclass
class NotificationsPage(Page):
    lines: list[NotificationLine] = field(default_factory=list)
    unread: int = 0
    # By link: what each line is about, and who, as far as the policy names them to the viewer.
    subjects: dict[str, Subject] = field(default_factory=dict)
    names: dict[str, Identity] = field(default_factory=dict)
    paging: Paging | None = None


@router.get("/notifications/badge", response_class=HTMLResponse)
def badge(request: Request, db: DB, viewer: Reader) -> Response:
    page = BadgeFragment(
        title="Notifications", viewer=viewer, unread=unread_count(db, viewer.user_id)
    )
    return render(request, "notifications/_notification_badge.html", page)


def _names(
    request: Request, db: Session, viewer: Viewer, found: dict[str, Subject]
) -> dict[str, Identity]:
    """Who each subject is, as the policy layer names them to this viewer for their role's
    purpose (and logs it); a role with no client purpose is told no names."""
    purpose = RECORD_PURPOSE.get(viewer.role)
    persons = [s.person_id for s in found.values() if s.person_id is not None]
    if purpose is None or not persons:
        return {}
    known = disclose_identities(db, viewer, persons, purpose, log_actor(request, viewer))
    names = {}
    for link, subject in found.items():
        identity = known.identity(subject.person_id) if subject.person_id is not None else None
        if isinstance(identity, Identity):
            names[link] = identity
    return names


def _list_page(request: Request, db: Session, viewer: Viewer, page: int = 1) -> NotificationsPage:
    """One page of the grouped lines, newest first; only that page's subjects are named (and
    logged): an officer with hundreds of referrals is not told all their names at once."""
    lines = notification_lines(db, viewer.user_id)
    paging = Paging(page, len(lines))
    shown = lines[paging.offset : paging.offset + paging.size]
    found = subjects(db, [line.link for line in shown])
    return NotificationsPage(
        title="Notifications",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        lines=shown,
        unread=sum(line.unread for line in lines),
        subjects=found,
        names=_names(request, db, viewer, found),
        paging=paging,
    )


@router.get("/notifications", response_class=HTMLResponse)
def notifications(request: Request, db: DB, viewer: Reader, page: PageNumber = 1) -> Response:
    return render(request, "notifications/list.html", _list_page(request, db, viewer, page))


@router.post("/notifications/read-all")
def read_all(request: Request, db: DB, viewer: Reader) -> Response:
    # Only the viewer's own notes, like marking one read (which is not logged either: a
    # notification holds no personal data and reading it discloses nothing).
    mark_all_read(db, viewer.user_id)
    if is_htmx(request):
        return render(request, "notifications/_list.html", _list_page(request, db, viewer))
    return RedirectResponse("/notifications", status.HTTP_303_SEE_OTHER)


@router.post("/notifications/{notification_id}/read")
def read(request: Request, db: DB, viewer: Reader, notification_id: RecordNumber) -> Response:
    try:
        note = mark_read(db, viewer.user_id, notification_id)
    except NotificationError as error:
        raise refused_as_not_found(
            request,
            db,
            viewer,
            Action.notifications_read,
            str(error),
            notification_id=notification_id,
        ) from error
    # Open what it points to, if anything; otherwise back to the list.
    return RedirectResponse(note.link or "/notifications", status.HTTP_303_SEE_OTHER)
