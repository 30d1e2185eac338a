"""Charging (purpose: charging_decision): matters forwarded with an arrest, the prosecutor's
queue, decisions bound to the disclosures they rested on, flags for review, and the per-referral
decision export.

A decision is immutable: a correction is a new decision that supersedes it (both kept, one
chain, enforced by a unique index and by database triggers). A decision binds every disclosure
about the client that the deciding prosecutor received since the referral, and the newest
signed tree head of the log, so that what it rested on can be proven later.
"""

import csv
import heapq
import io
import itertools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Text, case, cast, func, null
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from hub.accounts.models import Agency
from hub.accounts.sessions import Viewer
from hub.audit.checkpoint import latest_head, sign_checkpoint
from hub.audit.log import Actor
from hub.audit.models import LogEntry, TreeHead
from hub.charging.models import (
    BreachSignalReview,
    ChargingDecision,
    ChargingMatter,
    DecisionDisclosure,
    DecisionFlag,
    DecisionImmutable,
)
from hub.clients.models import ClientAssignment, Person
from hub.db import ident, utcnow
from hub.disclosure.identities import names_person
from hub.disclosure.models import CourtOrder
from hub.disclosure.origin import holds_part2
from hub.notifications.services import assignment_holders, notify, users_with_role
from hub.referrals.checks import (
    REFERRING_OFFICER_ROLES,
    check_time,
    prosecuting_agency,
    security_event,
)
from hub.referrals.eligibility import ReferralError, check_offenses, most_serious
from hub.referrals.intake_clock import clock_status, deadline_status
from hub.referrals.models import Referral
from hub.referrals.officer_feedback import current_decisions
from hub.referrals.opening import ArrestDetails
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import (
    CARE_CATEGORIES,
    PROTECTED_HEALTH_CATEGORIES,
    AssignmentKind,
    Category,
    DeadlineStatus,
    DecisionOutcome,
    FlagStatus,
    NotificationKind,
    ProgramStatus,
    Purpose,
    Role,
    SecurityEventTag,
)

__all__ = ["DecisionImmutable"]


class ChargingError(ValueError):
    """A charging step breaks a rule; the message says which. Nothing was changed."""


class Part2BindingRefused(ChargingError):
    """42 CFR 2.12(d): treatment or health data may not bind to a charging decision without a
    court order. Such data should never have reached a prosecutor: a breach signal is logged."""

    def __init__(self, log_seqs: list[int]) -> None:
        self.log_seqs = log_seqs
        super().__init__(
            "treatment or health disclosures may not bind to a charging decision without a "
            "court order (42 CFR 2.12(d)); the privacy officer has been alerted"
        )


# --- matters ------------------------------------------------------------------------------


def open_charging_matter(
    db: Session,
    actor: Actor,
    *,
    person_id: int,
    referral_id: int | None,
    prosecuting_agency_id: int,
    offense_tracking_number: str,
    offenses: list[str],
    arrested_at: datetime,
    arrest_place: str | None,
    now: datetime | None = None,
) -> ChargingMatter:
    """A matter awaiting a filing decision at the office the arrest report went to. Flushes in
    the caller's transaction."""
    otn = offense_tracking_number.strip()
    if not otn or len(otn) > 40:
        raise ReferralError("an offense tracking number of 1 to 40 characters is required")
    taken = db.exec(
        select(ChargingMatter.id).where(ChargingMatter.offense_tracking_number == otn)
    ).first()
    if taken is not None:
        raise ReferralError("that offense tracking number is already on record")
    matter = ChargingMatter(
        person_id=person_id,
        referral_id=referral_id,
        prosecuting_agency_id=prosecuting_agency_id,
        offense_tracking_number=otn,
        offenses=offenses,
        arrested_at=arrested_at,
        arrest_place=arrest_place,
        created_at=now or utcnow(),
    )
    db.add(matter)
    db.flush()
    security_event(
        db,
        actor,
        SecurityEventTag.charging_matter_opened,
        person_id,
        {"matter_id": matter.id, "referral_id": referral_id},
        Purpose.referral,
    )
    return matter


