"""Reading a client record through the policy, and the disclosure log entry that goes with every
read.

    record = disclose_record(db, viewer, person_id, Purpose.case_management, actor)

reads only the columns and rows of the categories the decision allows (a withheld category's
rows are never loaded), appends one disclosure entry to the log and commits, all in one
transaction; if any of it fails the caller gets an exception and no data."""

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
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
from hub.db import ident, rollback_on_error, table_of, utcnow
from hub.disclosure.field_map import FIELD_MAP, C
from hub.disclosure.origin import allowed_rows, part2_origin, part2_persons
from hub.disclosure.policy import (
    Decision,
    decide,
    gather_facts,
)
from hub.disclosure.record_view import (
    ChargingDecisionEntry,
    ChargingMatterEntry,
    Contact,
    Demographics,
    DisclosedRecord,
    Engagement,
    Health,
    Housing,
    Identity,
    IntakeClock,
    Legal,
    NoteEntry,
    Plan,
    PlanGoalEntry,
    PriorMatterEntry,
    ReferralEntry,
    Referrals,
    Treatment,
    TreatmentEntry,
    WarrantEntry,
    WithheldCategory,
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


# Participation: enrolled and still in the program, engaged or not (no sanctions: LEAD).
_PARTICIPANT_STATUSES = frozenset(
    {
        ProgramStatus.enrolled,
        ProgramStatus.active,
        ProgramStatus.not_engaged,
        ProgramStatus.re_engaged,
    }
)


def _columns(table: type[SQLModel], categories: set[Category]) -> list[Any]:
    columns = table_of(table).c
    fields = FIELD_MAP[table_of(table).name]
    return [columns[name] for name, cat in fields.items() if cat in categories]


# The label of the record number a batched read groups its rows by (not client data).
_PERSON_LABEL = "_person_of_row"


def read_rows(
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


def build_entry(cls: type[T], row: Mapping[str, Any], **extra: Any) -> T:
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
    persons = _by_person(read_rows(db, Person, allowed, col(Person.id).in_(ids), key=Person.id))
    referrals = _by_person(
        read_rows(
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
            mine[C.identity] = build_entry(
                Identity, person_row, aliases=tuple(aliases.get(person_id, ()))
            )
        if C.demographics in allowed:
            mine[C.demographics] = build_entry(Demographics, person_row)
        if C.engagement in allowed:
            intake = tuple(build_entry(IntakeClock, r) for r in their_referrals)
            mine[C.engagement] = build_entry(Engagement, person_row, intake=intake)
        if C.referral in allowed:
            mine[C.referral] = Referrals(
                entries=tuple(build_entry(ReferralEntry, r) for r in their_referrals),
                record_created_at=person_row["created_at"],
                record_created_by_id=person_row["created_by_id"],
            )
        if C.legal in allowed:
            mine[C.legal] = legal[person_id]
        for category, by_person in single.items():
            mine[category] = by_person[person_id]
        if C.plan in allowed:
            mine[C.plan] = Plan(
                goals=tuple(build_entry(PlanGoalEntry, r) for r in goals.get(person_id, [])),
                # A placeholder: _withhold_segmented puts the decision's reason in its place.
                part2_withheld=WithheldReason.part2 if part2_goals_hidden else None,
            )
        if C.treatment in allowed:
            mine[C.treatment] = Treatment(
                entries=tuple(build_entry(TreatmentEntry, r) for r in treatment.get(person_id, []))
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
    columns = table_of(table).c
    where: ColumnElement[bool] = columns.person_id.in_(person_ids)
    label = None
    if part2_allowed is not None:
        where = and_(where, allowed_rows(table, part2_allowed))
        label = part2_origin(table)
    return _by_person(
        read_rows(db, table, allowed, where, columns.id, key=columns.person_id, part2=label)
    )


def _single_many(
    db: Session, table: type[SQLModel], cls: type[T], person_ids: list[int], part2_allowed: bool
) -> dict[int, T | Segmented]:
    """A one-row category of each client; Segmented where its row is Part 2 data by its source
    and may not be shown (that row is not read)."""
    (category,) = set(FIELD_MAP[table_of(table).name].values())
    assert isinstance(category, Category)
    person = table_of(table).c.person_id
    rows = _by_person(
        read_rows(
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
        p: build_entry(cls, rows[p][0])
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
        read_rows(
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
        read_rows(
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
        by_matter.setdefault(row["matter_id"], []).append(build_entry(ChargingDecisionEntry, row))
    # Earlier matters and warrants (hub.priors), newest first as a court docket reads.
    priors, warrants = (
        _by_person(
            read_rows(
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
                build_entry(ChargingMatterEntry, m, decisions=tuple(by_matter.get(m["id"], [])))
                for m in matters.get(person_id, [])
            ),
            prior_matters=tuple(
                sorted(
                    (build_entry(PriorMatterEntry, r) for r in priors.get(person_id, [])),
                    key=lambda p: (p.filed_on, p.id),
                    reverse=True,
                )
            ),
            warrants=tuple(
                sorted(
                    (build_entry(WarrantEntry, r) for r in warrants.get(person_id, [])),
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
            id=ident(n.id),
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


def actor_for_log(viewer: Viewer, actor: Actor) -> Actor:
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
            actor_for_log(viewer, actor),
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
