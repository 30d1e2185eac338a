"""Putting a referral right (issue 17, item 6): the officer who made a referral in error
corrects or withdraws it within a day, with the reason; a sergeant of the agency, never the
officer who overrode, approves an override of a presumptive exclusion.

Each step logs a security event (the reason as a code: free text may name people, so the
officer's note stays on the correction row) and commits once. Nothing here reads client data
beyond ids and the referral's own fields.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from hub.accounts.models import User
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.charging.models import ChargingDecision, ChargingMatter
from hub.db import ident
from hub.notifications.services import CASE_MANAGEMENT_ROLES, agency_users, notify
from hub.permissions import authorize
from hub.referrals.checks import case_management_agency, security_event
from hub.referrals.eligibility import ReferralError
from hub.referrals.models import Referral, ReferralCorrection
from hub.vocabulary import (
    Action,
    EligibilityResult,
    NotificationKind,
    ReferralCorrectionReason,
    Role,
    SecurityEventTag,
)

# An officer may put their own referral right for a day; after that the agencies have acted
# on it and a correction goes through them.
CORRECTION_WINDOW = timedelta(hours=24)

REASON_LABELS: dict[ReferralCorrectionReason, str] = {
    ReferralCorrectionReason.wrong_person: "The wrong person was referred",
    ReferralCorrectionReason.not_eligible: "The person is not eligible after all",
    ReferralCorrectionReason.duplicate: "A duplicate of another referral",
    ReferralCorrectionReason.wrong_agency: "Sent to the wrong case management agency",
    ReferralCorrectionReason.entered_in_error: "Entered in error",
}


@dataclass(frozen=True)
class Correction:
    """One correction or withdrawal as the officer's page lists it."""

    corrected_at: datetime
    withdrawn: bool
    reason: ReferralCorrectionReason
    note: str | None
    changes: list[dict[str, object]]


@dataclass(frozen=True)
class CorrectionState:
    """What the officer may still do with their referral, and what they already did."""

    referral_id: int
    precinct: str | None
    case_management_agency_id: int
    withdrawn_at: datetime | None
    correctable_until: datetime
    open: bool  # within the window, not withdrawn, intake not begun
    refusal: str | None  # why not, in words, when not open
    corrections: list[Correction] = field(default_factory=list)


def _officers_referral(db: Session, officer: Viewer, referral_id: int) -> Referral:
    authorize(
        officer,
        Action.referrals_feedback,
        ReferralError(f"a {officer.role.value} may not correct a referral"),
    )
    referral = db.get(Referral, referral_id)
    # Another officer's referral answers as none, as on the feedback page.
    if referral is None or referral.referring_user_id != officer.user_id:
        raise ReferralError("no such referral of yours")
    return referral


def _has_decision(db: Session, referral_id: int) -> bool:
    return (
        db.exec(
            select(ChargingDecision.id)
            .join(ChargingMatter, col(ChargingMatter.id) == ChargingDecision.matter_id)
            .where(ChargingMatter.referral_id == referral_id)
        ).first()
        is not None
    )


def _why_closed(db: Session, referral: Referral, now: datetime) -> str | None:
    """Why the referral can no longer be corrected by its officer, or None."""
    if referral.withdrawn_at is not None:
        return "This referral was withdrawn."
    if now > referral.referred_at + CORRECTION_WINDOW:
        return (
            "A referral can be corrected or withdrawn only within 24 hours of making it. "
            "Ask the case management agency (or the prosecuting office) to correct it."
        )
    if referral.screening_done_at is not None:
        return "The case management agency has begun intake: ask them to correct it."
    if _has_decision(db, ident(referral.id)):
        return "The prosecuting office has decided on the arrest: ask them to correct it."
    return None


def correction_state(
    db: Session, officer: Viewer, referral_id: int, now: datetime
) -> CorrectionState:
    """The officer's own referral: whether it may still be corrected, and its corrections."""
    referral = _officers_referral(db, officer, referral_id)
    refusal = _why_closed(db, referral, now)
    rows = db.exec(
        select(ReferralCorrection)
        .where(ReferralCorrection.referral_id == referral_id)
        .order_by(col(ReferralCorrection.corrected_at).desc(), col(ReferralCorrection.id).desc())
    )
    return CorrectionState(
        referral_id=referral_id,
        precinct=referral.precinct,
        case_management_agency_id=referral.case_management_agency_id,
        withdrawn_at=referral.withdrawn_at,
        correctable_until=referral.referred_at + CORRECTION_WINDOW,
        open=refusal is None,
        refusal=refusal,
        corrections=[
            Correction(c.corrected_at, c.withdrawn, c.reason, c.note, list(c.changes)) for c in rows
        ],
    )


def _open_for_correction(
    db: Session, officer: Viewer, referral_id: int, reason: str, now: datetime
) -> tuple[Referral, ReferralCorrectionReason]:
    referral = _officers_referral(db, officer, referral_id)
    refusal = _why_closed(db, referral, now)
    if refusal is not None:
        raise ReferralError(refusal)
    try:
        return referral, ReferralCorrectionReason(reason)
    except ValueError:
        raise ReferralError("choose the reason for the correction") from None


