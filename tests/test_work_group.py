"""Work groups: one agenda, many views. Each member sees every item through the disclosure
policy (purpose work_group) and exactly what its decision table allows; every item view is one
disclosure entry; updates reach only the members their category allows; printing is logged and
carries the 42 CFR 2.32 notice exactly when treatment data is on it; open action items carry
over; publishing notifies."""

import re
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from sqlmodel import select

from hub.charging.matters import record_new_arrest
from hub.charging.models import DecisionDisclosure
from hub.clients.models import Person
from hub.db import ident, utcnow
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.disclosure.services import CourtOrderForm, confirm_court_order, record_court_order
from hub.notifications.models import Notification
from hub.referrals.opening import ArrestDetails
from hub.vocabulary import (
    ActionItemStatus,
    AgendaItemKind,
    Category,
    ConsentKind,
    ItemEntryKind,
    MeetingStatus,
    NotificationKind,
    ProgramStatus,
    Purpose,
    Role,
    SecurityEventTag,
)
from hub.workgroup import access, agenda_edits, agenda_views, at_the_table, proposing, schedule
from hub.workgroup.models import ItemEntry, WorkGroupMeeting
from hub.workgroup.rules import WorkGroupError
from tests.audit_support import detail_of
from tests.signing_in import logged
from tests.workgroup_support import (
    agenda_items,
    allowed_categories,
    coordinator_note,
    item_reads,
    last_seq,
    page_version,
    rendered_items,
    seat_the_table,
)


@pytest.fixture
def table(world):
    return seat_the_table(world)


def client_item(db, table, person_id, kind=AgendaItemKind.new_referral):
    return next(
        i for i in agenda_items(db, table.meeting.id) if i.person_id == person_id and i.kind == kind
    )


def page_of(sign_in, world, name, url):
    response = sign_in(user=world.users[name]).client.get(url)
    assert response.status_code == 200, response.text
    return response.text


def test_each_member_sees_exactly_what_the_policy_allows_and_each_item_view_is_logged(
    db, table, sign_in
):
    world = table.world
    items = agenda_items(db, table.meeting.id)
    client_items = [i for i in items if i.person_id is not None]
    assert {i.person_id for i in client_items} == {table.consented, table.other}
    seen: dict[str, dict[int, set[Category]]] = {}
    for name in table.members:
        before = last_seq(db)
        html = page_of(sign_in, world, name, f"/work-group/meetings/{table.meeting.id}")
        rendered = rendered_items(html)
        assert set(rendered) == {i.id for i in items}
        seen[name] = {}
        for item in client_items:
            shown = rendered[ident(item.id)]
            expected = allowed_categories(world, name, ident(item.person_id))
            assert shown.disclosed == expected, (name, item.kind)
            assert shown.withheld == set(Category) - expected, (name, item.kind)
            seen[name][ident(item.person_id)] = shown.disclosed
        # One disclosure entry per item view, purpose work_group, naming the item's client.
        reads = item_reads(db, world.users[name].id, before)
        assert len(reads) == len(client_items)
        assert {r.purpose for r in reads} == {Purpose.work_group.value}
        assert Counter(r.person_id for r in reads) == Counter(i.person_id for i in client_items)
        assert sorted(detail_of(r)["item"] for r in reads) == sorted(
            str(i.id) for i in client_items
        )
    prosecutor = seen[table.prosecutor][table.consented]
    assert seen["case_manager"][table.consented] != prosecutor
    assert Category.treatment not in prosecutor and Category.health not in prosecutor
    # The consent names the prosecuting office for housing: one client, not the other.
    assert Category.housing in prosecutor
    assert Category.housing not in seen[table.prosecutor][table.other]


