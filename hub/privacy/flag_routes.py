"""The privacy console's review flags: the list, computing them now, one flag and its
review (hub.privacy.flags decides and records)."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.models import LogEntry
from hub.charging.decision_flags import flags_for
from hub.privacy.flags.computing import compute_flags
from hub.privacy.flags.listing import list_flags
from hub.privacy.flags.review import FlagError, review_flag
from hub.privacy.models import ReviewFlag
from hub.privacy.pages import FlagPage, FlagsPage
from hub.privacy.routes import Officer, before_seq, log_read, page_of
from hub.privacy.search import LogFilter, names_for, search_log
from hub.vocabulary import FlagRule, FlagStatus, SecurityEventTag
from hub.web.dependencies import DB, log_actor
from hub.web.params import RecordNumber
from hub.web.templating import render

router = APIRouter(prefix="/privacy")


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
        before=before_seq(before),
    )
    breach = search_log(db, LogFilter(tag=SecurityEventTag.part2_breach_signal.value), limit=20)
    page = page_of(
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
    log_read(db, request, viewer, "flags", shown=len(found.flags))
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
    return page_of(
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
    log_read(db, request, viewer, "flag", flag.person_id, flag_id=flag_id)
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
