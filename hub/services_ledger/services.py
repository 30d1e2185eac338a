"""Recording services and bridges, and the ledger's monthly totals.

Non-displacement (LEAD): program money bridges a client until their turn on a public waiting
list comes; it does not jump the list or keep paying once the public service is theirs. A
bridge payment dated after the turn came is displacement: it is recorded (the money was spent)
but flagged on the ledger, logged as a security event and told to the program office's
coordinators, so that someone looks at it."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import extract
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append, append_and_commit, append_refusal
from hub.caserecord.writing import (
    WriteGrant,
    record_section_change,
    require_write,
    section_version,
)
from hub.clients.models import PlanGoal
from hub.db import rollback_on_error, utcnow
from hub.disclosure.plans import viewer_actor
from hub.notifications.services import notify, users_with_role
from hub.plans.forms import FormErrors, bounded_date, choice
from hub.services_ledger.models import KIND_CATEGORY, ServiceRecord, displaces, is_bridge
from hub.vocabulary import (
    Action,
    DisclosureOutcome,
    DisclosureTag,
    FundingSource,
    NotificationKind,
    Purpose,
    Role,
    SecurityEventTag,
    ServiceKind,
)

# A service is recorded after it was given, within two years; a turn date likewise.
SERVICE_DATE_PAST = timedelta(days=2 * 366)
MAX_UNITS = 10_000
MAX_COST_CENTS = 100_000_000  # one million dollars: a typing mistake beyond that
MAX_PLACE = 1_000_000


class ServiceNotFound(LookupError):
    """No service of that number for this client (or not one this viewer may write)."""


class ServiceForm(BaseModel):
    """A service given or bought; text fields, so every mistake is answered at once."""

    kind: str = Field(default="", max_length=32)
    provider: str = Field(default="", max_length=200)
    provided_on: str = Field(default="", max_length=10)
    units: str = Field(default="1", max_length=10)
    cost: str = Field(default="0", max_length=16)  # dollars and cents, as typed: 125.50
    funding_source: str = Field(default="", max_length=32)
    goal_id: str = Field(default="", max_length=10)
    waitlist: str = Field(default="", max_length=200)
    waitlist_place: str = Field(default="", max_length=10)
    turn_came_on: str = Field(default="", max_length=10)


class TurnForm(BaseModel):
    """The day the client's turn on the public list came: the bridge ends then."""

    turn_came_on: str = Field(default="", max_length=10)


def _number(text: str, field: str, errors: dict[str, str], low: int, high: int) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        errors[field] = f"A whole number from {low} to {high}."
        return None
    return int(text)


def _cents(text: str, errors: dict[str, str]) -> int | None:
    text = text.strip().lstrip("$").replace(",", "")
    dollars, _, cents = text.partition(".")
    if not dollars.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
        errors["cost"] = "An amount in dollars and cents, such as 125.50."
        return None
    value = int(dollars) * 100 + int(cents.ljust(2, "0") or 0)
    if value > MAX_COST_CENTS:
        errors["cost"] = f"At most {MAX_COST_CENTS // 100} dollars."
        return None
    return value


def _refused(db: Session, actor: Actor, person_id: int, **record: int) -> None:
    # Another client's goal or service, or none: a refused access (ASVS V16), numbers only.
    db.rollback()
    append_refusal(
        db, actor, {"action": Action.record_write.value, "person_id": person_id, **record}
    )


def service_value(service: ServiceRecord) -> dict[str, object]:
    """A service as its history keeps it (record_change, sealed at rest)."""
    return {
        name: getattr(service, name).value if name in ("kind", "funding_source") else value
        for name, value in service.model_dump().items()
        if name not in ("id", "person_id", "created_at", "recorded_by_id")
    }


def _history(
    db: Session,
    viewer: Viewer,
    actor: Actor,
    grant: WriteGrant,
    service: ServiceRecord,
    previous: dict[str, object] | None,
) -> None:
    section = f"service:{service.id}"
    record_section_change(
        db,
        viewer,
        actor,
        service.person_id,
        section,
        grant.category,
        based_on=section_version(db, service.person_id, section),
        previous=previous,
        saved=service_value(service),
        previous_recorded_by_id=service.recorded_by_id if previous else None,
        write_policy_version=grant.write_policy_version,
    )


