"""Issue 15, item 4 (the defender's side): "my clients" lists each current client's matters,
decisions, intake due dates, court dates and flags; the defense page sorts decisions by date."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from hub.charging.deciding import record_decision
from hub.charging.defense_decisions import defense_decisions
from hub.charging.models import ChargingDecision
from hub.clients.models import ClientAssignment
from hub.db import ident
from hub.defense.services import defense_clients
from hub.hearings.services import HearingDetails, set_hearing
from hub.vocabulary import AssignmentKind, DecisionOutcome, HearingKind, Role

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)


def appoint(world, person_id, user="defender", **fields):
    world.db.add(
        ClientAssignment(
            person_id=person_id,
            user_id=world.users[user].id,
            kind=AssignmentKind.defense,
            **fields,
        )
    )
    world.db.commit()


@pytest.fixture
def clients(world):
    world.add_user("other_defender", Role.defender, "defense")
    open_referral, open_matter = world.arrest(now=NOW - timedelta(days=3))
    decided_referral, decided_matter = world.arrest(now=NOW - timedelta(days=5))
    ended_referral, _ = world.arrest(now=NOW - timedelta(days=6))
    appoint(world, open_referral.person_id, started_at=NOW - timedelta(days=1))
    appoint(world, decided_referral.person_id, started_at=NOW - timedelta(days=2))
    appoint(world, ended_referral.person_id, ended_at=NOW - timedelta(hours=1))
    record_decision(
        world.db,
        world.viewer("county_prosecutor"),
        decided_matter.id,
        "decline",
        ["insufficient-evidence"],
        None,
        [],
        world.actor("county_prosecutor"),
        rules=world.rules,
    )
    with mock.patch("hub.hearings.services.utcnow", return_value=NOW):
        for days in (20, 6):
            set_hearing(
                world.db,
                world.viewer("county_prosecutor"),
                open_matter.id,
                HearingDetails(HearingKind.pretrial, NOW + timedelta(days=days), "W-7"),
                world.actor("county_prosecutor"),
            )
    return open_referral, open_matter, decided_referral, decided_matter


def test_my_clients_shows_matters_decisions_due_dates_and_the_next_court_date(world, clients):
    open_referral, open_matter, decided_referral, _ = clients
    lines = defense_clients(world.db, world.viewer("defender"), NOW, world.rules.tz)
    assert [c.person_id for c in lines] == [open_referral.person_id, decided_referral.person_id]
    [waiting] = lines[0].matters
    assert (waiting.matter_id, waiting.open, waiting.standing_outcome) == (
        open_matter.id,
        True,
        None,
    )
    assert waiting.intake_due_on == open_referral.intake_due_on
    assert waiting.next_court_date == "2026-12-09 10:00 PST"
    [decided] = lines[1].matters
    assert (decided.open, decided.standing_outcome) == (False, DecisionOutcome.decline)
    assert decided.next_court_date is None
    assert defense_clients(world.db, world.viewer("other_defender"), NOW, world.rules.tz) == []


def test_the_page_lists_only_the_defenders_clients(world, clients, sign_in):
    _, open_matter, _, _ = clients
    page = sign_in(user=world.users["defender"]).client.get("/defense/clients")
    assert page.status_code == 200
    assert open_matter.offense_tracking_number in page.text
    assert "awaiting a decision" in page.text and "decline" in page.text
    other = sign_in(user=world.users["other_defender"]).client.get("/defense/clients")
    assert open_matter.offense_tracking_number not in other.text
    assert "No clients are appointed to you." in other.text
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    assert prosecutor.client.get("/defense/clients").status_code == 403


def test_decisions_are_newest_first_by_date_and_say_when_nothing_reached_the_prosecutor(
    world, sign_in
):
    referral, first = world.arrest(now=NOW - timedelta(days=4))
    other, second = world.arrest(now=NOW - timedelta(days=4))
    appoint(world, referral.person_id)
    appoint(world, other.person_id)
    # Recorded in this order (ids rise) but decided the other way round (an imported decision,
    # say): the page goes by the date.
    later = ChargingDecision(
        matter_id=first.id,
        decided_by_id=world.users["county_prosecutor"].id,
        decided_at=NOW - timedelta(days=1),
        outcome=DecisionOutcome.decline,
        reason_codes=["insufficient-evidence"],
    )
    earlier = ChargingDecision(
        matter_id=second.id,
        decided_by_id=world.users["county_prosecutor"].id,
        decided_at=NOW - timedelta(days=3),
        outcome=DecisionOutcome.decline,
        reason_codes=["insufficient-evidence"],
    )
    for decision in (later, earlier):
        world.db.add(decision)
        world.db.commit()
    assert ident(later.id) < ident(earlier.id)
    items = defense_decisions(world.db, world.viewer("defender"))
    assert [i.decision_id for i in items] == [later.id, earlier.id]
    page = sign_in(user=world.users["defender"]).client.get("/defense").text
    assert "Nothing about the client reached the prosecutor" in page
    assert "0 (0 material)" not in page
