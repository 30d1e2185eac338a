"""One work-group meeting: its agenda as each member may see it, the live agenda's poll, the
print and the minutes, proposals and dismissals, manual items, attendance and the meeting's
steps from draft to approved minutes."""

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from hub.vocabulary import Action
from hub.web.dependencies import DB, log_actor
from hub.web.params import LogSeq, RecordNumber
from hub.web.templating import render
from hub.workgroup import access, agenda_edits, agenda_views, proposing, schedule
from hub.workgroup.agenda_views import AgendaView
from hub.workgroup.pages import MeetingPage
from hub.workgroup.routes import (
    Coordinator,
    Reader,
    back,
    meeting_page,
    not_invited,
    refusal_page,
    today,
)
from hub.workgroup.rules import MeetingNotFound, ProposalGroup, WorkGroupError
from hub.workgroup.schedule import CloseNotConfirmed

router = APIRouter(prefix="/work-group")


@router.get("/meetings/{meeting_id}", response_class=HTMLResponse)
def meeting(
    request: Request,
    db: DB,
    viewer: Reader,
    meeting_id: RecordNumber,
    reason: Annotated[ProposalGroup | None, Query()] = None,
    dismissed: Annotated[bool, Query()] = False,
) -> Response:
    """The meeting; on a draft, the coordinator's proposals, filtered by `reason` (a group of
    a closed set) and with the dismissed ones listed when `dismissed` is asked for."""
    page = meeting_page(request, db, viewer, meeting_id, group=reason, with_dismissed=dismissed)
    return render(request, "workgroup/meeting.html", page)


@router.get("/meetings/{meeting_id}/live", response_class=HTMLResponse)
def live(
    request: Request,
    db: DB,
    viewer: Reader,
    meeting_id: RecordNumber,
    since: LogSeq = 0,
) -> Response:
    """The live agenda's poll: a version check that carries no client data and logs nothing
    when nothing changed (204); otherwise only the items that changed for this member, each
    disclosed and logged, or the whole agenda when its order, items or status changed."""
    try:
        change = agenda_views.live_change(db, viewer, meeting_id, since)
    except MeetingNotFound as missing:
        raise not_invited(request, db, viewer, Action.work_group_read, meeting_id) from missing
    if change.version == since:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    changes = agenda_views.agenda_changes(
        db, viewer, meeting_id, change, log_actor(request, viewer)
    )
    if changes is not None:
        page = meeting_page(request, db, viewer, meeting_id, agenda=changes)
        page.view = "live"
        return render(request, "workgroup/_agenda_changes.html", page)
    page = meeting_page(request, db, viewer, meeting_id)
    page.view = "live"
    return render(request, "workgroup/_agenda_live.html", page)


@router.get("/meetings/{meeting_id}/print", response_class=HTMLResponse)
def print_view(request: Request, db: DB, viewer: Reader, meeting_id: RecordNumber) -> Response:
    page = meeting_page(request, db, viewer, meeting_id, view="print")
    return render(request, "workgroup/print.html", page)


@router.get("/meetings/{meeting_id}/minutes", response_class=HTMLResponse)
def minutes(request: Request, db: DB, viewer: Reader, meeting_id: RecordNumber) -> Response:
    page = meeting_page(request, db, viewer, meeting_id, view="minutes")
    return render(request, "workgroup/minutes.html", page)


@router.post("/meetings/{meeting_id}/items", response_class=HTMLResponse)
def add_items(
    request: Request,
    db: DB,
    viewer: Coordinator,
    meeting_id: RecordNumber,
    proposal: Annotated[list[str] | None, Form()] = None,
    group: Annotated[ProposalGroup | None, Form()] = None,
    showing: Annotated[ProposalGroup | None, Form()] = None,
) -> Response:
    """The chosen proposals (checkboxes), or every proposal of one group ("Add all N")."""
    actor = log_actor(request, viewer)
    try:
        if group:
            proposing.add_proposal_group(db, viewer, meeting_id, group, actor, today(db))
        else:
            proposing.add_proposed_items(db, viewer, meeting_id, proposal or [], actor, today(db))
    except WorkGroupError as refused:
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id, showing=showing)


