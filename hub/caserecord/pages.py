"""What the record's forms, the history and the contact log show, as typed contexts: the
current values come only from what the policy layer returned (hub.disclosure.record,
hub.disclosure.history), never from a table."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.accounts.names import Names
from hub.clients.pages import SectionView
from hub.db import utcnow
from hub.disclosure.history import ChangeEntry, ContactLogEntry
from hub.vocabulary import (
    HMIS_LIVING_SITUATIONS,
    Category,
    ContactKind,
    ExitReason,
    PlaceKind,
    ProgramStatus,
    RecordSection,
)
from hub.web.templating import Page, label

Options = tuple[tuple[str, str], ...]  # (value, words)


def _enum_options(enum: Any) -> Options:
    return tuple((m.value, label(m)) for m in enum)


HMIS_OPTIONS: Options = tuple(
    (str(code), f"{code}: {words}") for code, words in sorted(HMIS_LIVING_SITUATIONS.items())
)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: str = "text"  # text | textarea | date | select
    options: Options = ()
    max_length: int = 200


# The fields of each section's form, in order (hub.caserecord.forms checks them).
SECTION_FIELDS: dict[RecordSection, tuple[FieldSpec, ...]] = {
    RecordSection.contact: (
        FieldSpec("phone", "Phone", max_length=40),
        FieldSpec("staying_at", "Staying at (as the client says it)"),
    ),
    RecordSection.housing: (
        FieldSpec("living_situation", "Living situation (HUD HMIS 3.917)", "select", HMIS_OPTIONS),
        FieldSpec("waitlist", "Public waiting list"),
        FieldSpec("waitlist_since", "On the waiting list since", "date"),
    ),
    RecordSection.health: (
        FieldSpec("mental_health", "Mental health", "textarea", max_length=2000),
        FieldSpec("physical_health", "Physical health", "textarea", max_length=2000),
    ),
    RecordSection.status: (
        FieldSpec("program_status", "New program status", "select", _enum_options(ProgramStatus)),
        FieldSpec(
            "exit_reason", "Exit reason (only for an exit)", "select", _enum_options(ExitReason)
        ),
        FieldSpec("effective_on", "Since", "date"),
        FieldSpec("reason", "Reason for the change", "textarea", max_length=500),
    ),
}
CONTACT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("contact_on", "Date", "date"),
    FieldSpec("kind", "Kind of contact", "select", _enum_options(ContactKind)),
    FieldSpec("place_kind", "Kind of place", "select", _enum_options(PlaceKind)),
    FieldSpec("note", "Short note (optional)", "textarea", max_length=1000),
    FieldSpec("note_category", "The note's category", "select", _enum_options(Category)),
)


@dataclass(frozen=True)
class FieldView:
    spec: FieldSpec
    value: str
    error: str | None = None


def field_views(
    specs: tuple[FieldSpec, ...], values: Mapping[str, Any], errors: Mapping[str, str]
) -> list[FieldView]:
    def text(value: Any) -> str:
        if value is None:
            return ""
        return str(getattr(value, "value", value))

    return [FieldView(s, text(values.get(s.name)), errors.get(s.name)) for s in specs]


def section_values(section: RecordSection, view: SectionView) -> dict[str, Any]:
    """The current values of the section, from what the read disclosed (status: none; a
    status form asks for the new status)."""
    if section == RecordSection.status:
        return {"effective_on": utcnow().date()}  # a change is recorded as it happens
    if view.data is None:
        return {}
    return {s.name: getattr(view.data, s.name, None) for s in SECTION_FIELDS[section]}


@dataclass
class SectionFormPage(Page):
    person_id: int = 0
    section: RecordSection = RecordSection.contact
    category: Category = Category.contact
    version: int = 0
    current: SectionView | None = None  # what is stored, as this viewer may see it
    fields: list[FieldView] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    # A conflict: the stored version (current) is newer than the one the form was based on;
    # `yours` is what was sent, kept so nothing typed is lost.
    conflict: bool = False
    yours: list[FieldView] = field(default_factory=list)
    notice: str | None = None
    standalone: bool = False


@dataclass
class HistoryPage(Page):
    person_id: int = 0
    changes: list[ChangeEntry] = field(default_factory=list)
    contacts: list[ContactLogEntry] = field(default_factory=list)
    withheld: list[tuple[Category, str]] = field(default_factory=list)
    notice: str | None = None
    # The contact log's form (only where the viewer may write engagement).
    can_log_contact: bool = False
    fields: list[FieldView] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    standalone: bool = False
    staff: Names = field(default_factory=Names)  # who changed or recorded what, by name
