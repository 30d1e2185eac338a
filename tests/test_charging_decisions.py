"""Charging: routing to the office that prosecutes, the prosecutor's queue, immutable
decisions and their supersede chains, binding exactly the disclosures this prosecutor
received, the 42 CFR 2.12(d) refusal, flags, and the decision export."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, func, select

from hub.audit.checkpoint import signer
from hub.audit.log import Event, append
from hub.audit.models import LogEntry, TreeHead
from hub.audit.notes import Verifier
from hub.charging.binding import Part2BindingRefused
from hub.charging.checks import ChargingError
from hub.charging.deciding import decision_chain, record_decision
from hub.charging.decision_flags import flags_for, review_flag
from hub.charging.decision_report import (
    DecisionReportItem,
    DisclosedIdentity,
    decision_report_items,
    format_decision_export,
)
from hub.charging.defense_decisions import defense_decision_count, defense_decisions
from hub.charging.matters import record_new_arrest
from hub.charging.models import (
    ChargingDecision,
    ChargingMatter,
    DecisionDisclosure,
    DecisionFlag,
    DecisionImmutable,
)
from hub.charging.queue_order import prosecutor_queue
from hub.clients.models import ClientAssignment
from hub.db import ident
from hub.disclosure.models import CourtOrder
from hub.notifications.models import Notification
from hub.referrals.eligibility import ReferralError
from hub.referrals.intake_clock import record_intake, record_screening
from hub.referrals.opening import ArrestDetails
from hub.settings import get_settings
from hub.vocabulary import (
    DeadlineStatus,
    DecisionOutcome,
    FlagStatus,
    NotificationKind,
    Purpose,
    Role,
    SecurityEventTag,
)


def decide(
    world,
    matter,
    outcome="decline",
    reasons=("insufficient-evidence",),
    *,
    who="county_prosecutor",
    material=(),
    note=None,
    supersedes_id=None,
):
    return record_decision(
        world.db,
        world.viewer(who),
        matter.id,
        outcome,
        list(reasons),
        note,
        list(material),
        world.actor(who),
        supersedes_id=supersedes_id,
        rules=world.rules,
    )


# --- routing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "offenses,office",
    [
        (("prostitution",), "city_attorney"),
        (("drug-paraphernalia", "loitering-prostitution"), "city_attorney"),
        (("VUCSA-possession",), "county_prosecutor"),
        (("drug-paraphernalia", "VUCSA-possession"), "county_prosecutor"),
    ],
)
def test_the_arrest_report_goes_to_the_office_of_the_most_serious_offense(world, offenses, office):
    referral, matter = world.arrest(offenses)
    assert referral.forwarded_to_agency_id == world.agencies[office].id
    assert matter.prosecuting_agency_id == world.agencies[office].id
    assert matter.referral_id == referral.id
    assert matter.offenses == list(offenses)
    assert matter.arrest_place == "3rd Ave & Pine St"
    assert referral.offense_category == (
        "drug"
        if "VUCSA-possession" in offenses or offenses[0] == "drug-paraphernalia"
        else "prostitution"
    )
    assert [
        i.matter_id
        for i in prosecutor_queue(
            world.db,
            world.viewer("city_prosecutor" if office == "city_attorney" else "county_prosecutor"),
            date.today(),
            rules=world.rules,
        )
    ] == [matter.id]


def test_an_arrest_referral_is_refused_whole(world):
    db = world.db
    world.arrest()
    count = lambda model: db.exec(select(func.count()).select_from(model)).one()  # noqa: E731
    before = (count(ChargingMatter), count(LogEntry))
    world.otn_counter -= 1  # the next arrest reuses the number
    with pytest.raises(ReferralError, match="already on record"):
        world.arrest()
    db.rollback()
    with pytest.raises(ReferralError, match="not an eligible offense"):
        world.arrest(("shoplifting",))
    db.rollback()
    assert (count(ChargingMatter), count(LogEntry)) == before


def test_without_an_office_for_the_level_the_referral_is_refused(world):
    world.agencies["county_prosecutor"].jurisdiction = "appeals"
    world.db.add(world.agencies["county_prosecutor"])
    world.db.commit()
    with pytest.raises(ReferralError, match="jurisdiction 'felony'"):
        world.arrest(("VUCSA-possession",))


# --- the queue -----------------------------------------------------------------------------


def test_the_queue_is_sorted_by_urgency_and_holds_only_undecided_matters(world):
    db = world.db
    now = datetime.now(UTC)
    today = now.astimezone(world.rules.tz).date()
    _, m_pending = world.arrest(now=now - timedelta(days=1))
    _, m_near = world.arrest(now=now - timedelta(days=25))
    _, m_missed = world.arrest(now=now - timedelta(days=40))
    met, m_met = world.arrest(now=now - timedelta(days=10))
    _, m_decided = world.arrest(now=now - timedelta(days=50))
    _, m_city = world.arrest(("prostitution",), now=now - timedelta(days=45))
    cm, actor = world.viewer("case_manager"), world.actor("case_manager")
    record_screening(db, cm, met.id, actor, at=met.referred_at + timedelta(hours=2))
    record_intake(db, cm, met.id, ["outreach"], actor, at=met.referred_at + timedelta(days=1))
    # The enrolled client is arrested again: a new matter with no intake clock of its own.
    new_arrest = record_new_arrest(
        db,
        world.viewer("officer"),
        met.person_id,
        ArrestDetails(
            ("VUCSA-possession",), now - timedelta(days=2), "Pike St", "West", "OTN-NEW-1"
        ),
        world.actor("officer"),
        rules=world.rules,
    )
    decide(world, m_decided)
    asked = decide(world, m_pending, "more_information", ["awaiting-lab"])

    queue = prosecutor_queue(db, world.viewer("county_prosecutor"), today, rules=world.rules)
    assert [(i.matter_id, i.deadline_status) for i in queue] == [
        (m_missed.id, DeadlineStatus.missed),
        (m_met.id, DeadlineStatus.met),
        (new_arrest.id, None),
        (m_near.id, DeadlineStatus.near),
        (m_pending.id, DeadlineStatus.pending),
    ]
    by_id = {i.matter_id: i for i in queue}
    assert by_id[ident(new_arrest.id)].kind == "new_arrest"
    assert by_id[m_pending.id].standing_outcome == DecisionOutcome.more_information
    assert by_id[m_missed.id].offense_tracking_number == m_missed.offense_tracking_number
    assert by_id[m_missed.id].days_since_arrest == 40
    assert asked.outcome == DecisionOutcome.more_information
    assert m_city.id not in by_id
    with pytest.raises(ChargingError):
        prosecutor_queue(db, world.viewer("officer"), today)


def test_a_new_arrest_the_referring_officer_forwards_reaches_the_offices_prosecutors(world):
    # The same notice as for an arrest any officer reports (hub.arrests): one way to open it.
    db = world.db
    now = datetime.now(UTC)
    referral, _ = world.arrest(now=now - timedelta(days=3))
    cm, actor = world.viewer("case_manager"), world.actor("case_manager")
    record_screening(db, cm, referral.id, actor, at=referral.referred_at + timedelta(hours=2))
    record_intake(db, cm, referral.id, ["outreach"], actor, at=referral.referred_at + timedelta(1))
    matter = record_new_arrest(
        db,
        world.viewer("officer"),
        referral.person_id,
        ArrestDetails(("VUCSA-possession",), now - timedelta(hours=1), "x", "West", "OTN-FWD"),
        world.actor("officer"),
        rules=world.rules,
    )
    told = db.exec(
        select(Notification.user_id).where(
            Notification.kind == NotificationKind.new_arrest,
            Notification.link == f"/charging/matters/{matter.id}",
        )
    ).all()
    db.commit()
    office = matter.prosecuting_agency_id
    prosecutors = {
        u.id for u in world.users.values() if u.agency_id == office and u.role == Role.prosecutor
    }
    assert prosecutors and set(told) == prosecutors


def test_a_new_arrest_is_only_for_an_enrolled_client(world):
    referral, _ = world.arrest()
    with pytest.raises(ChargingError, match="not an enrolled client"):
        record_new_arrest(
            world.db,
            world.viewer("officer"),
            referral.person_id,
            ArrestDetails(("VUCSA-possession",), datetime.now(UTC), "x", "West", "OTN-X"),
            world.actor("officer"),
            rules=world.rules,
        )


# --- decisions are immutable ---------------------------------------------------------------


def test_decisions_refuse_update_and_delete_through_the_orm_and_the_database(world):
    referral, matter = world.arrest()
    seq = world.disclose("county_prosecutor", referral.person_id, ["legal"])
    decision = decide(world, matter)
    db = world.db
    bound = db.exec(select(DecisionDisclosure)).one()
    assert bound.log_seq == seq
    changes = [
        (ChargingDecision, decision.id, "note", "changed my mind"),
        (DecisionDisclosure, (decision.id, seq), "material", True),
    ]
    for model, key, attribute, value in changes:
        setattr(db.get(model, key), attribute, value)
        with pytest.raises(DecisionImmutable):
            db.commit()
        db.rollback()
        db.delete(db.get(model, key))
        with pytest.raises(DecisionImmutable):
            db.commit()
        db.rollback()
    # Past the ORM, the database itself refuses (triggers of migration 0002ref).
    for statement in (
        "UPDATE charging_decision SET outcome = 'file'",
        "DELETE FROM charging_decision",
        "UPDATE decision_disclosure SET material = true",
        "DELETE FROM decision_disclosure",
    ):
        with pytest.raises(DBAPIError, match="immutable"):
            db.execute(text(statement))
        db.rollback()
    db.expire_all()
    assert db.get(ChargingDecision, decision.id).outcome == DecisionOutcome.decline
    assert db.exec(select(func.count()).select_from(DecisionDisclosure)).one() == 1


def standing_outcome(world, matter):
    """The outcome kept on the matter (migration 0011que's trigger), read from the database."""
    return world.db.exec(
        select(ChargingMatter.standing_outcome).where(ChargingMatter.id == matter.id)
    ).one()


def test_corrections_supersede_in_one_chain(world):
    _, matter = world.arrest()
    assert standing_outcome(world, matter) is None
    first = decide(world, matter, "decline")
    assert standing_outcome(world, matter) == DecisionOutcome.decline
    with pytest.raises(ChargingError, match="a decision stands"):
        decide(world, matter, "divert", ["engaged-in-services"])
    with pytest.raises(ChargingError, match="what the correction corrects"):
        decide(world, matter, "divert", ["correction"], supersedes_id=first.id)
    second = decide(
        world, matter, "divert", ["correction"], note="entered in error", supersedes_id=first.id
    )
    assert standing_outcome(world, matter) == DecisionOutcome.divert
    with pytest.raises(ChargingError, match="already superseded"):
        decide(world, matter, "file", ["correction"], note="again", supersedes_id=first.id)
    assert standing_outcome(world, matter) == DecisionOutcome.divert
    third = decide(
        world,
        matter,
        "decline",
        ["correction", "completed-intake"],
        note="divert was the wrong box",
        supersedes_id=second.id,
    )
    assert standing_outcome(world, matter) == DecisionOutcome.decline
    chain = decision_chain(world.db, matter.id)
    assert [(d.id, d.supersedes_id) for d in chain] == [
        (first.id, None),
        (second.id, first.id),
        (third.id, second.id),
    ]
    with pytest.raises(ChargingError, match="no such decision"):
        _, other = world.arrest()
        decide(world, other, "decline", ["correction"], note="x", supersedes_id=third.id)


def test_more_information_is_followed_by_a_decision_not_a_correction(world):
    _, matter = world.arrest()
    decide(world, matter, "more_information", ["awaiting-work-group"])
    assert standing_outcome(world, matter) == DecisionOutcome.more_information
    filed = decide(world, matter, "file", ["intake-not-completed"])
    assert filed.supersedes_id is None
    assert standing_outcome(world, matter) == DecisionOutcome.file


@pytest.mark.parametrize(
    "outcome,reasons,problem",
    [
        ("acquit", ["insufficient-evidence"], "not a decision outcome"),
        ("decline", [], "at least one reason"),
        ("decline", ["made-up"], "not a reason code"),
        ("file", ["completed-intake"], "does not support"),
    ],
)
def test_bad_decisions_are_refused(world, outcome, reasons, problem):
    _, matter = world.arrest()
    with pytest.raises(ChargingError, match=problem):
        decide(world, matter, outcome, reasons)
    assert world.db.exec(select(func.count()).select_from(ChargingDecision)).one() == 0


def test_only_the_office_the_matter_went_to_decides(world):
    _, matter = world.arrest(("VUCSA-possession",))
    with pytest.raises(ChargingError, match="no such matter"):
        decide(world, matter, who="city_prosecutor")
    with pytest.raises(ChargingError, match="may not make charging decisions"):
        decide(world, matter, who="officer")


# --- binding disclosures -------------------------------------------------------------------


def test_a_decision_binds_exactly_what_this_prosecutor_received_since_the_referral(world):
    person = world.referred_person()
    other = world.factories.Person()
    before = world.disclose("county_prosecutor", person.id, ["identity"])
    referral, matter = world.arrest(person=person)
    mine = [
        world.disclose("county_prosecutor", person.id, ["identity", "legal"]),
        world.disclose("county_prosecutor", person.id, ["engagement"], purpose=Purpose.work_group),
    ]
    world.disclose("county_prosecutor2", person.id, ["engagement"])  # a colleague's
    world.disclose("county_prosecutor", other.id, ["engagement"])  # another person
    world.disclose("county_prosecutor", person.id, ["plan"], outcome="withheld")
    world.disclose("county_prosecutor", person.id, [], kind="security")
    with pytest.raises(ChargingError, match="only disclosures you received"):
        decide(world, matter, material=[before])
    decision = decide(world, matter, material=[mine[1]])
    bound = world.db.exec(
        select(DecisionDisclosure.log_seq, DecisionDisclosure.material)
        .where(DecisionDisclosure.decision_id == decision.id)
        .order_by(col(DecisionDisclosure.log_seq))
    ).all()
    assert [tuple(b) for b in bound] == [(mine[0], False), (mine[1], True)]
    event = world.db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.decision_recorded.value)
    ).one()
    assert event.person_id == person.id
    assert event.detail["bound_seqs"] == mine
    assert event.detail["material_seqs"] == [mine[1]]
    assert event.purpose == Purpose.charging_decision.value
    assert referral.id == matter.referral_id


