"""The pages of issue 5, route by route: each role reaches only its pages, bad input gets a
clear error and changes nothing, and every name shown came through the policy layer."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, func, select

from hub.accounts.models import UserSession
from hub.audit.models import LogEntry
from hub.charging.models import BreachSignalReview, ChargingMatter, DecisionFlag
from hub.clients.models import Person
from hub.notifications.models import Notification
from hub.referrals.checks import RECONCILIATION
from hub.referrals.models import PersonReconciliation, Referral, SocialContactEntry
from hub.vocabulary import DisclosureTag, NotificationKind, Role, SecurityEventTag
from tests.referral_pages import arrest_form, decision_id_from, local_input, referral_id_from
from tests.signing_in import logged

# (path, roles that may open it): every other role gets 403.
PAGES = [
    ("/referrals/new/arrest", {Role.officer, Role.sergeant}),
    ("/referrals/new/social-contact", {Role.officer, Role.sergeant}),
    ("/referrals", {Role.officer, Role.sergeant}),
    ("/referrals/overrides", {Role.sergeant}),
    ("/social-contacts", {Role.officer, Role.sergeant}),
    ("/intake", {Role.case_manager, Role.case_manager_supervisor}),
    ("/intake/social-contacts", {Role.case_manager, Role.case_manager_supervisor}),
    ("/caseload-requests", {Role.case_manager_supervisor}),
    ("/charging", {Role.prosecutor}),
    ("/defense", {Role.defender}),
    ("/flags", {Role.defender, Role.privacy_officer}),
    ("/notifications", set(Role)),
    ("/notifications/badge", set(Role)),
]


def _count(db, model):
    value = db.exec(select(func.count()).select_from(model)).one()
    db.commit()
    return value


@pytest.mark.parametrize("role", list(Role))
def test_each_role_opens_only_its_pages(sign_in, role):
    user = sign_in(role)
    for path, roles in PAGES:
        response = user.client.get(path)
        assert response.status_code == (200 if role in roles else 403), (path, role)


@pytest.mark.parametrize(
    "path",
    [
        "/referrals/new/arrest",
        "/social-contacts",
        "/intake/social-contacts/1/refer",
        "/referrals/1/screening",
        "/charging/matters/1/decisions",
        "/flags/1/review",
        "/breach-signals/1/review",
    ],
)
def test_writes_refuse_other_roles_and_change_nothing(sign_in, db, path):
    admin = sign_in(Role.admin)
    before = _count(db, LogEntry)
    assert admin.post(path, data={}).status_code == 403
    # Nothing changed; the one new entry is the refusal itself.
    assert _count(db, LogEntry) == before + 1
    newest = db.exec(select(LogEntry).order_by(col(LogEntry.seq).desc())).first()
    assert newest.tag == SecurityEventTag.access_denied.value and newest.person_id is None


def test_nav_links_each_role_to_its_pages(sign_in):
    for role, link in (
        (Role.officer, "/referrals/new/arrest"),
        (Role.case_manager, "/intake"),
        (Role.prosecutor, "/charging"),
        (Role.defender, "/defense"),
        (Role.privacy_officer, "/flags"),
    ):
        home = sign_in(role).client.get("/").text
        assert f'href="{link}"' in home
        assert 'hx-get="/notifications/badge"' in home


# --- officers -------------------------------------------------------------------------------


def test_arrest_referral_bad_input_changes_nothing(world, sign_in, db):
    officer = sign_in(user=world.users["officer"])
    agency = world.agencies["case_management"].id
    persons, referrals = _count(db, Person), _count(db, Referral)
    for fields, says in (
        ({"offenses": []}, "at least one offense"),
        ({"offenses": ["shoplifting"]}, "not an eligible offense"),
        ({"arrested_at": "yesterday"}, "give a date and time"),
        ({"place": ""}, "where the arrest took place"),
        ({"first_name": ""}, "first and a last name"),
        ({"date_of_birth": "2999-01-01"}, "future"),
        ({"facts": ["dealing-for-profit"]}, "presumptively excluded"),
        ({"case_management_agency_id": str(world.agencies["police"].id)}, "case management"),
    ):
        data = arrest_form("Idris", "Vantongeren", "OTN-BAD-1", agency, **fields)
        response = officer.post("/referrals/new/arrest", data=data)
        assert response.status_code == 400, fields
        assert says in response.text, (fields, response.text[-2000:])
    assert (_count(db, Person), _count(db, Referral)) == (persons, referrals)
    assert _count(db, ChargingMatter) == 0


def test_an_excluded_referral_needs_a_written_reason_the_sergeant_sees(world, sign_in, db):
    officer = sign_in(user=world.users["officer"])
    agency = world.agencies["case_management"].id
    data = arrest_form("Marek", "Oyelaran", "OTN-X-1", agency, facts=["dealing-for-profit"])
    refused = officer.post("/referrals/new/arrest", data=data)
    # Served without htmx, the page shows the result and the field the officer must fill.
    assert "Presumptively excluded" in refused.text and 'name="override_reason"' in refused.text
    data["override_reason"] = "Weighed under a gram; the scale reading was wrong."
    assert (
        officer.post("/referrals/new/arrest", data=data, follow_redirects=False).status_code == 303
    )
    sergeant = sign_in(user=world.users["sergeant"])
    page = sergeant.client.get("/referrals/overrides").text
    assert "the scale reading was wrong" in page and "Marek" not in page
    other = sign_in(user=world.users["other_sergeant"])
    assert "the scale reading was wrong" not in other.client.get("/referrals/overrides").text


def test_the_screening_fragment_answers_live(world, sign_in):
    officer = sign_in(user=world.users["officer"])
    excluded = officer.post(
        "/referrals/screening",
        data={"offenses": ["VUCSA-possession"], "facts": ["promoting-prostitution"]},
        headers={"HX-Request": "true"},
    )
    assert excluded.status_code == 200
    assert "<html" not in excluded.text and 'id="screening"' in excluded.text
    assert "Presumptively excluded" in excluded.text and "override_reason" in excluded.text
    eligible = officer.post("/referrals/screening", data={"offenses": ["prostitution"]})
    assert "Eligible" in eligible.text
    bad = officer.post("/referrals/screening", data={"facts": ["no-such-question"]})
    assert "not a screening question" in bad.text


def test_police_are_told_nothing_of_duplicates_and_case_management_reconciles(world, sign_in, db):
    # Issue 12, item 4: a duplicate check that answered police with candidates told them who
    # is known to the program. Police now get the same answer, match or no match.
    officer = sign_in(user=world.users["officer"])
    agency = world.agencies["case_management"].id
    # A person another officer referred: this officer may not learn that they are on file.
    world.arrest(person=None, officer="officer2")
    existing = db.exec(select(Person)).one()
    db.commit()
    data = arrest_form(existing.first_name, existing.last_name, "OTN-D-1", agency)
    data["date_of_birth"] = ""
    before = _count(db, LogEntry)
    made = officer.post("/referrals/new/arrest", data=data, follow_redirects=False)
    assert made.status_code == 303
    nobody = arrest_form("Unmatched", "Stranger-Name", "OTN-D-2", agency)
    quiet = officer.post("/referrals/new/arrest", data=nobody, follow_redirects=False)
    assert quiet.status_code == 303
    pages = [officer.client.get(r.headers["location"]).text for r in (made, quiet)]
    for page in pages:
        assert RECONCILIATION in page and f"/clients/{existing.id}" not in page
    listed = db.exec(select(LogEntry).where(LogEntry.seq >= before)).all()
    db.commit()
    assert not [e for e in listed if existing.id in (e.detail or {}).get("person_ids", [])]
    assert _count(db, Person) == 3
    flag = db.exec(select(PersonReconciliation)).one()
    db.commit()
    assert flag.candidate_ids == [existing.id]
    # The case management agency sees whom the referral may duplicate, through the policy.
    case_manager = sign_in(user=world.users["case_manager"])
    since = _count(db, LogEntry)
    intake = case_manager.client.get(made.headers["location"].split("?")[0])
    assert intake.status_code == 200
    reconcile = intake.text.split('id="reconcile"')[1].split("</ul>")[0]
    assert existing.last_name in reconcile and f"/clients/{existing.id}" in reconcile
    shown = db.exec(select(LogEntry).where(LogEntry.seq >= since)).all()
    db.commit()
    assert [e.detail["person_ids"] for e in shown if e.tag == "disclosure:client_list:read"] == [
        [existing.id]
    ]
    quiet_intake = case_manager.client.get(quiet.headers["location"].split("?")[0])
    assert 'id="reconcile"' not in quiet_intake.text
    # Naming the other officer's person by hand is refused, logged with the attempted id.
    wrong = officer.post(
        "/referrals/new/arrest",
        data={**data, "offense_tracking_number": "OTN-D-3", "person_choice": str(existing.id)},
    )
    assert wrong.status_code == 400 and "case management agency reconciles" in wrong.text
    assert existing.first_name not in wrong.text.split("<main")[1].split("<form")[0]
    assert logged(db, SecurityEventTag.access_denied, person_id=existing.id)
    assert _count(db, Person) == 3


def test_social_contact_referral_and_list(world, sign_in, db):
    officer = sign_in(user=world.users["officer"])
    agency = world.agencies["case_management"].id
    person = {"first_name": "Tamsin", "last_name": "Okonkwo-Reyes", "date_of_birth": "1985-02-03"}
    bad = officer.post(
        "/social-contacts",
        data={
            **person,
            "offense_category": "drug",
            "prior_kind": "documented_incident",
            "prior_reference": "not-a-number",
        },
    )
    assert bad.status_code == 400 and "incident number" in bad.text
    assert _count(db, SocialContactEntry) == 0
    added = officer.post(
        "/social-contacts",
        data={
            **person,
            "offense_category": "drug",
            "prior_kind": "documented_incident",
            "prior_reference": "2025-123456",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    # The case manager sees who it is (identity for case management) and accepts the referral.
    case_manager = sign_in(user=world.users["case_manager"])
    listing = case_manager.client.get("/intake/social-contacts")
    assert "Tamsin Okonkwo-Reyes" in listing.text
    entry = db.exec(select(SocialContactEntry)).one()
    db.commit()
    response = case_manager.post(
        f"/intake/social-contacts/{entry.id}/refer", data={}, follow_redirects=False
    )
    assert response.status_code == 303
    again = case_manager.post(f"/intake/social-contacts/{entry.id}/refer", data={})
    assert again.status_code == 400 and "no such open entry" in again.text

    social = officer.post(
        "/referrals/new/social-contact",
        data={
            "first_name": "Oren",
            "last_name": "Blackwood-Sato",
            "offense_category": "drug",
            "prior_kind": "documented_incident",
            "prior_reference": "2025-654321",
            "case_management_agency_id": str(agency),
        },
        follow_redirects=False,
    )
    assert social.status_code == 303
    page = officer.client.get(f"/referrals/{referral_id_from(social)}")
    assert "Oren Blackwood-Sato" in page.text and "social contact" in page.text


def test_feedback_shows_own_referrals_status_only(world, sign_in, db):
    officer = sign_in(user=world.users["officer"])
    referral, _ = world.arrest()
    mine = officer.client.get("/referrals").text
    assert f'href="/referrals/{referral.id}"' in mine and "referred" in mine
    # Nothing clinical, and the charging outcome only as far as the policy grants legal data.
    assert "treatment" not in mine.lower()
    other = sign_in(user=world.users["officer2"])
    assert other.client.get(f"/referrals/{referral.id}").status_code == 404
    assert f'href="/referrals/{referral.id}"' not in other.client.get("/referrals").text


def test_new_arrest_of_someone_not_enrolled_is_refused(world, sign_in, db):
    officer = sign_in(user=world.users["officer"])
    referral, _ = world.arrest()
    response = officer.post(
        f"/referrals/{referral.id}/new-arrest",
        data={
            "offenses": ["VUCSA-possession"],
            "place": "Pike St",
            "arrested_at": local_input(datetime.now(UTC)),
            "offense_tracking_number": "OTN-N",
        },
    )
    assert response.status_code == 400 and "not an enrolled client" in response.text
    assert _count(db, ChargingMatter) == 1


# --- case managers --------------------------------------------------------------------------


def test_intake_steps_and_their_errors(world, sign_in, db):
    referral, _ = world.arrest()
    case_manager = sign_in(user=world.users["case_manager"])
    early = case_manager.post(f"/referrals/{referral.id}/intake", data={"services": "x"})
    assert early.status_code == 400 and "screening first" in early.text
    future = local_input(datetime.now(UTC) + timedelta(days=2))
    late = case_manager.post(f"/referrals/{referral.id}/screening", data={"at": future})
    assert late.status_code == 400 and "future" in late.text
    assert logged(db, SecurityEventTag.screening_recorded) == []
    assert case_manager.post(f"/referrals/{referral.id}/screening", data={}).status_code == 200
    twice = case_manager.post(f"/referrals/{referral.id}/screening", data={})
    assert twice.status_code == 400 and "already recorded" in twice.text
    # Another agency's case manager does not see the referral at all.
    other = sign_in(user=world.users["other_case_manager"])
    assert other.client.get(f"/referrals/{referral.id}").status_code == 404
    assert other.post(f"/referrals/{referral.id}/intake", data={}).status_code == 404
    # A case manager takes clients onto their own caseload only.
    colleague = world.users["case_manager2"]
    refused = case_manager.post(
        f"/referrals/{referral.id}/caseload", data={"case_manager_id": str(colleague.id)}
    )
    assert refused.status_code == 400 and "own caseload" in refused.text
    supervisor = sign_in(user=world.users["supervisor"])
    moved = supervisor.post(
        f"/referrals/{referral.id}/caseload", data={"case_manager_id": str(colleague.id)}
    )
    assert moved.status_code == 200 and "assigned" in moved.text


# --- prosecutors ----------------------------------------------------------------------------


def test_decision_bad_input_changes_nothing_and_other_offices_see_nothing(world, sign_in, db):
    _, matter = world.arrest()
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    city = sign_in(user=world.users["city_prosecutor"])
    assert city.client.get(f"/charging/matters/{matter.id}").status_code == 404
    assert city.client.get(f"/charging/matters/{matter.id}/decide").status_code == 404
    before = _count(db, LogEntry)
    for data, says in (
        ({"outcome": "file", "reason_codes": ["completed-intake"]}, "does not support"),
        ({"outcome": "decline"}, "at least one reason"),
        ({"outcome": "banish", "reason_codes": ["correction"]}, "not a decision outcome"),
        (
            {
                "outcome": "decline",
                "reason_codes": ["insufficient-evidence"],
                "material": ["999999"],
            },
            "can be material",
        ),
    ):
        response = prosecutor.post(f"/charging/matters/{matter.id}/decisions", data=data)
        assert response.status_code == 400, data
        assert says in response.text
    # Nothing recorded: the only entries are the form's disclosures, shown again each time.
    added = db.exec(select(LogEntry.tag).where(LogEntry.seq >= before)).all()
    db.commit()
    assert added == [DisclosureTag.charging_matter_read.value] * 4
    response = prosecutor.post(
        f"/charging/matters/{matter.id}/decisions",
        data={"outcome": "decline", "reason_codes": ["insufficient-evidence"]},
        follow_redirects=False,
    )
    decision_id = decision_id_from(response)
    assert city.client.get(f"/charging/decisions/{decision_id}").status_code == 404
    again = prosecutor.post(
        f"/charging/matters/{matter.id}/decisions",
        data={"outcome": "file", "reason_codes": ["harm-to-victim"]},
    )
    assert again.status_code == 400 and "record a correction" in again.text


def test_correction_keeps_both_and_export_is_a_logged_disclosure(world, sign_in, db):
    referral, matter = world.arrest()
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    first = decision_id_from(
        prosecutor.post(
            f"/charging/matters/{matter.id}/decisions",
            data={"outcome": "decline", "reason_codes": ["insufficient-evidence"]},
            follow_redirects=False,
        )
    )
    form = prosecutor.client.get(f"/charging/decisions/{first}/correct")
    assert form.status_code == 200 and f'name="supersedes_id" value="{first}"' in form.text
    no_note = prosecutor.post(
        f"/charging/matters/{matter.id}/decisions",
        data={"outcome": "divert", "reason_codes": ["correction"], "supersedes_id": str(first)},
    )
    assert no_note.status_code == 400 and "what the correction corrects" in no_note.text
    second = decision_id_from(
        prosecutor.post(
            f"/charging/matters/{matter.id}/decisions",
            data={
                "outcome": "divert",
                "reason_codes": ["correction"],
                "supersedes_id": str(first),
                "note": "Diversion was agreed, not a decline.",
            },
            follow_redirects=False,
        )
    )
    old = prosecutor.client.get(f"/charging/decisions/{first}").text
    assert f'href="/charging/decisions/{second}"' in old and "Corrected by" in old
    assert "/export" not in old  # only the standing decision is exported

    before = _count(db, LogEntry)
    export = prosecutor.client.get(f"/charging/decisions/{second}/export")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    header, row = export.text.strip().splitlines()
    assert header.startswith("person,date_of_birth,zip_code,offense_tracking_number")
    person = db.get(Person, referral.person_id)
    assert f"{person.first_name} {person.last_name}" in row and "diversion" in row
    entries = db.exec(select(LogEntry).where(LogEntry.seq >= before)).all()
    db.commit()
    (entry,) = [e for e in entries if e.kind == "disclosure"]
    assert entry.tag == DisclosureTag.decision_export_read.value
    assert entry.person_id == person.id and "identity" in entry.categories
    assert str(person.id) not in export.request.url.path.replace(str(second), "")
    assert prosecutor.client.get(f"/charging/decisions/{first}/export").status_code == 400


def test_care_data_flag_reaches_defender_and_privacy_officer(world, sign_in, db):
    referral, matter = world.arrest()
    person_id = referral.person_id
    world.factories.ClientAssignment(
        person_id=person_id, user_id=world.users["defender"].id, kind="defense"
    )
    seq = world.disclose("county_prosecutor", person_id, ["plan"])
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    decision_id = decision_id_from(
        prosecutor.post(
            f"/charging/matters/{matter.id}/decisions",
            data={"outcome": "file", "reason_codes": ["harm-to-victim"], "material": [str(seq)]},
            follow_redirects=False,
        )
    )
    assert "Flagged for review" in prosecutor.client.get(f"/charging/decisions/{decision_id}").text
    flag = db.exec(select(DecisionFlag)).one()
    db.commit()

    defender = sign_in(user=world.users["defender"])
    view = defender.client.get("/defense").text
    assert f'href="/flags/{flag.id}"' in view and "plan" in view and "charging decision" in view
    assert defender.client.get(f"/flags/{flag.id}").status_code == 200
    assert defender.post(f"/flags/{flag.id}/review", data={"note": "x"}).status_code == 403

    privacy = sign_in(user=world.users["privacy_officer"])
    assert f'href="/flags/{flag.id}"' in privacy.client.get("/flags").text
    empty = privacy.post(f"/flags/{flag.id}/review", data={"note": " "})
    assert empty.status_code == 400 and "review note" in empty.text
    done = privacy.post(f"/flags/{flag.id}/review", data={"note": "Plan data was not relied on."})
    assert done.status_code == 200 and "reviewed" in done.text
    assert logged(db, SecurityEventTag.flag_reviewed, flag_id=flag.id)
    assert f'href="/flags/{flag.id}"' not in privacy.client.get("/flags").text


def test_breach_signal_review(world, sign_in, db):
    referral, matter = world.arrest()
    world.disclose("county_prosecutor", referral.person_id, ["treatment"])
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    refused = prosecutor.post(
        f"/charging/matters/{matter.id}/decisions",
        data={"outcome": "file", "reason_codes": ["harm-to-victim"]},
    )
    assert refused.status_code == 400 and "42 CFR 2.12(d)" in refused.text
    (signal,) = logged(db, SecurityEventTag.part2_breach_signal)
    privacy = sign_in(user=world.users["privacy_officer"])
    assert f"/breach-signals/{signal.seq}/review" in privacy.client.get("/flags").text
    assert privacy.post(f"/breach-signals/{signal.seq}/review", data={}).status_code == 400
    assert privacy.post("/breach-signals/0/review", data={"note": "x"}).status_code == 400
    done = privacy.post(
        f"/breach-signals/{signal.seq}/review", data={"note": "Disclosure came from a paper file."}
    )
    assert done.status_code == 200 and f"/breach-signals/{signal.seq}/review" not in done.text
    assert _count(db, BreachSignalReview) == 1
    assert logged(db, SecurityEventTag.breach_signal_reviewed, signal_seq=signal.seq)


# --- notifications --------------------------------------------------------------------------


def test_notification_badge_list_and_read(world, sign_in, db):
    referral, _ = world.arrest()
    case_manager = sign_in(user=world.users["case_manager"])
    badge = case_manager.client.get("/notifications/badge", headers={"HX-Request": "true"})
    assert badge.status_code == 200 and "<html" not in badge.text
    assert 'hx-trigger="every 60s"' in badge.text and '<span class="badge">1</span>' in badge.text
    note = db.exec(
        select(Notification).where(Notification.user_id == world.users["case_manager"].id)
    ).one()
    db.commit()
    assert note.kind == NotificationKind.new_referral
    listing = case_manager.client.get("/notifications").text
    assert note.text in listing
    person = db.get(Person, referral.person_id)
    assert person.last_name not in listing and person.last_name not in badge.text
    other = sign_in(user=world.users["case_manager2"])
    assert other.post(f"/notifications/{note.id}/read").status_code != 303
    opened = case_manager.post(f"/notifications/{note.id}/read", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/referrals/{referral.id}"
    assert 'class="badge"' not in case_manager.client.get("/notifications/badge").text


def test_the_polling_badge_does_not_keep_an_idle_session_alive(world, sign_in, db):
    user = sign_in(user=world.users["case_manager"])
    session = db.exec(select(UserSession).where(UserSession.user_id == user.user.id)).one()
    session.last_seen_at = datetime.now(UTC) - timedelta(minutes=10)
    db.add(session)
    db.commit()
    assert user.client.get("/notifications/badge").status_code == 200
    db.refresh(session)
    db.commit()
    assert datetime.now(UTC) - session.last_seen_at > timedelta(minutes=9)
    user.client.get("/notifications")  # a page the person opens does count
    db.refresh(session)
    db.commit()
    assert datetime.now(UTC) - session.last_seen_at < timedelta(minutes=1)
