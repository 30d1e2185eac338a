"""A work-group meeting end to end in a real browser, every member signed in through the real
forms: the coordinator builds the agenda from proposals and publishes it; a case manager adds a
housing update; the prosecutor reads the agenda (no treatment data; the housing update only on
the client whose consent names the prosecutor's office), records a decline from an item and
sees the coordinator's note appear without reloading; the minutes are approved and an open
action item is on the next agenda."""

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from hub.db import get_engine, ident, utcnow
from hub.vocabulary import AgendaItemKind, Category, ItemEntryKind, MeetingStatus
from hub.workgroup import at_the_table, schedule
from hub.workgroup.models import WorkGroupMeeting
from tests.fixtures.browser import WIDTHS, phone_problems, sign_in
from tests.workgroup_support import MEMBERS, agenda_items, seat_the_table

pytestmark = pytest.mark.browser


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")


def test_a_work_group_meeting_end_to_end(page, live_server, world, browser_log, database_url):
    # Both widths people hold the meeting at, one per database: a laptop on SQLite, a phone
    # (390 px, where nothing may scroll sideways at any step) on PostgreSQL.
    phone = not database_url.startswith("sqlite")
    page.set_viewport_size(WIDTHS["phone" if phone else "desktop"])
    fits: list[str] = []

    def check_fit(step: str) -> None:
        if phone:
            fits.extend(f"{step}: {problem}" for problem in phone_problems(page))

    db = world.db
    table = seat_the_table(world, publish=False)
    # The meeting is part of a fortnightly series, so the next one is a click away.
    meeting = schedule.create_series(
        db,
        world.viewer("coordinator"),
        schedule.MeetingForm(
            "LEAD work group",
            utcnow() + timedelta(days=1),
            "Room B",
            None,
            [world.users[n].id for n in (*MEMBERS, table.prosecutor)],
        ),
        14,
        world.actor("coordinator"),
    )
    db.commit()
    url = f"/work-group/meetings/{meeting.id}"
    coordinator = world.users["coordinator"]

    # The coordinator builds the agenda from the proposals and publishes it.
    sign_in(page, coordinator)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Work group").click()
    page.get_by_role("link", name="LEAD work group").click()
    page.wait_for_url(f"**{url}")
    proposals = page.locator('input[name="proposal"]')
    check_fit("proposals")
    assert proposals.count() >= 2
    for n in range(proposals.count()):
        proposals.nth(n).check()
    page.get_by_role("button", name="Add the chosen items").click()
    page.wait_for_url(f"**{url}")
    page.get_by_role("button", name="Publish the agenda and notify members").click()
    page.wait_for_url(f"**{url}")
    assert page.locator("#agenda-live").get_attribute("data-status") == "published"
    check_fit("published agenda")
    agenda = agenda_items(db, ident(meeting.id))
    consented = next(i for i in agenda if i.person_id == table.consented)
    other = next(i for i in agenda if i.person_id == table.other)
    sign_out(page)

    # A case manager adds a housing update on each client.
    sign_in(page, world.users["case_manager"])
    page.goto(url)
    for item, words in ((consented, "Moved into transitional housing"), (other, "Waitlisted")):
        page.locator(f"#item-{item.id}").get_by_text("Add an update").click()
        form = page.locator(f"#item-{item.id} form.update-form")
        form.locator("select[name=category]").select_option("housing")
        form.locator("textarea[name=body]").fill(words)
        check_fit("an update being written")
        form.get_by_role("button", name="Add update").click()
        page.wait_for_url(f"**{url}*")
    sign_out(page)

    # The prosecutor reads the agenda through their own rights, and declines from an item.
    sign_in(page, world.users[table.prosecutor])
    page.goto(url)
    assert page.locator('[data-category="treatment"][data-state="disclosed"]').count() == 0
    assert page.locator('[data-category="health"][data-state="disclosed"]').count() == 0
    mine = page.locator(f"#item-{consented.id}")
    theirs = page.locator(f"#item-{other.id}")
    assert "Moved into transitional housing" in mine.inner_text()
    assert mine.locator('[data-category="housing"][data-state="disclosed"]').count() == 1
    assert "Waitlisted" not in page.content()
    assert theirs.locator('[data-category="housing"][data-state="withheld"]').count() == 1
    assert "42 CFR part 2" not in page.content()  # no treatment data, no notice
    # The decision form is folded, chooses no outcome, and offers the chosen one's reasons.
    mine.get_by_text("Record a charging decision").click()
    decision = mine.locator("form.decision-form")
    assert decision.locator("input[name=outcome]:checked").count() == 0
    decision.locator('input[name=outcome][value="decline"]').check()
    decision.locator('input[value="engaged-in-services"]').check()
    check_fit("a decision being recorded")
    assert decision.locator('input[value="harm-to-victim"]').count() == 0
    decision.get_by_role("button", name="Record decision").click()
    page.wait_for_url(f"**{url}*")
    assert "decision: decline" in page.locator(f"#item-{consented.id}").inner_text()

    # While the page stays open, the coordinator's note appears without a reload: only that
    # item is sent again, and an update the prosecutor is typing in it stays open and kept.
    mine.get_by_text("Add an update").click()
    mine.locator("form.update-form textarea[name=body]").fill("Typing while the group talks")
    with Session(get_engine(), expire_on_commit=False) as coordinator_desk:
        at_the_table.add_entry(
            coordinator_desk,
            world.viewer("coordinator"),
            ident(consented.id),
            ItemEntryKind.note,
            Category.legal,
            "Decline noted by the group",
            world.actor("coordinator"),
        )
    page.wait_for_selector(f"#item-{consented.id} >> text=Decline noted by the group")
    typed = mine.locator("form.update-form textarea[name=body]")
    assert typed.is_visible() and typed.input_value() == "Typing while the group talks"
    sign_out(page)

    # The coordinator agrees an action item, records attendance, closes the meeting,
    # approves the minutes, and the open action item is on the next agenda.
    sign_in(page, coordinator, steps_ahead=1)
    page.goto(url)
    page.locator(f"#item-{consented.id}").get_by_text("Add an action item").click()
    action = page.locator(f"#item-{consented.id} form.action-form")
    action.locator("input[name=description]").fill("Check the voucher date")
    check_fit("an action item being agreed")
    action.locator("select[name=category]").select_option("plan")
    action.locator("select[name=assignee_id]").select_option(str(world.users["case_manager"].id))
    action.get_by_role("button", name="Add action item").click()
    page.wait_for_url(f"**{url}*")
    # Attendance and the recorder, then closing: the meeting's date has not come and items
    # are undiscussed, so the hub asks first.
    page.get_by_text("Record attendance and the recorder").click()
    attendance = page.locator("#attendance form")
    for name in ("coordinator", "case_manager", table.prosecutor):
        attendance.locator(f'input[name=attended][value="{world.users[name].id}"]').check()
    attendance.locator("select[name=recorder_id]").select_option(
        str(world.users["case_manager"].id)
    )
    attendance.get_by_role("button", name="Save attendance").click()
    page.wait_for_url(f"**{url}*")
    recorder = world.users["case_manager"].display_name
    assert f"Recorder: {recorder}." in page.locator("#attendance").inner_text()
    page.get_by_role("button", name="Close the meeting (held)").click()
    page.wait_for_url(f"**{url}/held")
    assert "not marked discussed" in page.locator("#close-check").inner_text()
    check_fit("the check before closing")
    page.get_by_role("button", name="Close anyway").click()
    page.wait_for_url(f"**{url}")
    page.get_by_role("link", name="Minutes").first.click()
    page.wait_for_url(f"**{url}/minutes")
    page.get_by_role("button", name="Approve the minutes").click()
    page.wait_for_url(f"**{url}/minutes")
    assert "Approved" in page.content()
    assert f"Recorder: {recorder}." in page.content()
    check_fit("approved minutes")
    page.goto(url)
    page.get_by_role("button", name="Create the next meeting").click()
    page.wait_for_url("**/work-group/meetings/*")
    assert "Check the voucher date" in page.content()
    check_fit("the next meeting")
    assert page.locator(f'[data-kind="{AgendaItemKind.action_item.value}"]').count() == 1

    db.expire_all()
    meetings = list(db.exec(select(WorkGroupMeeting).order_by(col(WorkGroupMeeting.id))))
    db.commit()
    assert meetings[-2].status == MeetingStatus.minutes_approved
    assert fits == []
    assert browser_log.errors == []
    assert browser_log.blocked == []
