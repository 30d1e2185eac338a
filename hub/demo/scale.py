"""`hub demo --scale N`: the demo program N times over, for load tests and benchmarks.

On top of the N x 300 persons that hub.demo.program builds (each from its own random stream, so
the same seed and N give the same data), a scale build adds:

- load accounts: LOAD_ACCOUNTS_PER_ROLE more accounts of every role, each a clone of one of
  the role's demo accounts (same agency, work-group memberships and password, its own TOTP
  secret), so that a load test signs in many users at once without replaying a TOTP code;
- the work group's agendas: each past meeting discussed the referrals made since the one
  before; the next meeting has a published agenda of about AGENDA_ITEMS items, chosen by the
  coordinator's own proposal rules (hub.workgroup.proposing.compute_proposals);
- two years of the disclosure log, LOG_ENTRIES_PER_SCALE x N entries: staff sign in, search
  and open the records of the clients they work with, each disclosure carrying the categories
  the compiled policy decides for that role, purpose and relationship; written in bulk
  (hub.audit.bulk) with signed checkpoints, so that `hub audit verify` passes.

Everything is derived from the seed, N and the day of the build: salts and request ids too, so
two builds on the same day have the same log root.
"""

import bisect
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from itertools import zip_longest
from typing import Any

from faker import Faker
from sqlalchemy import Connection, Engine, select, update
from sqlmodel import Session

from hub.accounts.models import Agency, User
from hub.accounts.sessions import Viewer
from hub.audit.bulk import Row, entry_row, write_entries
from hub.audit.log import canonical_json
from hub.charging.models import ChargingMatter
from hub.clients.models import CaseNote, ClientAssignment, TreatmentRecord
from hub.crypto import key_ring
from hub.db import table_of
from hub.demo.program import (
    HISTORY_DAYS,
    DemoAccount,
    _at,
    _insert,
    _insert_returning,
    _password_hash,
    demo_accounts,
    demo_password,
    demo_totp_secret,
)
from hub.disclosure.policy import CompiledPolicy, Facts, decide, load_policy
from hub.referrals.models import Referral
from hub.vocabulary import (
    AgencyKind,
    AgendaItemKind,
    Category,
    DisclosureOutcome,
    DisclosureTag,
    LogKind,
    LogOutcome,
    MeetingStatus,
    NotificationKind,
    Purpose,
    Relationship,
    Role,
    SecurityEventTag,
)
from hub.workgroup.models import AgendaItem, MeetingInvitee, WorkGroupMeeting

LOAD_ACCOUNTS_PER_ROLE = 8
LOG_ENTRIES_PER_SCALE = 50_000
AGENDA_ITEMS = 40
PAST_AGENDA_ITEMS = 25

Phase = Callable[[str, float], None]


# --- load accounts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadAccount:
    account: DemoAccount
    source: DemoAccount  # the demo account it was cloned from


def load_accounts(seed: int) -> list[LoadAccount]:
    """The extra accounts of a scale build, without touching a database: for every role, k =
    1..LOAD_ACCOUNTS_PER_ROLE, a clone of the role's demo accounts taken in turn, named
    <demo account's local part>.load<k>@<its domain>, with the demo account's password."""
    by_role: dict[Role, list[DemoAccount]] = defaultdict(list)
    for account in demo_accounts(seed):
        by_role[account.role].append(account)
    clones = []
    for role in Role:
        sources = by_role[role]
        for k in range(1, LOAD_ACCOUNTS_PER_ROLE + 1):
            source = sources[(k - 1) % len(sources)]
            local, domain = source.email.split("@")
            email = f"{local}.load{k}@{domain}"
            clones.append(
                LoadAccount(
                    account=DemoAccount(
                        role=role,
                        agency=source.agency,
                        email=email,
                        password=demo_password(seed, source.email),
                        totp_secret=demo_totp_secret(seed, email),
                    ),
                    source=source,
                )
            )
    return clones


def scale_accounts(seed: int) -> list[DemoAccount]:
    """Every account of a scale build: the demo accounts, then the load accounts."""
    return demo_accounts(seed) + [clone.account for clone in load_accounts(seed)]