def test_a_decision_binds_the_lists_that_named_the_person_and_no_other_list(world):
    # A queue or search names its persons in detail.person_ids, not in person_id. The query
    # narrows these by the id's digits in the stored text; the exact check must still drop a
    # list whose text holds those digits elsewhere.
    person = world.referred_person()
    other = world.factories.Person()
    referral, matter = world.arrest(person=person)

    def listed(person_ids, **extra):
        entry = append(
            world.db,
            world.actor("county_prosecutor"),
            Event(
                kind="disclosure",
                tag="disclosure:client:search",
                outcome="disclosed",
                purpose=Purpose.charging_decision.value,
                categories=["identity"],
                detail={"person_ids": person_ids, **extra},
            ),
        )
        world.db.commit()
        return entry.seq

    naming = listed([other.id, person.id])
    listed([other.id], withheld_count=person.id)  # the digits, but not the person
    listed([other.id])
    decision = decide(world, matter)
    bound = world.db.exec(
        select(DecisionDisclosure.log_seq).where(DecisionDisclosure.decision_id == decision.id)
    ).all()
    assert list(bound) == [naming]
    assert referral.id == matter.referral_id


def test_a_decision_binds_a_signed_tree_head_covering_every_bound_disclosure(world):
    person = world.referred_person()
    _, matter = world.arrest(person=person)
    bound = [
        world.disclose("county_prosecutor", person.id, ["identity", "legal"]) for _ in range(3)
    ]
    decision = decide(world, matter)
    head = world.db.get(TreeHead, decision.tree_head_id)
    assert head is not None and head.tree_size > max(bound)
    # The head is a real signed checkpoint, not a placeholder.
    verifier = Verifier.parse(signer(get_settings()).verifier_key)
    assert str(head.tree_size) in verifier.open(head.signed_note)
    # A later decision with nothing new to cover binds a head at least as large.
    again = decide(
        world,
        matter,
        "divert",
        ["engaged-in-services"],
        note="engaged since the first decision",
        supersedes_id=decision.id,
    )
    assert world.db.get(TreeHead, again.tree_head_id).tree_size >= head.tree_size


