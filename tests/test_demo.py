"""`hub demo`: the fictional program is deterministic, covers every state the hub knows, and
the command never wipes a database it did not build."""

import itertools
import json
import os
import re
import secrets
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session, SQLModel, func, select
from typer.testing import CliRunner

from hub.accounts.models import Agency, User
from hub.accounts.passwords import MIN_LENGTH, verify_password
from hub.arrests.models import ArrestReport
from hub.audit.models import LogEntry
from hub.caserecord.models import ContactEntry, RecordChange
from hub.charging.models import ChargingDecision, ChargingMatter, MatterDeputy
from hub.cli import app as cli
from hub.clients.models import (
    CaseNote,
    ClientAssignment,
    HealthRecord,
    HousingRecord,
    Person,
    PersonAlias,
    PersonContact,
    PlanGoal,
    TreatmentRecord,
)
from hub.consents.models import Consent
from hub.crypto import key_ring
from hub.db import get_engine
from hub.demo.legal import build_legal_day
from hub.demo.phrases import OFFENSES
from hub.demo.program import DEFAULT_SEED, build_demo, demo_accounts
from hub.demo.services import (
    NotADemoDatabase,
    accounts_markdown,
    demo_environment,
    demo_mark,
    rebuild_demo,
)
from hub.hearings.models import CourtHearing
from hub.priors.models import PriorMatter, Warrant
from hub.referrals.models import Referral
from hub.services_ledger.models import ServiceRecord
from hub.settings import PROJECT_ROOT, get_settings
from hub.site import read_setting, write_setting
from hub.vocabulary import (
    ROLES_BY_AGENCY_KIND,
    AgencyKind,
    Category,
    ConsentKind,
    DecisionOutcome,
    FundingSource,
    MeetingStatus,
    ProgramStatus,
    ReferralKind,
    Role,
    SecurityEventTag,
)
from hub.workgroup.models import MeetingInvitee, WorkGroupMeeting
from tests.conftest import POSTGRES_URL, reset_caches

TODAY = date(2026, 3, 3)  # pinned, so that two builds compare equal whatever day they run
SMALL = 40
LEVEL = {code: level for code, _, level in OFFENSES}

SNAPSHOT_MODELS: tuple[type[SQLModel], ...] = (
    Agency,
    User,
    Person,
    PersonAlias,
    PersonContact,
    Referral,
    ClientAssignment,
    PlanGoal,
    HousingRecord,
    HealthRecord,
    TreatmentRecord,
    CaseNote,
    Consent,
    ChargingMatter,
    ChargingDecision,
    WorkGroupMeeting,
    MeetingInvitee,
    ArrestReport,
    CourtHearing,
    MatterDeputy,
    PriorMatter,
    Warrant,
)
# Salted or sealed with a fresh nonce on every build; what they hold is checked separately.
# An earlier matter's recorded_at is when the prosecutor typed it in: the build's own time.
UNSTABLE_FIELDS = {"password_hash", "totp_secret_sealed", "recorded_at"}


def snapshot(*models: type[SQLModel]) -> dict[str, list[dict[str, Any]]]:
    """Every row of these tables, as the program reads them (sealed fields opened)."""
    with Session(get_engine()) as session:
        return {
            model.__name__: [
                row.model_dump(exclude=UNSTABLE_FIELDS)
                for row in session.exec(
                    select(model).order_by(*sa_inspect(model).primary_key)
                ).all()
            ]
            for model in models or SNAPSHOT_MODELS
        }


def build(seed: int = DEFAULT_SEED, persons: int = SMALL) -> None:
    with Session(get_engine(), expire_on_commit=False) as session:
        build_demo(session, seed, persons, today=TODAY)
        write_setting(session, "demo", {"seed": seed, "persons": persons, "complete": True})
        session.commit()


def rows(model: type[SQLModel]) -> list[Any]:
    with Session(get_engine(), expire_on_commit=False) as session:
        return list(session.exec(select(model)).all())


