"""Searching and reading the log for review: filters, keyset pages, one user's activity and one
client's disclosures. What it shows is log metadata (who, when, which categories, for what, on
what basis), never client content: a privacy officer sees that without a break-glass.

Pages are keyset pages on seq, newest first (`seq < before`), never OFFSET: a deep page costs
what the first one does, and entries appended meanwhile do not shift the pages being read. A
date range becomes a seq range, because recorded_at never goes back along seq (hub.audit.log
keeps it so, and `hub audit verify` fails a log where it does not).
"""

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, or_, select
from sqlmodel import Session, col
from sqlmodel import select as select_entities
from sqlmodel.sql.expression import SelectOfScalar

from hub.accounts.names import Names, names_for
from hub.audit.models import LogEntry, lists_category
from hub.clients.models import Person
from hub.db import record_number, table_of
from hub.referrals.rules import site_zone
from hub.vocabulary import (
    Category,
    DisclosureOutcome,
    DisclosureTag,
    LogKind,
    LogOutcome,
    Purpose,
    Role,
    SecurityEventTag,
)

PAGE_SIZE = 50
# The days a filter may name: any zone's start of the day, and the day after the last, are
# still dates (year 1 in a zone east of UTC, or 9999-12-31 plus a day, are not).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9998, 12, 31)
MAX_PAGE_SIZE = 500
BASIS_KINDS = ("relationship", "role", "consent", "court_order", "break_glass", "site")
TAGS = tuple(sorted({t.value for t in SecurityEventTag} | {t.value for t in DisclosureTag}))
_BASIS = re.compile(
    r"^(role|relationship|consent|court_order|break_glass|site"
    r"|(relationship|site):[a-z_]{1,40}|(consent|court_order|break_glass):[0-9]{1,12})$"
)
# The participation yes/no is disclosed like a category (hub.disclosure.policy.PARTICIPATION).
PARTICIPATION = "participation"

_T = table_of(LogEntry)


class FilterError(ValueError):
    """A filter is not usable; nothing was searched."""


@dataclass(frozen=True)
class LogFilter:
    """What the console narrows the log by. Every field optional; all given ones must hold."""

    person_id: int | None = None
    user_id: int | None = None
    agency_id: int | None = None
    role: Role | None = None
    category: Category | None = None
    purpose: Purpose | None = None
    since: date | None = None  # site-local days, both ends included
    until: date | None = None
    basis: str | None = None  # a basis kind ("consent") or one basis ("consent:12")
    kind: LogKind | None = None
    tag: str | None = None
    outcome: LogOutcome | None = None

    def described(self) -> dict[str, str]:
        """The filters given, as text: for the log entry that records the search and for the
        page. Ids, codes and dates only: no name is ever a filter (names go through the policy
        layer's search)."""
        return {
            f.name: str(value.isoformat() if isinstance(value, date) else value)
            for f in fields(self)
            if (value := getattr(self, f.name)) is not None
        }


