"""Reading a client record through the policy: the field map, the typed disclosed record, and
the disclosure log entry that goes with every read.

    record = disclose_record(db, viewer, person_id, Purpose.case_management, actor)

reads only the columns and rows of the categories the decision allows (a withheld category's
rows are never loaded), appends one disclosure entry to the log and commits, all in one
transaction; if any of it fails the caller gets an exception and no data.
"""

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit
from hub.charging.models import ChargingDecision, ChargingMatter
from hub.clients.models import (
    CaseNote,
    HealthRecord,
    HousingRecord,
    Person,
    PersonAlias,
    PersonContact,
    PlanGoal,
    TreatmentRecord,
)
from hub.db import rollback_on_error, utcnow
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.disclosure.origin import allowed_rows, part2_origin, part2_persons
from hub.disclosure.policy import (
    Decision,
    Facts,
    allows,
    decide,
    gather_facts,
    gather_facts_many,
)
from hub.disclosure.releases import policy_in_force
from hub.priors.models import PriorMatter, Warrant
from hub.referrals.models import Referral
from hub.vocabulary import (
    Category,
    DisclosureOutcome,
    DisclosureTag,
    ProgramStatus,
    Purpose,
    WithheldReason,
)

T = TypeVar("T")


class RowCategory:
    """Field-map marker: the field takes the category of its own row (case notes)."""

    def __repr__(self) -> str:
        return "ROW_CATEGORY"


ROW_CATEGORY = RowCategory()

C = Category
# Every field of every table of the client record -> exactly one category.
# tests/test_disclosure_record.py checks this against the models: a new column that is not
# mapped here fails the build, so it can never be shown by accident.
FIELD_MAP: dict[str, dict[str, Category | RowCategory]] = {
    "person": {
        "id": C.identity,
        "first_name": C.identity,
        "last_name": C.identity,
        "date_of_birth": C.identity,
        "race_ethnicity": C.demographics,
        "additional_race_ethnicity": C.demographics,
        "gender": C.demographics,
        "program_status": C.engagement,
        "status_changed_at": C.engagement,
        "last_contact_on": C.engagement,
        # The record was opened at referral, usually by the referring officer.
        "created_at": C.referral,
        "created_by_id": C.referral,
    },
    "person_alias": {"id": C.identity, "person_id": C.identity, "name": C.identity},
    "person_contact": {
        "person_id": C.contact,
        "phone": C.contact,
        "staying_at": C.contact,
        "updated_at": C.contact,
        "recorded_by_id": C.contact,
    },
    "referral": {
        "id": C.referral,
        "person_id": C.referral,
        "kind": C.referral,
        "referred_at": C.referral,
        "referring_user_id": C.referral,
        "referring_agency_id": C.referral,
        "precinct": C.referral,
        "alleged_offenses": C.referral,
        "offense_category": C.referral,
        "eligibility": C.referral,
        "exclusion_override_reason": C.referral,
        "prior_involvement": C.referral,
        "case_management_agency_id": C.referral,
        "created_at": C.referral,
        # Which site rules screened the referral and which exclusions matched: eligibility.
        "rules_version": C.referral,
        "exclusions_matched": C.referral,
        "social_contact_entry_id": C.referral,
        # Where the arrest report went is the start of a charging matter.
        "forwarded_to_agency_id": C.legal,
        # Whether the person came to screening and intake is attendance: 42 CFR 2.35 monitoring.
        "intake_due_on": C.engagement,
        "screening_done_at": C.engagement,
        "intake_done_at": C.engagement,
        "screening_done_by_id": C.engagement,
        "intake_done_by_id": C.engagement,
    },
    "charging_matter": {
        name: C.legal
        for name in (
            "id",
            "person_id",
            "referral_id",
            "prosecuting_agency_id",
            "offense_tracking_number",
            "offenses",
            "arrested_at",
            "arrest_place",
            "court_date",
            "created_at",
        )
    },
    "charging_decision": {
        name: C.legal
        for name in (
            "id",
            "matter_id",
            "decided_by_id",
            "decided_at",
            "outcome",
            "reason_codes",
            "note",
            "supersedes_id",
            "tree_head_id",
        )
    },
    # Issue 15: earlier matters and warrants, from the prosecutor's case system.
    "prior_matter": {
        name: C.legal
        for name in (
            "id",
            "person_id",
            "case_number",
            "court",
            "offense_code",
            "offense_description",
            "level",
            "filed_on",
            "disposed_on",
            "disposition",
            "source",
            "recorded_by_id",
            "recorded_at",
        )
    },
    "warrant": {
        name: C.legal
        for name in (
            "id",
            "person_id",
            "issued_on",
            "court",
            "kind",
            "status",
            "source",
            "recorded_by_id",
            "recorded_at",
        )
    },
    "plan_goal": {
        name: C.plan
        for name in (
            "id",
            "person_id",
            "goal",
            "services",
            "status",
            "created_at",
            "created_by_id",
            "domain",
            "updated_at",
        )
    },
    "housing_record": {
        name: C.housing
        for name in (
            "person_id",
            "living_situation",
            "waitlist",
            "waitlist_since",
            "updated_at",
            "recorded_by_id",
        )
    },
    "health_record": {
        name: C.health
        for name in (
            "person_id",
            "mental_health",
            "physical_health",
            "updated_at",
            "recorded_by_id",
        )
    },
    "treatment_record": {
        name: C.treatment
        for name in ("id", "person_id", "program", "started_on", "ended_on", "notes", "created_at")
    },
    "case_note": {
        name: ROW_CATEGORY
        for name in ("id", "person_id", "author_id", "category", "written_at", "body")
    },
}