# --- the accounts ---------------------------------------------------------------------------


def test_demo_accounts_are_deterministic_and_fit_their_agencies():
    accounts = demo_accounts(DEFAULT_SEED)
    assert accounts == demo_accounts(DEFAULT_SEED)
    other = demo_accounts(DEFAULT_SEED + 1)
    assert {a.password for a in accounts}.isdisjoint(a.password for a in other)
    assert {a.totp_secret for a in accounts}.isdisjoint(a.totp_secret for a in other)

    roles = Counter(a.role for a in accounts)
    assert set(roles) == set(Role)
    assert min(roles.values()) >= 2
    assert len({a.email for a in accounts}) == len(accounts)
    for account in accounts:
        assert account.email.endswith(".example")
        assert account.agency.endswith("(fictional)")
        assert len(account.password) >= MIN_LENGTH
        assert len(pyotp.TOTP(account.totp_secret).now()) == 6


def test_accounts_doc_matches_the_default_seed(tmp_path):
    # docs/demo-accounts.md never drifts from what `hub demo` builds.
    doc = PROJECT_ROOT / "docs" / "demo-accounts.md"
    expected = accounts_markdown(demo_accounts(DEFAULT_SEED), DEFAULT_SEED)
    assert doc.read_text() == expected, (
        "regenerate it: python -m hub demo --accounts-doc docs/demo-accounts.md"
    )
    written = tmp_path / "accounts.md"
    result = CliRunner().invoke(cli, ["demo", "--accounts-doc", str(written)])
    assert result.exit_code == 0, result.output
    assert written.read_text() == expected
    for account in demo_accounts(DEFAULT_SEED):
        assert account.email in expected and account.totp_secret in expected


# --- the program ----------------------------------------------------------------------------


def test_same_seed_builds_the_same_program(database_url):
    build()
    with Session(get_engine(), expire_on_commit=False) as session:
        build_legal_day(session, TODAY)  # rebuild_demo's last step
    first = snapshot()
    assert len(first["Person"]) == SMALL
    rebuild_demo(database_url, DEFAULT_SEED, SMALL, today=TODAY)
    assert snapshot() == first

    rebuild_demo(database_url, DEFAULT_SEED + 1, SMALL, today=TODAY)
    other = snapshot(Person)["Person"]
    assert [(p["first_name"], p["last_name"]) for p in other] != [
        (p["first_name"], p["last_name"]) for p in first["Person"]
    ]


