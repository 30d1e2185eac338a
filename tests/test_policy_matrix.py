"""The authorization matrix, as data: every role x category x purpose x consent (absent,
present, revoked, expired, 2.35) x relationship (present, absent), read through
disclose_record on clients built with the factories, on SQLite and PostgreSQL.

The expectation below is written independently of policies/policy.csv: a change to the policy
that changes who sees what must change this table too.
"""

import datetime as dt
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from hub.accounts.sessions import Viewer, viewer_for
from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.db import engine_for, utcnow
from hub.disclosure.models import BreakGlass
from hub.disclosure.record import WithheldCategory, disclose_record
from hub.vocabulary import (
    ENFORCEMENT_ROLES,
    AgencyKind,
    AssignmentKind,
    Category,
    ConsentKind,
    Purpose,
    Role,
    WithheldReason,
)
from tests import factories as factory_module
from tests.conftest import BACKENDS

C = Category
P = Purpose
EVERY = frozenset(Category)
WORK_GROUP_VIEW = {C.identity: "-", C.referral: "-", C.legal: "-", C.engagement: "-", C.plan: "-"}

# role -> purpose -> ("related" grants, "everyone" grants); a grant is category -> condition:
# "-" nothing more, "consent" a consent naming the viewer's agency (or kind), "2.35" a 42 CFR
# 2.35 consent, "glass" an open break-glass (the privacy officer's "relationship").
Grants = dict[Category, str]
EXPECTED: dict[Role, dict[Purpose, tuple[Grants, Grants]]] = {
    Role.officer: {
        P.referral: ({C.identity: "-", C.referral: "-", C.legal: "-", C.engagement: "-"}, {}),
        P.work_group: ({C.identity: "-", C.referral: "-", C.engagement: "-"}, {}),
    },
    Role.sergeant: {
        P.referral: ({C.identity: "-", C.referral: "-", C.legal: "-", C.engagement: "-"}, {}),
        P.work_group: ({C.identity: "-", C.referral: "-", C.engagement: "-"}, {}),
    },
    Role.case_manager: {
        P.case_management: ({c: "-" for c in C}, {C.identity: "-", C.engagement: "-"}),
        P.work_group: (WORK_GROUP_VIEW, {}),
    },
    Role.case_manager_supervisor: {
        P.case_management: ({c: "-" for c in C}, {C.identity: "-", C.engagement: "-"}),
        P.work_group: (WORK_GROUP_VIEW, {}),
        P.research: ({}, {C.demographics: "-", C.referral: "-"}),
    },
    Role.prosecutor: {
        P.charging_decision: (
            {
                C.identity: "-",
                C.referral: "-",
                C.legal: "-",
                C.engagement: "2.35",
                C.plan: "consent",
                C.housing: "consent",
            },
            {},
        ),
        P.work_group: (
            {
                C.identity: "-",
                C.referral: "-",
                C.legal: "-",
                C.engagement: "2.35",
                C.housing: "consent",
            },
            {},
        ),
    },
    Role.defender: {
        P.defense: (
            {C.plan: "consent", C.housing: "consent", C.health: "consent", C.treatment: "consent"},
            {C.identity: "-", C.referral: "-", C.legal: "-", C.engagement: "-"},
        ),
        P.work_group: ({}, {C.identity: "-", C.referral: "-", C.legal: "-", C.engagement: "-"}),
    },
    Role.coordinator: {
        P.oversight: (
            {},
            {C.identity: "-", C.demographics: "-", C.referral: "-", C.engagement: "-", C.plan: "-"},
        ),
        P.work_group: ({}, {C.identity: "-", C.referral: "-", C.engagement: "-", C.plan: "-"}),
        P.research: ({}, {C.demographics: "-", C.referral: "-"}),
    },
    Role.privacy_officer: {P.oversight: ({c: "glass" for c in C}, {})},
    Role.admin: {},
    # Appoints defenders (hub.defense.appointments); reads no client record.
    Role.defender_supervisor: {},
    # Issue 16: aggregates only, never a client-level field, for any purpose.
    Role.policy_group: {},
}
CONSENT_STATES = ("absent", "present", "revoked", "expired", "2.35")


def expected_categories(role: Role, purpose: Purpose, related: bool, consent: str) -> set[C]:
    related_grants, everyone = EXPECTED[role].get(purpose, ({}, {}))
    grants = {**everyone, **(related_grants if related else {})}
    met = {
        "-": True,
        "glass": related,
        "consent": consent == "present",
        "2.35": consent == "2.35",
    }
    shown = {c for c, condition in grants.items() if met[condition]}
    # The hard rules, restated: health and treatment never to enforcement or a charging decision.
    if role in ENFORCEMENT_ROLES or purpose == P.charging_decision:
        shown -= {C.health, C.treatment}
    if purpose == P.research:
        shown &= {C.demographics, C.referral}
    return shown