def test_updates_reach_only_the_members_their_category_allows(db, table):
    world = table.world
    cm = world.viewer("case_manager")
    writes = {}
    for person_id in (table.consented, table.other):
        item = client_item(db, table, person_id)
        for category in (Category.housing, Category.treatment, Category.engagement):
            entry = at_the_table.add_entry(
                db,
                cm,
                item.id,
                ItemEntryKind.update,
                category,
                f"{category} news",
                world.actor("case_manager"),
            )
            writes[entry.id] = (person_id, category)
    for name in table.members:
        before = last_seq(db)
        agenda = agenda_views.agenda_for(
            db, world.viewer(name), table.meeting.id, world.actor(name)
        )
        visible = {a.row.id for i in agenda.items for a in i.shown.entries}
        expected = {
            entry_id
            for entry_id, (person_id, category) in writes.items()
            if category in allowed_categories(world, name, person_id)
        }
        assert visible == expected, name
        logged_entries = {
            e for r in item_reads(db, world.users[name].id, before) for e in detail_of(r)["entries"]
        }
        assert logged_entries == visible, name
    prosecutor_sees = {
        writes[a.row.id]
        for i in agenda_views.agenda_for(
            db, world.viewer(table.prosecutor), table.meeting.id, world.actor(table.prosecutor)
        ).items
        for a in i.shown.entries
    }
    assert (table.consented, Category.housing) in prosecutor_sees
    assert (table.other, Category.housing) not in prosecutor_sees
    assert not {c for _, c in prosecutor_sees} & {Category.treatment}


def test_a_client_update_needs_its_category_and_bad_input_changes_nothing(db, table, sign_in):
    world = table.world
    item = client_item(db, table, table.consented)
    member = sign_in(user=world.users["case_manager"])
    before = db.exec(select(ItemEntry.id)).all()
    db.commit()
    response = member.post(
        f"/work-group/items/{item.id}/entries", data={"kind": "update", "body": "x"}
    )
    assert response.status_code == 400
    assert "category" in response.text
    response = member.post(
        f"/work-group/items/{item.id}/entries",
        data={"kind": "update", "category": "gossip", "body": "x"},
    )
    assert response.status_code == 400
    assert db.exec(select(ItemEntry.id)).all() == before
    with pytest.raises(WorkGroupError):
        at_the_table.add_entry(
            db,
            world.viewer("case_manager"),
            item.id,
            ItemEntryKind.note,
            Category.plan,
            "n",
            world.actor("case_manager"),
        )


def test_print_is_logged_and_carries_the_notice_exactly_when_treatment_is_shown(
    db, table, sign_in, factories
):
    world = table.world
    item = client_item(db, table, table.consented)
    at_the_table.add_entry(
        db,
        world.viewer("case_manager"),
        item.id,
        ItemEntryKind.update,
        Category.treatment,
        "Started MOUD",
        world.actor("case_manager"),
    )
    url = f"/work-group/meetings/{table.meeting.id}/print"
    html = page_of(sign_in, world, table.prosecutor, url)
    assert REDISCLOSURE_NOTICE not in html and "Started MOUD" not in html
    printed = logged(db, SecurityEventTag.agenda_printed, meeting_id=table.meeting.id)
    assert [detail_of(p)["part2_notice"] for p in printed] == [False]
    assert printed[0].actor_user_id == world.users[table.prosecutor].id
    reads = {e.seq: e for e in item_reads(db, world.users[table.prosecutor].id)}
    assert set(detail_of(printed[0])["log_seqs"]) <= set(reads)
    assert {detail_of(reads[s])["view"] for s in detail_of(printed[0])["log_seqs"]} == {"print"}

    # A 42 CFR 2.64 order for the defender's office: treatment reaches the defender, and the
    # printout carries the notice and the Part 2 label on the update.
    order = record_court_order(
        db,
        world.viewer("privacy_officer"),
        CourtOrderForm(
            person_id=table.consented,
            recipient_agency_id=world.agencies["defense"].id,
            categories=[Category.treatment],
            purposes=[Purpose.work_group],
            court="Superior Court",
            order_reference="24-2-0001",
            rule="2.64",
            scope="Treatment records for the work group",
            issued_on=date.today(),
            expires_on=date.today() + timedelta(days=30),
            judge="Hon. A. Example",
            document=b"%PDF-1.7\n%%EOF\n",
        ),
        world.actor("privacy_officer"),
    )
    # In force once a second privacy officer confirms it (issue 12).
    world.add_user("privacy_officer2", Role.privacy_officer, "program_office")
    confirm_court_order(
        db, world.viewer("privacy_officer2"), ident(order.id), world.actor("privacy_officer2")
    )
    html = page_of(sign_in, world, "defender", url)
    assert REDISCLOSURE_NOTICE in html and "Started MOUD" in html
    assert (
        'data-category="treatment"><span class="tag">update · treatment</span> '
        '<strong class="part2-label">42 CFR Part 2</strong>' in html
    )
    printed = logged(db, SecurityEventTag.agenda_printed, meeting_id=table.meeting.id)
    assert [detail_of(p)["part2_notice"] for p in printed] == [False, True]
    # The screen view carries it too; the other client's items do not need it.
    assert REDISCLOSURE_NOTICE in page_of(
        sign_in, world, "defender", f"/work-group/meetings/{table.meeting.id}"
    )


