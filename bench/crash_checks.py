"""The checks of the crash test (bench/crash.py), run after the load has stopped.

Each check returns a `Check`: passed or not, a one-line summary with its counts, and the first
few offenders. They read the load's journal (one JSON line per response: request_id, page,
method, status, discloses, write {kind, marker} or null, at) and the database, through the
hub's own models so that sealed text is opened with the hub's own keys.

A response is *acknowledged* when it reached the client with a 2xx or 3xx status. Connection
errors while the server is dead (no status, or status 0) and error statuses acknowledge
nothing, so they are never held against the hub.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hubserver import PROJECT_ROOT

SHOWN = 5  # offenders printed per failed check


@dataclass
class Check:
    name: str
    passed: bool
    summary: str
    offenders: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = f"{'PASS' if self.passed else 'FAIL'} {self.name}: {self.summary}"
        return [head, *(f"    {offender}" for offender in self.offenders[:SHOWN])]


# --- the journal ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    request_id: str | None
    page: str
    method: str
    status: int
    discloses: bool
    write: dict[str, str] | None
    at: str

    @property
    def acknowledged(self) -> bool:
        return 200 <= self.status < 400

    def describe(self) -> str:
        return (
            f"{self.method} {self.page} -> {self.status} at {self.at} (request {self.request_id})"
        )


@dataclass
class Journal:
    responses: list[Response]
    unreadable: int = 0

    @classmethod
    def read(cls, path: Path) -> Journal:
        responses, unreadable = [], 0
        for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                responses.append(
                    Response(
                        request_id=raw.get("request_id") or None,
                        page=str(raw.get("page", "")),
                        method=str(raw.get("method", "")),
                        status=int(raw.get("status") or 0),
                        discloses=bool(raw.get("discloses")),
                        write=raw.get("write") or None,
                        at=str(raw.get("at", "")),
                    )
                )
            except (ValueError, TypeError, AttributeError):
                unreadable += 1
        return cls(responses, unreadable)

    @property
    def acknowledged(self) -> list[Response]:
        return [r for r in self.responses if r.acknowledged]

    def summary(self) -> str:
        by_status: dict[str, int] = defaultdict(int)
        for r in self.responses:
            by_status[_status_class(r.status)] += 1
        parts = ", ".join(f"{count} {name}" for name, count in sorted(by_status.items()))
        return f"{len(self.responses)} responses ({parts}); {self.unreadable} unreadable lines"


def _status_class(status: int) -> str:
    if status <= 0:
        return "connection errors"
    return f"{status // 100}xx"


# --- a. hub audit verify --------------------------------------------------------------------------


def audit_verify(env: dict[str, str]) -> Check:
    done = subprocess.run(
        [sys.executable, "-m", "hub", "audit", "verify"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    figures = dict(re.findall(r"^(entries checked|tree heads checked): (\d+)$", done.stdout, re.M))
    # A warning (a change the database refused) means the hub tried to alter the log: a bug
    # even when nothing was altered, so it fails the check too.
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    intact = done.returncode == 0 and "OK: the log is intact." in done.stdout and not warnings
    summary = (
        f"`hub audit verify` exit {done.returncode}: {figures.get('entries checked', '?')} "
        f"entries, {figures.get('tree heads checked', '?')} signed tree heads, "
        f"{len(warnings)} warnings"
    )
    problems = [line for line in done.stderr.splitlines() if line.strip()]
    return Check("a. audit verify", intact, summary, problems)


# --- b. every acknowledged disclosure is in the log -----------------------------------------------


def _chunks(values: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def logged_request_ids(db: Any, request_ids: Iterable[str]) -> set[str]:
    from sqlmodel import col, select

    from hub.audit.models import LogEntry

    wanted = sorted(set(request_ids))
    found: set[str] = set()
    for chunk in _chunks(wanted):
        found.update(
            db.exec(select(LogEntry.request_id).where(col(LogEntry.request_id).in_(chunk))).all()
        )
    return found


def disclosures_logged(db: Any, journal: Journal) -> Check:
    shown = [r for r in journal.acknowledged if r.discloses]
    found = logged_request_ids(db, [r.request_id for r in shown if r.request_id])
    missing = [r for r in shown if r.request_id not in found]
    return Check(
        "b. disclosures logged",
        bool(shown) and not missing,
        f"{len(shown)} acknowledged responses carried client data; {len(shown) - len(missing)} "
        f"have their disclosure entry, {len(missing)} do not"
        + (f" ({_by_page(missing)})" if missing else ""),
        [f"no log entry for {r.describe()}" for r in missing],
    )


def _by_page(responses: Iterable[Response]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for r in responses:
        counts[r.page] += 1
    return ", ".join(f"{page} {n}" for page, n in sorted(counts.items(), key=lambda i: -i[1]))


# --- c. every acknowledged write is in the database -----------------------------------------------


def _finders() -> dict[str, tuple[Any, str]]:
    """Each kind of write the load makes: the table it lands in and the text the marker is in.
    Sealed columns come back opened, through the hub's own EncryptedText."""
    from hub.charging.models import ChargingDecision
    from hub.clients.models import CaseNote
    from hub.workgroup.models import ActionItem, DiscussionFlag, ItemEntry

    return {
        "case_note": (CaseNote, "body"),
        "charging_decision": (ChargingDecision, "note"),
        "item_entry": (ItemEntry, "body"),
        "work_group_entry": (ItemEntry, "body"),
        "action_item": (ActionItem, "description"),
        "discussion_flag": (DiscussionFlag, "note"),
    }


