"""The intake clock, enrolment, caseloads, community referrals, the officer's feedback and the
aggregate reports."""

from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from hub.clients.models import ClientAssignment, Person
from hub.db import ident
from hub.referrals.caseloads import assign_to_caseload
from hub.referrals.eligibility import (
    PriorInvolvement,
    ReferralError,
    ScreeningAnswers,
)
from hub.referrals.intake_clock import deadline_status, record_intake, record_screening
from hub.referrals.models import Referral
from hub.referrals.officer_feedback import OfficerReferralStatus, officer_referrals
from hub.referrals.opening import (
    add_to_social_contact_list,
    create_community_referral,
    intake_due_on,
    social_contact_list,
)
from hub.referrals.referred_person import ExistingPerson, NewPerson, PersonRefused
from hub.referrals.reports import referral_demographics, screening_report
from hub.referrals.rules import default_rules, parse_rules
from hub.vocabulary import DeadlineStatus, PriorInvolvementKind, ProgramStatus, ReferralKind

DUE = date(2026, 7, 1)
LA = ZoneInfo("America/Los_Angeles")


def referral_due(screened: datetime | None = None, intake: datetime | None = None) -> Referral:
    return Referral(
        person_id=1,
        kind=ReferralKind.arrest,
        referred_at=datetime(2026, 6, 1, tzinfo=UTC),
        referring_user_id=1,
        referring_agency_id=1,
        offense_category="drug",
        case_management_agency_id=2,
        intake_due_on=DUE,
        screening_done_at=screened,
        intake_done_at=intake,
    )


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    "today,screened,intake,near_days,expected",
    [
        (date(2026, 6, 23), None, None, 7, DeadlineStatus.pending),  # 8 days left
        (date(2026, 6, 24), None, None, 7, DeadlineStatus.near),  # 7 days left: near
        (date(2026, 7, 1), None, None, 7, DeadlineStatus.near),  # the due date itself
        (date(2026, 7, 2), None, None, 7, DeadlineStatus.missed),  # a day late
        (date(2026, 6, 30), None, None, 0, DeadlineStatus.pending),  # no warning at 0
        (date(2026, 7, 1), None, None, 0, DeadlineStatus.near),
        (date(2026, 7, 2), date(2026, 6, 5), None, 7, DeadlineStatus.missed),  # screened only
        (date(2026, 6, 10), date(2026, 6, 5), None, 7, DeadlineStatus.pending),
        (date(2026, 8, 1), date(2026, 6, 5), date(2026, 7, 1), 7, DeadlineStatus.met),
        (date(2026, 6, 6), date(2026, 6, 5), date(2026, 6, 6), 7, DeadlineStatus.met),
        (date(2026, 8, 1), date(2026, 6, 5), date(2026, 7, 2), 7, DeadlineStatus.missed),
    ],
)
def test_deadline_status_boundaries(today, screened, intake, near_days, expected):
    referral = referral_due(screened and at(screened), intake and at(intake))
    assert deadline_status(referral, today, near_days=near_days) == expected


def test_completion_counts_by_the_sites_local_date():
    # 03:00 UTC on 2 July is still 1 July in Seattle.
    done = datetime(2026, 7, 2, 3, tzinfo=UTC)
    referral = referral_due(at(date(2026, 6, 5)), done)
    assert deadline_status(referral, date(2026, 8, 1), tz=LA) == DeadlineStatus.met
    assert deadline_status(referral, date(2026, 8, 1), tz=UTC) == DeadlineStatus.missed


@pytest.mark.parametrize(
    "deadline_days,referred_at,due",
    [
        (None, datetime(2026, 6, 1, 18, tzinfo=UTC), date(2026, 7, 1)),  # settings: 30
        (14, datetime(2026, 6, 1, 18, tzinfo=UTC), date(2026, 6, 15)),
        (30, datetime(2026, 6, 1, 5, tzinfo=UTC), date(2026, 6, 30)),  # 22:00 on 31 May in LA
    ],
)
def test_the_referral_starts_the_sites_clock(deadline_days, referred_at, due):
    rules = parse_rules(
        {**default_rules().model_dump(mode="json"), "intake_deadline_days": deadline_days}
    )
    assert intake_due_on(referred_at, rules) == due


