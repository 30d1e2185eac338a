"""Work-group rules every use case shares: the purpose, the kinds of item and what each
says about a client, the checks on what members write, the coordinator's own steps, and the
security event each write logs in its transaction."""

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append
from hub.db import rollback_on_error
from hub.permissions import authorize
from hub.site import read_setting, write_setting
from hub.vocabulary import (
    Action,
    AgendaItemKind,
    Category,
    DismissalReason,
    MeetingStatus,
    Purpose,
    SecurityEventTag,
)

PURPOSE = Purpose.work_group


NOT_SEEN_SETTING = "work_group.not_seen_days"


DEFAULT_NOT_SEEN_DAYS = 30


MAX_TEXT = 4000


# Grouping by kind follows the order a work group takes them in.
KIND_ORDER = (
    AgendaItemKind.new_arrest,
    AgendaItemKind.intake_deadline,
    AgendaItemKind.new_referral,
    AgendaItemKind.flagged,
    AgendaItemKind.not_seen,
    AgendaItemKind.action_item,
    AgendaItemKind.manual,
)


KIND_LABELS = {
    AgendaItemKind.new_referral: "New referral",
    AgendaItemKind.intake_deadline: "Intake deadline near or missed",
    AgendaItemKind.new_arrest: "New arrest awaiting a filing decision",
    AgendaItemKind.flagged: "Flagged for discussion",
    AgendaItemKind.not_seen: "Not seen recently",
    AgendaItemKind.action_item: "Open action item",
    AgendaItemKind.manual: "Added by the coordinator",
}


class ProposalGroup(StrEnum):
    """The groups the coordinator's proposals are shown in, and the closed set the page filters
    on: one per reason, and `other` for proposals whose reason the policy withholds from the
    coordinator (grouping them by kind would tell it)."""

    new_arrest = AgendaItemKind.new_arrest.value
    intake_deadline = AgendaItemKind.intake_deadline.value
    new_referral = AgendaItemKind.new_referral.value
    flagged = AgendaItemKind.flagged.value
    not_seen = AgendaItemKind.not_seen.value
    other = "other"


GROUP_LABELS: dict[ProposalGroup, str] = {
    **{g: KIND_LABELS[AgendaItemKind(g.value)] for g in ProposalGroup if g != ProposalGroup.other},
    ProposalGroup.other: "Other client items",
}


DISMISSAL_LABELS = {
    DismissalReason.already_handled: "Already handled",
    DismissalReason.not_for_this_group: "Not for this group",
    DismissalReason.discussed_elsewhere: "Discussed elsewhere",
}


DISMISSAL_NOTE_MAX = 200


# Why an item is on the agenda is itself client data of a category (that someone was
# arrested is legal, that intake is late is engagement): a member who may not see that
# category sees only "Client item". Flags and action items take their own category.
KIND_CATEGORY: dict[AgendaItemKind, Category | None] = {
    AgendaItemKind.new_referral: Category.referral,
    AgendaItemKind.intake_deadline: Category.engagement,
    AgendaItemKind.new_arrest: Category.legal,
    AgendaItemKind.not_seen: Category.engagement,
    AgendaItemKind.manual: Category.identity,
}


OPEN_MEETING = (MeetingStatus.published, MeetingStatus.held)


class WorkGroupError(ValueError):
    """A work-group step breaks a rule; the message says which. Nothing was changed."""


class MeetingNotFound(WorkGroupError):
    """No such meeting for this viewer (the same answer whether it exists or not)."""


def security_event(
    db: Session,
    actor: Actor,
    tag: SecurityEventTag,
    detail: dict[str, Any],
    *,
    person_id: int | None = None,
    categories: Sequence[Category] = (),
) -> None:
    append(
        db,
        actor,
        Event(
            kind="security",
            tag=tag.value,
            outcome="success",
            purpose=PURPOSE.value,
            person_id=person_id,
            categories=[c.value for c in categories],
            detail=detail,
        ),
    )


def checked_text(value: str, what: str, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if not value:
        raise WorkGroupError(f"write the {what}")
    if len(value) > limit:
        raise WorkGroupError(f"keep the {what} under {limit} characters")
    return value


def checked_category(value: Category | str | None, person_id: int | None) -> Category | None:
    """A client item's words need the category of what they say; program business has none."""
    if person_id is None:
        if value:
            raise WorkGroupError("an item without a client takes no disclosure category")
        return None
    try:
        return Category(value) if value else _missing_category()
    except ValueError:
        raise WorkGroupError(f"not a disclosure category: {value}") from None


def _missing_category() -> Category:
    raise WorkGroupError("choose the disclosure category of what you wrote about the client")


def require_coordinator(viewer: Viewer) -> None:
    authorize(viewer, Action.work_group_manage, WorkGroupError("only the coordinator can do this"))


def not_seen_days(db: Session) -> int:
    return int(read_setting(db, NOT_SEEN_SETTING, DEFAULT_NOT_SEEN_DAYS))


def set_not_seen_days(db: Session, coordinator: Viewer, days: int, actor: Actor) -> None:
    """The site setting behind the "not seen recently" proposals. Commits."""
    require_coordinator(coordinator)
    if not 1 <= days <= 365:
        raise WorkGroupError("give a number of days from 1 to 365")
    with rollback_on_error(db):
        write_setting(db, NOT_SEEN_SETTING, days)
        security_event(db, actor, SecurityEventTag.agenda_changed, {NOT_SEEN_SETTING: days})
        db.commit()
