"""Issue 15's "Done when", through the pages (the period report belongs to another branch):
an officer of another agency reports a participant's arrest with a victim; the matter is in
the prosecutor's queue as a new arrest; the defender appointed to the client sees the matter
and its court date, another defender does not; the prosecutor files with harm-to-victim."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

from sqlmodel import select

from hub.arrests.models import ArrestReport
from hub.charging.models import ChargingDecision
from hub.clients.models import ClientAssignment
from hub.vocabulary import AssignmentKind, DecisionOutcome, ProgramStatus, Role

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)


def test_an_arrest_from_another_agency_reaches_the_queue_the_defender_and_a_filing(world, sign_in):
    person = world.factories.Person(
        first_name="Teodoro",
        last_name="Aldana-Whitcomb",
        date_of_birth=date(1979, 9, 30),
        program_status=ProgramStatus.active,
    )
    world.db.add(
        ClientAssignment(
            person_id=person.id, user_id=world.users["defender"].id, kind=AssignmentKind.defense
        )
    )
    world.db.commit()
    world.add_user("deputy", Role.officer, "other_police")
    world.add_user("other_defender", Role.defender, "defense")
    with (
        mock.patch("hub.arrests.services.utcnow", return_value=NOW),
        mock.patch("hub.hearings.services.utcnow", return_value=NOW),
        mock.patch("hub.hearings.routes.utcnow", return_value=NOW - timedelta(days=1)),
    ):
        deputy = sign_in(user=world.users["deputy"])
        reported = deputy.post(
            "/arrests/new",
            data={
                "first_name": "Teodoro",
                "last_name": "Aldana-Whitcomb",
                "date_of_birth": "1979-09-30",
                "offense_code": "assault-4",
                "offense_description": "Assault in the fourth degree",
                "offense_level": "misdemeanor",
                "has_victim": "true",
                "arrested_at": "2026-12-03T08:15",
                "place": "Occidental Park",
                "offense_tracking_number": "OTN-DONE-1",
            },
        )
        assert reported.status_code == 201
        assert "Aldana" not in reported.text
        report = world.db.exec(select(ArrestReport)).one()
        matter_id = report.matter_id
        world.db.commit()

        prosecutor = sign_in(user=world.users["city_prosecutor"])
        queue = prosecutor.client.get("/charging").text
        assert f"/charging/matters/{matter_id}" in queue and "new arrest" in queue
        matter_page = prosecutor.client.get(f"/charging/matters/{matter_id}").text
        assert "Assault in the fourth degree" in matter_page and "with a victim" in matter_page
        set_date = prosecutor.post(
            f"/charging/matters/{matter_id}/hearings",
            data={"kind": "arraignment", "starts_at": "2026-12-10T09:00", "courtroom": "CC-3"},
            follow_redirects=False,
        )
        assert set_date.status_code == 303

        defender = sign_in(user=world.users["defender"])
        seen = defender.client.get(f"/charging/matters/{matter_id}/hearings").text
        assert "OTN-DONE-1" in seen and "2026-12-10 09:00 PST" in seen and "CC-3" in seen
        assert "2026-12-10 09:00 PST" in defender.client.get("/calendar").text
        other = sign_in(user=world.users["other_defender"])
        assert other.client.get(f"/charging/matters/{matter_id}/hearings").status_code == 404
        assert "OTN-DONE-1" not in other.client.get("/calendar").text

    filed = prosecutor.post(
        f"/charging/matters/{matter_id}/decisions",
        data={"outcome": "file", "reason_codes": ["harm-to-victim"], "note": ""},
        follow_redirects=False,
    )
    assert filed.status_code == 303, filed.text
    decision = world.db.exec(select(ChargingDecision)).one()
    assert (decision.outcome, decision.reason_codes) == (DecisionOutcome.file, ["harm-to-victim"])
