"""Two records of one person merged after the duplicate check (issue 14, item 8): a supervisor
asks, a second person confirms (never the one who asked), everything moves to the survivor,
the merged record stays as a tombstone, and the log and the accounting of disclosures for
either number find both. Both databases."""

from types import SimpleNamespace

import pytest
from sqlmodel import Session, col, select

from hub.audit.models import LogEntry
from hub.caserecord.models import RecordChange
from hub.clients.models import CaseNote, ClientAssignment, PersonAlias, PlanGoal
from hub.consents.models import Consent
from hub.disclosure.record import disclose_record
from hub.person_merges.models import PersonMerge
from hub.person_merges.services import (
    MergeRefused,
    confirm_merge,
    merge_family,
    refuse_merge,
    request_merge,
)
from hub.plans.forms import GoalForm
from hub.plans.services import add_goal
from hub.privacy.accounting import generate_accounting
from hub.referrals.models import PersonReconciliation, Referral
from hub.vocabulary import (
    AgencyKind,
    AssignmentKind,
    Category,
    MergeStatus,
    Purpose,
    Role,
    SecurityEventTag,
)
from tests.factories import ConsentFactory
from tests.fixtures.referrals import actor_of, viewer_of


@pytest.fixture
def world(db: Session, factories: SimpleNamespace) -> SimpleNamespace:
    housing = factories.Agency(name="Harbor Housing Services", kind=AgencyKind.case_management)
    other = factories.Agency(name="Other Services", kind=AgencyKind.case_management)
    police = factories.Agency(name="Metro Police", kind=AgencyKind.police)
    office = factories.Agency(name="Program Office", kind=AgencyKind.program_office)
    users = {
        "officer": factories.User(role=Role.officer, agency=police),
        "cm": factories.User(role=Role.case_manager, agency=housing),
        "sup1": factories.User(role=Role.case_manager_supervisor, agency=housing),
        "sup2": factories.User(role=Role.case_manager_supervisor, agency=housing),
        "other_sup": factories.User(role=Role.case_manager_supervisor, agency=other),
        "privacy": factories.User(role=Role.privacy_officer, agency=office),
    }
    on_file = factories.Person()
    duplicate = factories.Person()
    for person in (on_file, duplicate):
        factories.Referral(
            person_id=person.id,
            referring_user=users["officer"],
            case_management_agency_id=housing.id,
        )
    db.add_all(
        [
            ClientAssignment(
                person_id=duplicate.id, user_id=users["cm"].id, kind=AssignmentKind.caseload
            ),
            PersonReconciliation(
                person_id=duplicate.id,
                candidate_ids=[on_file.id],
                flagged_by_id=users["officer"].id,
            ),
            ConsentFactory.build(
                person_id=duplicate.id,
                discloser_agency_id=housing.id,
                recipient_agency_id=police.id,
                created_by_id=users["cm"].id,
            ),
            CaseNote(
                person_id=duplicate.id,
                author_id=users["cm"].id,
                category=Category.plan,
                body="Met at the day center.",
            ),
        ]
    )
    db.commit()
    world = SimpleNamespace(db=db, users=users, on_file=on_file, duplicate=duplicate)
    world.viewer = lambda name: viewer_of(db, users[name])
    world.actor = lambda name: actor_of(viewer_of(db, users[name]))
    return world


def _ask(world, name="sup1"):
    return request_merge(
        world.db, world.viewer(name), world.duplicate.id, world.on_file.id, world.actor(name)
    )


def test_a_merge_takes_a_second_person_and_moves_everything(world):
    goal = add_goal(
        world.db,
        world.viewer("cm"),
        world.duplicate.id,
        GoalForm(goal="Find my brother", domain="relationships"),
        world.actor("cm"),
    ).goal_id
    merge = _ask(world)
    assert merge.status == MergeStatus.pending
    # Nothing moved yet, and the one who asked cannot confirm.
    assert world.db.get(PlanGoal, goal).person_id == world.duplicate.id
    with pytest.raises(MergeRefused):
        confirm_merge(world.db, world.viewer("sup1"), merge.id, world.actor("sup1"))
    with pytest.raises(MergeRefused):
        confirm_merge(world.db, world.viewer("other_sup"), merge.id, world.actor("other_sup"))
    confirm_merge(world.db, world.viewer("sup2"), merge.id, world.actor("sup2"))
    db = world.db
    survivor, gone = world.on_file.id, world.duplicate.id
    for table in (Referral, CaseNote, Consent, PlanGoal, ClientAssignment, RecordChange):
        rows = db.exec(select(table).where(table.person_id == gone)).all()
        assert rows == [], table.__name__
    assert len(db.exec(select(Referral).where(Referral.person_id == survivor)).all()) == 2
    assert db.get(PlanGoal, goal).person_id == survivor
    assert (
        db.exec(select(RecordChange).where(RecordChange.section == f"plan_goal:{goal}"))
        .one()
        .person_id
        == survivor
    )
    # The tombstone points to the survivor; the merged name is an alias of the survivor.
    tombstone = db.exec(select(PersonMerge).where(PersonMerge.merged_person_id == gone)).one()
    assert (tombstone.survivor_id, tombstone.status) == (survivor, MergeStatus.merged)
    assert tombstone.decided_by_id == world.users["sup2"].id
    aliases = db.exec(select(PersonAlias.name).where(PersonAlias.person_id == survivor)).all()
    assert f"{world.duplicate.first_name} {world.duplicate.last_name}" in aliases
    events = db.exec(
        select(LogEntry)
        .where(LogEntry.tag == SecurityEventTag.merge_confirmed.value)
        .order_by(col(LogEntry.seq))
    ).all()
    assert sorted(e.person_id for e in events) == sorted([gone, survivor])
    assert events[0].detail["moved"]["referral.person_id"] == 1
    assert merge_family(db, gone) == merge_family(db, survivor) == sorted([gone, survivor])