# Tables about a client that are not part of the record shown: the policy layer reads them to
# decide, and their own services show them.
OUTSIDE_RECORD: dict[str, str] = {
    "client_assignment": "a relationship the policy reads (caseload, defense)",
    "consent": "the client's consents, read by the policy and managed by hub.consents",
    "court_order": "read by the policy; recorded and shown by privacy officers",
    "court_order_document": "a court order's sealed copy, for privacy officers only",
    "caseload_request": "a case manager's request for a client; grants nothing until approved",
    "break_glass": "read by the policy; reviewed by privacy officers",
    "decision_disclosure": "links a charging decision to log entries; read by the accountings",
    "decision_flag": "a file decision resting on care data, for the defender and privacy review",
    "matter_deputy": "which deputy of the office handles a matter: the office's own workflow",
    "intake_assessment": "the intake clock's second step; its services reach the record as plan "
    "data only through hub.disclosure",
    "agenda_item": "a work group's agenda item: ids and kind; its client's record is read here",
    "item_entry": "work-group updates and notes, each of its own category: hub.disclosure.items",
    "action_item": "work-group action items, each of its own category: hub.disclosure.items",
    "discussion_flag": "a request to discuss a client, of its own category: hub.disclosure.items",
    "social_contact_entry": "police's social-contact list; a page listing it discloses each "
    "person's identity through disclose_search's rules",
    "person_reconciliation": "ids of persons a police referral may duplicate, for case "
    "management to reconcile; each one's identity is shown through disclose_identities",
    "arrest_report": "an arrest as police or a prosecutor's system reported it (legal): the "
    "particulars as entered, for case management to reconcile; a match is a charging matter",
    "court_hearing": "a charging matter's court date (legal): hub.hearings shows it once the "
    "policy allowed the client's legal category",
    "court_hearing_change": "a court date's history (legal), shown with its court date",
    "record_change": "a section's earlier values, each of its section's category: shown only "
    "through hub.disclosure.history, under that category's read policy",
    "contact_entry": "the contact log: engagement, its note of its own category; shown only "
    "through hub.disclosure.history",
    "plan_step": "a plan goal's steps, read with their goal through hub.disclosure.plans",
    "service_record": "services and the bridge-funding ledger, read through "
    "hub.disclosure.plans (plan, or health/treatment for a clinical kind)",
    "person_merge": "which record of a person was merged into which (ids only): the tombstone "
    "that keeps both numbers findable in the log and the accounting",
    "client_document": "documents attached to a client or a consent, each of its own category: "
    "listed and downloaded only through hub.disclosure.documents",
}

# Participation: enrolled and still in the program, engaged or not (no sanctions: LEAD).
_PARTICIPANT_STATUSES = frozenset(
    {
        ProgramStatus.enrolled,
        ProgramStatus.active,
        ProgramStatus.not_engaged,
        ProgramStatus.re_engaged,
    }
)
MAX_SEARCH_RESULTS = 50
# Candidates gathered and decided at a time: one set of fact queries each.
SEARCH_DECIDE_CHUNK = 100


# --- the typed record -------------------------------------------------------------------------


@dataclass(frozen=True)
class WithheldCategory:
    """Stands in the record where a withheld category would be: no data, only why."""

    category: Category
    reason: WithheldReason


@dataclass(frozen=True)
class Identity:
    first_name: str
    last_name: str
    date_of_birth: date | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Demographics:
    race_ethnicity: list[int]
    additional_race_ethnicity: str | None
    gender: list[int]


@dataclass(frozen=True)
class Contact:
    phone: str | None = None
    staying_at: str | None = None
    updated_at: datetime | None = None
    part2: bool = False  # recorded by a Part 2 program: the 42 CFR 2.32 notice goes with it


@dataclass(frozen=True)
class ReferralEntry:
    id: int
    kind: str
    referred_at: datetime
    referring_user_id: int
    referring_agency_id: int
    precinct: str | None
    alleged_offenses: list[str]
    offense_category: str
    eligibility: str
    exclusion_override_reason: str | None
    prior_involvement: str | None
    case_management_agency_id: int
    created_at: datetime


@dataclass(frozen=True)
class Referrals:
    entries: tuple[ReferralEntry, ...]
    record_created_at: datetime
    record_created_by_id: int | None


@dataclass(frozen=True)
class IntakeClock:
    intake_due_on: date
    screening_done_at: datetime | None
    intake_done_at: datetime | None


@dataclass(frozen=True)
class Engagement:
    program_status: ProgramStatus
    status_changed_at: datetime | None
    last_contact_on: date | None
    intake: tuple[IntakeClock, ...] = ()


@dataclass(frozen=True)
class ChargingDecisionEntry:
    id: int
    matter_id: int
    decided_by_id: int
    decided_at: datetime
    outcome: str
    reason_codes: list[str]
    note: str | None
    supersedes_id: int | None
    tree_head_id: int | None