def record_new_arrest(
    db: Session,
    officer: Viewer,
    person_id: int,
    arrest: ArrestDetails,
    actor: Actor,
    *,
    rules: SiteRules | None = None,
    now: datetime | None = None,
) -> ChargingMatter:
    """A new arrest of an enrolled client, forwarded for a filing decision (the work group's
    prosecutors weigh such charges case by case). Commits."""
    rules = rules or current_rules(db)
    now = now or utcnow()
    if officer.role not in REFERRING_OFFICER_ROLES:
        raise ChargingError(f"a {officer.role.value} may not record an arrest")
    check_time(arrest.arrested_at, now, "the arrest")
    person = db.get(Person, person_id)
    if person is None or person.program_status not in (
        ProgramStatus.enrolled,
        ProgramStatus.active,
        ProgramStatus.re_engaged,
    ):
        # Same answer for "no such person" and "not a client": an officer learns nothing.
        raise ChargingError("make an arrest referral for a person who is not an enrolled client")
    offenses = check_offenses(rules, list(arrest.offenses))
    office = prosecuting_agency(db, rules, most_serious(rules, offenses).level)
    matter = open_charging_matter(
        db,
        actor,
        person_id=person_id,
        referral_id=None,
        prosecuting_agency_id=office.id,  # type: ignore[arg-type]
        offense_tracking_number=arrest.offense_tracking_number,
        offenses=[o.code for o in offenses],
        arrested_at=arrest.arrested_at,
        arrest_place=arrest.place.strip() or None,
    )
    db.commit()
    return matter


# --- the prosecutor's queue ---------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    """A matter awaiting a decision: ids and the matter's own fields. `kind` is "referral" for
    an arrest referral (with its intake clock) or "new_arrest" for a client's new arrest."""

    matter_id: int
    person_id: int
    referral_id: int | None
    kind: str
    offense_tracking_number: str
    offenses: list[str]
    arrested_at: datetime
    days_since_arrest: int
    court_date: date | None
    referred_at: datetime | None
    intake_due_on: date | None
    deadline_status: DeadlineStatus | None
    standing_outcome: DecisionOutcome | None  # None, or more_information asked before


# Ripe first: a missed deadline or a met one (or a client's new arrest) waits on the prosecutor;
# a running clock waits on the client.
_URGENCY: dict[DeadlineStatus | None, int] = {
    DeadlineStatus.missed: 0,
    DeadlineStatus.met: 1,
    None: 1,
    DeadlineStatus.near: 2,
    DeadlineStatus.pending: 3,
}


def _require_prosecutor(viewer: Viewer) -> None:
    if viewer.role != Role.prosecutor:
        raise ChargingError(f"a {viewer.role.value} may not make charging decisions")


@dataclass(frozen=True)
class QueueKey:
    """What orders a matter in the queue, and nothing to show: its page is chosen from these."""

    matter_id: int
    person_id: int
    days_since_arrest: int
    deadline_status: DeadlineStatus | None
    # Referral data read by the same query, so that a filtered queue needs no second one.
    referred_at: datetime | None = None
    intake_due_on: date | None = None
    # The policy's answer on the intake clock (engagement) where the read was given it in SQL
    # (hub.disclosure.grants_sql); None where it was not asked.
    clock_shown: bool | None = None


def urgency(status: DeadlineStatus | None) -> int:
    return _URGENCY[status]


# Made once: a new alias on every call misses SQLAlchemy's compiled-statement cache, and
# compiling the queue's query again cost 15 ms a page (bench/bench_queue.py).
_STANDING = aliased(ChargingDecision)
_SUPERSEDING = aliased(ChargingDecision)


def _decided() -> Any:
    """A matter whose standing decision (one no other supersedes) is other than asking for
    more information: it has left the queue."""
    standing, superseding = _STANDING, _SUPERSEDING
    return (
        select(standing.id)
        .where(
            standing.matter_id == ChargingMatter.id,
            standing.outcome != DecisionOutcome.more_information,
            ~select(superseding.id).where(superseding.supersedes_id == standing.id).exists(),
        )
        .exists()
    )


