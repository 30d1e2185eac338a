"""The flag rules about security events: failed sign-ins, lockouts, new addresses, steps of a
second person (caseloads, court orders), new access and witness refusals."""

from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo

from hub.privacy.flags.findings import Finding, LogRow, capped
from hub.privacy.flags.thresholds import FlagSettings
from hub.vocabulary import FlagRule, SecurityEventTag


def _bursts(rows: list[LogRow], settings: FlagSettings) -> bool:
    window = timedelta(minutes=settings.failure_window_minutes)
    times = sorted(r.recorded_at for r in rows)
    n = settings.failure_burst
    return any(times[i + n - 1] - times[i] <= window for i in range(len(times) - n + 1))


def sign_in_failures(rows: list[LogRow], zone: tzinfo, settings: FlagSettings) -> list[Finding]:
    """A burst of failed sign-ins on one account, or from one address, on one site day."""
    by_account: dict[tuple[int, date], list[LogRow]] = defaultdict(list)
    by_address: dict[tuple[str, date], list[LogRow]] = defaultdict(list)
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
                    capped(r.seq for r in group),
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
                    capped(r.seq for r in group),
                    day=day,
                )
            )
    return findings


def lockouts(rows: list[LogRow]) -> list[Finding]:
    """Every account locked (CJIS AC-7), one flag each."""
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


def new_addresses(
    sign_ins: list[LogRow], window_start: datetime, settings: FlagSettings
) -> list[Finding]:
    """A sign-in from an address the user had not signed in from within the horizon."""
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


def _second_person_key(row: LogRow) -> tuple[FlagRule, str, str] | None:
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


def second_person(rows: list[LogRow]) -> list[Finding]:
    """caseload_change and court_order_pending: one flag per request, move or order."""
    groups: dict[tuple[FlagRule, str, str], list[LogRow]] = defaultdict(list)
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
                capped(r.seq for r in group),
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


def new_access(rows: list[LogRow]) -> list[Finding]:
    """CJIS AC-2: every account created, approved, given a new role or enabled again, one flag
    per request (its creation, request and approval together)."""
    groups: dict[str, list[LogRow]] = defaultdict(list)
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
                capped(r.seq for r in group),
                account,
            )
        )
    return findings


_WITNESS_REFUSALS = {
    "split_view": "holds another tree of the same size (a split view)",
    "not_consistent": "holds a tree this log does not extend (a split view)",
    "rollback": "holds a larger tree than this log (entries lost: a rollback)",
}


def witness_refusals(rows: list[LogRow]) -> list[Finding]:
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
