"""Work-group pages (purpose: work_group, fixed here). Thin: every rule is in the work
group's use-case modules (schedule, proposing, agenda_edits, at_the_table, agenda_views), every
client read in hub.disclosure.items."""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from hub.accounts.models import Agency, User
from hub.accounts.sessions import Viewer
from hub.charging.checks import ChargingError
from hub.db import ident, utcnow
from hub.permissions import allowed, permits
from hub.referrals.rules import current_rules
from hub.vocabulary import Action, ItemEntryKind, Role, UserStatus
from hub.web.dependencies import DB, log_actor, refused_as_not_found, require
from hub.web.params import Count, LogSeq, RecordNumber
from hub.web.templating import render
from hub.workgroup import (
    access,
    agenda_edits,
    agenda_views,
    at_the_table,
    proposing,
    rules,
    schedule,
)
from hub.workgroup.agenda_views import AgendaView
from hub.workgroup.models import AgendaItem, WorkGroupMeeting
from hub.workgroup.pages import AttendanceView, IndexPage, MeetingPage, MemberOption
from hub.workgroup.rules import MeetingNotFound, ProposalGroup, WorkGroupError
from hub.workgroup.schedule import CloseNotConfirmed

router = APIRouter(prefix="/work-group")

Reader = Annotated[Viewer, Depends(require(Action.work_group_read))]
Coordinator = Annotated[Viewer, Depends(require(Action.work_group_manage))]
Contributor = Annotated[Viewer, Depends(require(Action.work_group_contribute))]
Flagger = Annotated[Viewer, Depends(require(Action.work_group_flag))]
Prosecutor = Annotated[Viewer, Depends(require(Action.work_group_decide))]


def _today(db: Session) -> date:
    return utcnow().astimezone(current_rules(db).tz).date()


def _members(db: Session, ids: list[int] | None = None) -> list[MemberOption]:
    query = (
        select(User.id, User.display_name, User.role, Agency.name)
        .join(Agency, col(Agency.id) == User.agency_id)
        .where(User.status == UserStatus.active, User.role != Role.admin)
        .order_by(col(Agency.name), col(User.display_name))
    )
    if ids is not None:
        query = query.where(col(User.id).in_(ids))
    return [
        MemberOption(ident(uid), name, Role(role).value.replace("_", " "), agency)
        for uid, name, role, agency in db.exec(query)
    ]


def _index(db: Session, viewer: Viewer, **extra: Any) -> IndexPage:
    coordinator = permits(viewer, Action.work_group_manage)
    return IndexPage(
        title="Work group",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        meetings=access.meetings_for(db, viewer),
        series=schedule.series_list(db) if coordinator else [],
        members=_members(db) if coordinator else [],
        not_seen_days=rules.not_seen_days(db),
        is_coordinator=coordinator,
        can_flag=allowed(viewer.role, Action.work_group_flag),
        **extra,
    )


def _meeting_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    meeting_id: int,
    *,
    view: str = "agenda",
    error: str | None = None,
    agenda: agenda_views.AgendaView | None = None,
    group: ProposalGroup | None = None,
    with_dismissed: bool = False,
) -> MeetingPage:
    """The meeting page for this viewer: the agenda disclosed here, or `agenda` when the caller
    disclosed it already (the live poll's changed items)."""
    actor = log_actor(request, viewer)
    try:
        if agenda is None and view == "print":
            agenda = agenda_views.print_agenda(db, viewer, meeting_id, actor)
        elif agenda is None:
            agenda = agenda_views.agenda_for(db, viewer, meeting_id, actor, view=view)
    except MeetingNotFound as missing:
        raise _not_invited(request, db, viewer, Action.work_group_read, meeting_id) from missing
    except WorkGroupError as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from refused
    meeting = agenda.meeting
    coordinator = permits(viewer, Action.work_group_manage)
    proposals = None
    if coordinator and view == "agenda" and meeting.status.value == "draft":
        proposals = proposing.show_proposals(
            db,
            viewer,
            meeting_id,
            actor,
            _today(db),
            group=group,
            with_dismissed=with_dismissed,
        )
    invited = access.invitee_ids(db, meeting_id)
    shown = [i.shown for i in agenda.items] + (proposals.shown if proposals else [])
    authors = (
        {a.row.author_id for s in shown for a in s.entries}
        | {a.row.assignee_id for s in shown for a in s.action_items}
        | {a.row.flagged_by_id for s in shown for a in s.flags}
    )
    names = agenda_views.member_names(db, sorted(authors | set(invited)))
    return MeetingPage(
        title=meeting.title,
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        agenda=agenda,
        view=view,
        proposals=proposals,
        attendance=_attendance(db, meeting, names),
        next_meeting=schedule.next_meeting_of(db, meeting) if coordinator else None,
        names=names,
        members=_members(db, invited) if coordinator else [],
        reason_codes=list(current_rules(db).reason_codes),
        is_coordinator=coordinator,
        can_contribute=allowed(viewer.role, Action.work_group_contribute),
        can_decide=allowed(viewer.role, Action.work_group_decide),
        printed_at=utcnow() if view == "print" else None,
        error=error,
    )


