"""Charging pages. Prosecutors (purpose: charging_decision): the queue, a matter, the decision
form with the disclosures a decision will be bound to, the decision page, corrections, and the
per-referral decision export. Defenders (purpose: defense): decisions on their clients and
what kinds of information reached the prosecutor. Privacy officers: decision flags and breach
signals to review.
"""

import importlib
import importlib.util
from types import ModuleType
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.arrests.services import arrest_facts
from hub.charging import (
    binding,
    breach_signals,
    checks,
    deciding,
    decision_flags,
    decision_report,
    defense_decisions,
    queue_order,
)
from hub.charging.checks import ChargingError
from hub.charging.decision_report import DisclosedIdentity
from hub.charging.deputies import current_deputy, office_deputies
from hub.charging.facts import matter_facts
from hub.charging.pages import (
    DecisionFormPage,
    DecisionPage,
    DefensePage,
    DefenseRow,
    FlagPage,
    FlagsPage,
    MatterPage,
    QueueRow,
)
from hub.charging.queue import QueueFilter
from hub.charging.queue_sql import cut_office_queue
from hub.db import ident, utcnow
from hub.disclosure.identities import disclose_identities
from hub.disclosure.policy import PersonNotFound
from hub.disclosure.record import disclose_record
from hub.permissions import allowed
from hub.referrals.officer_feedback import current_decisions
from hub.referrals.opening import intake_due_on
from hub.referrals.rules import current_rules
from hub.vocabulary import Action, Category, DecisionOutcome, DisclosureTag, FlagStatus, Purpose
from hub.web.dependencies import DB, log_actor, refused_as_not_found, require
from hub.web.paging import PAGE_SIZE, PageNumber, Paging
from hub.web.params import LogSeq, RecordNumber
from hub.web.templating import render

router = APIRouter()

CHARGING_PURPOSE = Purpose.charging_decision
DEFENSE_PURPOSE = Purpose.defense

Prosecutor = Annotated[Viewer, Depends(require(Action.charging_decide))]
Exporter = Annotated[Viewer, Depends(require(Action.charging_export))]
Defender = Annotated[Viewer, Depends(require(Action.defense_decisions))]
FlagReader = Annotated[Viewer, Depends(require(Action.flags_read))]
FlagReviewer = Annotated[Viewer, Depends(require(Action.flags_review))]


def _not_found(
    request: Request,
    db: Session,
    viewer: Viewer,
    error: Exception,
    action: Action = Action.charging_decide,
    **record: int,
) -> HTTPException:
    """Another office's matter or decision (or another's flag) answers as none, logged as a
    refusal naming the attempted record number."""
    return refused_as_not_found(request, db, viewer, action, str(error), **record)


def _disclose_matter(
    request: Request, db: Session, viewer: Viewer, matter: Any, *, with_referral: bool = False
) -> bool:
    """A page that shows a matter's own legal fields (offense tracking number, decisions and
    their notes) without naming the person: decided and logged by the policy layer first.
    `with_referral`: the referral's date too (the decide form's facts); returns whether the
    policy allows it."""
    known = disclose_identities(
        db,
        viewer,
        [matter.person_id],
        CHARGING_PURPOSE,
        log_actor(request, viewer),
        with_categories=(Category.legal, Category.referral) if with_referral else (Category.legal,),
        tag=DisclosureTag.charging_matter_read,
        with_identity=False,
    )
    if not known.allows(matter.person_id, Category.legal):
        # The withheld read is logged; the page answers as for a matter not there.
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such matter for your office")
    return known.allows(matter.person_id, Category.referral)


def receipts_module() -> ModuleType | None:
    """hub.audit.receipts, once the tamper-evident log's receipts are part of the hub."""
    if importlib.util.find_spec("hub.audit.receipts") is None:
        return None
    return importlib.import_module("hub.audit.receipts")


# --- the queue and a matter -----------------------------------------------------------------


