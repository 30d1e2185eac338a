"""The write policy: who may keep which part of a client's record, and the history every save
leaves behind. The one module that compiles policies/write_model.conf + policies/write.csv and
applies them:

    may_write(db, viewer, person_id, Category.housing) -> bool
    grant = require_write(db, viewer, person_id, Category.housing, actor)   # or WriteRefused
    change = record_section_change(db, viewer, actor, person_id, "housing", Category.housing,
                                   based_on=3, previous={...}, saved={...})  # or StaleVersion

Hard rules, in code, that no line of write.csv overrides:

1. deny by default;
2. the admin role writes no client data;
3. police and prosecution users write none of a client's record (LEAD: what is kept for care
   never becomes theirs to shape; no participant worse off);
4. treatment is written only by the staff of a 42 CFR Part 2 program (Agency.part2_program);
5. nobody writes what they may not read: the writer's disclosure decision for case management
   must show the category, so a history or a conflict never shows a writer more than a read.

The write policy in force is the files deployed (it is not released into the database as the
disclosure policy is); its version, the SHA-256 of the two files, is in every change's entry.
"""

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import casbin
from casbin.persist.adapters.string_adapter import StringAdapter
from sqlmodel import Session, col, func, select

from hub.accounts.models import Agency
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append, append_refusal
from hub.caserecord.models import RecordChange
from hub.clients.models import Person
from hub.clients.purposes import RECORD_PURPOSE
from hub.db import utcnow
from hub.disclosure.policy import (
    POLICY_DIR,
    Decision,
    Facts,
    PersonNotFound,
    PolicyError,
    decide,
    gather_facts,
    policy_version,
)
from hub.disclosure.releases import policy_in_force
from hub.vocabulary import (
    ENFORCEMENT_ROLES,
    PROTECTED_HEALTH_CATEGORIES,
    Action,
    Category,
    Purpose,
    Relationship,
    Role,
    SecurityEventTag,
    WriteCondition,
    WriteRefusal,
)

WRITE_MODEL_FILE = "write_model.conf"
WRITE_POLICY_FILE = "write.csv"
# Decision tables of the write policy: policies/tests/write/*.csv (`hub policy test`).
WRITE_TABLES_DIR = Path("tests") / "write"
# Relationships that make a client the writer's own (a refusal for want of one reads so).
_OWN_CLIENT = frozenset({Relationship.caseload, Relationship.agency_client})


class WriteRefused(PermissionError):
    """The viewer may not keep this part of this client's record; the refusal was logged and
    nothing changed. `not_found`: the client is unknown or unseen by the viewer (answer 404)."""

    def __init__(self, reason: WriteRefusal, *, not_found: bool = False) -> None:
        super().__init__(f"refused: {reason.value}")
        self.reason = reason
        self.not_found = not_found


class StaleVersion(Exception):
    """The save was based on an older version of the section than the one stored: nothing was
    written; the caller shows both versions (a 409 conflict)."""

    def __init__(self, section: str, based_on: int, current: int) -> None:
        super().__init__(f"{section}: based on version {based_on}, stored version is {current}")
        self.section = section
        self.based_on = based_on
        self.current = current


# --- the compiled write policy ----------------------------------------------------------------


@dataclass(frozen=True)
class WritePolicy:
    version: str  # SHA-256 of write_model.conf + write.csv
    # (role, category) -> relationship -> the conditions, each enough alone
    grants: Mapping[tuple[Role, Category], Mapping[Relationship, tuple[WriteCondition, ...]]]
    lines: int


