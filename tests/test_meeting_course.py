"""Issue 17, item 3, the meeting as a whole: proposals grouped by reason (within what the policy
lets the coordinator see), filtered and added by group; proposals dismissed with a reason and
undone; attendance and a recorder in the minutes and print; a check before closing a meeting
with items undiscussed or before its date; the series' next meeting offered once it is held."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlmodel import col, select

from hub.charging.matters import record_new_arrest
from hub.clients.models import Person
from hub.db import ident, utcnow
from hub.referrals.opening import ArrestDetails
from hub.vocabulary import (
    AgendaItemKind,
    Category,
    MeetingStatus,
    ProgramStatus,
    SecurityEventTag,
)
from hub.workgroup import at_the_table, proposing, schedule
from hub.workgroup.models import MeetingInvitee, ProposalDismissal, WorkGroupMeeting
from hub.workgroup.rules import WorkGroupError
from tests.audit_support import detail_of
from tests.fixtures.referrals import World
from tests.signing_in import logged
from tests.workgroup_support import (
    agenda_items,
    item_reads,
    last_seq,
    meeting_tomorrow,
    seat_the_table,
)

_GROUP = re.compile(r'<div class="proposal-group" data-group="(\w+)">')


@dataclass
class Draft:
    world: World
    meeting: WorkGroupMeeting
    person_id: int

    @property
    def url(self) -> str:
        return f"/work-group/meetings/{self.meeting.id}"


def _arrest(world: World, person_id: int, otn: str) -> None:
    record_new_arrest(
        world.db,
        world.viewer("officer"),
        person_id,
        ArrestDetails(("VUCSA-possession",), utcnow() - timedelta(hours=2), "Pine St", "West", otn),
        world.actor("officer"),
        rules=world.rules,
    )


@pytest.fixture
def draft(world, db, factories) -> Draft:
    """A draft whose proposals the coordinator sees in three groups: a new referral and a
    participant not seen (referral and engagement: shown), and a new arrest (legal) and a
    housing flag, whose reasons the policy withholds from the coordinator."""
    referral, _ = world.arrest()
    person = db.get(Person, referral.person_id)
    person.program_status = ProgramStatus.active
    person.last_contact_on = date.today() - timedelta(days=90)
    db.add(person)
    db.commit()
    factories.ClientAssignment(person_id=person.id, user_id=world.users["case_manager"].id)
    _arrest(world, person.id, "OTN-COURSE-1")
    at_the_table.flag_for_discussion(
        db,
        world.viewer("case_manager"),
        person.id,
        Category.housing,
        "Lost the shelter bed",
        world.actor("case_manager"),
    )
    meeting = meeting_tomorrow(world, [world.users["case_manager"].id])
    return Draft(world, meeting, person.id)


def proposal_groups(html: str) -> dict[str, str]:
    """Each group of proposals on the page, by its name, with its markup."""
    section = html.split('id="proposals"', 1)[1].split("</section>", 1)[0]
    parts = _GROUP.split(section)[1:]
    return {
        name: chunk.split('<div class="dismissed"', 1)[0]
        for name, chunk in zip(parts[::2], parts[1::2], strict=True)
    }


def tokens(chunk: str) -> list[str]:
    return re.findall(r'<li data-proposal="(\w+)"', chunk)


def proposal_reads(db, user_id: int, after: int) -> list:
    return [r for r in item_reads(db, user_id, after) if detail_of(r)["view"] == "proposal"]


# --- 1. groups, filter, add all -------------------------------------------------------------


def test_proposals_are_grouped_by_reason_and_a_withheld_reason_stays_in_other(draft, sign_in):
    world = draft.world
    page = sign_in(user=world.users["coordinator"]).client.get(draft.url)
    assert page.status_code == 200
    groups = proposal_groups(page.text)
    assert set(groups) == {"new_referral", "not_seen", "other"}
    assert 'New referral <span class="small">(1)</span>' in groups["new_referral"]
    assert 'Not seen recently <span class="small">(1)</span>' in groups["not_seen"]
    other = groups["other"]
    assert 'Other client items <span class="small">(2)</span>' in other
    assert len(tokens(other)) == 2 and "Add all 2" in other
    # Neither the arrest (legal) nor the flag (housing) tells its kind to the coordinator.
    section = page.text.split('id="proposals"', 1)[1].split("</section>", 1)[0]
    listed = "".join(groups.values())
    for word in ("new_arrest", "flagged", "New arrest", "Flagged for discussion"):
        assert word not in listed
    assert "new_arrest" not in section
    assert "Lost the shelter bed" not in page.text
    assert "data-kind=" not in other
    # Bulk add stays: every proposal a checkbox of the one form.
    assert section.count('name="proposal"') == 4 and section.count('name="token"') == 4
    # The checkboxes, each group's "Add all" and "Add the chosen items".
    assert section.count('form="add-proposals"') == 4 + 3 + 1


def test_the_filter_shows_one_group_and_discloses_only_it(draft, sign_in, db):
    world = draft.world
    coordinator = sign_in(user=world.users["coordinator"])
    user_id = world.users["coordinator"].id
    before = last_seq(db)
    page = coordinator.client.get(draft.url, params={"reason": "other"})
    assert page.status_code == 200
    groups = proposal_groups(page.text)
    assert set(groups) == {"other"}
    # The other groups are counted in the filter, not shown, not disclosed.
    assert "New referral (1)" in page.text and "Not seen recently (1)" in page.text
    assert len(proposal_reads(db, user_id, before)) == 2
    # A reason the coordinator may not see is not counted: the arrest stays in "other".
    before = last_seq(db)
    page = coordinator.client.get(draft.url, params={"reason": "new_arrest"})
    assert page.status_code == 200 and "No proposals for this reason." in page.text
    assert proposal_reads(db, user_id, before) == []
    # A value outside the closed set: a clear 422, nothing disclosed or logged, not echoed.
    before = last_seq(db)
    bad = coordinator.client.get(draft.url, params={"reason": "Ramirez"})
    assert bad.status_code == 422 and "reason" in bad.text
    assert "Ramirez" not in bad.text
    assert last_seq(db) == before


def test_add_all_of_a_group_and_the_chosen_ones_by_checkbox(draft, sign_in, db):
    world = draft.world
    coordinator = sign_in(user=world.users["coordinator"])
    response = coordinator.post(
        f"{draft.url}/items", data={"group": "other"}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    added = agenda_items(db, draft.meeting.id)
    assert {i.kind for i in added} == {AgendaItemKind.new_arrest, AgendaItemKind.flagged}
    groups = proposal_groups(coordinator.client.get(draft.url).text)
    assert set(groups) == {"new_referral", "not_seen"}
    chosen = tokens(groups["new_referral"]) + tokens(groups["not_seen"])
    response = coordinator.post(
        f"{draft.url}/items", data={"proposal": chosen}, follow_redirects=False
    )
    assert response.status_code == 303
    assert len(agenda_items(db, draft.meeting.id)) == 4
    # A group with nothing left, or none of the closed set: refused, nothing added.
    assert coordinator.post(f"{draft.url}/items", data={"group": "other"}).status_code == 400
    assert coordinator.post(f"{draft.url}/items", data={"group": "arrests"}).status_code == 422
    assert len(agenda_items(db, draft.meeting.id)) == 4


# --- 2. dismissals --------------------------------------------------------------------------


def test_a_dismissed_proposal_is_logged_by_token_and_not_proposed_again(draft, sign_in, db):
    world = draft.world
    coordinator = sign_in(user=world.users["coordinator"])
    (token,) = tokens(proposal_groups(coordinator.client.get(draft.url).text)["not_seen"])
    note = "Seen at the drop-in; outreach has it"
    # Bad input: a reason outside the list, or a proposal not on it; nothing stored.
    assert (
        coordinator.post(
            f"{draft.url}/dismissals", data={"token": token, "reason": "bored"}
        ).status_code
        == 400
    )
    assert (
        coordinator.post(
            f"{draft.url}/dismissals", data={"token": "f" * 32, "reason": "already_handled"}
        ).status_code
        == 400
    )
    assert db.exec(select(ProposalDismissal)).all() == []
    db.commit()
    response = coordinator.post(
        f"{draft.url}/dismissals",
        data={"token": token, "reason": "already_handled", "note": note},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    (dismissal,) = db.exec(select(ProposalDismissal)).all()
    db.commit()
    assert dismissal.note == note and dismissal.meeting_id == draft.meeting.id
    (event,) = logged(db, SecurityEventTag.proposal_dismissed, meeting_id=draft.meeting.id)
    assert event.detail == {
        "meeting_id": draft.meeting.id,
        "dismissal_id": dismissal.id,
        "proposal": token,
        "reason": "already_handled",
    }
    assert event.person_id is None and event.categories == []
    # The draft counts it and lists it on request, with undo.
    page = coordinator.client.get(draft.url).text
    assert "not_seen" not in proposal_groups(page)
    assert 'Dismissed <span class="small">(1)</span>' in page and "Show dismissed" in page
    assert note not in page
    listed = coordinator.client.get(draft.url, params={"dismissed": "true"}).text
    assert f'data-dismissal="{dismissal.id}"' in listed
    assert "Already handled" in listed and note in listed and "Undo" in listed
    # Not proposed again, nor can it be added by its token.
    again = proposing.compute_proposals(db, draft.meeting, date.today())
    assert AgendaItemKind.not_seen not in {p.kind for p in again}
    with pytest.raises(WorkGroupError):
        proposing.add_proposed_items(
            db,
            world.viewer("coordinator"),
            draft.meeting.id,
            [token],
            world.actor("coordinator"),
            date.today(),
        )


def test_a_new_absence_or_a_new_arrest_is_proposed_again(draft, db):
    world = draft.world
    coordinator, actor = world.viewer("coordinator"), world.actor("coordinator")
    found = proposing.compute_proposals(db, draft.meeting, date.today())
    for kind in (AgendaItemKind.not_seen, AgendaItemKind.new_arrest):
        proposal = next(p for p in found if p.kind == kind)
        proposing.dismiss_proposal(
            db,
            coordinator,
            draft.meeting.id,
            proposal.key,
            "discussed_elsewhere",
            None,
            actor,
            date.today(),
        )
    kinds = {p.kind for p in proposing.compute_proposals(db, draft.meeting, date.today())}
    assert kinds == {AgendaItemKind.new_referral, AgendaItemKind.flagged}
    # Seen since, then unseen again: a new absence. Arrested again: a new matter.
    person = db.get(Person, draft.person_id)
    person.last_contact_on = date.today() - timedelta(days=45)
    db.add(person)
    db.commit()
    _arrest(world, draft.person_id, "OTN-COURSE-2")
    proposed = [p.kind for p in proposing.compute_proposals(db, draft.meeting, date.today())]
    assert sorted(proposed) == sorted(
        [
            AgendaItemKind.new_referral,
            AgendaItemKind.flagged,
            AgendaItemKind.not_seen,
            AgendaItemKind.new_arrest,
        ]
    )


def test_undoing_a_dismissal_brings_the_proposal_back(draft, sign_in, db):
    world = draft.world
    proposal = next(
        p
        for p in proposing.compute_proposals(db, draft.meeting, date.today())
        if p.kind == AgendaItemKind.new_referral
    )
    dismissal = proposing.dismiss_proposal(
        db,
        world.viewer("coordinator"),
        draft.meeting.id,
        proposal.token,
        "not_for_this_group",
        "",
        world.actor("coordinator"),
        date.today(),
    )
    coordinator = sign_in(user=world.users["coordinator"])
    response = coordinator.post(
        f"/work-group/dismissals/{dismissal.id}/undo",
        data={"meeting_id": draft.meeting.id},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "new_referral" in proposal_groups(coordinator.client.get(draft.url).text)
    assert logged(db, SecurityEventTag.proposal_restored, dismissal_id=dismissal.id)
    # Undone once; a member may not undo at all.
    again = coordinator.post(
        f"/work-group/dismissals/{dismissal.id}/undo", data={"meeting_id": draft.meeting.id}
    )
    assert again.status_code == 400
    member = sign_in(user=world.users["case_manager"])
    assert member.post(f"/work-group/dismissals/{dismissal.id}/undo").status_code == 403


# --- 3. attendance and the recorder ---------------------------------------------------------


@pytest.fixture
def table(world):
    return seat_the_table(world)


def test_attendance_and_the_recorder_are_in_the_minutes_and_the_print(table, sign_in, db):
    world = table.world
    url = f"/work-group/meetings/{table.meeting.id}"
    came = [world.users[n] for n in ("coordinator", "case_manager", "defender")]
    recorder = world.users["case_manager"]
    coordinator = sign_in(user=world.users["coordinator"])
    page = coordinator.client.get(url).text
    assert "Attendance not recorded yet." in page and 'name="attended"' in page
    response = coordinator.post(
        f"{url}/attendance",
        data={"attended": [u.id for u in came], "recorder_id": recorder.id},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    (event,) = logged(db, SecurityEventTag.attendance_recorded, meeting_id=table.meeting.id)
    assert detail_of(event)["attended"] == sorted(u.id for u in came)
    assert detail_of(event)["recorder_id"] == recorder.id
    attended = ", ".join(sorted(u.display_name for u in came))
    printed = sign_in(user=world.users["defender"]).client.get(f"{url}/print").text
    assert f"Attended: {attended}." in printed
    assert f"Recorder: {recorder.display_name}." in printed
    assert world.users["officer"].display_name in printed.split("Absent:", 1)[1]
    schedule.mark_held(
        db,
        world.viewer("coordinator"),
        table.meeting.id,
        world.actor("coordinator"),
        confirmed=True,
    )
    minutes = sign_in(user=world.users[table.prosecutor]).client.get(f"{url}/minutes").text
    assert f"Attended: {attended}." in minutes
    assert f"Recorder: {recorder.display_name}." in minutes
    assert 'name="attended"' not in minutes  # recorded on the meeting page only


def test_attendance_of_someone_not_invited_or_a_recorder_who_was_absent_is_refused(
    table, sign_in, db
):
    world = table.world
    url = f"/work-group/meetings/{table.meeting.id}/attendance"
    coordinator = sign_in(user=world.users["coordinator"])
    outsider = world.users["other_case_manager"].id
    member = world.users["case_manager"].id
    refused = coordinator.post(url, data={"attended": [member, outsider]})
    assert refused.status_code == 400 and "invited members only" in refused.text
    refused = coordinator.post(
        url, data={"attended": [member], "recorder_id": world.users["defender"].id}
    )
    assert refused.status_code == 400 and "attended" in refused.text
    rows = db.exec(
        select(MeetingInvitee.attended).where(MeetingInvitee.meeting_id == table.meeting.id)
    ).all()
    db.commit()
    assert set(rows) == {None}
    assert logged(db, SecurityEventTag.attendance_recorded) == []
    assert (
        sign_in(user=world.users["defender"]).post(url, data={"attended": [member]}).status_code
        == 403
    )


# --- 4. the check before closing; the next meeting ------------------------------------------


def test_closing_early_or_with_items_undiscussed_asks_first_and_changes_nothing(table, sign_in, db):
    world = table.world
    url = f"/work-group/meetings/{table.meeting.id}"
    items = agenda_items(db, table.meeting.id)
    at_the_table.mark_discussed(
        db, world.viewer("coordinator"), ident(items[0].id), world.actor("coordinator")
    )
    undiscussed = len(items) - 1
    phrase = "1 item is" if undiscussed == 1 else f"{undiscussed} items are"
    coordinator = sign_in(user=world.users["coordinator"])
    asked = coordinator.post(f"{url}/held", follow_redirects=False)
    assert asked.status_code == 200
    assert f"{phrase} not marked discussed." in asked.text
    assert "The meeting's date has not come" in asked.text
    assert "Close anyway" in asked.text and f'href="{url}">Go back' in asked.text
    fragment = coordinator.post(f"{url}/held", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and 'id="close-check"' in fragment.text
    assert "<html" not in fragment.text
    db.refresh(table.meeting)
    db.commit()
    assert table.meeting.status == MeetingStatus.published
    assert logged(db, SecurityEventTag.meeting_held) == []
    closed = coordinator.post(f"{url}/held", data={"confirm": "true"}, follow_redirects=False)
    assert closed.status_code == 303
    db.refresh(table.meeting)
    db.commit()
    assert table.meeting.status == MeetingStatus.held
    (event,) = logged(db, SecurityEventTag.meeting_held, meeting_id=table.meeting.id)
    assert (
        detail_of(event)["undiscussed"] == undiscussed and detail_of(event)["before_start"] is True
    )


def test_a_meeting_under_way_with_every_item_discussed_closes_at_once(table, db):
    world = table.world
    coordinator, actor = world.viewer("coordinator"), world.actor("coordinator")
    for item in agenda_items(db, table.meeting.id):
        at_the_table.mark_discussed(db, coordinator, ident(item.id), actor)
    before = table.meeting.starts_at - timedelta(minutes=5)
    with pytest.raises(schedule.CloseNotConfirmed) as early:
        schedule.mark_held(db, coordinator, table.meeting.id, actor, now=before)
    assert early.value.check.undiscussed == 0 and early.value.check.not_started
    during = table.meeting.starts_at + timedelta(hours=1)
    schedule.mark_held(db, coordinator, table.meeting.id, actor, now=during)
    db.refresh(table.meeting)
    assert table.meeting.status == MeetingStatus.held and table.meeting.held_at == during


def test_a_held_meeting_of_a_series_offers_the_next_one(world, sign_in, db):
    coordinator, actor = world.viewer("coordinator"), world.actor("coordinator")
    meeting = schedule.create_series(
        db,
        coordinator,
        schedule.MeetingForm(
            "LEAD", utcnow() + timedelta(days=1), "Room B", None, [world.users["defender"].id]
        ),
        14,
        actor,
    )
    one_off = schedule.create_meeting(
        db,
        coordinator,
        schedule.MeetingForm(
            "Once", utcnow() + timedelta(days=2), "Room C", None, [world.users["defender"].id]
        ),
        actor,
    )
    for m in (meeting, one_off):
        schedule.publish(db, coordinator, ident(m.id), actor)
        schedule.mark_held(db, coordinator, ident(m.id), actor, confirmed=True)
    page = sign_in(user=world.users["coordinator"])
    url = f"/work-group/meetings/{meeting.id}"
    html = page.client.get(url).text
    assert f'action="/work-group/series/{meeting.series_id}/next"' in html
    assert (
        "Create the next meeting" not in page.client.get(f"/work-group/meetings/{one_off.id}").text
    )
    created = page.post(f"/work-group/series/{meeting.series_id}/next", follow_redirects=False)
    assert created.status_code == 303
    following = db.exec(
        select(WorkGroupMeeting)
        .where(WorkGroupMeeting.series_id == meeting.series_id)
        .order_by(col(WorkGroupMeeting.starts_at).desc())
    ).first()
    db.commit()
    assert following is not None and following.id != meeting.id
    html = page.client.get(url).text
    assert "Create the next meeting" not in html
    assert f'href="/work-group/meetings/{following.id}"' in html
    # Members see none of it.
    member = sign_in(user=world.users["defender"])
    assert "Create the next meeting" not in member.client.get(url).text