@pytest.mark.parametrize("categories", [["treatment"], ["health"], ["identity", "treatment"]])
def test_treatment_or_health_disclosures_refuse_the_decision_and_signal_a_breach(world, categories):
    db = world.db
    referral, matter = world.arrest()
    clean = world.disclose("county_prosecutor", referral.person_id, ["legal"])
    leaked = world.disclose("county_prosecutor", referral.person_id, categories)
    with pytest.raises(Part2BindingRefused) as refused:
        decide(world, matter, "file", ["harm-to-victim"], material=[clean])
    assert refused.value.log_seqs == [leaked]
    assert "42 CFR 2.12(d)" in str(refused.value)
    assert db.exec(select(func.count()).select_from(ChargingDecision)).one() == 0
    signal = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.part2_breach_signal.value)
    ).one()
    assert (signal.outcome, signal.person_id, signal.detail["log_seqs"]) == (
        "denied",
        referral.person_id,
        [leaked],
    )
    alerts = db.exec(
        select(Notification).where(Notification.kind == NotificationKind.breach_signal)
    ).all()
    assert [a.user_id for a in alerts] == [world.users["privacy_officer"].id]


def test_a_court_order_lets_covered_health_data_bind_and_the_file_decision_is_flagged(world):
    db = world.db
    referral, matter = world.arrest()
    order = CourtOrder(
        person_id=referral.person_id,
        recipient_agency_id=world.agencies["county_prosecutor"].id,
        categories=["health"],
        purposes=[Purpose.charging_decision.value],
        court="Superior Court",
        order_reference="26-1-00001-1",
        rule="2.65",
        scope="health records for this charge",
        issued_on=date.today() - timedelta(days=1),
        recorded_by_id=world.users["privacy_officer"].id,
        # In force once a second privacy officer confirmed it (issue 12).
        confirmed_by_id=world.add_user(
            "privacy_officer2", Role.privacy_officer, "program_office"
        ).id,
        confirmed_at=datetime.now(UTC) - timedelta(hours=1),
    )
    db.add(order)
    db.commit()
    seq = world.disclose("county_prosecutor", referral.person_id, ["health"])
    decision = decide(world, matter, "file", ["harm-to-victim"], material=[seq])
    flag = db.exec(select(DecisionFlag).where(DecisionFlag.decision_id == decision.id)).one()
    assert flag.categories == ["health"] and flag.log_seqs == [seq]
    # The order does not reach treatment (Part 2) data.
    world.disclose("county_prosecutor", referral.person_id, ["treatment"])
    with pytest.raises(Part2BindingRefused):
        decide(world, matter, "file", ["correction"], note="x", supersedes_id=decision.id)