def test_a_person_becomes_a_client_when_screening_and_intake_are_both_done(world):
    referral, _ = world.arrest()
    db = world.db
    person = db.get(Person, referral.person_id)
    assert person.program_status == ProgramStatus.referred
    cm = world.viewer("case_manager")
    with pytest.raises(ReferralError, match="screening first"):
        record_intake(db, cm, referral.id, ["housing navigation"], world.actor("case_manager"))
    with pytest.raises(ReferralError, match="no such referral"):
        record_screening(
            db, world.viewer("other_case_manager"), referral.id, world.actor("officer")
        )
    with pytest.raises(ReferralError, match="may not"):
        record_screening(db, world.viewer("officer"), referral.id, world.actor("officer"))

    record_screening(db, cm, referral.id, world.actor("case_manager"))
    db.refresh(person)
    assert person.program_status == ProgramStatus.screened
    assert referral.screening_done_by_id == cm.user_id
    caseload = db.exec(
        select(ClientAssignment).where(ClientAssignment.person_id == person.id)
    ).all()
    assert [(a.user_id, a.kind, a.ended_at) for a in caseload] == [(cm.user_id, "caseload", None)]
    with pytest.raises(ReferralError, match="already recorded"):
        record_screening(db, cm, referral.id, world.actor("case_manager"))

    assessment = record_intake(
        db,
        world.viewer("case_manager2"),
        referral.id,
        ["housing navigation", " ", "MAT"],
        world.actor("case_manager2"),
    )
    db.refresh(person)
    assert person.program_status == ProgramStatus.enrolled
    assert assessment.services == ["housing navigation", "MAT"]
    assert assessment.assessed_by_id == world.users["case_manager2"].id
    assert deadline_status(referral, date.today()) == DeadlineStatus.met


def test_intake_steps_cannot_predate_the_referral_or_lie_in_the_future(world):
    referral, _ = world.arrest()
    cm, actor = world.viewer("case_manager"), world.actor("case_manager")
    with pytest.raises(ReferralError, match="before the referral"):
        record_screening(
            world.db, cm, referral.id, actor, at=referral.referred_at - timedelta(days=1)
        )
    with pytest.raises(ReferralError, match="future"):
        record_screening(world.db, cm, referral.id, actor, at=datetime.now(UTC) + timedelta(days=1))


def test_caseload_assignment_moves_the_client_and_keeps_history(world):
    referral, _ = world.arrest()
    db = world.db
    record_screening(db, world.viewer("case_manager"), referral.id, world.actor("case_manager"))
    target = world.users["case_manager2"].id
    with pytest.raises(ReferralError, match="own caseload"):
        assign_to_caseload(
            db,
            world.viewer("case_manager"),
            referral.person_id,
            target,
            world.actor("case_manager"),
        )
    with pytest.raises(ReferralError, match="active case manager of your agency"):
        assign_to_caseload(
            db,
            world.viewer("supervisor"),
            referral.person_id,
            world.users["other_case_manager"].id,
            world.actor("supervisor"),
        )
    assign_to_caseload(
        db, world.viewer("supervisor"), referral.person_id, target, world.actor("supervisor")
    )
    rows = db.exec(
        select(ClientAssignment)
        .where(ClientAssignment.person_id == referral.person_id)
        .order_by(col(ClientAssignment.id))
    ).all()
    assert [(r.user_id, r.ended_at is None) for r in rows] == [
        (world.users["case_manager"].id, False),
        (target, True),
    ]


