"""Log data for the privacy console's tests: disclosures and security events by real users, at
chosen moments (the log's clock is set for each append; moments must not go back)."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

from sqlmodel import Session

from hub.accounts.models import User
from hub.audit.log import Actor, Event, append
from hub.audit.models import LogEntry
from hub.vocabulary import DisclosureTag, LogKind, Purpose

SITE = ZoneInfo("America/Los_Angeles")  # the shipped referral rules' time zone


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A site-local wall-clock moment, as UTC."""
    return datetime.combine(
        datetime(year, month, day).date(), time(hour, minute), tzinfo=SITE
    ).astimezone(UTC)


@contextmanager
def clock(moment: datetime | None) -> Iterator[None]:
    if moment is None:
        yield
        return
    # The log stamps entries and the flag rules take "now" from the same moment.
    with (
        mock.patch("hub.audit.log.utcnow", return_value=moment),
        mock.patch("hub.privacy.flags.computing.utcnow", return_value=moment),
        mock.patch("hub.privacy.flags.review.utcnow", return_value=moment),
    ):
        yield


def actor(user: User | None, address: str = "10.0.0.1") -> Actor:
    if user is None:
        return Actor(request_id="req", address=address)
    return Actor(
        user_id=user.id,
        role=user.role.value,
        agency_id=user.agency_id,
        request_id="req",
        address=address,
    )


def record_read(
    db: Session,
    user: User,
    person_id: int,
    basis: dict[str, str],
    *,
    withheld: dict[str, str] | None = None,
    purpose: str = Purpose.case_management.value,
    at: datetime | None = None,
    participation: str | None = None,
) -> LogEntry:
    """A client-record read as hub.disclosure.record logs it."""
    disclosed = bool(basis) or participation is not None
    with clock(at):
        entry = append(
            db,
            actor(user),
            Event(
                kind=LogKind.disclosure,
                tag=DisclosureTag.client_record_read.value,
                outcome="disclosed" if disclosed else "withheld",
                purpose=purpose,
                person_id=person_id,
                categories=sorted(basis),
                policy_version="test",
                detail={
                    "basis": basis,
                    "withheld": withheld or {},
                    "participation": participation,
                    "notes": [],
                    "part2": "treatment" in basis,
                },
            ),
        )
    db.commit()
    return entry


def search_read(
    db: Session, user: User, basis: dict[int, str], *, at: datetime | None = None
) -> LogEntry:
    """A client search as hub.disclosure.record_search.disclose_search logs it."""
    with clock(at):
        entry = append(
            db,
            actor(user),
            Event(
                kind=LogKind.disclosure,
                tag=DisclosureTag.client_search_read.value,
                outcome="disclosed" if basis else "withheld",
                purpose=Purpose.case_management.value,
                categories=["identity"] if basis else [],
                policy_version="test",
                detail={
                    "person_ids": sorted(basis),
                    "basis": {str(k): v for k, v in sorted(basis.items())},
                    "withheld_count": 0,
                },
            ),
        )
    db.commit()
    return entry


def security_event(
    db: Session,
    tag: Any,
    *,
    user: User | None = None,
    outcome: str = "success",
    person_id: int | None = None,
    address: str = "10.0.0.1",
    at: datetime | None = None,
    **detail: Any,
) -> LogEntry:
    with clock(at):
        entry = append(
            db,
            actor(user, address),
            Event(
                kind=LogKind.security,
                tag=str(tag.value if hasattr(tag, "value") else tag),
                outcome=outcome,
                person_id=person_id,
                detail=detail or None,
            ),
        )
    db.commit()
    return entry
