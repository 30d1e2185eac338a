"""`hub demo --scale N`: the same seed and N build the same data (log root included), the bulk
log verifies like one the app wrote, and the load accounts sign in through the real forms."""

import json
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import MetaData, Text, cast, func
from sqlmodel import Session, col, select

from hub.accounts.models import User
from hub.audit.checkpoint import latest_head, verifier_key
from hub.audit.log import canonical_json, leaf_data, leaf_hash, personal_digest, personal_part
from hub.audit.models import LogEntry
from hub.audit.notes import Verifier
from hub.audit.verify import verify_log
from hub.db import get_engine
from hub.demo.program import DEFAULT_SEED, demo_accounts
from hub.demo.scale import (
    AGENDA_ITEMS,
    LOAD_ACCOUNTS_PER_ROLE,
    LOG_ENTRIES_PER_SCALE,
    load_accounts,
)
from hub.demo.services import rebuild_demo
from hub.site import write_setting
from hub.vocabulary import MeetingStatus, Role
from hub.workgroup.models import AgendaItem, MeetingInvitee, WorkGroupMeeting
from tests.signing_in import sign_in_as_demo_account

PERSONS = 15  # x 2: the persons are the demo's own code; the log is the full 2 x 50,000


def _counts() -> dict[str, int]:
    tables = MetaData()
    tables.reflect(get_engine())
    with get_engine().connect() as connection:
        return {
            name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in sorted(tables.tables.items())
        }


def _build(url: str) -> tuple[dict[str, int], str, dict[str, float]]:
    phases: dict[str, float] = {}
    today = datetime.now(UTC).date()
    rebuild_demo(url, DEFAULT_SEED, PERSONS, today=today, scale=2, phase=phases.__setitem__)
    with Session(get_engine()) as db:
        head = latest_head(db)
        assert head is not None
        root = f"{head.tree_size}:{head.root_hash}"
    return _counts(), root, phases


def _log_indexes() -> dict[str, str]:
    """Each index of log_entry by name, as the database would create it again."""
    with get_engine().connect() as connection:
        if connection.dialect.name == "postgresql":
            rows = connection.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'log_entry'"
            )
        else:
            rows = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'log_entry'"
            )
        return {str(name): str(definition) for name, definition in rows}


def test_scale_build_is_deterministic_verifies_and_its_load_accounts_sign_in(database_url, client):
    with Session(get_engine()) as db:
        write_setting(db, "demo", {"seed": DEFAULT_SEED})  # a demo database: it may be wiped
        db.commit()
    migrated = _log_indexes()
    counts, root, phases = _build(database_url)
    assert "log: indexes rebuilt" in phases
    # The bulk load drops the log's indexes and builds them again exactly as the migrations
    # made them: the category indexes still partial, with the WHERE the search repeats.
    assert _log_indexes() == migrated
    assert "LIKE '%\"treatment\"%'" in migrated["ix_log_entry_cat_treatment"].replace("~~", "LIKE")
    assert counts["person"] == 2 * PERSONS
    assert counts["log_entry"] >= 2 * LOG_ENTRIES_PER_SCALE
    assert counts["user"] == len(demo_accounts(DEFAULT_SEED)) + len(Role) * LOAD_ACCOUNTS_PER_ROLE

    # The log as `hub audit verify` sees it: every leaf, digest, gapless seq and signed head.
    report = verify_log(get_engine(), Verifier.parse(verifier_key()))
    assert report.ok, report.first
    assert report.entries == counts["log_entry"] and report.heads >= 1
    with Session(get_engine()) as db:
        # Byte for byte the reference encoding of hub.audit.log, not only the verifier's.
        for entry in db.exec(select(LogEntry).where(col(LogEntry.seq) % 997 == 0)):
            assert entry.salt is not None
            assert entry.personal_digest == personal_digest(entry.salt, personal_part(entry))
            assert entry.leaf_hash == leaf_hash(leaf_data(entry))
        stored = cast(col(LogEntry.detail), Text)
        for text in db.exec(select(stored).where(col(LogEntry.seq) % 101 == 0)):
            assert canonical_json(json.loads(text)).decode() == text
        tags = set(db.exec(select(LogEntry.tag).distinct()))
        assert {"disclosure:client_record:read", "account:sign_in:success"} <= tags

        # The next meeting has a published agenda; the load accounts sit at the table.
        meeting = db.exec(
            select(WorkGroupMeeting).where(WorkGroupMeeting.status == MeetingStatus.published)
        ).one()
        items = db.exec(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)).all()
        assert 1 <= len(items) <= AGENDA_ITEMS
        invited = db.exec(
            select(User.email)
            .join(MeetingInvitee, col(MeetingInvitee.user_id) == User.id)
            .where(MeetingInvitee.meeting_id == meeting.id)
        ).all()
        assert any(".load" in email for email in invited)

    # Same seed, same N, same day: the same rows and the same log root.
    again, again_root, _ = _build(database_url)
    assert (again, again_root) == (counts, root)

    # Every role has its load accounts, and each signs in with its own TOTP secret.
    clones = load_accounts(DEFAULT_SEED)
    assert Counter(c.account.role for c in clones) == dict.fromkeys(Role, LOAD_ACCOUNTS_PER_ROLE)
    signed_in: set[Role] = set()
    for clone in clones:
        if clone.account.role in signed_in:
            continue
        account = clone.account
        assert account.password == clone.source.password
        assert account.totp_secret != clone.source.totp_secret
        sign_in_as_demo_account(client, account)
        signed_in.add(account.role)
    assert signed_in == set(Role)