def queue_keys(
    db: Session,
    prosecutor: Viewer,
    today: date,
    *,
    rules: SiteRules | None = None,
    clock_shown: Callable[[Any], Any] | None = None,
) -> list[QueueKey]:
    """The order keys of every matter awaiting the office's decision, in one query of the
    columns that order them (no matter or referral objects): the queue pages over these and
    reads the full items of one page only. `clock_shown(person_id column)`, the policy layer's
    SQL condition for the intake clock (hub.disclosure.grants_sql.allowed_clause), is read by
    the same query into each key's `clock_shown`."""
    _require_prosecutor(prosecutor)
    rules = rules or current_rules(db)
    # Asked only of the matters with a clock (a new arrest has none).
    shown = (
        case(
            (col(Referral.intake_due_on).is_(None), null()),
            else_=clock_shown(col(ChargingMatter.person_id)),
        )
        if clock_shown is not None
        else null()
    )
    rows = db.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types select() up to 4 columns
            ChargingMatter.id,
            ChargingMatter.person_id,
            ChargingMatter.arrested_at,
            Referral.intake_due_on,
            Referral.screening_done_at,
            Referral.intake_done_at,
            Referral.referred_at,
            shown,
        )
        .join(Referral, col(Referral.id) == ChargingMatter.referral_id, isouter=True)
        .where(
            ChargingMatter.prosecuting_agency_id == prosecutor.agency_id,
            ~_decided(),
            # A referral its officer withdrew as made in error leaves the queue with it.
            col(Referral.withdrawn_at).is_(None),
        )
        .order_by(col(ChargingMatter.arrested_at), col(ChargingMatter.id))
    ).all()
    return [
        QueueKey(
            matter_id=matter_id,
            person_id=person_id,
            days_since_arrest=(today - arrested_at.astimezone(rules.tz).date()).days,
            deadline_status=(
                clock_status(due, screened, done, today, tz=rules.tz) if due is not None else None
            ),
            referred_at=referred_at,
            intake_due_on=due,
            clock_shown=None if clock is None else bool(clock),  # None: no clock or not asked
        )
        for matter_id, person_id, arrested_at, due, screened, done, referred_at, clock in rows
    ]


# Persons decided at a time while the queue's order is resolved: one gather of facts each.
QUEUE_DECIDE_CHUNK = 200


def queue_page_keys(
    keys: Collection[QueueKey],
    offset: int,
    size: int,
    clock_shown: Callable[[Collection[int]], Collection[int]],
) -> list[QueueKey]:
    """The keys of rows offset..offset+size of the queue in its order: by urgency (a row whose
    intake clock the policy withholds is ordered as if its deadline were met, so the order
    gives nothing away), then the oldest arrest, then the matter. `clock_shown(person_ids)` is
    the policy's answer (hub.disclosure.identities.allowed_persons) for those persons.

    Only as many persons are decided as the page needs, not the whole queue: a row's place is
    at least its lower bound (its own urgency or ripe, whichever comes first), so the rows are
    walked in order of that bound and a row is final once no undecided row can come before
    it. The total is len(keys) whatever the policy says (it only moves rows), so the pager
    stays exact without deciding everyone. A row whose own urgency is ripe needs no decision.
    Every answer is still the policy layer's: the clock is engagement, which the policy grants
    a prosecutor only on a 42 CFR 2.35 consent or a court order (and a released policy may say
    otherwise), so no shortcut from relationships alone could answer it.
    """
    ripe = _URGENCY[None]

    def bound(k: QueueKey) -> tuple[int, int, int]:
        return (min(_URGENCY[k.deadline_status], ripe), -k.days_since_arrest, k.matter_id)

    walk = sorted(keys, key=bound)
    decided: dict[int, bool] = {}
    placed: list[tuple[tuple[int, int, int], QueueKey]] = []  # a heap of final places
    rows: list[QueueKey] = []
    index = 0
    while len(rows) < offset + size:
        if placed and (index == len(walk) or placed[0][0] <= bound(walk[index])):
            rows.append(heapq.heappop(placed)[1])
            continue
        if index == len(walk):
            break
        key = walk[index]
        index += 1
        urgency_ = _URGENCY[key.deadline_status]
        if urgency_ != ripe and key.person_id not in decided:
            ahead: dict[int, None] = {}  # the next undecided persons, in walking order
            for later in itertools.islice(walk, index - 1, None):
                if len(ahead) == QUEUE_DECIDE_CHUNK:
                    break
                if _URGENCY[later.deadline_status] != ripe and later.person_id not in decided:
                    ahead[later.person_id] = None
            shown = clock_shown(list(ahead))
            decided.update((pid, pid in shown) for pid in ahead)
        place = urgency_ if urgency_ == ripe or decided[key.person_id] else ripe
        heapq.heappush(placed, ((place, -key.days_since_arrest, key.matter_id), key))
    return rows[offset:]