def test_a_privacy_officer_may_confirm_and_refusals_are_logged(world):
    merge = _ask(world)
    confirm_merge(world.db, world.viewer("privacy"), merge.id, world.actor("privacy"))
    with pytest.raises(MergeRefused):  # done once: no second time
        confirm_merge(world.db, world.viewer("sup2"), merge.id, world.actor("sup2"))
    refusals = world.db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.access_denied.value)
    ).all()
    assert [r.detail["merge_id"] for r in refusals] == [merge.id]


def test_only_what_the_duplicate_check_matched_and_only_a_supervisor_asks(world, factories):
    stranger = factories.Person()
    factories.Referral(
        person_id=stranger.id,
        referring_user=world.users["officer"],
        case_management_agency_id=world.users["sup1"].agency_id,
    )
    with pytest.raises(MergeRefused):
        request_merge(
            world.db, world.viewer("sup1"), stranger.id, world.on_file.id, world.actor("sup1")
        )
    with pytest.raises(MergeRefused):
        _ask(world, "cm")
    with pytest.raises(MergeRefused):
        _ask(world, "other_sup")  # not their agency's clients
    assert world.db.exec(select(PersonMerge)).all() == []


def test_the_accounting_for_either_number_lists_both(world):
    before = disclose_record(
        world.db, world.viewer("cm"), world.duplicate.id, Purpose.case_management, world.actor("cm")
    )
    merge = _ask(world)
    confirm_merge(world.db, world.viewer("sup2"), merge.id, world.actor("sup2"))
    after = disclose_record(
        world.db,
        world.viewer("sup1"),
        world.on_file.id,
        Purpose.case_management,
        world.actor("sup1"),
    )
    for number in (world.duplicate.id, world.on_file.id):
        report = generate_accounting(
            world.db, world.viewer("privacy"), number, world.actor("privacy"), summarise=False
        )
        listed = {s for section in report.sections for line in section.lines for s in line.seqs}
        assert {before.log_seq, after.log_seq} <= listed, number


def test_the_merge_pages_ask_and_confirm_by_number(world, sign_in):
    sup1 = sign_in(user=world.users["sup1"])
    assert sup1.client.get("/person-merges").status_code == 200
    asked = sup1.client.post(
        "/person-merges",
        data={
            "merged_person_id": str(world.duplicate.id),
            "survivor_id": str(world.on_file.id),
            "csrf_token": sup1.csrf_token,
        },
    )
    assert asked.status_code == 200, asked.text
    merge = world.db.exec(select(PersonMerge)).one()
    world.db.commit()
    # No names on the page: record numbers only.
    assert world.duplicate.last_name not in asked.text
    again = sup1.client.post(
        f"/person-merges/{merge.id}/confirm", data={"csrf_token": sup1.csrf_token}
    )
    assert again.status_code == 422
    sup2 = sign_in(user=world.users["sup2"])
    done = sup2.client.post(
        f"/person-merges/{merge.id}/confirm", data={"csrf_token": sup2.csrf_token}
    )
    assert done.status_code == 200
    world.db.refresh(merge)
    assert merge.status == MergeStatus.merged
    officer = sign_in(user=world.users["officer"])
    assert officer.client.get("/person-merges").status_code == 403
    # The privacy console's timeline of either number leads to the other's.
    privacy = sign_in(user=world.users["privacy"])
    for number, other in (
        (world.on_file.id, world.duplicate.id),
        (world.duplicate.id, world.on_file.id),
    ):
        timeline = privacy.client.get(f"/privacy/clients/{number}")
        assert timeline.status_code == 200
        assert f'data-merged-with="{other}"' in timeline.text


def test_a_refused_merge_moves_nothing(world):
    merge = _ask(world)
    with pytest.raises(MergeRefused):
        refuse_merge(world.db, world.viewer("other_sup"), merge.id, world.actor("other_sup"))
    refuse_merge(world.db, world.viewer("sup2"), merge.id, world.actor("sup2"))
    assert world.db.get(PersonMerge, merge.id).status == MergeStatus.refused
    with pytest.raises(MergeRefused):
        confirm_merge(world.db, world.viewer("privacy"), merge.id, world.actor("privacy"))
    assert merge_family(world.db, world.duplicate.id) == [world.duplicate.id]
    referral = world.db.exec(select(Referral).where(Referral.person_id == world.duplicate.id))
    assert referral.one()
    refused = world.db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.merge_refused.value)
    ).one()
    assert refused.detail["merged_person_id"] == world.duplicate.id