def table_high_water(db: Any) -> dict[str, int]:
    """The highest id in each table the load writes to, and the log's size: taken after the
    demo is built, so that the checks look only at what the load added."""
    from sqlmodel import func, select

    from hub.audit.models import LogEntry

    marks = {}
    for model, _column in _finders().values():
        marks[model.__tablename__] = int(db.exec(select(func.max(model.id))).one() or 0)
    highest = db.exec(select(func.max(LogEntry.seq))).one()
    marks["log_entry"] = -1 if highest is None else int(highest)
    return marks


def _texts(db: Any, model: Any, column: str, after_id: int) -> list[str]:
    from sqlmodel import col, select

    rows = db.exec(select(model).where(col(model.id) > after_id)).all()
    return [getattr(row, column) or "" for row in rows]


def writes_kept(db: Any, journal: Journal, since: dict[str, int]) -> Check:
    writes = [r for r in journal.acknowledged if r.write]
    finders = _finders()
    by_kind: dict[str, list[Response]] = defaultdict(list)
    for r in writes:
        by_kind[str(r.write.get("kind") if r.write else "")].append(r)
    offenders, counts = [], []
    for kind, responses in sorted(by_kind.items()):
        if kind not in finders:
            offenders += [
                f"no way to find a write of kind {kind!r}: {r.describe()}" for r in responses
            ]
            continue
        model, column = finders[kind]
        stored = "\n".join(_texts(db, model, column, since.get(model.__tablename__, 0)))
        lost = [
            r
            for r in responses
            if not (r.write or {}).get("marker") or r.write["marker"] not in stored
        ]
        counts.append(f"{kind} {len(responses) - len(lost)}/{len(responses)}")
        offenders += [
            f"{kind} {r.write['marker']!r} not in the database: {r.describe()}" for r in lost
        ]
    # The write's own log entry (note created, decision recorded) commits with it.
    logged = logged_request_ids(db, [r.request_id for r in writes if r.request_id])
    unlogged = [r for r in writes if r.request_id not in logged]
    offenders += [f"no log entry for the write {r.describe()}" for r in unlogged]
    return Check(
        "c. acknowledged writes kept",
        bool(writes) and not offenders,
        f"{len(writes)} acknowledged writes found by their marker: {', '.join(counts) or 'none'}; "
        f"{len(writes) - len(unlogged)} with their log entry",
        offenders,
    )


# --- d. nothing half-written ----------------------------------------------------------------------


def _entries_tagged(db: Any, tag: str, after_seq: int) -> list[Any]:
    from sqlmodel import col, select

    from hub.audit.models import LogEntry

    return list(
        db.exec(
            select(LogEntry).where(LogEntry.tag == tag).where(col(LogEntry.seq) > after_seq)
        ).all()
    )