@pytest.mark.parametrize(
    "outcome,reasons,categories,flagged",
    [
        ("file", ["harm-to-victim"], [["plan"], ["housing", "identity"]], ["housing", "plan"]),
        ("file", ["harm-to-victim"], [["identity"], ["legal"]], None),
        ("decline", ["completed-intake"], [["plan"], ["housing"]], None),
        ("more_information", ["awaiting-lab"], [["plan"]], None),
    ],
)
def test_a_file_decision_resting_on_care_data_is_flagged_for_review(
    world, outcome, reasons, categories, flagged
):
    db = world.db
    referral, matter = world.arrest()
    db.add(
        ClientAssignment(
            person_id=referral.person_id, user_id=world.users["defender"].id, kind="defense"
        )
    )
    db.commit()
    seqs = [world.disclose("county_prosecutor", referral.person_id, c) for c in categories]
    decision = decide(world, matter, outcome, reasons)
    flags = db.exec(select(DecisionFlag).where(DecisionFlag.decision_id == decision.id)).all()
    if flagged is None:
        assert flags == []
        return
    [flag] = flags
    assert flag.categories == flagged
    assert flag.log_seqs == [
        s for s, c in zip(seqs, categories, strict=True) if set(c) & {"plan", "housing"}
    ]
    assert flag.status == FlagStatus.open
    assert [f.id for f in flags_for(db, world.viewer("defender"))] == [flag.id]
    assert [f.id for f in flags_for(db, world.viewer("privacy_officer"))] == [flag.id]
    with pytest.raises(ChargingError):
        flags_for(db, world.viewer("county_prosecutor"))
    notified = set(
        db.exec(
            select(Notification.user_id).where(
                Notification.kind == NotificationKind.decision_flagged
            )
        ).all()
    )
    assert notified == {world.users["defender"].id, world.users["privacy_officer"].id}
    with pytest.raises(ChargingError, match="only a privacy officer"):
        review_flag(db, world.viewer("defender"), flag.id, "seen", world.actor("defender"))
    reviewed = review_flag(
        db,
        world.viewer("privacy_officer"),
        flag.id,
        "Discussed with the office",
        world.actor("privacy_officer"),
    )
    assert reviewed.status == FlagStatus.reviewed
    assert flags_for(db, world.viewer("privacy_officer")) == []