def prosecutor_queue(
    db: Session,
    prosecutor: Viewer,
    today: date,
    *,
    rules: SiteRules | None = None,
    matter_ids: Collection[int] | None = None,
) -> list[QueueItem]:
    """Matters of the prosecutor's office awaiting a decision (none yet, or more information
    asked), most urgent first: by deadline status, then the oldest arrest. `matter_ids`: only
    these (a page of the queue)."""
    _require_prosecutor(prosecutor)
    rules = rules or current_rules(db)
    query = (
        select(ChargingMatter, Referral)
        .join(Referral, col(Referral.id) == ChargingMatter.referral_id, isouter=True)
        .where(ChargingMatter.prosecuting_agency_id == prosecutor.agency_id)
    )
    if matter_ids is not None:
        query = query.where(col(ChargingMatter.id).in_(sorted(matter_ids)))
    rows = list(db.exec(query))
    standing = current_decisions(db, [m.id for m, _ in rows])  # type: ignore[misc]
    items = []
    for matter, referral in rows:
        decision = standing.get(matter.id)  # type: ignore[arg-type]
        if decision is not None and decision.outcome != DecisionOutcome.more_information:
            continue
        status = deadline_status(referral, today, tz=rules.tz) if referral else None
        items.append(
            QueueItem(
                matter_id=matter.id,  # type: ignore[arg-type]
                person_id=matter.person_id,
                referral_id=matter.referral_id,
                kind="referral" if referral else "new_arrest",
                offense_tracking_number=matter.offense_tracking_number,
                offenses=list(matter.offenses),
                arrested_at=matter.arrested_at,
                days_since_arrest=(today - matter.arrested_at.astimezone(rules.tz).date()).days,
                court_date=matter.court_date,
                referred_at=referral.referred_at if referral else None,
                intake_due_on=referral.intake_due_on if referral else None,
                deadline_status=status,
                standing_outcome=decision.outcome if decision else None,
            )
        )
    return sorted(
        items, key=lambda i: (_URGENCY[i.deadline_status], -i.days_since_arrest, i.matter_id)
    )


# --- decisions ----------------------------------------------------------------------------


def _matter_for(db: Session, prosecutor: Viewer, matter_id: int) -> ChargingMatter:
    matter = db.get(ChargingMatter, matter_id)
    if matter is None or matter.prosecuting_agency_id != prosecutor.agency_id:
        raise ChargingError("no such matter for your office")
    return matter


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


def _check_part2(
    db: Session, prosecutor: Viewer, matter: ChargingMatter, entries: list[LogEntry], actor: Actor
) -> None:
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
    standing = current_decisions(db, [matter.id]).get(matter.id)  # type: ignore[list-item,arg-type]
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


def tree_head_for_decision(db: Session) -> TreeHead | None:
    """A signed head covering every disclosure the decision binds: signed now, in the decision's
    transaction. Only when another process holds the signing lock at that moment (PostgreSQL)
    does the decision bind the newest head already signed; the next one covers the rest."""
    return sign_checkpoint(db) or latest_head(db)


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
    _require_prosecutor(prosecutor_viewer)
    rules = rules or current_rules(db)
    try:
        outcome = DecisionOutcome(outcome)
    except ValueError:
        raise ChargingError(f"not a decision outcome: {outcome}") from None
    matter = _matter_for(db, prosecutor_viewer, matter_id)
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
    _check_part2(db, prosecutor_viewer, matter, entries, actor)

    head = tree_head_for_decision(db)
    decision = ChargingDecision(
        matter_id=matter.id,  # type: ignore[arg-type]
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
        DecisionDisclosure(decision_id=decision.id, log_seq=seq, material=seq in material)  # type: ignore[arg-type]
        for seq in sorted(bound)
    )
    flag = _flag_if_care_data(db, decision, matter, entries)
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