def test_publishing_notifies_every_invited_member_without_personal_data(db, world):
    table = seat_the_table(world, publish=False)
    published = select(Notification).where(Notification.kind == NotificationKind.agenda_published)
    assert not db.exec(published).all()
    db.commit()
    schedule.publish(
        db, world.viewer("coordinator"), ident(table.meeting.id), world.actor("coordinator")
    )
    notes = db.exec(published).all()
    db.commit()
    members = {world.users[n].id for n in table.members} - {world.users["coordinator"].id}
    assert {n.user_id for n in notes} == members
    assert {n.kind for n in notes} == {NotificationKind.agenda_published}
    assert {n.link for n in notes} == {f"/work-group/meetings/{table.meeting.id}"}
    names = {p.last_name for p in db.exec(select(Person)).all()}
    db.commit()
    assert not any(name in n.text for n in notes for name in names)
    with pytest.raises(WorkGroupError):
        schedule.publish(
            db, world.viewer("coordinator"), ident(table.meeting.id), world.actor("coordinator")
        )


def test_a_draft_agenda_and_other_meetings_are_hidden_from_members(db, world, sign_in):
    table = seat_the_table(world, publish=False)
    member = sign_in(user=world.users["case_manager"])
    assert member.client.get(f"/work-group/meetings/{table.meeting.id}").status_code == 404
    outsider = sign_in(user=world.users["other_case_manager"])
    schedule.publish(
        db, world.viewer("coordinator"), ident(table.meeting.id), world.actor("coordinator")
    )
    assert member.client.get(f"/work-group/meetings/{table.meeting.id}").status_code == 200
    assert outsider.client.get(f"/work-group/meetings/{table.meeting.id}").status_code == 404
    assert item_reads(db, world.users["other_case_manager"].id) == []


def test_open_action_items_carry_over_until_done(db, table):
    world = table.world
    coordinator, actor = world.viewer("coordinator"), world.actor("coordinator")
    item = client_item(db, table, table.consented)
    assignee = world.users["case_manager"].id
    open_one = at_the_table.add_action_item(
        db,
        coordinator,
        item.id,
        at_the_table.ActionForm("Call about ID", assignee, None, Category.plan),
        actor,
    )
    done_one = at_the_table.add_action_item(
        db,
        coordinator,
        item.id,
        at_the_table.ActionForm("Book room", assignee, None, Category.engagement),
        actor,
    )
    at_the_table.set_action_status(
        db,
        world.viewer("case_manager"),
        ident(done_one.id),
        ActionItemStatus.done,
        world.actor("case_manager"),
    )
    schedule.mark_held(db, coordinator, table.meeting.id, actor, confirmed=True)
    schedule.approve_minutes(db, coordinator, table.meeting.id, actor)
    second = schedule.create_meeting(
        db,
        coordinator,
        schedule.MeetingForm(
            "Next",
            table.meeting.starts_at + timedelta(days=14),
            "Room B",
            None,
            [world.users[n].id for n in table.members],
        ),
        actor,
    )
    carried = [
        i for i in agenda_items(db, ident(second.id)) if i.kind == AgendaItemKind.action_item
    ]
    assert [i.action_item_id for i in carried] == [open_one.id]
    schedule.publish(db, coordinator, ident(second.id), actor)
    agenda = agenda_views.agenda_for(
        db, world.viewer("case_manager"), ident(second.id), world.actor("case_manager")
    )
    shown = next(i for i in agenda.items if i.item.kind == AgendaItemKind.action_item)
    assert [a.row.id for a in shown.shown.action_items] == [open_one.id]
    assert shown.reason == "Open action item"
    at_the_table.set_action_status(
        db, coordinator, ident(open_one.id), ActionItemStatus.done, actor
    )
    schedule.mark_held(
        db, coordinator, ident(second.id), actor, confirmed=True
    ) if second.status == MeetingStatus.published else None
    third = schedule.create_meeting(
        db,
        coordinator,
        schedule.MeetingForm(
            "After",
            table.meeting.starts_at + timedelta(days=28),
            "Room B",
            None,
            [world.users["case_manager"].id],
        ),
        actor,
    )
    assert [
        i for i in agenda_items(db, ident(third.id)) if i.kind == AgendaItemKind.action_item
    ] == []


