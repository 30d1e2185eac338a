"""The accounting of disclosures: for one client, every disclosure of their information over a
period, as the log recorded it, with the log's integrity at the time of printing.

It answers two rules at once, each in its own section:
- HIPAA 45 CFR 164.528: disclosures in the last six years (date, recipient, a brief description
  of the information, the purpose); repeated disclosures to one recipient for one purpose may
  be summarised as the first, the frequency and the last.
- 42 CFR 2.24 / 2.25: disclosures of substance-use treatment records (Part 2) made with the
  patient's consent, in the last three years.

A client asks; a privacy officer generates it. Generating it is logged
(audit:accounting:generated), and before it reads the log it signs a checkpoint, so that every
entry it lists can be proven, by an inclusion proof, to be in a tree the hub signed.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.checkpoint import (
    CheckpointRefused,
    latest_head,
    proof_nodes,
    sign_checkpoint,
    trusted_verifier,
    verifier_key,
)
from hub.audit.integrity import missing_triggers
from hub.audit.log import (
    Actor,
    Event,
    append,
    leaf_data,
    leaf_hash,
    personal_digest,
    personal_part,
)
from hub.audit.merkle import ProofError, SharedPaths
from hub.audit.models import LogEntry
from hub.audit.notes import NoteError, open_checkpoint
from hub.audit.tiles import TilesMissing
from hub.clients.models import Person
from hub.db import rollback_on_error, utcnow
from hub.disclosure.notice import REDISCLOSURE_NOTICE_SHORT
from hub.permissions import authorize
from hub.person_merges.services import merge_family
from hub.privacy.search import Disclosure, client_disclosures, day_start, seq_range
from hub.referrals.rules import site_zone
from hub.vocabulary import (
    PART2_CATEGORIES,
    Action,
    LogKind,
    LogOutcome,
    Purpose,
    SecurityEventTag,
)

HIPAA_YEARS = 6  # 45 CFR 164.528(a): six years before the request
PART2_YEARS = 3  # 42 CFR 2.25: three years before the request
HIPAA_RULE = "HIPAA, 45 CFR 164.528"
PART2_RULE = "42 CFR Part 2, §§ 2.24 and 2.25"
_ENTRIES_PER_QUERY = 500


class AccountingError(ValueError):
    """The accounting cannot be generated as asked; nothing was logged."""


@dataclass(frozen=True)
class AccountingLine:
    """One disclosure, or repeated ones to one recipient for one purpose (first, count, last)."""

    recipient_user_id: int | None
    recipient_role: str | None
    recipient_agency_id: int | None
    purpose: str | None
    categories: tuple[str, ...]
    bases: tuple[str, ...]
    first: datetime
    last: datetime
    count: int
    seqs: tuple[int, ...]


@dataclass(frozen=True)
class AccountingSection:
    """One rule's disclosures over the site-local days since..until: every line falls within
    starts_at (the first day's midnight, site time) and ends_at (the midnight after until)."""

    rule: str
    scope: str
    since: date
    until: date
    starts_at: datetime  # UTC, included
    ends_at: datetime  # UTC, excluded
    lines: list[AccountingLine]

    @property
    def disclosures(self) -> int:
        return sum(line.count for line in self.lines)


@dataclass(frozen=True)
class Integrity:
    """What the accounting could prove about the entries it lists."""

    checked: int  # entries proven against the checkpoint
    not_covered: int  # entries newer than the newest checkpoint
    tree_size: int | None
    root_hash: str | None
    checkpoint: str | None
    verifier_key: str
    problems: list[str] = field(default_factory=list)
    missing_triggers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.problems
            and not self.missing_triggers
            and self.not_covered == 0
            and self.tree_size is not None
        )


@dataclass(frozen=True)
class Accounting:
    person_id: int
    zone: str  # the site's time zone (IANA name): its days bound the periods
    generated_at: datetime
    generated_by_id: int
    summarised: bool
    sections: list[AccountingSection]
    integrity: Integrity
    log_seq: int  # the entry that records this accounting
    notice: str | None  # 42 CFR 2.32, when it names Part 2 disclosures


