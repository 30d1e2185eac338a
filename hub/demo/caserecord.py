"""The demo's contact log and status history as rows (issue 14), for `hub demo --scale N`: for
each client on a caseload, the contact that set their last contact and the status change that
put them where they stand. The demo at its own size keeps them through the services instead
(hub.demo.keeping); at scale, one service call per event would take an hour, so the same
records go in bulk. Each person has a random stream of its own, so the rest of the demo is
unchanged."""

import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

from hub.vocabulary import Category, ContactKind, ExitReason, PlaceKind, ProgramStatus

PLACES = (PlaceKind.street, PlaceKind.shelter, PlaceKind.office, PlaceKind.home)
CHANGED_STATUSES = frozenset(
    {
        ProgramStatus.active,
        ProgramStatus.not_engaged,
        ProgramStatus.exited,
        ProgramStatus.re_engaged,
    }
)
# Every so many clients not engaged came back: re-engaged (no time limit on services).
RE_ENGAGED_EVERY = 5


def re_engage(persons: Sequence[dict[str, Any]]) -> None:
    """Marks every RE_ENGAGED_EVERY-th client not engaged (of those ever seen) re-engaged, in
    place; draws no random numbers, so the rest of the demo is unchanged."""
    lost = [
        p
        for p in persons
        if p["program_status"] == ProgramStatus.not_engaged and p["last_contact_on"] is not None
    ]
    for person in lost[RE_ENGAGED_EVERY - 1 :: RE_ENGAGED_EVERY]:
        person["program_status"] = ProgramStatus.re_engaged


def demo_contact_rows(
    persons: Sequence[tuple[int, dict[str, Any], list[dict[str, Any]]]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(contact_entry rows, record_change rows) for (person_id, person row, assignments)."""
    contacts: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for person_id, person, assignments in persons:
        holders = [a["user_id"] for a in assignments if a["kind"] == "caseload"]
        if not holders:
            continue
        rng = random.Random(f"demo:contacts:{person_id}")
        last = person["last_contact_on"]
        if last is not None:
            contacts.append(
                {
                    "person_id": person_id,
                    "contact_on": last,
                    "kind": ContactKind.in_person,
                    "place_kind": rng.choice(PLACES),
                    "note": None,
                    "note_category": None,
                    "recorded_by_id": holders[0],
                    "recorded_at": datetime.combine(last, time(17, 0), UTC),
                }
            )
        status = person["program_status"]
        if status in CHANGED_STATUSES:
            previous = "not_engaged" if status == ProgramStatus.re_engaged else "enrolled"
            changed_at = person["status_changed_at"]
            saved = {
                "program_status": status.value,
                "exit_reason": ExitReason.goals_met.value
                if status == ProgramStatus.exited
                else None,
                "reason": "Recorded at the time of the change.",
                "effective_on": changed_at.date().isoformat(),
            }
            changes.append(
                {
                    "person_id": person_id,
                    "section": "status",
                    "category": Category.engagement,
                    "version": 1,
                    "changed_by_id": holders[0],
                    "changed_at": changed_at,
                    "previous": json.dumps({"program_status": previous}),
                    "saved": json.dumps(saved, sort_keys=True),
                    "previous_recorded_by_id": None,
                }
            )
    return contacts, changes
