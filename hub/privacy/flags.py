"""Review flags: entries of the log (and security events in it) that a privacy officer should
look at, each with its reason (CJIS AU-6: review, analysis and reporting; HIPAA 164.308(a)(1)
information system activity review).

    compute_flags(db, days=7)          # idempotent: what is already flagged stays as it is
    review_flag(db, viewer, flag_id, note, actor)

Rules (thresholds in the site setting `privacy_flags`, see FlagSettings):
- break_glass: every break-glass opened, with the reads made under it;
- outside_relationship: record reads whose every basis is the role alone (no caseload,
  referral, office matter, consent or court order names the reader), per user and day;
- unusual_volume: a user's reads on one day above max(floor, mean + 3 sd) of their own previous
  30 days (days without reads count as 0);
- after_hours: reads outside the site's working hours (default weekdays 07:00-19:00, local);
- denied: reads withheld in full and refused actions (outcome withheld/denied), per user and day;
- sign_in_failures: a burst of failed sign-ins on one account or from one address;
- lockout: every account locked (CJIS AC-7);
- new_address: a sign-in from an address the user had not signed in from in 90 days;
- caseload_change: every caseload request, its approval or refusal, and every move of a client
  from one case manager to another (one flag per request or move);
- court_order_pending: every court order recorded, with its confirmation and copy downloads;
- new_access: an account created, approved, given a new role or enabled again (per request);
- witness_refused: every refusal of a checkpoint by a witness (split view or rollback).

A flag's `key` names the rule and the subject (a user's day, an entry). Recomputing adds the
entries not yet flagged under that key: to the open flag, or, if every flag under the key has
been reviewed, to a new one. Reviewing a flag is logged (privacy:flag:reviewed).
"""

import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlmodel import Session, col
from sqlmodel import select as select_entities

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append
from hub.audit.models import LogEntry
from hub.db import rollback_on_error, utcnow
from hub.notifications.services import notify, users_with_role
from hub.privacy.models import ReviewFlag
from hub.privacy.search import SeqRange, day_start, first_seq_from
from hub.referrals.rules import site_zone
from hub.site import read_setting
from hub.vocabulary import (
    DisclosureTag,
    FlagRule,
    FlagStatus,
    LogKind,
    LogOutcome,
    NotificationKind,
    Role,
    SecurityEventTag,
)

SETTING_NAME = "privacy_flags"
MAX_SEQS = 200  # a flag names at most this many entries (the first ones); its reason counts all
MAX_NOTE = 2000
# Bases that name the reader: a relationship, a consent or court order naming them, or a
# break-glass (flagged by its own rule).
_NAMED_BASES = ("relationship:", "consent:", "court_order:", "break_glass:")
_SIGN_IN_TAGS = frozenset(
    {
        SecurityEventTag.sign_in_failure.value,
        SecurityEventTag.sign_in_rate_limited.value,
        SecurityEventTag.sign_in_success.value,
    }
)
_T = LogEntry.__table__  # type: ignore[attr-defined]


class FlagError(ValueError):
    """The flag cannot be reviewed as asked; nothing changed."""


class FlagSettings(BaseModel):
    """The site's thresholds (site setting `privacy_flags`, a JSON object of these names)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    working_hours_start: time = time(7)
    working_hours_end: time = time(19)
    working_days: frozenset[int] = Field(default=frozenset(range(5)))  # Monday is 0
    volume_floor: int = Field(default=20, ge=1)
    volume_sd: float = Field(default=3.0, gt=0)
    volume_history_days: int = Field(default=30, ge=7, le=366)
    failure_burst: int = Field(default=3, ge=2)
    failure_window_minutes: int = Field(default=15, ge=1)
    new_address_days: int = Field(default=90, ge=1)


def flag_settings(db: Session) -> FlagSettings:
    """The site's thresholds; a malformed setting is refused (fail closed), not ignored."""
    try:
        return FlagSettings.model_validate(read_setting(db, SETTING_NAME, {}) or {})
    except ValidationError as exc:
        raise ValueError(f"site setting {SETTING_NAME} is malformed: {exc}") from None


