"""The authorization matrix, as data: every role x category x purpose x consent (absent,
present, revoked, expired, 2.35) x relationship (present, absent), read through
disclose_record on clients built with the factories, on SQLite and PostgreSQL.

The expectation (tests/fixtures/policy_world.py, EXPECTED) is written independently of
policies/policy.csv: a change to the policy that changes who sees what must change that table
too.
"""

import pytest

from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.disclosure.record import disclose_record
from hub.disclosure.record_view import WithheldCategory
from hub.vocabulary import ENFORCEMENT_ROLES, Category, Purpose, Role, WithheldReason
from tests.fixtures.policy_world import C, World, expected_categories, world

__all__ = ["world"]  # the module's fixture, built once per backend


@pytest.mark.parametrize("role", list(Role))
def test_every_category_for_every_purpose(world: World, role: Role) -> None:
    viewer = world.viewers[role]
    mismatches = []
    for purpose in Purpose:
        for case in world.cases[role]:
            record = disclose_record(
                world.session, viewer, case.person_id, purpose, Actor(request_id="matrix")
            )
            want = expected_categories(role, purpose, case.related, case.consent)
            got = set(record.disclosed_categories)
            if got != want:
                mismatches.append(
                    f"{purpose} related={case.related} consent={case.consent}: "
                    f"got {sorted(got)} want {sorted(want)}"
                )
                continue
            for category in Category:
                section = record.section(category)
                assert isinstance(section, WithheldCategory) == (category not in want)
            # Notes follow their category; the Part 2 flag follows the treatment data.
            assert {n.category for n in record.notes} == want
            assert record.part2 == (C.treatment in want)
            if role == Role.admin:
                assert {w.reason for w in record.withheld} == {WithheldReason.admin}
            if role in ENFORCEMENT_ROLES:
                assert record.section(C.treatment).reason == WithheldReason.enforcement_rule
            entry = world.session.get(LogEntry, record.log_seq)
            assert entry is not None and set(entry.categories) == {c.value for c in want}
            assert entry.policy_version == record.policy_version
    assert not mismatches, "\n".join(mismatches)
