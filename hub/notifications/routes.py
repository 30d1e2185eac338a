"""Notifications: the badge in the header (polled by htmx, without keeping an idle session
alive: hub.web.dependencies.PASSIVE_PATHS), the list, and marking one read. A notification
carries no personal data; the page it links to discloses through the policy layer."""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.notifications.services import (
    NotificationError,
    NotificationLine,
    Subject,
    mark_all_read,
    mark_read,
    notification_line_count,
    notification_lines,
    subjects,
    unread_count,
)
from hub.vocabulary import Action
from hub.web.dependencies import DB, refused_as_not_found, require
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
    # By link: which record each line is about ("Referral 12"). The list names no person: a
    # notification carries no personal data, and the page it opens discloses (and logs).
    subjects: dict[str, Subject] = field(default_factory=dict)
    paging: Paging | None = None


@router.get("/notifications/badge", response_class=HTMLResponse)
def badge(request: Request, db: DB, viewer: Reader) -> Response:
    page = BadgeFragment(
        title="Notifications", viewer=viewer, unread=unread_count(db, viewer.user_id)
    )
    return render(request, "notifications/_notification_badge.html", page)


def _list_page(request: Request, db: Session, viewer: Viewer, page: int = 1) -> NotificationsPage:
    """One page of the grouped lines, newest first, each naming the record it is about."""
    paging = Paging(page, notification_line_count(db, viewer.user_id))
    shown = notification_lines(db, viewer.user_id, offset=paging.offset, limit=paging.size)
    found = subjects(line.link for line in shown)
    return NotificationsPage(
        title="Notifications",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        lines=shown,
        unread=unread_count(db, viewer.user_id),
        subjects=found,
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
