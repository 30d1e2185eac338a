"""The prosecutor's queue cut in SQL (hub.charging.queue_sql.office_queue) gives what the queue
in Python gave (queue_order.queue_keys and queue.cut_queue, the clock decided by the policy's
Python decision, record.allowed_persons): the same rows in the same order, the same totals and
counts for every filter, sort and page; so a clock the policy withholds is ordered, filtered and
counted as the Python decision says. The arrests and intakes fall around local midnight in the
site's zone (the shipped rules': America/Los_Angeles) and across a change of its clocks."""

import itertools
import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from alembic import command
from sqlmodel import select

from hub.charging import queue_order
from hub.charging.models import ChargingDecision, ChargingMatter, MatterDeputy
from hub.charging.queue import (
    OfficeFacts,
    QueueCut,
    QueueFilter,
    QueueOutcome,
    QueueSort,
    QueueState,
    cut_queue,
)
from hub.charging.queue_sql import office_queue
from hub.consents.models import Consent
from hub.db import alembic_config, clock_at
from hub.disclosure.grants_sql import clause_in_force
from hub.disclosure.identities import allowed_persons
from hub.disclosure.models import CourtOrder
from hub.referrals.officer_feedback import current_decisions
from hub.vocabulary import Category, ConsentKind, DecisionOutcome, Purpose, ReferralKind

# Just after the Pacific clocks went back (1 November 2026); 23:30 on 2 November there.
NOW = datetime(2026, 11, 3, 7, 30, tzinfo=UTC)
PURPOSE, ENGAGEMENT = Purpose.charging_decision, Category.engagement
SIZE = 7  # a small page, so that the walk crosses pages


def _local(day: date, at: time, world: Any) -> datetime:
    return datetime.combine(day, at, tzinfo=world.rules.tz).astimezone(UTC)


def _consent_2_35(world: Any, person_id: int, **terms: Any) -> None:
    fields: dict[str, Any] = {
        "person_id": person_id,
        "kind": ConsentKind.criminal_justice_referral,
        "discloser_agency_id": world.agencies["case_management"].id,
        "recipient_agency_id": world.agencies["county_prosecutor"].id,
        "categories": [ENGAGEMENT.value],
        "purposes": [PURPOSE.value],
        "description": "Attendance and engagement only.",
        "right_to_revoke": "Not before final disposition.",
        "expiry_event": "final disposition of the charges",
        "signed_by": "The client",
        "signature_on_file": True,
        "signed_on": NOW.date() - timedelta(days=3),
        "created_by_id": world.users["case_manager"].id,
    }
    world.db.add(Consent(**{**fields, **terms}))


def _decide(world: Any, matter_id: int, outcome: DecisionOutcome, **more: Any) -> int:
    decision = ChargingDecision(
        matter_id=matter_id,
        decided_by_id=world.users["county_prosecutor"].id,
        decided_at=NOW - timedelta(days=1),
        outcome=outcome,
        reason_codes=[],
        **more,
    )
    world.db.add(decision)
    world.db.flush()
    assert decision.id is not None
    return decision.id