def records_whole(db: Any, since: dict[str, int]) -> Check:
    """Rows written during the load and the log entries that record them, in both directions:
    no note or decision without its entry, no entry naming a row that is not there, and every
    log entry or signed head that a row points to exists."""
    from sqlmodel import col, func, select

    from hub.audit.models import LogEntry, TreeHead

    highest = db.exec(select(func.max(LogEntry.seq))).one()
    log_size = 0 if highest is None else int(highest) + 1
    heads = set(db.exec(select(col(TreeHead.id))).all())
    offenders: list[str] = []
    notes, note_entries = _notes_whole(db, since, offenders)
    decisions, bound = _decisions_whole(db, since, log_size, heads, offenders)
    return Check(
        "d. nothing half-written (rows and entries)",
        not offenders,
        f"{notes} new case notes and {decisions} new charging decisions, each with its log "
        f"entry and no entry naming a missing one ({note_entries} and {decisions} entries); "
        f"{bound} bound disclosures and every flagged entry exist in the log",
        offenders,
    )


def _notes_whole(db: Any, since: dict[str, int], offenders: list[str]) -> tuple[int, int]:
    from sqlmodel import col, select

    from hub.clients.models import CaseNote
    from hub.vocabulary import SecurityEventTag

    tag = SecurityEventTag.case_note_created.value
    notes = set(db.exec(select(CaseNote.id).where(col(CaseNote.id) > since["case_note"])).all())
    entries = {
        (e.detail or {}).get("note_id"): e.seq for e in _entries_tagged(db, tag, since["log_entry"])
    }
    offenders += [f"case note {n} has no {tag} entry" for n in sorted(notes - set(entries))]
    offenders += [
        f"log entry {seq} names case note {n}, which is not there"
        for n, seq in entries.items()
        if n not in notes
    ]
    return len(notes), len(entries)


def _decisions_whole(
    db: Any, since: dict[str, int], log_size: int, heads: set[int], offenders: list[str]
) -> tuple[int, int]:
    """Each new decision: its decision_recorded entry, bound disclosures equal to what the
    entry lists and all in the log, its tree head stored; flags name entries in the log."""
    from sqlmodel import col, select

    from hub.charging.models import ChargingDecision, DecisionDisclosure, DecisionFlag
    from hub.vocabulary import SecurityEventTag

    tag = SecurityEventTag.decision_recorded.value
    decisions = {
        d.id: d
        for d in db.exec(
            select(ChargingDecision).where(col(ChargingDecision.id) > since["charging_decision"])
        ).all()
    }
    entries = {
        (e.detail or {}).get("decision_id"): e for e in _entries_tagged(db, tag, since["log_entry"])
    }
    bound_count = 0
    for decision_id, decision in sorted(decisions.items()):
        entry = entries.get(decision_id)
        if entry is None:
            offenders.append(f"charging decision {decision_id} has no {tag} entry")
            continue
        bound = sorted(
            db.exec(
                select(DecisionDisclosure.log_seq).where(
                    DecisionDisclosure.decision_id == decision_id
                )
            ).all()
        )
        bound_count += len(bound)
        if bound != sorted((entry.detail or {}).get("bound_seqs", [])):
            offenders.append(f"decision {decision_id}: bound entries differ from entry {entry.seq}")
        offenders += [
            f"decision {decision_id} binds log entry {seq}, which is not there"
            for seq in bound
            if not 0 <= seq < log_size
        ]
        if decision.tree_head_id is not None and decision.tree_head_id not in heads:
            offenders.append(f"decision {decision_id} binds a missing tree head")
    offenders += [
        f"log entry {e.seq} names charging decision {d}, which is not there"
        for d, e in entries.items()
        if d not in decisions
    ]
    for flag in db.exec(select(DecisionFlag)).all():
        offenders += [
            f"decision flag {flag.id} names log entry {seq}, which is not there"
            for seq in flag.log_seqs
            if not 0 <= seq < log_size
        ]
    return len(decisions), bound_count


def pushed_checkpoints(db: Any, directory: Path) -> Check:
    """Every checkpoint pushed out of the database is a head the database still holds: a head
    pushed and then lost would be a fork on the next signing."""
    from sqlmodel import select

    from hub.audit.models import TreeHead

    stored = {head.tree_size: head.signed_note for head in db.exec(select(TreeHead)).all()}
    files = sorted(directory.glob("*.checkpoint")) if directory.exists() else []
    offenders = [
        f"{path.name} is not the head the database holds at that size"
        for path in files
        if stored.get(int(path.stem)) != path.read_text(encoding="utf-8")
    ]
    leftovers = sorted(directory.glob(".checkpoint-*")) if directory.exists() else []
    return Check(
        "d. pushed checkpoints",
        bool(files) and not offenders,
        f"{len(files)} checkpoints pushed to {directory.name}/, each one a head in tree_head "
        f"({len(stored)} heads); {len(leftovers)} unfinished temporary files left by the kill",
        offenders,
    )