def _insert_load_accounts(conn: Connection, seed: int, today: date) -> None:
    users = table_of(User)
    source_rows = {
        row.email: row
        for row in conn.execute(
            select(
                users.c.id,
                users.c.email,
                users.c.agency_id,
                users.c.created_at,
                users.c.password_changed_at,
                users.c.mfa_enrolled_at,
            )
        )
    }
    yesterday = _at(today - timedelta(days=1), random.Random(seed))
    ring = key_ring()
    clones = load_accounts(seed)
    rows = []
    for clone in clones:
        source = source_rows[clone.source.email]
        fake = Faker("en_US")
        fake.seed_instance(f"demo:{seed}:load:{clone.account.email}")
        rows.append(
            {
                "agency_id": source.agency_id,
                "email": clone.account.email,
                "display_name": fake.name(),
                "role": clone.account.role,
                "status": "active",
                # The demo account's own password: argon2 runs once per distinct password.
                "password_hash": _password_hash(clone.account.password),
                "password_changed_at": source.password_changed_at,
                "totp_secret_sealed": ring.seal(clone.account.totp_secret),
                "totp_last_counter": None,
                "mfa_enrolled_at": source.mfa_enrolled_at,
                "created_at": source.created_at,
                "last_active_at": yesterday,
            }
        )
    ids = _insert_returning(conn, User, rows)
    invitees = table_of(MeetingInvitee)
    meetings_of: dict[int, list[int]] = defaultdict(list)
    for meeting_id, user_id in conn.execute(select(invitees.c.meeting_id, invitees.c.user_id)):
        meetings_of[user_id].append(meeting_id)
    _insert(
        conn,
        MeetingInvitee,
        [
            {"meeting_id": meeting_id, "user_id": user_id}
            for clone, user_id in zip(clones, ids, strict=True)
            for meeting_id in meetings_of[source_rows[clone.source.email].id]
        ],
    )


# --- the work group ---------------------------------------------------------------------------


def _insert_agendas(db: Session, seed: int, today: date) -> None:
    """Past meetings discussed the referrals made since the meeting before; the next meeting
    gets a published agenda built from the coordinator's proposals."""
    from hub.notifications.services import notify
    from hub.workgroup.proposing import Proposal, awaiting_matter, compute_proposals

    conn = db.connection()
    meetings = table_of(WorkGroupMeeting)
    referrals = table_of(Referral)
    matters = table_of(ChargingMatter)
    rows = list(
        conn.execute(
            select(
                meetings.c.id, meetings.c.starts_at, meetings.c.status, meetings.c.created_by_id
            ).order_by(meetings.c.starts_at)
        )
    )
    matter_of = {r[0]: r[1] for r in conn.execute(select(matters.c.referral_id, matters.c.id))}
    made = list(
        conn.execute(
            select(referrals.c.id, referrals.c.person_id, referrals.c.referred_at).order_by(
                referrals.c.referred_at, referrals.c.id
            )
        )
    )
    times = [r.referred_at for r in made]
    items: list[dict[str, Any]] = []
    previous = None
    for held in rows:
        if held.status == MeetingStatus.draft:
            continue
        # The agenda closes two days before the meeting; the next one takes up from there.
        closed = held.starts_at - timedelta(days=2)
        lo = bisect.bisect_left(times, previous or closed - timedelta(days=14))
        hi = bisect.bisect_left(times, closed)
        previous = closed
        for position, referral in enumerate(made[lo:hi][:PAST_AGENDA_ITEMS], start=1):
            items.append(
                {
                    "meeting_id": held.id,
                    "position": position,
                    "kind": AgendaItemKind.new_referral,
                    "person_id": referral.person_id,
                    "referral_id": referral.id,
                    "matter_id": matter_of.get(referral.id),
                    "flag_id": None,
                    "action_item_id": None,
                    "topic": None,
                    "added_by_id": held.created_by_id,
                    "added_at": closed,
                    "discussed_at": held.starts_at + timedelta(minutes=2 * position),
                    "removed_at": None,
                }
            )
    _insert(db.connection(), AgendaItem, items)

    # The next meeting: the coordinator's proposals, put on the agenda as add_proposed_items
    # does, then published.
    upcoming = [m for m in rows if m.status == MeetingStatus.draft]
    if not upcoming:
        return
    meeting = db.get(WorkGroupMeeting, upcoming[-1].id)
    assert meeting is not None and meeting.id is not None
    proposals = compute_proposals(db, meeting, today)
    # Every kind of proposal gets its share: one of each kind in turn, in the proposals' order.
    by_kind: dict[AgendaItemKind, list[Proposal]] = defaultdict(list)
    for p in proposals:
        by_kind[p.kind].append(p)
    turns = zip_longest(*by_kind.values())
    chosen = [p for turn in turns for p in turn if p is not None][:AGENDA_ITEMS]
    chosen.sort(key=proposals.index)
    published = _at(today - timedelta(days=1), random.Random(f"demo:{seed}:agenda"))
    _insert(
        db.connection(),
        AgendaItem,
        [
            {
                "meeting_id": meeting.id,
                "position": position,
                "kind": p.kind,
                "person_id": p.person_id,
                "referral_id": p.referral_id,
                "matter_id": p.matter_id or awaiting_matter(db, p.person_id),
                "flag_id": p.flag_id,
                "action_item_id": None,
                "topic": None,
                "added_by_id": meeting.created_by_id,
                "added_at": published - timedelta(hours=1),
                "discussed_at": None,
                "removed_at": None,
            }
            for position, p in enumerate(chosen, start=1)
        ],
    )
    members = [
        user_id
        for (user_id,) in db.connection().execute(
            select(table_of(MeetingInvitee).c.user_id).where(
                table_of(MeetingInvitee).c.meeting_id == meeting.id
            )
        )
        if user_id != meeting.created_by_id
    ]
    notify(
        db,
        members,
        NotificationKind.agenda_published,
        f"/work-group/meetings/{meeting.id}",
        f"agenda_published:meeting:{meeting.id}",
    )
    db.connection().execute(
        update(meetings)
        .where(meetings.c.id == meeting.id)
        .values(status=MeetingStatus.published, published_at=published, version=len(chosen) + 1)
    )


