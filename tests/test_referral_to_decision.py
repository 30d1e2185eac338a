"""Issue 5, end to end through the real routes: follow a person from an arrest referral,
through intake within the deadline, to a prosecutor's decline; then a new arrest, a
work-group-style disclosure, and a file decision whose page lists exactly the disclosures that
prosecutor received; and a second person whose deadline is missed."""

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from hub.charging.models import ChargingDecision, ChargingMatter, DecisionDisclosure
from hub.clients.models import Person
from hub.disclosure.record import disclose_record
from hub.notifications.services import sweep_deadlines
from hub.referrals.models import Referral
from hub.vocabulary import DecisionOutcome, ProgramStatus, Purpose
from tests.fixtures.referrals import actor_of
from tests.referral_pages import (
    arrest_form,
    consent_2_35,
    decision_id_from,
    first_referral,
    local_input,
    received,
    referral_id_from,
    seqs_on_page,
)


def _matter_of(db, referral_id):
    matter = db.exec(select(ChargingMatter).where(ChargingMatter.referral_id == referral_id)).one()
    db.commit()
    return matter


def _queue_matters(html):
    return [int(m) for m in re.findall(r'href="/charging/matters/(\d+)"', html)]


def test_from_arrest_referral_through_intake_to_decline_new_arrest_and_file(world, sign_in, db):
    officer = sign_in(user=world.users["officer"])
    case_manager = sign_in(user=world.users["case_manager"])
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    cm_agency = world.agencies["case_management"].id
    office = world.agencies["county_prosecutor"].id

    # The officer refers instead of booking; the felony goes to the county prosecutor.
    response = officer.post(
        "/referrals/new/arrest",
        data=arrest_form("Rowan", "Ashdown", "OTN-E2E-1", cm_agency),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    referral_id = referral_id_from(response)
    feedback = officer.client.get(f"/referrals/{referral_id}")
    assert "Rowan Ashdown" in feedback.text and "referred" in feedback.text
    matter = _matter_of(db, referral_id)
    person_id = matter.person_id
    assert matter.prosecuting_agency_id == office

    # The case manager sees it in the intake queue, screens, and does the full intake in time.
    queue = case_manager.client.get("/intake")
    assert "Rowan Ashdown" in queue.text and "deadline-pending" in queue.text
    assert case_manager.post(f"/referrals/{referral_id}/screening", data={}).status_code == 200
    done = case_manager.post(
        f"/referrals/{referral_id}/intake", data={"services": "Housing navigation\nID clinic"}
    )
    assert done.status_code == 200 and "deadline-met" in done.text
    consent_2_35(db, world.viewer("case_manager"), person_id, office)

    # The prosecutor's queue shows the met deadline; the matter page discloses (and logs).
    queue = prosecutor.client.get("/charging")
    assert "Rowan Ashdown" in queue.text and "deadline-met" in queue.text
    assert _queue_matters(queue.text) == [matter.id]
    assert "enrolled" in prosecutor.client.get(f"/charging/matters/{matter.id}").text
    form = prosecutor.client.get(f"/charging/matters/{matter.id}/decide")
    assert form.status_code == 200 and 'name="material"' in form.text
    response = prosecutor.post(
        f"/charging/matters/{matter.id}/decisions",
        data={"outcome": "decline", "reason_codes": ["completed-intake"], "note": "Intake done."},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    decline_id = decision_id_from(response)
    since = first_referral(db, person_id).referred_at
    # What the prosecutor received before deciding; the decision page is itself a disclosure
    # (its offense tracking number and note), logged after the decision, so not bound to it.
    bound = received(db, prosecutor.user.id, person_id, since)
    page = prosecutor.client.get(f"/charging/decisions/{decline_id}")
    assert "decline" in page.text
    assert seqs_on_page(page.text) == bound
    assert _queue_matters(prosecutor.client.get("/charging").text) == []
    feedback = officer.client.get("/referrals").text
    assert "Rowan Ashdown" in feedback
    # The officer learns the referral went somewhere: the charge was declined (status only).
    assert "charges declined" in feedback and "withheld (legal)" not in feedback

    # A new arrest of the enrolled client, forwarded for a decision.
    response = officer.post(
        f"/referrals/{referral_id}/new-arrest",
        data={
            "offenses": ["VUCSA-possession"],
            "arrested_at": local_input(datetime.now(UTC) - timedelta(hours=1)),
            "place": "Pike St",
            "precinct": "West",
            "offense_tracking_number": "OTN-E2E-2",
        },
    )
    assert response.status_code == 201, response.text
    new_matter = db.exec(
        select(ChargingMatter).where(ChargingMatter.offense_tracking_number == "OTN-E2E-2")
    ).one()
    db.commit()
    queue = prosecutor.client.get("/charging")
    assert _queue_matters(queue.text) == [new_matter.id] and "new arrest" in queue.text

    # The work group: the prosecutor reads the client record for purpose work_group, as the
    # work-group pages will.
    work_group = disclose_record(
        db,
        world.viewer("county_prosecutor"),
        person_id,
        Purpose.work_group,
        actor_of(world.viewer("county_prosecutor")),
    )
    db.commit()

    # The file decision, with the work-group disclosure marked material.
    prosecutor.client.get(f"/charging/matters/{new_matter.id}")
    response = prosecutor.post(
        f"/charging/matters/{new_matter.id}/decisions",
        data={
            "outcome": "file",
            "reason_codes": ["harm-to-victim"],
            "note": "A new offense with an identified victim.",
            "material": [str(work_group.log_seq)],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    file_id = decision_id_from(response)
    expected = received(db, prosecutor.user.id, person_id, since)
    page = prosecutor.client.get(f"/charging/decisions/{file_id}")
    assert work_group.log_seq in expected
    assert seqs_on_page(page.text) == expected
    bound = db.exec(select(DecisionDisclosure).where(DecisionDisclosure.decision_id == file_id))
    assert {(b.log_seq, b.material) for b in bound} == {
        (seq, seq == work_group.log_seq) for seq in expected
    }
    db.commit()
    # The page says what each one was: categories and purpose, and the material mark.
    assert "work group" in page.text and "material" in page.text
    # Nothing another user received about the client is listed.
    assert all(
        seq in received(db, prosecutor.user.id, person_id, since) for seq in seqs_on_page(page.text)
    )


def test_a_second_person_whose_deadline_is_missed(world, sign_in, db):
    officer = sign_in(user=world.users["officer"])
    case_manager = sign_in(user=world.users["case_manager"])
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    cm_agency = world.agencies["case_management"].id
    office = world.agencies["county_prosecutor"].id

    on_time = referral_id_from(
        officer.post(
            "/referrals/new/arrest",
            data=arrest_form("Wren", "Halloway", "OTN-E2E-10", cm_agency),
            follow_redirects=False,
        )
    )
    late = referral_id_from(
        officer.post(
            "/referrals/new/arrest",
            data=arrest_form("Sable", "Quist", "OTN-E2E-11", cm_agency, date_of_birth=""),
            follow_redirects=False,
        )
    )
    # Forty days pass for the second referral, with only the screening done.
    referral = db.get(Referral, late)
    forty_days_ago = datetime.now(UTC) - timedelta(days=40)
    referral.referred_at = forty_days_ago
    referral.intake_due_on = (forty_days_ago + timedelta(days=30)).date()
    matter = _matter_of(db, late)
    matter.arrested_at = forty_days_ago - timedelta(hours=1)
    db.add_all([referral, matter])
    db.commit()
    assert case_manager.post(f"/referrals/{late}/screening", data={}).status_code == 200
    for rid in (on_time, late):
        consent_2_35(db, world.viewer("case_manager"), db.get(Referral, rid).person_id, office)
        db.commit()

    queue = case_manager.client.get("/intake")
    assert queue.text.index("Sable Quist") < queue.text.index("Wren Halloway")
    assert "deadline-missed" in queue.text
    assert sweep_deadlines(db, datetime.now(UTC).date()) >= 1
    assert "badge" in case_manager.client.get("/notifications/badge").text

    # The prosecutor's queue puts the missed deadline first; the prosecutor may file.
    queue = prosecutor.client.get("/charging")
    assert _queue_matters(queue.text)[0] == matter.id
    assert "deadline-missed" in queue.text
    response = prosecutor.post(
        f"/charging/matters/{matter.id}/decisions",
        data={"outcome": "file", "reason_codes": ["intake-not-completed"]},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    decision = db.get(ChargingDecision, decision_id_from(response))
    assert decision.outcome == DecisionOutcome.file
    person = db.get(Referral, late).person_id
    assert db.get(Person, person).program_status == ProgramStatus.screened
    db.commit()
