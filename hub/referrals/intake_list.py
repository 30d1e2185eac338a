"""The case manager's intake queue: current work first, long-missed deadlines in their own
tab, paged in SQL; and the look-ups the intake pages need."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from hub.accounts.models import Agency, User
from hub.accounts.sessions import Viewer
from hub.db import ident
from hub.referrals.caseloads import referral_for_intake
from hub.referrals.checks import require
from hub.referrals.eligibility import (
    ReferralError,
)
from hub.referrals.intake_clock import clock_status
from hub.referrals.models import (
    PersonReconciliation,
    Referral,
)
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import (
    Action,
    AgencyKind,
    DeadlineStatus,
    ReferralKind,
    Role,
    UserStatus,
)


@dataclass(frozen=True)
class IntakeItem:
    """A referral to the case manager's agency, with its intake clock: ids and the referral's
    own fields (the page shows who the person is through the policy layer)."""

    referral_id: int
    person_id: int
    kind: ReferralKind
    referred_at: datetime
    intake_due_on: date
    screening_done_at: datetime | None
    intake_done_at: datetime | None
    deadline_status: DeadlineStatus


_INTAKE_ORDER = {
    DeadlineStatus.missed: 0,
    DeadlineStatus.near: 1,
    DeadlineStatus.pending: 2,
    DeadlineStatus.met: 3,
}


def _intake_columns() -> Any:
    # The columns of the list only, not Referral objects: an agency's queue runs to thousands.
    return select(  # type: ignore[call-overload]  # sqlmodel types select() up to 4 columns
        Referral.id,
        Referral.person_id,
        Referral.kind,
        Referral.referred_at,
        Referral.intake_due_on,
        Referral.screening_done_at,
        Referral.intake_done_at,
    )


# An open referral whose deadline passed more than this long ago is an old miss: it has its
# own tab, so that the queue opens on the work that can still be done on time (issue 17).
OLD_MISS_DAYS = 14


def _open_intake(agency_id: int, today: date, tab: str) -> Any:
    """Screening or intake still to do, not withdrawn; on the "current" tab due within the
    last OLD_MISS_DAYS days or later, on the "older" tab due before that."""
    cut = today - timedelta(days=OLD_MISS_DAYS)
    due = col(Referral.intake_due_on)
    # Intake is recorded only after the screening (record_intake), so an open referral is one
    # without intake, read from ix_referral_agency_intake in due-date order.
    return (
        col(Referral.case_management_agency_id) == agency_id,
        col(Referral.intake_done_at).is_(None),
        col(Referral.withdrawn_at).is_(None),
        due >= cut if tab == CURRENT_TAB else due < cut,
    )


def _recently_done_intake(agency_id: int, today: date, recent_days: int) -> Any:
    """Both done, intake within the last `recent_days` days: the team sees what it finished."""
    since = datetime.combine(today - timedelta(days=recent_days), datetime.min.time(), UTC)
    return (
        col(Referral.case_management_agency_id) == agency_id,
        col(Referral.screening_done_at).is_not(None),
        col(Referral.intake_done_at) >= since,
    )


CURRENT_TAB = "current"


OLDER_TAB = "older"


INTAKE_TABS = (CURRENT_TAB, OLDER_TAB)


def _tab_conditions(agency: int, today: date, tab: str, recent_days: int) -> list[Any]:
    if tab not in INTAKE_TABS:
        raise ReferralError(f"no such tab of the intake queue: {tab!r}")
    found = [_open_intake(agency, today, tab)]
    if tab == CURRENT_TAB:
        found.append(_recently_done_intake(agency, today, recent_days))
    return found


def intake_queue_count(
    db: Session,
    case_manager: Viewer,
    today: date,
    *,
    recent_days: int = 14,
    tab: str = CURRENT_TAB,
) -> int:
    """How many referrals intake_queue lists in all on this tab."""
    require(case_manager, Action.intake_manage, "see the intake queue")
    return sum(
        db.exec(select(func.count()).select_from(Referral).where(*conditions)).one()
        for conditions in _tab_conditions(case_manager.agency_id, today, tab, recent_days)
    )


def intake_queue(
    db: Session,
    case_manager: Viewer,
    today: date,
    *,
    offset: int = 0,
    limit: int | None = None,
    recent_days: int = 14,
    rules: SiteRules | None = None,
    tab: str = CURRENT_TAB,
) -> list[IntakeItem]:
    """The agency's referrals whose intake is open (missed first, then near, then pending), and
    those completed in the last `recent_days` days (a late one among the missed, the others
    last); `limit` of them from `offset`, or all. The "current" tab leaves out the open ones
    missed more than OLD_MISS_DAYS ago; the "older" tab lists only those, oldest first.

    The order is (status, due date, id). An open referral's status follows from its due date
    alone (missed before today, then near, then pending), so open referrals in due-date order
    are already in list order, and a page needs at most offset + limit of them: the database
    sorts and cuts. Completed ones (a fortnight's worth) are read whole, because a late one
    sorts among the missed by its finishing date in the site's zone."""
    require(case_manager, Action.intake_manage, "see the intake queue")
    rules = rules or current_rules(db)
    conditions = _tab_conditions(case_manager.agency_id, today, tab, recent_days)
    open_rows = _intake_columns().where(*conditions[0])
    open_rows = open_rows.order_by(col(Referral.intake_due_on), col(Referral.id))
    if limit is not None:
        open_rows = open_rows.limit(offset + limit)
    queries = [open_rows] + [_intake_columns().where(*c) for c in conditions[1:]]
    items = [
        IntakeItem(
            referral_id=referral_id,
            person_id=person_id,
            kind=ReferralKind(kind),
            referred_at=referred_at,
            intake_due_on=due,
            screening_done_at=screened,
            intake_done_at=done,
            deadline_status=clock_status(due, screened, done, today, tz=rules.tz),
        )
        for query in queries
        for referral_id, person_id, kind, referred_at, due, screened, done in db.exec(query).all()
    ]
    items.sort(key=lambda i: (_INTAKE_ORDER[i.deadline_status], i.intake_due_on, i.referral_id))
    return items[offset:] if limit is None else items[offset : offset + limit]


def reconciliation_candidates(db: Session, case_manager: Viewer, person_id: int) -> list[int]:
    """The persons on file a police referral's person may be, while no one has reconciled
    them: ids only, for the case management agency (the page names them through the policy
    layer). Police never see this."""
    require(case_manager, Action.intake_manage, "reconcile referrals")
    flag = db.exec(
        select(PersonReconciliation).where(
            PersonReconciliation.person_id == person_id,
            col(PersonReconciliation.resolved_at).is_(None),
        )
    ).first()
    return list(flag.candidate_ids) if flag else []


def intake_referral(db: Session, case_manager: Viewer, referral_id: int) -> Referral:
    """A referral to the case manager's own agency; another agency's answers as none."""
    return referral_for_intake(db, case_manager, referral_id)


def agency_case_managers(db: Session, agency_id: int) -> list[tuple[int, str]]:
    """(user id, display name) of the agency's active case managers, for caseload choices."""
    rows = db.exec(
        select(User.id, User.display_name)
        .where(
            User.agency_id == agency_id,
            User.role == Role.case_manager,
            User.status == UserStatus.active,
        )
        .order_by(col(User.display_name))
    )
    return [(ident(uid), name) for uid, name in rows]


def case_management_agencies(db: Session) -> list[tuple[int, str]]:
    """(id, name) of the agencies a referral can be handed to."""
    rows = db.exec(
        select(Agency.id, Agency.name)
        .where(Agency.kind == AgencyKind.case_management)
        .order_by(col(Agency.name))
    )
    return [(ident(aid), name) for aid, name in rows]