def test_minutes_are_per_member_and_approved_by_the_coordinator(db, table, sign_in):
    world = table.world
    coordinator, actor = world.viewer("coordinator"), world.actor("coordinator")
    item = client_item(db, table, table.consented)
    at_the_table.add_entry(
        db,
        coordinator,
        item.id,
        ItemEntryKind.note,
        Category.housing,
        "Housing voucher soon",
        actor,
    )
    at_the_table.add_entry(
        db, coordinator, item.id, ItemEntryKind.note, Category.legal, "Court date moved", actor
    )
    url = f"/work-group/meetings/{table.meeting.id}/minutes"
    assert sign_in(user=world.users["defender"]).client.get(url).status_code == 409  # not held yet
    schedule.mark_held(db, coordinator, table.meeting.id, actor, confirmed=True)
    defender = page_of(sign_in, world, "defender", url)
    prosecutor = page_of(sign_in, world, table.prosecutor, url)
    assert "Court date moved" in defender and "Housing voucher soon" not in defender
    assert "Court date moved" in prosecutor and "Housing voucher soon" in prosecutor
    reads = item_reads(db, world.users["defender"].id)
    assert {detail_of(r)["view"] for r in reads} == {"minutes"}
    coordinator_client = sign_in(user=world.users["coordinator"])
    response = coordinator_client.post(
        f"/work-group/meetings/{table.meeting.id}/approve", follow_redirects=False
    )
    assert response.status_code == 303
    db.refresh(table.meeting)
    assert table.meeting.status == MeetingStatus.minutes_approved
    assert logged(db, SecurityEventTag.minutes_approved, meeting_id=table.meeting.id)


def test_live_poll_logs_nothing_until_the_agenda_changes(db, table, sign_in):
    world = table.world
    member = sign_in(user=world.users["defender"])
    # The poll asks with the version the page carries: this member's, not the meeting's.
    version = page_version(member.client.get(f"/work-group/meetings/{table.meeting.id}").text)
    url = f"/work-group/meetings/{table.meeting.id}/live"
    before = last_seq(db)
    response = member.client.get(url, params={"since": version})
    assert response.status_code == 204 and response.text == ""
    assert last_seq(db) == before
    item = client_item(db, table, table.consented)
    coordinator_note(world, item.id, Category.legal, "Plea offer withdrawn")
    response = member.client.get(url, params={"since": version})
    assert response.status_code == 200
    # Only the changed item is sent, swapped into its place, and only it is disclosed.
    assert 'id="agenda-live"' not in response.text and "Plea offer withdrawn" in response.text
    assert f'<li id="item-{item.id}" hx-swap-oob="true"' in response.text
    assert response.text.count('<li id="item-') == 1
    newer = page_version(response.text)
    assert newer != version and f"since={newer}" in response.text
    reads = item_reads(db, world.users["defender"].id, before)
    assert [detail_of(r)["item"] for r in reads] == [str(item.id)]
    assert member.client.get(url, params={"since": newer}).status_code == 204
    assert len(item_reads(db, world.users["defender"].id, before)) == 1
    # A version this process never sent (another process's, or from before a restart): the
    # whole agenda, every item disclosed once.
    whole = member.client.get(url, params={"since": 12345})
    assert whole.status_code == 200 and 'id="agenda-live"' in whole.text
    assert len(item_reads(db, world.users["defender"].id, before)) == 1 + 2


