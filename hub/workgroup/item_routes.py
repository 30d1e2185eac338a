"""An agenda item at the table: moving, removing, marking it discussed, the members' updates
and notes, action items, and the prosecutor's charging decision recorded from the item."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from hub.charging.checks import ChargingError
from hub.vocabulary import ItemEntryKind
from hub.web.dependencies import DB, log_actor
from hub.web.params import LogSeq, RecordNumber
from hub.workgroup import agenda_edits, at_the_table
from hub.workgroup.routes import (
    Contributor,
    Coordinator,
    Prosecutor,
    Reader,
    back,
    meeting_of_item,
    refusal_page,
)
from hub.workgroup.rules import WorkGroupError

router = APIRouter(prefix="/work-group")


@router.post("/items/{item_id}/move", response_class=HTMLResponse)
def move(
    request: Request,
    db: DB,
    viewer: Coordinator,
    item_id: RecordNumber,
    direction: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    meeting_id = meeting_of_item(request, db, viewer, item_id)
    try:
        agenda_edits.move_item(db, viewer, item_id, direction, log_actor(request, viewer))
    except WorkGroupError as refused:
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id, f"#item-{item_id}")


@router.post("/items/{item_id}/remove", response_class=HTMLResponse)
def remove(request: Request, db: DB, viewer: Coordinator, item_id: RecordNumber) -> Response:
    meeting_id = meeting_of_item(request, db, viewer, item_id)
    try:
        agenda_edits.remove_item(db, viewer, item_id, log_actor(request, viewer))
    except WorkGroupError as refused:
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id)


@router.post("/items/{item_id}/discussed", response_class=HTMLResponse)
def discussed(request: Request, db: DB, viewer: Coordinator, item_id: RecordNumber) -> Response:
    meeting_id = meeting_of_item(request, db, viewer, item_id)
    try:
        at_the_table.mark_discussed(db, viewer, item_id, log_actor(request, viewer))
    except WorkGroupError as refused:
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id, f"#item-{item_id}")


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
    meeting_id = meeting_of_item(request, db, viewer, item_id)
    try:
        at_the_table.add_entry(
            db, viewer, item_id, kind, category or None, body, log_actor(request, viewer)
        )
    except WorkGroupError as refused:
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id, f"#item-{item_id}")


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
    meeting_id = meeting_of_item(request, db, viewer, item_id)
    form = at_the_table.ActionForm(description, assignee_id, due_on, category or None)
    try:
        at_the_table.add_action_item(db, viewer, item_id, form, log_actor(request, viewer))
    except WorkGroupError as refused:
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id, f"#item-{item_id}")


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
    meeting_id = meeting_of_item(request, db, viewer, item_id)
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
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id, f"#item-{item_id}")


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
        return refusal_page(request, db, viewer, meeting_id, refused)
    return back(meeting_id)
