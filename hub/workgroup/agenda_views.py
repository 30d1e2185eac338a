"""One agenda, many views: each member's agenda, minutes and print, every client item through
hub.disclosure.items (one disclosure entry per item, committed before anything is shown), and
the live agenda's per-viewer version, which changes only when what that viewer receives does."""

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import astuple, dataclass, field
from functools import cached_property
from typing import Any

from sqlmodel import Session, col, select

from hub.accounts.models import User
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, canonical_json
from hub.db import ident, rollback_on_error
from hub.disclosure.items import (
    DisclosedItem,
    ItemRequest,
    ItemShape,
    disclose_items,
    item_shapes,
)
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.disclosure.record_view import WithheldCategory
from hub.vocabulary import (
    Category,
    ItemEntryKind,
    MeetingStatus,
    SecurityEventTag,
)
from hub.workgroup.access import items_on, meeting_for
from hub.workgroup.models import (
    ActionItem,
    AgendaItem,
    DiscussionFlag,
    ItemEntry,
    WorkGroupMeeting,
)
from hub.workgroup.rules import KIND_CATEGORY, KIND_LABELS, PURPOSE, WorkGroupError, security_event


def _item_rows(items: Sequence[AgendaItem], shapes: Sequence[ItemShape]) -> dict[int, list[Any]]:
    """Each item as one viewer receives it, for the version: its place, discussion mark, topic
    (program business) and the ids and states of what reaches them."""
    by_key = {s.key: s for s in shapes}
    return {
        ident(item.id): [
            item.id,
            item.position,
            item.discussed_at is not None,
            item.topic if item.person_id is None else None,
            list(astuple(by_key[str(item.id)])),
        ]
        for item in items
        if str(item.id) in by_key
    }


def _version(status: MeetingStatus, rows: dict[int, list[Any]]) -> int:
    """A number for the agenda as one viewer receives it: its status and its items' rows."""
    digest = hashlib.sha256(canonical_json([status.value, list(rows.values())])).hexdigest()
    return int(digest[:12], 16)  # 48 bits: a query parameter, not a secret


# --- what each member was last sent, so that a change sends only the changed items ----------


@dataclass(frozen=True)
class SentAgenda:
    """An agenda as one member received it: ids, places and states only, never client data."""

    status: MeetingStatus
    rows: dict[int, list[Any]]  # item id -> its row in the version, in agenda order
    meeting_version: int  # the meeting's write counter when it was last decided for them
    decided_at: float  # time.monotonic() of that decision

    def still_current(self, meeting: WorkGroupMeeting) -> bool:
        """Nothing was written to the meeting since, and what the policy lets this member see
        was decided less than RECHECK_SECONDS ago: a consent or caseload change reaches an
        open agenda within that time, without deciding every item at every poll."""
        return (
            meeting.version == self.meeting_version
            and meeting.status == self.status
            and time.monotonic() - self.decided_at < RECHECK_SECONDS
        )


# By (user, meeting, version). Kept in this process: a poll that reaches another process, or
# comes after a restart, finds nothing and gets the whole agenda, as it did before.
_sent_agendas: OrderedDict[tuple[int, int, int], SentAgenda] = OrderedDict()
_sent_lock = threading.Lock()
SENT_KEPT = 4096
RECHECK_SECONDS = 10.0


def _remember(viewer: Viewer, meeting_id: int, version: int, sent: SentAgenda) -> None:
    with _sent_lock:
        _sent_agendas[(viewer.user_id, meeting_id, version)] = sent
        _sent_agendas.move_to_end((viewer.user_id, meeting_id, version))
        while len(_sent_agendas) > SENT_KEPT:
            _sent_agendas.popitem(last=False)


def _recalled(viewer: Viewer, meeting_id: int, version: int | None) -> SentAgenda | None:
    if version is None:
        return None
    with _sent_lock:
        return _sent_agendas.get((viewer.user_id, meeting_id, version))


@dataclass(frozen=True)
class LiveChange:
    """What a poll found: this viewer's version now, and which items changed since the version
    they have (None: send the whole agenda, for the status, the order or the set of items
    changed, or their version is not known here)."""

    version: int
    changed: tuple[int, ...] | None
    since: int | None = None


