"""What every referral step shares: who refers, the checks on times and roles, the offices a
referral is routed to, and the security event each step logs in its transaction."""

from datetime import datetime, timedelta

from sqlmodel import Session, select

from hub.accounts.models import Agency
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append
from hub.permissions import authorize
from hub.referrals.eligibility import ReferralError
from hub.referrals.rules import SiteRules
from hub.vocabulary import Action, AgencyKind, Purpose, SecurityEventTag

# What police are told of the duplicate check, match or no match: nothing about who is on file.
RECONCILIATION = (
    "The case management agency reconciles the referral with any record it already holds."
)


def require(viewer: Viewer, action: Action, what: str) -> None:
    authorize(viewer, action, ReferralError(f"a {viewer.role.value} may not {what}"))


def case_management_agency(db: Session, agency_id: int) -> Agency:
    agency = db.get(Agency, agency_id)
    if agency is None or agency.kind != AgencyKind.case_management:
        raise ReferralError("hand the referral to a case management agency")
    return agency


def prosecuting_agency(db: Session, rules: SiteRules, level: str) -> Agency:
    jurisdiction = rules.prosecution[level]
    offices = list(
        db.exec(
            select(Agency).where(
                Agency.kind == AgencyKind.prosecution, Agency.jurisdiction == jurisdiction
            )
        )
    )
    if len(offices) != 1:
        raise ReferralError(
            f"the site needs exactly one prosecution office with jurisdiction {jurisdiction!r} "
            f"(found {len(offices)}): set it on the agency"
        )
    return offices[0]


def security_event(
    db: Session,
    actor: Actor,
    tag: SecurityEventTag,
    person_id: int | None,
    detail: dict[str, object],
    purpose: Purpose = Purpose.referral,
    outcome: str = "success",
) -> None:
    append(
        db,
        actor,
        Event(
            kind="security",
            tag=tag.value,
            outcome=outcome,
            purpose=purpose.value,
            person_id=person_id,
            detail=detail,
        ),
    )


def check_time(moment: datetime, now: datetime, what: str) -> None:
    if moment.tzinfo is None:
        raise ReferralError(f"{what}: a time needs its time zone")
    if moment > now + timedelta(minutes=5):
        raise ReferralError(f"{what} lies in the future")
