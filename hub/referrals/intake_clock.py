"""The intake clock: whether a deadline is near or missed, and recording screening and the
full intake assessment, which enrol the client once both are done."""

from datetime import UTC, date, datetime, tzinfo

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.clients.models import Person
from hub.db import ident, utcnow
from hub.permissions import permits
from hub.referrals.caseloads import assign, open_caseload, referral_for_intake
from hub.referrals.checks import check_time, security_event
from hub.referrals.eligibility import (
    ReferralError,
)
from hub.referrals.models import (
    IntakeAssessment,
    Referral,
)
from hub.settings import get_settings
from hub.vocabulary import (
    Action,
    DeadlineStatus,
    ProgramStatus,
    Purpose,
    SecurityEventTag,
)


def deadline_status(
    referral: Referral,
    today: date,
    *,
    near_days: int | None = None,
    tz: tzinfo = UTC,
) -> DeadlineStatus:
    """met: screening and full intake both done by the due date; missed: the due date passed
    first (or they were done after it); near: at most `deadline_near_days` days left;
    otherwise pending. Completion times count by their local date in `tz`."""
    return clock_status(
        referral.intake_due_on,
        referral.screening_done_at,
        referral.intake_done_at,
        today,
        near_days=near_days,
        tz=tz,
    )


def clock_status(
    due: date,
    screening_done_at: datetime | None,
    intake_done_at: datetime | None,
    today: date,
    *,
    near_days: int | None = None,
    tz: tzinfo = UTC,
) -> DeadlineStatus:
    """`deadline_status` from the referral's clock columns alone (a list's order keys)."""
    near = get_settings().deadline_near_days if near_days is None else near_days
    if screening_done_at is not None and intake_done_at is not None:
        finished = max(screening_done_at, intake_done_at).astimezone(tz).date()
        return DeadlineStatus.met if finished <= due else DeadlineStatus.missed
    if today > due:
        return DeadlineStatus.missed
    if (due - today).days <= near:
        return DeadlineStatus.near
    return DeadlineStatus.pending


def set_program_status(person: Person, status: ProgramStatus, at: datetime) -> None:
    person.program_status = status
    person.status_changed_at = at


def _enrol_when_complete(db: Session, referral: Referral, person: Person, at: datetime) -> None:
    if referral.screening_done_at is None or referral.intake_done_at is None:
        return
    # Both intake steps done: the person becomes a client.
    if person.program_status not in (
        ProgramStatus.enrolled,
        ProgramStatus.active,
        ProgramStatus.re_engaged,
    ):
        set_program_status(person, ProgramStatus.enrolled, at)


def _done_at(referral: Referral, at: datetime | None, what: str) -> datetime:
    if referral.withdrawn_at is not None:
        raise ReferralError("the referring officer withdrew this referral as made in error")
    now = utcnow()
    moment = at or now
    check_time(moment, now, what)
    if moment < referral.referred_at:
        raise ReferralError(f"{what} cannot come before the referral")
    return moment


def record_screening(
    db: Session, case_manager: Viewer, referral_id: int, actor: Actor, *, at: datetime | None = None
) -> Referral:
    """The case manager's initial screening (who and when). The screener takes the person onto
    their caseload unless someone already holds it. Commits."""
    referral = referral_for_intake(db, case_manager, referral_id)
    if referral.screening_done_at is not None:
        raise ReferralError("the initial screening is already recorded")
    moment = _done_at(referral, at, "the screening")
    person = db.get(Person, referral.person_id)
    assert person is not None
    referral.screening_done_at = moment
    referral.screening_done_by_id = case_manager.user_id
    db.add(referral)
    if person.program_status == ProgramStatus.referred:
        set_program_status(person, ProgramStatus.screened, moment)
    _enrol_when_complete(db, referral, person, moment)
    db.add(person)
    security_event(
        db,
        actor,
        SecurityEventTag.screening_recorded,
        person.id,
        {"referral_id": referral.id},
        Purpose.case_management,
    )
    if permits(case_manager, Action.caseload_hold) and not open_caseload(db, ident(person.id)):
        assign(db, ident(person.id), case_manager.user_id, actor)
    db.commit()
    return referral


def record_intake(
    db: Session,
    case_manager: Viewer,
    referral_id: int,
    services: list[str],
    actor: Actor,
    *,
    at: datetime | None = None,
) -> IntakeAssessment:
    """The full intake assessment (who, when, the services the client was connected to), after
    the initial screening. With both done the person is enrolled. Commits."""
    referral = referral_for_intake(db, case_manager, referral_id)
    if referral.screening_done_at is None:
        raise ReferralError("record the initial screening first")
    if referral.intake_done_at is not None:
        raise ReferralError("the intake assessment is already recorded")
    moment = _done_at(referral, at, "the intake assessment")
    if moment < referral.screening_done_at:
        raise ReferralError("the intake assessment cannot come before the screening")
    cleaned = [s.strip() for s in services if s.strip()]
    if any(len(s) > 200 for s in cleaned):
        raise ReferralError("name each service in at most 200 characters")
    assessment = IntakeAssessment(
        referral_id=ident(referral.id),
        person_id=referral.person_id,
        assessed_by_id=case_manager.user_id,
        assessed_at=moment,
        services=cleaned,
    )
    referral.intake_done_at = moment
    referral.intake_done_by_id = case_manager.user_id
    db.add_all([assessment, referral])
    person = db.get(Person, referral.person_id)
    assert person is not None
    _enrol_when_complete(db, referral, person, moment)
    db.add(person)
    security_event(
        db,
        actor,
        SecurityEventTag.intake_recorded,
        person.id,
        {"referral_id": referral.id},
        Purpose.case_management,
    )
    db.commit()
    return assessment
