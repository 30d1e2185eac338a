"""Part 2 by source (42 CFR 2.11; HL7 DS4P labels a record by its source, not its field).

What the staff of a Part 2 program record about a client is Part 2 data whatever category it
sits in: a plan goal, a housing entry, a contact, a case note, a work-group update. An agency is
a Part 2 program when the program office says so (`Agency.part2_program`). A living situation
that names a substance-use treatment facility or detox says the client is a patient, whoever
recorded it. The policy layer (hub.disclosure.policy: `Decision.allows_part2`) gives such data
treatment's rules; this module only says which rows are such data, in SQL, so that a withheld
row is never loaded.
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, true
from sqlmodel import Session, SQLModel, col, select

from hub.accounts.models import Agency, User
from hub.clients.models import CaseNote, HealthRecord, HousingRecord, PersonContact, PlanGoal
from hub.db import table_of
from hub.vocabulary import Category, PlanDomain
from hub.workgroup.models import ActionItem, DiscussionFlag, ItemEntry

# HUD HMIS 3.917 current living situation / 3.12 destination codes that name substance-use
# treatment or detox (FY2024: 205 "substance abuse treatment facility or detox center").
TREATMENT_LIVING_SITUATIONS = frozenset({205})

# The column of each recorded table that names who recorded the row.
RECORDER: dict[str, str] = {
    "plan_goal": "created_by_id",
    "case_note": "author_id",
    "person_contact": "recorded_by_id",
    "housing_record": "recorded_by_id",
    "health_record": "recorded_by_id",
    "item_entry": "author_id",
    "action_item": "created_by_id",
    "discussion_flag": "flagged_by_id",
    "plan_step": "created_by_id",
    "service_record": "recorded_by_id",
    "client_document": "uploaded_by_id",
}


def part2_staff() -> Any:
    """The ids of the users of Part 2 programs, as a subquery."""
    return (
        select(User.id)
        .join(Agency, col(Agency.id) == User.agency_id)
        .where(col(Agency.part2_program).is_(True))
    )


def part2_origin(table: type[SQLModel]) -> ColumnElement[bool]:
    """True for the rows of `table` that are Part 2 data by their source (never NULL)."""
    columns = table_of(table).c
    recorder = columns[RECORDER[table.__tablename__]]  # type: ignore[index]
    labelled = and_(recorder.is_not(None), recorder.in_(part2_staff()))
    if table is HousingRecord:
        living = columns.living_situation
        return labelled | and_(living.is_not(None), living.in_(sorted(TREATMENT_LIVING_SITUATIONS)))
    if table is PlanGoal:
        # A substance-use goal is treatment data whoever records it (issue 14, item 4).
        domain = columns.domain
        return labelled | and_(domain.is_not(None), domain == PlanDomain.substance_use.value)
    return labelled


def allowed_rows(table: type[SQLModel], part2_allowed: bool) -> ColumnElement[bool]:
    """The rows of `table` a read may load: all of them where Part 2 data may be shown,
    otherwise those that are not Part 2 data by their source."""
    return true() if part2_allowed else ~part2_origin(table)


def part2_persons(db: Session, table: type[SQLModel], person_ids: Collection[int]) -> set[int]:
    """Which of these clients have a row of `table` that is Part 2 data (ids only, no words)."""
    if not person_ids:
        return set()
    person = table_of(table).c.person_id
    rows = db.exec(select(person).where(person.in_(sorted(person_ids)), part2_origin(table)))
    return set(rows.all())


def part2_ids(db: Session, table: type[SQLModel], ids: Collection[int]) -> set[int]:
    """Which of these rows of `table` are Part 2 data by their source."""
    if not ids:
        return set()
    id_col = table_of(table).c.id
    return set(db.exec(select(id_col).where(id_col.in_(sorted(ids)), part2_origin(table))).all())


# The single-row tables of the record, by category: one row per client.
SINGLE_ROW: dict[Category, type[SQLModel]] = {
    Category.contact: PersonContact,
    Category.housing: HousingRecord,
    Category.health: HealthRecord,
}
# What a work-group item carries, by the name its disclosure entry lists the ids under.
ATTACHED: dict[str, type[SQLModel]] = {
    "entries": ItemEntry,
    "action_items": ActionItem,
    "flags": DiscussionFlag,
}


def holds_part2(
    db: Session,
    person_id: int,
    recorded_at: datetime,
    categories: Collection[str],
    detail: Mapping[str, Any] | None,
) -> bool:
    """Whether one disclosure-log entry about this client disclosed Part 2 data by its source,
    under the labels in force now: an entry written before the program was labelled (or before
    the hub labelled by source) is judged by what it disclosed. Reads ids only."""
    detail = detail or {}
    if detail.get("part2_origin"):
        return True
    if part2_ids(db, CaseNote, _ids(detail.get("notes"))):
        return True
    for name, table in ATTACHED.items():
        if part2_ids(db, table, _ids(detail.get(name))):
            return True
    if Category.plan in categories:
        goals = (
            col(PlanGoal.id).in_(_ids(detail["plan_goals"]))
            if "plan_goals" in detail
            else col(PlanGoal.created_at) <= recorded_at
        )
        if db.exec(
            select(PlanGoal.id).where(
                PlanGoal.person_id == person_id, goals, part2_origin(PlanGoal)
            )
        ).first():
            return True
    for category, table in SINGLE_ROW.items():
        if category not in categories:
            continue
        row = table_of(table).c
        if db.exec(
            select(row.person_id).where(
                row.person_id == person_id, row.updated_at <= recorded_at, part2_origin(table)
            )
        ).first():
            return True
    return False


def _ids(values: Any) -> list[int]:
    if not isinstance(values, Sequence) or isinstance(values, str):
        return []
    return [v for v in values if isinstance(v, int)]
