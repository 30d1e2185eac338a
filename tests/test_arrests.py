"""Issue 15, item 1: any officer of any police agency, and a prosecutor's case system through
the API, reports a participant's arrest for any offense; the hub matches it to a participant
server side (a charging matter at the office the site routes it to, in the queue as a new
arrest) or leaves it for case management to reconcile; the reporter is told the same either
way (issue 12)."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from hub.accounts.own_access import create_api_token
from hub.arrests.models import ArrestReport
from hub.arrests.services import (
    RECEIVED,
    ArrestDetails,
    ArrestRefused,
    arrests_to_reconcile,
    reconcile_arrest,
    record_arrest,
)
from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.charging.models import ChargingMatter
from hub.charging.queue_order import prosecutor_queue
from hub.notifications.models import Notification
from hub.vocabulary import (
    ArrestReportStatus,
    NotificationKind,
    OffenseLevel,
    ProgramStatus,
    Role,
    SecurityEventTag,
    TokenScope,
)
from tests.audit_support import detail_of
from tests.signing_in import logged

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
BORN = date(1988, 4, 12)


@pytest.fixture(autouse=True)
def frozen() -> object:
    with mock.patch("hub.arrests.services.utcnow", return_value=NOW):
        yield


@pytest.fixture
def participant(world):
    return world.factories.Person(
        first_name="Marisol",
        last_name="Quenneville",
        date_of_birth=BORN,
        program_status=ProgramStatus.enrolled,
    )


def details(
    first="Marisol",
    last="Quenneville",
    born=BORN,
    *,
    otn="OTN-A-1",
    level=OffenseLevel.felony,
    victim=True,
    arrested_at=NOW - timedelta(hours=3),
):
    return ArrestDetails(
        first_name=first,
        last_name=last,
        date_of_birth=born,
        offense_code="assault-2",
        offense_description="Assault in the second degree",
        offense_level=level,
        has_victim=victim,
        arrested_at=arrested_at,
        place="Pike St",
        offense_tracking_number=otn,
    )


def count(db, model):
    return db.exec(select(func.count()).select_from(model)).one()


def test_an_officer_of_another_agency_reports_an_arrest_with_a_victim(world, participant):
    world.add_user("other_officer", Role.officer, "other_police")
    received = record_arrest(
        world.db,
        world.viewer("other_officer"),
        details(),
        world.actor("other_officer"),
        rules=world.rules,
    )
    assert received.message == RECEIVED
    report = world.db.get(ArrestReport, received.arrest_report_id)
    assert report.status == ArrestReportStatus.matched
    assert report.has_victim and report.offense_level == OffenseLevel.felony
    matter = world.db.get(ChargingMatter, report.matter_id)
    assert matter.person_id == participant.id
    assert matter.prosecuting_agency_id == world.agencies["county_prosecutor"].id
    assert matter.offenses == ["assault-2"]  # not a LEAD-eligible code: recorded all the same
    queue = prosecutor_queue(
        world.db, world.viewer("county_prosecutor"), NOW.date(), rules=world.rules
    )
    assert [(i.matter_id, i.kind) for i in queue] == [(matter.id, "new_arrest")]
    notes = world.db.exec(
        select(Notification).where(Notification.kind == NotificationKind.new_arrest)
    ).all()
    assert {n.user_id for n in notes} == {
        world.users["county_prosecutor"].id,
        world.users["county_prosecutor2"].id,
    }
    assert logged(world.db, SecurityEventTag.arrest_reported)


@pytest.mark.parametrize(
    "level,office",
    [
        (OffenseLevel.misdemeanor, "city_attorney"),
        (OffenseLevel.gross_misdemeanor, "city_attorney"),
        (OffenseLevel.felony, "county_prosecutor"),
    ],
)
def test_the_site_rules_route_the_matter_by_level(world, participant, level, office):
    received = record_arrest(
        world.db, world.viewer("officer"), details(level=level), world.actor("officer")
    )
    matter_id = world.db.get(ArrestReport, received.arrest_report_id).matter_id
    assert world.db.get(ChargingMatter, matter_id).prosecuting_agency_id == (
        world.agencies[office].id
    )


@pytest.mark.parametrize(
    "who",
    [
        ("Somebody", "Unknown", date(1970, 1, 1)),  # no one on file
        ("Marisol", "Quenneville", date(1990, 1, 1)),  # the name, another date of birth
        ("Marisol", "Quenneville", None),  # no date of birth: not sure
    ],
)
def test_no_sure_match_waits_for_case_management(world, participant, who):
    received = record_arrest(
        world.db, world.viewer("officer"), details(*who), world.actor("officer")
    )
    assert received.message == RECEIVED
    report = world.db.get(ArrestReport, received.arrest_report_id)
    assert (report.status, report.matter_id) == (ArrestReportStatus.to_reconcile, None)
    assert count(world.db, ChargingMatter) == 0
    assert [r.arrest_report_id for r in arrests_to_reconcile(world.db)] == [report.id]


def test_a_person_not_in_the_program_is_not_matched(world, participant):
    participant.program_status = ProgramStatus.referred
    world.db.add(participant)
    world.db.commit()
    received = record_arrest(world.db, world.viewer("officer"), details(), world.actor("officer"))
    report = world.db.get(ArrestReport, received.arrest_report_id)
    assert report.status == ArrestReportStatus.to_reconcile
    assert report.candidate_ids == [participant.id]


def test_every_problem_is_refused_at_once_and_nothing_changes(world, participant):
    before = (count(world.db, ArrestReport), count(world.db, LogEntry))
    with pytest.raises(ArrestRefused) as refused:
        record_arrest(
            world.db,
            world.viewer("officer"),
            ArrestDetails(
                first_name=" ",
                last_name="Q",
                date_of_birth=date(2030, 1, 1),
                offense_code="",
                offense_description="x",
                offense_level=OffenseLevel.felony,
                has_victim=False,
                arrested_at=NOW + timedelta(days=1),
                place="",
                offense_tracking_number="OTN-1",
            ),
            world.actor("officer"),
        )
    assert {f for f, _ in refused.value.problems} == {
        "first_name",
        "offense_code",
        "date_of_birth",
        "arrested_at",
    }
    with pytest.raises(ArrestRefused, match="more than two years back"):
        record_arrest(
            world.db,
            world.viewer("officer"),
            details(arrested_at=NOW - timedelta(days=800)),
            world.actor("officer"),
        )
    world.db.rollback()
    assert (count(world.db, ArrestReport), count(world.db, LogEntry)) == before


def test_an_offense_tracking_number_is_used_once(world, participant):
    record_arrest(world.db, world.viewer("officer"), details(), world.actor("officer"))
    with pytest.raises(ArrestRefused, match="offense_tracking_number: that number"):
        record_arrest(world.db, world.viewer("officer2"), details(), world.actor("officer2"))


def test_case_management_links_a_report_to_one_of_its_candidates(world, participant):
    received = record_arrest(
        world.db, world.viewer("officer"), details(born=None), world.actor("officer")
    )
    supervisor = world.viewer("supervisor")
    stranger = world.factories.Person(program_status=ProgramStatus.enrolled)
    with pytest.raises(ArrestRefused, match="among the candidates"):
        reconcile_arrest(
            world.db, supervisor, received.arrest_report_id, stranger.id, world.actor("supervisor")
        )
    world.db.rollback()
    report = reconcile_arrest(
        world.db,
        supervisor,
        received.arrest_report_id,
        participant.id,
        world.actor("supervisor"),
        rules=world.rules,
    )
    assert report.status == ArrestReportStatus.linked
    matter = world.db.get(ChargingMatter, report.matter_id)
    assert matter.person_id == participant.id
    assert logged(world.db, SecurityEventTag.arrest_reconciled)
    with pytest.raises(ArrestRefused):
        reconcile_arrest(
            world.db, supervisor, received.arrest_report_id, None, world.actor("supervisor")
        )


def _post(client, body):
    return client.post("/api/v1/arrests", json=body)


def _body(first="Marisol", last="Quenneville", born=BORN, otn="OTN-API-1"):
    return {
        "first_name": first,
        "last_name": last,
        "date_of_birth": born.isoformat(),
        "offense_code": "burglary-2",
        "offense_description": "Burglary in the second degree",
        "offense_level": "felony",
        "has_victim": True,
        "arrested_at": (NOW - timedelta(hours=2)).isoformat(),
        "place": "1st Ave",
        "offense_tracking_number": otn,
    }


def _without_ids(answer):
    return {k: v for k, v in answer.items() if k not in ("arrest_report_id", "received_at")}


def test_the_api_answers_police_the_same_whether_or_not_the_person_matched(world, participant, api):
    world.add_user("other_officer", Role.officer, "other_police")
    client = api(world.users["other_officer"])
    matched = _post(client, _body(otn="OTN-API-1"))
    unmatched = _post(client, _body("Nobody", "Known", date(1970, 2, 2), otn="OTN-API-2"))
    assert matched.status_code == unmatched.status_code == 201
    assert _without_ids(matched.json()) == _without_ids(unmatched.json())
    assert set(matched.json()) == {"arrest_report_id", "received_at", "message"}
    assert matched.headers.keys() == unmatched.headers.keys()
    statuses = [
        world.db.get(ArrestReport, r.json()["arrest_report_id"]).status
        for r in (matched, unmatched)
    ]
    assert statuses == [ArrestReportStatus.matched, ArrestReportStatus.to_reconcile]


def test_a_prosecutors_case_system_reports_through_the_api(world, participant, api):
    answer = _post(api(world.users["county_prosecutor"]), _body())
    assert answer.status_code == 201
    report = world.db.get(ArrestReport, answer.json()["arrest_report_id"])
    assert report.reporting_agency_id == world.agencies["county_prosecutor"].id
    assert report.matter_id is not None


def test_the_api_refuses_bad_input_per_field_and_roles_without_the_action(world, participant, api):
    body = _body() | {"offense_level": "infraction", "has_victim": "perhaps"}
    body["arrested_at"] = "2026-12-01T10:00:00"  # no time zone
    answer = _post(api(world.users["officer"]), body)
    assert answer.status_code == 422
    fields = {str(p["field"]) for p in answer.json()["detail"]}
    assert {"offense_level", "has_victim", "arrested_at"} <= {f.split(".")[-1] for f in fields}
    future = _post(api(world.users["officer"]), _body() | {"date_of_birth": "2030-01-01"})
    assert future.status_code == 422
    assert future.json()["detail"][0]["field"] == "date_of_birth"
    year_one = _post(
        api(world.users["officer"]), _body() | {"arrested_at": "0001-01-01T00:00:00+14:00"}
    )
    assert year_one.status_code == 422
    assert year_one.json()["detail"][0]["field"] == "arrested_at"
    assert _post(api(world.users["defender"]), _body()).status_code == 403
    assert count(world.db, ArrestReport) == 0


def test_a_read_only_token_may_not_report(world, participant, app):
    user = world.users["officer"]
    token = create_api_token(
        world.db, Actor(user_id=user.id), user, "records", 30, scope=TokenScope.read
    )
    world.db.commit()
    with TestClient(app, base_url="https://testserver") as client:
        client.headers["Authorization"] = f"Bearer {token}"
        assert _post(client, _body()).status_code == 403
    assert count(world.db, ArrestReport) == 0


def _form(first="Marisol", last="Quenneville", born="1988-04-12", otn="OTN-P-1"):
    return {
        "first_name": first,
        "last_name": last,
        "date_of_birth": born,
        "offense_code": "theft-3",
        "offense_description": "Theft in the third degree",
        "offense_level": "gross_misdemeanor",
        "has_victim": "true",
        "arrested_at": "2026-12-03T07:30",
        "place": "Pike St",
        "offense_tracking_number": otn,
    }


def test_the_officers_page_says_the_same_either_way(world, participant, sign_in):
    world.add_user("other_officer", Role.officer, "other_police")
    officer = sign_in(user=world.users["other_officer"])
    assert "Report an arrest" in officer.client.get("/arrests/new").text
    matched = officer.post("/arrests/new", data=_form(otn="OTN-P-1"))
    unmatched = officer.post("/arrests/new", data=_form("No", "One", "1970-01-01", "OTN-P-2"))
    assert matched.status_code == unmatched.status_code == 201
    ids = sorted(r.id for r in world.db.exec(select(ArrestReport)))
    shown = [
        answer.text.replace(f"Arrest report {i}:", "Arrest report N:")
        for answer, i in ((matched, ids[0]), (unmatched, ids[1]))
    ]
    assert "Arrest report N:" in shown[0] and shown[0] == shown[1]
    assert "Quenneville" not in matched.text


def test_the_page_refuses_every_problem_at_once(world, participant, sign_in):
    officer = sign_in(user=world.users["officer"])
    form = _form() | {"arrested_at": "yesterday", "offense_level": "", "first_name": ""}
    answer = officer.post("/arrests/new", data=form)
    assert answer.status_code == 422
    for field in ("arrested at", "offense level", "first name"):
        assert field in answer.text
    assert count(world.db, ArrestReport) == 0


def test_the_reconcile_page_and_a_typed_id_refused_and_logged(world, participant, sign_in):
    received = record_arrest(
        world.db, world.viewer("officer"), details(born=None), world.actor("officer")
    )
    supervisor = sign_in(user=world.users["supervisor"])
    page = supervisor.client.get("/arrests/to-reconcile")
    assert page.status_code == 200 and f"/arrests/{received.arrest_report_id}/" in page.text
    [read] = logged(world.db, SecurityEventTag.arrest_reports_read)
    assert detail_of(read)["arrest_report_ids"] == [received.arrest_report_id]
    refused = supervisor.post(
        f"/arrests/{received.arrest_report_id}/reconcile", data={"person_id": "999999"}
    )
    assert refused.status_code == 404
    assert logged(world.db, SecurityEventTag.access_denied)
    linked = supervisor.post(
        f"/arrests/{received.arrest_report_id}/reconcile",
        data={"person_id": str(participant.id)},
        follow_redirects=False,
    )
    assert linked.status_code == 303
    assert world.db.get(ArrestReport, received.arrest_report_id).matter_id is not None
    assert sign_in(user=world.users["officer"]).client.get("/arrests/to-reconcile").status_code == (
        403
    )