def test_a_poll_sends_the_whole_agenda_when_its_order_changes(db, table, sign_in):
    world = table.world
    member = sign_in(user=world.users["defender"])
    version = page_version(member.client.get(f"/work-group/meetings/{table.meeting.id}").text)
    last = agenda_items(db, table.meeting.id)[-1]
    agenda_edits.move_item(
        db, world.viewer("coordinator"), ident(last.id), "up", world.actor("coordinator")
    )
    moved = member.client.get(
        f"/work-group/meetings/{table.meeting.id}/live", params={"since": version}
    )
    assert moved.status_code == 200
    assert re.search(r'<div id="agenda-live" [^>]*hx-swap-oob="true"', moved.text)
    assert moved.text.index(f'id="item-{last.id}"') < moved.text.rindex('<li id="item-')


def test_a_new_consent_reaches_an_open_agenda_within_the_recheck_time(db, table, sign_in):
    world = table.world
    prosecutor = sign_in(user=world.users[table.prosecutor])
    url = f"/work-group/meetings/{table.meeting.id}"
    item = client_item(db, table, table.other)
    at_the_table.add_entry(
        db,
        world.viewer("case_manager"),
        item.id,
        ItemEntryKind.update,
        Category.housing,
        "Waitlisted",
        world.actor("case_manager"),
    )
    version = page_version(prosecutor.client.get(url).text)  # no consent: not shown
    world.factories.Consent(
        person_id=table.other,
        kind=ConsentKind.general,
        categories=[Category.housing.value],
        purposes=[Purpose.work_group.value],
        discloser_agency_id=world.agencies["case_management"].id,
        recipient_agency_id=world.users[table.prosecutor].agency_id,
        created_by_id=world.users["case_manager"].id,
    )
    now = time.monotonic()
    with mock.patch("hub.workgroup.agenda_views.time.monotonic", return_value=now + 1):
        quiet = prosecutor.client.get(f"{url}/live", params={"since": version})
    assert quiet.status_code == 204  # decided a moment ago, nothing written to the meeting
    later = now + agenda_views.RECHECK_SECONDS + 1
    with mock.patch("hub.workgroup.agenda_views.time.monotonic", return_value=later):
        fresh = prosecutor.client.get(f"{url}/live", params={"since": version})
    assert fresh.status_code == 200 and "Waitlisted" in fresh.text


def test_an_unchanged_poll_decides_nothing_after_its_first_answer_even_from_another_worker(
    db, table, sign_in
):
    member = sign_in(user=table.world.users["defender"])
    page = f"/work-group/meetings/{table.meeting.id}"
    version = page_version(member.client.get(page).text)
    agenda_views._sent_agendas.clear()  # the page came from another worker
    assert member.client.get(f"{page}/live", params={"since": version}).status_code == 204
    refused = AssertionError("decided again")
    with mock.patch("hub.workgroup.agenda_views.item_shapes", side_effect=refused):
        again = member.client.get(f"{page}/live", params={"since": version})
    assert again.status_code == 204


