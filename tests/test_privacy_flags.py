"""Review flags, rule by rule, from rows of log data; recomputing is idempotent; reviewing a
flag is logged; decision flags stay with the charging domain."""

from datetime import timedelta

import pytest
from sqlmodel import col, select

from hub.accounts.sessions import viewer_for as viewer_for_user
from hub.audit.log import Actor
from hub.privacy.flags.computing import compute_flags
from hub.privacy.flags.listing import list_flags
from hub.privacy.flags.review import FlagError, review_flag
from hub.privacy.flags.thresholds import flag_settings
from hub.privacy.models import ReviewFlag
from hub.site import write_setting
from hub.vocabulary import FlagRule, FlagStatus, Role, SecurityEventTag
from tests.privacy_support import SITE, clock, local, record_read, security_event
from tests.signing_in import logged

CLI = Actor(request_id="cli-test", address="local")
NOW = local(2026, 3, 11, 18)  # a Wednesday, 18:00 site time


def run(db, days=7, now=NOW, at=None):
    """Compute flags as of `now`; `at` sets the log's clock for the run's own entry (the log's
    time never goes back, so a run logged at the real time would move later entries on)."""
    with clock(at):
        return compute_flags(db, CLI, days=days, now=now if at is None else at)


def flags(db, rule=None):
    query = select(ReviewFlag).order_by(col(ReviewFlag.id))
    if rule is not None:
        query = query.where(ReviewFlag.rule == rule)
    found = list(db.exec(query))
    db.commit()
    return found


@pytest.fixture
def cm(factories):
    return factories.User(role=Role.case_manager)


@pytest.fixture
def person(factories):
    return factories.Person()


def test_break_glass_is_flagged_with_the_reads_under_it(db, factories, person):
    officer = factories.User(role=Role.privacy_officer)
    opened = security_event(
        db, SecurityEventTag.break_glass_opened, user=officer, person_id=person.id,
        at=local(2026, 3, 10, 9), id=4, reason="Client complaint about a disclosure",
    )  # fmt: skip
    read = record_read(
        db, officer, person.id, {"identity": "break_glass:4", "health": "break_glass:4"},
        purpose="oversight", at=local(2026, 3, 10, 9, 5),
    )  # fmt: skip
    other = record_read(
        db, officer, person.id, {"identity": "break_glass:5"}, at=local(2026, 3, 10, 10)
    )
    run(db)
    (flag,) = [f for f in flags(db, FlagRule.break_glass) if f.key == "break_glass:4"]
    assert flag.log_seqs == [opened.seq, read.seq]
    assert flag.subject_user_id == officer.id and flag.person_id == person.id
    assert "Client complaint" in flag.reason and "(1 read under it)" in flag.reason
    # Reads under a break-glass opened before the window still join its flag.
    assert [f.log_seqs for f in flags(db, FlagRule.break_glass) if f.key == "break_glass:5"] == [
        [other.seq]
    ]


def test_reads_on_the_role_alone_are_flagged_per_user_and_day(db, cm, person, factories):
    named = record_read(
        db,
        cm,
        person.id,
        {"identity": "relationship:caseload", "plan": "role"},
        at=local(2026, 3, 10, 9),
    )
    by_consent = record_read(
        db, cm, person.id, {"identity": "role", "health": "consent:3"}, at=local(2026, 3, 10, 9, 1)
    )
    role_only = record_read(
        db, cm, person.id, {"identity": "role", "engagement": "role"}, at=local(2026, 3, 10, 9, 2)
    )
    other = factories.Person()
    role_again = record_read(db, cm, other.id, {"identity": "role"}, at=local(2026, 3, 10, 11))
    withheld = record_read(
        db, cm, other.id, {}, withheld={"identity": "not_related"}, at=local(2026, 3, 10, 12)
    )
    next_day = record_read(db, cm, other.id, {"identity": "role"}, at=local(2026, 3, 11, 9))
    run(db)
    found = flags(db, FlagRule.outside_relationship)
    assert [(f.day.isoformat(), f.log_seqs) for f in found] == [
        ("2026-03-10", [role_only.seq, role_again.seq]),
        ("2026-03-11", [next_day.seq]),
    ]
    assert found[0].subject_user_id == cm.id
    # In a privacy officer's words: how many clients, and their record numbers.
    low, high = sorted((person.id, other.id))
    assert f"of 2 clients (records {low} and {high})" in found[0].reason
    assert {named.seq, by_consent.seq, withheld.seq}.isdisjoint(found[0].log_seqs)