def _flag_if_care_data(
    db: Session, decision: ChargingDecision, matter: ChargingMatter, entries: list[LogEntry]
) -> DecisionFlag | None:
    if decision.outcome != DecisionOutcome.file:
        return None
    named = [e for e in entries if set(e.categories) & CARE_CATEGORIES]
    if not named:
        return None
    categories = sorted({c for e in named for c in e.categories if c in CARE_CATEGORIES})
    flag = DecisionFlag(
        decision_id=decision.id,  # type: ignore[arg-type]
        person_id=matter.person_id,
        reason="A file decision rests on disclosures of "
        + ", ".join(categories)
        + ": no participant worse off for what was shared for care coordination",
        categories=categories,
        log_seqs=[e.seq for e in named],
    )
    db.add(flag)
    db.flush()
    defenders = assignment_holders(db, matter.person_id, AssignmentKind.defense)
    reviewers = defenders + users_with_role(db, Role.privacy_officer)
    notify(db, reviewers, NotificationKind.decision_flagged, f"/flags/{flag.id}", f"flag:{flag.id}")
    return flag


def decision_chain(db: Session, matter_id: int) -> list[ChargingDecision]:
    """Every decision on a matter, oldest first, superseded ones included."""
    return list(
        db.exec(
            select(ChargingDecision)
            .where(ChargingDecision.matter_id == matter_id)
            .order_by(col(ChargingDecision.id))
        )
    )


# --- flags --------------------------------------------------------------------------------


def flags_for(
    db: Session, viewer: Viewer, *, status: FlagStatus | None = FlagStatus.open
) -> list[DecisionFlag]:
    """Flags a viewer reviews: every flag for a privacy officer; a defender's own clients'."""
    query = select(DecisionFlag)
    if status is not None:
        query = query.where(DecisionFlag.status == status)
    if viewer.role == Role.defender:
        query = query.where(col(DecisionFlag.person_id).in_(_clients_of(viewer.user_id)))
    elif viewer.role != Role.privacy_officer:
        raise ChargingError(f"a {viewer.role.value} does not review decision flags")
    return list(db.exec(query.order_by(col(DecisionFlag.id))))


def _clients_of(user_id: int) -> Any:
    """The defender's current clients as a subquery, for `person_id IN (...)`: the database
    filters by it, so a defender with thousands of clients sends no list of thousands of ids
    (an IN, not a join: a client assigned twice still counts once)."""
    return select(ClientAssignment.person_id).where(
        ClientAssignment.user_id == user_id,
        ClientAssignment.kind == AssignmentKind.defense,
        col(ClientAssignment.ended_at).is_(None),
    )


def review_flag(
    db: Session, privacy_officer: Viewer, flag_id: int, note: str, actor: Actor
) -> DecisionFlag:
    """The privacy officer's review of a flag, with a note. Commits."""
    if privacy_officer.role != Role.privacy_officer:
        raise ChargingError("only a privacy officer reviews decision flags")
    flag = db.get(DecisionFlag, flag_id)
    if flag is None:
        raise ChargingError("no such flag")
    if flag.status == FlagStatus.reviewed:
        raise ChargingError("the flag is already reviewed")
    if not note.strip() or len(note) > 2000:
        raise ChargingError("write a review note of at most 2000 characters")
    flag.status = FlagStatus.reviewed
    flag.reviewed_by_id = privacy_officer.user_id
    flag.reviewed_at = utcnow()
    flag.review_note = note.strip()
    db.add(flag)
    security_event(
        db,
        actor,
        SecurityEventTag.flag_reviewed,
        flag.person_id,
        {"flag_id": flag.id},
        Purpose.oversight,
    )
    db.commit()
    return flag


# --- the per-referral decision export -----------------------------------------------------