# --- the log ----------------------------------------------------------------------------------

# Who works in the hub, by share of sessions, and what each role reads for (the purpose of the
# client record page, hub.clients.purposes) and how it stands to the clients it reads.
_SESSION_SHARE: dict[Role, int] = {
    Role.case_manager: 34,
    Role.case_manager_supervisor: 8,
    Role.officer: 20,
    Role.sergeant: 5,
    Role.prosecutor: 13,
    Role.defender: 10,
    Role.coordinator: 6,
    Role.privacy_officer: 2,
    Role.admin: 2,
}
_READS: dict[Role, tuple[Purpose, frozenset[Relationship]]] = {
    Role.case_manager: (
        Purpose.case_management,
        frozenset({Relationship.everyone, Relationship.caseload, Relationship.agency_client}),
    ),
    Role.case_manager_supervisor: (
        Purpose.case_management,
        frozenset({Relationship.everyone, Relationship.agency_client}),
    ),
    Role.officer: (
        Purpose.referral,
        frozenset({Relationship.everyone, Relationship.own_referral, Relationship.agency_referral}),
    ),
    Role.sergeant: (
        Purpose.referral,
        frozenset({Relationship.everyone, Relationship.agency_referral}),
    ),
    Role.prosecutor: (
        Purpose.charging_decision,
        frozenset({Relationship.everyone, Relationship.office_matter}),
    ),
    Role.defender: (
        Purpose.defense,
        frozenset({Relationship.everyone, Relationship.defense_client}),
    ),
    Role.coordinator: (Purpose.oversight, frozenset({Relationship.everyone})),
}


@dataclass(frozen=True)
class _ReadClass:
    """One (role, purpose, relationship) class: the policy decided once, its log text ready."""

    purpose: str
    outcome: str
    categories: str  # canonical JSON
    categories_part2: str  # the same with treatment: the read showed Part 2 notes
    allowed: frozenset[str]
    # Categories whose Part 2 data (42 CFR 2.11) this class sees: the demo's notes are all
    # written by its Part 2 program's case managers, so only these categories' notes show.
    allowed_part2: frozenset[str]
    identity_basis: str | None
    head: str  # the detail's canonical JSON up to the note ids
    tail_part2: str
    tail: str


