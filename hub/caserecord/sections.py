"""Keeping the one-row sections of a client's record: contact, housing, health, and program
status. Each save is one unit of work: the write policy's grant, the section's new value, its
history (record_change) and the log entry commit together, or nothing does.

    saved = save_section(db, viewer, actor, person_id, RecordSection.housing, values, based_on=3)

raises WriteRefused (logged), FormErrors (nothing read or written) or StaleVersion (a newer
save came first: nothing written; show both versions)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, SQLModel

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.caserecord.forms import SECTION_VALUES, FormErrors, StatusValues, parse_values
from hub.caserecord.writing import record_section_change, require_write, section_version
from hub.clients.models import HealthRecord, HousingRecord, Person, PersonContact
from hub.db import rollback_on_error, utcnow
from hub.vocabulary import Category, ProgramStatus, RecordSection

# The category of each section: the write and read policies decide it as that category.
SECTION_CATEGORY: dict[RecordSection, Category] = {
    RecordSection.contact: Category.contact,
    RecordSection.housing: Category.housing,
    RecordSection.health: Category.health,
    RecordSection.status: Category.engagement,
}
# The one-row table of each section but status (which is kept on the person).
SECTION_TABLE: dict[RecordSection, type[SQLModel]] = {
    RecordSection.contact: PersonContact,
    RecordSection.housing: HousingRecord,
    RecordSection.health: HealthRecord,
}
# Re-engaged: back after an exit or a time not engaged (no time limit on services).
RE_ENGAGE_FROM = frozenset({ProgramStatus.not_engaged, ProgramStatus.exited})


@dataclass(frozen=True)
class SectionSaved:
    person_id: int
    section: RecordSection
    version: int  # the section's version now: the next form is based on it


def save_section(
    db: Session,
    viewer: Viewer,
    actor: Actor,
    person_id: int,
    section: RecordSection,
    raw: Mapping[str, Any],
    *,
    based_on: int,
    today: date | None = None,
) -> SectionSaved:
    """Validates `raw` (every field at once), checks the write policy, refuses a save based on
    a stale version, keeps the history and the new value, logs and commits."""
    values = parse_values(SECTION_VALUES[section], raw, today or utcnow().date())
    category = SECTION_CATEGORY[section]
    grant = require_write(db, viewer, person_id, category, actor)
    with rollback_on_error(db):
        previous: dict[str, Any] | None
        if isinstance(values, StatusValues):
            previous, recorder, apply = _status_change(db, person_id, values)
        else:
            previous, recorder, apply = _row_change(
                db, viewer, person_id, section, values.model_dump()
            )
        change = record_section_change(
            db,
            viewer,
            actor,
            person_id,
            section.value,
            category,
            based_on=based_on,
            previous=previous,
            saved=values.model_dump(mode="json"),
            previous_recorded_by_id=recorder,
            write_policy_version=grant.write_policy_version,
        )
        apply()
        db.commit()
    return SectionSaved(person_id, section, change.version)


def _row_change(
    db: Session, viewer: Viewer, person_id: int, section: RecordSection, saved: dict[str, Any]
) -> tuple[dict[str, Any] | None, int | None, Any]:
    table = SECTION_TABLE[section]
    row = db.get(table, person_id)
    previous = None if row is None else {name: getattr(row, name) for name in saved}
    recorder = None if row is None else row.recorded_by_id  # type: ignore[attr-defined]

    def apply() -> None:
        target = row if row is not None else table(person_id=person_id)
        for name, value in saved.items():
            setattr(target, name, value)
        # Who recorded it: Part 2 by source (hub.disclosure.origin) reads this.
        target.recorded_by_id = viewer.user_id
        target.updated_at = utcnow()
        db.add(target)

    return previous, recorder, apply


def _status_change(
    db: Session, person_id: int, values: StatusValues
) -> tuple[dict[str, Any], None, Any]:
    person = db.get(Person, person_id)
    assert person is not None  # require_write found the client
    current = person.program_status
    if values.program_status == current:
        raise FormErrors({"program_status": "the client already has this status"})
    if values.program_status == ProgramStatus.re_engaged and current not in RE_ENGAGE_FROM:
        raise FormErrors({"program_status": "re-engaged follows an exit or a time not engaged"})
    previous = {
        "program_status": current.value,
        "status_changed_at": person.status_changed_at,
    }

    def apply() -> None:
        person.program_status = values.program_status
        person.status_changed_at = utcnow()
        db.add(person)

    return previous, None, apply


def current_version(db: Session, person_id: int, section: RecordSection) -> int:
    """The version a new form for this section is based on (no client data is read)."""
    try:
        return section_version(db, person_id, section.value)
    finally:
        db.rollback()  # SQLite: release the read transaction before the next write