@dataclass(frozen=True)
class ChargingMatterEntry:
    id: int
    referral_id: int | None
    prosecuting_agency_id: int
    offense_tracking_number: str
    offenses: list[str]
    arrested_at: datetime
    court_date: date | None
    created_at: datetime
    decisions: tuple[ChargingDecisionEntry, ...] = ()


@dataclass(frozen=True)
class PriorMatterEntry:
    id: int
    case_number: str
    court: str
    offense_code: str
    offense_description: str
    level: str
    filed_on: date
    disposed_on: date | None
    disposition: str | None
    source: str


@dataclass(frozen=True)
class WarrantEntry:
    id: int
    issued_on: date
    court: str
    kind: str
    status: str
    source: str


@dataclass(frozen=True)
class Legal:
    forwarded_to_agency_ids: tuple[int, ...]
    matters: tuple[ChargingMatterEntry, ...]
    prior_matters: tuple[PriorMatterEntry, ...] = ()
    warrants: tuple[WarrantEntry, ...] = ()


@dataclass(frozen=True)
class PlanGoalEntry:
    id: int
    goal: str
    services: str | None
    status: str
    created_at: datetime
    created_by_id: int | None
    part2: bool = False  # recorded by a Part 2 program: the 42 CFR 2.32 notice goes with it
    domain: str | None = None  # substance use is treatment data (hub.disclosure.origin)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Plan:
    goals: tuple[PlanGoalEntry, ...]
    # Goals a Part 2 program recorded that this viewer may not see are left out; this says why
    # (42 CFR 2.11: withheld with a reason, never shown as "no goals").
    part2_withheld: WithheldReason | None = None


@dataclass(frozen=True)
class Housing:
    living_situation: int | None = None
    waitlist: str | None = None
    waitlist_since: date | None = None
    updated_at: datetime | None = None
    # Recorded by a Part 2 program, or a living situation naming treatment or detox.
    part2: bool = False


@dataclass(frozen=True)
class Health:
    mental_health: str | None = None
    physical_health: str | None = None
    updated_at: datetime | None = None
    part2: bool = False  # recorded by a Part 2 program: the 42 CFR 2.32 notice goes with it


@dataclass(frozen=True)
class TreatmentEntry:
    id: int
    program: str
    started_on: date | None
    ended_on: date | None
    notes: str | None
    created_at: datetime


@dataclass(frozen=True)
class Treatment:
    entries: tuple[TreatmentEntry, ...]


@dataclass(frozen=True)
class NoteEntry:
    id: int
    category: Category
    author_id: int
    written_at: datetime
    body: str
    part2: bool = False  # written by a Part 2 program's staff: the 2.32 notice goes with it


@dataclass(frozen=True)
class DisclosedRecord:
    """What one viewer may see of one client for one purpose. A withheld category is a
    WithheldCategory in its place; notes are only those of disclosed categories."""

    person_id: int
    purpose: Purpose
    policy_version: str
    log_seq: int  # the disclosure-log entry that records this read
    basis: Mapping[Category, str]  # legal basis per disclosed category
    identity: Identity | WithheldCategory
    demographics: Demographics | WithheldCategory
    contact: Contact | WithheldCategory
    referral: Referrals | WithheldCategory
    legal: Legal | WithheldCategory
    engagement: Engagement | WithheldCategory
    plan: Plan | WithheldCategory
    housing: Housing | WithheldCategory
    health: Health | WithheldCategory
    treatment: Treatment | WithheldCategory
    notes: tuple[NoteEntry, ...]
    # Whether the person is a participant, where the viewer may know only that (or more).
    participant: bool | None
    # 42 CFR 2.32: treatment data, or data a Part 2 program recorded, is present, so whatever
    # shows this carries `notice`.
    part2: bool
    # What the decision was made on. Never shown: it lets the page decide what else the viewer
    # may do with this client (file a note under which category) without gathering it again.
    facts: Facts | None = field(default=None, repr=False, compare=False)

    def section(self, category: Category) -> Any:
        return getattr(self, category.value)

    @property
    def withheld(self) -> list[WithheldCategory]:
        return [s for c in Category if isinstance(s := self.section(c), WithheldCategory)]

    @property
    def disclosed_categories(self) -> list[Category]:
        return [c for c in Category if not isinstance(self.section(c), WithheldCategory)]

    @property
    def notice(self) -> str | None:
        return REDISCLOSURE_NOTICE if self.part2 else None


# --- reading ------------------------------------------------------------------------------------


def _table(table: type[SQLModel]) -> Any:
    return table.__table__  # type: ignore[attr-defined]


def _columns(table: type[SQLModel], categories: set[Category]) -> list[Any]:
    columns = _table(table).c
    fields = FIELD_MAP[_table(table).name]
    return [columns[name] for name, cat in fields.items() if cat in categories]


# The label of the record number a batched read groups its rows by (not client data).
_PERSON_LABEL = "_person_of_row"


