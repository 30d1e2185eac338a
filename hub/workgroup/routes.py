"""Work-group pages (purpose: work_group, fixed here). Thin: every rule is in the work
group's use-case modules (schedule, proposing, agenda_edits, at_the_table, agenda_views), every
client read in hub.disclosure.items."""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from hub.accounts.models import Agency, User
from hub.accounts.sessions import Viewer
from hub.db import ident, utcnow
from hub.permissions import allowed, permits
from hub.referrals.rules import current_rules
from hub.vocabulary import Action, Role, UserStatus
from hub.web.dependencies import DB, log_actor, refused_as_not_found, require
from hub.web.params import Count, RecordNumber
from hub.web.templating import render
from hub.workgroup import access, agenda_views, at_the_table, proposing, rules, schedule
from hub.workgroup.models import AgendaItem, WorkGroupMeeting
from hub.workgroup.pages import AttendanceView, IndexPage, MeetingPage, MemberOption
from hub.workgroup.rules import MeetingNotFound, ProposalGroup, WorkGroupError

router = APIRouter(prefix="/work-group")

Reader = Annotated[Viewer, Depends(require(Action.work_group_read))]
Coordinator = Annotated[Viewer, Depends(require(Action.work_group_manage))]
Contributor = Annotated[Viewer, Depends(require(Action.work_group_contribute))]
Flagger = Annotated[Viewer, Depends(require(Action.work_group_flag))]
Prosecutor = Annotated[Viewer, Depends(require(Action.work_group_decide))]


def today(db: Session) -> date:
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


def meeting_page(
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
        raise not_invited(request, db, viewer, Action.work_group_read, meeting_id) from missing
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
            today(db),
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


def back(
    meeting_id: int, anchor: str = "", showing: ProposalGroup | None = None
) -> RedirectResponse:
    # The filter is a reason group's name, never client data: it may travel in the URL.
    query = f"?reason={showing.value}" if showing else ""
    return RedirectResponse(f"/work-group/meetings/{meeting_id}{query}{anchor}", status_code=303)


def not_invited(
    request: Request, db: Session, viewer: Viewer, action: Action, meeting_id: int
) -> HTTPException:
    """A meeting the viewer is not invited to answers as none, logged as a refusal."""
    read = action == Action.work_group_read
    message = "No such meeting." if read else "No such meeting or item."
    return refused_as_not_found(request, db, viewer, action, message, meeting_id=meeting_id)


def refusal_page(
    request: Request, db: Session, viewer: Viewer, meeting_id: int, error: Exception
) -> Response:
    if isinstance(error, MeetingNotFound):
        action = Action.work_group_contribute
        raise not_invited(request, db, viewer, action, meeting_id) from error
    db.rollback()
    page = meeting_page(request, db, viewer, meeting_id, error=str(error))
    return render(request, "workgroup/meeting.html", page, status.HTTP_400_BAD_REQUEST)


def meeting_of_item(request: Request, db: Session, viewer: Viewer, item_id: int) -> int:
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
    return back(ident(meeting.id))


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
    return back(ident(meeting.id))


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