def test_demo_program_has_every_kind_of_thing(database_url):
    build()
    deadline = get_settings().intake_deadline_days
    agencies = {a.id: a for a in rows(Agency)}
    users = {u.id: u for u in rows(User)}

    # Agencies of every kind; users of every role, at least two, each in a fitting agency.
    assert {a.kind for a in agencies.values()} == set(AgencyKind)
    assert all(a.name.endswith("(fictional)") for a in agencies.values())
    jurisdictions = {a.jurisdiction: a.id for a in agencies.values() if a.jurisdiction}
    assert set(jurisdictions) == {"felony", "misdemeanor"}
    assert min(Counter(u.role for u in users.values()).values()) >= 2
    assert {u.role for u in users.values()} == set(Role)
    for user in users.values():
        assert user.role in ROLES_BY_AGENCY_KIND[agencies[user.agency_id].kind]
        assert user.mfa_enrolled_at is not None and user.email.endswith(".example")

    persons = {p.id: p for p in rows(Person)}
    assert len(persons) == SMALL
    assert {p.program_status for p in persons.values()} == set(ProgramStatus)
    assert all(
        1 <= code <= 7 or code in (9, 99) for p in persons.values() for code in p.race_ethnicity
    )
    assert all(0 <= code <= 6 or code == 99 for p in persons.values() for code in p.gender)

    referrals = rows(Referral)
    assert {r.kind for r in referrals} == set(ReferralKind)
    for referral in referrals:
        assert referral.intake_due_on == referral.referred_at.date() + timedelta(days=deadline)
        assert users[referral.referring_user_id].role in (Role.officer, Role.sergeant)
        if referral.kind == ReferralKind.arrest:
            # Felonies go to the county prosecutor, misdemeanors to the city attorney.
            [offense] = referral.alleged_offenses
            assert referral.forwarded_to_agency_id == jurisdictions[LEVEL[offense]]
        else:
            assert referral.forwarded_to_agency_id is None
        if referral.kind == ReferralKind.social_contact:
            assert referral.prior_involvement
        if referral.screening_done_at and referral.intake_done_at:
            assert referral.screening_done_at < referral.intake_done_at
    # Intake pending with the deadline near, as well as intakes done late and missed.
    near = timedelta(days=get_settings().deadline_near_days)
    assert any(
        r.intake_done_at is None and TODAY <= r.intake_due_on <= TODAY + near for r in referrals
    )
    assert any(r.intake_done_at and r.intake_done_at.date() > r.intake_due_on for r in referrals)

    assignments = rows(ClientAssignment)
    assert {a.kind for a in assignments} == {"caseload", "defense"}
    for assignment in assignments:
        expected = Role.case_manager if assignment.kind == "caseload" else Role.defender
        assert users[assignment.user_id].role == expected

    contacts = rows(PersonContact)
    assert contacts and all(
        re.fullmatch(r"\(360\) 555-01\d\d", c.phone) for c in contacts if c.phone
    )
    assert rows(PlanGoal) and rows(HousingRecord) and rows(HealthRecord)
    assert rows(TreatmentRecord) and rows(PersonAlias)

    notes = rows(CaseNote)
    referred_at = {r.person_id: r.referred_at for r in referrals}
    assert all(referred_at[n.person_id] < n.written_at for n in notes)
    assert {n.category for n in notes} == set(Category)
    assert {users[n.author_id].role for n in notes} == {Role.case_manager}

    consents = rows(Consent)
    assert {c.kind for c in consents} == set(ConsentKind)
    assert any(c.revoked_at for c in consents)
    assert any(c.expires_on and c.expires_on < TODAY and not c.revoked_at for c in consents)
    for consent in consents:
        # 42 CFR 2.31: every element present.
        assert consent.description and consent.right_to_revoke and consent.signed_by
        assert consent.signature_on_file and consent.signed_on <= TODAY
        assert consent.expires_on or consent.expiry_event
        assert consent.recipient_user_id or consent.recipient_agency_id
        assert consent.categories and consent.purposes
        if consent.revoked_at:
            assert consent.signed_on <= consent.revoked_at.date() < TODAY
        if consent.kind == ConsentKind.criminal_justice_referral:
            # 42 CFR 2.35: engagement only, to the prosecuting agency, irrevocable until
            # final disposition.
            assert consent.categories == [Category.engagement]
            assert agencies[consent.recipient_agency_id].kind == AgencyKind.prosecution
            assert consent.irrevocable_until == "final disposition of the charges"
            assert consent.revoked_at is None
        elif consent.kind == ConsentKind.part2:
            assert consent.categories == [Category.treatment]
            assert users[consent.recipient_user_id].role == Role.defender
        else:
            assert Category.treatment not in consent.categories
            assert Category.health not in consent.categories

    matters = rows(ChargingMatter)
    assert all(re.fullmatch(r"OTN-\d{4}-\d{6}", m.offense_tracking_number) for m in matters)
    decisions = rows(ChargingDecision)
    assert {d.outcome for d in decisions} == set(DecisionOutcome)
    assert any(d.supersedes_id for d in decisions)
    assert {m.id for m in matters} - {d.matter_id for d in decisions}, "some still await one"
    matter_of = {m.id: m for m in matters}
    intake_of = {r.id: r.intake_done_at for r in referrals}
    for decision in decisions:
        matter = matter_of[decision.matter_id]
        assert users[decision.decided_by_id].agency_id == matter.prosecuting_agency_id
        assert decision.decided_at.date() < TODAY
        if decision.outcome == DecisionOutcome.file:
            # Filing follows a missed intake, never disengagement after one (no sanctions).
            assert intake_of[matter.referral_id] is None

    meetings = sorted(rows(WorkGroupMeeting), key=lambda m: m.starts_at)
    assert len(meetings) >= 50
    assert all(m.starts_at.date().weekday() == 1 for m in meetings)  # Tuesday
    assert {(b.starts_at - a.starts_at).days for a, b in itertools.pairwise(meetings)} <= {13, 14}
    assert [m.status for m in meetings[-2:]] == [MeetingStatus.held, MeetingStatus.draft]
    assert {m.status for m in meetings[:-2]} == {MeetingStatus.minutes_approved}
    invited = {users[i.user_id].agency_id for i in rows(MeetingInvitee)}
    assert {agencies[a].kind for a in invited} == set(AgencyKind)

    # Seeding disclosed nothing to anyone; the log holds the changes the case managers'
    # services recorded, each under the write policy (issue 14, item 10).
    log = rows(LogEntry)
    assert log and {e.kind for e in log} == {"security"}
    assert {users[e.actor_user_id].role for e in log} == {Role.case_manager}
    assert {e.tag for e in log} >= {
        SecurityEventTag.record_changed.value,
        SecurityEventTag.contact_logged.value,
        SecurityEventTag.plan_goal_changed.value,
        SecurityEventTag.service_recorded.value,
        SecurityEventTag.case_note_created.value,
        SecurityEventTag.bridge_displacement.value,
    }
    assert [e.recorded_at for e in log] == sorted(e.recorded_at for e in log)
    # Status history with its reasons; contacts set last contact; sections dated "updated".
    history = [c for c in rows(RecordChange) if c.section == "status"]
    assert {json.loads(c.saved)["program_status"] for c in history} >= {
        "active",
        "not_engaged",
        "exited",
    }
    assert all(len(json.loads(c.saved)["reason"]) > 10 for c in history)
    latest: dict[int, date] = {}
    for entry in rows(ContactEntry):
        latest[entry.person_id] = max(
            entry.contact_on, latest.get(entry.person_id, entry.contact_on)
        )
    assert latest and all(persons[pid].last_contact_on == day for pid, day in latest.items())
    assert all(h.updated_at.date() < TODAY for h in rows(HousingRecord))
    # Services tied to goals, bridges naming their list, one paid after the client's turn.
    services = rows(ServiceRecord)
    assert any(s.goal_id for s in services)
    bridges = [s for s in services if s.waitlist]
    assert bridges and all(s.funding_source == FundingSource.lead for s in bridges)
    assert len([s for s in bridges if s.turn_came_on and s.provided_on > s.turn_came_on]) == 1