def _attendance(db: Session, meeting: WorkGroupMeeting, names: dict[int, str]) -> AttendanceView:
    record = schedule.attendance_of(db, meeting)
    return AttendanceView(
        recorded=record.recorded,
        attended=sorted(names.get(u, f"user {u}") for u in record.attended),
        absent=sorted(names.get(u, f"user {u}") for u in record.absent),
        recorder=names.get(record.recorder_id) if record.recorder_id else None,
        checked=frozenset(record.attended),
        recorder_id=record.recorder_id,
    )


def _back(
    meeting_id: int, anchor: str = "", showing: ProposalGroup | None = None
) -> RedirectResponse:
    # The filter is a reason group's name, never client data: it may travel in the URL.
    query = f"?reason={showing.value}" if showing else ""
    return RedirectResponse(f"/work-group/meetings/{meeting_id}{query}{anchor}", status_code=303)


def _not_invited(
    request: Request, db: Session, viewer: Viewer, action: Action, meeting_id: int
) -> HTTPException:
    """A meeting the viewer is not invited to answers as none, logged as a refusal."""
    read = action == Action.work_group_read
    message = "No such meeting." if read else "No such meeting or item."
    return refused_as_not_found(request, db, viewer, action, message, meeting_id=meeting_id)


def _refused(
    request: Request, db: Session, viewer: Viewer, meeting_id: int, error: Exception
) -> Response:
    if isinstance(error, MeetingNotFound):
        action = Action.work_group_contribute
        raise _not_invited(request, db, viewer, action, meeting_id) from error
    db.rollback()
    page = _meeting_page(request, db, viewer, meeting_id, error=str(error))
    return render(request, "workgroup/meeting.html", page, status.HTTP_400_BAD_REQUEST)


def _meeting_of_item(request: Request, db: Session, viewer: Viewer, item_id: int) -> int:
    item = db.get(AgendaItem, item_id)
    if item is None:
        raise refused_as_not_found(
            request,
            db,
            viewer,
            Action.work_group_contribute,
            "No such agenda item.",
            item_id=item_id,
        )
    return item.meeting_id


# --- the index: meetings, series, settings, flags -----------------------------------------


@router.get("", response_class=HTMLResponse)
def index(request: Request, db: DB, viewer: Reader) -> Response:
    return render(request, "workgroup/index.html", _index(db, viewer))


def _form(
    title: str, starts_at: str, place: str, call_link: str, invitees: list[int], db: Session
) -> schedule.MeetingForm:
    try:
        local = datetime.fromisoformat(starts_at)
    except ValueError:
        raise WorkGroupError("give the date and time the meeting starts") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=current_rules(db).tz)
    return schedule.MeetingForm(title, local, place or None, call_link or None, invitees)


