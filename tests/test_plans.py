"""The client-set plan and the services ledger (issue 14, items 4 and 6): who may write what, a
substance-use goal is treatment data whoever records it (police and prosecution never see it),
each change and each read logged, every bad field answered at once, a bridge paid after the
client's turn came flagged as displacement, and the program office's monthly totals logged as
an aggregate disclosure. Both databases (the `db` fixture)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from hub.accounts.models import Agency, User
from hub.accounts.own_access import create_api_token
from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.caserecord.models import RecordChange
from hub.caserecord.writing import WriteRefused
from hub.clients.models import ClientAssignment, Person, PlanGoal
from hub.db import ident
from hub.disclosure.origin import holds_part2
from hub.disclosure.plans import disclose_plan
from hub.notifications.models import Notification
from hub.plans.forms import FormErrors, GoalChangeForm, GoalForm, StepForm
from hub.plans.models import PlanStep
from hub.plans.services import GoalConflict, add_goal, add_step, change_goal, change_step
from hub.services_ledger.models import ServiceRecord
from hub.services_ledger.services import ServiceForm, TurnForm, record_service, record_turn
from hub.vocabulary import (
    AgencyKind,
    AssignmentKind,
    Category,
    ConsentKind,
    DisclosureTag,
    GoalStatus,
    NotificationKind,
    PlanDomain,
    Purpose,
    Role,
    SecurityEventTag,
    StepStatus,
    TokenScope,
)
from tests.audit_support import detail_of
from tests.factories import ConsentFactory
from tests.fixtures.referrals import actor_of, viewer_of

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
HOUSING_GOAL = "Get my own place near my sister"
DRUG_GOAL = "Use less, and never alone"


@dataclass
class Program:
    db: Session
    agencies: dict[str, Agency]
    users: dict[str, User]
    person: Person

    def viewer(self, name: str):
        return viewer_of(self.db, self.users[name])

    def actor(self, name: str) -> Actor:
        return actor_of(self.viewer(name))

    def plan(self, name: str, purpose: Purpose):
        return disclose_plan(
            self.db, self.viewer(name), ident(self.person.id), purpose, self.actor(name)
        )

    def goal(self, name: str, goal: str, domain: str) -> int:
        form = GoalForm(goal=goal, domain=domain, services="")
        return add_goal(
            self.db, self.viewer(name), ident(self.person.id), form, self.actor(name)
        ).goal_id

    def service(self, name: str, **fields: str) -> ServiceRecord:
        values = {"kind": "motel_stay", "provider": "Sea-Tac Motel", "funding_source": "lead"}
        values.update(fields)
        return record_service(
            self.db,
            self.viewer(name),
            ident(self.person.id),
            ServiceForm(**values),
            self.actor(name),
            TODAY,
        )


@pytest.fixture
def program(db: Session, factories: SimpleNamespace) -> Program:
    make = factories.Agency
    agencies = {
        "police": make(name="Metro Police", kind=AgencyKind.police),
        # Not a Part 2 program: what its staff record is plan data, except substance use.
        "housing": make(name="Harbor Housing Services", kind=AgencyKind.case_management),
        "treatment": make(
            name="Evergreen Harm Reduction", kind=AgencyKind.case_management, part2_program=True
        ),
        "prosecutor": make(name="County Prosecutor", kind=AgencyKind.prosecution),
        "office": make(name="Program Office", kind=AgencyKind.program_office),
    }
    users = {
        name: factories.User(role=role, agency=agencies[agency])
        for name, role, agency in (
            ("officer", Role.officer, "police"),
            ("cm", Role.case_manager, "housing"),
            ("other_cm", Role.case_manager, "housing"),
            ("p2_cm", Role.case_manager, "treatment"),
            ("prosecutor", Role.prosecutor, "prosecutor"),
            ("coordinator", Role.coordinator, "office"),
        )
    }
    person = factories.Person()
    factories.Referral(
        person_id=person.id,
        referring_user=users["officer"],
        case_management_agency_id=agencies["housing"].id,
        forwarded_to_agency_id=agencies["prosecutor"].id,
    )
    for name in ("cm", "p2_cm"):
        db.add(
            ClientAssignment(
                person_id=person.id, user_id=users[name].id, kind=AssignmentKind.caseload
            )
        )
    # A general consent naming the prosecutor's office and the police for plan data.
    for recipient in ("prosecutor", "police"):
        db.add(
            ConsentFactory.build(
                person_id=person.id,
                kind=ConsentKind.general,
                categories=[Category.plan.value, Category.treatment.value],
                purposes=[p.value for p in Purpose],
                recipient_agency_id=agencies[recipient].id,
                discloser_agency_id=agencies["housing"].id,
                created_by_id=users["cm"].id,
            )
        )
    db.commit()
    return Program(db=db, agencies=agencies, users=users, person=person)


@pytest.fixture(autouse=True)
def clock():
    with (
        mock.patch("hub.plans.routes.utcnow", return_value=NOW),
        mock.patch("hub.services_ledger.routes.utcnow", return_value=NOW),
    ):
        yield


def _entries(db: Session, tag: str) -> list[LogEntry]:
    entries = db.exec(select(LogEntry).where(LogEntry.tag == tag).order_by(col(LogEntry.seq))).all()
    db.commit()
    return list(entries)


# --- the plan: goals and steps ----------------------------------------------------------------


def test_the_case_manager_keeps_goals_and_steps_and_each_change_is_logged(program):
    goal_id = program.goal("cm", HOUSING_GOAL, "housing")
    step = add_step(
        program.db,
        program.viewer("cm"),
        program.person.id,
        goal_id,
        StepForm(step="Apply at the housing authority", on_date="2026-11-25"),
        program.actor("cm"),
        TODAY,
    )
    change_step(
        program.db,
        program.viewer("cm"),
        program.person.id,
        goal_id,
        ident(step.step_id),
        StepForm(status="done", on_date="2026-11-24"),
        program.actor("cm"),
        TODAY,
    )
    change_goal(
        program.db,
        program.viewer("cm"),
        program.person.id,
        goal_id,
        GoalChangeForm(status="met"),
        program.actor("cm"),
    )
    plan = program.plan("cm", Purpose.case_management)
    (goal,) = plan.goals
    assert (goal.goal, goal.domain, goal.status) == (HOUSING_GOAL, "housing", GoalStatus.met)
    assert [(s.step, s.status, s.on_date) for s in goal.steps] == [
        ("Apply at the housing authority", StepStatus.done, date(2026, 11, 24))
    ]
    goal_events = _entries(program.db, SecurityEventTag.plan_goal_changed.value)
    assert [detail_of(e)["change"] for e in goal_events] == ["added", "changed"]
    assert detail_of(goal_events[1])["previous_status"] == "open"
    step_events = _entries(program.db, SecurityEventTag.plan_step_changed.value)
    assert [detail_of(e)["change"] for e in step_events] == ["added", "changed"]
    # The words are client data: never in the log's detail.
    for entry in goal_events + step_events:
        assert HOUSING_GOAL not in str(entry.detail)
    read = _entries(program.db, DisclosureTag.client_plan_read.value)[-1]
    assert read.person_id == program.person.id
    assert detail_of(read)["plan_goals"] == [goal_id]
    assert detail_of(read)["plan_steps"] == [step.step_id]


def test_a_goal_is_never_failed_and_every_bad_field_is_named_at_once(program):
    with pytest.raises(FormErrors) as caught:
        add_goal(
            program.db,
            program.viewer("cm"),
            program.person.id,
            GoalForm(goal="  ", domain="failure"),
            program.actor("cm"),
        )
    assert set(caught.value.errors) == {"goal", "domain"}
    goal_id = program.goal("cm", HOUSING_GOAL, "housing")
    with pytest.raises(FormErrors) as caught:
        change_goal(
            program.db,
            program.viewer("cm"),
            program.person.id,
            goal_id,
            GoalChangeForm(status="failed"),
            program.actor("cm"),
        )
    assert set(caught.value.errors) == {"status"}
    with pytest.raises(FormErrors) as caught:
        add_step(
            program.db,
            program.viewer("cm"),
            program.person.id,
            goal_id,
            StepForm(step="", status="abandoned", on_date="1970-01-01"),
            program.actor("cm"),
            TODAY,
        )
    assert set(caught.value.errors) == {"step", "status", "on_date"}
    assert program.db.exec(select(PlanStep)).all() == []
    assert program.db.get(PlanGoal, goal_id).status == GoalStatus.open.value


def test_a_stale_goal_form_never_overwrites_a_newer_change_and_history_keeps_both(program):
    goal_id = program.goal("cm", HOUSING_GOAL, "housing")
    first = GoalChangeForm(status="met", version=1)
    change_goal(
        program.db, program.viewer("cm"), program.person.id, goal_id, first, program.actor("cm")
    )
    stale = GoalChangeForm(status="set_aside", version=1)
    with pytest.raises(GoalConflict) as caught:
        change_goal(
            program.db, program.viewer("cm"), program.person.id, goal_id, stale, program.actor("cm")
        )
    assert set(caught.value.errors) == {"version"}
    assert program.db.get(PlanGoal, goal_id).status == GoalStatus.met.value
    changes = program.db.exec(
        select(RecordChange)
        .where(RecordChange.section == f"plan_goal:{goal_id}")
        .order_by(col(RecordChange.version))
    ).all()
    assert [c.version for c in changes] == [1, 2]
    assert changes[0].previous is None and '"status": "open"' in changes[0].saved
    assert '"status": "open"' in changes[1].previous and '"status": "met"' in changes[1].saved
    assert all(c.changed_by_id == program.users["cm"].id for c in changes)
    assert [c.category for c in changes] == [Category.plan, Category.plan]


def test_only_case_management_on_the_caseload_writes_the_plan_and_refusals_are_logged(program):
    goal_id = program.goal("cm", HOUSING_GOAL, "housing")
    for name in ("officer", "prosecutor", "coordinator", "other_cm"):
        with pytest.raises(WriteRefused):
            program.goal(name, "A goal someone else wrote", "income")
        with pytest.raises(WriteRefused):
            change_goal(
                program.db,
                program.viewer(name),
                program.person.id,
                goal_id,
                GoalChangeForm(status="set_aside"),
                program.actor(name),
            )
    refusals = _entries(program.db, SecurityEventTag.access_denied.value)
    assert len(refusals) == 8
    assert all(detail_of(r)["person_id"] == program.person.id for r in refusals)
    assert program.db.exec(select(PlanGoal)).one().status == GoalStatus.open.value


def test_a_substance_use_goal_is_treatment_data_whoever_records_it(program):
    """42 CFR Part 2 (issue 14, item 4): a substance-use goal never reaches police or
    prosecution, not even on a consent naming them, whoever recorded it (here the housing
    agency, no Part 2 program, before the write policy); its plan-data neighbour does."""
    housing = program.goal("cm", HOUSING_GOAL, "housing")
    recorded = PlanGoal(
        person_id=program.person.id,
        goal=DRUG_GOAL,
        domain=PlanDomain.substance_use,
        created_by_id=program.users["cm"].id,
    )
    program.db.add(recorded)
    program.db.commit()
    drugs = recorded.id
    mine = program.plan("p2_cm", Purpose.case_management)
    assert [g.goal for g in mine.goals] == [HOUSING_GOAL, DRUG_GOAL]
    assert [g.part2 for g in mine.goals] == [False, True]
    assert mine.notice is not None
    entry = _entries(program.db, DisclosureTag.client_plan_read.value)[-1]
    assert Category.treatment.value in entry.categories
    assert holds_part2(
        program.db, program.person.id, entry.recorded_at, entry.categories, entry.detail
    )
    theirs = program.plan("prosecutor", Purpose.charging_decision)
    assert theirs.goals is not None and [g.id for g in theirs.goals] == [housing]
    assert theirs.part2_withheld is not None
    assert theirs.notice is None
    entry = _entries(program.db, DisclosureTag.client_plan_read.value)[-1]
    assert detail_of(entry)["plan_goals"] == [housing]
    assert Category.treatment.value not in entry.categories
    # The referring officer sees no plan at all for a referral's purpose, and never this goal.
    officers = program.plan("officer", Purpose.referral)
    assert officers.goals is None or drugs not in [g.id for g in officers.goals]
    entry = _entries(program.db, DisclosureTag.client_plan_read.value)[-1]
    assert drugs not in detail_of(entry)["plan_goals"]
    assert Category.treatment.value not in entry.categories


def test_only_a_part2_programs_staff_write_a_substance_use_goal(program):
    with pytest.raises(WriteRefused):
        program.goal("cm", DRUG_GOAL, "substance_use")
    refusal = _entries(program.db, SecurityEventTag.access_denied.value)[-1]
    assert detail_of(refusal)["category"] == Category.treatment.value
    assert program.db.exec(select(PlanGoal)).all() == []
    drugs = program.goal("p2_cm", DRUG_GOAL, "substance_use")
    change = program.db.exec(
        select(RecordChange).where(RecordChange.section == f"plan_goal:{drugs}")
    ).one()
    assert change.category == Category.treatment
    assert [g.id for g in program.plan("prosecutor", Purpose.charging_decision).goals] == []


# --- services and the bridge-funding ledger ---------------------------------------------------


def test_every_bad_service_field_is_named_at_once_and_nothing_is_written(program):
    form = ServiceForm(
        kind="spa_day",
        provider=" ",
        provided_on="2031-01-01",
        units="0",
        cost="12.345",
        funding_source="lottery",
        waitlist_place="-3",
        turn_came_on="not a date",
    )
    with pytest.raises(FormErrors) as caught:
        record_service(
            program.db, program.viewer("cm"), program.person.id, form, program.actor("cm"), TODAY
        )
    assert set(caught.value.errors) == {
        "kind",
        "provider",
        "provided_on",
        "units",
        "cost",
        "funding_source",
        "waitlist_place",
        "turn_came_on",
    }
    assert program.db.exec(select(ServiceRecord)).all() == []


def test_a_bridge_paid_after_the_clients_turn_came_is_flagged_as_displacement(program):
    goal_id = program.goal("cm", HOUSING_GOAL, "housing")
    bridge = dict(waitlist="County housing voucher list", waitlist_place="41", goal_id=str(goal_id))
    october = program.service("cm", provided_on="2026-10-01", cost="1200", **bridge)
    november = program.service("cm", provided_on="2026-11-01", cost="1200.50", **bridge)
    assert not _entries(program.db, SecurityEventTag.bridge_displacement.value)
    flagged = record_turn(
        program.db,
        program.viewer("cm"),
        program.person.id,
        october.id,
        TurnForm(turn_came_on="2026-10-15"),
        program.actor("cm"),
        TODAY,
    )
    assert flagged == [november.id]
    # A later payment on the same list is flagged as it is recorded.
    december = program.service("cm", provided_on="2026-11-10", cost="300", **bridge)
    flags = _entries(program.db, SecurityEventTag.bridge_displacement.value)
    assert [detail_of(f)["service_id"] for f in flags] == [november.id, december.id]
    notes = program.db.exec(
        select(Notification).where(Notification.kind == NotificationKind.bridge_displacement)
    ).all()
    assert {n.user_id for n in notes} == {program.users["coordinator"].id}
    assert all(HOUSING_GOAL not in n.text for n in notes)
    plan = program.plan("cm", Purpose.case_management)
    (goal,) = plan.goals
    assert [(s.id, s.displacement) for s in goal.services] == [
        (october.id, False),
        (november.id, True),
        (december.id, True),
    ]


def test_only_lead_money_bridges_and_a_bridge_names_its_place(program):
    with pytest.raises(FormErrors) as caught:
        program.service("cm", provided_on="2026-11-01", funding_source="medicaid", waitlist="X")
    assert set(caught.value.errors) == {"waitlist", "waitlist_place"}


def test_a_clinical_service_is_health_or_treatment_data(program):
    program.service("cm", provided_on="2026-11-01", kind="transport", cost="12")
    program.service("p2_cm", provided_on="2026-11-02", kind="detox", funding_source="medicaid")
    with pytest.raises(WriteRefused):  # treatment: only a Part 2 program's staff record it
        program.service("cm", provided_on="2026-11-02", kind="detox", funding_source="medicaid")
    mine = program.plan("p2_cm", Purpose.case_management)
    assert [s.kind for s in mine.services] == ["transport", "detox"]
    theirs = program.plan("prosecutor", Purpose.charging_decision)
    assert [s.kind for s in theirs.services] == ["transport"]
    assert Category.treatment in theirs.withheld


def test_monthly_totals_per_funding_source_are_an_aggregate_disclosure(program, sign_in):
    program.service("cm", provided_on="2026-10-01", cost="100.25")
    program.service("cm", provided_on="2026-10-09", cost="50", funding_source="medicaid")
    program.service("cm", provided_on="2026-11-02", cost="20", units="2")
    coordinator = sign_in(user=program.users["coordinator"])
    page = coordinator.client.get("/services/totals?year=2026")
    assert page.status_code == 200, page.text
    assert 'data-total="lead">$120.25<' in page.text
    assert 'data-total="medicaid">$50.00<' in page.text
    assert 'data-total="all">$170.25<' in page.text
    assert "Sea-Tac" not in page.text  # an aggregate: no provider, no client
    (entry,) = _entries(program.db, DisclosureTag.service_totals_read.value)
    assert entry.kind == "disclosure" and entry.person_id is None
    assert entry.detail == {"aggregate": "service_totals", "year": 2026, "services": 3}
    assert coordinator.client.get("/services/totals?year=1999").status_code == 422
    assert coordinator.client.get("/services/totals?year=2027").status_code == 422
    officer = sign_in(user=program.users["officer"])
    assert officer.client.get("/services/totals?year=2026").status_code == 403


# --- the pages ---------------------------------------------------------------------------------


def test_the_plan_page_adds_a_goal_and_answers_bad_input_per_field(program, sign_in):
    cm = sign_in(user=program.users["cm"])
    url = f"/clients/{program.person.id}/plan"
    page = cm.client.get(url)
    assert page.status_code == 200
    response = cm.client.post(
        f"{url}/goals",
        data={"goal": HOUSING_GOAL, "domain": "housing", "csrf_token": cm.csrf_token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert HOUSING_GOAL in cm.client.get(url).text
    bad = cm.client.post(
        f"{url}/goals", data={"goal": "", "domain": "nope", "csrf_token": cm.csrf_token}
    )
    assert bad.status_code == 422
    assert 'data-field-error="goal"' in bad.text and 'data-field-error="domain"' in bad.text
    fragment = cm.client.post(
        f"{url}/goals",
        data={"goal": "Get my ID back", "domain": "legal"},
        headers={"HX-Request": "true", "X-CSRF-Token": cm.csrf_token},
    )
    assert fragment.status_code == 200
    assert 'id="plan"' in fragment.text and "<html" not in fragment.text
    assert "Get my ID back" in fragment.text
    # Not a Part 2 program's staff: a substance-use goal is refused (403) and logged.
    refused = cm.client.post(
        f"{url}/goals",
        data={"goal": DRUG_GOAL, "domain": "substance_use", "csrf_token": cm.csrf_token},
    )
    assert refused.status_code == 403
    p2 = sign_in(user=program.users["p2_cm"])
    written = p2.client.post(
        f"{url}/goals",
        data={"goal": DRUG_GOAL, "domain": "substance_use"},
        headers={"HX-Request": "true", "X-CSRF-Token": p2.csrf_token},
    )
    assert written.status_code == 200
    assert DRUG_GOAL in written.text and "data-part2-notice" in written.text
    prosecutor = sign_in(user=program.users["prosecutor"])
    theirs = prosecutor.client.get(url)
    assert theirs.status_code == 200
    assert HOUSING_GOAL in theirs.text and DRUG_GOAL not in theirs.text
    refused = prosecutor.client.post(
        f"{url}/goals",
        data={"goal": "x", "domain": "income", "csrf_token": prosecutor.csrf_token},
    )
    assert refused.status_code == 403


def test_the_plan_page_keeps_steps_services_and_a_bridges_end(program, sign_in):
    goal_id = program.goal("cm", HOUSING_GOAL, "housing")
    cm = sign_in(user=program.users["cm"])
    url = f"/clients/{program.person.id}/plan"
    htmx = {"HX-Request": "true", "X-CSRF-Token": cm.csrf_token}
    step = cm.client.post(
        f"{url}/goals/{goal_id}/steps",
        data={"step": "Ask at the housing authority", "on_date": "2026-11-25"},
        headers=htmx,
    )
    assert step.status_code == 200 and "Ask at the housing authority" in step.text
    (step_id,) = program.db.exec(select(PlanStep.id)).all()
    program.db.commit()
    done = cm.client.post(
        f"{url}/goals/{goal_id}/steps/{step_id}", data={"status": "done"}, headers=htmx
    )
    assert done.status_code == 200
    bad_step = cm.client.post(
        f"{url}/goals/{goal_id}/steps", data={"step": "", "on_date": "9999-01-01"}, headers=htmx
    )
    assert 'data-field-error="step"' in bad_step.text
    assert 'data-field-error="on_date"' in bad_step.text
    bridge = cm.client.post(
        f"/clients/{program.person.id}/services",
        data={
            "kind": "motel_stay",
            "provider": "Sea-Tac Motel",
            "provided_on": "2026-11-10",
            "cost": "70",
            "funding_source": "lead",
            "waitlist": "County housing voucher list",
            "waitlist_place": "9",
            "goal_id": str(goal_id),
        },
        headers=htmx,
    )
    assert bridge.status_code == 200 and "Bridges" in bridge.text
    (service_id,) = program.db.exec(select(ServiceRecord.id)).all()
    program.db.commit()
    ended = cm.client.post(
        f"/clients/{program.person.id}/services/{service_id}/turn",
        data={"turn_came_on": "2026-11-05"},
        headers=htmx,
    )
    assert ended.status_code == 200
    assert "data-displacement" in ended.text and "turn came 2026-11-05" in ended.text
    # A goal of no one you may see answers as none, and the attempt is logged.
    assert (
        cm.client.post(f"{url}/goals/999999/steps", data={"step": "x"}, headers=htmx).status_code
        == 404
    )


# --- the API -----------------------------------------------------------------------------------


@pytest.fixture
def api(app, db: Session):
    clients: list[TestClient] = []

    def _api(user: User, scope: TokenScope = TokenScope.read_write) -> TestClient:
        token = create_api_token(db, Actor(request_id="plans"), user, "plans", 30, scope=scope)
        client = TestClient(
            app, base_url="https://testserver", headers={"Authorization": f"Bearer {token}"}
        )
        client.__enter__()
        clients.append(client)
        return client

    yield _api
    for client in clients:
        client.__exit__(None, None, None)


def test_the_api_writes_goals_steps_and_services_and_reads_the_plan(program, api):
    cm = api(program.users["cm"])
    base = f"/api/v1/clients/{program.person.id}"
    created = cm.post(f"{base}/plan/goals", json={"goal": HOUSING_GOAL, "domain": "housing"})
    assert created.status_code == 201, created.text
    goal_id = created.json()["goal_id"]
    step = cm.post(f"{base}/plan/goals/{goal_id}/steps", json={"step": "Call the landlord"})
    assert step.status_code == 201, step.text
    stale = cm.post(f"{base}/plan/goals/{goal_id}", json={"status": "met", "version": 0})
    assert stale.status_code == 409
    met = cm.post(f"{base}/plan/goals/{goal_id}", json={"status": "met", "version": 2})
    assert met.status_code == 200, met.text
    service = cm.post(
        f"{base}/services",
        json={
            "kind": "motel_stay",
            "provider": "Sea-Tac Motel",
            "provided_on": "2026-11-01",
            "cost": "80",
            "funding_source": "lead",
            "waitlist": "County housing voucher list",
            "waitlist_place": "12",
            "turn_came_on": "2026-10-20",
            "goal_id": str(goal_id),
        },
    )
    assert service.status_code == 201, service.text
    assert service.json()["displacement"] is True
    plan = cm.get(f"{base}/plan")
    assert plan.status_code == 200
    (goal,) = plan.json()["goals"]
    assert goal["status"] == "met" and goal["steps"][0]["step"] == "Call the landlord"
    assert goal["services"][0]["displacement"] is True
    bad = cm.post(f"{base}/services", json={"kind": "spa", "funding_source": "x", "units": "0"})
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["detail"]}
    assert {"kind", "funding_source", "units", "provider", "provided_on"} <= fields


def test_the_api_refuses_read_only_tokens_and_police_writes(program, api):
    base = f"/api/v1/clients/{program.person.id}"
    reader = api(program.users["cm"], TokenScope.read)
    assert (
        reader.post(f"{base}/plan/goals", json={"goal": "x", "domain": "income"}).status_code == 403
    )
    officer = api(program.users["officer"])
    assert (
        officer.post(f"{base}/plan/goals", json={"goal": "x", "domain": "income"}).status_code
        == 403
    )
    assert program.db.exec(select(PlanGoal)).all() == []


def test_the_client_may_reword_a_goal_and_the_history_keeps_the_old_words(program):
    goal_id = program.goal("cm", HOUSING_GOAL, "housing")
    reworded = GoalChangeForm(status="open", goal="A place of my own, any neighbourhood")
    change_goal(
        program.db, program.viewer("cm"), program.person.id, goal_id, reworded, program.actor("cm")
    )
    assert program.db.get(PlanGoal, goal_id).goal == "A place of my own, any neighbourhood"
    last = program.db.exec(
        select(RecordChange)
        .where(RecordChange.section == f"plan_goal:{goal_id}")
        .order_by(col(RecordChange.version).desc())
    ).first()
    assert HOUSING_GOAL in last.previous and "any neighbourhood" in last.saved
    event = _entries(program.db, SecurityEventTag.plan_goal_changed.value)[-1]
    assert detail_of(event)["fields"] == ["goal"] and HOUSING_GOAL not in str(event.detail)