@dataclass(frozen=True)
class DecisionReportItem:
    """A referral's standing decision, with the non-client fields a state report asks for."""

    decision_id: int
    matter_id: int
    person_id: int
    offense_tracking_number: str
    referring_agency: str
    outcome: DecisionOutcome
    decided_on: date
    reason_codes: list[str]


@dataclass(frozen=True)
class DisclosedIdentity:
    """The identity fields the policy layer disclosed to the export's reader (and logged); a
    None is a field it withheld, written as an empty cell."""

    name: str | None
    date_of_birth: date | None
    zip_code: str | None


def decision_report_items(
    db: Session, prosecutor: Viewer, start: date, end: date, *, rules: SiteRules | None = None
) -> list[DecisionReportItem]:
    """The standing decisions of the prosecutor's office on referrals, decided on a local date
    in [start, end). Ids and non-client fields only."""
    _require_prosecutor(prosecutor)
    rules = rules or current_rules(db)
    rows = list(
        db.exec(
            select(ChargingMatter, Agency.name)
            .join(Referral, col(Referral.id) == ChargingMatter.referral_id)
            .join(Agency, col(Agency.id) == Referral.referring_agency_id)
            .where(ChargingMatter.prosecuting_agency_id == prosecutor.agency_id)
        )
    )
    standing = current_decisions(db, [m.id for m, _ in rows])  # type: ignore[misc]
    items = []
    for matter, agency_name in rows:
        decision = standing.get(matter.id)  # type: ignore[arg-type]
        if decision is None:
            continue
        decided_on = decision.decided_at.astimezone(rules.tz).date()
        if start <= decided_on < end:
            items.append(
                DecisionReportItem(
                    decision_id=ident(decision.id),
                    matter_id=ident(matter.id),
                    person_id=matter.person_id,
                    offense_tracking_number=matter.offense_tracking_number,
                    referring_agency=agency_name,
                    outcome=decision.outcome,
                    decided_on=decided_on,
                    reason_codes=list(decision.reason_codes),
                )
            )
    return sorted(items, key=lambda i: (i.decided_on, i.decision_id))