def _known_turn(db: Session, person_id: int, waitlist: str) -> date | None:
    """The day the client's turn on this list came, if a bridge on it already says so."""
    known = db.exec(
        select(ServiceRecord).where(
            ServiceRecord.person_id == person_id,
            ServiceRecord.waitlist == waitlist,
            col(ServiceRecord.turn_came_on).is_not(None),
        )
    ).first()
    return known.turn_came_on if known else None


def _flag_displacement(db: Session, actor: Actor, service: ServiceRecord) -> None:
    """Logs a displacement and tells the program office (no personal data in the note)."""
    append(
        db,
        actor,
        Event(
            kind="security",
            tag=SecurityEventTag.bridge_displacement.value,
            outcome="success",
            purpose=Purpose.case_management.value,
            person_id=service.person_id,
            categories=[KIND_CATEGORY[service.kind].value],
            detail={"service_id": service.id, "funding_source": service.funding_source.value},
        ),
    )
    notify(
        db,
        users_with_role(db, Role.coordinator),
        NotificationKind.bridge_displacement,
        "/services/totals",
        f"bridge_displacement:{service.id}",
    )


def record_service(
    db: Session, viewer: Viewer, person_id: int, form: ServiceForm, actor: Actor, today: date
) -> ServiceRecord:
    """Records a service given or bought; raises FormErrors (every field at once),
    WriteRefused or PersonNotFound, and changes nothing then. A bridge paid after the
    client's turn came is recorded and flagged as displacement."""
    errors: dict[str, str] = {}
    kind = choice(ServiceKind, form.kind, "kind", errors)
    source = choice(FundingSource, form.funding_source, "funding_source", errors)
    provider = form.provider.strip()
    if not provider:
        errors["provider"] = "Name who gave or sold the service."
    provided_on = bounded_date(
        form.provided_on, "provided_on", errors, today, past=SERVICE_DATE_PAST, future=timedelta()
    )
    if provided_on is None and "provided_on" not in errors:
        errors["provided_on"] = "The day the service was given."
    units = _number(form.units, "units", errors, 1, MAX_UNITS) or 1
    cost = _cents(form.cost, errors)
    goal_id = _number(form.goal_id, "goal_id", errors, 1, 2**31 - 1)
    waitlist = form.waitlist.strip() or None
    place = _number(form.waitlist_place, "waitlist_place", errors, 1, MAX_PLACE)
    turn = bounded_date(
        form.turn_came_on, "turn_came_on", errors, today, past=SERVICE_DATE_PAST, future=timedelta()
    )
    if waitlist and source is not None and source != FundingSource.lead:
        errors["waitlist"] = "Only a LEAD-funded service bridges a public waiting list."
    if waitlist and place is None and "waitlist_place" not in errors:
        errors["waitlist_place"] = "A bridge names the client's place on the list."
    if (place is not None or turn is not None) and not waitlist:
        errors["waitlist"] = "Name the public waiting list this service bridges."
    if errors:
        raise FormErrors(errors)
    assert kind is not None and source is not None and provided_on is not None
    category = KIND_CATEGORY[kind]
    with rollback_on_error(db):
        grant = require_write(db, viewer, person_id, category, actor)
        if (
            goal_id is not None
            and not db.exec(
                select(PlanGoal.id).where(PlanGoal.id == goal_id, PlanGoal.person_id == person_id)
            ).first()
        ):
            _refused(db, actor, person_id, goal_id=goal_id)
            raise FormErrors({"goal_id": "No goal of that number for this client."})
        if waitlist and turn is None:
            turn = _known_turn(db, person_id, waitlist)
        service = ServiceRecord(
            person_id=person_id,
            goal_id=goal_id,
            kind=kind,
            provider=provider,
            provided_on=provided_on,
            units=units,
            cost_cents=cost or 0,
            funding_source=source,
            waitlist=waitlist,
            waitlist_place=place,
            turn_came_on=turn,
            created_at=utcnow(),
            recorded_by_id=viewer.user_id,
        )
        db.add(service)
        db.flush()
        _history(db, viewer, actor, grant, service, None)
        if displaces(service):
            _flag_displacement(db, actor, service)
        append_and_commit(
            db,
            actor,
            Event(
                kind="security",
                tag=SecurityEventTag.service_recorded.value,
                outcome="success",
                purpose=Purpose.case_management.value,
                person_id=person_id,
                categories=[category.value],
                policy_version=grant.read.policy_version,
                detail={"service_id": service.id, "change": "added", "bridge": is_bridge(service)},
            ),
        )
        return service


