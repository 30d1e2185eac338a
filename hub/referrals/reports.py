"""Aggregate reports on referrals: screening results and overrides, and referral demographics
for racial-disparity monitoring (the program's own rule). Counts only, never identities; cells
smaller than the site's `reporting.suppress_below` are suppressed in the demographic report,
where a small cell can name a person."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlmodel import Session, col, select

from hub.clients.models import Person
from hub.referrals.models import Referral
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import HMIS_RACE_ETHNICITY_LABELS, EligibilityResult, ReferralKind


@dataclass(frozen=True)
class ScreeningCount:
    period: str  # YYYY-MM, local to the site
    precinct: str | None
    kind: ReferralKind
    result: EligibilityResult
    overridden: bool
    count: int


@dataclass(frozen=True)
class ExclusionCount:
    period: str
    exclusion: str
    count: int


@dataclass(frozen=True)
class ScreeningReport:
    results: list[ScreeningCount]
    exclusions: list[ExclusionCount]


@dataclass(frozen=True)
class DemographicCount:
    """Referrals in a period and of a kind whose person selected this HMIS code, alone or in
    combination (a person with several codes counts under each, so rows can sum past `total`).
    `count` is None where suppressed."""

    period: str
    kind: ReferralKind
    code: int
    label: str
    count: int | None
    total: int | None


def _window(db: Session, rules: SiteRules, start: date, end: date) -> list[Referral]:
    tz = rules.tz
    since = datetime.combine(start, time.min, tz)
    until = datetime.combine(end, time.min, tz)
    return list(
        db.exec(
            select(Referral).where(
                col(Referral.referred_at) >= since, col(Referral.referred_at) < until
            )
        )
    )


def _period(referral: Referral, rules: SiteRules) -> str:
    return referral.referred_at.astimezone(rules.tz).strftime("%Y-%m")


def screening_report(
    db: Session, start: date, end: date, *, rules: SiteRules | None = None
) -> ScreeningReport:
    """Referrals made on local dates in [start, end), counted by month, precinct, kind, screening
    result and override; and how often each presumptive exclusion matched."""
    rules = rules or current_rules(db)
    results: Counter[tuple[str, str | None, ReferralKind, EligibilityResult, bool]] = Counter()
    exclusions: Counter[tuple[str, str]] = Counter()
    for referral in _window(db, rules, start, end):
        period = _period(referral, rules)
        result = EligibilityResult(referral.eligibility)
        overridden = referral.exclusion_override_reason is not None
        results[(period, referral.precinct, referral.kind, result, overridden)] += 1
        for code in referral.exclusions_matched:
            exclusions[(period, code)] += 1
    return ScreeningReport(
        results=[
            ScreeningCount(*key, count=n)
            for key, n in sorted(results.items(), key=lambda kv: tuple(map(str, kv[0])))
        ],
        exclusions=[ExclusionCount(*key, count=n) for key, n in sorted(exclusions.items())],
    )


def referral_demographics(
    db: Session, start: date, end: date, *, rules: SiteRules | None = None
) -> list[DemographicCount]:
    """Referrals made on local dates in [start, end), by month, kind and HUD HMIS
    race/ethnicity (alone or in combination), small cells suppressed."""
    rules = rules or current_rules(db)
    floor = rules.reporting.suppress_below
    referrals = _window(db, rules, start, end)
    people = select(col(Person.id), Person.race_ethnicity).where(
        col(Person.id).in_(sorted({r.person_id for r in referrals}))
    )
    codes_of = {person_id: codes for person_id, codes in db.exec(people)}
    counts: Counter[tuple[str, ReferralKind, int]] = Counter()
    totals: Counter[tuple[str, ReferralKind]] = Counter()
    for referral in referrals:
        key = (_period(referral, rules), referral.kind)
        totals[key] += 1
        for code in set(codes_of.get(referral.person_id) or [99]):
            counts[(*key, code)] += 1

    def shown(n: int) -> int | None:
        return None if 0 < n < floor else n

    return [
        DemographicCount(
            period=period,
            kind=kind,
            code=code,
            label=HMIS_RACE_ETHNICITY_LABELS.get(code, str(code)),
            count=shown(n),
            total=shown(totals[(period, kind)]),
        )
        for (period, kind, code), n in sorted(counts.items())
    ]