@router.post("/meetings", response_class=HTMLResponse)
def create_meeting(
    request: Request,
    db: DB,
    viewer: Coordinator,
    title: Annotated[str, Form(max_length=200)] = "",
    starts_at: Annotated[str, Form(max_length=40)] = "",
    place: Annotated[str, Form(max_length=200)] = "",
    call_link: Annotated[str, Form(max_length=500)] = "",
    invitees: Annotated[list[RecordNumber] | None, Form()] = None,
    interval_days: Annotated[Count | None, Form()] = None,
) -> Response:
    actor = log_actor(request, viewer)
    try:
        form = _form(title, starts_at, place, call_link, invitees or [], db)
        if interval_days:
            meeting = schedule.create_series(db, viewer, form, interval_days, actor)
        else:
            meeting = schedule.create_meeting(db, viewer, form, actor)
    except WorkGroupError as refused:
        db.rollback()
        page = _index(db, viewer, error=str(refused))
        return render(request, "workgroup/index.html", page, status.HTTP_400_BAD_REQUEST)
    return _back(ident(meeting.id))


@router.post("/series/{series_id}/next", response_class=HTMLResponse)
def next_in_series(
    request: Request, db: DB, viewer: Coordinator, series_id: RecordNumber
) -> Response:
    try:
        meeting = schedule.next_in_series(db, viewer, series_id, log_actor(request, viewer))
    except WorkGroupError as refused:
        db.rollback()
        page = _index(db, viewer, error=str(refused))
        return render(request, "workgroup/index.html", page, status.HTTP_400_BAD_REQUEST)
    return _back(ident(meeting.id))


@router.post("/settings", response_class=HTMLResponse)
def settings(
    request: Request, db: DB, viewer: Coordinator, not_seen_days: Annotated[Count, Form()] = 0
) -> Response:
    try:
        rules.set_not_seen_days(db, viewer, not_seen_days, log_actor(request, viewer))
    except WorkGroupError as refused:
        page = _index(db, viewer, error=str(refused))
        return render(request, "workgroup/index.html", page, status.HTTP_400_BAD_REQUEST)
    return RedirectResponse("/work-group", status_code=303)


@router.post("/flags", response_class=HTMLResponse)
def flag(
    request: Request,
    db: DB,
    viewer: Flagger,
    person_id: Annotated[RecordNumber, Form()] = 0,
    category: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    try:
        at_the_table.flag_for_discussion(
            db, viewer, person_id, category, note, log_actor(request, viewer)
        )
    except WorkGroupError as refused:
        page = _index(db, viewer, error=str(refused))
        return render(request, "workgroup/index.html", page, status.HTTP_400_BAD_REQUEST)
    return render(request, "workgroup/index.html", _index(db, viewer, flagged=True))


# --- one meeting --------------------------------------------------------------------------


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
    page = _meeting_page(request, db, viewer, meeting_id, group=reason, with_dismissed=dismissed)
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
        raise _not_invited(request, db, viewer, Action.work_group_read, meeting_id) from missing
    if change.version == since:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    changes = agenda_views.agenda_changes(
        db, viewer, meeting_id, change, log_actor(request, viewer)
    )
    if changes is not None:
        page = _meeting_page(request, db, viewer, meeting_id, agenda=changes)
        page.view = "live"
        return render(request, "workgroup/_agenda_changes.html", page)
    page = _meeting_page(request, db, viewer, meeting_id)
    page.view = "live"
    return render(request, "workgroup/_agenda_live.html", page)


@router.get("/meetings/{meeting_id}/print", response_class=HTMLResponse)
def print_view(request: Request, db: DB, viewer: Reader, meeting_id: RecordNumber) -> Response:
    page = _meeting_page(request, db, viewer, meeting_id, view="print")
    return render(request, "workgroup/print.html", page)


@router.get("/meetings/{meeting_id}/minutes", response_class=HTMLResponse)
def minutes(request: Request, db: DB, viewer: Reader, meeting_id: RecordNumber) -> Response:
    page = _meeting_page(request, db, viewer, meeting_id, view="minutes")
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
            proposing.add_proposal_group(db, viewer, meeting_id, group, actor, _today(db))
        else:
            proposing.add_proposed_items(db, viewer, meeting_id, proposal or [], actor, _today(db))
    except WorkGroupError as refused:
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id, showing=showing)


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
            db, viewer, meeting_id, token, reason, note, log_actor(request, viewer), _today(db)
        )
    except WorkGroupError as refused:
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id, "#proposals", showing)


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
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id, "#proposals")


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
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id)


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
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id, "#attendance")


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
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id)


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
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id, "/minutes" if step == "approve" else "")