@pytest.fixture
def office(world, db, factories):
    """Forty matters of the county prosecutor's office in every state of the clock and of the
    policy's answer on it, with deputies and decisions; and a few of another office."""
    rng = random.Random(15)
    office = world.agencies["county_prosecutor"].id
    prosecutor = world.users["county_prosecutor"]
    today = NOW.astimezone(world.rules.tz).date()
    for n in range(46):
        person = factories.Person()
        arrest_day = today - timedelta(days=rng.randrange(0, 40))
        # Half an hour either side of local midnight: the day is the site's, not UTC's.
        arrested_at = _local(arrest_day, rng.choice([time(0, 20), time(23, 40)]), world)
        referral_id = None
        if n % 6:  # a referral with its intake clock; otherwise a client's new arrest
            due = today + timedelta(days=rng.choice([-25, -1, 0, 3, 7, 8, 20]))
            screened = done = None
            if rng.random() < 0.6:
                screened = arrested_at + timedelta(hours=2)
            if rng.random() < 0.5:
                # Finished on the due day's last minutes, or just after it, local time.
                finished = rng.choice([time(23, 50), time(0, 10)])
                extra = 1 if finished == time(0, 10) else 0
                done = _local(due + timedelta(days=extra), finished, world)
                done = min(done, NOW - timedelta(minutes=5))
            referral = factories.Referral(
                person_id=person.id,
                referring_user=world.users["officer"],
                kind=ReferralKind.arrest,
                referred_at=arrested_at + timedelta(hours=1),
                case_management_agency_id=world.agencies["case_management"].id,
                forwarded_to_agency_id=office if rng.random() < 0.7 else None,
                intake_due_on=due,
                screening_done_at=screened,
                intake_done_at=done,
                withdrawn_at=NOW - timedelta(days=1) if n % 17 == 5 else None,
            )
            referral_id = referral.id
        agency = office if n < 42 else world.agencies["city_attorney"].id
        matter = ChargingMatter(
            person_id=person.id,
            referral_id=referral_id,
            prosecuting_agency_id=agency,
            offense_tracking_number=f"OTN-Q-{n}",
            offenses=["VUCSA-possession"],
            arrested_at=arrested_at,
        )
        db.add(matter)
        db.flush()
        assert matter.id is not None
        shown = rng.random()
        if shown < 0.35:
            _consent_2_35(world, person.id)
        elif shown < 0.45:
            _consent_2_35(world, person.id, revoked_at=NOW - timedelta(days=1))
        elif shown < 0.5:
            db.add(
                CourtOrder(
                    person_id=person.id,
                    recipient_agency_id=office,
                    categories=[ENGAGEMENT.value],
                    purposes=[PURPOSE.value],
                    court="Superior Court",
                    order_reference=f"26-1-{n:05d}-1",
                    rule="2.65",
                    scope="engagement for this charge",
                    issued_on=NOW.date() - timedelta(days=2),
                    recorded_by_id=world.users["privacy_officer"].id,
                    confirmed_by_id=world.users["coordinator"].id,
                    confirmed_at=NOW - timedelta(days=1),
                )
            )
        if n % 4 == 1:
            db.add(
                MatterDeputy(
                    matter_id=matter.id,
                    deputy_id=prosecutor.id,
                    assigned_by_id=prosecutor.id,
                    ended_at=NOW - timedelta(days=1) if n % 8 == 1 else None,
                )
            )
        kind = n % 9
        if kind == 2:
            _decide(world, matter.id, DecisionOutcome.more_information)
        elif kind == 3:
            _decide(world, matter.id, DecisionOutcome.divert)  # decided: out of the queue
        elif kind == 4:  # more information asked, then superseded by a decision
            first = _decide(world, matter.id, DecisionOutcome.more_information)
            _decide(world, matter.id, DecisionOutcome.file, supersedes_id=first)
        elif kind == 5:  # a decision corrected into a request for more information
            first = _decide(world, matter.id, DecisionOutcome.decline)
            _decide(world, matter.id, DecisionOutcome.more_information, supersedes_id=first)
        elif kind == 6:  # more information asked, then a decision (not a correction)
            _decide(world, matter.id, DecisionOutcome.more_information)
            _decide(world, matter.id, DecisionOutcome.decline)
    db.commit()
    return today


def _filters(deputy_id: int) -> list[QueueFilter]:
    return [
        *(QueueFilter(sort=o) for o in QueueSort),
        *(QueueFilter(state=s) for s in QueueState),
        *(QueueFilter(state=s, sort=o) for s in (QueueState.not_shared, QueueState.near)
          for o in (QueueSort.arrest, QueueSort.due)),
        *(QueueFilter(outcome=u) for u in QueueOutcome),
        QueueFilter(unassigned=True, sort=QueueSort.due),
        QueueFilter(deputy_id=deputy_id, state=QueueState.not_shared),
        QueueFilter(deputy_id, outcome=QueueOutcome.awaiting, sort=QueueSort.arrest),
    ]  # fmt: skip