def test_the_social_contact_list_lets_others_make_the_connection(world):
    db = world.db
    entry = add_to_social_contact_list(
        db,
        world.viewer("officer"),
        NewPerson("Lee", "Park", date(1988, 8, 8)),
        "prostitution",
        PriorInvolvement(PriorInvolvementKind.documented_incident, "2025-000123"),
        world.actor("officer"),
        precinct="West",
        rules=world.rules,
    )
    assert [i.entry_id for i in social_contact_list(db)] == [entry.id]
    # Another officer may not name the listed person (issue 12, item 4: police name only
    # persons they referred), so the list's answer does not tell them the person is on it.
    with pytest.raises(PersonRefused):
        add_to_social_contact_list(
            db,
            world.viewer("officer2"),
            ExistingPerson(entry.person_id),
            "prostitution",
            PriorInvolvement(PriorInvolvementKind.documented_incident, "2025-000124"),
            world.actor("officer2"),
            rules=world.rules,
        )
    db.rollback()
    with pytest.raises(ReferralError, match="may not"):
        create_community_referral(
            db,
            world.viewer("officer"),
            ident(entry.id),
            world.agencies["case_management"].id,
            ScreeningAnswers(),
            world.actor("officer"),
            rules=world.rules,
        )
    referral = create_community_referral(
        db,
        world.viewer("defender"),
        ident(entry.id),
        world.agencies["case_management"].id,
        ScreeningAnswers(),
        world.actor("defender"),
        rules=world.rules,
    )
    assert referral.kind == ReferralKind.community
    assert referral.person_id == entry.person_id
    assert referral.prior_involvement == "documented_incident:2025-000123"
    assert referral.social_contact_entry_id == entry.id
    db.refresh(entry)
    assert entry.closed_by_referral_id == referral.id
    assert social_contact_list(db) == []
    with pytest.raises(ReferralError, match="no such open entry"):
        create_community_referral(
            db,
            world.viewer("case_manager"),
            ident(entry.id),
            world.agencies["case_management"].id,
            ScreeningAnswers(),
            world.actor("case_manager"),
            rules=world.rules,
        )
    # A person the officer referred may be listed once.
    mine, _ = world.arrest()

    def list_mine() -> None:
        add_to_social_contact_list(
            db,
            world.viewer("officer"),
            ExistingPerson(mine.person_id),
            "prostitution",
            PriorInvolvement(PriorInvolvementKind.documented_incident, "2025-000125"),
            world.actor("officer"),
            rules=world.rules,
        )

    list_mine()
    with pytest.raises(ReferralError, match="already on the social contact list"):
        list_mine()


def test_the_officer_sees_their_own_referrals_with_status_only(world):
    from hub.charging.deciding import record_decision

    db = world.db
    first, _ = world.arrest(("prostitution",))
    second, matter = world.arrest(("VUCSA-possession",))
    world.arrest(officer="officer2")
    record_screening(db, world.viewer("case_manager"), first.id, world.actor("case_manager"))
    record_decision(
        db,
        world.viewer("county_prosecutor"),
        matter.id,
        "decline",
        ["insufficient-evidence"],
        None,
        [],
        world.actor("county_prosecutor"),
        rules=world.rules,
    )
    seen = officer_referrals(db, world.viewer("officer"))
    assert {(s.referral_id, s.program_status, s.charging) for s in seen} == {
        (first.id, ProgramStatus.screened, "awaiting decision"),
        (second.id, ProgramStatus.referred, "charges declined"),
    }
    assert {f.name for f in fields(OfficerReferralStatus)} == {
        "referral_id",
        "person_id",
        "kind",
        "referred_at",
        "program_status",
        "charging",
        # The officer's own override and their sergeant's approval (issue 17): their act.
        "overridden",
        "override_approved_at",
    }


def test_screening_report_counts_results_and_overrides_by_period_and_precinct(world):
    from hub.referrals.eligibility import ScreeningAnswers as A

    june = datetime(2026, 6, 10, 18, tzinfo=UTC)
    july = datetime(2026, 7, 10, 18, tzinfo=UTC)
    world.arrest(now=june)
    world.arrest(now=june)
    world.arrest(now=june, answers=A(facts=frozenset({"no-contact-order"})), override_reason="ok")
    world.arrest(now=july)
    report = screening_report(world.db, date(2026, 6, 1), date(2026, 8, 1), rules=world.rules)
    assert [
        (r.period, r.precinct, r.result.value, r.overridden, r.count) for r in report.results
    ] == [
        ("2026-06", "West", "eligible", False, 2),
        ("2026-06", "West", "presumptively_excluded", True, 1),
        ("2026-07", "West", "eligible", False, 1),
    ]
    assert [(e.period, e.exclusion, e.count) for e in report.exclusions] == [
        ("2026-06", "no-contact-order", 1)
    ]


def test_referral_demographics_are_aggregated_and_small_cells_suppressed(world):
    rules = parse_rules(
        {**default_rules().model_dump(mode="json"), "reporting": {"suppress_below": 3}}
    )
    world.rules = rules
    june = datetime(2026, 6, 10, 18, tzinfo=UTC)
    for name, codes in [("Ann", (3,)), ("Bert", (3,)), ("Cyd", (3, 6)), ("Dov", (5,))]:
        world.arrest(
            person=NewPerson(name, "Okonkwo-" + name, None, race_ethnicity=codes), now=june
        )
    rows = referral_demographics(world.db, date(2026, 6, 1), date(2026, 7, 1), rules=rules)
    assert [(r.code, r.count, r.total) for r in rows] == [(3, 3, 4), (5, None, 4), (6, None, 4)]
    assert rows[0].label == "Black, African American, or African"
    assert all(not hasattr(r, "person_id") for r in rows)
