"""hub.disclosure.grants_sql states the policy's answer for one category in SQL (the prosecutor's
queue orders, filters and counts by the intake clock with it): it must answer exactly as the
policy layer's Python decision (policy.allows on gather_facts_many) for every consent state,
court order, role, purpose and category."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from hub.clients.models import Person
from hub.consents.models import Consent
from hub.disclosure.grants_sql import allowed_clause
from hub.disclosure.models import CourtOrder
from hub.disclosure.policy import allows, gather_facts_many
from hub.disclosure.releases import policy_in_force
from hub.vocabulary import AgencyKind, Category, ConsentKind, Purpose, Relationship

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()


def _consent(world: Any, person_id: int, **terms: Any) -> None:
    fields: dict[str, Any] = {
        "person_id": person_id,
        "kind": ConsentKind.criminal_justice_referral,
        "discloser_agency_id": world.agencies["case_management"].id,
        "recipient_agency_id": world.agencies["county_prosecutor"].id,
        "categories": [Category.engagement.value],
        "purposes": [Purpose.charging_decision.value, Purpose.work_group.value],
        "description": "Attendance and engagement only.",
        "right_to_revoke": "Not before final disposition.",
        "expiry_event": "final disposition of the charges",
        "signed_by": "The client",
        "signature_on_file": True,
        "signed_on": TODAY - timedelta(days=3),
        "created_by_id": world.users["case_manager"].id,
    }
    fields.update(terms)
    world.db.add(Consent(**fields))


def _everything(world: Any, person_id: int, kind: ConsentKind) -> None:
    """A consent of this kind to the office for every category and purpose."""
    every = {"categories": [c.value for c in Category], "purposes": [u.value for u in Purpose]}
    _consent(world, person_id, kind=kind, **every)


def _order(world: Any, person_id: int, **terms: Any) -> None:
    fields: dict[str, Any] = {
        "person_id": person_id,
        "recipient_agency_id": world.agencies["county_prosecutor"].id,
        "categories": [Category.engagement.value, Category.health.value],
        "purposes": [Purpose.charging_decision.value],
        "court": "Superior Court",
        "order_reference": "26-1-00001-1",
        "rule": "2.65",
        "scope": "engagement for this charge",
        "issued_on": TODAY - timedelta(days=1),
        "recorded_by_id": world.users["privacy_officer"].id,
        "confirmed_by_id": world.users["coordinator"].id,
        "confirmed_at": NOW - timedelta(hours=1),
    }
    fields.update(terms)
    world.db.add(CourtOrder(**fields))


def _clients(world: Any) -> list[int]:
    """One client with an office matter per consent or court-order state."""
    office = world.agencies["county_prosecutor"].id
    states: list[tuple[str, Any]] = [
        ("absent", None),
        ("2.35", lambda p: _consent(world, p)),
        (
            "2.35 naming the prosecutor",
            lambda p: _consent(
                world,
                p,
                recipient_agency_id=None,
                recipient_user_id=world.users["county_prosecutor"].id,
            ),
        ),
        (
            "2.35 to every prosecution agency",
            lambda p: _consent(
                world, p, recipient_agency_id=None, recipient_agency_kind=AgencyKind.prosecution
            ),
        ),
        (
            "2.35 to another office",
            lambda p: _consent(world, p, recipient_agency_id=world.agencies["city_attorney"].id),
        ),
        ("present (Part 2, all categories)", lambda p: _everything(world, p, ConsentKind.part2)),
        ("present (general, all categories)", lambda p: _everything(world, p, ConsentKind.general)),
        ("revoked", lambda p: _consent(world, p, revoked_at=NOW - timedelta(days=1))),
        ("revoked later", lambda p: _consent(world, p, revoked_at=NOW + timedelta(days=1))),
        ("expired", lambda p: _consent(world, p, expires_on=TODAY - timedelta(days=1))),
        ("expires today", lambda p: _consent(world, p, expires_on=TODAY)),
        ("expiry event", lambda p: _consent(world, p, expiry_event_at=NOW - timedelta(hours=1))),
        ("not yet signed", lambda p: _consent(world, p, signed_on=TODAY + timedelta(days=1))),
        ("incomplete", lambda p: _consent(world, p, right_to_revoke=" \t")),
        ("no expiry", lambda p: _consent(world, p, expiry_event="  ")),
        ("no signature on file", lambda p: _consent(world, p, signature_on_file=False)),
        ("other purpose", lambda p: _consent(world, p, purposes=[Purpose.oversight.value])),
        ("court order", lambda p: _order(world, p)),
        ("court order, unconfirmed", lambda p: _order(world, p, confirmed_at=None)),
        ("court order, expired", lambda p: _order(world, p, expires_on=TODAY - timedelta(days=1))),
        ("court order, future", lambda p: _order(world, p, issued_on=TODAY + timedelta(days=1))),
        (
            "court order, other office",
            lambda p: _order(world, p, recipient_agency_id=world.agencies["city_attorney"].id),
        ),
    ]
    ids = []
    for _name, make in states:
        referral, matter = world.arrest()
        assert matter.prosecuting_agency_id == office
        if make is not None:
            make(referral.person_id)
        ids.append(referral.person_id)
    ids.append(world.referred_person().id)  # no matter at any office
    world.db.commit()
    return ids


def test_the_sql_answers_as_the_policy_for_every_consent_state_and_court_order(world):
    db = world.db
    ids = _clients(world)
    policy = policy_in_force(db)
    compared = 0
    for name in ("county_prosecutor", "city_prosecutor", "case_manager", "officer", "defender"):
        viewer = world.viewer(name)
        facts = gather_facts_many(db, viewer, ids, NOW)
        for purpose in Purpose:
            for category in Category:
                clause = allowed_clause(viewer, col(Person.id), purpose, category, policy, NOW)
                if clause is None:
                    continue
                in_sql = set(db.exec(select(Person.id).where(col(Person.id).in_(ids), clause)))
                in_python = {p for p in ids if allows(viewer, facts[p], purpose, category, policy)}
                assert in_sql == in_python, (name, purpose, category)
                compared += 1
    # The queue's question is among them, and it has its answer in SQL.
    prosecutor = world.viewer("county_prosecutor")
    assert (
        allowed_clause(
            prosecutor, col(Person.id), Purpose.charging_decision, Category.engagement, policy, NOW
        )
        is not None
    )
    assert compared > 100


def test_the_queue_question_sees_only_2_35_consents_and_court_orders(world):
    db = world.db
    ids = _clients(world)
    prosecutor = world.viewer("county_prosecutor")
    clause = allowed_clause(
        prosecutor,
        col(Person.id),
        Purpose.charging_decision,
        Category.engagement,
        policy_in_force(db),
        NOW,
    )
    assert clause is not None
    shown = set(db.exec(select(Person.id).where(col(Person.id).in_(ids), clause)))
    # 2.35 (office, prosecutor, every prosecution agency), expiring today; the court order.
    # (A consent revoked even for later counts as revoked, as gather_facts_many reads it.)
    assert sorted(ids.index(p) for p in shown) == [1, 2, 3, 10, 17]


def test_a_relationship_the_query_guarantees_changes_no_answer_where_it_holds(world):
    """The queue names office_matter as given (every row is a matter of the office): for the
    persons with a matter there the answer is the same, and only the relationship is not read."""
    db = world.db
    ids = _clients(world)[:-1]  # the last has no matter at any office
    prosecutor = world.viewer("county_prosecutor")
    policy = policy_in_force(db)
    question = (Purpose.charging_decision, Category.engagement, policy, NOW)
    given = allowed_clause(
        prosecutor, col(Person.id), *question, frozenset({Relationship.office_matter})
    )
    asked = allowed_clause(prosecutor, col(Person.id), *question)
    assert given is not None and asked is not None
    in_office = col(Person.id).in_(ids)
    assert set(db.exec(select(Person.id).where(in_office, given))) == set(
        db.exec(select(Person.id).where(in_office, asked))
    )
    assert "charging_matter" not in str(given) and "charging_matter" in str(asked)
