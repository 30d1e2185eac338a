"""The privacy officer's console: /privacy. Every page needs Action.privacy_console.

Reading the log is itself logged (audit:log:read, CJIS AU-2), as is every export, receipt,
accounting and flag review. Filters travel in POST bodies; URLs carry only ids (a log seq, a
user id, a client id), never a name or a search term. Clients are named by id: the console
shows log metadata, never client content, and a privacy officer sees a client's identity only
through the policy layer (a break-glass), on the client pages.
"""

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlmodel import Session, col, select

from hub.accounts.models import Agency, User
from hub.accounts.sessions import Viewer
from hub.audit.checkpoint import CheckpointRefused, sign_checkpoint
from hub.audit.fhir import audit_event
from hub.audit.log import Event, append
from hub.audit.models import LogEntry
from hub.audit.receipts import NoReceipt, build_receipt
from hub.audit.services import export_lines, export_rows
from hub.db import MAX_LOG_SEQ
from hub.person_merges.services import merge_family
from hub.privacy.activity import console_activity
from hub.privacy.flags.listing import list_flags
from hub.privacy.pages import Choices, ClientTimelinePage, ConsolePage, EntryPage, UserTimelinePage
from hub.privacy.search import (
    FilterError,
    LogFilter,
    client_disclosures,
    client_on_file,
    filter_conditions,
    json_detail,
    names_for,
    names_of_entries,
    parse_filter,
    search_log,
    seq_range,
)
from hub.referrals.rules import site_zone
from hub.vocabulary import Action, LogKind, LogOutcome, Purpose, SecurityEventTag
from hub.web.dependencies import DB, log_actor, require
from hub.web.params import LogSeq, RecordNumber
from hub.web.templating import is_htmx, render

router = APIRouter(prefix="/privacy")
Officer = Annotated[Viewer, Depends(require(Action.privacy_console))]


def page_of(cls: type[Any], viewer: Viewer, title: str, **values: Any) -> Any:
    return cls(title=title, viewer=viewer, csrf_token=viewer.csrf_token, **values)


def log_read(
    db: Session,
    request: Request,
    viewer: Viewer,
    view: str,
    person_id: int | None = None,
    **detail: Any,
) -> None:
    """CJIS AU-2: reading the log is an audited event. Ids and codes only in the detail."""
    log_console_event(
        db, request, viewer, SecurityEventTag.log_read, person_id, {"view": view, **detail}
    )


def log_console_event(
    db: Session,
    request: Request,
    viewer: Viewer,
    tag: SecurityEventTag,
    person_id: int | None,
    detail: dict[str, Any],
) -> None:
    """Logs and commits what the privacy officer did here (a read, an export, a receipt),
    before any of it leaves: a copy of the log leaves a trace (CJIS AU-9)."""
    append(
        db,
        log_actor(request, viewer),
        Event(
            kind=LogKind.security,
            tag=tag,
            outcome=LogOutcome.success,
            purpose=Purpose.oversight,
            person_id=person_id,
            detail=detail,
        ),
    )
    db.commit()


def _choices(db: Session) -> Choices:
    agencies = {a.id: a.name for a in db.exec(select(Agency).order_by(col(Agency.name)))}
    users = [
        (u.id, f"{u.display_name} ({agencies.get(u.agency_id, '?')}, {u.role.value})")
        for u in db.exec(select(User).order_by(col(User.display_name)))
    ]
    return Choices(
        users=[(i, n) for i, n in users if i is not None],
        agencies=[(i, n) for i, n in agencies.items() if i is not None],
    )


def _open_flags(db: Session) -> int:
    return len(list_flags(db, limit=99).flags)


def before_seq(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 19 or int(value) > MAX_LOG_SEQ:
        raise HTTPException(422, "before: a log position")
    return int(value)


# --- search -----------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def console(request: Request, viewer: Officer, db: DB) -> HTMLResponse:
    results = search_log(db, LogFilter())
    page = page_of(
        ConsolePage,
        viewer,
        "Privacy console",
        choices=_choices(db),
        results=results,
        names=names_of_entries(db, results.entries),
        open_flags=_open_flags(db),
        activity=console_activity(db),
    )
    log_read(db, request, viewer, "search", filters={}, shown=len(results.entries))
    return render(request, "privacy/console.html", page)


async def _form_fields(request: Request) -> dict[str, str]:
    """Every field of the posted form (the log's filters are whichever fields are filled).
    Read here, in an async dependency, so that the routes using it stay plain `def` and run in
    the threadpool: a query on the event loop that waits for SQLite's write lock stalls every
    request of the worker, the lock's holder included, until the 30 s busy timeout (found by
    bench/crash.py: a privacy officer's search froze the hub and answered 500)."""
    form = await request.form()
    return {name: str(value) for name, value in form.items()}


FormFields = Annotated[dict[str, str], Depends(_form_fields)]


@router.post("/log", response_class=HTMLResponse)
def search(request: Request, viewer: Officer, db: DB, form: FormFields) -> HTMLResponse:
    values = {k: v for k, v in form.items() if k != "csrf_token"}
    try:
        found = parse_filter(values)
        results = search_log(db, found, before=before_seq(values.get("before")))
    except FilterError as exc:
        # Nothing sent is echoed back: an unusable value might be a name typed in error.
        page = page_of(ConsolePage, viewer, "Privacy console", error=str(exc))
        template = "privacy/_results.html" if is_htmx(request) else "privacy/console.html"
        if not is_htmx(request):
            page.choices = _choices(db)
        return render(request, template, page, 422)
    page = page_of(
        ConsolePage,
        viewer,
        "Privacy console",
        filters=found.described(),
        results=results,
        names=names_of_entries(db, results.entries),
    )
    log_read(
        db, request, viewer, "search", found.person_id,
        filters=found.described(), shown=len(results.entries),
    )  # fmt: skip
    if is_htmx(request):
        return render(request, "privacy/_results.html", page)
    page.choices = _choices(db)
    page.open_flags = _open_flags(db)
    return render(request, "privacy/console.html", page)


@router.post("/log/export")
def export(request: Request, viewer: Officer, db: DB, form: FormFields) -> Response:
    values = {k: v for k, v in form.items() if k not in ("csrf_token", "format", "before")}
    fmt = form.get("format", "")
    if fmt not in ("csv", "jsonl"):
        raise HTTPException(422, "format: csv or jsonl")
    try:
        found = parse_filter(values)
    except FilterError as exc:
        raise HTTPException(422, str(exc)) from None
    span = seq_range(db, found.since, found.until, site_zone(db))
    # Logged and committed before the first row leaves (CJIS AU-9: a copy of the log leaves a
    # trace).
    log_console_event(
        db,
        request,
        viewer,
        SecurityEventTag.log_exported,
        found.person_id,
        {"format": fmt, "filters": found.described(), "from": "console"},
    )
    conditions = [*filter_conditions(found), *span.conditions()]
    engine = db.get_bind()

    def lines() -> Iterator[str]:
        if span.empty:
            yield from export_lines(iter(()), fmt)
            return
        yield from export_lines(export_rows(engine, None, None, conditions), fmt)  # type: ignore[arg-type]

    media = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return StreamingResponse(
        lines(),
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="log-export.{fmt}"'},
    )


# --- one entry ----------------------------------------------------------------------------------


def _entry(db: Session, seq: int) -> LogEntry:
    entry = db.get(LogEntry, seq)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "There is no such log entry.")
    return entry