def test_unusual_volume_against_the_users_own_last_30_days(db, cm, person, factories):
    steady = factories.User(role=Role.case_manager)
    # 30 days of 10 reads a day for `steady`, 2 a day for `cm`.
    for days_back in range(30, 0, -1):
        day = (NOW.astimezone(SITE) - timedelta(days=days_back)).replace(hour=9)
        for n in range(10):
            record_read(
                db,
                steady,
                person.id,
                {"identity": "relationship:caseload"},
                at=day.replace(minute=n),
            )
        for n in range(2):
            record_read(
                db,
                cm,
                person.id,
                {"identity": "relationship:caseload"},
                at=day.replace(minute=20 + n),
            )
    # Today: steady reads 12 (within their usual), cm reads 25 (far above theirs, above the floor).
    for n in range(12):
        record_read(
            db, steady, person.id, {"identity": "relationship:caseload"}, at=NOW.replace(minute=n)
        )
    burst = [
        record_read(
            db,
            cm,
            person.id,
            {"identity": "relationship:caseload"},
            at=NOW.replace(minute=20, second=n),
        )
        for n in range(25)
    ]
    run(db, days=1)
    (flag,) = flags(db, FlagRule.unusual_volume)
    assert flag.subject_user_id == cm.id
    assert flag.log_seqs == [e.seq for e in burst]
    assert flag.reason.startswith("25 reads on 2026-03-11")


def test_the_volume_floor_keeps_a_quiet_user_from_being_flagged(db, cm, person):
    # No history at all: mean and sd are 0, so only the floor (20) stands.
    for n in range(20):
        record_read(
            db, cm, person.id, {"identity": "relationship:caseload"}, at=NOW.replace(minute=n)
        )
    run(db, days=1)
    assert flags(db, FlagRule.unusual_volume) == []
    record_read(db, cm, person.id, {"identity": "relationship:caseload"}, at=NOW.replace(minute=30))
    run(db, days=1)
    assert len(flags(db, FlagRule.unusual_volume)) == 1


def test_reads_outside_working_hours(db, cm, person):
    # The log's time never goes back along seq: entries are made in time order.
    saturday = record_read(
        db, cm, person.id, {"identity": "relationship:caseload"}, at=local(2026, 3, 7, 12)
    )
    record_read(
        db, cm, person.id, {"identity": "relationship:caseload"}, at=local(2026, 3, 9, 7, 0)
    )
    early = record_read(
        db, cm, person.id, {"identity": "relationship:caseload"}, at=local(2026, 3, 10, 6, 59)
    )
    record_read(
        db, cm, person.id, {"identity": "relationship:caseload"}, at=local(2026, 3, 10, 18, 59)
    )
    late = record_read(
        db, cm, person.id, {"identity": "relationship:caseload"}, at=local(2026, 3, 10, 19, 0)
    )
    # Sign-ins are not reads: not flagged by this rule.
    security_event(db, SecurityEventTag.sign_in_success, user=cm, at=local(2026, 3, 10, 22))
    run(db, days=7)
    assert sorted(f.log_seqs for f in flags(db, FlagRule.after_hours)) == sorted(
        [[early.seq, late.seq], [saturday.seq]]
    )


def test_working_hours_are_a_site_setting(db, cm, person):
    write_setting(
        db, "privacy_flags", {"working_hours_start": "06:00", "working_days": [0, 1, 2, 3, 4, 5]}
    )
    db.commit()
    assert flag_settings(db).working_hours_end.hour == 19
    record_read(db, cm, person.id, {"identity": "relationship:caseload"}, at=local(2026, 3, 7, 12))
    record_read(
        db, cm, person.id, {"identity": "relationship:caseload"}, at=local(2026, 3, 10, 6, 30)
    )
    run(db)
    assert flags(db, FlagRule.after_hours) == []
    write_setting(db, "privacy_flags", {"working_hours": "always"})
    db.commit()
    with pytest.raises(ValueError, match="privacy_flags"):
        run(db)


