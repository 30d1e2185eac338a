"""The accounting of disclosures: its content under each rule, summarised repeats, the log's
integrity at printing (inclusion proofs against a signed checkpoint), and that generating it is
logged."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from hub.accounts.sessions import viewer_for
from hub.audit.log import Actor
from hub.db import utcnow
from hub.privacy.accounting import (
    HIPAA_RULE,
    PART2_RULE,
    AccountingError,
    generate_accounting,
)
from hub.vocabulary import Role, SecurityEventTag
from tests.audit_support import detail_of, drop_triggers
from tests.privacy_support import record_read, search_read
from tests.signing_in import logged

ACTOR = Actor(request_id="req-accounting", address="10.0.0.9")


@pytest.fixture
def officer(db, factories):
    return viewer_for(db, factories.User(role=Role.privacy_officer))


@pytest.fixture
def client_log(db, factories):
    cm = factories.User(role=Role.case_manager)
    defender = factories.User(role=Role.defender)
    person, other = factories.Person(), factories.Person()
    now = utcnow()
    e = {
        "old": record_read(
            db,
            cm,
            person.id,
            {"identity": "relationship:caseload"},
            at=now - timedelta(days=5 * 365),
        ),
        "cm1": record_read(
            db,
            cm,
            person.id,
            {"identity": "relationship:caseload", "plan": "relationship:caseload"},
            at=now - timedelta(days=40),
        ),
        "cm2": record_read(
            db,
            cm,
            person.id,
            {"identity": "relationship:caseload", "plan": "relationship:caseload"},
            at=now - timedelta(days=20),
        ),
        "cm3": record_read(
            db,
            cm,
            person.id,
            {"identity": "relationship:caseload", "plan": "relationship:caseload"},
            at=now - timedelta(days=10),
        ),
        "part2": record_read(
            db,
            defender,
            person.id,
            {"identity": "role", "treatment": "consent:9"},
            purpose="defense",
            at=now - timedelta(days=5),
        ),
        "withheld": record_read(
            db, cm, person.id, {}, withheld={"identity": "not_related"}, at=now - timedelta(days=4)
        ),
        "search": search_read(
            db,
            cm,
            {other.id: "role", person.id: "relationship:caseload"},
            at=now - timedelta(days=3),
        ),
        "someone_else": record_read(
            db, cm, other.id, {"identity": "role"}, at=now - timedelta(days=2)
        ),
    }
    return {"cm": cm, "defender": defender, "person": person, **e}


def test_the_accounting_lists_every_disclosure_under_each_rule(db, officer, client_log):
    report = generate_accounting(db, officer, client_log["person"].id, ACTOR, summarise=False)
    hipaa, part2 = report.sections
    assert hipaa.rule == HIPAA_RULE and part2.rule == PART2_RULE
    assert (hipaa.until - hipaa.since).days in (365 * 6 + 1, 365 * 6 + 2)
    assert (part2.until - part2.since).days in (365 * 3, 365 * 3 + 1)
    seq = {k: v.seq for k, v in client_log.items() if hasattr(v, "seq")}
    listed = [line.seqs for line in hipaa.lines]
    # Oldest first; withheld reads and other clients' disclosures are not disclosures of theirs.
    assert listed == [(seq[k],) for k in ("old", "cm1", "cm2", "cm3", "part2", "search")]
    part2_line = hipaa.lines[4]
    assert part2_line.recipient_user_id == client_log["defender"].id
    assert part2_line.categories == ("identity", "treatment")
    assert part2_line.purpose == "defense"
    assert part2_line.bases == ("consent:9", "role")
    assert hipaa.lines[5].categories == ("identity",)  # shown in a search
    # 42 CFR 2.25: only Part 2 data disclosed on consent, three years back.
    assert [line.seqs for line in part2.lines] == [(seq["part2"],)]
    assert report.notice is not None  # it names Part 2 disclosures: 42 CFR 2.32


def test_repeated_disclosures_to_one_recipient_for_one_purpose_are_summarised(
    db, officer, client_log
):
    report = generate_accounting(db, officer, client_log["person"].id, ACTOR)
    hipaa = report.sections[0]
    # One recipient, one purpose, the same information on the same basis: one line. (The old
    # read and the search both disclosed identity on the caseload to the same case manager.)
    old_and_search, repeated = [line for line in hipaa.lines if line.count > 1]
    assert old_and_search.seqs == (client_log["old"].seq, client_log["search"].seq)
    assert repeated.count == 3
    assert repeated.seqs == tuple(client_log[k].seq for k in ("cm1", "cm2", "cm3"))
    assert repeated.first == client_log["cm1"].recorded_at
    assert repeated.last == client_log["cm3"].recorded_at
    assert hipaa.disclosures == 6


def test_a_chosen_period_applies_to_both_rules(db, officer, client_log):
    since = (utcnow() - timedelta(days=15)).date()
    report = generate_accounting(db, officer, client_log["person"].id, ACTOR, since=since)
    hipaa, part2 = report.sections
    assert hipaa.since == part2.since == since
    assert [line.seqs[0] for line in hipaa.lines] == [
        client_log[k].seq for k in ("cm3", "part2", "search")
    ]
    with pytest.raises(AccountingError):
        generate_accounting(
            db,
            officer,
            client_log["person"].id,
            ACTOR,
            since=since,
            until=since - timedelta(days=1),
        )
    with pytest.raises(AccountingError):
        generate_accounting(db, officer, 999_999, ACTOR)


def test_integrity_every_listed_entry_is_proven_against_a_fresh_checkpoint(db, officer, client_log):
    report = generate_accounting(db, officer, client_log["person"].id, ACTOR)
    integrity = report.integrity
    assert integrity.ok, integrity.problems
    assert integrity.checked == 6 and integrity.not_covered == 0
    assert integrity.tree_size is not None and integrity.tree_size > client_log["search"].seq
    assert integrity.checkpoint is not None
    assert integrity.checkpoint.startswith("diversion-hub.example/log\n")
    assert integrity.verifier_key.startswith("diversion-hub.example/log+")


def test_integrity_names_an_altered_entry(db, officer, client_log):
    generate_accounting(db, officer, client_log["person"].id, ACTOR)  # signs a checkpoint
    drop_triggers(db)  # the database owner, playing an attacker
    db.execute(
        text("UPDATE log_entry SET purpose = 'oversight' WHERE seq = :seq"),
        {"seq": client_log["cm2"].seq},
    )
    db.commit()
    db.expire_all()
    integrity = generate_accounting(db, officer, client_log["person"].id, ACTOR).integrity
    assert not integrity.ok
    assert (
        f"entry {client_log['cm2'].seq}: its fields do not match its leaf hash"
        in integrity.problems
    )
    assert integrity.missing_triggers  # and the guards are gone


def test_generating_an_accounting_is_logged(db, officer, client_log, factories):
    report = generate_accounting(db, officer, client_log["person"].id, ACTOR)
    (entry,) = logged(db, SecurityEventTag.accounting_generated)
    assert entry.seq == report.log_seq
    assert entry.person_id == client_log["person"].id
    assert entry.actor_user_id == officer.user_id
    assert (
        detail_of(entry)["hipaa"]["disclosures"] == 6
        and detail_of(entry)["part2"]["disclosures"] == 1
    )
    assert detail_of(entry)["integrity_ok"] is True
    cm = viewer_for(db, factories.User(role=Role.case_manager))
    with pytest.raises(AccountingError):
        generate_accounting(db, cm, client_log["person"].id, ACTOR)