def _write_lines(policy_text: str) -> list[str]:
    """The lines, checked: a misspelt name would silently grant nothing, so refuse it."""
    known = (frozenset(Role), frozenset(Relationship), frozenset(Category))
    lines = []
    for number, raw in enumerate(policy_text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tokens = [token.strip() for token in line.split(",")]
        if tokens[0] == "g":
            lines.append(_filing_line(number, tokens))
            continue
        if tokens[0] != "p" or len(tokens) != 5:
            raise PolicyError(
                f"write.csv line {number}: expected p, role, relationship, category, condition"
            )
        names = (*known, frozenset(WriteCondition))
        for what, names_of, token in zip(
            ("role", "relationship", "category", "condition"), names, tokens[1:], strict=True
        ):
            if token not in names_of:
                raise PolicyError(f"write.csv line {number}: unknown {what} {token!r}")
        lines.append(", ".join(tokens))
    return lines


def _filing_line(number: int, tokens: list[str]) -> str:
    """A `g, CATEGORY, FILED_AS` line, checked: Part 2 and health data are filed as
    themselves, never as a category whose writers need no Part 2 program (hard rule 4)."""
    if len(tokens) != 3 or not all(token in frozenset(Category) for token in tokens[1:]):
        raise PolicyError(f"write.csv line {number}: expected g, category, category")
    if Category(tokens[1]) in PROTECTED_HEALTH_CATEGORIES:
        raise PolicyError(f"write.csv line {number}: {tokens[1]} is filed as itself")
    return ", ".join(tokens)


def compile_write_policy(model_text: str, policy_text: str) -> WritePolicy:
    """Asks casbin once about every role x relationship x category (and each condition where a
    line matches) and keeps the answers: a write decision is then a look-up."""
    lines = _write_lines(policy_text)
    model = casbin.Enforcer.new_model(text=model_text)
    enforcer = casbin.Enforcer(model, StringAdapter("\n".join(lines) or "# empty"))
    grants: dict[tuple[Role, Category], dict[Relationship, tuple[WriteCondition, ...]]] = {}
    for role in Role:
        for category in Category:
            for relationship in Relationship:
                request = (role.value, relationship.value, category.value)
                if not enforcer.enforce(*request, "*"):
                    continue
                conditions = tuple(c for c in WriteCondition if enforcer.enforce(*request, c))
                grants.setdefault((role, category), {})[relationship] = conditions
    return WritePolicy(
        version=policy_version(model_text, policy_text), grants=grants, lines=len(lines)
    )


_COMPILED: dict[str, WritePolicy] = {}
_LOCK = threading.Lock()


def load_write_policy(directory: Path | None = None) -> WritePolicy:
    """The write policy of `directory` (policies/ by default), compiled once per version."""
    directory = directory or POLICY_DIR
    model_text = (directory / WRITE_MODEL_FILE).read_text()
    policy_text = (directory / WRITE_POLICY_FILE).read_text()
    version = policy_version(model_text, policy_text)
    with _LOCK:  # casbin's parser is not thread-safe (see hub.disclosure.policy.compiled)
        policy = _COMPILED.get(version)
        if policy is None:
            policy = compile_write_policy(model_text, policy_text)
            _COMPILED.clear()
            _COMPILED[version] = policy
    return policy


# --- deciding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteFacts:
    """What the write policy reads about one writer and one client."""

    relationships: frozenset[Relationship]
    part2_program: bool  # the writer's agency is a 42 CFR Part 2 program


def decide_write(
    role: Role, facts: WriteFacts, category: Category, policy: WritePolicy
) -> WriteRefusal | None:
    """None when the lines and hard rules 1-4 let this role write the category; otherwise why
    not. Pure: the decision tables run it without a database (rule 5 needs the read)."""
    if role == Role.admin:
        return WriteRefusal.admin
    if role in ENFORCEMENT_ROLES:
        return WriteRefusal.enforcement_rule
    lines = policy.grants.get((role, category))
    if not lines:
        return WriteRefusal.deny_by_default
    reason = WriteRefusal.deny_by_default
    for relationship, conditions in lines.items():
        if relationship not in facts.relationships:
            continue
        for condition in conditions:
            if condition == WriteCondition.none or facts.part2_program:
                if category == Category.treatment and not facts.part2_program:
                    return WriteRefusal.not_part2_program  # hard rule 4
                return None
            reason = WriteRefusal.not_part2_program
    if reason == WriteRefusal.deny_by_default and _OWN_CLIENT & lines.keys():
        return WriteRefusal.not_on_caseload
    return reason


@dataclass(frozen=True)
class WriteGrant:
    """A write allowed: what it was decided on, for the change's log entry and the page."""

    person_id: int
    category: Category
    write_policy_version: str
    read: Decision  # the writer's own read of the client, for case management


@dataclass(frozen=True)
class _Writer:
    """What every write decision about one writer and one client rests on, gathered once."""

    policy: WritePolicy
    facts: WriteFacts
    read: Decision | None  # the writer's read for case management (None: client unknown)
    unseen: bool  # the client's identity is withheld for the purpose the viewer reads for


def _writer(db: Session, viewer: Viewer, person_id: int, facts: Facts | None = None) -> _Writer:
    policy = load_write_policy()
    part2_program = bool(
        db.exec(select(Agency.part2_program).where(Agency.id == viewer.agency_id)).first()
    )
    try:
        facts = facts or gather_facts(db, viewer, person_id, utcnow())
    except PersonNotFound:
        return _Writer(policy, WriteFacts(frozenset(), part2_program), None, True)
    in_force = policy_in_force(db)
    read = decide(viewer, facts, Purpose.case_management, in_force)
    own_purpose = RECORD_PURPOSE.get(viewer.role)
    own_read = read if own_purpose == Purpose.case_management else None
    if own_read is None and own_purpose is not None:
        own_read = decide(viewer, facts, own_purpose, in_force)
    unseen = own_read is None or not own_read.allows(Category.identity)
    return _Writer(policy, WriteFacts(facts.relationships, part2_program), read, unseen)


def _refusal(viewer: Viewer, writer: _Writer, category: Category) -> WriteRefusal | None:
    if writer.read is None:
        return WriteRefusal.deny_by_default
    refusal = decide_write(viewer.role, writer.facts, category, writer.policy)
    if refusal is None and not writer.read.allows(category):
        refusal = WriteRefusal.cannot_read  # hard rule 5
    return refusal


def may_write(db: Session, viewer: Viewer, person_id: int, category: Category) -> bool:
    """Whether this viewer may keep this category of this client's record (a page asks it to
    show a form); decides without reading, writing or logging anything."""
    return _refusal(viewer, _writer(db, viewer, person_id), category) is None


def writable_categories(
    db: Session, viewer: Viewer, person_id: int, facts: Facts | None = None
) -> list[Category]:
    """Every category this viewer may keep (or file a note under) for this client, deciding
    once for all; `facts`, when a page has just gathered them for a read, are reused."""
    writer = _writer(db, viewer, person_id, facts)
    return [c for c in Category if _refusal(viewer, writer, c) is None]


def require_write(
    db: Session, viewer: Viewer, person_id: int, category: Category, actor: Actor
) -> WriteGrant:
    """The grant to write, or WriteRefused after the refusal is logged (and committed on its
    own: nothing else of the refused attempt is kept). Call it before writing anything."""
    writer = _writer(db, viewer, person_id)
    refusal, read = _refusal(viewer, writer, category), writer.read
    if refusal is not None or read is None:
        db.rollback()
        append_refusal(
            db,
            actor,
            {
                "action": Action.record_write.value,
                "person_id": person_id,
                "category": category.value,
                "reason": (refusal or WriteRefusal.deny_by_default).value,
            },
        )
        raise WriteRefused(refusal or WriteRefusal.deny_by_default, not_found=writer.unseen)
    return WriteGrant(person_id, category, writer.policy.version, read)


# --- history ------------------------------------------------------------------------------------


def sealed_json(value: Mapping[str, Any] | None) -> str | None:
    """A section's value as the JSON sealed in record_change (dates as ISO text)."""
    if value is None:
        return None
    return json.dumps(dict(value), sort_keys=True, default=str, ensure_ascii=False)


def section_version(db: Session, person_id: int, section: str) -> int:
    """How many changes this section has had: the version a form is based on (0: none yet)."""
    current = db.exec(
        select(func.max(RecordChange.version)).where(
            RecordChange.person_id == person_id, RecordChange.section == section
        )
    ).one()
    return int(current or 0)


def lock_person(db: Session, person_id: int) -> None:
    """Takes the client's row lock for the rest of the transaction (PostgreSQL; on SQLite the
    transaction already holds the write lock): two saves of one record take turns."""
    db.exec(select(Person.id).where(col(Person.id) == person_id).with_for_update()).first()


def record_section_change(
    db: Session,
    viewer: Viewer,
    actor: Actor,
    person_id: int,
    section: str,
    category: Category,
    *,
    based_on: int,
    previous: Mapping[str, Any] | None,
    saved: Mapping[str, Any],
    previous_recorded_by_id: int | None = None,
    write_policy_version: str | None = None,
) -> RecordChange:
    """Keeps one change of a section in its history and appends the `client:record:changed`
    security event, in the caller's transaction (the caller writes the section and commits
    once). Raises StaleVersion, writing nothing, when `based_on` is not the stored version.
    Call require_write first; the entry names record numbers and versions, never values."""
    lock_person(db, person_id)
    current = section_version(db, person_id, section)
    if based_on != current:
        raise StaleVersion(section, based_on, current)
    change = RecordChange(
        person_id=person_id,
        section=section,
        category=category,
        version=current + 1,
        changed_by_id=viewer.user_id,
        changed_at=utcnow(),
        previous=sealed_json(previous),
        saved=sealed_json(saved) or "{}",
        previous_recorded_by_id=previous_recorded_by_id,
    )
    db.add(change)
    db.flush()
    append(
        db,
        actor,
        Event(
            kind="security",
            tag=SecurityEventTag.record_changed.value,
            outcome="success",
            purpose=Purpose.case_management.value,
            person_id=person_id,
            categories=[category.value],
            policy_version=policy_in_force(db).version,
            detail={
                "section": section,
                "change_id": change.id,
                "version": change.version,
                "write_policy_version": write_policy_version or load_write_policy().version,
            },
        ),
    )
    return change