def live_change(db: Session, viewer: Viewer, meeting_id: int, since: int | None) -> LiveChange:
    """Decides (reads and shows nothing, logs nothing) what of the agenda reaching this viewer
    changed since the version they have."""
    meeting = meeting_for(db, viewer, meeting_id)
    sent = _recalled(viewer, meeting_id, since)
    if sent is not None and since is not None and sent.still_current(meeting):
        db.rollback()
        return LiveChange(since, (), since)
    items = items_on(db, meeting_id)
    shapes = item_shapes(db, viewer, item_requests(db, items), PURPOSE)
    db.rollback()  # SQLite: end the read transaction (and its write lock) at once
    rows = _item_rows(items, shapes)
    version = _version(meeting.status, rows)
    if version == since:
        # Unchanged: remembered as decided now, also where another process sent the page.
        decided = SentAgenda(meeting.status, rows, meeting.version, time.monotonic())
        _remember(viewer, meeting_id, version, decided)
        return LiveChange(version, (), since)
    if sent is None or sent.status != meeting.status or _places(sent.rows) != _places(rows):
        return LiveChange(version, None, since)
    changed = tuple(item_id for item_id, row in rows.items() if sent.rows[item_id] != row)
    return LiveChange(version, changed, since)


def _places(rows: dict[int, list[Any]]) -> list[tuple[int, int]]:
    return [(row[0], row[1]) for row in rows.values()]


@dataclass(frozen=True)
class AgendaEntryView:
    item: AgendaItem
    shown: DisclosedItem

    @property
    def reason(self) -> str:
        """Why the item is on the agenda, as far as this viewer may know it."""
        if self.item.person_id is None:
            return self.item.topic or KIND_LABELS[self.item.kind]
        return KIND_LABELS[self.item.kind] if self.shown.reason_shown else "Client item"

    @property
    def label(self) -> str:
        """The reason, and whom the item is about where the policy shows them who."""
        return f"{self.reason} · {self.client_name}" if self.client_name else self.reason

    @property
    def client_name(self) -> str | None:
        record = self.shown.record
        identity = record.identity if record is not None else None
        if identity is None or isinstance(identity, WithheldCategory):
            return None
        return f"{identity.first_name} {identity.last_name}"

    def entries(self, kind: ItemEntryKind) -> list[Any]:
        return [a for a in self.shown.entries if a.row.kind == kind]


@dataclass(frozen=True)
class AgendaView:
    meeting: WorkGroupMeeting
    items: list[AgendaEntryView] = field(default_factory=list)
    version: int = 0  # this viewer's version (_version), for the live agenda's poll

    @property
    def part2(self) -> bool:
        return any(i.shown.part2 for i in self.items)

    @property
    def notice(self) -> str | None:
        # 42 CFR 2.32: whatever shows treatment data carries the notice.
        return REDISCLOSURE_NOTICE if self.part2 else None

    @property
    def log_seqs(self) -> list[int]:
        return [i.shown.log_seq for i in self.items if i.shown.log_seq is not None]

    @cached_property
    def record_shown_with(self) -> dict[int, int]:
        """Item id -> the earlier item whose record of the same client this viewer already
        has on the page, so a client with two items is shown once. Only where both show
        who the client is: otherwise saying "the same client" would tell more than the policy."""
        first: dict[int, int] = {}
        earlier: dict[int, int] = {}
        for i in self.items:
            if i.item.person_id is None or i.client_name is None:
                continue
            if i.item.person_id in first:
                earlier[ident(i.item.id)] = first[i.item.person_id]
            else:
                first[i.item.person_id] = ident(i.item.id)
        return earlier


def item_requests(db: Session, items: Sequence[AgendaItem]) -> list[ItemRequest]:
    ids = [ident(i.id) for i in items]
    entries: dict[int, list[int]] = {}
    for entry_id, item_id in db.exec(
        select(ItemEntry.id, ItemEntry.item_id)
        .where(col(ItemEntry.item_id).in_(ids))
        .order_by(col(ItemEntry.written_at), col(ItemEntry.id))
    ):
        entries.setdefault(item_id, []).append(ident(entry_id))
    actions: dict[int, list[int]] = {}
    carried = {i.action_item_id: ident(i.id) for i in items if i.action_item_id}
    for action_id, agreed_on in db.exec(
        select(ActionItem.id, ActionItem.item_id)
        .where(col(ActionItem.item_id).in_(ids) | col(ActionItem.id).in_(list(carried)))
        .order_by(col(ActionItem.id))
    ):
        target = carried.get(ident(action_id)) or agreed_on
        if target is not None:
            actions.setdefault(target, []).append(ident(action_id))
    categories = _reason_categories(db, items)
    return [
        ItemRequest(
            key=str(i.id),
            person_id=i.person_id,
            entry_ids=entries.get(ident(i.id), []),
            action_item_ids=actions.get(ident(i.id), []),
            flag_ids=[i.flag_id] if i.flag_id else (),
            reason_category=categories.get(ident(i.id)),
        )
        for i in items
    ]