def _read_class(role: Role, agency_kind: AgencyKind, policy: CompiledPolicy) -> _ReadClass:
    purpose, relationships = _READS[role]
    viewer = Viewer(user_id=0, role=role, agency_id=0, agency_kind=agency_kind, display_name="")
    decision = decide(viewer, Facts(person_id=0, relationships=relationships), purpose, policy)
    disclosed = decision.disclosed or decision.participation
    withheld = {c.value: r.value for c, r in decision.withheld.items()}
    rest = (
        f',"participation":{canonical_json(decision.participation).decode()}'
        f',"withheld":{canonical_json(withheld).decode()}}}'
    )
    return _ReadClass(
        purpose=purpose.value,
        outcome=(DisclosureOutcome.disclosed if disclosed else DisclosureOutcome.withheld).value,
        categories=canonical_json(sorted(c.value for c in decision.categories)).decode(),
        categories_part2=canonical_json(
            sorted({c.value for c in decision.categories} | {Category.treatment.value})
        ).decode(),
        allowed=frozenset(c.value for c in decision.disclosed),
        allowed_part2=frozenset(c.value for c in decision.disclosed if decision.allows_part2(c)),
        identity_basis=decision.disclosed.get(Category.identity),
        head='{"basis":'
        + canonical_json({c.value: b for c, b in decision.disclosed.items()}).decode()
        + ',"notes":[',
        tail_part2='],"part2":true' + rest,
        tail='],"part2":false' + rest,
    )


@dataclass
class _Staffer:
    id: int
    role: Role
    agency_id: int
    clients: list[int] = field(default_factory=list)  # person ids, by referral time
    since: list[datetime] = field(default_factory=list)


@dataclass
class _World:
    staff: dict[Role, list[_Staffer]]
    classes: dict[Role, _ReadClass]
    notes: dict[int, list[tuple[datetime, int, str]]]
    treated: set[int]
    policy_version: str


def _world(conn: Connection, seed: int) -> _World:
    users = table_of(User)
    agencies = table_of(Agency)
    kinds = {r[0]: AgencyKind(r[1]) for r in conn.execute(select(agencies.c.id, agencies.c.kind))}
    staff: dict[Role, list[_Staffer]] = defaultdict(list)
    by_id: dict[int, _Staffer] = {}
    # The demo accounts only: the load accounts are new, and have no history.
    for user_id, role, agency_id in conn.execute(
        select(users.c.id, users.c.role, users.c.agency_id)
        .where(users.c.email.in_([a.email for a in demo_accounts(seed)]))
        .order_by(users.c.id)
    ):
        by_id[user_id] = _Staffer(user_id, Role(role), agency_id)
        staff[Role(role)].append(by_id[user_id])
    policy = load_policy()
    classes = {
        role: _read_class(role, kinds[members[0].agency_id], policy)
        for role, members in staff.items()
        if role in _READS
    }
    referrals = table_of(Referral)
    assignments = table_of(ClientAssignment)
    assigned: dict[int, list[int]] = defaultdict(list)
    for person_id, user_id in conn.execute(select(assignments.c.person_id, assignments.c.user_id)):
        assigned[person_id].append(user_id)
    for person_id, referred_at, referrer, police, office in conn.execute(
        select(
            referrals.c.person_id,
            referrals.c.referred_at,
            referrals.c.referring_user_id,
            referrals.c.referring_agency_id,
            referrals.c.forwarded_to_agency_id,
        ).order_by(referrals.c.referred_at, referrals.c.id)
    ):
        readers = {u: by_id[u] for u in [*assigned[person_id], referrer]}
        for role, members in staff.items():
            for member in members:
                if (
                    (role == Role.sergeant and member.agency_id == police)
                    or (role == Role.prosecutor and member.agency_id == office)
                    or role in (Role.case_manager_supervisor, Role.coordinator)
                ):
                    readers[member.id] = member
        for member in readers.values():
            member.clients.append(person_id)
            member.since.append(referred_at)
    notes_table = table_of(CaseNote)
    notes: dict[int, list[tuple[datetime, int, str]]] = defaultdict(list)
    for person_id, written_at, note_id, category in conn.execute(
        select(
            notes_table.c.person_id,
            notes_table.c.written_at,
            notes_table.c.id,
            notes_table.c.category,
        ).order_by(notes_table.c.written_at, notes_table.c.id)
    ):
        notes[person_id].append((written_at, note_id, str(category)))
    treated = {
        pid for (pid,) in conn.execute(select(table_of(TreatmentRecord).c.person_id).distinct())
    }
    return _World(
        staff=dict(staff),
        classes=classes,
        notes=notes,
        treated=treated,
        policy_version=policy.version,
    )