def _cut(cut: QueueCut, counts: bool) -> tuple[Any, ...]:
    """The rows (without the clock's answer, which the SQL asks only where it is needed), the
    total and, asked for, the counts."""
    rows = [(replace(k.key, clock_shown=None), k.deputy_id, k.more_information) for k in cut.keys]
    return rows, cut.total, cut.counts if counts else None


def test_the_queue_in_sql_is_the_queue_the_policy_decided_in_python(world, db, office):
    viewer = world.viewer("county_prosecutor")
    with clock_at(NOW):
        clause = clause_in_force(db, viewer, PURPOSE, ENGAGEMENT)
        assert clause is not None
        # The keys carry the SQL condition's answer as the SQL path's do (test_grants_sql checks
        # it against the policy); the cut decides with the policy's Python decision.
        keys = queue_order.queue_keys(db, viewer, office, rules=world.rules, clock_shown=clause)

        allowed = allowed_persons(db, viewer, {k.person_id for k in keys}, PURPOSE, ENGAGEMENT)

        def decided(persons):
            return allowed.intersection(persons)

        seen: set[QueueState] = set()
        deputy = world.users["county_prosecutor"].id
        for (wanted, offset), counts in zip(
            itertools.product(_filters(deputy), (0, 2 * SIZE)), itertools.cycle((True, False))
        ):
            facts = OfficeFacts(db, viewer.agency_id)
            python = cut_queue(keys, wanted, offset, SIZE, decided, facts, count_states=counts)
            sql = office_queue(
                db, viewer, office, NOW, wanted, offset, SIZE, clause, rules=world.rules,
                count_states=counts,
            )  # fmt: skip
            assert _cut(sql, counts) == _cut(python, counts), (wanted, offset)
            if counts:  # the counts alone, as /charging/counts asks
                alone = office_queue(
                    db, viewer, office, NOW, wanted, 0, 0, clause, rules=world.rules,
                    count_states=True,
                )  # fmt: skip
                assert (alone.keys, alone.total, alone.counts) == ([], sql.total, sql.counts)
            seen |= {s for s, n in sql.counts.items() if n}
    # The queue holds every state, the withheld clocks ("not shared") among them.
    assert seen == set(QueueState)
    assert len(keys) > 2 * SIZE


def _standing(db: Any) -> dict[int, DecisionOutcome | None]:
    return dict(db.exec(select(ChargingMatter.id, ChargingMatter.standing_outcome)).all())


def test_each_matter_keeps_its_newest_decisions_outcome_and_the_migration_fills_it(
    world, db, office
):
    """The SQL cut reads the standing outcome kept on the matter; the Python cut walks the
    decisions. Kept by the trigger as the decisions went in, and filled by migration 0011que
    from the decisions already there, it is the standing decision's outcome."""
    matters = list(_standing(db))
    expected = {m: None for m in matters} | {
        m: d.outcome for m, d in current_decisions(db, matters).items()
    }
    assert set(expected.values()) == {None, *DecisionOutcome}
    assert _standing(db) == expected
    db.close()
    command.downgrade(alembic_config(), "0010que")
    command.upgrade(alembic_config(), "0011que")
    assert _standing(db) == expected


def test_without_a_state_asked_the_sql_reads_no_clock(world, db, office):
    """Sorted by arrest or due date, unfiltered by state and uncounted: no policy condition."""
    viewer = world.viewer("county_prosecutor")
    with clock_at(NOW):
        keys = queue_order.queue_keys(db, viewer, office, rules=world.rules)
        for sort in (QueueSort.arrest, QueueSort.due):
            wanted = QueueFilter(sort=sort)
            python = cut_queue(
                keys, wanted, SIZE, SIZE, lambda p: [], OfficeFacts(db, viewer.agency_id)
            )
            sql = office_queue(db, viewer, office, NOW, wanted, SIZE, SIZE, None, rules=world.rules)
            assert sql == python
            assert all(k.key.clock_shown is None for k in sql.keys)
        with pytest.raises(ValueError):
            office_queue(db, viewer, office, NOW, QueueFilter(), 0, SIZE, None, rules=world.rules)