def _rows(
    db: Session,
    table: type[SQLModel],
    categories: set[Category],
    where: ColumnElement[bool],
    order_by: Any = None,
    *,
    key: Any = None,
    part2: Any = None,
) -> list[dict[str, Any]]:
    """The columns of `table` that belong to `categories`, and nothing else (with `key`, also
    that record number, under _PERSON_LABEL, for a read of several clients at once; with
    `part2`, whether the row is Part 2 data by its source, under "part2")."""
    columns = _columns(table, categories)
    if not columns:
        return []
    # SQLAlchemy's select, not sqlmodel's: with a single column sqlmodel's returns bare
    # values, and a one-column category (legal, of a referral) must still come back as rows.
    keyed: list[Any] = [col(key).label(_PERSON_LABEL)] if key is not None else []
    if part2 is not None:
        keyed.append(part2.label("part2"))
    statement = sa_select(*keyed, *columns).where(where)
    if order_by is not None:
        statement = statement.order_by(order_by)
    return [dict(row._mapping) for row in db.connection().execute(statement).all()]


def _build(cls: type[T], row: Mapping[str, Any], **extra: Any) -> T:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in row.items() if k in names}, **extra)


@dataclass(frozen=True)
class Segmented:
    """Stands in the sections where a one-row category (contact, housing, health) is Part 2
    data by its source and the decision withholds such data: the caller withholds the category
    with the decision's reason (Decision.part2_reason)."""

    category: Category


def _sections(db: Session, person_id: int, decision: Decision) -> dict[Category, Any]:
    return _sections_many(db, {person_id: decision})[person_id]


def _sections_many(db: Session, wanted: Mapping[int, Decision]) -> dict[int, dict[Category, Any]]:
    """The allowed sections of several clients (a work-group agenda): one set of queries per
    distinct set of allowed categories, not one per client. Each query reads only the columns
    of its clients' shared allowed categories, and only the rows the decision may show (rows
    that are Part 2 data by their source only where it allows them), so no client's withheld
    column or row is read."""
    groups: dict[tuple[frozenset[Category], frozenset[Category]], list[int]] = {}
    for person_id, decision in wanted.items():
        allowed = frozenset(decision.disclosed)
        part2 = frozenset(c for c in allowed if decision.allows_part2(c))
        groups.setdefault((allowed, part2), []).append(person_id)
    sections: dict[int, dict[Category, Any]] = {}
    for (categories, part2), person_ids in groups.items():
        sections.update(_sections_of_group(db, person_ids, set(categories), part2))
    return sections


def _withhold_segmented(
    decision: Decision, sections: dict[Category, Any]
) -> tuple[Decision, dict[Category, Any]]:
    """The decision as carried out: a one-row category that turned out to be Part 2 data the
    viewer may not see is withheld with the reason, and logged so."""
    plan = sections.get(C.plan)
    if plan is not None and plan.part2_withheld is not None:
        sections = {
            **sections,
            C.plan: dataclasses.replace(plan, part2_withheld=decision.part2_reason(C.plan)),
        }
    segmented = [c for c, s in sections.items() if isinstance(s, Segmented)]
    if not segmented:
        return decision, sections
    withheld = dict(decision.withheld)
    for category in segmented:
        withheld[category] = decision.part2_reason(category)
    decision = dataclasses.replace(
        decision,
        disclosed={c: b for c, b in decision.disclosed.items() if c not in segmented},
        withheld=withheld,
    )
    return decision, {c: s for c, s in sections.items() if c not in segmented}


def _by_person(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row.pop(_PERSON_LABEL), []).append(row)
    return grouped


def _sections_of_group(
    db: Session, person_ids: list[int], allowed: set[Category], part2: frozenset[Category]
) -> dict[int, dict[Category, Any]]:
    sections: dict[int, dict[Category, Any]] = {p: {} for p in person_ids}
    if not allowed:
        return sections
    ids = sorted(person_ids)
    persons = _by_person(_rows(db, Person, allowed, col(Person.id).in_(ids), key=Person.id))
    referrals = _by_person(
        _rows(
            db,
            Referral,
            allowed,
            col(Referral.person_id).in_(ids),
            col(Referral.referred_at),
            key=Referral.person_id,
        )
    )
    aliases: dict[int, list[str]] = {}
    if C.identity in allowed:
        for alias_of, name in db.exec(
            select(PersonAlias.person_id, PersonAlias.name)
            .where(col(PersonAlias.person_id).in_(ids))
            .order_by(col(PersonAlias.id))
        ):
            aliases.setdefault(alias_of, []).append(name)
    legal = _legal_many(db, ids, referrals) if C.legal in allowed else {}
    single = {
        category: _single_many(db, table, cls, ids, category in part2)
        for category, table, cls in (
            (C.contact, PersonContact, Contact),
            (C.housing, HousingRecord, Housing),
            (C.health, HealthRecord, Health),
        )
        if category in allowed
    }
    goals = (
        _entries_by_person(db, PlanGoal, allowed, ids, C.plan in part2) if C.plan in allowed else {}
    )
    # A viewer who may not see a Part 2 program's goals is told so for every client, whether or
    # not a program recorded any: saying it only where one did would say who is a patient of a
    # Part 2 program (42 CFR 2.13(c)).
    part2_goals_hidden = C.plan in allowed and C.plan not in part2
    treatment = (
        _entries_by_person(db, TreatmentRecord, allowed, ids) if C.treatment in allowed else {}
    )
    for person_id in ids:
        mine = sections[person_id]
        found = persons.get(person_id)
        person_row = found[0] if found else {}
        their_referrals = referrals.get(person_id, [])
        if C.identity in allowed:
            mine[C.identity] = _build(
                Identity, person_row, aliases=tuple(aliases.get(person_id, ()))
            )
        if C.demographics in allowed:
            mine[C.demographics] = _build(Demographics, person_row)
        if C.engagement in allowed:
            intake = tuple(_build(IntakeClock, r) for r in their_referrals)
            mine[C.engagement] = _build(Engagement, person_row, intake=intake)
        if C.referral in allowed:
            mine[C.referral] = Referrals(
                entries=tuple(_build(ReferralEntry, r) for r in their_referrals),
                record_created_at=person_row["created_at"],
                record_created_by_id=person_row["created_by_id"],
            )
        if C.legal in allowed:
            mine[C.legal] = legal[person_id]
        for category, by_person in single.items():
            mine[category] = by_person[person_id]
        if C.plan in allowed:
            mine[C.plan] = Plan(
                goals=tuple(_build(PlanGoalEntry, r) for r in goals.get(person_id, [])),
                # A placeholder: _withhold_segmented puts the decision's reason in its place.
                part2_withheld=WithheldReason.part2 if part2_goals_hidden else None,
            )
        if C.treatment in allowed:
            mine[C.treatment] = Treatment(
                entries=tuple(_build(TreatmentEntry, r) for r in treatment.get(person_id, []))
            )
    return sections


