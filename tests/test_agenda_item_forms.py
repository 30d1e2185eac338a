"""An agenda item's forms as members meet them (issue 17, item 3): folded until asked for,
nothing chosen for the member (no assignee, no outcome), the reasons of the chosen outcome only
and under their labels, an item titled by why it is on the agenda and whom it is about where
the policy shows who, and a client with two items shown once."""

import re

import pytest

from hub.db import ident
from hub.workgroup import agenda_edits, schedule
from tests.fixtures.markup import first_group
from tests.workgroup_support import agenda_items, seat_the_table


@pytest.fixture
def table(world):
    return seat_the_table(world)


def item_markup(html: str) -> dict[int, str]:
    parts = html.split('<li id="item-')[1:]
    return {int(p.split('"', 1)[0]): p.split("</li>\n", 1)[0] for p in parts}


def test_the_forms_are_folded_and_choose_nothing_for_the_coordinator(table, sign_in):
    world = table.world
    page = sign_in(user=world.users["coordinator"]).client.get(
        f"/work-group/meetings/{table.meeting.id}"
    )
    assert page.status_code == 200
    items = item_markup(page.text)
    assert items
    for item_id, chunk in items.items():
        # Each form sits in a closed <details>: the agenda reads as a list until one is opened.
        for summary in ("Add a discussion note", "Add an action item"):
            assert re.search(
                rf'<details id="[a-z]+-details-{item_id}" hx-preserve="true">'
                rf"<summary>{summary}</summary>",
                chunk,
            ), summary
        assert "<details open" not in chunk
        assignee = first_group(r'name="assignee_id" required>(.*?)</select>', chunk, re.S)
        assert assignee.lstrip().startswith('<option value="">choose a member</option>')
        assert " selected" not in assignee


def test_the_prosecutor_chooses_the_outcome_and_sees_only_its_reasons(table, sign_in):
    world = table.world
    prosecutor = sign_in(user=world.users[table.prosecutor])
    page = prosecutor.client.get(f"/work-group/meetings/{table.meeting.id}").text
    decided = {i: c for i, c in item_markup(page).items() if "decision-form" in c}
    assert decided, "the prosecutor's office's matters carry a decision form"
    item_id, chunk = next(iter(decided.items()))
    outcomes = first_group(r"<legend>Charging decision</legend>(.*?)</fieldset>", chunk, re.S)
    assert 'type="radio"' in outcomes and " checked" not in outcomes
    assert f'<fieldset id="reasons-item-{item_id}">' in chunk
    assert "Choose a decision first" in chunk
    # The bound disclosure travels with the form from outside the preserved part.
    assert 'name="material_seq" value="' in chunk and f'form="decision-{item_id}"' in chunk
    reasons = prosecutor.client.get(
        f"/charging/reasons?outcome=decline&item={item_id}", headers={"HX-Request": "true"}
    ).text
    assert f'<fieldset id="reasons-item-{item_id}">' in reasons
    assert 'value="engaged-in-services"' in reasons and 'value="harm-to-victim"' not in reasons
    assert 'class="check"' in reasons  # each box beside its label, not above it


def test_items_are_titled_by_why_and_whom_and_a_second_item_shows_no_second_record(
    world, sign_in, db
):
    table = seat_the_table(world, publish=False)
    coordinator, actor = world.viewer("coordinator"), world.actor("coordinator")
    first = next(
        i for i in agenda_items(db, ident(table.meeting.id)) if i.person_id == table.consented
    )
    # A second item on the same client, added by hand.
    second = agenda_edits.add_manual_item(
        db,
        coordinator,
        ident(table.meeting.id),
        actor,
        person_id=table.consented,
        category="housing",
        text="Voucher interview moved",
    )
    schedule.publish(db, coordinator, ident(table.meeting.id), actor)
    page = sign_in(user=world.users["case_manager"]).client.get(
        f"/work-group/meetings/{table.meeting.id}"
    )
    items = item_markup(page.text)
    # "New referral · <name>": the case manager may see who the client is.
    title = first_group(r"<h3>(.*?)</h3>", items[ident(first.id)], re.S)
    name = first_group(
        r'data-category="identity" data-state="disclosed">identity</dt>\s*<dd>([^,<]+)',
        items[ident(first.id)],
    ).strip()
    assert title.endswith(f"· {name}")
    assert 'class="record"' in items[ident(first.id)]
    assert 'class="record"' not in items[ident(second.id)]
    assert f'href="#item-{first.id}"' in items[ident(second.id)]
