"""/api/v1 for referrals and charging: bearer tokens only, the same services and policy layer
as the pages, documented in OpenAPI."""

from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from hub.audit.models import LogEntry
from hub.clients.models import Person
from hub.referrals.checks import RECONCILIATION
from hub.referrals.models import PersonReconciliation, Referral
from hub.vocabulary import DisclosureTag, SecurityEventTag


def _referral(agency_id, otn="OTN-API-1", **person):
    return {
        "kind": "arrest",
        "person": {"first_name": "Linnea", "last_name": "Marchetti-Obi", **person},
        "case_management_agency_id": agency_id,
        "arrest": {
            "offenses": ["prostitution"],
            "arrested_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
            "place": "Aurora Ave",
            "precinct": "North",
            "offense_tracking_number": otn,
        },
    }


def _count(db, model):
    value = db.exec(select(func.count()).select_from(model)).one()
    db.commit()
    return value


def test_openapi_documents_the_routes(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/v1/referrals",
        "/api/v1/referrals/{referral_id}",
        "/api/v1/charging/queue",
        "/api/v1/charging/matters/{matter_id}/decisions",
        "/api/v1/charging/decisions",
        "/api/v1/charging/decisions/{decision_id}/export",
    ):
        assert path in paths
    assert "409" in paths["/api/v1/referrals"]["post"]["responses"]


def test_a_referral_from_a_records_system_with_the_duplicate_check(world, api, db):
    # Police are told nothing of who is on file (issue 12, item 4): the same particulars again
    # make a new person flagged for case management, not a 409 with candidates.
    officer = api(world.users["officer"])
    agency = world.agencies["case_management"].id
    assert officer.post("/api/v1/referrals", json={"kind": "arrest"}).status_code == 422
    made = officer.post("/api/v1/referrals", json=_referral(agency, date_of_birth="1991-05-06"))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["eligibility"] == "eligible" and body["matter_id"]
    assert body["reconciliation"] == RECONCILIATION

    again = officer.post(
        "/api/v1/referrals", json=_referral(agency, "OTN-API-2", date_of_birth="1991-05-06")
    )
    assert again.status_code == 201, again.text
    second = again.json()
    assert second["person_id"] != body["person_id"]
    assert set(second) == set(body) and second["reconciliation"] == body["reconciliation"]
    flagged = db.exec(select(PersonReconciliation)).one()
    db.commit()
    assert flagged.person_id == second["person_id"]
    assert flagged.candidate_ids == [body["person_id"]]
    # A forged confirmation token is still refused.
    forged = {**_referral(agency, "OTN-API-3"), "confirm_token": "e30=.0000"}
    assert officer.post("/api/v1/referrals", json=forged).status_code == 422
    # The officer may name a person they referred themself.
    chosen = officer.post(
        "/api/v1/referrals",
        json={**_referral(agency, "OTN-API-4"), "existing_person_id": body["person_id"]},
    )
    assert chosen.status_code == 201 and chosen.json()["person_id"] == body["person_id"]

    status = officer.get(f"/api/v1/referrals/{body['referral_id']}").json()
    assert status["program_status"] == "referred" and "first_name" not in status
    assert len(officer.get("/api/v1/referrals").json()) == 3
    stranger = api(world.users["officer2"])
    assert stranger.get(f"/api/v1/referrals/{body['referral_id']}").status_code == 404


def test_bad_referrals_change_nothing(world, api, db):
    officer = api(world.users["officer"])
    agency = world.agencies["case_management"].id
    referrals = _count(db, Referral)
    bad_offense = _referral(agency)
    bad_offense["arrest"]["offenses"] = ["arson"]
    response = officer.post("/api/v1/referrals", json=bad_offense)
    assert response.status_code == 422 and "not an eligible offense" in response.json()["detail"]
    naive = _referral(agency)
    naive["arrest"]["arrested_at"] = "2026-01-01T10:00:00"
    assert officer.post("/api/v1/referrals", json=naive).status_code == 422
    excluded = {**_referral(agency), "screening": {"facts": ["promoting-prostitution"]}}
    response = officer.post("/api/v1/referrals", json=excluded)
    assert response.status_code == 422 and "presumptively excluded" in response.json()["detail"]
    assert _count(db, Referral) == referrals == 0
    assert _count(db, Person) == 0


def test_roles_and_tokens(world, api, client):
    assert client.get("/api/v1/charging/queue").status_code == 401
    case_manager = api(world.users["case_manager"])
    assert case_manager.post("/api/v1/referrals", json={}).status_code == 403
    assert case_manager.get("/api/v1/charging/queue").status_code == 403
    prosecutor = api(world.users["county_prosecutor"])
    assert prosecutor.get("/api/v1/referrals").status_code == 403


