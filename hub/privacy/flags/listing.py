"""The console's lists of flags: a page of them, and the open ones counted by rule."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session, col
from sqlmodel import select as select_entities

from hub.privacy.models import ReviewFlag
from hub.vocabulary import FlagRule, FlagStatus


@dataclass(frozen=True)
class FlagPage:
    flags: list[ReviewFlag]
    next_before: int | None


def list_flags(
    db: Session,
    *,
    status: FlagStatus | None = FlagStatus.open,
    rule: FlagRule | None = None,
    subject_user_id: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> FlagPage:
    """Flags newest first, keyset-paged on id."""
    query = select_entities(ReviewFlag)
    if status is not None:
        query = query.where(col(ReviewFlag.status) == status)
    if rule is not None:
        query = query.where(col(ReviewFlag.rule) == rule)
    if subject_user_id is not None:
        query = query.where(col(ReviewFlag.subject_user_id) == subject_user_id)
    if before is not None:
        query = query.where(col(ReviewFlag.id) < before)
    flags = list(db.exec(query.order_by(col(ReviewFlag.id).desc()).limit(limit + 1)))
    more = len(flags) > limit
    flags = flags[:limit]
    return FlagPage(flags, flags[-1].id if more else None)


def open_flags_by_rule(db: Session) -> list[tuple[FlagRule, int]]:
    """How many review flags are open, for every rule (zero where none): one GROUP BY."""
    found = dict(
        db.execute(
            select(col(ReviewFlag.rule), func.count())
            .where(col(ReviewFlag.status) == FlagStatus.open)
            .group_by(col(ReviewFlag.rule))
        ).all()
    )
    return [(rule, int(found.get(rule, 0))) for rule in FlagRule]