def queue_rows(
    request: Request, db: Session, viewer: Viewer, number: int = 1
) -> tuple[list[QueueRow], Paging]:
    """One page of the prosecutor's queue, most urgent first, each row with who the person is
    and which of its columns the policy lets this prosecutor see. A row whose intake clock is
    withheld is ordered as if its deadline were met, so that the order gives nothing away: the
    queue is cut as the queue page cuts it without filters (queue_sql.cut_office_queue: the
    policy decides, nothing disclosed), and only the page's persons are disclosed and logged."""
    rules = current_rules(db)
    now = utcnow()
    cut = cut_office_queue(
        db, viewer, now, QueueFilter(), (number - 1) * PAGE_SIZE, PAGE_SIZE, rules=rules
    )
    paging = Paging(number, cut.total)
    shown = [k.key for k in cut.keys]
    today = now.astimezone(rules.tz).date()
    items = {
        i.matter_id: i
        for i in queue_order.prosecutor_queue(
            db, viewer, today, rules=rules, matter_ids=[k.matter_id for k in shown]
        )
    }
    page_items = [items[k.matter_id] for k in shown if k.matter_id in items]
    known = disclose_identities(
        db,
        viewer,
        [i.person_id for i in page_items],
        CHARGING_PURPOSE,
        log_actor(request, viewer),
        with_categories=(Category.legal, Category.engagement, Category.referral),
    )
    rows = [
        QueueRow(
            item=i,
            identity=known.identity(i.person_id),
            shows_legal=known.allows(i.person_id, Category.legal),
            shows_clock=known.allows(i.person_id, Category.engagement),
            # The due date is referral data where it follows from the referral date alone.
            shows_due=known.allows(i.person_id, Category.engagement)
            or (
                known.allows(i.person_id, Category.referral)
                and i.referred_at is not None
                and i.intake_due_on == intake_due_on(i.referred_at, rules)
            ),
        )
        for i in page_items
    ]
    return rows, paging


# The queue page itself, with its filters and counts: hub.charging.queue_routes.


@router.get("/charging/matters/{matter_id}", response_class=HTMLResponse)
def matter_page(request: Request, db: DB, viewer: Prosecutor, matter_id: RecordNumber) -> Response:
    try:
        matter = checks.matter_for(db, viewer, matter_id)
        record = disclose_record(
            db, viewer, matter.person_id, CHARGING_PURPOSE, log_actor(request, viewer)
        )
    except (ChargingError, PersonNotFound) as error:
        raise _not_found(request, db, viewer, error, matter_id=matter_id) from error
    decisions = deciding.decision_chain(db, matter_id)
    standing = current_decisions(db, [matter_id]).get(matter_id)
    deputy = current_deputy(db, matter_id)
    office = office_deputies(db, viewer)
    page = MatterPage(
        title=f"Matter {matter.offense_tracking_number}",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        matter=matter,
        record=record,
        shows_legal=Category.legal in record.disclosed_categories,
        decisions=decisions,
        superseded_by=deciding.superseded_by(db, [d.id for d in decisions if d.id]),
        standing=standing,
        awaiting=standing is None or standing.outcome == DecisionOutcome.more_information,
        arrest=arrest_facts(db, matter_id),
        deputy_id=deputy.deputy_id if deputy else None,
        deputies=office,
    )
    return render(request, "charging/matter.html", page)


# --- deciding ---------------------------------------------------------------------------------


def _form_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    matter_id: int,
    supersedes_id: int | None,
    **extra: Any,
) -> DecisionFormPage:
    try:
        matter = checks.matter_for(db, viewer, matter_id)
        supersedes = None
        if supersedes_id is not None:
            supersedes, of_matter = deciding.decision_for(db, viewer, supersedes_id)
            if of_matter.id != matter.id:
                raise ChargingError("no such decision on this matter")
    except ChargingError as error:
        # The attempted decision, if a correction, else the attempted matter.
        if supersedes_id is not None:
            raise _not_found(request, db, viewer, error, decision_id=supersedes_id) from error
        raise _not_found(request, db, viewer, error, matter_id=matter_id) from error
    shows_referral = _disclose_matter(request, db, viewer, matter, with_referral=True)
    rules = current_rules(db)
    return DecisionFormPage(
        title=f"Correct decision {supersedes_id}" if supersedes_id else "Charging decision",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        matter=matter,
        rules=rules,
        disclosures=binding.pending_disclosures(db, viewer, matter_id),
        supersedes=supersedes,
        facts=matter_facts(db, matter, rules) if shows_referral else None,
        **extra,
    )


@router.get("/charging/matters/{matter_id}/decide", response_class=HTMLResponse)
def decision_form(
    request: Request, db: DB, viewer: Prosecutor, matter_id: RecordNumber
) -> Response:
    page = _form_page(request, db, viewer, matter_id, None)
    return render(request, "charging/decide.html", page)