# --- d. the storage itself ------------------------------------------------------------------------


SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def snapshot_sqlite(database: Path, into: Path) -> Path:
    """Copy the database and its side files as the kill left them (no process has them open)."""
    into.mkdir(parents=True, exist_ok=True)
    for suffix in ("", *SQLITE_SIDE_FILES):
        source = database.with_name(database.name + suffix)
        if source.exists():
            shutil.copy2(source, into / source.name)
    return into / database.name


def sqlite_sound(path: Path, label: str) -> Check:
    """The next open succeeds (recovering the WAL if the kill left one), integrity_check and
    foreign_key_check find nothing."""
    sides = {
        suffix: path.with_name(path.name + suffix).stat().st_size
        for suffix in SQLITE_SIDE_FILES
        if path.with_name(path.name + suffix).exists()
    }
    try:
        with sqlite3.connect(path) as conn:
            journal_mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
            entries = conn.execute("SELECT count(*) FROM log_entry").fetchone()[0]
        conn.close()
    except sqlite3.Error as exc:
        return Check(f"d. SQLite {label}", False, f"could not be opened: {exc}")
    offenders = [] if integrity == ["ok"] else integrity
    offenders += [f"foreign key broken: {row}" for row in foreign]
    found = ", ".join(f"{s} {n} bytes" for s, n in sides.items()) or "no side files"
    return Check(
        f"d. SQLite {label}",
        not offenders,
        f"{found}; opened in {journal_mode} mode, integrity_check "
        f"{'ok' if integrity == ['ok'] else 'FAILED'}, {len(foreign)} broken foreign keys, "
        f"{entries} log entries",
        offenders,
    )


def verify_snapshot(path: Path) -> Check:
    """The log exactly as the kill left it (before the restart wrote anything) verifies."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from hub.audit.checkpoint import verifier_key
    from hub.audit.notes import Verifier
    from hub.audit.verify import verify_log

    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        report = verify_log(engine, Verifier.parse(verifier_key()))
    finally:
        engine.dispose()
    return Check(
        "d. log as the kill left it",
        report.ok,
        f"verify on the snapshot: {report.entries} entries, {report.heads} signed heads",
        [str(p) for p in report.problems],
    )


@dataclass
class Backends:
    """PostgreSQL backends of the run's database seen after a kill (before the restart)."""

    at_kill: list[tuple[int, str]]
    left: list[tuple[int, str]]
    waited: float


def postgres_backends(admin_url: str, database: str) -> list[tuple[int, str]]:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid, coalesce(state, '') FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return [(int(pid), str(state)) for pid, state in rows]


def postgres_after_kill(seen: Backends, number: int) -> Check:
    open_at_kill = [
        state
        for _pid, state in seen.at_kill
        if state.startswith("idle in transaction") or state == "active"
    ]
    return Check(
        f"d. PostgreSQL after kill {number}",
        not seen.left,
        f"{len(seen.at_kill)} backends of the dead server right after the kill "
        f"({len(open_at_kill)} in a transaction or a statement); {len(seen.left)} left after "
        f"{seen.waited:.1f} s",
        [f"backend {pid} still {state or 'there'}" for pid, state in seen.left],
    )


def postgres_at_end(admin_url: str, database: str) -> Check:
    import psycopg

    left = postgres_backends(admin_url, database)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        prepared = conn.execute(
            "SELECT gid FROM pg_prepared_xacts WHERE database = %s", (database,)
        ).fetchall()
        durability = {
            name: str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
            for name in ("synchronous_commit", "fsync", "full_page_writes")
        }
        advisory = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND d.datname = %s",
            (database,),
        ).fetchone()
    offenders = [f"backend {pid} still {state}" for pid, state in left]
    offenders += [f"prepared transaction {gid} left" for (gid,) in prepared]
    held = int(advisory[0]) if advisory else 0
    if held:
        offenders.append(f"{held} advisory locks still held")
    return Check(
        "d. PostgreSQL at the end",
        not offenders,
        f"{len(left)} backends, {len(prepared)} prepared transactions, {held} advisory locks "
        "left once the server stopped; server durability: "
        + ", ".join(f"{name}={value}" for name, value in durability.items()),
        offenders,
    )
