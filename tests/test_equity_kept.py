"""Issue 16: the dashboard's figures are computed once per version of the data they count
(hub.equity.kept, migration 0010eqv) and are never stale: a written referral or a changed
status shows on the next view, a referral crossing a follow-up edge moves the outcome tables
at that moment, and every view, kept or computed, is one aggregate disclosure in the log."""

import importlib.util
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from sqlalchemy import event, text
from sqlmodel import SQLModel, col, select

from hub.accounts.models import Agency, User
from hub.audit.models import LogEntry
from hub.clients.models import Person
from hub.demo.program import DEFAULT_SEED, demo_accounts
from hub.equity.figures import equity_figures, months_back
from hub.equity.kept import data_version, forget_all, next_edge
from hub.equity.outcomes import jail_figures
from hub.equity.suppression import TOTAL
from hub.referrals.models import Referral
from hub.vocabulary import DisclosureTag, ProgramStatus, Role
from tests.fixtures.demo_copies import demo_database_url

TODAY = date(2026, 11, 1)
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
PERSONS = 150
_TABLE = re.compile(r'<table class="equity" data-table="(\w+)">.*?</table>', re.S)


@pytest.fixture
def database_url(backend, request, tmp_path_factory):
    yield from demo_database_url(backend, request, tmp_path_factory, PERSONS, TODAY)


def _member(db) -> User:
    email = next(a.email for a in demo_accounts(DEFAULT_SEED) if a.role == Role.policy_group)
    user = db.exec(select(User).where(User.email == email)).one()
    db.commit()
    return user


def _view(client, at: datetime, months: int = 12) -> dict[str, str]:
    """Every table of the dashboard as the page shows it at `at`, by name."""
    with mock.patch("hub.equity.routes.utcnow", return_value=at):
        response = client.get(f"/equity?months={months}")
    assert response.status_code == 200
    return {m.group(1): m.group(0) for m in _TABLE.finditer(response.text)}


def _cell(table: str, row: str = TOTAL) -> int:
    """The row's last (total) count."""
    cells = re.search(rf'<th scope="row">{re.escape(row)}</th>(.*?)</tr>', table, re.S)
    assert cells, row
    value = re.findall(r"<td>(.*?)</td>", cells.group(1))[-1]
    assert value.isdigit(), f"{row}: {value}"
    return int(value)


def _referral_like(db, referred_at: datetime) -> Referral:
    """A new referral of an existing person by an existing officer."""
    model = db.exec(select(Referral).order_by(col(Referral.id))).first()
    referral = Referral(
        person_id=model.person_id,
        kind=model.kind,
        referred_at=referred_at,
        referring_user_id=model.referring_user_id,
        referring_agency_id=model.referring_agency_id,
        precinct=model.precinct,
        offense_category=model.offense_category,
        case_management_agency_id=model.case_management_agency_id,
        intake_due_on=referred_at.date() + timedelta(days=30),
    )
    db.add(referral)
    db.commit()
    return referral


def _aggregate_views(db) -> int:
    entries = db.exec(
        select(LogEntry).where(LogEntry.tag == DisclosureTag.aggregate_read.value)
    ).all()
    db.commit()
    return len(entries)


def test_a_written_referral_or_status_shows_on_the_next_view(db, sign_in):
    client = sign_in(user=_member(db)).client
    logged = _aggregate_views(db)

    def from_scratch() -> dict[str, str]:
        forget_all()
        return _view(client, NOW)

    with mock.patch("hub.equity.services.equity_figures", wraps=equity_figures) as computed:
        first = _view(client, NOW)
        assert _view(client, NOW) == first
        assert computed.call_count == 1  # the second view showed the first's figures

        _referral_like(db, NOW - timedelta(days=1))
        after = _view(client, NOW)
        assert computed.call_count == 2
        assert after != first and after == from_scratch()

        exited = ProgramStatus.exited
        person = db.exec(select(Person).where(Person.program_status != exited)).first()
        person.program_status = exited
        db.add(person)
        db.commit()
        changed = _view(client, NOW)
        assert computed.call_count == 4
        assert changed == from_scratch()
    # Every view is its own aggregate disclosure, kept figures or not.
    assert _aggregate_views(db) == logged + 6


def test_kept_figures_are_what_a_computation_at_that_moment_gives(db, sign_in):
    """A referral turning six months old moves the 6-month re-arrest table at that second, not
    when the data next changes."""
    client = sign_in(user=_member(db)).client
    _referral_like(db, NOW - timedelta(days=182) + timedelta(hours=1))
    edge = next_edge(db, NOW, months_back(NOW, 12).end)
    db.commit()
    assert NOW < edge <= NOW + timedelta(hours=1)

    before = _view(client, NOW)
    assert _view(client, edge - timedelta(seconds=1)) == before
    crossed = _view(client, edge + timedelta(seconds=2))
    assert _cell(crossed["rearrest_182"]) == _cell(before["rearrest_182"]) + 1
    forget_all()
    assert _view(client, edge + timedelta(seconds=2)) == crossed


def test_the_version_changes_with_what_the_figures_count_and_nothing_else(db):
    def version() -> int:
        value = data_version(db)
        db.commit()
        return value

    start = version()
    person = db.exec(select(Person)).first()
    person.last_contact_on = TODAY  # a contact: counted nowhere
    db.add(person)
    db.commit()
    officer = db.exec(select(User).where(User.role == Role.officer)).first()
    officer.last_active_at = NOW  # a sign-in
    db.add(officer)
    db.commit()
    person.gender = [0]
    db.add(person)
    db.rollback()  # a change not committed
    assert version() == start

    changes = [
        lambda: setattr(person, "gender", [0]),
        lambda: setattr(person, "program_status", ProgramStatus.exited),
        lambda: setattr(officer, "display_name", "Officer Renamed"),
    ]
    seen = {start}
    for change in changes:
        change()
        db.add(person)
        db.add(officer)
        db.commit()
        seen.add(version())
    agency = db.exec(select(Agency)).first()
    agency.name = "Renamed agency"
    db.add(agency)
    db.commit()
    seen.add(version())
    _referral_like(db, NOW)
    seen.add(version())
    db.execute(text("DELETE FROM referral WHERE id = (SELECT max(id) FROM referral)"))
    db.commit()
    seen.add(version())
    assert len(seen) == 7


def _watched() -> dict[str, tuple[str, ...]]:
    path = Path(__file__).parent.parent / "migrations/versions/0010eqv_equity_data_version.py"
    spec = importlib.util.spec_from_file_location("migration_0010eqv", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.WATCHED)


def test_every_table_and_column_the_figures_read_changes_the_version(db):
    """A table or column read by the figures but not watched by a trigger would let them go
    stale: every statement the computation runs is read for what it names."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.get_bind().engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        figures = equity_figures(db, months_back(NOW, 36), NOW)
        jail_figures(db, figures.tables["jail_booked"], NOW)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    db.commit()
    watched = _watched()
    named = {
        (table.strip('"'), column)
        for statement in statements
        for table, column in re.findall(r'("?\w+"?)\.(\w+)', statement)
    }
    tables = {table for table, _ in named} & {t.name for t in SQLModel.metadata.sorted_tables}
    assert {"referral", "person", "charging_matter", "jail_booking"} <= tables
    # The site's rules give the time zone, which is part of what the figures are kept by.
    assert tables - {"site_setting"} <= set(watched), tables - set(watched)
    for table, columns in watched.items():
        if columns:
            read = {c for t, c in named if t == table} - {"id"}
            assert read <= set(columns), (table, read - set(columns))
