"""Merging two records of one person, after the duplicate check.

A police referral whose person resembles one on file is flagged for case management
(`person_reconciliation`). When they are the same person, a case-management supervisor asks
to merge the new record into the one on file; a second person (another supervisor of the
agency, or a privacy officer) confirms, and only then does anything move: referrals, notes,
consents, contacts, the plan, assignments and the record's history go to the survivor. The
merged record stays as a tombstone (`person_merge`), so a search of the log or an accounting
of disclosures for either number finds both (`merge_family`). Each step is a security event;
no client data is read, only record numbers."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, and_, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from hub.accounts.models import User
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append, append_and_commit, append_refusal
from hub.caserecord.models import RecordChange
from hub.caserecord.writing import may_write
from hub.clients.models import Person, PersonAlias
from hub.db import rollback_on_error, utcnow
from hub.permissions import permits
from hub.person_merges.models import PersonMerge
from hub.referrals.models import PersonReconciliation
from hub.vocabulary import (
    Action,
    Category,
    MergeStatus,
    Purpose,
    SecurityEventTag,
)

# Tables whose rows stay where they are: the merge's own record, and the log (append-only;
# its entries keep the number they were written under, found through merge_family).
STAYING = frozenset({"person_merge", "log_entry"})


class MergeRefused(ValueError):
    """The merge cannot be asked for or confirmed as it stands; nothing moved (logged)."""


def _refuse(db: Session, actor: Actor, message: str, **ids: int) -> MergeRefused:
    db.rollback()
    append_refusal(db, actor, {"action": Action.persons_merge.value, **ids})
    return MergeRefused(message)


def _event(tag: SecurityEventTag, person_id: int, detail: dict[str, object]) -> Event:
    return Event(
        kind="security",
        tag=tag.value,
        outcome="success",
        purpose=Purpose.case_management.value,
        person_id=person_id,
        categories=[Category.identity.value],
        detail=detail,
    )


def _reconciled(db: Session, one: int, other: int) -> bool:
    """Whether the duplicate check put these two side by side."""
    rows = db.exec(
        select(PersonReconciliation).where(
            or_(
                col(PersonReconciliation.person_id) == one,
                col(PersonReconciliation.person_id) == other,
            )
        )
    ).all()
    return any(
        (r.person_id == one and other in r.candidate_ids)
        or (r.person_id == other and one in r.candidate_ids)
        for r in rows
    )


def _merged_already(db: Session, person_id: int) -> bool:
    return (
        db.exec(
            select(PersonMerge.id).where(
                PersonMerge.merged_person_id == person_id,
                PersonMerge.status == MergeStatus.merged,
            )
        ).first()
        is not None
    )


def request_merge(
    db: Session, viewer: Viewer, merged_id: int, survivor_id: int, actor: Actor
) -> PersonMerge:
    """A supervisor asks to merge `merged_id` into `survivor_id`: both their agency's clients,
    put side by side by the duplicate check, neither merged already. Nothing moves yet."""
    with rollback_on_error(db):
        ids = {"person_id": merged_id, "survivor_id": survivor_id}
        if not permits(viewer, Action.persons_merge_request):
            raise _refuse(db, actor, "A case-management supervisor asks for a merge.", **ids)
        if merged_id == survivor_id:
            raise _refuse(db, actor, "A record cannot be merged into itself.", **ids)
        if not all(db.get(Person, p) for p in (merged_id, survivor_id)) or not all(
            may_write(db, viewer, p, Category.plan) for p in (merged_id, survivor_id)
        ):
            raise _refuse(db, actor, "Both records must be clients of your agency.", **ids)
        if not _reconciled(db, merged_id, survivor_id):
            raise _refuse(db, actor, "The duplicate check did not match these records.", **ids)
        if _merged_already(db, merged_id) or _merged_already(db, survivor_id):
            raise _refuse(db, actor, "One of these records was merged already.", **ids)
        merge = PersonMerge(
            merged_person_id=merged_id,
            survivor_id=survivor_id,
            requested_by_id=viewer.user_id,
            requested_at=utcnow(),
        )
        db.add(merge)
        db.flush()
        event = _event(
            SecurityEventTag.merge_requested,
            survivor_id,
            {"merge_id": merge.id, "merged_person_id": merged_id, "survivor_id": survivor_id},
        )
        append_and_commit(db, actor, event)
        return merge


def _person_columns(db: Session) -> list[tuple[Table, str, bool]]:
    """Every column that names a client record (a foreign key to person.id): the table, the
    column, and whether one client has at most one row there (primary or unique key)."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name in STAYING:
            continue
        for column in table.columns:
            if any(fk.column.table.name == "person" for fk in column.foreign_keys):
                single = column.primary_key or bool(column.unique)
                found.append((table, column.name, single))
    return found


def _move(db: Session, merged_id: int, survivor_id: int) -> tuple[dict[str, int], list[str]]:
    """Moves every row of the merged record to the survivor; a one-row section the survivor
    has already (contact, housing, health), or a history version it holds too, stays on the
    tombstone (still found through merge_family). Returns rows moved and sections kept."""
    moved: dict[str, int] = {}
    kept: list[str] = []
    for table, name, single in _person_columns(db):
        column = table.c[name]
        where = column == merged_id
        if (
            single
            and db.connection()
            .execute(sa_select(func.count()).select_from(table).where(column == survivor_id))
            .scalar_one()
        ):
            kept.append(f"{table.name}.{name}")
            continue
        if table.name == RecordChange.__tablename__:
            # A section's versions are numbered per client: one both records changed stays.
            theirs = sa_select(table.c.section).where(table.c.person_id == survivor_id)
            where = and_(where, table.c.section.not_in(theirs))
        count = db.connection().execute(update(table).where(where).values({name: survivor_id}))
        if count.rowcount:
            moved[f"{table.name}.{name}"] = count.rowcount
    return moved, kept


