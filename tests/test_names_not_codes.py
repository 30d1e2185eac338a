"""Issue 17, item 1: a client record names the officer, the agencies and the note's author, and
says HMIS answers and offenses in words; the codes stay in the exports."""

from html import escape

from hub.referrals.intake_clock import record_screening
from hub.referrals.referred_person import NewPerson


def test_a_case_manager_reads_names_not_codes_on_the_record(world, sign_in):
    person = NewPerson("Ilse", "Marchetti", None, race_ethnicity=(5, 6), gender=(4,))
    referral, _ = world.arrest(person=person)
    record_screening(
        world.db, world.viewer("case_manager"), referral.id, world.actor("case_manager")
    )
    case_manager = sign_in(user=world.users["case_manager"])
    added = case_manager.post(
        f"/clients/{referral.person_id}/notes",
        data={"category": "engagement", "body": "Came to the drop-in."},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text[-1500:]
    page = case_manager.client.get(f"/clients/{referral.person_id}").text
    officer, manager = world.users["officer"], world.users["case_manager"]
    assert f"{escape(officer.display_name)}, Metro Police" in page
    assert "officer #" not in page and "agency #" not in page and "staff #" not in page
    assert "White; Hispanic/Latina/e/o" in page and "Non-binary" in page
    assert "HMIS codes" not in page
    # The offense by its label, the note by its author's name.
    assert "Possession of a controlled substance" in page and "VUCSA-possession" not in page
    notes = case_manager.client.get(f"/clients/{referral.person_id}/notes").text
    assert escape(manager.display_name) in notes and "staff #" not in notes
