"""What a charging decision rests on: every disclosure about the client that the deciding
prosecutor received since the referral, and the newest signed tree head of the log, so that
it can be proven later. Treatment or health data may not be bound without a court order
(42 CFR 2.12(d)): the refusal is logged as a breach signal."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Text, cast, func
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.checkpoint import latest_head, sign_checkpoint
from hub.audit.log import Actor
from hub.audit.models import LogEntry, TreeHead
from hub.charging.checks import ChargingError, matter_for
from hub.charging.models import ChargingMatter, DecisionDisclosure
from hub.db import utcnow
from hub.disclosure.identities import names_person
from hub.disclosure.models import CourtOrder
from hub.disclosure.origin import holds_part2
from hub.notifications.services import notify, users_with_role
from hub.referrals.checks import security_event
from hub.referrals.models import Referral
from hub.vocabulary import (
    PROTECTED_HEALTH_CATEGORIES,
    Category,
    NotificationKind,
    Purpose,
    Role,
    SecurityEventTag,
)


class Part2BindingRefused(ChargingError):
    """42 CFR 2.12(d): treatment or health data may not bind to a charging decision without a
    court order. Such data should never have reached a prosecutor: a breach signal is logged."""

    def __init__(self, log_seqs: list[int]) -> None:
        self.log_seqs = log_seqs
        super().__init__(
            "treatment or health disclosures may not bind to a charging decision without a "
            "court order (42 CFR 2.12(d)); the privacy officer has been alerted"
        )


def disclosures_since_referral(
    db: Session, prosecutor_user_id: int, matter: ChargingMatter
) -> list[LogEntry]:
    """Every disclosure about the matter's person that this prosecutor received, for any
    purpose, since the referral (for a client's new arrest: since their first referral):
    record reads, and the lists (queue, search, export) that disclosed who they are."""
    since: datetime | None = None
    if matter.referral_id is not None:
        referral = db.get(Referral, matter.referral_id)
        since = referral.referred_at if referral else None
    if since is None:
        since = db.exec(
            select(func.min(Referral.referred_at)).where(Referral.person_id == matter.person_id)
        ).one()
    # A list or search entry (a queue, an export) names its persons in detail.person_ids. The
    # LIKE on the stored JSON text only narrows (every entry naming the person contains its
    # digits); names_person below decides. Without it every search this prosecutor ever made
    # since the referral was loaded and parsed: thousands at 100 times the demo (bench/load).
    query = select(LogEntry).where(
        LogEntry.kind == "disclosure",
        LogEntry.outcome == "disclosed",
        (col(LogEntry.person_id) == matter.person_id)
        | (
            col(LogEntry.person_id).is_(None)
            & cast(col(LogEntry.detail), Text).like(f"%{int(matter.person_id)}%")
        ),
        LogEntry.actor_user_id == prosecutor_user_id,
    )
    if since is not None:
        query = query.where(col(LogEntry.recorded_at) >= since)
    return [
        entry
        for entry in db.exec(query.order_by(col(LogEntry.seq)))
        if names_person(entry.person_id, entry.detail, matter.person_id)
    ]


def _court_order_covers(
    db: Session, entry: LogEntry, agency_id: int, categories: set[str], today: date
) -> bool:
    """A confirmed court order for this person and office, issued before the disclosure, in
    force today, naming these categories and the charging-decision purpose (42 CFR 2.64/2.65)."""
    for order in db.exec(
        select(CourtOrder).where(
            CourtOrder.person_id == entry.person_id,
            CourtOrder.recipient_agency_id == agency_id,
            col(CourtOrder.confirmed_at).is_not(None),  # in force once a second officer confirmed
        )
    ):
        if (
            categories <= set(order.categories)
            and Purpose.charging_decision.value in order.purposes
            and order.issued_on <= entry.recorded_at.date()
            and (order.expires_on is None or order.expires_on >= today)
        ):
            return True
    return False


def _part2_categories(db: Session, entry: LogEntry) -> set[str]:
    """The treatment and health categories a disclosure held: by its categories, or (42 CFR
    2.11, Part 2 by source) treatment when it showed what a Part 2 program recorded, judged by
    the labels in force now, so a read from before the program was labelled counts too."""
    protected = set(entry.categories) & PROTECTED_HEALTH_CATEGORIES
    if entry.person_id is not None and holds_part2(
        db, entry.person_id, entry.recorded_at, entry.categories, entry.detail
    ):
        protected.add(Category.treatment)
    return protected


def check_part2_binding(
    db: Session, prosecutor: Viewer, matter: ChargingMatter, entries: list[LogEntry], actor: Actor
) -> None:
    """Refuses the binding when a disclosure holds treatment or health data that no court order
    covers: the transaction is rolled back, the breach signal logged and committed."""
    today = utcnow().date()
    refused = [
        entry.seq
        for entry in entries
        if (protected := _part2_categories(db, entry))
        and not _court_order_covers(db, entry, prosecutor.agency_id, protected, today)
    ]
    if not refused:
        return
    # Nothing of the decision is kept, but the signal is: roll back, log, alert, commit.
    db.rollback()
    security_event(
        db,
        actor,
        SecurityEventTag.part2_breach_signal,
        matter.person_id,
        {"matter_id": matter.id, "log_seqs": refused},
        Purpose.charging_decision,
        "denied",
    )
    notify(
        db,
        users_with_role(db, Role.privacy_officer),
        NotificationKind.breach_signal,
        None,
        f"breach_signal:matter:{matter.id}:" + ",".join(map(str, refused)),
    )
    db.commit()
    raise Part2BindingRefused(refused)


def tree_head_for_decision(db: Session) -> TreeHead | None:
    """A signed head covering every disclosure the decision binds: signed now, in the decision's
    transaction. Only when another process holds the signing lock at that moment (PostgreSQL)
    does the decision bind the newest head already signed; the next one covers the rest."""
    return sign_checkpoint(db) or latest_head(db)


@dataclass(frozen=True)
class BoundDisclosure:
    """A disclosure-log entry a decision is bound to: what kind of information went to the
    prosecutor, for what purpose, when; never the information itself."""

    seq: int
    recorded_at: datetime
    tag: str
    purpose: str | None
    categories: list[str]
    material: bool

    @classmethod
    def of(cls, entry: LogEntry, material: bool = False) -> "BoundDisclosure":
        return cls(
            seq=entry.seq,
            recorded_at=entry.recorded_at,
            tag=entry.tag,
            purpose=entry.purpose,
            categories=list(entry.categories),
            material=material,
        )


def bound_disclosures(db: Session, decision_ids: list[int]) -> dict[int, list[BoundDisclosure]]:
    """The disclosures each decision is bound to, oldest first."""
    bound: dict[int, list[BoundDisclosure]] = {d: [] for d in decision_ids}
    if not decision_ids:
        return bound
    rows = db.exec(
        select(DecisionDisclosure, LogEntry)
        .join(LogEntry, col(LogEntry.seq) == DecisionDisclosure.log_seq)
        .where(col(DecisionDisclosure.decision_id).in_(decision_ids))
        .order_by(col(LogEntry.seq))
    )
    for link, entry in rows:
        bound[link.decision_id].append(BoundDisclosure.of(entry, link.material))
    return bound


def pending_disclosures(db: Session, prosecutor: Viewer, matter_id: int) -> list[BoundDisclosure]:
    """What a decision on this matter would be bound to if recorded now (the decision form
    lists them, to mark the material ones)."""
    matter = matter_for(db, prosecutor, matter_id)
    return [
        BoundDisclosure.of(e) for e in disclosures_since_referral(db, prosecutor.user_id, matter)
    ]
