"""What the flag rules read (the log's rows, a column at a time) and what they find."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from hub.audit.models import LogEntry
from hub.db import table_of
from hub.privacy.search import SeqRange
from hub.vocabulary import FlagRule

MAX_SEQS = 200  # a flag names at most this many entries (the first ones); its reason counts all
LOG_TABLE = table_of(LogEntry)


@dataclass
class Finding:
    """What one rule found about one subject: the flag's key, its reason and its entries."""

    rule: FlagRule
    key: str
    reason: str
    log_seqs: list[int]
    subject_user_id: int | None = None
    person_id: int | None = None
    day: date | None = None
    # False where the finding only adds entries to a flag whose reason says more.
    restates_reason: bool = True


@dataclass
class LogRow:
    """The columns of a log entry that the rules read."""

    seq: int
    recorded_at: datetime
    kind: str
    tag: str
    outcome: str
    actor_user_id: int | None
    person_id: int | None
    address: str | None
    detail: dict[str, Any]


def log_rows(db: Session, span: SeqRange, *conditions: Any) -> Iterator[LogRow]:
    """The log's entries in `span` (and the conditions), in seq order, streamed."""
    columns = [
        LOG_TABLE.c[name]
        for name in (
            "seq",
            "recorded_at",
            "kind",
            "tag",
            "outcome",
            "actor_user_id",
            "person_id",
            "address",
            "detail",
        )
    ]
    query = select(*columns).where(*span.conditions(), *conditions).order_by(LOG_TABLE.c.seq)
    for row in db.execute(query.execution_options(yield_per=10_000)):
        (seq, recorded_at, kind, tag, outcome, user_id, person_id, address, detail) = row
        yield LogRow(
            seq, recorded_at, kind, tag, outcome, user_id, person_id, address, detail or {}
        )


def capped(seqs: Iterable[int]) -> list[int]:
    """The first MAX_SEQS of the entries, once each: what a flag names."""
    return sorted(set(seqs))[:MAX_SEQS]
