"""The policy in force: released into the database, learned by every process within half a second.

    release_policy(db, actor, via=...)   # files -> checked -> a new PolicyRelease, logged
    policy_in_force(db)                   # what a decision applies, from a per-process cache

The newest row of `policy_release` is the policy in force on every host; until the first
release the files in policies/ are, as they always were. Each process keeps the compiled
policy and learns of a new release two ways:

1. a notification through Redis (HUB_REDIS_URL, hub.disclosure.watcher), which only marks
   the cache stale: its content is never trusted, the database says what is in force;
2. a version check: at most twice a second per process and database, one indexed query for
   the newest release's id. Notifications can be lost (Redis down, restarted, unreachable); this
   alone brings every process to a new release within about half a second, leaving room under
   load for the compilation and the request inside the 2 s bound.

Fail closed: if the newest release cannot be compiled (its texts do not match its version, or
this code no longer reads them), `policy_in_force` raises PolicyUnavailable and no decision is
made; the hub never falls back to an older policy on its own.
"""

import logging
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append, append_refusal
from hub.db import rollback_on_error
from hub.disclosure.models import PolicyRelease
from hub.disclosure.policy import (
    POLICY_DIR,
    CompiledPolicy,
    PolicyError,
    compiled,
    load_policy,
    policy_version,
)
from hub.disclosure.watcher import announce_release, prepare_announcement
from hub.vocabulary import AgencyKind, Role, SecurityEventTag

log = logging.getLogger("hub.policy")

# How stale a process's idea of the policy in force may be when a notification is lost.
CHECK_INTERVAL_SECONDS = 0.5
# How a release was made (PolicyRelease.released_via).
VIA_COMMAND_LINE = "command_line"
VIA_ADMIN_PAGE = "admin_page"


class PolicyUnavailable(PolicyError):
    """The newest release cannot be loaded or compiled: no decision is made (fail closed)."""


class ReleaseError(ValueError):
    """A release refused, with the reason for the person releasing; nothing was changed."""


class ReleaseNotPermitted(ReleaseError):
    """Only an administrator of the program office releases the program's policy."""


# --- the policy in force ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Known:
    """What this process last learned about one database's policy in force."""

    release_id: int | None  # None: no release yet, the files are in force
    policy: CompiledPolicy | None  # None: the release could not be compiled
    checked_at: float  # time.monotonic()
    generation: int  # _notifications when checked


_known: "weakref.WeakKeyDictionary[Engine, _Known]" = weakref.WeakKeyDictionary()
_notifications = 0


def heard_of_a_release() -> None:
    """Called on a notification (any message on the channel): check at the next decision."""
    global _notifications
    _notifications += 1


def policy_in_force(db: Session) -> CompiledPolicy:
    """The policy every decision on this database applies now. Costs a dictionary look-up,
    and twice a second (or after a notification) one query in the caller's transaction."""
    engine = db.get_bind().engine
    known = _known.get(engine)
    now = time.monotonic()
    if (
        known is None
        or known.generation != _notifications
        or now - known.checked_at >= CHECK_INTERVAL_SECONDS
    ):
        known = _check(db, known, now)
        _known[engine] = known
    if known.policy is None:
        raise PolicyUnavailable(
            f"policy release {known.release_id} cannot be compiled: no decision is made until "
            "a policy that compiles is released"
        )
    return known.policy


def _check(db: Session, known: _Known | None, now: float) -> _Known:
    generation = _notifications  # read first: a notification during the query is not lost
    newest = db.exec(
        select(PolicyRelease.id).order_by(col(PolicyRelease.id).desc()).limit(1)
    ).first()
    if newest is None:
        return _Known(None, load_policy(), now, generation)
    if known is not None and known.release_id == newest:
        return _Known(newest, known.policy, now, generation)  # a broken one stays refused
    row = db.exec(
        select(PolicyRelease.version, PolicyRelease.model_text, PolicyRelease.policy_text).where(
            PolicyRelease.id == newest
        )
    ).one()
    version, model_text, policy_text = row
    try:
        policy: CompiledPolicy | None = compiled(model_text, policy_text, version)
    except Exception as exc:  # any reason at all: refuse rather than decide on something else
        log.warning(
            "policy release %s (version %s) cannot be compiled (%s): decisions are refused",
            newest,
            str(version)[:12],
            type(exc).__name__,
        )
        policy = None
    return _Known(newest, policy, now, generation)


def forget_policy_in_force() -> None:
    """Drop what this process knows (tests that change the database under a running app)."""
    _known.clear()