@dataclass
class Finding:
    rule: FlagRule
    key: str
    reason: str
    log_seqs: list[int]
    subject_user_id: int | None = None
    person_id: int | None = None
    day: date | None = None
    # False where the finding only adds entries to a flag whose reason says more.
    restates_reason: bool = True


@dataclass
class _Row:
    seq: int
    recorded_at: datetime
    kind: str
    tag: str
    outcome: str
    actor_user_id: int | None
    person_id: int | None
    address: str | None
    detail: dict[str, Any]


def _rows(db: Session, span: SeqRange, *conditions: Any) -> Iterator[_Row]:
    columns = [
        _T.c[name]
        for name in (
            "seq",
            "recorded_at",
            "kind",
            "tag",
            "outcome",
            "actor_user_id",
            "person_id",
            "address",
            "detail",
        )
    ]
    query = select(*columns).where(*span.conditions(), *conditions).order_by(_T.c.seq)
    for row in db.execute(query.execution_options(yield_per=10_000)):
        (seq, recorded_at, kind, tag, outcome, user_id, person_id, address, detail) = row
        yield _Row(seq, recorded_at, kind, tag, outcome, user_id, person_id, address, detail or {})


def _capped(seqs: Iterable[int]) -> list[int]:
    return sorted(set(seqs))[:MAX_SEQS]


def _by_user_day(rows: Iterable[_Row], zone: tzinfo) -> dict[tuple[int | None, date], list[_Row]]:
    groups: dict[tuple[int | None, date], list[_Row]] = defaultdict(list)
    for row in rows:
        groups[(row.actor_user_id, row.recorded_at.astimezone(zone).date())].append(row)
    return groups


def _clients(rows: Iterable[_Row]) -> str:
    """ "client record 3", "2 clients (records 3 and 9)", or "": in a privacy officer's words;
    record numbers, since the console names clients only under break-glass."""
    ids = sorted({r.person_id for r in rows if r.person_id is not None})
    if not ids:
        return ""
    if len(ids) == 1:
        return f"client record {ids[0]}"
    shown = [str(i) for i in ids[:10]]
    more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
    listed = ", ".join(shown[:-1]) + f" and {shown[-1]}" if not more else ", ".join(shown) + more
    return f"{len(ids)} clients (records {listed})"


def _in_words(tag: str) -> str:
    """A log tag as a privacy officer reads it: "authz:access:denied" is "access denied"."""
    return " ".join(tag.split(":")[1:]).replace("_", " ")


def _times(count: int, noun: str) -> str:
    return f"1 {noun}" if count == 1 else f"{count} {noun}s"


def _of_clients(rows: Iterable[_Row]) -> str:
    """ ", of client record 3" or nothing: a sign-in or a search names no client."""
    named = _clients(rows)
    return f", of {named}" if named else ""


# --- the rules ----------------------------------------------------------------------------------


def _break_glass(rows: list[_Row]) -> list[Finding]:
    opened: dict[int, _Row] = {}
    used: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        if row.tag == SecurityEventTag.break_glass_opened.value and "id" in row.detail:
            opened[int(row.detail["id"])] = row
        elif row.kind == LogKind.disclosure.value:
            for basis in (row.detail.get("basis") or {}).values():
                if isinstance(basis, str) and basis.startswith("break_glass:"):
                    used[int(basis.split(":", 1)[1])].add(row.seq)
    findings = [
        # Reads under a break-glass opened before this run's window: added to its flag.
        Finding(
            FlagRule.break_glass,
            f"break_glass:{glass_id}",
            f"{_times(len(reads), 'read')} under break-glass {glass_id}.",
            _capped(reads),
            restates_reason=False,
        )
        for glass_id, reads in used.items()
        if glass_id not in opened
    ]
    for glass_id, row in opened.items():
        reads = used.get(glass_id, set())
        reason = str(row.detail.get("reason", ""))[:300]
        findings.append(
            Finding(
                FlagRule.break_glass,
                f"break_glass:{glass_id}",
                f"Break-glass {glass_id} opened on client record {row.person_id}"
                f" ({_times(len(reads), 'read')} under it). Reason given: {reason}",
                _capped([row.seq, *reads]),
                row.actor_user_id,
                row.person_id,
            )
        )
    return findings