def _entries_by_person(
    db: Session,
    table: type[SQLModel],
    allowed: set[Category],
    person_ids: list[int],
    part2_allowed: bool | None = None,
) -> dict[int, list[dict[str, Any]]]:
    """A table of several rows per client (plan goals, treatment entries), in id order. With
    `part2_allowed` the table is labelled by source: its Part 2 rows are read only if True."""
    columns = _table(table).c
    where = columns.person_id.in_(person_ids)
    label = None
    if part2_allowed is not None:
        where = and_(where, allowed_rows(table, part2_allowed))
        label = part2_origin(table)
    return _by_person(
        _rows(db, table, allowed, where, columns.id, key=columns.person_id, part2=label)
    )


def _single_many(
    db: Session, table: type[SQLModel], cls: type[T], person_ids: list[int], part2_allowed: bool
) -> dict[int, T | Segmented]:
    """A one-row category of each client; Segmented where its row is Part 2 data by its source
    and may not be shown (that row is not read)."""
    (category,) = set(FIELD_MAP[_table(table).name].values())
    assert isinstance(category, Category)
    person = _table(table).c.person_id
    rows = _by_person(
        _rows(
            db,
            table,
            {category},
            and_(person.in_(person_ids), allowed_rows(table, part2_allowed)),
            key=person,
            part2=part2_origin(table),
        )
    )
    segmented = set() if part2_allowed else part2_persons(db, table, person_ids)
    return {
        p: _build(cls, rows[p][0])
        if p in rows
        else Segmented(category)
        if p in segmented
        else cls()
        for p in person_ids
    }


def _legal_many(
    db: Session, person_ids: list[int], referrals: Mapping[int, list[dict[str, Any]]]
) -> dict[int, Legal]:
    matters = _by_person(
        _rows(
            db,
            ChargingMatter,
            {C.legal},
            col(ChargingMatter.person_id).in_(person_ids),
            ChargingMatter.id,
            key=ChargingMatter.person_id,
        )
    )
    matter_ids = [m["id"] for rows in matters.values() for m in rows]
    decisions = (
        _rows(
            db,
            ChargingDecision,
            {C.legal},
            col(ChargingDecision.matter_id).in_(matter_ids),
            ChargingDecision.id,
        )
        if matter_ids
        else []
    )
    by_matter: dict[int, list[ChargingDecisionEntry]] = {}
    for row in decisions:
        by_matter.setdefault(row["matter_id"], []).append(_build(ChargingDecisionEntry, row))
    # Earlier matters and warrants (hub.priors), newest first as a court docket reads.
    priors, warrants = (
        _by_person(
            _rows(
                db,
                table,
                {C.legal},
                col(table.person_id).in_(person_ids),
                col(table.id),
                key=table.person_id,
            )
        )
        for table in (PriorMatter, Warrant)
    )
    return {
        person_id: Legal(
            forwarded_to_agency_ids=tuple(
                r["forwarded_to_agency_id"]
                for r in referrals.get(person_id, [])
                if r["forwarded_to_agency_id"]
            ),
            matters=tuple(
                _build(ChargingMatterEntry, m, decisions=tuple(by_matter.get(m["id"], [])))
                for m in matters.get(person_id, [])
            ),
            prior_matters=tuple(
                sorted(
                    (_build(PriorMatterEntry, r) for r in priors.get(person_id, [])),
                    key=lambda p: (p.filed_on, p.id),
                    reverse=True,
                )
            ),
            warrants=tuple(
                sorted(
                    (_build(WarrantEntry, r) for r in warrants.get(person_id, [])),
                    key=lambda w: (w.issued_on, w.id),
                    reverse=True,
                )
            ),
        )
        for person_id in person_ids
    }


