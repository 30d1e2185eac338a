"""Eligibility screening and the social-contact prerequisite, read from the site's rules.

Exclusions are presumptive, not mandatory (LEAD protocol): a screening that matches one
refuses the referral unless the officer writes why they refer anyway, and that override is
shown to the officer's sergeant and counted in the reports.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from hub.charging.models import ChargingMatter
from hub.referrals.models import Referral
from hub.referrals.rules import Offense, SiteRules
from hub.vocabulary import EligibilityResult, PriorInvolvementKind


class ReferralError(ValueError):
    """A referral or intake step breaks a rule; the message says which. Nothing was changed."""


class PresumptivelyExcluded(ReferralError):
    """The screening matched presumptive exclusions and no override reason was given."""

    def __init__(self, matched: list[str]) -> None:
        self.matched = matched
        super().__init__(
            "presumptively excluded by "
            + ", ".join(matched)
            + ": refer anyway only with a written reason (an override your sergeant will see)"
        )


@dataclass(frozen=True)
class PriorConviction:
    """One conviction from the officer's records check: a class named in the site's rules
    (e.g. violent_felony) and its date."""

    offense_class: str
    convicted_on: date


@dataclass(frozen=True)
class ScreeningAnswers:
    """What the referrer found at screening: convictions, and the codes of the site's 'fact'
    exclusions they answered yes to."""

    convictions: tuple[PriorConviction, ...] = ()
    facts: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Screening:
    result: EligibilityResult
    matched: tuple[str, ...]
    rules_version: str


@dataclass(frozen=True)
class PriorInvolvement:
    """What a social-contact referral points to: a kind the site accepts and its reference
    (a referral id, an offense tracking number, or a police incident number)."""

    kind: PriorInvolvementKind
    reference: str


def check_offenses(rules: SiteRules, codes: list[str]) -> list[Offense]:
    """The site's offenses for these codes; refuses an empty list or an unknown code."""
    if not codes:
        raise ReferralError("an arrest referral names at least one offense")
    unknown = [code for code in codes if code not in rules.offenses_by_code]
    if unknown:
        raise ReferralError(f"not an eligible offense at this site: {', '.join(unknown)}")
    if len(set(codes)) != len(codes):
        raise ReferralError("an offense is listed twice")
    return [rules.offenses_by_code[code] for code in codes]


def most_serious(rules: SiteRules, offenses: list[Offense]) -> Offense:
    """The offense that decides which office prosecutes: the highest level, first listed."""
    return max(offenses, key=lambda o: rules.level_rank(o.level))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def screen(
    rules: SiteRules, offense_codes: list[str], answers: ScreeningAnswers, on: date
) -> Screening:
    """Runs the site's presumptive exclusions against one referral's offenses and answers."""
    fact_codes = {e.code for e in rules.exclusions if e.kind == "fact"}
    unknown = sorted(set(answers.facts) - fact_codes)
    if unknown:
        raise ReferralError(f"not a screening question of this site: {', '.join(unknown)}")
    for conviction in answers.convictions:
        if conviction.convicted_on > on:
            raise ReferralError("a conviction date lies in the future")
    matched: list[str] = []
    for exclusion in rules.exclusions:
        if exclusion.kind == "fact":
            hit = exclusion.code in answers.facts
        elif exclusion.kind == "offense":
            hit = bool(set(exclusion.offense_codes) & set(offense_codes))
        else:
            assert exclusion.years is not None
            since = _years_before(on, exclusion.years)
            hit = any(
                c.offense_class in exclusion.offense_classes and c.convicted_on >= since
                for c in answers.convictions
            )
        if hit:
            matched.append(exclusion.code)
    result = EligibilityResult.presumptively_excluded if matched else EligibilityResult.eligible
    return Screening(result=result, matched=tuple(matched), rules_version=rules.version)


def accept_screening(screening: Screening, override_reason: str | None) -> str | None:
    """The override reason to keep, if any. Refuses an excluded referral without a reason, and
    a reason where nothing was excluded (an override must mean something in the reports)."""
    reason = (override_reason or "").strip() or None
    if screening.result == EligibilityResult.presumptively_excluded:
        if reason is None:
            raise PresumptivelyExcluded(list(screening.matched))
        return reason
    if reason is not None:
        raise ReferralError("no exclusion matched: there is nothing to override")
    return None


def check_prior_involvement(
    db: Session,
    rules: SiteRules,
    person_id: int | None,
    offense_category: str,
    involvement: PriorInvolvement | None,
) -> str:
    """Validates what a social-contact referral points to as prior documented drug or
    prostitution involvement, and returns it as stored ("kind:reference").

    A prior referral or prior arrest must be on record in the hub for this very person and be
    of drug or prostitution involvement; a documented incident is a police report number that
    the hub cannot see, so the site decides whether to accept it and what it must look like.
    """
    contact = rules.social_contact
    if offense_category not in contact.categories:
        raise ReferralError(
            f"social contact referrals are for {' or '.join(contact.categories)} involvement"
        )
    if involvement is None or not involvement.reference.strip():
        raise ReferralError("a social contact referral must point to prior documented involvement")
    kind, reference = involvement.kind, involvement.reference.strip()
    if kind not in contact.accepted:
        raise ReferralError(f"this site does not accept {kind.value} as prior involvement")
    if kind == PriorInvolvementKind.documented_incident:
        pattern = contact.incident_number_pattern
        if pattern and not re.fullmatch(pattern, reference):
            raise ReferralError("that is not an incident number of this site's form")
        return f"{kind.value}:{reference}"
    if person_id is None:
        raise ReferralError(
            f"a {kind.value.replace('_', ' ')} must be on record for the person: "
            "choose the existing person"
        )
    if kind == PriorInvolvementKind.prior_referral:
        if not reference.isdigit():
            raise ReferralError("a prior referral is named by its referral number")
        referral = db.get(Referral, int(reference))
        if (
            referral is None
            or referral.person_id != person_id
            or referral.offense_category not in contact.categories
        ):
            raise ReferralError("no such prior referral of this person on record")
    else:
        matter = db.exec(
            select(ChargingMatter).where(
                ChargingMatter.offense_tracking_number == reference,
                col(ChargingMatter.person_id) == person_id,
            )
        ).first()
        categories = {
            rules.offenses_by_code[code].category
            for code in (matter.offenses if matter else [])
            if code in rules.offenses_by_code
        }
        if matter is None or not categories & set(contact.categories):
            raise ReferralError("no such prior arrest of this person on record")
    return f"{kind.value}:{reference}"
