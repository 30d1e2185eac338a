"""Part 2 by source (42 CFR 2.11; HL7 DS4P; issue 12, item 1): what a Part 2 program records
about a client is Part 2 data whatever field it sits in, a living situation naming treatment or
detox is treatment wherever it is recorded, and a charging decision resting on such a read is
refused with a breach signal.

The finding, as a prosecutor met it in the demo: a general consent naming the prosecutor's
office released the treatment provider's plan goal ("Try buprenorphine again, at my own
pace."), a living situation of HMIS code 205 and a waiting list for recovery housing, and a file
decision could then be bound to that read."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from hub.accounts.administration import Scope, set_part2_program
from hub.accounts.models import Agency, User
from hub.accounts.own_access import create_api_token
from hub.accounts.rules import NotPermitted
from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.charging.binding import Part2BindingRefused
from hub.charging.deciding import record_decision
from hub.charging.models import ChargingDecision, ChargingMatter, DecisionFlag
from hub.clients.models import (
    CaseNote,
    ClientAssignment,
    HousingRecord,
    Person,
    PersonContact,
    PlanGoal,
)
from hub.db import ident
from hub.disclosure.items import ItemRequest, disclose_items
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.disclosure.record import disclose_record
from hub.disclosure.record_view import WithheldCategory
from hub.referrals.rules import default_rules
from hub.vocabulary import (
    AgencyKind,
    AgendaItemKind,
    AssignmentKind,
    Category,
    ConsentKind,
    ItemEntryKind,
    Purpose,
    Role,
    SecurityEventTag,
    TokenScope,
    WithheldReason,
)
from hub.workgroup.models import AgendaItem, ItemEntry, WorkGroupMeeting
from tests.audit_support import detail_of
from tests.fixtures.referrals import actor_of, viewer_of

GOAL = "Try buprenorphine again, at my own pace."
WAITLIST = "Cedar Commons recovery housing"
STAYING_AT = "Detox unit, bed 4"
NOTE = "Talked through the detox beds at intake."
OTHER_GOAL = "Get an ID card"
# A fixed clock: the program's data was recorded on these days, whatever day the suite runs.
RECORDED = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


@dataclass
class Program:
    db: Session
    agencies: dict[str, Agency]
    users: dict[str, User]
    person: Person
    matter: ChargingMatter

    def viewer(self, name: str):
        return viewer_of(self.db, self.users[name])

    def actor(self, name: str) -> Actor:
        return actor_of(self.viewer(name))

    def read(self, name: str, purpose: Purpose):
        return disclose_record(
            self.db, self.viewer(name), ident(self.person.id), purpose, self.actor(name)
        )

    def consent(self, kind: ConsentKind, recipient: str, purposes: list[Purpose]) -> None:
        self.db.add(
            _consent(self.person.id, kind, self.agencies[recipient].id, self.users["cm"], purposes)
        )
        self.db.commit()

    def mark_part2(self, on: bool = True) -> None:
        set_part2_program(
            self.db,
            self.actor("coordinator"),
            Scope.of(self.viewer("coordinator")),
            ident(self.agencies["treatment"].id),
            part2_program=on,
        )


def _consent(person_id, kind, agency_id, case_manager, purposes):
    from tests.factories import ConsentFactory

    return ConsentFactory.build(
        person_id=person_id,
        kind=kind,
        categories=[
            c.value for c in (Category.plan, Category.housing, Category.contact, Category.treatment)
        ],
        purposes=[p.value for p in purposes],
        recipient_agency_id=agency_id,
        discloser_agency_id=case_manager.agency_id,
        created_by_id=case_manager.id,
    )


def _program(db: Session, factories: SimpleNamespace, *, part2: bool = True) -> Program:
    make = factories.Agency
    agencies = {
        "police": make(name="Metro Police", kind=AgencyKind.police),
        "treatment": make(
            name="Evergreen Harm Reduction", kind=AgencyKind.case_management, part2_program=part2
        ),
        "housing": make(name="Harbor Housing Services", kind=AgencyKind.case_management),
        "prosecutor": make(name="County Prosecutor", kind=AgencyKind.prosecution),
        "defense": make(name="Public Defender", kind=AgencyKind.defense),
        "office": make(name="Program Office", kind=AgencyKind.program_office),
    }
    users = {
        name: factories.User(role=role, agency=agencies[agency])
        for name, role, agency in (
            ("officer", Role.officer, "police"),
            ("cm", Role.case_manager, "treatment"),
            ("housing_cm", Role.case_manager, "housing"),
            ("prosecutor", Role.prosecutor, "prosecutor"),
            ("defender", Role.defender, "defense"),
            ("coordinator", Role.coordinator, "office"),
            ("treatment_admin", Role.admin, "treatment"),
        )
    }
    person = factories.Person()
    referral = factories.Referral(
        person_id=person.id,
        referring_user=users["officer"],
        case_management_agency_id=agencies["treatment"].id,
        forwarded_to_agency_id=agencies["prosecutor"].id,
    )
    matter = ChargingMatter(
        person_id=person.id,
        referral_id=referral.id,
        prosecuting_agency_id=agencies["prosecutor"].id,
        offense_tracking_number=f"OTN-P2-{person.id}",
        offenses=["VUCSA-possession"],
        arrested_at=RECORDED - timedelta(days=30),
    )
    cm = users["cm"]
    db.add_all(
        [
            matter,
            ClientAssignment(person_id=person.id, user_id=cm.id, kind=AssignmentKind.caseload),
            ClientAssignment(
                person_id=person.id, user_id=users["defender"].id, kind=AssignmentKind.defense
            ),
            # What the treatment provider's staff recorded, in four categories.
            PlanGoal(person_id=person.id, goal=GOAL, created_by_id=cm.id, created_at=RECORDED),
            HousingRecord(
                person_id=person.id,
                living_situation=116,
                waitlist=WAITLIST,
                recorded_by_id=cm.id,
                updated_at=RECORDED,
            ),
            PersonContact(
                person_id=person.id,
                staying_at=STAYING_AT,
                recorded_by_id=cm.id,
                updated_at=RECORDED,
            ),
            CaseNote(
                person_id=person.id,
                author_id=cm.id,
                category=Category.plan,
                body=NOTE,
                written_at=RECORDED,
            ),
            # A goal recorded elsewhere (no Part 2 program): it stays plan data.
            PlanGoal(person_id=person.id, goal=OTHER_GOAL, created_at=RECORDED),
        ]
    )
    db.commit()
    return Program(db=db, agencies=agencies, users=users, person=person, matter=matter)


@pytest.fixture
def program(db: Session, factories: SimpleNamespace) -> Program:
    return _program(db, factories)


@pytest.fixture
def api(app, db: Session) -> Iterator:
    clients: list[TestClient] = []

    def _api(user: User) -> TestClient:
        # Read and write: the tests post notes and decisions as an agency's own system would.
        token = create_api_token(
            db, Actor(request_id="part2"), user, "part2", 30, scope=TokenScope.read_write
        )
        client = TestClient(
            app, base_url="https://testserver", headers={"Authorization": f"Bearer {token}"}
        )
        client.__enter__()
        clients.append(client)
        return client

    yield _api
    for client in clients:
        client.__exit__(None, None, None)


def _last_read(db: Session) -> LogEntry:
    entry = db.exec(
        select(LogEntry)
        .where(LogEntry.tag == "disclosure:client_record:read")
        .order_by(col(LogEntry.seq).desc())
    ).first()
    assert entry is not None
    return entry


# --- the finding: a general consent naming the prosecutor's office ---------------------------


def test_a_general_consent_does_not_release_a_part2_programs_data_to_the_prosecutor_api(
    program, api
):
    program.consent(ConsentKind.general, "prosecutor", [Purpose.charging_decision])
    response = api(program.users["prosecutor"]).get(f"/api/v1/clients/{program.person.id}")
    assert response.status_code == 200
    body = response.json()
    for words in (GOAL, WAITLIST, STAYING_AT, NOTE, "buprenorphine", "detox"):
        assert words not in response.text
    # The plan goal recorded elsewhere is still plan data under the consent...
    assert [g["goal"] for g in body["plan"]["goals"]] == [OTHER_GOAL]
    assert body["plan"]["part2_withheld"] == WithheldReason.enforcement_rule
    # ...the treatment provider's housing entry stands withheld, with treatment's reason.
    assert body["housing"]["withheld"] is True
    assert body["housing"]["reason"] == WithheldReason.enforcement_rule
    assert body["contact"]["withheld"] is True
    assert body["notes"] == []
    assert body["part2"] is False
    entry = _last_read(program.db)
    assert Category.housing.value in detail_of(entry)["withheld"]
    assert Category.treatment.value not in entry.categories
    assert detail_of(entry)["part2_origin"] == []


def test_a_general_consent_does_not_release_a_part2_programs_data_to_the_prosecutor_page(
    program, sign_in
):
    program.consent(ConsentKind.general, "prosecutor", [Purpose.charging_decision])
    page = sign_in(user=program.users["prosecutor"]).client.get(f"/clients/{program.person.id}")
    assert page.status_code == 200
    assert OTHER_GOAL in page.text
    for words in (GOAL, WAITLIST, STAYING_AT, NOTE, "buprenorphine"):
        assert words not in page.text
    assert 'data-withheld="housing"' in page.text
    assert 'data-withheld="plan-part2"' in page.text


def test_the_programs_own_case_manager_still_sees_it_labelled_with_the_notice(program, api):
    response = api(program.users["cm"]).get(f"/api/v1/clients/{program.person.id}")
    body = response.json()
    assert {g["goal"]: g["part2"] for g in body["plan"]["goals"]} == {
        GOAL: True,
        OTHER_GOAL: False,
    }
    assert body["housing"]["waitlist"] == WAITLIST
    assert body["contact"]["staying_at"] == STAYING_AT
    assert {n["body"]: n["part2"] for n in body["notes"]} == {NOTE: True}
    assert body["part2"] is True
    assert body["redisclosure_notice"] == REDISCLOSURE_NOTICE
    # The log records what was shown as treatment: the label travels with the disclosure.
    entry = _last_read(program.db)
    assert Category.treatment.value in entry.categories
    assert detail_of(entry)["part2_origin"] == ["contact", "plan", "housing"]


def test_the_programs_own_case_manager_sees_the_notice_on_the_page(program, sign_in):
    page = sign_in(user=program.users["cm"]).client.get(f"/clients/{program.person.id}")
    assert GOAL in page.text and WAITLIST in page.text
    assert "data-part2-notice" in page.text


@pytest.mark.parametrize(
    ("kind", "shown"), [(ConsentKind.general, False), (ConsentKind.part2, True)]
)
def test_only_a_part2_consent_naming_the_recipient_releases_it(program, api, kind, shown):
    program.consent(kind, "defense", [Purpose.defense])
    body = api(program.users["defender"]).get(f"/api/v1/clients/{program.person.id}").json()
    goals = [g["goal"] for g in body["plan"]["goals"]]
    assert (GOAL in goals) is shown
    assert OTHER_GOAL in goals
    if shown:
        assert body["housing"]["waitlist"] == WAITLIST
        assert body["redisclosure_notice"] == REDISCLOSURE_NOTICE
    else:
        assert body["housing"]["reason"] == WithheldReason.part2
        assert body["redisclosure_notice"] is None


def test_a_part2_consent_never_releases_it_to_the_prosecutor(program, api):
    program.consent(ConsentKind.part2, "prosecutor", [Purpose.charging_decision])
    response = api(program.users["prosecutor"]).get(f"/api/v1/clients/{program.person.id}")
    assert GOAL not in response.text and WAITLIST not in response.text
    assert response.json()["housing"]["reason"] == WithheldReason.enforcement_rule


def test_data_of_an_agency_that_is_not_a_part2_program_is_unchanged(db, factories, api):
    program = _program(db, factories, part2=False)
    program.consent(ConsentKind.general, "prosecutor", [Purpose.charging_decision])
    body = api(program.users["prosecutor"]).get(f"/api/v1/clients/{program.person.id}").json()
    assert {g["goal"] for g in body["plan"]["goals"]} == {GOAL, OTHER_GOAL}
    assert body["housing"]["waitlist"] == WAITLIST
    # The prosecutor is told that a Part 2 program's goals are not shown to them here too, in
    # the same words: saying it only where a program recorded some would name its patients.
    assert body["plan"]["part2_withheld"] == WithheldReason.enforcement_rule


# --- a living situation naming treatment or detox -------------------------------------------


@pytest.mark.parametrize(("code", "shown"), [(205, False), (116, True)])
def test_a_treatment_living_situation_is_withheld_whoever_recorded_it(
    db, factories, api, code, shown
):
    program = _program(db, factories, part2=False)
    housing = db.get(HousingRecord, program.person.id)
    housing.living_situation = code
    housing.recorded_by_id = program.users["housing_cm"].id  # not a Part 2 program
    db.add(housing)
    db.commit()
    program.consent(ConsentKind.general, "prosecutor", [Purpose.charging_decision])
    body = api(program.users["prosecutor"]).get(f"/api/v1/clients/{program.person.id}").json()
    if shown:
        assert body["housing"]["living_situation"] == code
    else:
        assert body["housing"] == {
            "withheld": True,
            "reason": WithheldReason.enforcement_rule,
            "explanation": body["housing"]["explanation"],
        }


# --- the charging decision ------------------------------------------------------------------


def _decide(program: Program, material: list[int]) -> ChargingDecision:
    return record_decision(
        program.db,
        program.viewer("prosecutor"),
        ident(program.matter.id),
        "file",
        ["harm-to-victim"],
        None,
        material,
        program.actor("prosecutor"),
        rules=default_rules(),
    )


def test_a_decision_citing_a_part2_read_is_refused_with_a_breach_signal(db, factories, api):
    # The hub did not yet know the provider is a Part 2 program: the prosecutor read its plan.
    program = _program(db, factories, part2=False)
    program.consent(ConsentKind.general, "prosecutor", [Purpose.charging_decision])
    read = program.read("prosecutor", Purpose.charging_decision)
    assert GOAL in [g.goal for g in read.plan.goals]
    program.mark_part2()

    with pytest.raises(Part2BindingRefused) as refused:
        _decide(program, [read.log_seq])
    assert refused.value.log_seqs == [read.log_seq]
    assert db.exec(select(func.count()).select_from(ChargingDecision)).one() == 0
    assert db.exec(select(func.count()).select_from(DecisionFlag)).one() == 0
    signal = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.part2_breach_signal.value)
    ).one()
    assert (signal.outcome, signal.person_id, signal.detail["log_seqs"]) == (
        "denied",
        program.person.id,
        [read.log_seq],
    )


def test_the_decision_api_answers_409_for_a_part2_read(db, factories, api):
    program = _program(db, factories, part2=False)
    program.consent(ConsentKind.general, "prosecutor", [Purpose.charging_decision])
    response = api(program.users["prosecutor"]).get(f"/api/v1/clients/{program.person.id}")
    seq = response.json()["log_seq"]
    program.mark_part2()
    decided = api(program.users["prosecutor"]).post(
        f"/api/v1/charging/matters/{program.matter.id}/decisions",
        json={"outcome": "file", "reason_codes": ["harm-to-victim"], "material_seqs": [seq]},
    )
    assert decided.status_code == 409
    assert "42 CFR 2.12(d)" in decided.json()["detail"]


def test_a_read_that_withheld_the_part2_data_still_binds(program):
    program.consent(ConsentKind.general, "prosecutor", [Purpose.charging_decision])
    read = program.read("prosecutor", Purpose.charging_decision)
    decision = _decide(program, [read.log_seq])
    # A file decision on plan data recorded outside the program is flagged, as before.
    flag = program.db.exec(
        select(DecisionFlag).where(DecisionFlag.decision_id == decision.id)
    ).one()
    assert flag.categories == ["plan"]


def test_a_treatment_living_situation_recorded_after_the_read_does_not_refuse(db, factories):
    program = _program(db, factories, part2=False)
    program.consent(ConsentKind.general, "prosecutor", [Purpose.charging_decision])
    read = program.read("prosecutor", Purpose.charging_decision)  # living situation 116 then
    shown_at = db.get(LogEntry, read.log_seq).recorded_at
    housing = db.get(HousingRecord, program.person.id)
    housing.living_situation = 205
    housing.updated_at = shown_at + timedelta(seconds=1)  # not what the read showed
    db.add(housing)
    db.commit()
    decision = _decide(program, [read.log_seq])
    assert decision.id is not None


# --- who marks a Part 2 program -------------------------------------------------------------


def test_only_the_program_office_marks_a_part2_program_and_it_is_logged(db, factories):
    program = _program(db, factories, part2=False)
    admin = program.viewer("treatment_admin")
    with pytest.raises(NotPermitted):
        set_part2_program(
            db,
            actor_of(admin),
            Scope.of(admin),
            ident(program.agencies["treatment"].id),
            part2_program=False,
        )
    assert db.get(Agency, program.agencies["treatment"].id).part2_program is False
    program.mark_part2()
    assert db.get(Agency, program.agencies["treatment"].id).part2_program is True
    event = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.agency_part2_program_changed.value)
    ).one()
    assert event.detail == {
        "agency_id": program.agencies["treatment"].id,
        "part2_program": True,
    }
    assert event.actor_user_id == program.users["coordinator"].id


# --- work-group updates ---------------------------------------------------------------------


def test_a_work_group_update_by_part2_staff_is_part2_data(program):
    coordinator = program.users["coordinator"].id
    meeting = WorkGroupMeeting(title="Work group", starts_at=RECORDED, created_by_id=coordinator)
    program.db.add(meeting)
    program.db.flush()
    item = AgendaItem(
        meeting_id=ident(meeting.id),
        kind=AgendaItemKind.manual,
        person_id=program.person.id,
        added_by_id=coordinator,
    )
    program.db.add(item)
    program.db.flush()
    entry = ItemEntry(
        item_id=ident(item.id),
        person_id=program.person.id,
        kind=ItemEntryKind.update,
        category=Category.plan,
        body="Back on the waiting list for the detox unit.",
        author_id=program.users["cm"].id,
        written_at=RECORDED,
    )
    program.db.add(entry)
    program.db.commit()
    request = ItemRequest(key="1", person_id=program.person.id, entry_ids=[ident(entry.id)])

    def shown(name: str):
        (item,) = disclose_items(
            program.db, program.viewer(name), [request], Purpose.work_group, program.actor(name)
        )
        return item

    assert shown("cm").entries[0].part2 is True
    assert shown("cm").part2 is True
    assert shown("coordinator").entries[0].part2 is True  # the coordinator's line needs no consent
    program.consent(ConsentKind.general, "prosecutor", [Purpose.work_group])
    assert shown("prosecutor").entries == ()
    assert Category.plan in shown("prosecutor").withheld_entry_categories


def test_the_operator_marks_a_part2_program_from_the_command_line(db, factories):
    from typer.testing import CliRunner

    from hub.cli import app as cli

    agency = factories.Agency(name="Evergreen Harm Reduction", kind=AgencyKind.case_management)
    runner = CliRunner()
    result = runner.invoke(cli, ["agencies", "part2-program", agency.name, "--on"])
    assert result.exit_code == 0, result.output
    assert "is now a Part 2 program" in result.output
    db.expire_all()
    assert db.get(Agency, agency.id).part2_program is True
    db.commit()  # SQLite: hold no write lock while the command runs
    listed = runner.invoke(cli, ["agencies", "list"])
    assert f"{agency.name}\tcase_management\tpart2_program" in listed.output
    again = runner.invoke(cli, ["agencies", "part2-program", agency.name, "--on"])
    assert again.exit_code == 1 and "already a Part 2 program" in again.output
    event = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.agency_part2_program_changed.value)
    ).one()
    assert (event.actor_role, event.detail["part2_program"]) == ("operator", True)


def test_policy_explain_shows_the_decision_for_part2_data(program):
    from typer.testing import CliRunner

    from hub.cli import app as cli

    program.consent(ConsentKind.general, "prosecutor", [Purpose.charging_decision])
    email, person_id = program.users["prosecutor"].email, str(program.person.id)
    purpose = ["--purpose", "charging_decision"]
    result = CliRunner().invoke(cli, ["policy", "explain", email, person_id, *purpose])
    assert result.exit_code == 0, result.output
    regular, part2 = result.output.split("recorded by a Part 2 program:")
    assert "plan          disclosed  consent:" in regular
    assert "plan          withheld   enforcement_rule" in part2
    assert GOAL not in result.output


def test_the_program_office_marks_a_part2_program_on_the_agency_page(db, factories, sign_in):
    program = _program(db, factories, part2=False)
    treatment = program.agencies["treatment"]
    own_admin = sign_in(user=program.users["treatment_admin"])
    page = own_admin.client.get(f"/admin/agencies/{treatment.id}")
    assert 'data-part2-program="no"' in page.text
    assert "part2-program" not in page.text.split('data-part2-program="no"')[1]  # no button
    refused = own_admin.post(
        f"/admin/agencies/{treatment.id}/part2-program", data={"part2_program": "false"}
    )
    assert refused.status_code == 403
    coordinator = sign_in(user=program.users["coordinator"])
    marked = coordinator.post(
        f"/admin/agencies/{treatment.id}/part2-program", data={"part2_program": "true"}
    )
    assert marked.status_code == 200
    assert 'data-part2-program="yes"' in marked.text
    db.expire_all()
    assert db.get(Agency, treatment.id).part2_program is True
    denied = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.access_denied.value)
    ).one()
    assert denied.detail == {"action": "set_part2_program", "agency_id": treatment.id}
    db.commit()
    # From now on the prosecutor's general consent no longer reaches the provider's plan goal.
    program.consent(ConsentKind.general, "prosecutor", [Purpose.charging_decision])
    read = program.read("prosecutor", Purpose.charging_decision)
    assert [g.goal for g in read.plan.goals] == [OTHER_GOAL]


def test_a_part2_consent_disclosure_by_source_is_in_the_part2_accounting(program, factories):
    from hub.privacy.accounting import PART2_RULE, generate_accounting

    consent = _consent(
        program.person.id,
        ConsentKind.part2,
        program.agencies["defense"].id,
        program.users["cm"],
        [Purpose.defense],
    )
    # A Part 2 consent for the plan and housing only: the treatment category is not released,
    # what is Part 2 data here is the provider's plan goal and housing entry.
    consent.categories = [Category.plan.value, Category.housing.value]
    program.db.add(consent)
    program.db.commit()
    read = program.read("defender", Purpose.defense)
    assert isinstance(read.treatment, WithheldCategory)
    assert read.part2 and GOAL in [g.goal for g in read.plan.goals]
    entry = program.db.get(LogEntry, read.log_seq)
    assert entry.detail["basis"]["treatment"] == entry.detail["basis"]["plan"]
    privacy_officer = factories.User(role=Role.privacy_officer, agency=program.agencies["office"])
    viewer = viewer_of(program.db, privacy_officer)
    report = generate_accounting(
        program.db, viewer, program.person.id, actor_of(viewer), summarise=False
    )
    (part2,) = [s for s in report.sections if s.rule == PART2_RULE]
    assert [line.seqs for line in part2.lines] == [(read.log_seq,)]


def test_a_note_the_programs_staff_write_comes_back_labelled_with_the_notice(program, api):
    written = api(program.users["cm"]).post(
        f"/api/v1/clients/{program.person.id}/notes",
        json={"category": "engagement", "body": "Came to group on Tuesday."},
    )
    assert written.status_code == 201
    assert written.json()["part2"] is True
    assert written.json()["redisclosure_notice"] == REDISCLOSURE_NOTICE