def _optional(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _choice(form: Mapping[str, Any], name: str, allowed: Iterable[str]) -> str | None:
    value = _optional(form, name)
    if value is not None and value not in set(allowed):
        raise FilterError(f"{name.replace('_', ' ')}: not one of the choices")
    return value


def _id(form: Mapping[str, Any], name: str) -> int | None:
    value = _optional(form, name)
    if value is None:
        return None
    try:
        return record_number(value)
    except ValueError:
        raise FilterError(f"{name.replace('_', ' ')}: a number") from None


def _day(form: Mapping[str, Any], name: str) -> date | None:
    value = _optional(form, name)
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{name}: a date, YYYY-MM-DD") from None
    # A day's start in the site's zone, and the day after `until`, must be dates as well.
    if not FIRST_DAY <= day <= LAST_DAY:
        raise FilterError(f"{name}: a date from {FIRST_DAY} to {LAST_DAY}")
    return day


def parse_filter(form: Mapping[str, Any]) -> LogFilter:
    """A LogFilter from submitted form fields; FilterError names the first unusable one."""
    role = _choice(form, "role", (r.value for r in Role))
    category = _choice(form, "category", (c.value for c in Category))
    purpose = _choice(form, "purpose", (p.value for p in Purpose))
    kind = _choice(form, "kind", (k.value for k in LogKind))
    outcome = _choice(form, "outcome", (o.value for o in LogOutcome))
    basis = _optional(form, "basis")
    if basis is not None and not _BASIS.match(basis):
        raise FilterError("basis: a kind (relationship, role, consent, ...) or one like consent:12")
    found = LogFilter(
        person_id=_id(form, "person_id"),
        user_id=_id(form, "user_id"),
        agency_id=_id(form, "agency_id"),
        role=Role(role) if role else None,
        category=Category(category) if category else None,
        purpose=Purpose(purpose) if purpose else None,
        since=_day(form, "since"),
        until=_day(form, "until"),
        basis=basis,
        kind=LogKind(kind) if kind else None,
        tag=_choice(form, "tag", TAGS),
        outcome=LogOutcome(outcome) if outcome else None,
    )
    if found.since and found.until and found.since > found.until:
        raise FilterError("since: the first day comes after the last")
    return found


# --- time and seq -------------------------------------------------------------------------------


def day_start(day: date, zone: tzinfo) -> datetime:
    """The UTC moment a site-local day begins."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def first_seq_from(db: Session, moment: datetime) -> int | None:
    """The smallest seq recorded at or after `moment`, found through the recorded_at index."""
    first_time = select(func.min(_T.c.recorded_at)).where(_T.c.recorded_at >= moment)
    return db.execute(
        select(func.min(_T.c.seq)).where(_T.c.recorded_at == first_time.scalar_subquery())
    ).scalar()


@dataclass(frozen=True)
class SeqRange:
    """Entries lo <= seq < hi (either end open when None); `empty` when no entry can match."""

    lo: int | None = None
    hi: int | None = None
    empty: bool = False

    def conditions(self) -> list[ColumnElement[bool]]:
        found = []
        if self.lo is not None:
            found.append(_T.c.seq >= self.lo)
        if self.hi is not None:
            found.append(_T.c.seq < self.hi)
        return found


def seq_range(db: Session, since: date | None, until: date | None, zone: tzinfo) -> SeqRange:
    """The seq range of the site-local days since..until (both included)."""
    lo = hi = None
    if since is not None:
        lo = first_seq_from(db, day_start(since, zone))
        if lo is None:
            return SeqRange(empty=True)
    if until is not None:
        hi = first_seq_from(db, day_start(until + timedelta(days=1), zone))
    return SeqRange(lo=lo, hi=hi, empty=lo is not None and hi is not None and hi <= lo)


# --- the search ---------------------------------------------------------------------------------


def _json_text(column: Any) -> Any:
    # Stored as canonical JSON text (hub.audit.models.CanonicalJSON), so a LIKE on the text
    # finds a quoted value exactly; PostgreSQL's json (not jsonb) keeps the text as written.
    return cast(column, Text)


def basis_condition(basis: str) -> ColumnElement[bool]:
    """Entries whose detail names this basis, or a basis of this kind, for some category."""
    if basis == "role":
        pattern = '%":"role"%'
    elif ":" in basis:
        pattern = f'%":"{basis}"%'
    else:
        pattern = f'%":"{basis}:%'
    return _json_text(_T.c.detail).like(pattern)


def filter_conditions(found: LogFilter) -> list[ColumnElement[bool]]:
    """SQL conditions for every filter but the dates (hub.privacy.search.seq_range)."""
    conditions: list[ColumnElement[bool]] = []
    equal = {
        "person_id": found.person_id,
        "actor_user_id": found.user_id,
        "actor_agency_id": found.agency_id,
        "actor_role": found.role,
        "purpose": found.purpose,
        "kind": found.kind,
        "tag": found.tag,
        "outcome": found.outcome,
    }
    for name, value in equal.items():
        if value is not None:
            conditions.append(_T.c[name] == (value.value if hasattr(value, "value") else value))
    if found.category is not None:
        # Word for word the condition of the category's partial index, so both planners can
        # walk that index (hub.audit.models.CATEGORY_INDEXES).
        conditions.append(lists_category(found.category))
    if found.basis is not None:
        conditions.append(_T.c.kind == LogKind.disclosure.value)
        conditions.append(basis_condition(found.basis))
    return conditions


@dataclass(frozen=True)
class LogPage:
    entries: list[LogEntry]
    next_before: int | None  # pass as `before` for the next (older) page; None: no more


def _page_size(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE_SIZE))


def search_statement(
    db: Session, found: LogFilter, before: int | None, limit: int
) -> SelectOfScalar[LogEntry] | None:
    """The query of one page (one row more than `limit`, to tell whether another page follows);
    None when the date span holds no entry."""
    span = seq_range(db, found.since, found.until, site_zone(db))
    if span.empty:
        return None
    conditions = [*filter_conditions(found), *span.conditions()]
    if before is not None:
        conditions.append(_T.c.seq < before)
    return (
        select_entities(LogEntry)
        .where(*conditions)
        .order_by(col(LogEntry.seq).desc())
        .limit(limit + 1)
    )


def search_log(
    db: Session, found: LogFilter, before: int | None = None, limit: int = PAGE_SIZE
) -> LogPage:
    """One page of entries matching the filter, newest first, older than `before`."""
    limit = _page_size(limit)
    statement = search_statement(db, found, before, limit)
    if statement is None:
        return LogPage([], None)
    rows = list(db.exec(statement))
    more = len(rows) > limit
    rows = rows[:limit]
    return LogPage(rows, rows[-1].seq if more else None)


# --- names for the page -------------------------------------------------------------------------


def names_of_entries(db: Session, entries: Sequence[Any]) -> Names:
    return names_for(db, (e.actor_user_id for e in entries), (e.actor_agency_id for e in entries))


# --- one client's disclosures -------------------------------------------------------------------


@dataclass(frozen=True)
class Disclosure:
    """One disclosure of one client's information, as the log recorded it."""

    seq: int
    recorded_at: datetime
    tag: str
    outcome: str
    actor_user_id: int | None
    actor_role: str | None
    actor_agency_id: int | None
    purpose: str | None
    categories: tuple[str, ...]  # disclosed categories (and "participation" where it was)
    basis: Mapping[str, str]  # category -> legal basis
    withheld: Mapping[str, str]  # category -> reason

    @property
    def disclosed(self) -> bool:
        return self.outcome == DisclosureOutcome.disclosed.value and bool(self.categories)

    @property
    def via_search(self) -> bool:
        return self.tag == DisclosureTag.client_search_read.value


def _from_record_read(entry: LogEntry) -> Disclosure:
    detail = entry.detail or {}
    basis = dict(detail.get("basis") or {})
    categories = list(entry.categories or [])
    participation = detail.get("participation")
    if participation and Category.engagement.value not in categories:
        # Whether the client is a participant at all is a disclosure of its own (Part 2).
        categories.append(PARTICIPATION)
        basis[PARTICIPATION] = str(participation)
    return Disclosure(
        seq=entry.seq,
        recorded_at=entry.recorded_at,
        tag=entry.tag,
        outcome=entry.outcome,
        actor_user_id=entry.actor_user_id,
        actor_role=entry.actor_role,
        actor_agency_id=entry.actor_agency_id,
        purpose=entry.purpose,
        categories=tuple(categories),
        basis=basis,
        withheld=dict(detail.get("withheld") or {}),
    )


def _from_search(entry: LogEntry, person_id: int) -> Disclosure | None:
    detail = entry.detail or {}
    if person_id not in (detail.get("person_ids") or []):
        return None
    return Disclosure(
        seq=entry.seq,
        recorded_at=entry.recorded_at,
        tag=entry.tag,
        outcome=DisclosureOutcome.disclosed.value,
        actor_user_id=entry.actor_user_id,
        actor_role=entry.actor_role,
        actor_agency_id=entry.actor_agency_id,
        purpose=entry.purpose,
        categories=(Category.identity.value,),
        basis={Category.identity.value: str((detail.get("basis") or {}).get(str(person_id)))},
        withheld={},
    )


def _listed_in_search(person_id: int) -> ColumnElement[bool]:
    # disclose_search's detail: {"basis": {"<id>": ...}, "person_ids": [..], "withheld_count": n}
    text = _json_text(_T.c.detail)
    return or_(
        text.like(f'%"person_ids":[{person_id}]%'),
        text.like(f'%"person_ids":[{person_id},%'),
        text.like(f"%,{person_id},%"),
        text.like(f"%,{person_id}]%"),
    )


def client_on_file(db: Session, person_id: int) -> bool:
    """Whether a client record of this number exists: the privacy console's timelines name
    record numbers, and the log says who read them, never what they hold."""
    return db.get(Person, person_id) is not None


def client_disclosures(
    db: Session,
    person_id: int,
    *,
    span: SeqRange | None = None,
    before: int | None = None,
    limit: int | None = None,
) -> tuple[list[Disclosure], int | None]:
    """A client's disclosures, newest first: every read of their record (whatever it disclosed
    or withheld) and every search that showed them. With `limit`, one keyset page and the
    `before` of the next one."""
    span = span or SeqRange()
    if span.empty:
        return [], None
    bounds = span.conditions() + ([_T.c.seq < before] if before is not None else [])
    reads = (
        select_entities(LogEntry)
        .where(_T.c.person_id == person_id, _T.c.kind == LogKind.disclosure.value, *bounds)
        .order_by(col(LogEntry.seq).desc())
    )
    searches = (
        select_entities(LogEntry)
        .where(
            _T.c.tag == DisclosureTag.client_search_read.value,
            _listed_in_search(person_id),
            *bounds,
        )
        .order_by(col(LogEntry.seq).desc())
    )
    if limit is not None:
        # Two keyset streams, each one page deep, merged: the next page starts below the
        # oldest entry shown, in both.
        reads = reads.limit(limit + 1)
        searches = searches.limit(limit + 1)
    found = [_from_record_read(e) for e in db.exec(reads)]
    found += [d for e in db.exec(searches) if (d := _from_search(e, person_id))]
    found.sort(key=lambda d: d.seq, reverse=True)
    if limit is None or len(found) <= limit:
        return found, None
    return found[:limit], found[limit - 1].seq


def json_detail(value: Any) -> str:
    """An entry's detail for the page: sorted, indented JSON (it holds ids and codes)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