def _outside_relationship(rows: list[_Row], zone: tzinfo) -> list[Finding]:
    reads = []
    for row in rows:
        if (
            row.tag != DisclosureTag.client_record_read.value
            or row.outcome != LogOutcome.disclosed.value
        ):
            continue
        bases = [
            str(b)
            for b in [*(row.detail.get("basis") or {}).values(), row.detail.get("participation")]
            if b
        ]
        if bases and not any(b.startswith(_NAMED_BASES) for b in bases):
            reads.append(row)
    findings = []
    for (user_id, day), group in sorted(_by_user_day(reads, zone).items(), key=_group_order):
        findings.append(
            Finding(
                FlagRule.outside_relationship,
                f"outside_relationship:user:{user_id}:{day.isoformat()}",
                f"{_times(len(group), 'read')}{_of_clients(group)} on the role alone: no "
                "caseload, referral, office matter, consent or court order names the reader.",
                _capped(r.seq for r in group),
                user_id,
                day=day,
            )
        )
    return findings


def _group_order(item: tuple[tuple[int | None, date], Any]) -> tuple[int, date]:
    (user_id, day), _ = item
    return (-1 if user_id is None else user_id, day)


def _unusual_volume(
    history: list[_Row], days: list[date], zone: tzinfo, settings: FlagSettings
) -> list[Finding]:
    per_day: dict[int, dict[date, list[int]]] = defaultdict(lambda: defaultdict(list))
    for row in history:
        if row.actor_user_id is not None:
            per_day[row.actor_user_id][row.recorded_at.astimezone(zone).date()].append(row.seq)
    findings = []
    for user_id in sorted(per_day):
        counts = per_day[user_id]
        for day in days:
            today = len(counts.get(day, []))
            if today <= settings.volume_floor:
                continue
            past = [
                len(counts.get(day - timedelta(days=n), []))
                for n in range(1, settings.volume_history_days + 1)
            ]
            mean = statistics.fmean(past)
            spread = statistics.pstdev(past)
            threshold = max(settings.volume_floor, mean + settings.volume_sd * spread)
            if today > threshold:
                findings.append(
                    Finding(
                        FlagRule.unusual_volume,
                        f"unusual_volume:user:{user_id}:{day.isoformat()}",
                        f"{today} reads on {day.isoformat()}; their previous "
                        f"{settings.volume_history_days} days averaged {mean:.1f} a day, "
                        f"so more than {threshold:.0f} in a day stands out.",
                        _capped(counts[day]),
                        user_id,
                        day=day,
                    )
                )
    return findings


def _outside_hours(moment: datetime, zone: tzinfo, settings: FlagSettings) -> bool:
    local = moment.astimezone(zone)
    if local.weekday() not in settings.working_days:
        return True
    return not settings.working_hours_start <= local.time() < settings.working_hours_end


def _after_hours(rows: list[_Row], zone: tzinfo, settings: FlagSettings) -> list[Finding]:
    late = [
        r
        for r in rows
        if r.kind == LogKind.disclosure.value
        and r.actor_user_id is not None
        and _outside_hours(r.recorded_at, zone, settings)
    ]
    hours = (
        f"{settings.working_hours_start:%H:%M}-{settings.working_hours_end:%H:%M} on "
        + ", ".join(
            ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d]
            for d in sorted(settings.working_days)
        )
    )
    return [
        Finding(
            FlagRule.after_hours,
            f"after_hours:user:{user_id}:{day.isoformat()}",
            f"{_times(len(group), 'read')} outside working hours ({hours}), the first at "
            f"{group[0].recorded_at.astimezone(zone):%H:%M}{_of_clients(group)}.",
            _capped(r.seq for r in group),
            user_id,
            day=day,
        )
        for (user_id, day), group in sorted(_by_user_day(late, zone).items(), key=_group_order)
    ]