# --- items --------------------------------------------------------------------------------


@router.post("/items/{item_id}/move", response_class=HTMLResponse)
def move(
    request: Request,
    db: DB,
    viewer: Coordinator,
    item_id: RecordNumber,
    direction: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    meeting_id = _meeting_of_item(request, db, viewer, item_id)
    try:
        agenda_edits.move_item(db, viewer, item_id, direction, log_actor(request, viewer))
    except WorkGroupError as refused:
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id, f"#item-{item_id}")


@router.post("/items/{item_id}/remove", response_class=HTMLResponse)
def remove(request: Request, db: DB, viewer: Coordinator, item_id: RecordNumber) -> Response:
    meeting_id = _meeting_of_item(request, db, viewer, item_id)
    try:
        agenda_edits.remove_item(db, viewer, item_id, log_actor(request, viewer))
    except WorkGroupError as refused:
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id)


@router.post("/items/{item_id}/discussed", response_class=HTMLResponse)
def discussed(request: Request, db: DB, viewer: Coordinator, item_id: RecordNumber) -> Response:
    meeting_id = _meeting_of_item(request, db, viewer, item_id)
    try:
        at_the_table.mark_discussed(db, viewer, item_id, log_actor(request, viewer))
    except WorkGroupError as refused:
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id, f"#item-{item_id}")


@router.post("/items/{item_id}/entries", response_class=HTMLResponse)
def add_entry(
    request: Request,
    db: DB,
    viewer: Contributor,
    item_id: RecordNumber,
    kind: Annotated[ItemEntryKind, Form()] = ItemEntryKind.update,
    category: Annotated[str, Form(max_length=32)] = "",
    body: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    meeting_id = _meeting_of_item(request, db, viewer, item_id)
    try:
        at_the_table.add_entry(
            db, viewer, item_id, kind, category or None, body, log_actor(request, viewer)
        )
    except WorkGroupError as refused:
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id, f"#item-{item_id}")


@router.post("/items/{item_id}/actions", response_class=HTMLResponse)
def add_action(
    request: Request,
    db: DB,
    viewer: Coordinator,
    item_id: RecordNumber,
    description: Annotated[str, Form(max_length=1000)] = "",
    assignee_id: Annotated[RecordNumber, Form()] = 0,
    due_on: Annotated[date | None, Form()] = None,
    category: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    meeting_id = _meeting_of_item(request, db, viewer, item_id)
    form = at_the_table.ActionForm(description, assignee_id, due_on, category or None)
    try:
        at_the_table.add_action_item(db, viewer, item_id, form, log_actor(request, viewer))
    except WorkGroupError as refused:
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id, f"#item-{item_id}")


@router.post("/items/{item_id}/decision", response_class=HTMLResponse)
def decision(
    request: Request,
    db: DB,
    viewer: Prosecutor,
    item_id: RecordNumber,
    outcome: Annotated[str, Form(max_length=32)] = "",
    reason_codes: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str, Form(max_length=2000)] = "",
    material_seq: Annotated[LogSeq | None, Form()] = None,
) -> Response:
    meeting_id = _meeting_of_item(request, db, viewer, item_id)
    try:
        at_the_table.decide_from_item(
            db,
            viewer,
            item_id,
            outcome,
            reason_codes or [],
            note,
            material_seq,
            log_actor(request, viewer),
        )
    except (WorkGroupError, ChargingError) as refused:
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id, f"#item-{item_id}")


@router.post("/actions/{action_id}/status", response_class=HTMLResponse)
def action_status(
    request: Request,
    db: DB,
    viewer: Reader,
    action_id: RecordNumber,
    meeting_id: Annotated[RecordNumber, Form()] = 0,
    new_status: Annotated[str, Form(alias="status", max_length=16)] = "",
) -> Response:
    try:
        at_the_table.set_action_status(
            db, viewer, action_id, new_status, log_actor(request, viewer)
        )
    except WorkGroupError as refused:
        return _refused(request, db, viewer, meeting_id, refused)
    return _back(meeting_id)