def test_queue_decisions_and_export_for_a_prosecutors_system(world, api, db):
    referral, matter = world.arrest()
    prosecutor = api(world.users["county_prosecutor"])
    queue = prosecutor.get("/api/v1/charging/queue").json()
    assert [q["matter_id"] for q in queue] == [matter.id]
    person = db.get(Person, referral.person_id)
    db.commit()
    assert queue[0]["person"]["last_name"] == person.last_name
    # The intake clock is engagement data: withheld without the client's 2.35 consent.
    assert queue[0]["deadline_status"] is None and queue[0]["offenses"] == ["VUCSA-possession"]

    bad = prosecutor.post(
        f"/api/v1/charging/matters/{matter.id}/decisions",
        json={"outcome": "file", "reason_codes": ["completed-intake"]},
    )
    assert bad.status_code == 422
    assert (
        prosecutor.post(
            "/api/v1/charging/matters/999999/decisions",
            json={"outcome": "file", "reason_codes": ["harm-to-victim"]},
        ).status_code
        == 404
    )
    made = prosecutor.post(
        f"/api/v1/charging/matters/{matter.id}/decisions",
        json={"outcome": "decline", "reason_codes": ["insufficient-evidence"]},
    )
    assert made.status_code == 201, made.text
    decision = made.json()
    # Bound: the queue read above listed the client, so it is among what the decision rests on.
    tags = {b["tag"] for b in decision["bound_disclosures"]}
    assert DisclosureTag.client_list_read.value in tags
    listed = prosecutor.get("/api/v1/charging/decisions").json()
    assert [d["decision_id"] for d in listed] == [decision["decision_id"]]
    one = prosecutor.get(f"/api/v1/charging/decisions/{decision['decision_id']}").json()
    assert one["outcome"] == "decline" and one["superseded_by"] is None
    other_office = api(world.users["city_prosecutor"])
    assert (
        other_office.get(f"/api/v1/charging/decisions/{decision['decision_id']}").status_code == 404
    )
    assert other_office.get("/api/v1/charging/decisions").json() == []

    before = _count(db, LogEntry)
    export = prosecutor.get(f"/api/v1/charging/decisions/{decision['decision_id']}/export")
    assert export.status_code == 200 and person.last_name in export.text
    entries = db.exec(select(LogEntry).where(LogEntry.seq >= before)).all()
    db.commit()
    assert [e.tag for e in entries if e.kind == "disclosure"] == [
        DisclosureTag.decision_export_read.value
    ]


def test_an_unknown_query_parameter_is_refused_not_ignored(world, api):
    prosecutor = api(world.users["county_prosecutor"])
    assert prosecutor.get("/api/v1/charging/decisions").status_code == 200
    typo = prosecutor.get("/api/v1/charging/decisions?snce=2026-01-01")
    assert typo.status_code == 422
    assert "snce" in typo.json()["detail"]
    assert prosecutor.get("/api/v1/charging/decisions?since=1764201600").status_code == 422


def _social_contact(agency_id, person):
    return {
        "kind": "social_contact",
        "person": person,
        "case_management_agency_id": agency_id,
        "offense_category": "drug",
        "prior_involvement": {"kind": "documented_incident", "reference": "2025-123456"},
    }


def test_the_duplicate_check_tells_another_officer_nothing_of_an_enrolled_person(
    world, api, db, settings_env
):
    # Issue 12, item 4: officer2 sends the name and birthday of a person officer referred and
    # case management enrolled; the answer must be what it would be for a stranger.
    settings_env(officer_sees_participation="false")
    referral, _ = world.arrest()
    enrolled = db.get(Person, referral.person_id)
    enrolled.date_of_birth = datetime(1988, 8, 8).date()
    enrolled.program_status = "enrolled"
    db.add(enrolled)
    db.commit()
    officer2 = api(world.users["officer2"])
    agency = world.agencies["case_management"].id
    same = {"first_name": enrolled.first_name, "last_name": enrolled.last_name}
    matched = officer2.post(
        "/api/v1/referrals", json=_social_contact(agency, {**same, "date_of_birth": "1988-08-08"})
    )
    unmatched = officer2.post(
        "/api/v1/referrals",
        json=_social_contact(agency, {"first_name": "Quill", "last_name": "Umberfeld"}),
    )
    assert matched.status_code == unmatched.status_code == 201, matched.text
    assert set(matched.json()) == set(unmatched.json())
    assert matched.json()["reconciliation"] == unmatched.json()["reconciliation"]
    assert str(enrolled.id) not in [str(v) for v in matched.json().values()]
    # Naming the enrolled person is refused, with the same words as naming no one, and logged.
    before = _count(db, Referral)
    named = officer2.post(
        "/api/v1/referrals",
        json={**_social_contact(agency, same), "existing_person_id": enrolled.id},
    )
    nobody = officer2.post(
        "/api/v1/referrals",
        json={**_social_contact(agency, same), "existing_person_id": 10**6},
    )
    assert named.status_code == nobody.status_code == 422
    assert named.json()["detail"] == nobody.json()["detail"]
    assert _count(db, Referral) == before
    refusals = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.access_denied.value)
    ).all()
    db.commit()
    assert [e.detail["person_id"] for e in refusals] == [enrolled.id, 10**6]
    assert {e.actor_user_id for e in refusals} == {world.users["officer2"].id}
    # And the record stays closed to officer2.
    assert officer2.get(f"/api/v1/clients/{enrolled.id}").status_code == 404
