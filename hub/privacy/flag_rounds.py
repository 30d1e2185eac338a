"""Review flags computed by the hub itself (issue 17): a privacy officer should learn of a
break-glass, a lockout or a read on the role alone without pressing a button or keeping a cron
job. Each app process runs a round every `HUB_FLAGS_INTERVAL_SECONDS` over today and yesterday
(site time); on PostgreSQL an advisory lock lets one process at a time compute, and SQLite's
write lock does the same. New flags notify every privacy officer
(hub.privacy.flags.computing)."""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.audit.log import Actor
from hub.db import get_engine, try_transaction_lock
from hub.privacy.flags.computing import FlagRun, compute_flags

log = logging.getLogger("hub.privacy")

# Names the advisory lock that lets one app process at a time compute flags.
_FLAGS_LOCK_ID = 6964
ROUND_DAYS = 2  # today and yesterday: a read just before midnight is still looked at


def _hub_actor() -> Actor:
    """The hub acting on its own schedule: no user; the round is named in the request id."""
    return Actor(request_id=f"flags-{uuid.uuid4().hex[:16]}", address="hub")


def flag_round(engine: Engine | None = None) -> FlagRun | None:
    """One round; None when another process holds the round's lock."""
    with Session(engine or get_engine(), expire_on_commit=False) as db:
        if not try_transaction_lock(db, _FLAGS_LOCK_ID):
            db.rollback()
            return None
        return compute_flags(db, _hub_actor(), days=ROUND_DAYS)


async def run_flag_rounds(
    interval: float,
    round_: Callable[[], object] = flag_round,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Every `interval` seconds, one round in a worker thread. A failed round is logged (its
    type only: a message could quote the log) and the next one tries again."""
    while True:
        await sleep(interval)
        try:
            await asyncio.to_thread(round_)
        except Exception as exc:
            log.warning("flag round failed (%s); retrying next round", type(exc).__name__)