def _years_back(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _part2_consent(disclosure: Disclosure) -> bool:
    """A disclosure of Part 2 data on the basis of the patient's consent (42 CFR 2.25)."""
    return any(
        c in PART2_CATEGORIES and disclosure.basis.get(c, "").startswith("consent:")
        for c in disclosure.categories
    )


def _lines(disclosures: Sequence[Disclosure], summarise: bool) -> list[AccountingLine]:
    """Oldest first. Summarised: one line per recipient, purpose and kind of information."""
    groups: dict[tuple[object, ...], list[Disclosure]] = {}
    for d in sorted(disclosures, key=lambda d: d.seq):
        bases = tuple(sorted({d.basis.get(c, "") for c in d.categories}))
        key: tuple[object, ...] = (
            d.actor_user_id,
            d.actor_role,
            d.actor_agency_id,
            d.purpose,
            d.categories,
            bases,
        )
        groups.setdefault(key if summarise else (d.seq,), []).append(d)
    lines = []
    for group in groups.values():
        first = group[0]
        lines.append(
            AccountingLine(
                recipient_user_id=first.actor_user_id,
                recipient_role=first.actor_role,
                recipient_agency_id=first.actor_agency_id,
                purpose=first.purpose,
                categories=first.categories,
                bases=tuple(sorted({first.basis.get(c, "") for c in first.categories})),
                first=first.recorded_at,
                last=group[-1].recorded_at,
                count=len(group),
                seqs=tuple(d.seq for d in group),
            )
        )
    return sorted(lines, key=lambda line: (line.first, line.seqs[0]))


def verify_entries(db: Session, seqs: Sequence[int]) -> Integrity:
    """Checks the given entries against the newest signed checkpoint: the checkpoint's
    signature (with the hub's verifier key), each entry's personal digest and leaf hash
    recomputed from the row, and an RFC 9162 inclusion proof from each leaf to the signed
    root. Also whether the database still guards the log (its triggers)."""
    key = verifier_key()
    missing = missing_triggers(db.connection())
    head = latest_head(db)
    if head is None:
        return Integrity(0, len(seqs), None, None, None, key, ["no signed checkpoint"], missing)
    problems: list[str] = []
    try:
        # A head the previous key signed still opens once a rotation announced the new one.
        signed = open_checkpoint(head.signed_note, trusted_verifier(db))
    except NoteError as exc:
        return Integrity(
            0, len(seqs), head.tree_size, head.root_hash, head.signed_note, key,
            [f"the checkpoint's signature does not verify: {exc}"], missing,
        )  # fmt: skip
    covered = sorted(s for s in set(seqs) if s < signed.tree_size)
    # Each entry's RFC 9162 audit path, from the stored tiles, hashed up to the signed root;
    # entries spread over the log share the upper part of their paths, hashed once.
    paths = (
        SharedPaths(signed.tree_size, proof_nodes(db, signed.tree_size, covered), signed.root_hash)
        if covered
        else None
    )
    entries = {
        entry.seq: entry
        for at in range(0, len(covered), _ENTRIES_PER_QUERY)
        for entry in db.exec(
            select(LogEntry).where(col(LogEntry.seq).in_(covered[at : at + _ENTRIES_PER_QUERY]))
        )
    }
    for seq in covered:
        entry = entries.get(seq)
        if entry is None:
            problems.append(f"entry {seq} is missing")
            continue
        if entry.salt is not None and (
            personal_digest(entry.salt, personal_part(entry)) != entry.personal_digest
        ):
            problems.append(f"entry {seq}: its personal part does not match its digest")
        leaf = leaf_hash(leaf_data(entry))
        if leaf != entry.leaf_hash:
            problems.append(f"entry {seq}: its fields do not match its leaf hash")
        assert paths is not None
        try:
            paths.check(seq, bytes.fromhex(leaf))
        except ProofError:
            problems.append(f"entry {seq} is not in the signed tree as it stands")
        except TilesMissing:
            problems.append(f"entry {seq} cannot be proven: the log's stored tiles are incomplete")
    return Integrity(
        checked=len(covered),
        not_covered=len(set(seqs)) - len(covered),
        tree_size=signed.tree_size,
        root_hash=signed.root_hash.hex(),
        checkpoint=head.signed_note,
        verifier_key=key,
        problems=problems,
        missing_triggers=missing,
    )


def generate_accounting(
    db: Session,
    viewer: Viewer,
    person_id: int,
    actor: Actor,
    *,
    since: date | None = None,
    until: date | None = None,
    summarise: bool = True,
) -> Accounting:
    """The accounting of disclosures of one client's information. Without `since`, each rule's
    own look-back (six years for HIPAA, three for Part 2 consent-based disclosures); with it,
    both sections cover since..until. Signs a checkpoint, proves every entry listed against
    it, logs the accounting and commits."""
    authorize(
        viewer,
        Action.privacy_console,
        AccountingError("Only a privacy officer generates an accounting of disclosures."),
    )
    zone = site_zone(db)
    now = utcnow()
    today = now.astimezone(zone).date()
    until = until or today
    if since is not None and since > until:
        raise AccountingError("The period starts after it ends.")
    if until > today:
        raise AccountingError("The period cannot end after today.")
    with rollback_on_error(db):
        if db.get(Person, person_id) is None:
            raise AccountingError(f"No client with id {person_id}.")
        checkpoint_problem = None
        try:
            sign_checkpoint(db)
            db.commit()
        except CheckpointRefused as exc:
            db.rollback()
            checkpoint_problem = f"no new checkpoint could be signed: {exc}"
        hipaa_since = since or _years_back(today, HIPAA_YEARS)
        part2_since = since or _years_back(today, PART2_YEARS)
        span = seq_range(db, min(hipaa_since, part2_since), until, zone)
        # A merged record's disclosures are the client's too (hub.person_merges): either
        # number finds both.
        found: list[Disclosure] = []
        for pid in merge_family(db, person_id):
            found += client_disclosures(db, pid, span=span)[0]
        found = sorted({d.seq: d for d in found}.values(), key=lambda d: d.seq, reverse=True)
        disclosed = [d for d in found if d.disclosed]

        # The periods are site-local days, bounded by their midnights in the site's zone: what
        # the accounting states is exactly what it selects, across midnight UTC too.
        ends_at = day_start(until + timedelta(days=1), zone)
        hipaa_from, part2_from = day_start(hipaa_since, zone), day_start(part2_since, zone)
        hipaa = [d for d in disclosed if hipaa_from <= d.recorded_at < ends_at]
        part2 = [
            d for d in disclosed if part2_from <= d.recorded_at < ends_at and _part2_consent(d)
        ]
        sections = [
            AccountingSection(
                HIPAA_RULE,
                "Every disclosure of the client's information recorded in the hub's log.",
                hipaa_since,
                until,
                hipaa_from,
                ends_at,
                _lines(hipaa, summarise),
            ),
            AccountingSection(
                PART2_RULE,
                "Disclosures of substance-use treatment records made with the client's consent.",
                part2_since,
                until,
                part2_from,
                ends_at,
                _lines(part2, summarise),
            ),
        ]
        integrity = verify_entries(db, [d.seq for d in hipaa + part2])
        if checkpoint_problem:
            integrity.problems.insert(0, checkpoint_problem)
        entry = append(
            db,
            replace(
                actor, user_id=viewer.user_id, role=viewer.role.value, agency_id=viewer.agency_id
            ),
            Event(
                kind=LogKind.security,
                tag=SecurityEventTag.accounting_generated,
                outcome=LogOutcome.success,
                purpose=Purpose.oversight,
                person_id=person_id,
                detail={
                    "hipaa": {"since": hipaa_since.isoformat(), "disclosures": len(hipaa)},
                    "part2": {"since": part2_since.isoformat(), "disclosures": len(part2)},
                    "until": until.isoformat(),
                    "summarised": summarise,
                    "tree_size": integrity.tree_size,
                    "integrity_ok": integrity.ok,
                },
            ),
        )
        db.commit()
    part2_named = any(c in PART2_CATEGORIES for d in hipaa + part2 for c in d.categories)
    return Accounting(
        person_id=person_id,
        zone=zone.key,
        generated_at=now.astimezone(UTC),
        generated_by_id=viewer.user_id,
        summarised=summarise,
        sections=sections,
        integrity=integrity,
        log_seq=entry.seq,
        notice=REDISCLOSURE_NOTICE_SHORT if part2_named else None,
    )


def default_period(db: Session) -> tuple[date, date, date]:
    """Today (site-local), and the first day each rule looks back to."""
    today = utcnow().astimezone(site_zone(db)).date()
    return today, _years_back(today, HIPAA_YEARS), _years_back(today, PART2_YEARS)
