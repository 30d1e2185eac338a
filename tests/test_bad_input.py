"""Bad input gets a clear error (404 or 422) and changes nothing; it never reaches a 500.

- Every number a route takes from its path, query string or form is bounded by what the
  database can hold (hub.web.params), so a record number past 2**31 (INTEGER on PostgreSQL) or
  2**63 (SQLite's OverflowError) is a 422 before any query runs.
- A moment in a query needs its time zone.
- A form or query that is not UTF-8, or holds a NUL, is refused whole (hub.web.readable).
- A meeting starts between now and two years ahead.

tests/test_bad_input_routes.py drives every route with such values (hypothesis)."""

import json
import types
from datetime import UTC, datetime
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from annotated_types import Le, Lt
from pydantic import BaseModel
from sqlmodel import col, func, select

from hub.audit.models import LogEntry
from hub.clients.models import CaseNote
from hub.consents.models import Consent
from hub.referrals.eligibility import ReferralError
from hub.referrals.forms import parse_local_time
from hub.referrals.models import Referral
from hub.referrals.rules import default_rules
from hub.vocabulary import Role
from hub.web.app import create_app
from hub.workgroup import schedule
from hub.workgroup.models import WorkGroupMeeting
from hub.workgroup.rules import WorkGroupError
from tests.fixtures.consents import consent_form
from tests.routes import flat_routes, parameters

TOO_LARGE = [2**31, 2**63, 10**30]


# --- every number is bounded ------------------------------------------------------------------


def _bounded(metadata: list[Any]) -> bool:
    # A pydantic Field(le=...) inside Annotated holds its bounds in its own metadata.
    flat = [inner for m in metadata for inner in (m, *getattr(m, "metadata", []))]
    return any(isinstance(m, Le | Lt) for m in flat)


def unbounded_ints(annotation: Any, metadata: list[Any], where: str) -> list[str]:
    """Where an int in this annotation (a union, a list, a form model's fields) has no upper
    bound."""
    if annotation is int:
        return [] if _bounded(metadata) else [where]
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        return unbounded_ints(inner, [*metadata, *extra], where)
    if origin in (Union, types.UnionType, list, set, tuple):
        return [
            found
            for arg in get_args(annotation)
            for found in unbounded_ints(arg, metadata if origin is not list else [], where)
        ]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [
            found
            for name, field in annotation.model_fields.items()
            for found in unbounded_ints(field.annotation, field.metadata, f"{where}.{name}")
        ]
    return []


def unbounded_parameters(app: Any) -> list[str]:
    found = []
    for route in flat_routes(app):
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        for field in (
            field
            for kind in ("path_params", "query_params", "body_params")
            for field in parameters(dependant, kind)
        ):
            info = field.field_info
            where = f"{' '.join(sorted(route.methods))} {route.path} {field.alias}"
            found.extend(unbounded_ints(info.annotation, list(info.metadata), where))
    return sorted(found)


def test_every_number_a_route_takes_is_bounded():
    assert unbounded_parameters(create_app()) == [], (
        "type these as hub.web.params.RecordNumber, LogSeq or Count (path, query or form)"
    )


def test_the_check_catches_an_unbounded_number():
    from fastapi import APIRouter, Form

    app = create_app()
    sneaky = APIRouter()

    @sneaky.post("/sneaky/{thing_id}")
    def sneaky_route(thing_id: int, other: Annotated[list[int] | None, Form()] = None) -> None:
        return None

    app.include_router(sneaky)
    assert unbounded_parameters(app) == [
        "POST /sneaky/{thing_id} other",
        "POST /sneaky/{thing_id} thing_id",
    ]


# --- record numbers the database cannot hold ------------------------------------------------


def _count(db, column) -> int:
    value = db.exec(select(func.count(column))).one()
    db.commit()
    return int(value)


