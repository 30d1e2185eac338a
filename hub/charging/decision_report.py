"""The per-referral decision export: the standing decisions on referrals, with the fields state
reporting statutes ask for, as CSV. Identity comes from the policy layer, never from here."""

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from hub.accounts.models import Agency
from hub.accounts.sessions import Viewer
from hub.charging.checks import ChargingError, require_prosecutor
from hub.charging.deciding import decision_for
from hub.charging.models import ChargingMatter
from hub.db import ident
from hub.referrals.models import Referral
from hub.referrals.officer_feedback import current_decisions
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import DecisionOutcome


@dataclass(frozen=True)
class DecisionReportItem:
    """A referral's standing decision, with the non-client fields a state report asks for."""

    decision_id: int
    matter_id: int
    person_id: int
    offense_tracking_number: str
    referring_agency: str
    outcome: DecisionOutcome
    decided_on: date
    reason_codes: list[str]


@dataclass(frozen=True)
class DisclosedIdentity:
    """The identity fields the policy layer disclosed to the export's reader (and logged); a
    None is a field it withheld, written as an empty cell."""

    name: str | None
    date_of_birth: date | None
    zip_code: str | None


def decision_report_items(
    db: Session, prosecutor: Viewer, start: date, end: date, *, rules: SiteRules | None = None
) -> list[DecisionReportItem]:
    """The standing decisions of the prosecutor's office on referrals, decided on a local date
    in [start, end). Ids and non-client fields only."""
    require_prosecutor(prosecutor)
    rules = rules or current_rules(db)
    rows = list(
        db.exec(
            select(ChargingMatter, Agency.name)
            .join(Referral, col(Referral.id) == ChargingMatter.referral_id)
            .join(Agency, col(Agency.id) == Referral.referring_agency_id)
            .where(ChargingMatter.prosecuting_agency_id == prosecutor.agency_id)
        )
    )
    standing = current_decisions(db, [ident(m.id) for m, _ in rows])
    items = []
    for matter, agency_name in rows:
        decision = standing.get(ident(matter.id))
        if decision is None:
            continue
        decided_on = decision.decided_at.astimezone(rules.tz).date()
        if start <= decided_on < end:
            items.append(
                DecisionReportItem(
                    decision_id=ident(decision.id),
                    matter_id=ident(matter.id),
                    person_id=matter.person_id,
                    offense_tracking_number=matter.offense_tracking_number,
                    referring_agency=agency_name,
                    outcome=decision.outcome,
                    decided_on=decided_on,
                    reason_codes=list(decision.reason_codes),
                )
            )
    return sorted(items, key=lambda i: (i.decided_on, i.decision_id))


EXPORT_COLUMNS = (
    "person",
    "date_of_birth",
    "zip_code",
    "offense_tracking_number",
    "referring_agency",
    "outcome",
    "decided_on",
    "reason_codes",
)
_OUTCOME_WORDS = {
    DecisionOutcome.file: "file",
    DecisionOutcome.decline: "decline",
    DecisionOutcome.divert: "diversion",
    DecisionOutcome.more_information: "more information",
}


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts like a formula (OWASP CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def format_decision_export(
    items: list[DecisionReportItem], identities: Mapping[int, DisclosedIdentity]
) -> str:
    """The per-referral decision export as CSV, with the fields state reporting statutes ask
    for (e.g. Utah's: person, offense tracking number, date of birth, zip code, referring agency,
    outcome).

    This function discloses nothing by itself: identity comes from the caller, which must have
    had the policy layer disclose (and log) each person's identity fields to the export's
    reader. A person missing from `identities` is refused rather than exported half-named.
    """
    missing = sorted({i.person_id for i in items} - set(identities))
    if missing:
        raise ChargingError("identity was not disclosed for every person in the export")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for item in items:
        who = identities[item.person_id]
        writer.writerow(
            _cell(v)
            for v in (
                who.name,
                who.date_of_birth.isoformat() if who.date_of_birth else None,
                who.zip_code,
                item.offense_tracking_number,
                item.referring_agency,
                _OUTCOME_WORDS[item.outcome],
                item.decided_on.isoformat(),
                ";".join(item.reason_codes),
            )
        )
    return out.getvalue()


def decision_report_item(
    db: Session, prosecutor: Viewer, decision_id: int, *, rules: SiteRules | None = None
) -> DecisionReportItem:
    """One referral's decision, for the per-referral export: only a standing decision on an
    arrest referral (a corrected one is reported through its correction)."""
    rules = rules or current_rules(db)
    decision, matter = decision_for(db, prosecutor, decision_id)
    if matter.referral_id is None:
        raise ChargingError("the export covers decisions on referrals only")
    standing = current_decisions(db, [ident(matter.id)]).get(ident(matter.id))
    if standing is None or standing.id != decision.id:
        raise ChargingError("export the correction that superseded this decision")
    referral = db.get(Referral, matter.referral_id)
    assert referral is not None
    agency = db.get(Agency, referral.referring_agency_id)
    return DecisionReportItem(
        decision_id=ident(decision.id),
        matter_id=ident(matter.id),
        person_id=matter.person_id,
        offense_tracking_number=matter.offense_tracking_number,
        referring_agency=agency.name if agency else "",
        outcome=decision.outcome,
        decided_on=decision.decided_at.astimezone(rules.tz).date(),
        reason_codes=list(decision.reason_codes),
    )
