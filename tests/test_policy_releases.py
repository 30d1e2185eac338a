"""Policy releases (hub.disclosure.releases): the policy in force lives in the database, is
released only after its decision tables pass, is never changed once released, reaches each
process by its version check (or at once on a notification), and fails closed. The admin page
and `hub policy release` release it; the Redis watcher tells the other processes."""

import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from bench.two_instances import VARIANT_REMOVES, variant_policy
from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.cli import app as cli_app
from hub.db import get_engine
from hub.disclosure import releases
from hub.disclosure.models import PolicyRelease, ReleaseImmutable
from hub.disclosure.policy import POLICY_DIR, load_policy, policy_version
from hub.disclosure.record import disclose_record
from hub.disclosure.watcher import PolicyWatcher, announce_release, channel_for
from hub.vocabulary import AgencyKind, AssignmentKind, Category, Purpose, Role, SecurityEventTag
from tests.factories import full_client

runner = CliRunner()
REDIS_URL = "redis://127.0.0.1:6379/0"


def log_size(db: Session) -> int:
    size = db.exec(select(func.count()).select_from(LogEntry)).one()
    db.commit()
    return int(size)


def release_rows(db: Session) -> list[PolicyRelease]:
    rows = list(db.exec(select(PolicyRelease).order_by(col(PolicyRelease.id))).all())
    db.commit()
    return rows


def variant_version(tmp_path: Path) -> tuple[Path, str]:
    directory = variant_policy(tmp_path / "variant")
    return directory, load_policy(directory).version


@pytest.fixture
def defender_world(db, factories):
    """A defender of a client with data in every section."""
    agencies = {kind: factories.Agency(kind=kind) for kind in AgencyKind}
    officer = factories.User(role=Role.officer, agency=agencies[AgencyKind.police])
    manager = factories.User(role=Role.case_manager, agency=agencies[AgencyKind.case_management])
    person = full_client(
        db,
        referring_user=officer,
        case_management_agency_id=agencies[AgencyKind.case_management].id,
        prosecuting_agency_id=agencies[AgencyKind.prosecution].id,
        note_author=manager,
    )
    defender = factories.User(role=Role.defender, agency=agencies[AgencyKind.defense])
    factories.ClientAssignment(
        person_id=person.id, user_id=defender.id, kind=AssignmentKind.defense
    )
    return person, defender


def read_as(db, user, person_id):
    from hub.accounts.sessions import viewer_for

    return disclose_record(
        db, viewer_for(db, user), person_id, Purpose.defense, Actor(request_id="test")
    )


# --- the policy in force --------------------------------------------------------------------------


def test_without_a_release_the_files_are_the_policy_in_force(db):
    assert release_rows(db) == []
    assert releases.policy_in_force(db).version == load_policy().version


def test_hub_policy_release_puts_the_policy_in_force_and_logs_it(db, defender_world, tmp_path):
    person, defender = defender_world
    before = read_as(db, defender, person.id)
    assert Category.legal in before.basis
    directory, version = variant_version(tmp_path)

    result = runner.invoke(cli_app, ["policy", "release", "--directory", str(directory)])

    assert result.exit_code == 0, result.output
    assert f"released policy {version[:12]}" in result.output
    [release] = release_rows(db)
    assert (release.version, release.released_via, release.released_by_id) == (
        version,
        releases.VIA_COMMAND_LINE,
        None,
    )
    assert VARIANT_REMOVES not in release.policy_text.splitlines()
    entry = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.policy_released.value)
    ).one()
    db.commit()
    assert entry.policy_version == version
    assert entry.detail["release_id"] == release.id
    assert entry.detail["previous_version"] is None
    # The next decision applies it, and its log entry names the version it applied.
    after = read_as(db, defender, person.id)
    assert Category.legal not in after.basis
    assert after.policy_version == version
    last = db.exec(select(LogEntry).order_by(col(LogEntry.seq).desc()).limit(1)).one()
    db.commit()
    assert last.policy_version == version


def test_a_policy_that_fails_its_decision_tables_is_not_released(db, tmp_path):
    directory = shutil.copytree(POLICY_DIR, tmp_path / "policies")
    policy = directory / "policy.csv"
    policy.write_text(policy.read_text().replace(VARIANT_REMOVES + "\n", ""))
    size = log_size(db)

    result = runner.invoke(cli_app, ["policy", "release", "--directory", str(directory)])

    assert result.exit_code == 1
    assert "rows of the decision tables fail" in result.output
    assert release_rows(db) == []
    assert log_size(db) == size


def test_a_policy_that_does_not_compile_is_not_released(db, tmp_path):
    directory = shutil.copytree(POLICY_DIR, tmp_path / "policies")
    policy = directory / "policy.csv"
    policy.write_text(policy.read_text() + "p, oficer, everyone, identity, referral, none\n")

    result = runner.invoke(cli_app, ["policy", "release", "--directory", str(directory)])

    assert result.exit_code == 1
    assert "does not compile" in result.output and "unknown role 'oficer'" in result.output
    assert release_rows(db) == []