def test_denied_attempts(db, cm, person):
    withheld = record_read(
        db, cm, person.id, {}, withheld={"identity": "not_related"}, at=local(2026, 3, 10, 9)
    )
    refused = security_event(
        db, SecurityEventTag.access_denied, user=cm, outcome="denied", at=local(2026, 3, 10, 10),
        action="admin:users:manage",
    )  # fmt: skip
    breach = security_event(
        db, SecurityEventTag.part2_breach_signal, user=cm, outcome="denied", person_id=person.id,
        at=local(2026, 3, 10, 11),
    )  # fmt: skip
    # A failed sign-in is the sign-in rule's, not this one's.
    security_event(
        db,
        SecurityEventTag.sign_in_failure,
        outcome="failure",
        at=local(2026, 3, 10, 12),
        account_id=cm.id,
    )
    run(db)
    (flag,) = flags(db, FlagRule.denied)
    assert flag.log_seqs == [withheld.seq, refused.seq, breach.seq]
    assert flag.subject_user_id == cm.id
    # In words, not the log's tag.
    assert (
        "access denied" in flag.reason and SecurityEventTag.access_denied.value not in flag.reason
    )


def test_sign_in_failure_bursts_lockouts_and_new_addresses(db, cm):
    # Two failures an hour apart: no burst. Then three within 15 minutes: a burst.
    slow = [
        security_event(
            db,
            SecurityEventTag.sign_in_failure,
            outcome="failure",
            at=local(2026, 3, 10, h),
            account_id=cm.id,
        )
        for h in (8, 9)
    ]
    fast = [
        security_event(
            db,
            SecurityEventTag.sign_in_failure,
            outcome="failure",
            at=local(2026, 3, 10, 10, m),
            account_id=cm.id,
        )
        for m in (0, 5, 14)
    ]
    locked = security_event(
        db, SecurityEventTag.account_locked, at=local(2026, 3, 10, 10, 15), account_id=cm.id
    )
    unknown = [
        security_event(
            db,
            SecurityEventTag.sign_in_failure,
            outcome="failure",
            address="203.0.113.9",
            at=local(2026, 3, 10, 11, m),
            account_id=None,
        )
        for m in (0, 1, 2)
    ]
    usual = security_event(
        db, SecurityEventTag.sign_in_success, user=cm, address="10.0.0.1", at=local(2026, 3, 1, 9)
    )
    security_event(
        db, SecurityEventTag.sign_in_success, user=cm, address="10.0.0.1", at=local(2026, 3, 10, 12)
    )
    new = security_event(
        db,
        SecurityEventTag.sign_in_success,
        user=cm,
        address="198.51.100.7",
        at=local(2026, 3, 10, 13),
    )
    run(db)
    by_account, by_address = flags(db, FlagRule.sign_in_failures)
    assert by_account.subject_user_id == cm.id
    assert by_account.log_seqs == [e.seq for e in slow + fast]
    assert by_address.subject_user_id is None and "203.0.113.9" in by_address.reason
    assert by_address.log_seqs == [e.seq for e in unknown]
    (lockout,) = flags(db, FlagRule.lockout)
    assert lockout.log_seqs == [locked.seq] and lockout.subject_user_id == cm.id
    (address,) = flags(db, FlagRule.new_address)
    assert address.log_seqs == [new.seq] and "198.51.100.7" in address.reason
    assert usual.seq not in address.log_seqs