def test_a_prosecutor_records_a_decision_from_an_item_bound_to_its_view(db, table, sign_in):
    world = table.world
    item = client_item(db, table, table.consented)
    assert item.matter_id is not None
    prosecutor = sign_in(user=world.users[table.prosecutor])
    prosecutor.client.get(f"/work-group/meetings/{table.meeting.id}")
    view = [
        r
        for r in item_reads(db, world.users[table.prosecutor].id)
        if detail_of(r)["item"] == str(item.id)
    ][-1]
    response = prosecutor.post(
        f"/work-group/items/{item.id}/decision",
        data={
            "outcome": "decline",
            "reason_codes": ["engaged-in-services"],
            "material_seq": view.seq,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    bound = db.exec(select(DecisionDisclosure)).all()
    db.commit()
    assert view.seq in {b.log_seq for b in bound}
    assert [b.log_seq for b in bound if b.material] == [view.seq]
    # Not a prosecutor's: refused at the door.
    other = sign_in(user=world.users["defender"])
    assert (
        other.post(f"/work-group/items/{item.id}/decision", data={"outcome": "file"}).status_code
        == 403
    )


def test_proposals_cover_flags_arrests_deadlines_and_clients_not_seen(db, world, factories):
    coordinator, actor = world.viewer("coordinator"), world.actor("coordinator")
    referral, _ = world.arrest()
    person = db.get(Person, referral.person_id)
    person.last_contact_on = date.today() - timedelta(days=90)
    person.program_status = ProgramStatus.active
    referral.intake_due_on = date.today() - timedelta(days=1)
    db.add_all([person, referral])
    db.commit()
    factories.ClientAssignment(person_id=person.id, user_id=world.users["case_manager"].id)
    record_new_arrest(
        db,
        world.viewer("officer"),
        person.id,
        ArrestDetails(
            ("VUCSA-possession",), utcnow() - timedelta(hours=2), "Pine St", "West", "OTN-NEW-1"
        ),
        world.actor("officer"),
        rules=world.rules,
    )
    at_the_table.flag_for_discussion(
        db,
        world.viewer("case_manager"),
        person.id,
        Category.housing,
        "Lost the shelter bed",
        world.actor("case_manager"),
    )
    with pytest.raises(WorkGroupError):
        at_the_table.flag_for_discussion(
            db,
            world.viewer("case_manager2"),
            person.id,
            Category.housing,
            "x",
            world.actor("case_manager2"),
        )
    meeting = schedule.create_meeting(
        db,
        coordinator,
        schedule.MeetingForm(
            "W", utcnow() + timedelta(days=1), "Room", None, [world.users["case_manager"].id]
        ),
        actor,
    )
    kinds = {
        p.kind
        for p in proposing.compute_proposals(db, meeting, date.today())
        if p.person_id == person.id
    }
    assert kinds == {
        AgendaItemKind.new_referral,
        AgendaItemKind.intake_deadline,
        AgendaItemKind.flagged,
        AgendaItemKind.not_seen,
        AgendaItemKind.new_arrest,
    }
    shown = proposing.show_proposals(db, coordinator, ident(meeting.id), actor, date.today())
    flagged = next(s for p, s in shown if p.kind == AgendaItemKind.flagged)
    # The coordinator may not see housing at the work group: the flag's note stays withheld.
    assert flagged.flags == () and flagged.log_seq is not None
    with pytest.raises(WorkGroupError):
        proposing.add_proposed_items(
            db, coordinator, ident(meeting.id), ["new_referral:999999:0:0:0:0"], actor, date.today()
        )
    assert agenda_items(db, ident(meeting.id)) == []


def test_a_miss_or_an_unseen_participant_is_proposed_once_not_at_every_meeting(db, world):
    """Issue 17, item 3: misses and absences older than the last meeting were heard of there;
    the draft proposes what happened since."""
    from hub.workgroup.rules import not_seen_days

    today = date(2026, 12, 1)
    last_meeting = datetime(2026, 11, 17, 18, 0, tzinfo=UTC)  # held, two weeks ago
    unseen = timedelta(days=not_seen_days(db))
    old_miss, _ = world.arrest()
    new_miss, _ = world.arrest()
    cases = [
        (old_miss, date(2026, 10, 1), today - unseen - timedelta(days=40)),  # before it
        (new_miss, date(2026, 11, 25), today - unseen - timedelta(days=3)),  # since
    ]
    for referral, due, last_seen in cases:
        referral.intake_due_on = due
        person = db.get(Person, referral.person_id)
        person.program_status = ProgramStatus.active
        person.last_contact_on = last_seen
        db.add_all([referral, person])
    coordinator = world.users["coordinator"].id
    db.add(
        WorkGroupMeeting(
            title="W", starts_at=last_meeting, status=MeetingStatus.held, created_by_id=coordinator
        )
    )
    meeting = WorkGroupMeeting(
        title="W", starts_at=datetime(2026, 12, 1, 18, 0, tzinfo=UTC), created_by_id=coordinator
    )
    db.add(meeting)
    db.commit()

    def proposed(kind):
        found = proposing.compute_proposals(db, meeting, today, rules=world.rules)
        return {p.person_id for p in found if p.kind == kind}

    assert {old_miss.person_id, new_miss.person_id} & proposed(AgendaItemKind.intake_deadline) == {
        new_miss.person_id
    }
    assert {old_miss.person_id, new_miss.person_id} & proposed(AgendaItemKind.not_seen) == {
        new_miss.person_id
    }
    # The first meeting of a site hears of every one of them.
    db.delete(db.exec(select(WorkGroupMeeting).where(WorkGroupMeeting.id != meeting.id)).one())
    db.commit()
    assert {old_miss.person_id, new_miss.person_id} <= proposed(AgendaItemKind.intake_deadline)
    assert {old_miss.person_id, new_miss.person_id} <= proposed(AgendaItemKind.not_seen)


def test_series_make_the_next_meeting_at_the_same_local_time(db, world):
    coordinator, actor = world.viewer("coordinator"), world.actor("coordinator")
    first = schedule.create_series(
        db,
        coordinator,
        schedule.MeetingForm(
            "LEAD",
            # Across the end of daylight saving time: still 10:00 in the program's zone.
            datetime(2030, 10, 29, 10, 0, tzinfo=world.rules.tz),
            None,
            "https://meet.example/x",
            [world.users["defender"].id],
        ),
        14,
        actor,
        now=datetime(2030, 10, 1, tzinfo=UTC),  # a meeting is set at most two years ahead
    )
    second = schedule.next_in_series(db, coordinator, ident(first.series_id), actor)
    assert second.series_id == first.series_id
    tz = world.rules.tz
    assert second.starts_at.astimezone(tz).time() == first.starts_at.astimezone(tz).time()
    assert second.starts_at.astimezone(tz).hour == 10
    assert (first.starts_at.hour, second.starts_at.hour) == (17, 18)  # PDT, then PST
    assert (
        second.starts_at.astimezone(tz).date() - first.starts_at.astimezone(tz).date()
    ).days == 14
    assert set(access.invitee_ids(db, ident(second.id))) == set(
        access.invitee_ids(db, ident(first.id))
    )
    assert second.series == "every other week"
    with pytest.raises(WorkGroupError):
        schedule.create_meeting(
            db,
            coordinator,
            schedule.MeetingForm("x", utcnow(), None, None, [world.users["defender"].id]),
            actor,
        )
    assert db.exec(select(WorkGroupMeeting.id)).all() == [first.id, second.id]


def test_the_live_poll_does_not_keep_an_idle_session_alive(db, table, sign_in):
    # An agenda left open polls every few seconds; that is the page's doing, not the person's,
    # so it must not hold off the 30-minute idle lock (CJIS AC-11).
    from hub.accounts.models import UserSession

    member = sign_in(user=table.world.users["defender"])
    url = f"/work-group/meetings/{table.meeting.id}/live"
    version = page_version(member.client.get(f"/work-group/meetings/{table.meeting.id}").text)
    session = db.exec(select(UserSession).where(UserSession.user_id == member.user.id)).one()
    session.last_seen_at = utcnow() - timedelta(minutes=10)
    db.add(session)
    db.commit()
    assert member.client.get(url, params={"since": version}).status_code == 204
    db.refresh(session)
    db.commit()
    assert utcnow() - session.last_seen_at > timedelta(minutes=9)