@router.post("/meetings/{meeting_id}/dismissals", response_class=HTMLResponse)
def dismiss(
    request: Request,
    db: DB,
    viewer: Coordinator,
    meeting_id: RecordNumber,
    token: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
    showing: Annotated[ProposalGroup | None, Form()] = None,
) -> Response:
    try:
        proposing.dismiss_proposal(
            db, viewer, meeting_id, token, reason, note, log_actor(request, viewer), today(db)
        )
    except WorkGroupError as refused:
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id, "#proposals", showing)


@router.post("/dismissals/{dismissal_id}/undo", response_class=HTMLResponse)
def undo_dismissal(
    request: Request,
    db: DB,
    viewer: Coordinator,
    dismissal_id: RecordNumber,
    meeting_id: Annotated[RecordNumber, Form()] = 0,
) -> Response:
    try:
        proposing.restore_proposal(db, viewer, dismissal_id, log_actor(request, viewer))
    except WorkGroupError as refused:
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id, "#proposals")


@router.post("/meetings/{meeting_id}/manual", response_class=HTMLResponse)
def add_manual(
    request: Request,
    db: DB,
    viewer: Coordinator,
    meeting_id: RecordNumber,
    topic: Annotated[str, Form(max_length=200)] = "",
    person_id: Annotated[RecordNumber | None, Form()] = None,
    category: Annotated[str, Form(max_length=32)] = "",
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        agenda_edits.add_manual_item(
            db,
            viewer,
            meeting_id,
            log_actor(request, viewer),
            topic=topic or None,
            person_id=person_id,
            category=category or None,
            text=text or None,
        )
    except WorkGroupError as refused:
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id)


@router.post("/meetings/{meeting_id}/attendance", response_class=HTMLResponse)
def attendance(
    request: Request,
    db: DB,
    viewer: Coordinator,
    meeting_id: RecordNumber,
    attended: Annotated[list[RecordNumber] | None, Form()] = None,
    recorder_id: Annotated[RecordNumber | None, Form()] = None,
) -> Response:
    try:
        schedule.record_attendance(
            db, viewer, meeting_id, attended or [], recorder_id, log_actor(request, viewer)
        )
    except WorkGroupError as refused:
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id, "#attendance")


@router.post("/meetings/{meeting_id}/held", response_class=HTMLResponse)
def held(
    request: Request,
    db: DB,
    viewer: Coordinator,
    meeting_id: RecordNumber,
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    """Closes the meeting; with items undiscussed or before its date, first a page (or, to
    htmx, a fragment) that says so and asks to confirm: nothing changes until then."""
    try:
        schedule.mark_held(db, viewer, meeting_id, log_actor(request, viewer), confirmed=confirm)
    except CloseNotConfirmed as unconfirmed:
        db.rollback()
        meeting = access.meeting_for(db, viewer, meeting_id)
        page = MeetingPage(
            title=meeting.title,
            viewer=viewer,
            csrf_token=viewer.csrf_token,
            agenda=AgendaView(meeting=meeting),
            view="close",
            closing=unconfirmed.check,
            is_coordinator=True,
        )
        htmx = request.headers.get("HX-Request") == "true"
        template = "workgroup/_close_check.html" if htmx else "workgroup/close_check.html"
        return render(request, template, page)
    except WorkGroupError as refused:
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id)


_MEETING_STEPS = {
    "group": agenda_edits.group_by_kind,
    "publish": schedule.publish,
    "approve": schedule.approve_minutes,
}


@router.post("/meetings/{meeting_id}/{step}", response_class=HTMLResponse)
def meeting_step(
    request: Request, db: DB, viewer: Coordinator, meeting_id: RecordNumber, step: str
) -> Response:
    if step not in _MEETING_STEPS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such step.")
    try:
        _MEETING_STEPS[step](db, viewer, meeting_id, log_actor(request, viewer))
    except WorkGroupError as refused:
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id, "/minutes" if step == "approve" else "")