def confirm_merge(db: Session, viewer: Viewer, merge_id: int, actor: Actor) -> PersonMerge:
    """A second person confirms: another supervisor of the requester's agency (whose clients
    both are) or a privacy officer. Moves everything, keeps the tombstone, commits."""
    with rollback_on_error(db):
        merge = db.get(PersonMerge, merge_id)
        if merge is None or merge.status != MergeStatus.pending:
            raise _refuse(
                db, actor, "No merge of that number awaits confirmation.", merge_id=merge_id
            )
        if merge.requested_by_id == viewer.user_id:
            raise _refuse(db, actor, "A second person confirms a merge.", merge_id=merge_id)
        requester = db.get(User, merge.requested_by_id)
        if not permits(
            viewer, Action.persons_merge, agency_id=requester.agency_id if requester else None
        ):
            raise _refuse(
                db,
                actor,
                "Another supervisor of the agency or a privacy officer confirms.",
                merge_id=merge_id,
            )
        if _merged_already(db, merge.merged_person_id) or _merged_already(db, merge.survivor_id):
            raise _refuse(db, actor, "One of these records was merged already.", merge_id=merge_id)
        merged_id, survivor_id = merge.merged_person_id, merge.survivor_id
        moved, kept = _move(db, merged_id, survivor_id)
        # The merged record's name stays findable by a search, as an alias of the survivor.
        merged = db.get(Person, merged_id)
        assert merged is not None
        db.add(
            PersonAlias(person_id=survivor_id, name=f"{merged.first_name} {merged.last_name}"[:200])
        )
        merge.status = MergeStatus.merged
        merge.decided_by_id = viewer.user_id
        merge.decided_at = utcnow()
        db.add(merge)
        db.flush()
        detail: dict[str, object] = {
            "merge_id": merge.id,
            "merged_person_id": merged_id,
            "survivor_id": survivor_id,
            "requested_by_id": merge.requested_by_id,
            "moved": moved,
            "kept_on_tombstone": kept,
        }
        # One entry under each number, so a search of the log for either finds the merge.
        append(db, actor, _event(SecurityEventTag.merge_confirmed, merged_id, detail))
        append_and_commit(db, actor, _event(SecurityEventTag.merge_confirmed, survivor_id, detail))
        return merge


def refuse_merge(db: Session, viewer: Viewer, merge_id: int, actor: Actor) -> PersonMerge:
    """The second person says they are not one person: nothing moves; logged. Whoever may
    confirm may refuse, and the one who asked may withdraw it."""
    with rollback_on_error(db):
        merge = db.get(PersonMerge, merge_id)
        if merge is None or merge.status != MergeStatus.pending:
            raise _refuse(
                db, actor, "No merge of that number awaits a decision.", merge_id=merge_id
            )
        requester = db.get(User, merge.requested_by_id)
        if not permits(
            viewer, Action.persons_merge, agency_id=requester.agency_id if requester else None
        ):
            raise _refuse(
                db,
                actor,
                "Another supervisor of the agency or a privacy officer decides.",
                merge_id=merge_id,
            )
        merge.status = MergeStatus.refused
        merge.decided_by_id = viewer.user_id
        merge.decided_at = utcnow()
        db.add(merge)
        db.flush()
        detail: dict[str, object] = {
            "merge_id": merge.id,
            "merged_person_id": merge.merged_person_id,
            "survivor_id": merge.survivor_id,
        }
        append_and_commit(
            db, actor, _event(SecurityEventTag.merge_refused, merge.survivor_id, detail)
        )
        return merge


def merge_family(db: Session, person_id: int) -> list[int]:
    """This client's number and every number merged with it (survivor and tombstones), so
    that the log and the accounting of disclosures for either find both. Ids only."""
    family = {person_id}
    while True:
        rows = db.exec(
            select(PersonMerge.merged_person_id, PersonMerge.survivor_id).where(
                PersonMerge.status == MergeStatus.merged,
                or_(
                    col(PersonMerge.merged_person_id).in_(sorted(family)),
                    col(PersonMerge.survivor_id).in_(sorted(family)),
                ),
            )
        ).all()
        grown = family | {p for row in rows for p in row}
        if grown == family:
            return sorted(family)
        family = grown


@dataclass(frozen=True)
class PendingMerge:
    """A merge awaiting a second person: record numbers only."""

    id: int
    merged_person_id: int
    survivor_id: int
    requested_at: datetime


def pending_merges(db: Session) -> list[PendingMerge]:
    """Merges awaiting a second person, oldest first (ids only)."""
    rows = db.exec(
        select(PersonMerge)
        .where(PersonMerge.status == MergeStatus.pending)
        .order_by(col(PersonMerge.requested_at))
    ).all()
    return [
        PendingMerge(m.id or 0, m.merged_person_id, m.survivor_id, m.requested_at) for m in rows
    ]
