"""Every disclosure and every refusal is in the log (issue 12, item 8). Each test walks the
path an insider would take, as the role that tried it, and ends refused (or shown) and logged:
disclosures as disclosures, refusals as security events naming the attempted record number."""

from fastapi.testclient import TestClient
from sqlmodel import col, select

from hub.audit.models import LogEntry
from hub.notifications.models import Notification
from hub.referrals.eligibility import ScreeningAnswers
from hub.vocabulary import DisclosureTag, Role, SecurityEventTag
from tests.audit_support import detail_of
from tests.referral_pages import decision_id_from
from tests.signing_in import logged
from tests.workgroup_support import seat_the_table

DENIED = SecurityEventTag.access_denied


def _disclosures(db, tag, since=0):
    entries = db.exec(
        select(LogEntry)
        .where(col(LogEntry.tag) == tag.value, col(LogEntry.seq) >= since)
        .order_by(col(LogEntry.seq))
    ).all()
    db.commit()
    return entries


def _next_seq(db):
    last = db.exec(select(LogEntry.seq).order_by(col(LogEntry.seq).desc())).first()
    db.commit()
    return 0 if last is None else last + 1


def test_the_sergeants_overrides_page_is_a_logged_disclosure(world, sign_in, db):
    referral, _ = world.arrest(
        answers=ScreeningAnswers(facts=frozenset({"promoting-prostitution"})),
        override_reason="Known to outreach; no promoting involved.",
    )
    sergeant = sign_in(user=world.users["sergeant"])
    since = _next_seq(db)
    page = sergeant.client.get("/referrals/overrides")
    assert page.status_code == 200 and "Known to outreach" in page.text
    (entry,) = _disclosures(db, DisclosureTag.referral_overrides_read, since)
    assert entry.kind == "disclosure" and entry.outcome == "disclosed"
    assert entry.actor_user_id == world.users["sergeant"].id
    assert entry.person_id == referral.person_id and entry.categories == ["referral"]


def test_a_prosecutors_decision_pages_are_logged_disclosures(world, sign_in, db):
    _, matter = world.arrest()
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    since = _next_seq(db)
    form = prosecutor.client.get(f"/charging/matters/{matter.id}/decide")
    assert form.status_code == 200 and matter.offense_tracking_number in form.text
    response = prosecutor.post(
        f"/charging/matters/{matter.id}/decisions",
        data={"outcome": "decline", "reason_codes": ["insufficient-evidence"], "note": "Thin."},
        follow_redirects=False,
    )
    decision_id = decision_id_from(response)
    page = prosecutor.client.get(f"/charging/decisions/{decision_id}")
    assert page.status_code == 200 and "Thin." in page.text
    shown = _disclosures(db, DisclosureTag.charging_matter_read, since)
    assert len(shown) == 2
    # The decide form repeats the referral date and the due date beside the form (issue 15):
    # referral data, decided and logged with the matter's own legal fields.
    assert [e.categories for e in shown] == [["legal", "referral"], ["legal"]]
    for entry in shown:
        assert entry.person_id == matter.person_id
        assert entry.actor_user_id == world.users["county_prosecutor"].id


def test_another_officers_referral_is_refused_and_logged(world, sign_in, api, db):
    referral, _ = world.arrest(officer="officer")
    officer2 = sign_in(user=world.users["officer2"])
    assert officer2.client.get(f"/referrals/{referral.id}").status_code == 404
    records_system = api(world.users["officer2"])
    assert records_system.get(f"/api/v1/referrals/{referral.id}").status_code == 404
    refusals = logged(db, DENIED, referral_id=referral.id)
    assert len(refusals) == 2
    assert {e.actor_user_id for e in refusals} == {world.users["officer2"].id}
    assert all(e.outcome == "denied" for e in refusals)


def test_an_uninvited_member_is_refused_the_meeting_and_logged(world, sign_in, db):
    table = seat_the_table(world)
    # A case manager of the same agency whom the coordinator did not invite.
    outsider = sign_in(user=world.add_user("outsider", Role.case_manager, "case_management"))
    meeting_id = table.meeting.id
    assert outsider.client.get(f"/work-group/meetings/{meeting_id}").status_code == 404
    assert outsider.client.get(f"/work-group/meetings/{meeting_id}/live").status_code == 404
    refusals = logged(db, DENIED, meeting_id=meeting_id)
    assert len(refusals) == 2
    assert {e.actor_user_id for e in refusals} == {outsider.user.id}


def test_another_offices_matter_is_refused_and_logged(world, sign_in, api, db):
    _, matter = world.arrest()
    city = sign_in(user=world.users["city_prosecutor"])
    assert city.client.get(f"/charging/matters/{matter.id}").status_code == 404
    assert city.client.get(f"/charging/matters/{matter.id}/decide").status_code == 404
    refusals = logged(db, DENIED, matter_id=matter.id)
    assert len(refusals) == 2
    assert {e.actor_user_id for e in refusals} == {world.users["city_prosecutor"].id}
    # Nothing of the matter was disclosed to them.
    shown = _disclosures(db, DisclosureTag.charging_matter_read)
    assert not [e for e in shown if e.actor_user_id == world.users["city_prosecutor"].id]


def test_a_flag_that_is_not_the_defenders_is_refused_and_logged(world, sign_in, db):
    defender = sign_in(user=world.users["defender"])
    assert defender.client.get("/flags/4242").status_code == 404
    (refusal,) = logged(db, DENIED, flag_id=4242)
    assert refusal.actor_user_id == world.users["defender"].id


def test_a_csrf_failure_is_refused_and_logged_with_or_without_a_session(world, sign_in, app, db):
    referral, _ = world.arrest()
    case_manager = sign_in(user=world.users["case_manager"])
    forged = case_manager.client.post(
        f"/referrals/{referral.id}/screening", data={"csrf_token": "forged"}
    )
    assert forged.status_code == 403
    (signed_in,) = logged(db, DENIED, action="csrf", referral_id=referral.id)
    assert signed_in.actor_user_id == world.users["case_manager"].id
    assert detail_of(signed_in)["route"] == "/referrals/{referral_id}/screening"
    # No session at all: the sign-in form without its token.
    with TestClient(app, base_url="https://testserver") as anonymous:
        response = anonymous.post("/sign-in", data={"email": "a@b.example", "password": "x"})
    assert response.status_code == 403
    (no_user,) = logged(db, DENIED, action="csrf", route="/sign-in")
    assert no_user.actor_user_id is None and no_user.actor_role is None
    assert "a@b.example" not in str(no_user.detail)
    assert db.exec(select(LogEntry).where(LogEntry.seq > no_user.seq)).first() is None
    db.commit()


def test_a_refused_note_is_logged(world, sign_in, db):
    referral, _ = world.arrest()
    case_manager = sign_in(user=world.users["case_manager2"])
    response = case_manager.post(
        f"/clients/{referral.person_id}/notes",
        data={"category": "treatment", "body": "Started MOUD."},
    )
    assert response.status_code == 422
    (refusal,) = logged(db, DENIED, person_id=referral.person_id, category="treatment")
    assert refusal.actor_user_id == world.users["case_manager2"].id
    assert "MOUD" not in str(refusal.detail)


def test_another_users_notification_is_refused_and_logged(world, sign_in, db):
    world.arrest()  # tells the case-management agency
    note = db.exec(select(Notification)).first()
    db.commit()
    stranger = sign_in(user=world.users["officer2"])
    assert stranger.post(f"/notifications/{note.id}/read").status_code == 404
    (refusal,) = logged(db, DENIED, notification_id=note.id)
    assert refusal.actor_user_id == world.users["officer2"].id