def _notes(db: Session, person_id: int, decision: Decision) -> tuple[NoteEntry, ...]:
    """The case notes of the disclosed categories; a note written by a Part 2 program's staff
    only where the decision shows such data of its category (a withheld note is not read)."""
    allowed = sorted(decision.disclosed)
    if not allowed:
        return ()
    part2 = sorted(c for c in allowed if decision.allows_part2(c))
    origin = part2_origin(CaseNote)
    rows = db.exec(
        select(CaseNote, origin)
        .where(
            CaseNote.person_id == person_id,
            col(CaseNote.category).in_(allowed),
            or_(col(CaseNote.category).in_(part2), ~origin),
        )
        .order_by(col(CaseNote.written_at), col(CaseNote.id))
    ).all()
    return tuple(
        NoteEntry(
            id=n.id,  # type: ignore[arg-type]
            category=n.category,
            author_id=n.author_id,
            written_at=n.written_at,
            body=n.body,
            part2=bool(labelled),
        )
        for n, labelled in rows
    )


def _participant(db: Session, person_id: int, sections: dict[Category, Any]) -> bool:
    engagement = sections.get(C.engagement)
    if engagement is not None:
        return engagement.program_status in _PARTICIPANT_STATUSES
    status = db.exec(select(Person.program_status).where(Person.id == person_id)).one()
    return status in _PARTICIPANT_STATUSES


def _log_actor(viewer: Viewer, actor: Actor) -> Actor:
    # The entry names the viewer the decision was made for, whatever the caller passed.
    return Actor(
        user_id=viewer.user_id,
        role=viewer.role.value,
        agency_id=viewer.agency_id,
        request_id=actor.request_id,
        address=actor.address,
    )


def disclose_record(
    db: Session,
    viewer: Viewer,
    person_id: int,
    purpose: Purpose,
    actor: Actor,
    *,
    categories: Collection[Category] | None = None,
) -> DisclosedRecord:
    """Decides, reads only what the decision allows, logs one disclosure entry and commits,
    in one transaction. Raises PersonNotFound; if the log write or commit fails, raises and
    nothing is returned or kept.

    `categories` narrows the read to those categories (a page fragment showing one section):
    the others are neither read nor logged as disclosed, and stand in the record as withheld
    with the reason `not_requested`."""
    with rollback_on_error(db):
        policy = policy_in_force(db)
        facts = gather_facts(db, viewer, person_id, utcnow())
        decision = decide(viewer, facts, purpose, policy)
        if categories is not None:
            decision = _narrowed(decision, frozenset(categories))
        sections = _sections(db, person_id, decision) if decision.disclosed else {}
        decision, sections = _withhold_segmented(decision, sections)
        allowed = set(decision.disclosed)
        notes = _notes(db, person_id, decision)
        participant = (
            _participant(db, person_id, sections)
            if C.engagement in allowed or decision.participation
            else None
        )
        origin = part2_disclosed(sections, notes)
        part2 = bool(origin) or (
            C.treatment in allowed
            and bool(sections[C.treatment].entries or any(n.category == C.treatment for n in notes))
        )
        entry = append_and_commit(
            db,
            _log_actor(viewer, actor),
            Event(
                kind="disclosure",
                tag=DisclosureTag.client_record_read.value,
                outcome=_outcome(decision),
                purpose=purpose.value,
                person_id=person_id,
                categories=effective_categories(decision, origin),
                policy_version=decision.policy_version,
                detail=_detail(decision, notes, part2, sections, origin),
            ),
        )
    withheld = {c: WithheldCategory(c, r) for c, r in decision.withheld.items()}
    return DisclosedRecord(
        person_id=person_id,
        purpose=purpose,
        policy_version=decision.policy_version,
        log_seq=entry.seq,
        basis=dict(decision.disclosed),
        notes=notes,
        participant=participant,
        part2=part2,
        facts=facts,
        **{c.value: sections[c] if c in sections else withheld[c] for c in Category},
    )


def _narrowed(decision: Decision, requested: frozenset[Category]) -> Decision:
    # HIPAA accounting: the log lists what was shown, so a fragment's read is not logged as
    # a disclosure of the sections it did not show.
    disclosed = {c: b for c, b in decision.disclosed.items() if c in requested}
    return dataclasses.replace(
        decision,
        disclosed=disclosed,
        # A category the viewer may not see keeps its reason; one not asked for says so.
        withheld={
            c: decision.withheld.get(c, WithheldReason.not_requested)
            for c in Category
            if c not in disclosed
        },
        participation=None,
        consent_ids=frozenset(
            int(b.split(":", 1)[1]) for b in disclosed.values() if b.startswith("consent:")
        ),
    )


def _outcome(decision: Decision) -> str:
    disclosed = decision.disclosed or decision.participation
    return (DisclosureOutcome.disclosed if disclosed else DisclosureOutcome.withheld).value


def part2_disclosed(
    sections: Mapping[Category, Any], notes: Sequence[NoteEntry] = ()
) -> list[Category]:
    """The categories whose disclosed data holds data a Part 2 program recorded."""
    found = {n.category for n in notes if n.part2}
    for category, section in sections.items():
        labelled = section.goals if category == C.plan else [section]
        if any(getattr(item, "part2", False) for item in labelled):
            found.add(category)
    return [c for c in Category if c in found]


def effective_categories(decision: Decision, origin: Sequence[Category]) -> list[str]:
    """The entry's categories: data a Part 2 program recorded is treatment data wherever it
    sits, so the entry lists treatment too (the charging binding and the accountings read it)."""
    categories = [c.value for c in decision.categories]
    if origin and C.treatment.value not in categories:
        categories.append(C.treatment.value)
    return categories