@dataclass
class Case:
    person_id: int
    related: bool
    consent: str


@dataclass
class World:
    session: Session
    viewers: dict[Role, Viewer]
    cases: dict[Role, list[Case]]


def _database(backend: str, request: pytest.FixtureRequest, tmp: Path) -> tuple[str, Any]:
    if backend == "sqlite":
        path = tmp / "matrix.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}", None
    server = request.getfixturevalue("postgres_server")
    name = f"hub_test_{server.run_id}_matrix_{secrets.token_hex(3)}"
    url = server.create(name, template=request.getfixturevalue("postgres_template"))
    return url, lambda: server.drop(name)


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One database per backend for the whole module, with a viewer of every role and, for
    each role, one client per consent state x relationship."""
    url, drop = _database(request.param, request, tmp_path_factory.mktemp("matrix"))
    engine = engine_for(url)
    session = Session(engine, expire_on_commit=False)
    f = factory_module.bind(session)
    agency = {kind: f.Agency(kind=kind) for kind in AgencyKind}
    other_cm = f.Agency(kind=AgencyKind.case_management)
    other_police = f.Agency(kind=AgencyKind.police)
    other_prosecution = f.Agency(kind=AgencyKind.prosecution)
    users = {role: f.User(role=role, agency=agency[_home(role)]) for role in Role}
    stranger_officer = f.User(role=Role.officer, agency=other_police)
    colleague_officer = f.User(role=Role.officer, agency=agency[AgencyKind.police])
    viewers = {role: viewer_for(session, user) for role, user in users.items()}
    cases: dict[Role, list[Case]] = {}
    for role in Role:
        viewer = viewers[role]
        cases[role] = []
        for related in (True, False):
            for consent in CONSENT_STATES:
                referrer = stranger_officer
                if related and role == Role.officer:
                    referrer = users[Role.officer]
                elif related and role == Role.sergeant:
                    referrer = colleague_officer
                serving = agency[AgencyKind.case_management]
                if role == Role.case_manager_supervisor and not related:
                    serving = other_cm
                prosecuting = agency[AgencyKind.prosecution]
                if role == Role.prosecutor and not related:
                    prosecuting = other_prosecution
                person = factory_module.full_client(
                    session,
                    referring_user=referrer,
                    case_management_agency_id=serving.id,
                    prosecuting_agency_id=prosecuting.id,
                    note_author=users[Role.case_manager],
                )
                _relate(f, session, role, users[role], person.id, related)
                _consent(f, viewer, person.id, consent, agency[AgencyKind.case_management].id)
                cases[role].append(Case(person.id, related, consent))
    yield World(session=session, viewers=viewers, cases=cases)
    session.close()
    engine.dispose()
    engine_for.cache_clear()
    if drop:
        drop()


def _home(role: Role) -> AgencyKind:
    return factory_module.agency_kind_for(role)


def _relate(f: Any, session: Session, role: Role, user: Any, person_id: int, related: bool) -> None:
    if not related:
        return
    if role == Role.case_manager:
        f.ClientAssignment(person_id=person_id, user_id=user.id, kind=AssignmentKind.caseload)
    elif role == Role.defender:
        f.ClientAssignment(person_id=person_id, user_id=user.id, kind=AssignmentKind.defense)
    elif role == Role.privacy_officer:
        now = utcnow()
        session.add(
            BreakGlass(
                user_id=user.id,
                person_id=person_id,
                reason="Matrix test: reviewing a complaint about this record.",
                opened_at=now,
                expires_at=now + dt.timedelta(minutes=60),
            )
        )
        session.commit()


def _consent(f: Any, viewer: Viewer, person_id: int, state: str, discloser: int) -> None:
    if state == "absent":
        return
    today = dt.date.today()
    fields: dict[str, Any] = {}
    if state == "revoked":
        fields["revoked_at"] = utcnow() - dt.timedelta(hours=1)
    elif state == "expired":
        fields["expires_on"] = today - dt.timedelta(days=1)
        fields["signed_on"] = today - dt.timedelta(days=30)
    elif state == "2.35":
        fields.update(
            kind=ConsentKind.criminal_justice_referral,
            categories=[C.engagement.value],
            irrevocable_until="final disposition of the charges",
        )
    f.Consent(
        person_id=person_id,
        discloser_agency_id=discloser,
        recipient_agency_id=viewer.agency_id,
        created_by_id=viewer.user_id,
        **fields,
    )


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
