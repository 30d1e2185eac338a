"""Charging decisions (purpose: charging_decision): file, decline, divert before filing or ask
for more information, and the chain of corrections.

A decision is immutable: a correction is a new decision that supersedes it (both kept, one
chain, enforced by a unique index and by database triggers). A decision binds the disclosures
it rested on (hub.charging.binding).
"""

from datetime import datetime

from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.charging.binding import (
    check_part2_binding,
    disclosures_since_referral,
    tree_head_for_decision,
)
from hub.charging.checks import ChargingError, matter_for, require_prosecutor
from hub.charging.decision_flags import flag_if_care_data
from hub.charging.models import ChargingDecision, ChargingMatter, DecisionDisclosure
from hub.db import ident, utcnow
from hub.notifications.services import notify
from hub.referrals.checks import security_event
from hub.referrals.models import Referral
from hub.referrals.officer_feedback import current_decisions
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import DecisionOutcome, NotificationKind, Purpose, SecurityEventTag


def _check_reasons(
    rules: SiteRules, outcome: DecisionOutcome, reason_codes: list[str]
) -> list[str]:
    if not reason_codes:
        raise ChargingError("give at least one reason code")
    for code in reason_codes:
        reason = rules.reason_codes_by_code.get(code)
        if reason is None:
            raise ChargingError(f"not a reason code of this site: {code}")
        if outcome not in reason.outcomes:
            raise ChargingError(f"reason {code} does not support a decision to {outcome.value}")
    return list(dict.fromkeys(reason_codes))


def _check_sequence(
    db: Session, matter: ChargingMatter, supersedes_id: int | None, note: str | None
) -> None:
    standing = current_decisions(db, [ident(matter.id)]).get(ident(matter.id))
    if supersedes_id is None:
        if standing is not None and standing.outcome != DecisionOutcome.more_information:
            raise ChargingError(
                "a decision stands on this matter: record a correction that supersedes it"
            )
        return
    target = db.get(ChargingDecision, supersedes_id)
    if target is None or target.matter_id != matter.id:
        raise ChargingError("no such decision on this matter")
    already = db.exec(
        select(ChargingDecision.id).where(ChargingDecision.supersedes_id == supersedes_id)
    ).first()
    if already is not None:
        raise ChargingError("that decision is already superseded: correct the newer one")
    if standing is None or standing.id != target.id:
        raise ChargingError("only the standing decision can be corrected")
    if not (note or "").strip():
        raise ChargingError("say in the note what the correction corrects")