def _day_counts(first: date, days: int, total: int) -> list[int]:
    """`total` entries spread over the days, weekends quieter; the counts add up exactly."""
    weights = [1.0 if (first + timedelta(days=d)).weekday() < 5 else 0.25 for d in range(days)]
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for d in range(total - sum(counts)):
        counts[d % days] += 1
    return counts


_Entry = tuple[datetime, tuple[Any, ...]]  # when, entry_row's arguments after seq and time


def _session(
    rng: random.Random, world: _World, member: _Staffer, start: datetime, actions: int, sid: int
) -> Iterator[_Entry]:
    """One sign-in and what the staffer did in it."""
    address = f"10.{member.agency_id}.{rng.randrange(256)}.{rng.randrange(1, 255)}"

    def security(tag: str, moment: datetime) -> _Entry:
        return moment, (
            LogKind.security.value,
            tag,
            LogOutcome.success.value,
            None,
            member.role.value,
            member.agency_id,
            "[]",
            None,
            member.id,
            None,
            f"{rng.getrandbits(128):032x}",
            address,
            f'{{"session_id":{sid}}}',
        )

    moment = start
    yield security(SecurityEventTag.sign_in_success.value, moment)
    read = world.classes.get(member.role)
    known = bisect.bisect_left(member.since, start) if read else 0
    for _ in range(actions):
        moment += timedelta(seconds=rng.randint(5, 240), microseconds=rng.randrange(1_000_000))
        request = f"{rng.getrandbits(128):032x}"
        if not read or not known:
            continue
        # Mostly the clients of the last months; now and then an older one.
        window = 400 if rng.random() < 0.85 else known
        person = member.clients[known - 1 - min(known - 1, int(rng.random() * window))]
        if rng.random() < 0.2:
            if read.identity_basis is None:
                ids: list[int] = []
                detail = {"basis": {}, "person_ids": [], "withheld_count": 1}
            else:
                ids = sorted({person, member.clients[rng.randrange(known)]})
                detail = {
                    "basis": {str(p): read.identity_basis for p in ids},
                    "person_ids": ids,
                    "withheld_count": rng.randrange(3),
                }
            yield (
                moment,
                (
                    LogKind.disclosure.value,
                    DisclosureTag.client_search_read.value,
                    (DisclosureOutcome.disclosed if ids else DisclosureOutcome.withheld).value,
                    read.purpose,
                    member.role.value,
                    member.agency_id,
                    '["identity"]' if ids else "[]",
                    world.policy_version,
                    member.id,
                    None,
                    request,
                    address,
                    canonical_json(detail).decode(),
                ),
            )
            continue
        seen = [
            (note_id, category)
            for written, note_id, category in world.notes.get(person, ())
            if written <= moment and category in read.allowed_part2
        ]
        part2 = bool(seen) or (Category.treatment.value in read.allowed and person in world.treated)
        yield (
            moment,
            (
                LogKind.disclosure.value,
                DisclosureTag.client_record_read.value,
                read.outcome,
                read.purpose,
                member.role.value,
                member.agency_id,
                read.categories_part2 if seen else read.categories,
                world.policy_version,
                member.id,
                person,
                request,
                address,
                read.head
                + ",".join(str(n) for n, _ in seen)
                + (read.tail_part2 if part2 else read.tail),
            ),
        )
    if rng.random() < 0.6:
        yield security(SecurityEventTag.sign_out.value, moment + timedelta(seconds=30))