# --- the decision export -------------------------------------------------------------------


def test_the_decision_export_formats_disclosed_identity_with_the_matters_fields(world):
    _, first = world.arrest()
    _, second = world.arrest()
    d1 = decide(world, first, "decline")
    decide(world, second, "more_information", ["awaiting-lab"])
    today = datetime.now(UTC).astimezone(world.rules.tz).date()
    items = decision_report_items(
        world.db,
        world.viewer("county_prosecutor"),
        today,
        today + timedelta(days=1),
        rules=world.rules,
    )
    assert (items[0].decision_id, items[0].referring_agency) == (d1.id, "Metro Police")
    identities = {
        first.person_id: DisclosedIdentity("=HYPERLINK(1)", date(1980, 1, 2), "98101"),
        second.person_id: DisclosedIdentity("B. Person", None, None),
    }
    csv_text = format_decision_export(items, identities)
    lines = csv_text.splitlines()
    assert lines[0] == (
        "person,date_of_birth,zip_code,offense_tracking_number,referring_agency,"
        "outcome,decided_on,reason_codes"
    )
    assert lines[1] == (
        f"'=HYPERLINK(1),1980-01-02,98101,{first.offense_tracking_number},"
        f"Metro Police,decline,{today.isoformat()},insufficient-evidence"
    )
    assert lines[2].startswith(
        f"B. Person,,,{second.offense_tracking_number},Metro Police,more information,"
    )
    with pytest.raises(ChargingError, match="identity was not disclosed"):
        format_decision_export(items, {first.person_id: identities[first.person_id]})
    assert format_decision_export([], {}) == lines[0] + "\n"
    assert isinstance(items[0], DecisionReportItem)