@router.get("/charging/decisions/{decision_id}/correct", response_class=HTMLResponse)
def correction_form(
    request: Request, db: DB, viewer: Prosecutor, decision_id: RecordNumber
) -> Response:
    try:
        _, matter = deciding.decision_for(db, viewer, decision_id)
    except ChargingError as error:
        raise _not_found(request, db, viewer, error, decision_id=decision_id) from error
    page = _form_page(request, db, viewer, ident(matter.id), decision_id)
    return render(request, "charging/decide.html", page)


@router.post("/charging/matters/{matter_id}/decisions", response_class=HTMLResponse)
def record_decision(
    request: Request,
    db: DB,
    viewer: Prosecutor,
    matter_id: RecordNumber,
    outcome: Annotated[str, Form(max_length=32)] = "",
    reason_codes: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    note: Annotated[str, Form(max_length=2000)] = "",
    material: Annotated[list[LogSeq], Form()] = [],  # noqa: B006
    supersedes_id: Annotated[RecordNumber | None, Form()] = None,
) -> Response:
    try:
        decision = deciding.record_decision(
            db,
            viewer,
            matter_id,
            outcome,
            reason_codes,
            note,
            material,
            log_actor(request, viewer),
            supersedes_id=supersedes_id,
        )
    except ChargingError as error:
        db.rollback()
        page = _form_page(
            request,
            db,
            viewer,
            matter_id,
            supersedes_id,
            outcome=outcome,
            reason_codes=reason_codes,
            note=note,
            material=material,
            error=str(error),
        )
        return render(request, "charging/decide.html", page, status.HTTP_400_BAD_REQUEST)
    return RedirectResponse(
        f"/charging/decisions/{decision.id}?created=1", status.HTTP_303_SEE_OTHER
    )


@router.get("/charging/decisions/{decision_id}", response_class=HTMLResponse)
def decision_page(
    request: Request, db: DB, viewer: Prosecutor, decision_id: RecordNumber, created: bool = False
) -> Response:
    try:
        decision, matter = deciding.decision_for(db, viewer, decision_id)
    except ChargingError as error:
        raise _not_found(request, db, viewer, error, decision_id=decision_id) from error
    _disclose_matter(request, db, viewer, matter)
    standing = current_decisions(db, [ident(matter.id)]).get(ident(matter.id))
    page = DecisionPage(
        title=f"Decision {decision_id}",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        decision=decision,
        matter=matter,
        rules=current_rules(db),
        disclosures=binding.bound_disclosures(db, [decision_id])[decision_id],
        superseded_by=deciding.superseded_by(db, [decision_id]).get(decision_id),
        flags=decision_flags.decision_flags(db, decision_id),
        receipts=receipts_module() is not None,
        standing=standing is not None and standing.id == decision_id,
        created=created,
    )
    return render(request, "charging/decision.html", page)


@router.get("/charging/decisions/{decision_id}/receipts/{seq}")
def receipt(
    request: Request, db: DB, viewer: Prosecutor, decision_id: RecordNumber, seq: LogSeq
) -> Response:
    """The log's receipt for one disclosure a decision is bound to: proof, checkable offline,
    that the entry is in the log the hub signed."""
    module = receipts_module()
    try:
        deciding.decision_for(db, viewer, decision_id)
    except ChargingError as error:
        raise _not_found(request, db, viewer, error, decision_id=decision_id) from error
    bound = {d.seq for d in binding.bound_disclosures(db, [decision_id])[decision_id]}
    if module is None or seq not in bound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such receipt.")
    try:
        body = module.build_receipt(db, seq)
    except LookupError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error
    return JSONResponse(body)


# --- the per-referral export ------------------------------------------------------------------


def decision_export(request: Request, db: Session, viewer: Viewer, decision_id: int) -> str:
    """The per-referral export of one decision as CSV. It discloses the person's identity (and
    the legal and referral fields of the row) to the reader, so it goes through the policy
    layer and is logged as a disclosure of its own."""
    item = decision_report.decision_report_item(db, viewer, decision_id)
    known = disclose_identities(
        db,
        viewer,
        [item.person_id],
        CHARGING_PURPOSE,
        log_actor(request, viewer),
        with_categories=(Category.legal, Category.referral),
        tag=DisclosureTag.decision_export_read,
    )
    if not (
        known.allows(item.person_id, Category.legal)
        and known.allows(item.person_id, Category.referral)
    ):
        raise ChargingError("the policy does not let you export this decision")
    identity = known.identities.get(item.person_id)
    who = DisclosedIdentity(
        name=f"{identity.first_name} {identity.last_name}" if identity else None,
        date_of_birth=identity.date_of_birth if identity else None,
        zip_code=None,  # the hub keeps no address: a staying-at note is contact data
    )
    return decision_report.format_decision_export([item], {item.person_id: who})


