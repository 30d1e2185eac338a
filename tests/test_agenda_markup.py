"""The work-group agenda's markup says nothing the policy withheld (issue 12, item 7): no
attribute, id, class or counter tells a member why a client is on the agenda, who the client
is, or that someone wrote what they may not read; and only a member who may see a client
writes about them."""

from datetime import date

import pytest
from sqlmodel import func, select

from hub.db import ident
from hub.vocabulary import Category, SecurityEventTag
from hub.workgroup import proposing
from hub.workgroup.models import ItemEntry, MeetingInvitee
from tests.signing_in import logged
from tests.workgroup_support import (
    agenda_items,
    coordinator_note,
    item_reads,
    last_seq,
    meeting_tomorrow,
    page_version,
    seat_the_table,
)


@pytest.fixture
def table(world):
    table = seat_the_table(world)
    # officer2 is invited too: they referred neither client, so may see neither.
    world.db.add(
        MeetingInvitee(meeting_id=ident(table.meeting.id), user_id=world.users["officer2"].id)
    )
    world.db.commit()
    return table


def _item_markup(html):
    """Each agenda item's opening tag and its whole markup, by item id."""
    parts = html.split('<li id="item-')[1:]
    return {int(p.split('"', 1)[0]): p.split("</li>", 1)[0] for p in parts}


def test_a_member_denied_the_client_finds_nothing_of_them_in_the_markup(table, sign_in, db):
    world = table.world
    items = agenda_items(db, table.meeting.id)
    client_items = {i.id: i for i in items if i.person_id is not None}
    assert client_items
    page = sign_in(user=world.users["officer2"]).client.get(
        f"/work-group/meetings/{table.meeting.id}"
    )
    assert page.status_code == 200
    markup = _item_markup(page.text)
    for item_id, item in client_items.items():
        chunk = markup[item_id]
        assert "Client item" in chunk
        assert "data-kind=" not in chunk.split(">", 1)[0], item.kind
        assert "data-person=" not in chunk
        assert item.kind.value not in chunk


def test_proposals_carry_an_opaque_key(world, sign_in, db):
    # A fresh draft: the coordinator is proposed the new referral, whose key names its
    # charging matter; the coordinator does not see legal data at the work group.
    world.arrest()
    meeting = meeting_tomorrow(world, [world.users["officer"].id])
    page = sign_in(user=world.users["coordinator"]).client.get(f"/work-group/meetings/{meeting.id}")
    assert page.status_code == 200 and 'name="proposal"' in page.text
    proposals = page.text.split('id="proposals"')[1].split("</section>")[0]
    # A key names the kind, the client and the matter (an arrest is legal data).
    keys = [p.key for p in proposing.compute_proposals(db, meeting, date.today())]
    db.commit()
    assert keys and not [k for k in keys if k in page.text]
    # The opaque key still adds the item.
    token = proposals.split('name="proposal" value="')[1].split('"')[0]
    added = proposing.add_proposed_items(
        db,
        world.viewer("coordinator"),
        ident(meeting.id),
        [token],
        world.actor("coordinator"),
        date.today(),
    )
    assert len(added) == 1


def test_the_live_version_rises_only_for_what_this_member_receives(table, sign_in, db):
    world = table.world
    officer = sign_in(user=world.users["officer"])
    url = f"/work-group/meetings/{table.meeting.id}"
    version = page_version(officer.client.get(url).text)
    item = next(i for i in agenda_items(db, table.meeting.id) if i.person_id is not None)
    before = last_seq(db)
    # A note in a category the officer may not see: their agenda has not changed.
    coordinator_note(world, ident(item.id), Category.legal, "Plea offer withdrawn")
    quiet = officer.client.get(f"{url}/live", params={"since": version})
    assert quiet.status_code == 204 and quiet.text == ""
    assert item_reads(db, world.users["officer"].id, before) == []  # nothing disclosed
    # A note they may see: the fragment comes, with a new version.
    coordinator_note(world, ident(item.id), Category.referral, "Came in with outreach")
    fresh = officer.client.get(f"{url}/live", params={"since": version})
    assert fresh.status_code == 200 and "Came in with outreach" in fresh.text
    assert "Plea offer withdrawn" not in fresh.text
    assert page_version(fresh.text) != version


def test_an_update_about_a_client_the_writer_cannot_see_is_refused_and_logged(table, sign_in, db):
    world = table.world
    item = next(i for i in agenda_items(db, table.meeting.id) if i.person_id is not None)
    entries = db.exec(select(func.count()).select_from(ItemEntry)).one()
    db.commit()
    officer2 = sign_in(user=world.users["officer2"])
    response = officer2.post(
        f"/work-group/items/{item.id}/entries",
        data={"kind": "update", "category": "engagement", "body": "Saw them downtown."},
    )
    assert response.status_code == 400 and "clients you can see" in response.text
    assert db.exec(select(func.count()).select_from(ItemEntry)).one() == entries
    db.commit()
    (refusal,) = logged(db, SecurityEventTag.access_denied, item_id=item.id)
    assert refusal.actor_user_id == world.users["officer2"].id
    assert "downtown" not in str(refusal.detail)