def test_demo_accounts_sign_in_with_their_password_and_totp_secret(database_url):
    build()
    accounts = {a.email: a for a in demo_accounts(DEFAULT_SEED)}
    users = rows(User)
    assert {u.email for u in users} == set(accounts)
    checked_password_of: set[Role] = set()
    for user in users:
        account = accounts[user.email]
        assert user.role == account.role
        if user.role not in checked_password_of:  # argon2 is slow on purpose: one per role
            assert verify_password(user.password_hash, account.password)
            assert not verify_password(user.password_hash, account.password + "x")
            checked_password_of.add(user.role)
        secret = key_ring().open(user.totp_secret_sealed)
        assert secret == account.totp_secret
        assert pyotp.TOTP(secret).verify(pyotp.TOTP(account.totp_secret).now())


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A database that does not exist yet: `hub demo` creates it."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'demo.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"hub_test_{server.run_id}_demo_{secrets.token_hex(4)}"
        server.created.append(name)  # dropped at the end of the run, if the test made it
        url = f"{POSTGRES_URL}/{name}"
    os.environ["HUB_DATABASE_URL"] = url
    reset_caches()
    yield url
    get_engine().dispose()


@dataclass
class DemoRun:
    """What `hub demo` exited with and printed, and the servers it would have started."""

    exit_code: int
    stdout: str
    stderr: str
    output: str
    served: list[dict[str, Any]]