# --- releasing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """The policy files of a directory, compiled and checked against its decision tables."""

    policy: CompiledPolicy
    model_text: str
    policy_text: str
    rows: int


def check_candidate(directory: Path | None = None) -> Candidate:
    """Reads, compiles and tests the policy in `directory` (policies/ by default) the way
    `hub policy test` does; raises ReleaseError saying what is wrong."""
    from hub.disclosure.tables import check, read_rows

    directory = directory or POLICY_DIR
    try:
        model_text = (directory / "model.conf").read_text()
        policy_text = (directory / "policy.csv").read_text()
    except OSError as exc:
        raise ReleaseError(
            f"the policy files cannot be read: {type(exc).__name__} ({exc.strerror})"
        ) from None
    try:
        policy = compiled(model_text, policy_text)
    except PolicyError as exc:
        raise ReleaseError(f"the policy does not compile: {exc}") from None
    paths = sorted((directory / "tests").glob("*.csv"))
    try:
        rows = read_rows(paths)
    except (OSError, ValueError, KeyError) as exc:
        raise ReleaseError(f"the decision tables cannot be read: {exc}") from None
    if not rows:
        raise ReleaseError("there are no decision tables (tests/*.csv) to check the policy with")
    mismatches = check(rows, policy)
    if mismatches:
        first = mismatches[0]
        raise ReleaseError(
            f"{len(mismatches)} of {len(rows)} rows of the decision tables fail, the first at "
            f"{first.row.source} (expected {first.row.values['expected']}, got {first.got}); "
            "run `hub policy test`"
        )
    return Candidate(policy, model_text, policy_text, len(rows))


@dataclass(frozen=True)
class Deployed:
    """The policy files deployed on this server (policies/); None where they cannot be read."""

    version: str | None
    policy_text: str | None


def deployed_policy() -> Deployed:
    try:
        model_text = (POLICY_DIR / "model.conf").read_text()
        policy_text = (POLICY_DIR / "policy.csv").read_text()
    except OSError:
        return Deployed(None, None)
    return Deployed(policy_version(model_text, policy_text), policy_text)


def newest_release(db: Session) -> PolicyRelease | None:
    return db.exec(select(PolicyRelease).order_by(col(PolicyRelease.id).desc()).limit(1)).first()


def release_history(db: Session, limit: int = 100) -> list[PolicyRelease]:
    """The releases, newest first."""
    return list(
        db.exec(select(PolicyRelease).order_by(col(PolicyRelease.id).desc()).limit(limit)).all()
    )


def may_release(viewer: Viewer) -> bool:
    # The policy binds every agency: its release is the program office's, not one agency's.
    return viewer.role == Role.admin and viewer.agency_kind == AgencyKind.program_office


@dataclass(frozen=True)
class Released:
    release: PolicyRelease
    announced: bool  # told the other processes through Redis (else: their version check)


def release_policy(
    db: Session,
    actor: Actor,
    *,
    via: str,
    directory: Path | None = None,
    released_by: Viewer | None = None,
) -> Released:
    """Makes the policy files of `directory` the policy in force everywhere: checks them
    (check_candidate), appends the release and a security event in one transaction, commits,
    and tells the other processes. `released_by` None is the server's operator (CLI).
    Raises ReleaseError (nothing changed) or ReleaseNotPermitted (the refusal is logged)."""
    if released_by is not None and not may_release(released_by):
        with rollback_on_error(db):
            append_refusal(db, actor, {"action": "release_policy"})
        raise ReleaseNotPermitted(
            "Only an administrator of the program office releases the disclosure policy."
        )
    candidate = check_candidate(directory)
    prepare_announcement(db.get_bind().engine)
    with rollback_on_error(db):
        previous = newest_release(db)
        if previous is not None and previous.version == candidate.policy.version:
            raise ReleaseError(
                f"policy {candidate.policy.version[:12]} is already in force "
                f"(release {previous.id}); nothing to release"
            )
        release = PolicyRelease(
            version=candidate.policy.version,
            model_text=candidate.model_text,
            policy_text=candidate.policy_text,
            released_by_id=None if released_by is None else released_by.user_id,
            released_via=via,
        )
        db.add(release)
        db.flush()
        append(
            db,
            actor,
            Event(
                kind="security",
                tag=SecurityEventTag.policy_released.value,
                outcome="success",
                policy_version=release.version,
                detail={
                    "release_id": release.id,
                    "previous_version": None if previous is None else previous.version,
                    "lines": candidate.policy.lines,
                    "table_rows": candidate.rows,
                    "via": via,
                },
            ),
        )
        db.commit()
    heard_of_a_release()
    return Released(release, announce_release(db.get_bind().engine))