def _reason_categories(db: Session, items: Sequence[AgendaItem]) -> dict[int, Category | None]:
    flag_ids = [i.flag_id for i in items if i.flag_id]
    action_ids = [i.action_item_id for i in items if i.action_item_id]
    # Each query only when some item needs it: most agendas have neither (a round trip each).
    flags: dict[int, Category] = (
        dict(
            db.exec(  # type: ignore[arg-type]
                select(DiscussionFlag.id, DiscussionFlag.category).where(
                    col(DiscussionFlag.id).in_(flag_ids)
                )
            ).all()
        )
        if flag_ids
        else {}
    )
    actions: dict[int, Category | None] = (
        dict(
            db.exec(  # type: ignore[arg-type]
                select(ActionItem.id, ActionItem.category).where(col(ActionItem.id).in_(action_ids))
            ).all()
        )
        if action_ids
        else {}
    )
    result: dict[int, Category | None] = {}
    for item in items:
        if item.flag_id:
            result[ident(item.id)] = flags.get(item.flag_id)
        elif item.action_item_id:
            result[ident(item.id)] = actions.get(item.action_item_id)
        else:
            result[ident(item.id)] = KIND_CATEGORY.get(item.kind)
    return result


def agenda_for(
    db: Session, viewer: Viewer, meeting_id: int, actor: Actor, *, view: str = "agenda"
) -> AgendaView:
    """The agenda as this member may see it: every item through the policy (purpose
    work_group), one disclosure entry per client item, committed before anything is shown."""
    meeting = meeting_for(db, viewer, meeting_id)
    if view == "minutes" and meeting.status not in (
        MeetingStatus.held,
        MeetingStatus.minutes_approved,
    ):
        raise WorkGroupError("the minutes exist once the meeting is held")
    items = items_on(db, meeting_id)
    shown = disclose_items(db, viewer, item_requests(db, items), PURPOSE, actor, view=view)
    return _sent(viewer, meeting, items, shown, _item_rows(items, [s.shape for s in shown]))


def agenda_changes(
    db: Session, viewer: Viewer, meeting_id: int, change: LiveChange, actor: Actor
) -> AgendaView | None:
    """Only the items that changed for this viewer, disclosed and logged (one entry each, and
    none for the rest, which they already have); None when the agenda must be sent whole
    after all (it changed again between the poll's look and this read)."""
    sent = _recalled(viewer, meeting_id, change.since)
    if sent is None or change.changed is None:
        return None
    meeting = meeting_for(db, viewer, meeting_id)
    changed = [i for i in items_on(db, meeting_id) if ident(i.id) in set(change.changed)]
    shown = disclose_items(db, viewer, item_requests(db, changed), PURPOSE, actor, view="live")
    fresh = _item_rows(changed, [s.shape for s in shown])
    if meeting.status != sent.status or set(fresh) != set(change.changed):
        return None
    return _sent(viewer, meeting, changed, shown, {**sent.rows, **fresh})


def _sent(
    viewer: Viewer,
    meeting: WorkGroupMeeting,
    items: Sequence[AgendaItem],
    shown: Sequence[DisclosedItem],
    rows: dict[int, list[Any]],
) -> AgendaView:
    """The view of `items` as disclosed, carrying the version of the whole agenda the member
    will then have (`rows`), which is remembered for their next poll."""
    version = _version(meeting.status, rows)
    sent = SentAgenda(meeting.status, rows, meeting.version, time.monotonic())
    _remember(viewer, ident(meeting.id), version, sent)
    by_key = {s.key: s for s in shown}
    return AgendaView(
        meeting=meeting,
        items=[AgendaEntryView(i, by_key[str(i.id)]) for i in items if str(i.id) in by_key],
        version=version,
    )


def print_agenda(db: Session, viewer: Viewer, meeting_id: int, actor: Actor) -> AgendaView:
    """The member's printable agenda: disclosed like the page (view "print") and its printing
    logged as a security event naming the item entries and whether the notice is on it."""
    agenda = agenda_for(db, viewer, meeting_id, actor, view="print")
    with rollback_on_error(db):
        security_event(
            db,
            actor,
            SecurityEventTag.agenda_printed,
            {
                "meeting_id": meeting_id,
                "log_seqs": agenda.log_seqs,
                "items": len(agenda.items),
                "part2_notice": agenda.part2,
            },
        )
        db.commit()
    return agenda


def member_names(db: Session, user_ids: Sequence[int]) -> dict[int, str]:
    rows = db.exec(select(User.id, User.display_name).where(col(User.id).in_(list(user_ids))))
    return {ident(uid): name for uid, name in rows}