@pytest.fixture
def run_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., DemoRun]]:
    """Runs `hub demo ARGS` in a scratch directory, without serving; undoes what it set."""
    monkeypatch.chdir(tmp_path)
    served: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: served.append({"app": app, **kwargs}))
    saved = os.environ.get("HUB_COOKIE_SECURE")

    def run(*args: str) -> DemoRun:
        get_engine().dispose()  # the command clears the cached engines: close their connections
        result = CliRunner().invoke(cli, ["demo", *args])
        ran = DemoRun(result.exit_code, result.stdout, result.stderr, result.output, list(served))
        served.clear()
        return ran

    yield run
    if saved is None:
        os.environ.pop("HUB_COOKIE_SECURE", None)
    else:
        os.environ["HUB_COOKIE_SECURE"] = saved
    get_engine().dispose()
    reset_caches()


def add_sentinel() -> None:
    with Session(get_engine()) as session:
        session.add(Agency(name="Added after the build", kind=AgencyKind.oversight))
        session.commit()


def has_sentinel() -> bool:
    with Session(get_engine()) as session:
        return bool(
            session.exec(select(func.count()).where(Agency.name == "Added after the build")).one()
        )


def test_accounts_json_builds_the_demo_and_lists_every_role(empty_database_url, run_demo):
    result = run_demo("--accounts-json", "--persons", "12")
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)
    assert {entry["role"] for entry in listed} == set(Role)
    assert all(
        set(entry) == {"role", "agency", "email", "password", "totp_secret"} for entry in listed
    )
    assert listed == [{**a.__dict__, "role": a.role.value} for a in demo_accounts(DEFAULT_SEED)]
    assert not result.served
    mark = demo_mark(empty_database_url)
    assert mark is not None and mark.complete and mark.seed == DEFAULT_SEED
    assert len(rows(Person)) == 12

    # The database is there with the same seed: printed again, not rebuilt.
    add_sentinel()
    again = run_demo("--accounts-json", "--persons", "12")
    assert again.exit_code == 0 and json.loads(again.stdout) == listed
    assert has_sentinel()

    # Another seed: rebuilt, so that the printed secrets are the ones in the database.
    other = run_demo("--accounts-json", "--persons", "12", "--seed", "7")
    assert other.exit_code == 0, other.stderr
    assert not has_sentinel()
    first = json.loads(other.stdout)[0]
    with Session(get_engine()) as session:
        user = session.exec(select(User).where(User.email == first["email"])).one()
        assert user.totp_secret_sealed is not None
        assert key_ring().open(user.totp_secret_sealed) == first["totp_secret"]
        assert read_setting(session, "demo")["seed"] == 7


@pytest.mark.parametrize("backend", ["sqlite"])
def test_scale_build_only_prints_its_phases_and_every_account(empty_database_url, run_demo):
    from hub.demo.scale import scale_accounts

    result = run_demo("--scale", "1", "--persons", "5", "--build-only")
    assert result.exit_code == 0, result.stderr
    assert not result.served
    assert "log: signed checkpoints:" in result.stderr and "total:" in result.stderr
    mark = demo_mark(empty_database_url)
    assert mark is not None and mark.complete and mark.scale == 1
    assert len(rows(Person)) == 5

    # The same seed and scale: printed from the database as it is, load accounts included.
    add_sentinel()
    listed = run_demo("--scale", "1", "--persons", "5", "--accounts-json")
    assert listed.exit_code == 0, listed.stderr
    assert has_sentinel()
    expected = scale_accounts(DEFAULT_SEED)
    assert json.loads(listed.stdout) == [{**a.__dict__, "role": a.role.value} for a in expected]
    assert {u.email for u in rows(User)} == {a.email for a in expected}