def _denied(rows: list[_Row], zone: tzinfo) -> list[Finding]:
    refused = [
        r
        for r in rows
        if r.tag not in _SIGN_IN_TAGS
        and (
            r.outcome in (LogOutcome.withheld.value, LogOutcome.denied.value)
            or r.tag == SecurityEventTag.access_denied.value
        )
    ]
    findings = []
    for (user_id, day), group in sorted(_by_user_day(refused, zone).items(), key=_group_order):
        tags = sorted({_in_words(r.tag) for r in group})
        who = "an unidentified caller" if user_id is None else "the user"
        findings.append(
            Finding(
                FlagRule.denied,
                f"denied:user:{user_id}:{day.isoformat()}",
                f"{_times(len(group), 'attempt')} by {who} withheld in full or refused "
                f"({', '.join(tags)})"
                + (f"; {_clients(group)}" if any(r.person_id for r in group) else "")
                + ".",
                _capped(r.seq for r in group),
                user_id,
                day=day,
            )
        )
    return findings


def _bursts(rows: list[_Row], settings: FlagSettings) -> bool:
    window = timedelta(minutes=settings.failure_window_minutes)
    times = sorted(r.recorded_at for r in rows)
    n = settings.failure_burst
    return any(times[i + n - 1] - times[i] <= window for i in range(len(times) - n + 1))


def _sign_in_failures(rows: list[_Row], zone: tzinfo, settings: FlagSettings) -> list[Finding]:
    by_account: dict[tuple[int, date], list[_Row]] = defaultdict(list)
    by_address: dict[tuple[str, date], list[_Row]] = defaultdict(list)
    for row in rows:
        if row.tag not in (
            SecurityEventTag.sign_in_failure.value,
            SecurityEventTag.sign_in_rate_limited.value,
        ):
            continue
        day = row.recorded_at.astimezone(zone).date()
        account = row.detail.get("account_id")
        if isinstance(account, int):
            by_account[(account, day)].append(row)
        else:
            by_address[(row.address or "unknown", day)].append(row)
    findings = []
    window = settings.failure_window_minutes
    for (account, day), group in sorted(by_account.items()):
        if _bursts(group, settings):
            findings.append(
                Finding(
                    FlagRule.sign_in_failures,
                    f"sign_in_failures:account:{account}:{day.isoformat()}",
                    f"{len(group)} failed sign-in(s) on this account on {day.isoformat()}, "
                    f"{settings.failure_burst} or more within {window} minutes, from "
                    f"{len({r.address for r in group})} address(es).",
                    _capped(r.seq for r in group),
                    account,
                    day=day,
                )
            )
    for (address, day), group in sorted(by_address.items()):
        if _bursts(group, settings) or any(
            r.tag == SecurityEventTag.sign_in_rate_limited.value for r in group
        ):
            findings.append(
                Finding(
                    FlagRule.sign_in_failures,
                    f"sign_in_failures:address:{address}:{day.isoformat()}",
                    f"{len(group)} failed or refused sign-in(s) for unknown accounts from "
                    f"{address} on {day.isoformat()}.",
                    _capped(r.seq for r in group),
                    day=day,
                )
            )
    return findings


def _lockouts(rows: list[_Row]) -> list[Finding]:
    return [
        Finding(
            FlagRule.lockout,
            f"lockout:{row.seq}",
            "Account locked after repeated failed sign-ins (CJIS AC-7); an administrator "
            "releases it.",
            [row.seq],
            row.detail.get("account_id") if isinstance(row.detail.get("account_id"), int) else None,
        )
        for row in rows
        if row.tag == SecurityEventTag.account_locked.value
    ]


def _new_addresses(
    sign_ins: list[_Row], window_start: datetime, settings: FlagSettings
) -> list[Finding]:
    seen: dict[int, list[tuple[datetime, str | None]]] = defaultdict(list)
    findings = []
    horizon = timedelta(days=settings.new_address_days)
    for row in sign_ins:  # in seq order, so each sees only earlier sign-ins
        if row.actor_user_id is None:
            continue
        earlier = [(t, a) for t, a in seen[row.actor_user_id] if row.recorded_at - t <= horizon]
        if (
            row.recorded_at >= window_start
            and earlier
            and row.address not in {a for _, a in earlier}
        ):
            findings.append(
                Finding(
                    FlagRule.new_address,
                    f"new_address:{row.seq}",
                    f"Signed in from {row.address}, an address not used by this account in the "
                    f"previous {settings.new_address_days} days "
                    f"({len({a for _, a in earlier})} known).",
                    [row.seq],
                    row.actor_user_id,
                )
            )
        seen[row.actor_user_id].append((row.recorded_at, row.address))
    return findings


