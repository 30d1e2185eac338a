"""The hub computes review flags itself, on a schedule, and tells every privacy officer of new
ones (issue 17: flags appeared only after someone pressed "Compute flags")."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from hub.db import get_engine
from hub.notifications.models import Notification
from hub.privacy.flag_rounds import flag_round, run_flag_rounds
from hub.privacy.models import ReviewFlag
from hub.vocabulary import FlagRule, NotificationKind, Role, SecurityEventTag
from tests.event_loop import run_to_completion
from tests.privacy_support import clock, local, search_read, security_event

NOW = local(2026, 3, 11, 10)  # a Wednesday morning, site time


def notes_for(db, user_id):
    found = list(
        db.exec(
            select(Notification)
            .where(Notification.user_id == user_id)
            .where(Notification.kind == NotificationKind.review_flags_new)
            .order_by(col(Notification.id))
        )
    )
    db.commit()
    return found


def test_a_round_flags_today_and_yesterday_and_tells_every_privacy_officer(db, factories):
    first, second = (factories.User(role=Role.privacy_officer) for _ in range(2))
    case_manager = factories.User(role=Role.case_manager)
    security_event(
        db, SecurityEventTag.account_locked, user=case_manager,
        at=NOW - timedelta(hours=20), account_id=case_manager.id,
    )  # fmt: skip

    with clock(NOW):
        run = flag_round(get_engine())
    assert run is not None and len(run.created) == 1
    flag = db.get(ReviewFlag, run.created[0])
    assert flag is not None and flag.rule == FlagRule.lockout
    db.commit()
    for officer in (first, second):
        (note,) = notes_for(db, officer.id)
        assert note.link == "/privacy/flags"
    assert notes_for(db, case_manager.id) == []

    # Nothing new: no new flag and no second note.
    with clock(NOW + timedelta(minutes=1)):
        again = flag_round(get_engine())
    assert again is not None and again.created == []
    assert len(notes_for(db, first.id)) == 1

    # A new finding is a new note.
    security_event(
        db, SecurityEventTag.account_locked, user=case_manager,
        at=NOW + timedelta(minutes=2), account_id=case_manager.id,
    )  # fmt: skip
    with clock(NOW + timedelta(minutes=3)):
        flag_round(get_engine())
    assert len(notes_for(db, first.id)) == 2


def test_one_process_at_a_time_computes(db, backend):
    if backend != "postgres":
        # SQLite: the round's writing transaction takes the database's write lock itself.
        with clock(NOW):
            assert flag_round(get_engine()) is not None
        return
    with get_engine().connect() as other:
        other.execute(text("SELECT pg_advisory_lock(6964)"))
        try:
            with clock(NOW):
                assert flag_round(get_engine()) is None
        finally:
            other.execute(text("SELECT pg_advisory_unlock(6964)"))
            other.commit()
    with clock(NOW):
        assert flag_round(get_engine()) is not None


def test_rounds_repeat_and_a_failed_round_does_not_stop_them():
    rounds: list[int] = []
    sleeps: list[float] = []

    def round_() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("database restarting")

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) > 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        run_to_completion(run_flag_rounds(60, round_, sleep))
    assert rounds == [0, 1, 2] and sleeps == [60, 60, 60, 60]


def test_a_flag_about_no_client_names_none(db, factories):
    case_manager = factories.User(role=Role.case_manager)
    # A search at night: a disclosure outside working hours that names no single client.
    search_read(db, case_manager, {}, at=local(2026, 3, 10, 23))
    with clock(NOW):
        run = flag_round(get_engine())
    assert run is not None
    reasons = [db.get(ReviewFlag, n).reason for n in run.created]
    db.commit()
    assert reasons and not any("client(s) ." in r or "client(s) ," in r for r in reasons)
