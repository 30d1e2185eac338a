"""A run of the flag rules over the log: find, then keep each finding on its flag."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col
from sqlmodel import select as select_entities

from hub.audit.log import Actor, Event, append
from hub.db import ident, rollback_on_error, utcnow
from hub.notifications.services import notify, users_with_role
from hub.privacy.flags import read_rules, security_rules
from hub.privacy.flags.findings import LOG_TABLE, Finding, capped, log_rows
from hub.privacy.flags.thresholds import flag_settings
from hub.privacy.models import ReviewFlag
from hub.privacy.search import SeqRange, day_start, first_seq_from
from hub.referrals.rules import site_zone
from hub.vocabulary import (
    FlagStatus,
    LogKind,
    LogOutcome,
    NotificationKind,
    Role,
    SecurityEventTag,
)


def find(db: Session, since: datetime, now: datetime | None = None) -> list[Finding]:
    """Every finding about entries recorded since `since` (a site-local day start)."""
    now = now or utcnow()
    zone = site_zone(db)
    settings = flag_settings(db)
    start = first_seq_from(db, since)
    if start is None:
        return []
    span = SeqRange(lo=start)
    rows = list(log_rows(db, span))
    findings = [
        *read_rules.break_glass(rows),
        *read_rules.outside_relationship(rows, zone),
        *read_rules.after_hours(rows, zone, settings),
        *read_rules.denied(rows, zone),
        *security_rules.sign_in_failures(rows, zone, settings),
        *security_rules.lockouts(rows),
        *security_rules.second_person(rows),
        *security_rules.new_access(rows),
        *security_rules.witness_refusals(rows),
    ]
    history_start = first_seq_from(
        db, since - timedelta(days=max(settings.volume_history_days, 1) + 1)
    )
    history = list(
        log_rows(db, SeqRange(lo=history_start), LOG_TABLE.c.kind == LogKind.disclosure.value)
    )
    first_day = since.astimezone(zone).date()
    days = [
        first_day + timedelta(days=n)
        for n in range((now.astimezone(zone).date() - first_day).days + 1)
    ]
    findings += read_rules.unusual_volume(history, days, zone, settings)
    address_start = first_seq_from(db, since - timedelta(days=settings.new_address_days))
    sign_ins = list(
        log_rows(
            db,
            SeqRange(lo=address_start),
            LOG_TABLE.c.tag == SecurityEventTag.sign_in_success.value,
        )
    )
    findings += security_rules.new_addresses(sign_ins, since, settings)
    return findings


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
        open_flag.log_seqs = capped([*open_flag.log_seqs, *new])
        if finding.restates_reason:
            open_flag.reason = finding.reason[:1000]
        open_flag.updated_at = now
        db.add(open_flag)
        db.flush()
        run.updated.append(ident(open_flag.id))
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
    run.created.append(ident(flag.id))


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