# Issue 12: access widened through a second person is still reviewed (CJIS AU-6, AC-5). Each
# tag's words say where the request or order stands after it ("" leaves that as it was).
_SECOND_PERSON_TAGS = {
    SecurityEventTag.caseload_requested.value: "requested, awaiting a supervisor",
    SecurityEventTag.caseload_request_approved.value: "approved by a supervisor",
    SecurityEventTag.caseload_request_refused.value: "refused by a supervisor",
    SecurityEventTag.caseload_assigned.value: "",
    SecurityEventTag.court_order_recorded.value: "recorded, awaiting a second privacy officer",
    SecurityEventTag.court_order_confirmed.value: "confirmed by a second privacy officer",
    SecurityEventTag.court_order_document_read.value: "",
}


def _second_person_key(row: _Row) -> tuple[FlagRule, str, str] | None:
    d, tag = row.detail, row.tag
    if tag not in _SECOND_PERSON_TAGS:
        return None
    if "caseload_request_id" in d:
        number = d["caseload_request_id"]
        return (
            FlagRule.caseload_change,
            f"caseload_change:request:{number}",
            f"Caseload request {number}",
        )
    if tag == SecurityEventTag.caseload_assigned.value and d.get("previous_user_ids"):
        # A supervisor's direct move from one case manager to another.
        number = d.get("assignment_id")
        return (
            FlagRule.caseload_change,
            f"caseload_change:assignment:{number}",
            f"Caseload assignment {number} (the client moved from another case manager)",
        )
    if tag.startswith("privacy:court_order:") and "id" in d:
        return FlagRule.court_order_pending, f"court_order:{d['id']}", f"Court order {d['id']}"
    return None


def _second_person(rows: list[_Row]) -> list[Finding]:
    """caseload_change and court_order_pending: one flag per request, move or order."""
    groups: dict[tuple[FlagRule, str, str], list[_Row]] = defaultdict(list)
    for row in rows:
        if (found := _second_person_key(row)) is not None:
            groups[found].append(row)
    findings = []
    for (rule, key, what), group in groups.items():
        states = [_SECOND_PERSON_TAGS[r.tag] for r in group if _SECOND_PERSON_TAGS[r.tag]]
        findings.append(
            Finding(
                rule,
                key,
                f"{what} for client record {group[0].person_id}: "
                f"{states[-1] if states else 'done'}.",
                _capped(r.seq for r in group),
                group[0].actor_user_id,
                group[0].person_id,
                restates_reason=bool(states),
            )
        )
    return findings


_NEW_ACCESS_TAGS = frozenset(
    {
        SecurityEventTag.user_created.value,
        SecurityEventTag.access_requested.value,
        SecurityEventTag.access_approved.value,
        SecurityEventTag.user_changed.value,
    }
)


def _new_access(rows: list[_Row]) -> list[Finding]:
    """CJIS AC-2: every account created, approved, given a new role or enabled again, one flag
    per request (its creation, request and approval together)."""
    groups: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.tag in _NEW_ACCESS_TAGS and isinstance(row.detail.get("account_id"), int):
            request = row.detail.get("request_id")
            groups[f"request:{request}" if isinstance(request, int) else f"entry:{row.seq}"].append(
                row
            )
    findings = []
    for subject, group in groups.items():
        account = group[0].detail["account_id"]
        done = ", ".join(sorted({r.tag.rsplit(":", 1)[-1] for r in group}))
        actors = ", ".join(sorted({f"user {r.actor_user_id}" for r in group if r.actor_user_id}))
        findings.append(
            Finding(
                FlagRule.new_access,
                f"new_access:{subject}",
                f"New access for account {account} ({done}) by "
                f"{actors or 'the operator at the command line'}: check it was asked for and "
                "approved by two different people (CJIS AC-2, AC-5).",
                _capped(r.seq for r in group),
                account,
            )
        )
    return findings