def csv_response(text: str, decision_id: int) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="decision-{decision_id}.csv"'},
    )


@router.get("/charging/decisions/{decision_id}/export")
def export_decision(
    request: Request, db: DB, viewer: Exporter, decision_id: RecordNumber
) -> Response:
    try:
        text = decision_export(request, db, viewer, decision_id)
    except ChargingError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from error
    return csv_response(text, decision_id)


# --- defenders --------------------------------------------------------------------------------


@router.get("/defense", response_class=HTMLResponse)
def defense(request: Request, db: DB, viewer: Defender, page: PageNumber = 1) -> Response:
    """One page of decisions on the defender's clients, newest first; only the page's persons
    disclosed."""
    paging = Paging(page, defense_decisions.defense_decision_count(db, viewer))
    items = defense_decisions.defense_decisions(db, viewer, offset=paging.offset, limit=paging.size)
    known = disclose_identities(
        db,
        viewer,
        [i.person_id for i in items],
        DEFENSE_PURPOSE,
        log_actor(request, viewer),
        with_categories=(Category.legal,),
    )
    shown = DefensePage(
        title="Charging decisions on my clients",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        rows=[
            DefenseRow(i, known.identity(i.person_id), known.allows(i.person_id, Category.legal))
            for i in items
        ],
        flags=decision_flags.flags_for(db, viewer),
        paging=paging,
    )
    return render(request, "defense/decisions.html", shown)


# --- flags and breach signals -----------------------------------------------------------------


def _flags_page(db: Session, viewer: Viewer, **extra: Any) -> FlagsPage:
    reviewer = allowed(viewer.role, Action.flags_review)
    return FlagsPage(
        title="Flags and breach signals" if reviewer else "Decision flags",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        flags=decision_flags.flags_for(db, viewer),
        signals=breach_signals.breach_signals(db, viewer) if reviewer else [],
        can_review=reviewer,
        **extra,
    )


@router.get("/flags", response_class=HTMLResponse)
def flags(request: Request, db: DB, viewer: FlagReader) -> Response:
    return render(request, "charging/decision_flags.html", _flags_page(db, viewer))


def _flag_page(
    request: Request, db: Session, viewer: Viewer, flag_id: int, **extra: Any
) -> FlagPage:
    try:
        flag = decision_flags.flag_for(db, viewer, flag_id)
    except ChargingError as error:
        raise _not_found(request, db, viewer, error, Action.flags_read, flag_id=flag_id) from error
    return FlagPage(
        title=f"Flag {flag_id}",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        flag=flag,
        can_review=allowed(viewer.role, Action.flags_review) and flag.status == FlagStatus.open,
        **extra,
    )


@router.get("/flags/{flag_id}", response_class=HTMLResponse)
def flag(request: Request, db: DB, viewer: FlagReader, flag_id: RecordNumber) -> Response:
    return render(request, "charging/decision_flag.html", _flag_page(request, db, viewer, flag_id))


@router.post("/flags/{flag_id}/review", response_class=HTMLResponse)
def review_flag(
    request: Request,
    db: DB,
    viewer: FlagReviewer,
    flag_id: RecordNumber,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        decision_flags.review_flag(db, viewer, flag_id, note, log_actor(request, viewer))
    except ChargingError as error:
        db.rollback()
        page = _flag_page(request, db, viewer, flag_id, error=str(error))
        return render(request, "charging/decision_flag.html", page, status.HTTP_400_BAD_REQUEST)
    page = _flag_page(request, db, viewer, flag_id)
    page.messages.append("The flag is marked reviewed.")
    return render(request, "charging/decision_flag.html", page)


@router.post("/breach-signals/{seq}/review", response_class=HTMLResponse)
def review_breach_signal(
    request: Request,
    db: DB,
    viewer: FlagReviewer,
    seq: LogSeq,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        breach_signals.review_breach_signal(db, viewer, seq, note, log_actor(request, viewer))
    except ChargingError as error:
        db.rollback()
        page = _flags_page(db, viewer, error=str(error))
        return render(request, "charging/decision_flags.html", page, status.HTTP_400_BAD_REQUEST)
    page = _flags_page(db, viewer)
    page.messages.append(f"Breach signal {seq} is marked reviewed.")
    return render(request, "charging/decision_flags.html", page)