@pytest.mark.parametrize("backend", ["postgres"])
def test_two_prosecutors_deciding_one_matter_at_once_take_turns(world):
    """Found by the load test: both saw no standing decision and both wrote one. Now the second
    waits for the matter and is told a decision stands."""
    import threading

    from sqlmodel import Session, select

    from hub.charging.models import ChargingMatter
    from hub.db import get_engine

    _, matter = world.arrest()
    world.db.commit()
    viewer, actor = world.viewer("county_prosecutor"), world.actor("county_prosecutor")
    outcomes: list[object] = []

    def second_prosecutor() -> None:
        with Session(get_engine()) as other:
            try:
                outcomes.append(
                    record_decision(
                        other,
                        viewer,
                        matter.id,
                        "decline",
                        ["insufficient-evidence"],
                        None,
                        [],
                        actor,
                        rules=world.rules,
                    )
                )
            except ChargingError as refused:
                outcomes.append(refused)

    with Session(get_engine()) as first:
        first.exec(
            select(ChargingMatter.id).where(ChargingMatter.id == matter.id).with_for_update()
        )
        waiting = threading.Thread(target=second_prosecutor)
        waiting.start()
        waiting.join(1)
        assert outcomes == []  # held at the matter, not deciding on what it read before
        record_decision(
            first,
            viewer,
            matter.id,
            "divert",
            ["engaged-in-services"],
            None,
            [],
            actor,
            rules=world.rules,
        )
    waiting.join(60)
    assert len(outcomes) == 1 and isinstance(outcomes[0], ChargingError)
    assert "a decision stands" in str(outcomes[0])


def test_the_defenders_decisions_and_flags_are_those_of_their_current_clients_only(world):
    """The database filters by the defender's assignments: a client assigned twice counts once;
    an ended assignment and another defender's client are left out."""
    db = world.db
    defender = world.users["defender"]
    other = world.add_user("defender2", Role.defender, "defense")
    assert defense_decision_count(db, world.viewer("defender")) == 0
    assert defense_decisions(db, world.viewer("defender")) == []
    assert flags_for(db, world.viewer("defender")) == []
    decisions = {}
    for name in ("twice", "once", "ended", "others"):
        referral, matter = world.arrest()
        world.disclose("county_prosecutor", referral.person_id, ["plan"])
        decisions[name] = decide(world, matter, "file", ["harm-to-victim"])
        holders = {"twice": [defender, defender], "once": [defender], "others": [other]}
        for user in holders.get(name, [defender]):
            db.add(
                ClientAssignment(
                    person_id=referral.person_id,
                    user_id=user.id,
                    kind="defense",
                    ended_at=datetime.now(UTC) if name == "ended" else None,
                )
            )
    db.commit()
    mine = [decisions["once"].id, decisions["twice"].id]  # newest first
    viewer = world.viewer("defender")
    assert defense_decision_count(db, viewer) == 2
    assert [i.decision_id for i in defense_decisions(db, viewer)] == mine
    assert [i.decision_id for i in defense_decisions(db, viewer, offset=1, limit=1)] == mine[1:]
    assert [f.decision_id for f in flags_for(db, viewer)] == sorted(mine)
    assert [f.decision_id for f in flags_for(db, world.viewer("defender2"))] == [
        decisions["others"].id
    ]
    with pytest.raises(ChargingError):
        defense_decision_count(db, world.viewer("county_prosecutor"))
    with pytest.raises(ChargingError):
        defense_decisions(db, world.viewer("county_prosecutor"))
