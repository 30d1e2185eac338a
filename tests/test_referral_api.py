"""/api/v1 for referrals and charging: bearer tokens only, the same services and policy layer
as the pages, documented in OpenAPI."""

from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from hub.audit.models import LogEntry
from hub.clients.models import Person
from hub.referrals.models import Referral
from hub.vocabulary import DisclosureTag


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
    officer = api(world.users["officer"])
    agency = world.agencies["case_management"].id
    assert officer.post("/api/v1/referrals", json={"kind": "arrest"}).status_code == 422
    made = officer.post("/api/v1/referrals", json=_referral(agency, date_of_birth="1991-05-06"))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["eligibility"] == "eligible" and body["matter_id"]

    # The same particulars again: a 409 with candidate ids and a token, and nothing made.
    persons = _count(db, Person)
    again = _referral(agency, "OTN-API-2", date_of_birth="1991-05-06")
    conflict = officer.post("/api/v1/referrals", json=again)
    assert conflict.status_code == 409
    found = conflict.json()
    assert [c["person_id"] for c in found["candidates"]] == [body["person_id"]]
    assert "Linnea" not in conflict.text
    assert _count(db, Person) == persons
    # A token for other particulars, or forged, is refused.
    other = {**again, "person": {**again["person"], "first_name": "Lina"}}
    assert (
        officer.post("/api/v1/referrals", json={**other, "confirm_token": found["confirm_token"]})
    ).status_code == 422
    forged = found["confirm_token"][:-4] + "0000"
    assert (
        officer.post("/api/v1/referrals", json={**again, "confirm_token": forged})
    ).status_code == 422
    # Choosing the candidate refers the existing person.
    chosen = officer.post(
        "/api/v1/referrals", json={**again, "existing_person_id": body["person_id"]}
    )
    assert chosen.status_code == 201 and chosen.json()["person_id"] == body["person_id"]
    # Confirming none of these makes a new one.
    confirmed = officer.post(
        "/api/v1/referrals",
        json={
            **_referral(agency, "OTN-API-3", date_of_birth="1991-05-06"),
            "confirm_token": found["confirm_token"],
        },
    )
    assert confirmed.status_code == 201 and confirmed.json()["person_id"] != body["person_id"]

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