def test_the_policy_in_force_is_not_released_again(db):
    assert runner.invoke(cli_app, ["policy", "release"]).exit_code == 0
    again = runner.invoke(cli_app, ["policy", "release"])
    assert again.exit_code == 1
    assert "already in force" in again.output
    assert len(release_rows(db)) == 1


def test_a_release_is_never_changed_or_deleted(db, tmp_path):
    assert runner.invoke(cli_app, ["policy", "release"]).exit_code == 0
    [release] = release_rows(db)
    release.policy_text = "p, officer, everyone, treatment, referral, none"
    db.add(release)
    with pytest.raises(ReleaseImmutable):
        db.flush()
    db.rollback()
    with pytest.raises(ReleaseImmutable):
        db.delete(db.get(PolicyRelease, release.id))
        db.flush()
    db.rollback()
    for statement in (
        "UPDATE policy_release SET policy_text = 'p, admin, everyone, identity, oversight, none'",
        "DELETE FROM policy_release",
    ):
        with pytest.raises(DBAPIError):
            db.exec(text(statement))
        db.rollback()
    assert len(release_rows(db)) == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_release_by_another_process_is_found_within_a_second(db, monkeypatch, tmp_path):
    clock = Clock()
    monkeypatch.setattr(releases.time, "monotonic", clock)
    files = releases.policy_in_force(db).version
    db.commit()  # SQLite: let the other connection write
    directory, version = variant_version(tmp_path)
    candidate = releases.check_candidate(directory)
    # Another process's release: a row committed on another connection, nothing announced.
    with Session(get_engine()) as other:
        other.add(
            PolicyRelease(
                version=version,
                model_text=candidate.model_text,
                policy_text=candidate.policy_text,
                released_via=releases.VIA_COMMAND_LINE,
            )
        )
        other.commit()
    db.commit()

    clock.now += releases.CHECK_INTERVAL_SECONDS / 2
    assert releases.policy_in_force(db).version == files  # not checked again yet
    clock.now += releases.CHECK_INTERVAL_SECONDS / 2
    assert releases.policy_in_force(db).version == version  # the version check found it
    db.commit()


def test_a_notification_makes_the_next_decision_check_at_once(db, monkeypatch, tmp_path):
    clock = Clock()
    monkeypatch.setattr(releases.time, "monotonic", clock)
    files = releases.policy_in_force(db).version
    db.commit()  # SQLite: let the other connection write
    directory, version = variant_version(tmp_path)
    candidate = releases.check_candidate(directory)
    with Session(get_engine()) as other:
        other.add(
            PolicyRelease(
                version=version,
                model_text=candidate.model_text,
                policy_text=candidate.policy_text,
                released_via=releases.VIA_COMMAND_LINE,
            )
        )
        other.commit()
    db.commit()
    assert releases.policy_in_force(db).version == files
    releases.heard_of_a_release()
    assert releases.policy_in_force(db).version == version
    db.commit()


def _broken_release(db: Session) -> None:
    """A release this code cannot read: a role that (no longer) exists, stored directly."""
    model = (POLICY_DIR / "model.conf").read_text()
    policy = (
        POLICY_DIR / "policy.csv"
    ).read_text() + "p, warden, everyone, identity, oversight, none\n"
    db.add(
        PolicyRelease(
            version=policy_version(model, policy),
            model_text=model,
            policy_text=policy,
            released_via=releases.VIA_COMMAND_LINE,
        )
    )
    db.commit()
    releases.heard_of_a_release()


def test_a_release_that_cannot_be_compiled_refuses_every_decision(
    db, defender_world, sign_in, factories
):
    person, defender = defender_world
    _broken_release(db)
    with pytest.raises(releases.PolicyUnavailable):
        releases.policy_in_force(db)
    db.rollback()
    size = log_size(db)
    reader = sign_in(user=defender)
    person_id = person.id
    db.commit()  # SQLite: the rollback above expired `person`; reading it again took the lock

    page = reader.client.get(f"/clients/{person_id}")
    api = reader.client.get(f"/api/v1/clients/{person_id}")

    assert page.status_code == 503
    assert "disclosure policy in force cannot be applied" in page.text
    assert 'data-disclosure="' not in page.text
    assert api.status_code == 503
    assert log_size(db) == size  # nothing was disclosed, so nothing was logged

    # The admin page stays up, says so, and releasing a policy that compiles ends it.
    office = factories.Agency(kind=AgencyKind.program_office)
    admin = sign_in(user=factories.User(role=Role.admin, agency_id=office.id))
    shown = admin.client.get("/admin/policy")
    assert shown.status_code == 200
    assert "every decision is refused" in shown.text
    assert admin.post("/admin/policy/release").status_code == 200
    assert reader.client.get(f"/clients/{person_id}").status_code == 200


