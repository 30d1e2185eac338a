"""The privacy officer's console: /privacy. Every page needs Action.privacy_console.

Reading the log is itself logged (audit:log:read, CJIS AU-2), as is every export, receipt,
accounting and flag review. Filters travel in POST bodies; URLs carry only ids (a log seq, a
user id, a client id), never a name or a search term. Clients are named by id: the console
shows log metadata, never client content, and a privacy officer sees a client's identity only
through the policy layer (a break-glass), on the client pages.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session, col, select

from hub.accounts.models import Agency, User
from hub.accounts.sessions import Viewer
from hub.audit.checkpoint import CheckpointRefused, sign_checkpoint
from hub.audit.fhir import audit_event
from hub.audit.log import Event, append
from hub.audit.models import LogEntry
from hub.audit.receipts import NoReceipt, build_receipt
from hub.audit.services import export_lines, export_rows
from hub.charging.decision_flags import flags_for
from hub.charging.models import DecisionFlag
from hub.db import MAX_LOG_SEQ
from hub.person_merges.services import merge_family
from hub.privacy.accounting import (
    Accounting,
    AccountingError,
    default_period,
    generate_accounting,
)
from hub.privacy.activity import ConsoleActivity, console_activity
from hub.privacy.flags.computing import compute_flags
from hub.privacy.flags.listing import list_flags
from hub.privacy.flags.review import FlagError, review_flag
from hub.privacy.letter import LetterSection, letter_sections
from hub.privacy.models import ReviewFlag
from hub.privacy.search import (
    BASIS_KINDS,
    TAGS,
    Disclosure,
    FilterError,
    LogFilter,
    LogPage,
    Names,
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
from hub.vocabulary import (
    Action,
    Category,
    FlagRule,
    FlagStatus,
    LogKind,
    LogOutcome,
    Purpose,
    Role,
    SecurityEventTag,
)
from hub.web.dependencies import DB, log_actor, require
from hub.web.params import LogSeq, RecordNumber
from hub.web.templating import Page, is_htmx, render

router = APIRouter(prefix="/privacy")
Officer = Annotated[Viewer, Depends(require(Action.privacy_console))]

# Charging-decision flags and breach signals have their pages in the charging domain.
DECISION_FLAGS_URL = "/flags"


@dataclass
class Choices:
    """What the filter form offers (codes and staff, never clients)."""

    users: list[tuple[int, str]]
    agencies: list[tuple[int, str]]
    roles: list[str] = field(default_factory=lambda: [r.value for r in Role])
    categories: list[str] = field(default_factory=lambda: [c.value for c in Category])
    purposes: list[str] = field(default_factory=lambda: [p.value for p in Purpose])
    kinds: list[str] = field(default_factory=lambda: [k.value for k in LogKind])
    outcomes: list[str] = field(default_factory=lambda: [o.value for o in LogOutcome])
    tags: tuple[str, ...] = TAGS
    bases: tuple[str, ...] = BASIS_KINDS


@dataclass
class ConsolePage(Page):
    choices: Choices | None = None
    filters: dict[str, str] = field(default_factory=dict)
    results: LogPage | None = None
    names: Names = field(default_factory=Names)
    error: str | None = None
    open_flags: int = 0
    activity: ConsoleActivity | None = None  # counts only (hub.privacy.activity)


@dataclass
class EntryPage(Page):
    entry: LogEntry | None = None
    detail_json: str = ""
    names: Names = field(default_factory=Names)


@dataclass
class UserTimelinePage(Page):
    user: User | None = None
    agency_name: str = ""
    results: LogPage | None = None
    names: Names = field(default_factory=Names)
    flags: list[ReviewFlag] = field(default_factory=list)


@dataclass
class ClientTimelinePage(Page):
    person_id: int = 0
    disclosures: list[Disclosure] = field(default_factory=list)
    # Numbers merged with this one (hub.person_merges): their disclosures are the client's too.
    merged_with: list[int] = field(default_factory=list)
    next_before: int | None = None
    names: Names = field(default_factory=Names)


@dataclass
class AccountingFormPage(Page):
    person_id: int = 0
    today: date | None = None
    hipaa_since: date | None = None
    part2_since: date | None = None
    error: str | None = None


@dataclass
class AccountingPage(Page):
    accounting: Accounting | None = None
    names: Names = field(default_factory=Names)
    generated_by: str = ""
    # The letter to hand to the client: the same accounting in plain words.
    letter: list[LetterSection] = field(default_factory=list)


@dataclass
class FlagsPage(Page):
    flags: list[ReviewFlag] = field(default_factory=list)
    next_before: int | None = None
    status_filter: str = "open"
    rule_filter: str = ""
    rules: list[str] = field(default_factory=lambda: [r.value for r in FlagRule])
    names: Names = field(default_factory=Names)
    decision_flags: list[DecisionFlag] = field(default_factory=list)
    breach_signals: list[LogEntry] = field(default_factory=list)
    decision_flags_url: str = DECISION_FLAGS_URL


@dataclass
class FlagPage(Page):
    flag: ReviewFlag | None = None
    entries: list[LogEntry] = field(default_factory=list)
    names: Names = field(default_factory=Names)
    error: str | None = None


def _page(cls: type[Any], viewer: Viewer, title: str, **values: Any) -> Any:
    return cls(title=title, viewer=viewer, csrf_token=viewer.csrf_token, **values)


def _log_read(
    db: Session,
    request: Request,
    viewer: Viewer,
    view: str,
    person_id: int | None = None,
    **detail: Any,
) -> None:
    """CJIS AU-2: reading the log is an audited event. Ids and codes only in the detail."""
    _log_console_event(
        db, request, viewer, SecurityEventTag.log_read, person_id, {"view": view, **detail}
    )


def _log_console_event(
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


def _before(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 19 or int(value) > MAX_LOG_SEQ:
        raise HTTPException(422, "before: a log position")
    return int(value)


# --- search -----------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def console(request: Request, viewer: Officer, db: DB) -> HTMLResponse:
    results = search_log(db, LogFilter())
    page = _page(
        ConsolePage,
        viewer,
        "Privacy console",
        choices=_choices(db),
        results=results,
        names=names_of_entries(db, results.entries),
        open_flags=_open_flags(db),
        activity=console_activity(db),
    )
    _log_read(db, request, viewer, "search", filters={}, shown=len(results.entries))
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
        results = search_log(db, found, before=_before(values.get("before")))
    except FilterError as exc:
        # Nothing sent is echoed back: an unusable value might be a name typed in error.
        page = _page(ConsolePage, viewer, "Privacy console", error=str(exc))
        template = "privacy/_results.html" if is_htmx(request) else "privacy/console.html"
        if not is_htmx(request):
            page.choices = _choices(db)
        return render(request, template, page, 422)
    page = _page(
        ConsolePage,
        viewer,
        "Privacy console",
        filters=found.described(),
        results=results,
        names=names_of_entries(db, results.entries),
    )
    _log_read(
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
    _log_console_event(
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
    page = _page(
        EntryPage,
        viewer,
        f"Log entry {seq}",
        entry=entry,
        detail_json=json_detail(entry.detail) if entry.detail is not None else "",
        names=names_of_entries(db, [entry]),
    )
    _log_read(db, request, viewer, "entry", entry.person_id, seq=seq)
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
    _log_console_event(
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
    _log_console_event(
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
    results = search_log(db, LogFilter(user_id=user_id), before=_before(before))
    flags = list_flags(db, status=None, subject_user_id=user_id, limit=20).flags
    agency = db.get(Agency, user.agency_id)
    page = _page(
        UserTimelinePage,
        viewer,
        f"Activity of {user.display_name}",
        user=user,
        agency_name=agency.name if agency else "",
        results=results,
        names=names_of_entries(db, results.entries),
        flags=flags,
    )
    _log_read(db, request, viewer, "user_timeline", user_id=user_id, shown=len(results.entries))
    template = "privacy/_user_rows.html" if is_htmx(request) else "privacy/user_timeline.html"
    return render(request, template, page)


def _person_exists(db: Session, person_id: int) -> None:
    if not client_on_file(db, person_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "There is no such client.")


@router.get("/clients/{person_id}", response_class=HTMLResponse)
def client_timeline(
    request: Request, viewer: Officer, db: DB, person_id: RecordNumber, before: str | None = None
) -> HTMLResponse:
    _person_exists(db, person_id)
    disclosures, next_before = client_disclosures(db, person_id, before=_before(before), limit=50)
    page = _page(
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
    _log_read(db, request, viewer, "client_timeline", person_id, shown=len(disclosures))
    template = "privacy/_client_rows.html" if is_htmx(request) else "privacy/client_timeline.html"
    return render(request, template, page)


# --- accounting of disclosures ------------------------------------------------------------------


@router.get("/clients/{person_id}/accounting", response_class=HTMLResponse)
def accounting_form(
    request: Request, viewer: Officer, db: DB, person_id: RecordNumber
) -> HTMLResponse:
    _person_exists(db, person_id)
    today, hipaa_since, part2_since = default_period(db)
    page = _page(
        AccountingFormPage,
        viewer,
        f"Accounting of disclosures, client record {person_id}",
        person_id=person_id,
        today=today,
        hipaa_since=hipaa_since,
        part2_since=part2_since,
    )
    return render(request, "privacy/accounting_form.html", page)


@router.post("/clients/{person_id}/accounting", response_class=HTMLResponse)
def accounting(
    request: Request,
    viewer: Officer,
    db: DB,
    person_id: RecordNumber,
    since: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
    summarise: Annotated[str, Form()] = "",
    form: Annotated[Literal["table", "letter"], Form()] = "table",
) -> HTMLResponse:
    try:
        first = date.fromisoformat(since) if since else None
        last = date.fromisoformat(until) if until else None
        report = generate_accounting(
            db,
            viewer,
            person_id,
            log_actor(request, viewer),
            since=first,
            until=last,
            summarise=bool(summarise),
        )
    except (AccountingError, ValueError) as exc:
        message = str(exc) if isinstance(exc, AccountingError) else "Dates are YYYY-MM-DD."
        today, hipaa_since, part2_since = default_period(db)
        page = _page(
            AccountingFormPage,
            viewer,
            f"Accounting of disclosures, client record {person_id}",
            person_id=person_id,
            today=today,
            hipaa_since=hipaa_since,
            part2_since=part2_since,
            error=message,
        )
        return render(request, "privacy/accounting_form.html", page, 422)
    lines = [line for section in report.sections for line in section.lines]
    names = names_for(
        db,
        [line.recipient_user_id for line in lines] + [viewer.user_id],
        (line.recipient_agency_id for line in lines),
    )
    page = _page(
        AccountingPage,
        viewer,
        f"Accounting of disclosures, client record {person_id}",
        accounting=report,
        names=names,
        generated_by=names.user(viewer.user_id),
        letter=letter_sections(report, names) if form == "letter" else [],
    )
    template = "privacy/accounting_letter.html" if form == "letter" else "privacy/accounting.html"
    return render(request, template, page)


# --- flags --------------------------------------------------------------------------------------


@router.get("/flags", response_class=HTMLResponse)
def flags_page(
    request: Request,
    viewer: Officer,
    db: DB,
    status_filter: Annotated[str, Query(alias="status")] = "open",
    rule: str = "",
    before: str | None = None,
) -> HTMLResponse:
    if status_filter not in ("open", "reviewed", "all"):
        raise HTTPException(422, "status: open, reviewed or all")
    if rule and rule not in {r.value for r in FlagRule}:
        raise HTTPException(422, "rule: not one of the rules")
    found = list_flags(
        db,
        status=None if status_filter == "all" else FlagStatus(status_filter),
        rule=FlagRule(rule) if rule else None,
        before=_before(before),
    )
    breach = search_log(db, LogFilter(tag=SecurityEventTag.part2_breach_signal.value), limit=20)
    page = _page(
        FlagsPage,
        viewer,
        "Review flags",
        flags=found.flags,
        next_before=found.next_before,
        status_filter=status_filter,
        rule_filter=rule,
        names=names_for(db, (f.subject_user_id for f in found.flags), ()),
        decision_flags=flags_for(db, viewer),
        breach_signals=breach.entries,
    )
    _log_read(db, request, viewer, "flags", shown=len(found.flags))
    return render(request, "privacy/flags.html", page)


@router.post("/flags/compute")
def flags_compute(request: Request, viewer: Officer, db: DB) -> RedirectResponse:
    compute_flags(db, log_actor(request, viewer), days=7)
    return RedirectResponse("/privacy/flags", status_code=status.HTTP_303_SEE_OTHER)


def _flag(db: Session, flag_id: int) -> ReviewFlag:
    flag = db.get(ReviewFlag, flag_id)
    if flag is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "There is no such flag.")
    return flag


def _flag_page(db: Session, viewer: Viewer, flag: ReviewFlag, error: str | None = None) -> Any:
    entries = list(
        db.exec(
            select(LogEntry).where(col(LogEntry.seq).in_(flag.log_seqs)).order_by(col(LogEntry.seq))
        )
    )
    return _page(
        FlagPage,
        viewer,
        f"Flag {flag.id}",
        flag=flag,
        entries=entries,
        names=names_for(
            db,
            [flag.subject_user_id, flag.reviewed_by_id, *(e.actor_user_id for e in entries)],
            (e.actor_agency_id for e in entries),
        ),
        error=error,
    )


@router.get("/flags/{flag_id}", response_class=HTMLResponse)
def flag_page(request: Request, viewer: Officer, db: DB, flag_id: RecordNumber) -> HTMLResponse:
    flag = _flag(db, flag_id)
    page = _flag_page(db, viewer, flag)
    _log_read(db, request, viewer, "flag", flag.person_id, flag_id=flag_id)
    return render(request, "privacy/flag.html", page)


@router.post("/flags/{flag_id}/review", response_class=HTMLResponse)
def flag_review(
    request: Request,
    viewer: Officer,
    db: DB,
    flag_id: RecordNumber,
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    flag = _flag(db, flag_id)
    try:
        review_flag(db, viewer, flag_id, note, log_actor(request, viewer))
    except FlagError as exc:
        page = _flag_page(db, viewer, flag, error=str(exc))
        return render(request, "privacy/flag.html", page, 422)
    return RedirectResponse(f"/privacy/flags/{flag_id}", status_code=status.HTTP_303_SEE_OTHER)
