"""Breach signals: a refused 42 CFR 2.12(d) binding in the log, and the privacy officer's
review of it."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.charging.checks import ChargingError
from hub.charging.models import BreachSignalReview
from hub.permissions import authorize
from hub.referrals.checks import security_event
from hub.vocabulary import Action, Purpose, SecurityEventTag


@dataclass(frozen=True)
class BreachSignal:
    """A breach signal in the log and its review, if any: ids and times, no content."""

    seq: int
    recorded_at: datetime
    person_id: int | None
    actor_role: str | None
    log_seqs: list[int]
    reviewed_at: datetime | None
    reviewed_by_id: int | None
    review_note: str | None


def _require_privacy_officer(viewer: Viewer) -> None:
    authorize(
        viewer, Action.flags_review, ChargingError("only a privacy officer reviews breach signals")
    )


def breach_signals(db: Session, viewer: Viewer, *, open_only: bool = True) -> list[BreachSignal]:
    """The log's breach signals, oldest first; by default those not yet reviewed."""
    _require_privacy_officer(viewer)
    rows = db.exec(
        select(LogEntry, BreachSignalReview)
        .join(
            BreachSignalReview,
            col(BreachSignalReview.log_seq) == LogEntry.seq,
            isouter=True,
        )
        .where(LogEntry.tag == SecurityEventTag.part2_breach_signal.value)
        .order_by(col(LogEntry.seq))
    )
    return [
        BreachSignal(
            seq=entry.seq,
            recorded_at=entry.recorded_at,
            person_id=entry.person_id,
            actor_role=entry.actor_role,
            log_seqs=list((entry.detail or {}).get("log_seqs", [])),
            reviewed_at=review.reviewed_at if review else None,
            reviewed_by_id=review.reviewed_by_id if review else None,
            review_note=review.note if review else None,
        )
        for entry, review in rows
        if not (open_only and review is not None)
    ]


def review_breach_signal(
    db: Session, privacy_officer: Viewer, seq: int, note: str, actor: Actor
) -> BreachSignalReview:
    """Records the privacy officer's review of a breach signal, with a note; logged. Commits."""
    _require_privacy_officer(privacy_officer)
    entry = db.get(LogEntry, seq)
    if entry is None or entry.tag != SecurityEventTag.part2_breach_signal.value:
        raise ChargingError("no such breach signal")
    taken = db.exec(select(BreachSignalReview.id).where(BreachSignalReview.log_seq == seq)).first()
    if taken is not None:
        raise ChargingError("the breach signal is already reviewed")
    if not note.strip() or len(note) > 2000:
        raise ChargingError("write a review note of at most 2000 characters")
    review = BreachSignalReview(
        log_seq=seq, reviewed_by_id=privacy_officer.user_id, note=note.strip()
    )
    db.add(review)
    db.flush()
    security_event(
        db,
        actor,
        SecurityEventTag.breach_signal_reviewed,
        entry.person_id,
        {"signal_seq": seq, "review_id": review.id},
        Purpose.oversight,
    )
    db.commit()
    return review