def _detail(
    decision: Decision,
    notes: Sequence[NoteEntry],
    part2: bool,
    sections: Mapping[Category, Any] | None = None,
    origin: Sequence[Category] = (),
) -> dict[str, Any]:
    basis = {c.value: b for c, b in decision.disclosed.items()}
    if origin and C.treatment.value not in basis:
        # The entry lists treatment (effective_categories): it went out on the basis of the
        # category it sat in, so the accounting of Part 2 disclosures (42 CFR 2.24) finds it.
        basis[C.treatment.value] = decision.part2_disclosed[origin[0]]
    detail = {
        "basis": basis,
        "withheld": {c.value: r.value for c, r in decision.withheld.items()},
        "participation": decision.participation,
        "notes": [n.id for n in notes],
        "part2": part2,
        # Part 2 by source: the categories whose data shown came from a Part 2 program, and
        # the plan goals shown (which of them was Part 2 data can be asked again later).
        "part2_origin": [c.value for c in origin],
    }
    plan = (sections or {}).get(C.plan)
    if plan is not None:
        detail["plan_goals"] = [g.id for g in plan.goals]
        if plan.part2_withheld is not None:
            detail["plan_goals_withheld"] = plan.part2_withheld.value
    return detail


# --- search ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    """Search terms: part of a name or alias, a date of birth, or both. They travel in POST
    bodies, never in URLs, and are not written to the log."""

    name: str | None = None
    date_of_birth: date | None = None


@dataclass(frozen=True)
class SearchHit:
    person_id: int
    identity: Identity


@dataclass(frozen=True)
class SearchResults:
    hits: tuple[SearchHit, ...]
    purpose: Purpose
    policy_version: str
    log_seq: int


class SearchError(ValueError):
    """The search terms are not usable; nothing was searched."""


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _candidates(db: Session, query: SearchQuery) -> list[int]:
    conditions: list[ColumnElement[bool]] = []
    for term in (query.name or "").split():
        pattern = _like(term)
        alias = select(PersonAlias.person_id).where(
            col(PersonAlias.name).ilike(pattern, escape="\\")
        )
        conditions.append(
            or_(
                col(Person.first_name).ilike(pattern, escape="\\"),
                col(Person.last_name).ilike(pattern, escape="\\"),
                col(Person.id).in_(alias),
            )
        )
    if query.date_of_birth is not None:
        conditions.append(col(Person.date_of_birth) == query.date_of_birth)
    statement = select(Person.id).where(*conditions).order_by(col(Person.id)).limit(500)
    return [pid for pid in db.exec(statement).all() if pid is not None]


def disclose_search(
    db: Session, viewer: Viewer, query: SearchQuery, purpose: Purpose, actor: Actor
) -> SearchResults:
    """Finds clients by name, alias or date of birth and discloses their identity only, and
    only of those whose identity this viewer may see for this purpose; logs one entry listing
    the persons disclosed, and commits."""
    name = (query.name or "").strip()
    if len(name) < 2 and query.date_of_birth is None:
        raise SearchError("Give at least two letters of a name, or a date of birth.")
    with rollback_on_error(db):
        policy = policy_in_force(db)
        now = utcnow()
        candidates = _candidates(db, SearchQuery(name=name, date_of_birth=query.date_of_birth))
        basis: dict[int, str] = {}
        # At most MAX_SEARCH_RESULTS are shown, the first in id order whose identity the
        # policy discloses: gather and decide the candidates a chunk at a time and stop once
        # the page is full, instead of gathering facts for every candidate (up to 500). The
        # candidates after the last one shown were never shown, whether decided or not, so
        # the log's withheld_count (candidates not disclosed) is the same either way.
        for start in range(0, len(candidates), SEARCH_DECIDE_CHUNK):
            chunk = candidates[start : start + SEARCH_DECIDE_CHUNK]
            facts = gather_facts_many(db, viewer, chunk, now)
            for pid in chunk:
                decision = decide(viewer, facts[pid], purpose, policy)
                if C.identity in decision.disclosed:
                    basis[pid] = decision.disclosed[C.identity]
                if len(basis) == MAX_SEARCH_RESULTS:
                    break
            if len(basis) == MAX_SEARCH_RESULTS:
                break
        hits = _identities(db, sorted(basis))
        entry = append_and_commit(
            db,
            _log_actor(viewer, actor),
            Event(
                kind="disclosure",
                tag=DisclosureTag.client_search_read.value,
                outcome=(DisclosureOutcome.disclosed if hits else DisclosureOutcome.withheld).value,
                purpose=purpose.value,
                categories=[C.identity.value] if hits else [],
                policy_version=policy.version,
                detail={
                    "person_ids": sorted(basis),
                    "basis": {str(pid): b for pid, b in sorted(basis.items())},
                    "withheld_count": len(candidates) - len(basis),
                },
            ),
        )
    return SearchResults(
        hits=hits, purpose=purpose, policy_version=policy.version, log_seq=entry.seq
    )


def _identities(db: Session, person_ids: list[int]) -> tuple[SearchHit, ...]:
    if not person_ids:
        return ()
    aliases: dict[int, list[str]] = {}
    for pid, alias in db.exec(
        select(PersonAlias.person_id, PersonAlias.name)
        .where(col(PersonAlias.person_id).in_(person_ids))
        .order_by(col(PersonAlias.id))
    ).all():
        aliases.setdefault(pid, []).append(alias)
    rows = _rows(db, Person, {C.identity}, col(Person.id).in_(person_ids), Person.id)
    return tuple(
        SearchHit(
            person_id=row["id"],
            identity=_build(Identity, row, aliases=tuple(aliases.get(row["id"], []))),
        )
        for row in rows
    )


# --- lists ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityList:
    """Who the persons of a work list are (a queue, a list of referrals, duplicate candidates),
    as far as this viewer may know for this purpose. `identity(pid)` is the Identity or a
    WithheldCategory; `allows(pid, category)` says whether the caller may show its own fields
    of a further category (asked for with `with_categories`) next to that person."""

    purpose: Purpose
    policy_version: str
    log_seq: int | None  # None when the list was empty: nothing was read, nothing logged
    identities: Mapping[int, Identity]
    withheld: Mapping[int, WithheldReason]
    categories: Mapping[int, frozenset[Category]]

    def identity(self, person_id: int) -> Identity | WithheldCategory:
        found = self.identities.get(person_id)
        if found is not None:
            return found
        reason = self.withheld.get(person_id, WithheldReason.deny_by_default)
        return WithheldCategory(C.identity, reason)

    def allows(self, person_id: int, category: Category) -> bool:
        return category in self.categories.get(person_id, frozenset())


def disclose_identities(
    db: Session,
    viewer: Viewer,
    person_ids: Sequence[int],
    purpose: Purpose,
    actor: Actor,
    *,
    with_categories: Sequence[Category] = (),
    tag: DisclosureTag = DisclosureTag.client_list_read,
    with_identity: bool = True,
) -> IdentityList:
    """Identity (names, date of birth, aliases) of the listed persons whose identity this
    viewer may see for this purpose, and nothing of the others; decides `with_categories` per
    person too, for fields the caller shows from its own work list (a queue's offenses: legal).
    Logs one disclosure entry naming the persons and categories disclosed, and commits. An
    unknown id is left out; an empty list reads and logs nothing. `with_identity=False`: a
    page that names no one but shows its own fields of `with_categories` (a sergeant's
    overrides, a charging decision) decides and logs those only, and reads no identity."""
    ids = sorted(set(person_ids))
    policy = policy_in_force(db)
    if not ids:
        return IdentityList(purpose, policy.version, None, {}, {}, {})
    asked = {C.identity, *with_categories} if with_identity else set(with_categories)
    with rollback_on_error(db):
        facts = gather_facts_many(db, viewer, ids, utcnow())
        basis: dict[int, dict[Category, str]] = {}
        withheld: dict[int, WithheldReason] = {}
        for pid in sorted(facts):
            decision = decide(viewer, facts[pid], purpose, policy)
            granted = {c: b for c, b in decision.disclosed.items() if c in asked}
            if granted:
                basis[pid] = granted
            lead = C.identity if with_identity else with_categories[0]
            if lead not in decision.disclosed:
                withheld[pid] = decision.withheld[lead]
        identities = {
            hit.person_id: hit.identity
            for hit in _identities(db, sorted(p for p, b in basis.items() if C.identity in b))
        }
        disclosed = sorted(basis)
        entry = append_and_commit(
            db,
            _log_actor(viewer, actor),
            Event(
                kind="disclosure",
                tag=tag.value,
                outcome=(
                    DisclosureOutcome.disclosed if disclosed else DisclosureOutcome.withheld
                ).value,
                purpose=purpose.value,
                # An entry about one person names them, so it is found like a record read.
                person_id=disclosed[0] if len(disclosed) == 1 else None,
                categories=sorted({c.value for b in basis.values() for c in b}),
                policy_version=policy.version,
                detail={
                    "person_ids": disclosed,
                    "basis": {
                        str(pid): {c.value: v for c, v in sorted(b.items())}
                        for pid, b in sorted(basis.items())
                    },
                    "withheld": {str(pid): r.value for pid, r in sorted(withheld.items())},
                },
            ),
        )
    return IdentityList(
        purpose=purpose,
        policy_version=policy.version,
        log_seq=entry.seq,
        identities=identities,
        withheld=withheld,
        categories={pid: frozenset(b) for pid, b in basis.items()},
    )


def allowed_persons(
    db: Session, viewer: Viewer, person_ids: Collection[int], purpose: Purpose, category: Category
) -> frozenset[int]:
    """Which of these persons' `category` the policy lets this viewer see for this purpose. It
    decides and shows nothing, so it logs nothing: a work list uses it to order every row whose
    field it may not show the same way (the order gives nothing away) before it pages, and then
    discloses only the rows of the page with `disclose_identities`."""
    ids = sorted(set(person_ids))
    if not ids:
        return frozenset()
    policy = policy_in_force(db)
    facts = gather_facts_many(db, viewer, ids, utcnow())
    return frozenset(
        pid for pid, fact in facts.items() if allows(viewer, fact, purpose, category, policy)
    )


def names_person(entry_person_id: int | None, detail: Mapping[str, Any] | None, pid: int) -> bool:
    """Whether a disclosure-log entry is about this person: a record read names them, a list
    or search entry lists them in detail.person_ids."""
    if entry_person_id is not None:
        return entry_person_id == pid
    return pid in (detail or {}).get("person_ids", [])
