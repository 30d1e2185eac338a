"""A privacy officer reviews a flag, with a note, logged in the same transaction."""

from dataclasses import replace

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append
from hub.db import rollback_on_error, utcnow
from hub.permissions import authorize
from hub.privacy.models import ReviewFlag
from hub.vocabulary import Action, FlagStatus, LogKind, LogOutcome, SecurityEventTag

MAX_NOTE = 2000


class FlagError(ValueError):
    """The flag cannot be reviewed as asked; nothing changed."""


def review_flag(db: Session, viewer: Viewer, flag_id: int, note: str, actor: Actor) -> ReviewFlag:
    """Marks a flag reviewed with the reviewer's note, logged (privacy:flag:reviewed) in the
    same transaction, and commits. A privacy officer does not review a flag about themselves."""
    with rollback_on_error(db):
        authorize(viewer, Action.flags_review, FlagError("Only a privacy officer reviews flags."))
        flag = db.get(ReviewFlag, flag_id)
        if flag is None:
            raise FlagError("No such flag.")
        if flag.status == FlagStatus.reviewed:
            raise FlagError("This flag is already reviewed.")
        if flag.subject_user_id == viewer.user_id:
            raise FlagError(
                "A flag about your own activity is reviewed by another privacy officer."
            )
        note = note.strip()
        if not note or len(note) > MAX_NOTE:
            raise FlagError(f"Write a review note (at most {MAX_NOTE} characters).")
        flag.status = FlagStatus.reviewed
        flag.reviewed_by_id = viewer.user_id
        flag.reviewed_at = utcnow()
        flag.review_note = note
        db.add(flag)
        db.flush()
        # The entry names the reviewer, whatever actor the caller passed.
        reviewer = replace(
            actor, user_id=viewer.user_id, role=viewer.role.value, agency_id=viewer.agency_id
        )
        append(
            db,
            reviewer,
            Event(
                kind=LogKind.security,
                tag=SecurityEventTag.flag_reviewed,
                outcome=LogOutcome.success,
                person_id=flag.person_id,
                purpose="oversight",
                detail={"review_flag_id": flag.id, "rule": flag.rule.value},
            ),
        )
        db.commit()
    return flag