def record_turn(
    db: Session,
    viewer: Viewer,
    person_id: int,
    service_id: int,
    form: TurnForm,
    actor: Actor,
    today: date,
) -> list[int]:
    """Records the day the client's turn on the bridged list came, on every bridge of theirs on
    that list; flags the bridge payments dated after it. Returns the ids flagged."""
    errors: dict[str, str] = {}
    turn = bounded_date(
        form.turn_came_on, "turn_came_on", errors, today, past=SERVICE_DATE_PAST, future=timedelta()
    )
    if turn is None and not errors:
        errors["turn_came_on"] = "The day the client's turn came."
    if errors:
        raise FormErrors(errors)
    with rollback_on_error(db):
        service = db.exec(
            select(ServiceRecord).where(
                ServiceRecord.id == service_id, ServiceRecord.person_id == person_id
            )
        ).first()
        if service is None or not is_bridge(service):
            _refused(db, actor, person_id, service_id=service_id)
            raise ServiceNotFound("No bridge of that number for this client.")
        grant = require_write(db, viewer, person_id, KIND_CATEGORY[service.kind], actor)
        bridges = db.exec(
            select(ServiceRecord).where(
                ServiceRecord.person_id == person_id, ServiceRecord.waitlist == service.waitlist
            )
        ).all()
        flagged: list[int] = []
        for bridge in bridges:
            already, previous = displaces(bridge), service_value(bridge)
            bridge.turn_came_on = turn
            db.add(bridge)
            db.flush()
            _history(db, viewer, actor, grant, bridge, previous)
            if displaces(bridge) and not already:
                _flag_displacement(db, actor, bridge)
                flagged.append(bridge.id or 0)
        append_and_commit(
            db,
            actor,
            Event(
                kind="security",
                tag=SecurityEventTag.service_recorded.value,
                outcome="success",
                purpose=Purpose.case_management.value,
                person_id=person_id,
                categories=[KIND_CATEGORY[service.kind].value],
                policy_version=grant.read.policy_version,
                detail={"service_id": service_id, "change": "turn_came", "flagged": flagged},
            ),
        )
        return flagged


# --- the program office's monthly totals ----------------------------------------------------


@dataclass(frozen=True)
class MonthTotal:
    month: int
    funding_source: FundingSource
    services: int
    units: int
    cost_cents: int
    displacement_cents: int  # bridge payments after the client's turn came


@dataclass(frozen=True)
class ServiceTotals:
    """An aggregate: counts and sums per month and funding source, no one named."""

    year: int
    rows: tuple[MonthTotal, ...]
    by_source: dict[FundingSource, int]  # cents over the year
    total_cents: int
    displacement_cents: int
    log_seq: int


def service_totals(db: Session, viewer: Viewer, year: int, actor: Actor) -> ServiceTotals:
    """Monthly totals per funding source for the program office; logged as an aggregate
    disclosure (no one named, the year and the categories summed) in the read's transaction."""
    with rollback_on_error(db):
        services = db.exec(
            select(ServiceRecord).where(extract("year", col(ServiceRecord.provided_on)) == year)
        ).all()
        sums: dict[tuple[int, FundingSource], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for s in services:
            row = sums[(s.provided_on.month, s.funding_source)]
            row[0] += 1
            row[1] += s.units
            row[2] += s.cost_cents
            row[3] += s.cost_cents if displaces(s) else 0
        rows = tuple(
            MonthTotal(month, source, *values)
            for (month, source), values in sorted(
                sums.items(), key=lambda i: (i[0][0], list(FundingSource).index(i[0][1]))
            )
        )
        by_source = {
            source: sum(r.cost_cents for r in rows if r.funding_source == source)
            for source in FundingSource
        }
        categories = sorted({KIND_CATEGORY[s.kind].value for s in services})
        entry = append_and_commit(
            db,
            viewer_actor(viewer, actor),
            Event(
                kind="disclosure",
                tag=DisclosureTag.service_totals_read.value,
                outcome=DisclosureOutcome.disclosed.value,
                purpose=Purpose.oversight.value,
                categories=categories,
                detail={"aggregate": "service_totals", "year": year, "services": len(services)},
            ),
        )
    return ServiceTotals(
        year=year,
        rows=rows,
        by_source=by_source,
        total_cents=sum(by_source.values()),
        displacement_cents=sum(r.displacement_cents for r in rows),
        log_seq=entry.seq,
    )