def test_recomputing_changes_nothing_and_new_entries_after_review_get_a_new_flag(
    db, cm, person, factories
):
    first = record_read(db, cm, person.id, {"identity": "role"}, at=local(2026, 3, 10, 9))
    created = run(db, at=local(2026, 3, 10, 9, 10))
    assert len(created.created) == 1
    assert run(db, at=local(2026, 3, 10, 9, 11)).updated == []
    before = len(logged(db, SecurityEventTag.flags_computed))
    assert run(db, at=local(2026, 3, 10, 9, 12)).created == []
    assert len(logged(db, SecurityEventTag.flags_computed)) == before  # an idle run logs nothing

    second = record_read(db, cm, person.id, {"identity": "role"}, at=local(2026, 3, 10, 10))
    again = run(db, at=local(2026, 3, 10, 10, 10))
    assert again.created == [] and again.updated == created.created
    (flag,) = flags(db, FlagRule.outside_relationship)
    assert flag.log_seqs == [first.seq, second.seq]

    officer = factories.User(role=Role.privacy_officer)
    with clock(local(2026, 3, 10, 10, 20)):
        review_flag(db, viewer_for_user(db, officer), flag.id, "Covering for a colleague.", CLI)
    third = record_read(db, cm, person.id, {"identity": "role"}, at=local(2026, 3, 10, 11))
    run(db, at=local(2026, 3, 10, 11, 10))
    reviewed, fresh = flags(db, FlagRule.outside_relationship)
    assert reviewed.status == FlagStatus.reviewed and reviewed.log_seqs == [first.seq, second.seq]
    assert fresh.status == FlagStatus.open and fresh.log_seqs == [third.seq]
    assert fresh.key == reviewed.key


def test_reviewing_a_flag_is_logged_and_needs_another_privacy_officer(db, factories, person):
    officer = factories.User(role=Role.privacy_officer)
    colleague = factories.User(role=Role.privacy_officer)
    security_event(
        db, SecurityEventTag.break_glass_opened, user=officer, person_id=person.id,
        at=local(2026, 3, 10, 9), id=1, reason="Checking a complaint, with cause.",
    )  # fmt: skip
    run(db)
    (flag,) = flags(db, FlagRule.break_glass)
    with pytest.raises(FlagError, match="another privacy officer"):
        review_flag(db, viewer_for_user(db, officer), flag.id, "Fine.", CLI)
    with pytest.raises(FlagError, match="note"):
        review_flag(db, viewer_for_user(db, colleague), flag.id, "   ", CLI)
    cm = factories.User(role=Role.case_manager)
    with pytest.raises(FlagError, match="privacy officer"):
        review_flag(db, viewer_for_user(db, cm), flag.id, "Fine.", CLI)
    assert logged(db, SecurityEventTag.flag_reviewed) == []

    review_flag(db, viewer_for_user(db, colleague), flag.id, "Complaint file 12; justified.", CLI)
    (entry,) = logged(db, SecurityEventTag.flag_reviewed, review_flag_id=flag.id)
    assert entry.actor_user_id == colleague.id and entry.person_id == person.id
    (flag,) = flags(db, FlagRule.break_glass)
    assert flag.status == FlagStatus.reviewed and flag.reviewed_by_id == colleague.id
    assert flag.review_note == "Complaint file 12; justified."
    with pytest.raises(FlagError, match="already"):
        review_flag(db, viewer_for_user(db, colleague), flag.id, "Again.", CLI)
    assert list_flags(db).flags == []
    assert [f.id for f in list_flags(db, status=FlagStatus.reviewed).flags] == [flag.id]


def test_hub_audit_flags_computes_from_the_command_line(db, cm, person):
    from typer.testing import CliRunner

    from hub.cli import app as cli_app

    # A weekday morning at the site: only the outside-relationship rule applies, at any hour
    # the suite runs.
    with clock(local(2030, 1, 9, 10)):
        record_read(db, cm, person.id, {"identity": "role"})
        result = CliRunner().invoke(cli_app, ["audit", "flags", "--days", "1"])
        assert result.exit_code == 0, result.output
        assert "Flags created: 1; updated: 0." in result.output
        again = CliRunner().invoke(cli_app, ["audit", "flags", "--days", "1"])
        assert "Flags created: 0; updated: 0." in again.output
    (run,) = logged(db, SecurityEventTag.flags_computed)
    assert run.actor_user_id is None and run.address == "local"
    assert CliRunner().invoke(cli_app, ["audit", "flags", "--days", "0"]).exit_code == 2
