"""The flag rules about reads of client data and refused attempts: break-glass, reads on the
role alone, unusual volume, reads after hours, withheld or refused."""

import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from hub.privacy.flags.findings import Finding, LogRow, capped
from hub.privacy.flags.thresholds import FlagSettings
from hub.privacy.flags.wording import clients_in_words, counted, of_clients, tag_in_words
from hub.vocabulary import DisclosureTag, FlagRule, LogKind, LogOutcome, SecurityEventTag

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


def _by_user_day(
    rows: Iterable[LogRow], zone: tzinfo
) -> dict[tuple[int | None, date], list[LogRow]]:
    groups: dict[tuple[int | None, date], list[LogRow]] = defaultdict(list)
    for row in rows:
        groups[(row.actor_user_id, row.recorded_at.astimezone(zone).date())].append(row)
    return groups


def break_glass(rows: list[LogRow]) -> list[Finding]:
    """Every break-glass opened, with the reads made under it (one flag per break-glass)."""
    opened: dict[int, LogRow] = {}
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
            f"{counted(len(reads), 'read')} under break-glass {glass_id}.",
            capped(reads),
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
                f" ({counted(len(reads), 'read')} under it). Reason given: {reason}",
                capped([row.seq, *reads]),
                row.actor_user_id,
                row.person_id,
            )
        )
    return findings


def outside_relationship(rows: list[LogRow], zone: tzinfo) -> list[Finding]:
    """Record reads whose every basis is the role alone, per user and site day."""
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
                f"{counted(len(group), 'read')}{of_clients(group)} on the role alone: no "
                "caseload, referral, office matter, consent or court order names the reader.",
                capped(r.seq for r in group),
                user_id,
                day=day,
            )
        )
    return findings


def _group_order(item: tuple[tuple[int | None, date], Any]) -> tuple[int, date]:
    (user_id, day), _ = item
    return (-1 if user_id is None else user_id, day)


def unusual_volume(
    history: list[LogRow], days: list[date], zone: tzinfo, settings: FlagSettings
) -> list[Finding]:
    """A user's reads on a day above max(floor, mean + sd) of their own previous days."""
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
                        capped(counts[day]),
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


def after_hours(rows: list[LogRow], zone: tzinfo, settings: FlagSettings) -> list[Finding]:
    """Reads outside the site's working hours, per user and site day."""
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
            f"{counted(len(group), 'read')} outside working hours ({hours}), the first at "
            f"{group[0].recorded_at.astimezone(zone):%H:%M}{of_clients(group)}.",
            capped(r.seq for r in group),
            user_id,
            day=day,
        )
        for (user_id, day), group in sorted(_by_user_day(late, zone).items(), key=_group_order)
    ]


def denied(rows: list[LogRow], zone: tzinfo) -> list[Finding]:
    """Reads withheld in full and refused actions (not sign-ins), per user and site day."""
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
        tags = sorted({tag_in_words(r.tag) for r in group})
        who = "an unidentified caller" if user_id is None else "the user"
        findings.append(
            Finding(
                FlagRule.denied,
                f"denied:user:{user_id}:{day.isoformat()}",
                f"{counted(len(group), 'attempt')} by {who} withheld in full or refused "
                f"({', '.join(tags)})"
                + (f"; {clients_in_words(group)}" if any(r.person_id for r in group) else "")
                + ".",
                capped(r.seq for r in group),
                user_id,
                day=day,
            )
        )
    return findings