# --- the admin page ---------------------------------------------------------------------------


@pytest.fixture
def office_admin(sign_in, factories):
    office = factories.Agency(kind=AgencyKind.program_office)
    return sign_in(user=factories.User(role=Role.admin, agency_id=office.id))


def test_the_admin_page_shows_the_policy_in_force_and_releases_the_deployed_files(db, office_admin):
    files = load_policy().version
    page = office_admin.client.get("/admin/policy")
    assert page.status_code == 200
    assert "no policy has been released yet" in page.text
    assert f'data-policy-version="{files}"' in page.text
    assert "Release the policy files deployed on this server" in page.text

    done = office_admin.post("/admin/policy/release")

    assert done.status_code == 200
    assert f"Policy {files[:12]} is released" in done.text
    [release] = release_rows(db)
    assert (release.version, release.released_via, release.released_by_id) == (
        files,
        releases.VIA_ADMIN_PAGE,
        office_admin.user.id,
    )
    entry = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.policy_released.value)
    ).one()
    db.commit()
    assert entry.actor_user_id == office_admin.user.id
    assert office_admin.user.display_name in done.text  # the history names who released it

    again = office_admin.post("/admin/policy/release")
    assert again.status_code == 400
    assert "already in force" in again.text
    assert len(release_rows(db)) == 1


def test_the_release_form_needs_its_csrf_token(db, office_admin):
    refused = office_admin.client.post("/admin/policy/release")
    assert refused.status_code == 403
    assert release_rows(db) == []


def test_only_the_program_office_admin_releases(db, sign_in, factories):
    police = factories.Agency(kind=AgencyKind.police)
    agency_admin = sign_in(user=factories.User(role=Role.admin, agency_id=police.id))
    page = agency_admin.client.get("/admin/policy")
    assert page.status_code == 200
    assert "Release the policy files" not in page.text

    refused = agency_admin.post("/admin/policy/release")

    assert refused.status_code == 403
    assert release_rows(db) == []
    denied = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.access_denied.value)
    ).all()
    db.commit()
    assert [e.detail for e in denied] == [{"action": "release_policy"}]


@pytest.mark.parametrize("role", [Role.case_manager, Role.coordinator, Role.privacy_officer])
def test_other_roles_do_not_reach_the_policy_page(sign_in, role):
    assert sign_in(role).client.get("/admin/policy").status_code == 403


# --- notifications ----------------------------------------------------------------------------


def _redis_or_skip() -> None:
    from redis import Redis

    from tests.conftest import missing

    try:
        client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:
        missing(f"Redis is not reachable at {REDIS_URL} ({type(exc).__name__})")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_watcher_hears_a_release_announced_by_another_process(settings_env, database_url):
    _redis_or_skip()
    heard = threading.Event()
    settings_env(redis_url=REDIS_URL)
    channel = channel_for(get_engine().url, str(uuid.uuid4()))  # this test's own channel
    watcher = PolicyWatcher(REDIS_URL, channel, heard.set).start()
    try:
        from bench.two_instances import wait_for_subscribers

        wait_for_subscribers(REDIS_URL, channel, 1)
        announcer = PolicyWatcher(REDIS_URL, channel, lambda: None)  # never started: publishes
        assert announcer.publish()
        assert heard.wait(5)
    finally:
        watcher.stop()


def test_the_channel_is_per_installation_and_database(database_url):
    from sqlalchemy.engine import make_url

    one = make_url("postgresql+psycopg://a@db1.example/hub")
    assert channel_for(one, "k") == channel_for(make_url("postgresql+psycopg://b@db2/hub"), "k")
    assert channel_for(one, "k") != channel_for(make_url("postgresql+psycopg://a@db1/other"), "k")
    assert channel_for(one, "k") != channel_for(one, "another key")
    assert "hub" not in channel_for(one, "k").split(":")[1]


def test_a_dead_redis_breaks_no_request(db, settings_env, office_admin, defender_world, caplog):
    settings_env(redis_url=f"redis://127.0.0.1:{_closed_port()}/0")
    person, defender = defender_world
    started = time.monotonic()
    assert announce_release(get_engine()) is False
    assert time.monotonic() - started < 5
    done = office_admin.post("/admin/policy/release")
    assert done.status_code == 200
    assert len(release_rows(db)) == 1
    assert Category.legal in read_as(db, defender, person.id).basis
    warnings = [r.getMessage() for r in caplog.records if r.name == "hub.policy"]
    assert any("could not announce the policy release" in w for w in warnings)
    assert not any(defender.email in w or str(person.id) in w.split() for w in warnings)