def _log_rows(
    world: _World, seed: int, scale: int, today: date, total: int, extra: list[_Entry]
) -> Iterator[Row]:
    """`total` entries over HISTORY_DAYS days up to yesterday, then `extra` (yesterday's)."""
    first = today - timedelta(days=HISTORY_DAYS)
    counts = _day_counts(first, HISTORY_DAYS, total)
    roles = [r for r in _SESSION_SHARE if world.staff.get(r)]
    shares = [_SESSION_SHARE[r] for r in roles]
    seq = 0
    sid = 0
    for d, count in enumerate(counts):
        day = first + timedelta(days=d)
        rng = random.Random(f"demo:{seed}:scale:{scale}:log:{day.isoformat()}")
        entries: list[_Entry] = []
        while len(entries) < count:
            role = rng.choices(roles, shares)[0]
            member = rng.choice(world.staff[role])
            # Working hours in the program's time zone; a session ends before midnight UTC, so
            # yesterday's entries are never in the future.
            start = datetime.combine(day, clock(15), UTC) + timedelta(
                seconds=rng.randrange(6 * 3600)
            )
            sid += 1
            actions = min(count - len(entries) - 1, rng.randint(4, 40))
            entries.extend(_session(rng, world, member, start, max(actions, 0), sid))
        del entries[count:]
        if d == len(counts) - 1:
            entries.extend(extra)
        entries.sort(key=lambda e: e[0])
        for moment, rest in entries:
            salt = f"{rng.getrandbits(128):032x}"
            yield entry_row(seq, moment, salt, *rest)
            seq += 1


def _agenda_entries(conn: Connection, seed: int, today: date) -> list[_Entry]:
    """The coordinator's entries for putting together and publishing the next agenda."""
    meetings = table_of(WorkGroupMeeting)
    meeting = conn.execute(
        select(meetings.c.id, meetings.c.created_by_id, meetings.c.published_at).where(
            meetings.c.status == MeetingStatus.published
        )
    ).first()
    if meeting is None:
        return []
    items = table_of(AgendaItem)
    added = [
        i
        for (i,) in conn.execute(
            select(items.c.id).where(items.c.meeting_id == meeting.id).order_by(items.c.position)
        )
    ]
    notified = conn.execute(
        select(table_of(MeetingInvitee).c.user_id).where(
            table_of(MeetingInvitee).c.meeting_id == meeting.id
        )
    ).all()
    users = table_of(User)
    agency_id = conn.execute(
        select(users.c.agency_id).where(users.c.id == meeting.created_by_id)
    ).scalar_one()
    rng = random.Random(f"demo:{seed}:agenda-log")
    address = f"10.{agency_id}.0.{rng.randrange(1, 255)}"
    published = meeting.published_at.replace(tzinfo=UTC)

    def event(tag: SecurityEventTag, detail: dict[str, Any], moment: datetime) -> _Entry:
        return moment, (
            LogKind.security.value,
            tag.value,
            LogOutcome.success.value,
            Purpose.work_group.value,
            Role.coordinator.value,
            agency_id,
            "[]",
            None,
            meeting.created_by_id,
            None,
            f"{rng.getrandbits(128):032x}",
            address,
            canonical_json(detail).decode(),
        )

    return [
        event(
            SecurityEventTag.agenda_changed,
            {"added": added, "meeting_id": meeting.id},
            published - timedelta(hours=1),
        ),
        event(
            SecurityEventTag.agenda_published,
            {"meeting_id": meeting.id, "notified": len(notified) - 1},
            published,
        ),
    ]


# --- the build --------------------------------------------------------------------------------


def build_scale(db: Session, seed: int, scale: int, today: date, phase: Phase) -> None:
    """The scale phases on a database holding the demo program of N x 300 persons; `phase`
    is told each phase's name and seconds. Commits as it goes (the log is written in batches)."""
    started = time.perf_counter()

    def done(name: str) -> None:
        nonlocal started
        phase(name, time.perf_counter() - started)
        started = time.perf_counter()

    _insert_load_accounts(db.connection(), seed, today)
    db.commit()
    done("load accounts")
    _insert_agendas(db, seed, today)
    db.commit()
    done("work-group agendas")
    conn = db.connection()
    world = _world(conn, seed)
    extra = _agenda_entries(conn, seed, today)
    db.commit()
    total = LOG_ENTRIES_PER_SCALE * scale
    done("log: who reads whom")
    engine = db.get_bind()
    assert isinstance(engine, Engine)
    steps = write_entries(engine, _log_rows(world, seed, scale, today, total, extra))
    phase(f"log: {total + len(extra):,} entries made and inserted", steps["rows"])
    phase("log: signed checkpoints", steps["checkpoints"])
    phase("log: indexes rebuilt", steps["indexes"])
    # Planner statistics for tables that grew by millions of rows at once, before anyone
    # queries them (autovacuum would get there, later). SQLite plans without them.
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
        done("statistics (ANALYZE)")
