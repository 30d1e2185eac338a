"""`hub policy test`, `hub policy explain`, `hub keys rotate`, and the compiled policy."""

import base64
import os
import shutil

import pytest
from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner

from hub.accounts.models import User
from hub.audit.models import LogEntry
from hub.cli import app
from hub.clients.models import CaseNote, HealthRecord, PersonContact
from hub.crypto import key_ring, new_data_key
from hub.disclosure.policy import POLICY_DIR, PolicyError, compile_policy, load_policy
from hub.settings import get_settings
from hub.vocabulary import AgencyKind, Role
from tests.factories import full_client

runner = CliRunner()


def test_decision_tables_pass():
    result = runner.invoke(app, ["policy", "test"])
    assert result.exit_code == 0, result.output
    assert ", 0 mismatches" in result.output


def test_a_wrong_expectation_is_printed_and_fails(tmp_path):
    shutil.copytree(POLICY_DIR, tmp_path / "policies")
    table = tmp_path / "policies" / "tests" / "hard_rules.csv"
    table.write_text(
        table.read_text() + "prosecutor,office_matter,part2,charging_decision,treatment,disclosed\n"
    )
    result = runner.invoke(app, ["policy", "test", "--directory", str(tmp_path / "policies")])
    assert result.exit_code == 1
    assert "MISMATCH hard_rules.csv" in result.output
    assert "got withheld:enforcement_rule" in result.output


def test_a_policy_line_cannot_override_a_hard_rule(tmp_path):
    shutil.copytree(POLICY_DIR, tmp_path / "policies")
    policy = tmp_path / "policies" / "policy.csv"
    policy.write_text(
        policy.read_text()
        + "p, prosecutor, everyone, treatment, charging_decision, none\n"
        + "p, admin, everyone, identity, oversight, none\n"
    )
    result = runner.invoke(app, ["policy", "test", "--directory", str(tmp_path / "policies")])
    assert result.exit_code == 0, result.output
    assert load_policy(tmp_path / "policies").version != load_policy().version


def test_a_misspelt_policy_line_is_refused():
    model = (POLICY_DIR / "model.conf").read_text()
    with pytest.raises(PolicyError, match="unknown role 'oficer'"):
        compile_policy(model, "p, oficer, own_referral, identity, referral, none\n")
    with pytest.raises(PolicyError, match="line 2"):
        compile_policy(model, "# a comment\np, officer, own_referral, identity\n")


def test_policy_version_is_the_hash_of_both_files():
    import hashlib

    model = (POLICY_DIR / "model.conf").read_text().encode()
    policy = (POLICY_DIR / "policy.csv").read_text().encode()
    digest = hashlib.sha256(
        len(model).to_bytes(8, "big") + model + len(policy).to_bytes(8, "big") + policy
    )
    assert load_policy().version == digest.hexdigest()


def test_threads_that_miss_the_cache_together_compile_the_policy_once(tmp_path):
    """A worker that has just started gets all its request threads asking at once (the crash
    test's restart under load); compiling in several at a time made casbin's ast.parse fail on
    CPython 3.11 and answered 500."""
    from concurrent.futures import ThreadPoolExecutor

    shutil.copytree(POLICY_DIR, tmp_path / "policies")
    policy = tmp_path / "policies" / "policy.csv"
    policy.write_text(policy.read_text() + "# a version no other test has compiled\n")
    with ThreadPoolExecutor(8) as pool:
        compiled = list(pool.map(lambda _: load_policy(tmp_path / "policies"), range(16)))
    assert len({id(c) for c in compiled}) == 1


@pytest.fixture
def client_record(db, factories):
    cm_agency = factories.Agency(kind=AgencyKind.case_management)
    case_manager = factories.User(role=Role.case_manager, agency=cm_agency)
    officer = factories.User(role=Role.officer)
    prosecution = factories.Agency(kind=AgencyKind.prosecution)
    person = full_client(
        db,
        referring_user=officer,
        case_management_agency_id=cm_agency.id,
        prosecuting_agency_id=prosecution.id,
        note_author=case_manager,
    )
    return person, officer


def test_explain_shows_decisions_without_content_and_logs_it(db, client_record):
    person, officer = client_record
    result = runner.invoke(
        app, ["policy", "explain", officer.email, str(person.id), "--purpose", "referral"]
    )
    assert result.exit_code == 0, result.output
    assert "identity      disclosed  relationship:own_referral" in result.output
    assert "treatment     withheld   enforcement_rule" in result.output
    assert person.last_name not in result.output
    db.rollback()
    (entry,) = db.exec(select(LogEntry)).all()
    assert entry.tag == "privacy:policy:explained" and entry.person_id == person.id
    assert entry.detail["explained_user_id"] == officer.id

    bad = runner.invoke(
        app, ["policy", "explain", officer.email, str(person.id), "--purpose", "curiosity"]
    )
    assert bad.exit_code == 2


def _use_keys(monkeypatch, keys):
    monkeypatch.setenv("HUB_DATA_KEYS", keys)
    get_settings.cache_clear()
    key_ring.cache_clear()


def test_keys_rotate_reseals_everything_so_the_old_key_can_go(db, client_record, monkeypatch):
    person, _ = client_record
    k1 = os.environ["HUB_DATA_KEYS"]
    k2 = f"k2:{new_data_key()}"
    try:
        _use_keys(monkeypatch, f"{k2},{k1}")
        result = runner.invoke(app, ["keys", "rotate"])
        assert result.exit_code == 0, result.output
        assert "case_note.body: 10 re-sealed" in result.output
        assert "user.totp_secret_sealed: 2 re-sealed" in result.output  # the two users
        again = runner.invoke(app, ["keys", "rotate"])
        assert "(0 changed)" in again.output  # idempotent

        _use_keys(monkeypatch, k2)  # k1 removed
        db.expire_all()
        db.rollback()
        assert db.get(PersonContact, person.id).phone == "555-0100"
        assert db.get(HealthRecord, person.id).mental_health == "Anxiety"
        notes = db.exec(select(CaseNote).where(CaseNote.person_id == person.id)).all()
        assert len(notes) == 10
        for user in db.exec(select(User)).all():
            key_ring().open(user.totp_secret_sealed)
        raw = db.exec(text("SELECT body FROM case_note")).all()
        assert all(row[0].startswith("v1:k2:") for row in raw)
        tags = [e.tag for e in db.exec(select(LogEntry)).all()]
        assert tags == ["admin:data_keys:rotated"] * 2
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        key_ring.cache_clear()
    assert base64.b64decode(k2.split(":", 1)[1])