@pytest.mark.parametrize("number", TOO_LARGE)
def test_a_record_number_past_the_database_is_a_422_not_a_500(app, db, program, sign_in, number):
    prosecutor = sign_in(user=program.prosecutor)
    for url in (
        f"/charging/matters/{number}",
        f"/charging/decisions/{number}/receipts/{number}",
        f"/charging?page={number}",
    ):
        response = prosecutor.client.get(url)
        assert response.status_code in (404, 422), url
    matter = prosecutor.client.get(f"/charging/matters/{number}")
    assert matter.status_code == 422 and "less than or equal to 2147483647" in matter.text
    case_manager = sign_in(user=program.case_manager)
    entries = _count(db, LogEntry.seq)
    flagged = case_manager.post("/work-group/flags", data={"person_id": str(number)})
    assert flagged.status_code == 422 and "person_id" in flagged.text
    assert _count(db, LogEntry.seq) == entries


def test_a_consent_naming_an_agency_past_the_database_changes_nothing(app, db, program, sign_in):
    me = sign_in(user=program.case_manager)
    before = _count(db, Consent.id)
    # The discloser's field takes at most 12 characters: past 2**31, within them.
    for field, value in (("discloser_agency_id", str(10**11)), ("recipient", f"agency:{2**63}")):
        response = me.post(
            f"/clients/{program.person.id}/consents",
            data=consent_form(program, **{field: value}),
        )
        assert response.status_code == 422, field
        assert "from the list" in response.text or "Choose who may receive" in response.text
    assert _count(db, Consent.id) == before


def test_the_privacy_console_refuses_days_and_ids_it_cannot_search(app, program, sign_in):
    officer = sign_in(Role.privacy_officer)
    for field, value, message in (
        ("until", "9999-12-31", "a date from"),
        ("since", "0001-01-01", "a date from"),
        ("person_id", str(10**11), "a number"),
    ):
        for url, extra in (("/privacy/log", {}), ("/privacy/log/export", {"format": "csv"})):
            response = officer.post(url, data={field: value, **extra})
            assert response.status_code == 422, (url, field)
            assert message in response.text
    assert officer.post("/privacy/log", data={"until": "9998-12-31"}).status_code == 200


# --- moments without a time zone ------------------------------------------------------------


def test_a_local_time_outside_the_calendar_in_utc_is_refused():
    with pytest.raises(ReferralError, match="years 1 to 9999"):
        parse_local_time("0001-01-01T00:30+01:00", default_rules(), "arrested at")
    assert parse_local_time("2026-12-01T10:00", default_rules(), "arrested at").tzinfo


def test_since_needs_its_time_zone(app, db, program, api):
    prosecutor = api(program.prosecutor)
    for since in ("2026-01-01", "2026-01-01T00:00:00", "2026-01-01 09:30"):
        response = prosecutor.get("/api/v1/charging/decisions", params={"since": since})
        assert response.status_code == 422, since
        assert "needs its time zone" in response.text
    for since in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"):
        response = prosecutor.get("/api/v1/charging/decisions", params={"since": since})
        assert response.status_code == 422, since
        assert "years 1 to 9999" in response.text
    for since in ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00-08:00", "0001-01-01T00:00:00Z"):
        response = prosecutor.get("/api/v1/charging/decisions", params={"since": since})
        assert response.status_code == 200, since


# --- text that is not UTF-8 -----------------------------------------------------------------


def _notes_of(db, program) -> list[str]:
    rows = db.exec(
        select(CaseNote)
        .where(CaseNote.author_id == program.case_manager.id)
        .order_by(col(CaseNote.id))
    ).all()
    db.commit()
    return [n.body for n in rows]


def test_a_note_that_is_not_utf8_is_refused_and_not_stored(app, db, program, sign_in):
    me = sign_in(user=program.case_manager)
    url = f"/clients/{program.person.id}/notes"
    before = _notes_of(db, program)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    bodies = [
        (b"category=housing&body=Caf%E9+on+Pine", form),  # Latin-1, percent-encoded
        (b"category=housing&body=Caf\xc3\xa9", form),  # raw bytes: not how a form is sent
        (b"category=housing&body=one%00two", form),  # NUL
    ]
    boundary = "hubtestboundary"
    multipart = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="category"\r\n\r\nhousing\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="body"\r\n\r\n'
    ).encode()
    bodies.append((part + b"Caf\xe9 on Pine\r\n" + f"--{boundary}--\r\n".encode(), multipart))
    for body, headers in bodies:
        response = me.post(url, content=body, headers=headers)
        assert response.status_code == 422, body
        assert "nothing was changed" in response.text
        assert "\ufffd" not in response.text
    assert _notes_of(db, program) == before

    accepted = me.post(url, data={"category": "housing", "body": "Café on Pine"})
    assert accepted.status_code in (200, 303)
    assert _notes_of(db, program) == [*before, "Café on Pine"]