@router.get("/log/{seq}", response_class=HTMLResponse)
def entry_page(request: Request, viewer: Officer, db: DB, seq: LogSeq) -> HTMLResponse:
    entry = _entry(db, seq)
    page = page_of(
        EntryPage,
        viewer,
        f"Log entry {seq}",
        entry=entry,
        detail_json=json_detail(entry.detail) if entry.detail is not None else "",
        names=names_of_entries(db, [entry]),
    )
    log_read(db, request, viewer, "entry", entry.person_id, seq=seq)
    return render(request, "privacy/entry.html", page)


def _download(body: dict[str, Any], filename: str) -> Response:
    return Response(
        json.dumps(body, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/log/{seq}/fhir")
def entry_fhir(request: Request, viewer: Officer, db: DB, seq: LogSeq) -> Response:
    entry = _entry(db, seq)
    body = audit_event(entry)
    log_console_event(
        db,
        request,
        viewer,
        SecurityEventTag.log_exported,
        entry.person_id,
        {"format": "fhir_audit_event", "seq": seq, "from": "console"},
    )
    return _download(body, f"audit-event-{seq}.json")


@router.post("/log/{seq}/receipt")
def entry_receipt(request: Request, viewer: Officer, db: DB, seq: LogSeq) -> Response:
    entry = _entry(db, seq)
    try:
        receipt = build_receipt(db, seq)
    except NoReceipt:
        # The entry is newer than the last checkpoint: sign one now, as the checkpointer would.
        try:
            sign_checkpoint(db)
            db.commit()
            receipt = build_receipt(db, seq)
        except (NoReceipt, CheckpointRefused) as exc:
            db.rollback()
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    log_console_event(
        db,
        request,
        viewer,
        SecurityEventTag.receipt_issued,
        entry.person_id,
        {"seq": seq, "from": "console"},
    )
    return _download(receipt, f"receipt-{seq}.json")


# --- timelines ----------------------------------------------------------------------------------


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_timeline(
    request: Request, viewer: Officer, db: DB, user_id: RecordNumber, before: str | None = None
) -> HTMLResponse:
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "There is no such user.")
    results = search_log(db, LogFilter(user_id=user_id), before=before_seq(before))
    flags = list_flags(db, status=None, subject_user_id=user_id, limit=20).flags
    agency = db.get(Agency, user.agency_id)
    page = page_of(
        UserTimelinePage,
        viewer,
        f"Activity of {user.display_name}",
        user=user,
        agency_name=agency.name if agency else "",
        results=results,
        names=names_of_entries(db, results.entries),
        flags=flags,
    )
    log_read(db, request, viewer, "user_timeline", user_id=user_id, shown=len(results.entries))
    template = "privacy/_user_rows.html" if is_htmx(request) else "privacy/user_timeline.html"
    return render(request, template, page)


def person_on_file(db: Session, person_id: int) -> None:
    if not client_on_file(db, person_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "There is no such client.")


@router.get("/clients/{person_id}", response_class=HTMLResponse)
def client_timeline(
    request: Request, viewer: Officer, db: DB, person_id: RecordNumber, before: str | None = None
) -> HTMLResponse:
    person_on_file(db, person_id)
    disclosures, next_before = client_disclosures(
        db, person_id, before=before_seq(before), limit=50
    )
    page = page_of(
        ClientTimelinePage,
        viewer,
        f"Disclosures of client record {person_id}",
        person_id=person_id,
        disclosures=disclosures,
        merged_with=[p for p in merge_family(db, person_id) if p != person_id],
        next_before=next_before,
        names=names_for(
            db,
            (d.actor_user_id for d in disclosures),
            (d.actor_agency_id for d in disclosures),
        ),
    )
    log_read(db, request, viewer, "client_timeline", person_id, shown=len(disclosures))
    template = "privacy/_client_rows.html" if is_htmx(request) else "privacy/client_timeline.html"
    return render(request, template, page)