def _record(
    db: Session,
    officer: Viewer,
    actor: Actor,
    referral: Referral,
    reason: ReferralCorrectionReason,
    note: str,
    now: datetime,
    *,
    withdrawn: bool,
    changes: list[dict[str, object]],
) -> ReferralCorrection:
    correction = ReferralCorrection(
        referral_id=ident(referral.id),
        corrected_by_id=officer.user_id,
        corrected_at=now,
        withdrawn=withdrawn,
        reason=reason,
        note=note.strip() or None,
        changes=changes,
    )
    db.add(correction)
    tag = SecurityEventTag.referral_withdrawn if withdrawn else SecurityEventTag.referral_corrected
    detail: dict[str, object] = {"referral_id": referral.id, "reason": reason.value}
    detail["changed"] = changes
    security_event(db, actor, tag, referral.person_id, detail)
    return correction


def withdraw_referral(
    db: Session,
    officer: Viewer,
    referral_id: int,
    reason: str,
    note: str,
    actor: Actor,
    *,
    now: datetime,
) -> ReferralCorrection:
    """The officer withdraws their own referral made in error, within a day and before intake
    or a charging decision: it leaves the intake and charging queues, and the agencies it went
    to are told. Commits."""
    referral, why = _open_for_correction(db, officer, referral_id, reason, now)
    referral.withdrawn_at = now
    referral.withdrawn_by_id = officer.user_id
    db.add(referral)
    correction = _record(db, officer, actor, referral, why, note, now, withdrawn=True, changes=[])
    told = agency_users(db, referral.case_management_agency_id, CASE_MANAGEMENT_ROLES)
    if referral.forwarded_to_agency_id is not None:
        told += agency_users(db, referral.forwarded_to_agency_id, [Role.prosecutor])
    notify(
        db,
        told,
        NotificationKind.referral_withdrawn,
        None,
        f"referral_withdrawn:{referral.id}",
    )
    db.commit()
    return correction


def correct_referral(
    db: Session,
    officer: Viewer,
    referral_id: int,
    reason: str,
    note: str,
    actor: Actor,
    *,
    precinct: str,
    case_management_agency_id: int | None,
    now: datetime,
) -> ReferralCorrection:
    """The officer corrects the precinct or the case management agency of their own referral,
    within a day and before intake; the agency it now names is told. Commits."""
    referral, why = _open_for_correction(db, officer, referral_id, reason, now)
    changes: list[dict[str, object]] = []
    new_precinct = precinct.strip() or None
    if new_precinct != referral.precinct:
        changes.append({"field": "precinct", "before": referral.precinct, "after": new_precinct})
        referral.precinct = new_precinct
    agency_id = case_management_agency_id or referral.case_management_agency_id
    if agency_id != referral.case_management_agency_id:
        case_management_agency(db, agency_id)
        changes.append(
            {
                "field": "case_management_agency_id",
                "before": referral.case_management_agency_id,
                "after": agency_id,
            }
        )
        referral.case_management_agency_id = agency_id
    if not changes:
        raise ReferralError("nothing to correct: change the precinct or the agency")
    db.add(referral)
    correction = _record(
        db, officer, actor, referral, why, note, now, withdrawn=False, changes=changes
    )
    notify(
        db,
        agency_users(db, referral.case_management_agency_id, CASE_MANAGEMENT_ROLES),
        NotificationKind.referral_corrected,
        f"/referrals/{referral.id}",
        f"referral_corrected:{referral.id}:{correction.corrected_at.isoformat()}",
    )
    db.commit()
    return correction


# --- the sergeant's approval of an override ------------------------------------------------


def approve_override(
    db: Session, sergeant: Viewer, referral_id: int, actor: Actor, *, now: datetime
) -> Referral:
    """A sergeant of the referring agency approves an officer's override of a presumptive
    exclusion. A second person: the sergeant who overrode cannot approve their own. Commits."""
    authorize(
        sergeant,
        Action.referrals_overrides,
        ReferralError(f"a {sergeant.role.value} may not approve overrides"),
    )
    referral = db.get(Referral, referral_id)
    if (
        referral is None
        or referral.referring_agency_id != sergeant.agency_id
        or referral.eligibility != EligibilityResult.presumptively_excluded.value
    ):
        raise ReferralError("no such override in your agency")
    if referral.referring_user_id == sergeant.user_id:
        raise ReferralError(
            "You made this referral: another sergeant of your agency approves the override."
        )
    if referral.override_approved_at is not None:
        raise ReferralError("This override is already approved.")
    if referral.withdrawn_at is not None:
        raise ReferralError("The officer withdrew this referral: there is nothing to approve.")
    referral.override_approved_at = now
    referral.override_approved_by_id = sergeant.user_id
    db.add(referral)
    security_event(
        db,
        actor,
        SecurityEventTag.override_approved,
        referral.person_id,
        {"referral_id": referral.id, "exclusions": list(referral.exclusions_matched)},
    )
    # The officer learns it by the referral's number only: the page behind the link discloses.
    notify(
        db,
        [referral.referring_user_id],
        NotificationKind.override_approved,
        f"/referrals/{referral.id}",
        f"override_approved:{referral.id}",
    )
    db.commit()
    return referral


def display_names(db: Session, user_ids: set[int]) -> dict[int, str]:
    """The display names of these staff (officers, sergeants), by id."""
    if not user_ids:
        return {}
    rows = db.exec(select(User.id, User.display_name).where(col(User.id).in_(sorted(user_ids))))
    return {uid: name for uid, name in rows if uid is not None}