def test_a_nul_in_a_json_body_is_refused_and_nothing_stored(app, db, world, api):
    # PostgreSQL cannot store a NUL (it answered 500); SQLite stored it in the name.
    officer = api(world.users["officer"])
    referral = {
        "kind": "arrest",
        "person": {"first_name": "Ana\u0000", "last_name": "Lopez"},
        "case_management_agency_id": world.agencies["case_management"].id,
        "arrest": {
            "offenses": ["VUCSA-possession"],
            "arrested_at": "2026-12-01T10:00:00Z",
            "place": "3rd Ave & Pine St",
            "precinct": "West",
            "offense_tracking_number": "OTN-77",
        },
    }
    body = json.dumps(referral).encode()
    response = officer.post(
        "/api/v1/referrals", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "first_name" in str(response.json()["detail"])
    assert _count(db, Referral.id) == 0
    referral["person"]["first_name"] = "Ana"
    assert officer.post("/api/v1/referrals", json=referral).status_code == 201
    assert _count(db, Referral.id) == 1


def test_a_query_that_is_not_utf8_is_refused(app, program, sign_in):
    me = sign_in(user=program.prosecutor)
    assert me.client.get("/charging?page=1").status_code == 200
    for query in ("page=1&x=%FF", "page=%00"):
        response = me.client.get(f"/charging?{query}")
        assert response.status_code == 422, query


# --- meetings ---------------------------------------------------------------------------------

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _meeting_form(world, starts_at: datetime) -> schedule.MeetingForm:
    return schedule.MeetingForm("LEAD", starts_at, "Room B", None, [world.users["defender"].id])


@pytest.mark.parametrize(
    "starts_at",
    [
        datetime(2026, 12, 2, 9, 0, tzinfo=UTC),  # yesterday
        datetime(2026, 12, 3, 8, 59, tzinfo=UTC),  # a minute ago
        datetime(2028, 12, 5, 9, 0, tzinfo=UTC),  # more than two years ahead
        datetime(9999, 12, 31, 0, 0, tzinfo=UTC),
    ],
)
def test_a_meeting_in_the_past_or_years_ahead_is_refused(db, world, starts_at):
    coordinator, actor = world.viewer("coordinator"), world.actor("coordinator")
    with pytest.raises(WorkGroupError, match=r"past|two years ahead"):
        schedule.create_meeting(db, coordinator, _meeting_form(world, starts_at), actor, now=NOW)
    with pytest.raises(WorkGroupError, match=r"past|two years ahead"):
        schedule.create_series(db, coordinator, _meeting_form(world, starts_at), 14, actor, now=NOW)
    assert db.exec(select(WorkGroupMeeting.id)).all() == []


def test_a_meeting_between_now_and_two_years_ahead_is_set(db, world):
    coordinator, actor = world.viewer("coordinator"), world.actor("coordinator")
    for starts_at in (datetime(2026, 12, 3, 9, 0, tzinfo=UTC), datetime(2028, 12, 3, tzinfo=UTC)):
        meeting = schedule.create_meeting(
            db, coordinator, _meeting_form(world, starts_at), actor, now=NOW
        )
        assert meeting.starts_at == starts_at


def test_the_meeting_form_refuses_a_past_or_far_date_with_a_message(db, world, sign_in):
    coordinator = sign_in(user=world.users["coordinator"])
    for starts_at, message in (
        ("2000-01-01T10:00", "cannot start in the past"),
        ("9999-12-31T23:59", "two years ahead"),
    ):
        response = coordinator.post(
            "/work-group/meetings",
            data={
                "title": "LEAD",
                "starts_at": starts_at,
                "place": "Room B",
                "invitees": [str(world.users["defender"].id)],
            },
        )
        assert response.status_code == 400, starts_at
        assert message in response.text
    assert db.exec(select(WorkGroupMeeting.id)).all() == []
    db.commit()