EXPORT_COLUMNS = (
    "person",
    "date_of_birth",
    "zip_code",
    "offense_tracking_number",
    "referring_agency",
    "outcome",
    "decided_on",
    "reason_codes",
)
_OUTCOME_WORDS = {
    DecisionOutcome.file: "file",
    DecisionOutcome.decline: "decline",
    DecisionOutcome.divert: "diversion",
    DecisionOutcome.more_information: "more information",
}


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts like a formula (OWASP CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def format_decision_export(
    items: list[DecisionReportItem], identities: Mapping[int, DisclosedIdentity]
) -> str:
    """The per-referral decision export as CSV, with the fields state reporting statutes ask
    for (e.g. Utah's: person, offense tracking number, date of birth, zip code, referring agency,
    outcome).

    This function discloses nothing by itself: identity comes from the caller, which must have
    had the policy layer disclose (and log) each person's identity fields to the export's
    reader. A person missing from `identities` is refused rather than exported half-named.
    """
    missing = sorted({i.person_id for i in items} - set(identities))
    if missing:
        raise ChargingError("identity was not disclosed for every person in the export")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for item in items:
        who = identities[item.person_id]
        writer.writerow(
            _cell(v)
            for v in (
                who.name,
                who.date_of_birth.isoformat() if who.date_of_birth else None,
                who.zip_code,
                item.offense_tracking_number,
                item.referring_agency,
                _OUTCOME_WORDS[item.outcome],
                item.decided_on.isoformat(),
                ";".join(item.reason_codes),
            )
        )
    return out.getvalue()


# --- what the decision pages show ---------------------------------------------------------


def matter_for(db: Session, prosecutor: Viewer, matter_id: int) -> ChargingMatter:
    """A matter of the prosecutor's office; another office's answers as none."""
    _require_prosecutor(prosecutor)
    return _matter_for(db, prosecutor, matter_id)


def decision_for(
    db: Session, prosecutor: Viewer, decision_id: int
) -> tuple[ChargingDecision, ChargingMatter]:
    """A decision on a matter of the prosecutor's office, and its matter."""
    _require_prosecutor(prosecutor)
    decision = db.get(ChargingDecision, decision_id)
    if decision is None:
        raise ChargingError("no such decision for your office")
    matter = db.get(ChargingMatter, decision.matter_id)
    if matter is None or matter.prosecuting_agency_id != prosecutor.agency_id:
        raise ChargingError("no such decision for your office")
    return decision, matter


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
    _require_prosecutor(prosecutor)
    query = (
        select(ChargingDecision, ChargingMatter)
        .join(ChargingMatter, col(ChargingMatter.id) == ChargingDecision.matter_id)
        .where(ChargingMatter.prosecuting_agency_id == prosecutor.agency_id)
    )
    if since is not None:
        query = query.where(col(ChargingDecision.decided_at) >= since)
    return list(db.exec(query.order_by(col(ChargingDecision.id))))


def decision_report_item(
    db: Session, prosecutor: Viewer, decision_id: int, *, rules: SiteRules | None = None
) -> DecisionReportItem:
    """One referral's decision, for the per-referral export: only a standing decision on an
    arrest referral (a corrected one is reported through its correction)."""
    rules = rules or current_rules(db)
    decision, matter = decision_for(db, prosecutor, decision_id)
    if matter.referral_id is None:
        raise ChargingError("the export covers decisions on referrals only")
    standing = current_decisions(db, [ident(matter.id)]).get(ident(matter.id))
    if standing is None or standing.id != decision.id:
        raise ChargingError("export the correction that superseded this decision")
    referral = db.get(Referral, matter.referral_id)
    assert referral is not None
    agency = db.get(Agency, referral.referring_agency_id)
    return DecisionReportItem(
        decision_id=ident(decision.id),
        matter_id=ident(matter.id),
        person_id=matter.person_id,
        offense_tracking_number=matter.offense_tracking_number,
        referring_agency=agency.name if agency else "",
        outcome=decision.outcome,
        decided_on=decision.decided_at.astimezone(rules.tz).date(),
        reason_codes=list(decision.reason_codes),
    )


# --- the defender's view ------------------------------------------------------------------


@dataclass(frozen=True)
class DefenseDecisionItem:
    """A decision on a defender's client, with what kinds of information reached the
    prosecutor before it (from the bound disclosures: categories and purposes, no content)."""

    decision_id: int
    matter_id: int
    person_id: int
    offense_tracking_number: str
    outcome: DecisionOutcome
    decided_at: datetime
    reason_codes: list[str]
    superseded: bool
    categories: list[str]
    purposes: list[str]
    disclosures: int
    material: int


def _defense_clients(defender: Viewer) -> Any:
    """The defender's clients as a subquery (see _clients_of)."""
    if defender.role != Role.defender:
        raise ChargingError(f"a {defender.role.value} has no defense clients")
    return _clients_of(defender.user_id)


def defense_decision_count(db: Session, defender: Viewer) -> int:
    """How many decisions there are on the defender's clients, counted by the database."""
    return db.exec(
        select(func.count())
        .select_from(ChargingDecision)
        .join(ChargingMatter, col(ChargingMatter.id) == ChargingDecision.matter_id)
        .where(col(ChargingMatter.person_id).in_(_defense_clients(defender)))
    ).one()


def defense_decisions(
    db: Session, defender: Viewer, *, offset: int = 0, limit: int | None = None
) -> list[DefenseDecisionItem]:
    """Decisions on the defender's own clients, newest first; `offset`/`limit`: one page of
    them, cut by the database."""
    rows = list(
        db.exec(
            select(ChargingDecision, ChargingMatter)
            .join(ChargingMatter, col(ChargingMatter.id) == ChargingDecision.matter_id)
            .where(col(ChargingMatter.person_id).in_(_defense_clients(defender)))
            # Newest first by when it was decided (issue 15): the id is only a tiebreak.
            .order_by(col(ChargingDecision.decided_at).desc(), col(ChargingDecision.id).desc())
            .offset(offset)
            .limit(limit)
        )
    )
    ids = [ident(d.id) for d, _ in rows]
    bound = bound_disclosures(db, ids)
    corrected = superseded_by(db, ids)
    items = []
    for decision, matter in rows:
        entries = bound[ident(decision.id)]
        items.append(
            DefenseDecisionItem(
                decision_id=ident(decision.id),
                matter_id=ident(matter.id),
                person_id=matter.person_id,
                offense_tracking_number=matter.offense_tracking_number,
                outcome=decision.outcome,
                decided_at=decision.decided_at,
                reason_codes=list(decision.reason_codes),
                superseded=ident(decision.id) in corrected,
                categories=sorted({c for e in entries for c in e.categories}),
                purposes=sorted({e.purpose for e in entries if e.purpose}),
                disclosures=len(entries),
                material=sum(e.material for e in entries),
            )
        )
    return items


def decision_flags(db: Session, decision_id: int) -> list[DecisionFlag]:
    """The flags raised on one decision (the deciding office sees that its decision was
    flagged, and whether it was reviewed)."""
    return list(
        db.exec(
            select(DecisionFlag)
            .where(DecisionFlag.decision_id == decision_id)
            .order_by(col(DecisionFlag.id))
        )
    )


def flag_for(db: Session, viewer: Viewer, flag_id: int) -> DecisionFlag:
    """One flag the viewer reviews (see flags_for), open or reviewed."""
    for flag in flags_for(db, viewer, status=None):
        if flag.id == flag_id:
            return flag
    raise ChargingError("no such flag")


# --- breach signals -----------------------------------------------------------------------


@dataclass(frozen=True)
class BreachSignal:
    """A breach signal in the log and its review, if any: ids and times, no content."""

    seq: int
    recorded_at: datetime
    person_id: int | None
    actor_role: str | None
    log_seqs: list[int]
    reviewed_at: datetime | None
    reviewed_by_id: int | None
    review_note: str | None


def _require_privacy_officer(viewer: Viewer) -> None:
    if viewer.role != Role.privacy_officer:
        raise ChargingError("only a privacy officer reviews breach signals")


def breach_signals(db: Session, viewer: Viewer, *, open_only: bool = True) -> list[BreachSignal]:
    """The log's breach signals, oldest first; by default those not yet reviewed."""
    _require_privacy_officer(viewer)
    rows = db.exec(
        select(LogEntry, BreachSignalReview)
        .join(
            BreachSignalReview,
            col(BreachSignalReview.log_seq) == LogEntry.seq,
            isouter=True,
        )
        .where(LogEntry.tag == SecurityEventTag.part2_breach_signal.value)
        .order_by(col(LogEntry.seq))
    )
    return [
        BreachSignal(
            seq=entry.seq,
            recorded_at=entry.recorded_at,
            person_id=entry.person_id,
            actor_role=entry.actor_role,
            log_seqs=list((entry.detail or {}).get("log_seqs", [])),
            reviewed_at=review.reviewed_at if review else None,
            reviewed_by_id=review.reviewed_by_id if review else None,
            review_note=review.note if review else None,
        )
        for entry, review in rows
        if not (open_only and review is not None)
    ]


def review_breach_signal(
    db: Session, privacy_officer: Viewer, seq: int, note: str, actor: Actor
) -> BreachSignalReview:
    """Records the privacy officer's review of a breach signal, with a note; logged. Commits."""
    _require_privacy_officer(privacy_officer)
    entry = db.get(LogEntry, seq)
    if entry is None or entry.tag != SecurityEventTag.part2_breach_signal.value:
        raise ChargingError("no such breach signal")
    taken = db.exec(select(BreachSignalReview.id).where(BreachSignalReview.log_seq == seq)).first()
    if taken is not None:
        raise ChargingError("the breach signal is already reviewed")
    if not note.strip() or len(note) > 2000:
        raise ChargingError("write a review note of at most 2000 characters")
    review = BreachSignalReview(
        log_seq=seq, reviewed_by_id=privacy_officer.user_id, note=note.strip()
    )
    db.add(review)
    db.flush()
    security_event(
        db,
        actor,
        SecurityEventTag.breach_signal_reviewed,
        entry.person_id,
        {"signal_seq": seq, "review_id": review.id},
        Purpose.oversight,
    )
    db.commit()
    return review