def test_demo_rebuilds_its_own_database_and_serves_on_plain_http(empty_database_url, run_demo):
    result = run_demo("--persons", "8", "--port", "8123", "--host", "127.0.0.2")
    assert result.exit_code == 0, result.stderr
    [served] = result.served
    assert served["app"] == "hub.web.app:create_app" and served["factory"] is True
    assert (served["host"], served["port"]) == ("127.0.0.2", 8123)
    assert get_settings().cookie_secure is False
    assert get_settings().session_cookie_name == "hub_session"

    add_sentinel()
    rerun = run_demo("--persons", "8")
    assert rerun.exit_code == 0, rerun.stderr
    assert not has_sentinel()
    assert len(rows(Person)) == 8


def test_demo_refuses_to_wipe_a_database_it_did_not_build(database_url, run_demo):
    # database_url is a migrated hub database with no demo mark: someone's real data.
    add_sentinel()
    for args in (["--accounts-json"], []):
        result = run_demo(*args)
        assert result.exit_code == 1
        assert "refusing to wipe it" in result.stderr
        assert not result.served and result.stdout == ""
    assert has_sentinel()
    with pytest.raises(NotADemoDatabase):
        rebuild_demo(database_url, DEFAULT_SEED, 5)
    assert has_sentinel()


def test_demo_environment_writes_its_secrets_once_and_reuses_them(tmp_path, monkeypatch):
    names = ("HUB_SECRET_KEY", "HUB_DATA_KEYS", "HUB_LOG_SIGNING_KEY")
    assert demo_environment(tmp_path) is None  # the environment already has them
    assert not (tmp_path / "hub-demo.env").exists()

    for name in names:
        monkeypatch.delenv(name)
    path = demo_environment(tmp_path)
    assert path is not None and path == tmp_path / "hub-demo.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = {name: os.environ[name] for name in names}
    assert all(first.values())

    for name in names:
        monkeypatch.delenv(name)
    assert demo_environment(tmp_path) == path
    assert {name: os.environ[name] for name in names} == first
    reset_caches()


# --- the full program -----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])
def test_full_demo_program_on_sqlite(database_url):
    build(persons=300)
    full = snapshot(Person, Referral)
    persons = full["Person"]
    assert len(persons) == 300
    days = sorted(r["referred_at"].date() for r in full["Referral"])
    assert TODAY - timedelta(days=731) <= days[0] and days[-1] < TODAY
    assert (days[-1] - days[0]).days > 600  # about two years of referrals
    statuses = Counter(p["program_status"] for p in persons)
    assert set(statuses) == set(ProgramStatus) and statuses[ProgramStatus.active] > 60
    races = Counter(code for p in persons for code in p["race_ethnicity"])
    assert len(races) >= 7

    # A smaller program is the first persons of a larger one (so --scale can grow it).
    with Session(get_engine()) as session:
        write_setting(session, "demo", {"seed": DEFAULT_SEED})
        session.commit()
    rebuild_demo(database_url, DEFAULT_SEED, SMALL, today=TODAY)
    assert snapshot(Person)["Person"] == persons[:SMALL]


def test_every_demo_account_signs_in_through_the_real_forms_today(client):
    # The demo must be usable the day it is built: no account locked out as inactive (CJIS
    # AC-2(3) disables accounts unused for 90 days) despite the two years of history.
    from tests.signing_in import sign_in_as_demo_account

    with Session(get_engine(), expire_on_commit=False) as session:
        build_demo(session, DEFAULT_SEED, SMALL)
        session.commit()
    signed_in: set[Role] = set()
    for account in demo_accounts(DEFAULT_SEED):
        if account.role in signed_in:
            continue
        sign_in_as_demo_account(client, account)
        signed_in.add(account.role)
    assert signed_in == set(Role)