_WITNESS_REFUSALS = {
    "split_view": "holds another tree of the same size (a split view)",
    "not_consistent": "holds a tree this log does not extend (a split view)",
    "rollback": "holds a larger tree than this log (entries lost: a rollback)",
}


def _witness_refusals(rows: list[_Row]) -> list[Finding]:
    """Issue 19: a witness would not cosign the log's checkpoint; one flag per refusal."""
    return [
        Finding(
            FlagRule.witness_refused,
            f"witness_refused:{row.seq}",
            f"Witness {row.detail.get('witness')} refused the checkpoint of size "
            f"{row.detail.get('tree_size')}: it "
            f"{_WITNESS_REFUSALS.get(str(row.detail.get('refused')), 'refused it')} at size "
            f"{row.detail.get('witness_size')}. Ask the hub's administrator to check the log "
            "against the witness's copy (docs/audit-log.md, Witnesses).",
            [row.seq],
        )
        for row in rows
        if row.tag == SecurityEventTag.witness_refused.value
    ]


def find(db: Session, since: datetime, now: datetime | None = None) -> list[Finding]:
    """Every finding about entries recorded since `since` (a site-local day start)."""
    now = now or utcnow()
    zone = site_zone(db)
    settings = flag_settings(db)
    start = first_seq_from(db, since)
    if start is None:
        return []
    span = SeqRange(lo=start)
    rows = list(_rows(db, span))
    findings = [
        *_break_glass(rows),
        *_outside_relationship(rows, zone),
        *_after_hours(rows, zone, settings),
        *_denied(rows, zone),
        *_sign_in_failures(rows, zone, settings),
        *_lockouts(rows),
        *_second_person(rows),
        *_new_access(rows),
        *_witness_refusals(rows),
    ]
    history_start = first_seq_from(
        db, since - timedelta(days=max(settings.volume_history_days, 1) + 1)
    )
    history = list(_rows(db, SeqRange(lo=history_start), _T.c.kind == LogKind.disclosure.value))
    first_day = since.astimezone(zone).date()
    days = [
        first_day + timedelta(days=n)
        for n in range((now.astimezone(zone).date() - first_day).days + 1)
    ]
    findings += _unusual_volume(history, days, zone, settings)
    address_start = first_seq_from(db, since - timedelta(days=settings.new_address_days))
    sign_ins = list(
        _rows(
            db,
            SeqRange(lo=address_start),
            _T.c.tag == SecurityEventTag.sign_in_success.value,
        )
    )
    findings += _new_addresses(sign_ins, since, settings)
    return findings


# --- keeping flags ------------------------------------------------------------------------------


@dataclass
class FlagRun:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    since: datetime | None = None


def _keep(db: Session, finding: Finding, now: datetime, run: FlagRun) -> None:
    flags = list(
        db.exec(
            select_entities(ReviewFlag)
            .where(col(ReviewFlag.key) == finding.key)
            .order_by(col(ReviewFlag.id))
        )
    )
    known = {seq for flag in flags for seq in flag.log_seqs}
    new = [seq for seq in finding.log_seqs if seq not in known]
    if flags and not new:
        return
    open_flag = next((f for f in flags if f.status == FlagStatus.open), None)
    if open_flag is not None:
        open_flag.log_seqs = _capped([*open_flag.log_seqs, *new])
        if finding.restates_reason:
            open_flag.reason = finding.reason[:1000]
        open_flag.updated_at = now
        db.add(open_flag)
        db.flush()
        run.updated.append(open_flag.id)  # type: ignore[arg-type]
        return
    flag = ReviewFlag(
        rule=finding.rule,
        key=finding.key,
        subject_user_id=finding.subject_user_id,
        person_id=finding.person_id,
        day=finding.day,
        reason=finding.reason[:1000],
        log_seqs=new,
        created_at=now,
        updated_at=now,
    )
    db.add(flag)
    db.flush()
    run.created.append(flag.id)  # type: ignore[arg-type]