def record_decision(
    db: Session,
    prosecutor_viewer: Viewer,
    matter_id: int,
    outcome: DecisionOutcome | str,
    reason_codes: list[str],
    note: str | None,
    material_seqs: list[int] | set[int],
    actor: Actor,
    *,
    supersedes_id: int | None = None,
    rules: SiteRules | None = None,
    now: datetime | None = None,
) -> ChargingDecision:
    """Records a charging decision (file, decline, divert before filing, more information),
    bound to the complete list of disclosures about the client that this prosecutor received
    since the referral, the ones they mark material flagged, and the newest signed tree head.

    Refuses (42 CFR 2.12(d)) when any of those disclosures holds treatment or health data not
    covered by a court order: that is logged as a breach signal and committed even though the
    decision is not. A file decision bound to care data (plan, housing, health, treatment) is
    flagged for the client's defender and the privacy officer. Commits.
    """
    require_prosecutor(prosecutor_viewer)
    rules = rules or current_rules(db)
    try:
        outcome = DecisionOutcome(outcome)
    except ValueError:
        raise ChargingError(f"not a decision outcome: {outcome}") from None
    matter = matter_for(db, prosecutor_viewer, matter_id)
    # Decisions on one matter take turns: without the row lock two prosecutors deciding (or
    # correcting) at once both see the same standing decision, and both write on top of it
    # (the load test found it). SQLite's write lock already serializes; FOR UPDATE is PostgreSQL's.
    db.exec(select(ChargingMatter.id).where(ChargingMatter.id == matter.id).with_for_update())
    reasons = _check_reasons(rules, outcome, reason_codes)
    note = (note or "").strip() or None
    if note is not None and len(note) > 2000:
        raise ChargingError("keep the note under 2000 characters")
    _check_sequence(db, matter, supersedes_id, note)
    entries = disclosures_since_referral(db, prosecutor_viewer.user_id, matter)
    bound = {entry.seq for entry in entries}
    material = set(material_seqs)
    if material - bound:
        raise ChargingError(
            "only disclosures you received about this client since the referral can be material"
        )
    check_part2_binding(db, prosecutor_viewer, matter, entries, actor)

    head = tree_head_for_decision(db)
    decision = ChargingDecision(
        matter_id=ident(matter.id),
        decided_by_id=prosecutor_viewer.user_id,
        outcome=outcome,
        reason_codes=reasons,
        note=note,
        supersedes_id=supersedes_id,
        tree_head_id=head.id if head else None,
        decided_at=now or utcnow(),
    )
    db.add(decision)
    db.flush()
    db.add_all(
        DecisionDisclosure(decision_id=ident(decision.id), log_seq=seq, material=seq in material)
        for seq in sorted(bound)
    )
    flag = flag_if_care_data(db, decision, matter, entries)
    security_event(
        db,
        actor,
        SecurityEventTag.decision_recorded,
        matter.person_id,
        {
            "decision_id": decision.id,
            "matter_id": matter.id,
            "outcome": outcome.value,
            "supersedes_id": supersedes_id,
            "bound_seqs": sorted(bound),
            "material_seqs": sorted(material),
            "tree_head_id": decision.tree_head_id,
            "flag_id": flag.id if flag else None,
        },
        Purpose.charging_decision,
    )
    if matter.referral_id is not None:
        referral = db.get(Referral, matter.referral_id)
        assert referral is not None
        notify(
            db,
            [referral.referring_user_id],
            NotificationKind.decision_on_referral,
            f"/referrals/{referral.id}",
            f"decision:{decision.id}",
        )
    db.commit()
    return decision


def decision_chain(db: Session, matter_id: int) -> list[ChargingDecision]:
    """Every decision on a matter, oldest first, superseded ones included."""
    return list(
        db.exec(
            select(ChargingDecision)
            .where(ChargingDecision.matter_id == matter_id)
            .order_by(col(ChargingDecision.id))
        )
    )


def decision_for(
    db: Session, prosecutor: Viewer, decision_id: int
) -> tuple[ChargingDecision, ChargingMatter]:
    """A decision on a matter of the prosecutor's office, and its matter."""
    require_prosecutor(prosecutor)
    decision = db.get(ChargingDecision, decision_id)
    if decision is None:
        raise ChargingError("no such decision for your office")
    matter = db.get(ChargingMatter, decision.matter_id)
    if matter is None or matter.prosecuting_agency_id != prosecutor.agency_id:
        raise ChargingError("no such decision for your office")
    return decision, matter


def superseded_by(db: Session, decision_ids: list[int]) -> dict[int, int]:
    """decision id -> the id of the decision that corrected it, for those corrected."""
    if not decision_ids:
        return {}
    rows = db.exec(
        select(ChargingDecision.supersedes_id, ChargingDecision.id).where(
            col(ChargingDecision.supersedes_id).in_(decision_ids)
        )
    )
    return {old: ident(new) for old, new in rows if old is not None}


def office_decisions(
    db: Session, prosecutor: Viewer, *, since: datetime | None = None
) -> list[tuple[ChargingDecision, ChargingMatter]]:
    """Every decision of the prosecutor's office (corrections and the decisions they
    superseded alike), oldest first: what a case-management system of the office reads."""
    require_prosecutor(prosecutor)
    query = (
        select(ChargingDecision, ChargingMatter)
        .join(ChargingMatter, col(ChargingMatter.id) == ChargingDecision.matter_id)
        .where(ChargingMatter.prosecuting_agency_id == prosecutor.agency_id)
    )
    if since is not None:
        query = query.where(col(ChargingDecision.decided_at) >= since)
    return list(db.exec(query.order_by(col(ChargingDecision.id))))