def compute_flags(db: Session, actor: Actor, days: int = 7, now: datetime | None = None) -> FlagRun:
    """Flags the entries of the last `days` site-local days (today included) that the rules
    find, keeping what is already flagged; logs the run when it changed something or a person
    asked for it, and commits. Running it twice in a row changes nothing the second time."""
    if not 1 <= days <= 400:
        raise ValueError("flags are computed over 1 to 400 days")
    now = now or utcnow()
    with rollback_on_error(db):
        zone = site_zone(db)
        since = day_start(now.astimezone(zone).date() - timedelta(days=days - 1), zone)
        run = FlagRun(since=since)
        for finding in find(db, since, now):
            _keep(db, finding, now, run)
        if run.created or run.updated or actor.user_id is not None:
            append(
                db,
                actor,
                Event(
                    kind=LogKind.security,
                    tag=SecurityEventTag.flags_computed,
                    outcome=LogOutcome.success,
                    detail={
                        "since": since.isoformat(),
                        "created": run.created,
                        "updated": run.updated,
                    },
                ),
            )
        if run.created:
            # One note per run that found something new, in the run's transaction.
            notify(
                db,
                users_with_role(db, Role.privacy_officer),
                NotificationKind.review_flags_new,
                "/privacy/flags",
                f"review_flags:{min(run.created)}",
            )
        db.commit()
    return run


def review_flag(db: Session, viewer: Viewer, flag_id: int, note: str, actor: Actor) -> ReviewFlag:
    """Marks a flag reviewed with the reviewer's note, logged (privacy:flag:reviewed) in the
    same transaction, and commits. A privacy officer does not review a flag about themselves."""
    with rollback_on_error(db):
        if viewer.role != Role.privacy_officer:
            raise FlagError("Only a privacy officer reviews flags.")
        flag = db.get(ReviewFlag, flag_id)
        if flag is None:
            raise FlagError("No such flag.")
        if flag.status == FlagStatus.reviewed:
            raise FlagError("This flag is already reviewed.")
        if flag.subject_user_id == viewer.user_id:
            raise FlagError(
                "A flag about your own activity is reviewed by another privacy officer."
            )
        note = note.strip()
        if not note or len(note) > MAX_NOTE:
            raise FlagError(f"Write a review note (at most {MAX_NOTE} characters).")
        flag.status = FlagStatus.reviewed
        flag.reviewed_by_id = viewer.user_id
        flag.reviewed_at = utcnow()
        flag.review_note = note
        db.add(flag)
        db.flush()
        # The entry names the reviewer, whatever actor the caller passed.
        reviewer = replace(
            actor, user_id=viewer.user_id, role=viewer.role.value, agency_id=viewer.agency_id
        )
        append(
            db,
            reviewer,
            Event(
                kind=LogKind.security,
                tag=SecurityEventTag.flag_reviewed,
                outcome=LogOutcome.success,
                person_id=flag.person_id,
                purpose="oversight",
                detail={"review_flag_id": flag.id, "rule": flag.rule.value},
            ),
        )
        db.commit()
    return flag


@dataclass(frozen=True)
class FlagPage:
    flags: list[ReviewFlag]
    next_before: int | None


def list_flags(
    db: Session,
    *,
    status: FlagStatus | None = FlagStatus.open,
    rule: FlagRule | None = None,
    subject_user_id: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> FlagPage:
    """Flags newest first, keyset-paged on id."""
    query = select_entities(ReviewFlag)
    if status is not None:
        query = query.where(col(ReviewFlag.status) == status)
    if rule is not None:
        query = query.where(col(ReviewFlag.rule) == rule)
    if subject_user_id is not None:
        query = query.where(col(ReviewFlag.subject_user_id) == subject_user_id)
    if before is not None:
        query = query.where(col(ReviewFlag.id) < before)
    flags = list(db.exec(query.order_by(col(ReviewFlag.id).desc()).limit(limit + 1)))
    more = len(flags) > limit
    flags = flags[:limit]
    return FlagPage(flags, flags[-1].id if more else None)


def open_flags_by_rule(db: Session) -> list[tuple[FlagRule, int]]:
    """How many review flags are open, for every rule (zero where none): one GROUP BY."""
    found = dict(
        db.execute(
            select(col(ReviewFlag.rule), func.count())
            .where(col(ReviewFlag.status) == FlagStatus.open)
            .group_by(col(ReviewFlag.rule))
        ).all()
    )
    return [(rule, int(found.get(rule, 0))) for rule in FlagRule]
