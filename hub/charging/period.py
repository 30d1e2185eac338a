"""The period's decisions of a prosecution office, per month: decisions by outcome and reason,
the share of matters with completed intake that were declined (LEAD's presumption of no
charges, measured), and the days from referral to decision. Counts only: no client appears.

Counted: every decision of the office decided in the month (site time zone) that no
correction supersedes (a correction counts in its own month, in place of what it corrected).
A person counts only where the policy lets this prosecutor see the matter (legal); whether
intake was done is engagement (42 CFR 2.35), so the declined share is taken over the decisions
whose intake status the policy shares with the office, and the others are counted apart.
Every report, page, CSV or API answer, is a disclosure entry of its own (an aggregate).
"""

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from hub.accounts.models import Agency
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.charging.checks import ChargingError
from hub.charging.models import ChargingDecision, ChargingMatter
from hub.disclosure.aggregates import decide_each, log_aggregate
from hub.permissions import authorize
from hub.referrals.models import Referral
from hub.referrals.rules import SiteRules
from hub.vocabulary import Action, Category, DecisionOutcome, DisclosureTag, Purpose

EARLIEST_MONTH = date(1900, 1, 1)
# Made once, so that the query's compiled form is cached.
_SUPERSEDING = aliased(ChargingDecision)
FINAL = (DecisionOutcome.file, DecisionOutcome.decline, DecisionOutcome.divert)


@dataclass(frozen=True)
class ReasonCount:
    outcome: DecisionOutcome
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class PeriodReport:
    """One office's decisions in one month, in counts."""

    office_id: int
    office_name: str
    month: str  # YYYY-MM
    decisions: int
    by_outcome: dict[DecisionOutcome, int]
    by_reason: list[ReasonCount]
    intake_completed: int  # final decisions on matters whose intake was done before them
    intake_completed_declined: int
    intake_not_shared: int  # final decisions on referrals whose intake status is withheld
    days_median: float | None  # referral to decision, final decisions on referrals
    days_min: int | None
    days_max: int | None
    log_seq: int | None = None

    @property
    def declined_share(self) -> float | None:
        if not self.intake_completed:
            return None
        return self.intake_completed_declined / self.intake_completed


class MonthOutOfRange(ChargingError):
    """A month before 1900 or in the future: no decision can have been made in it."""


def parse_month(text: str, today: date) -> date:
    """A month as YYYY-MM, from 1900 to this month."""
    year, _, month = text.partition("-")
    if not (year.isdigit() and month.isdigit() and len(year) == 4 and 1 <= int(month) <= 12):
        raise ChargingError("month: give it as YYYY-MM")
    if int(year) < EARLIEST_MONTH.year:
        raise MonthOutOfRange("month: before 1900")
    first = date(int(year), int(month), 1)
    if first > today.replace(day=1):
        raise MonthOutOfRange("month: in the future")
    return first


def _next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def period_report(
    db: Session,
    prosecutor: Viewer,
    office_id: int,
    month: date,
    actor: Actor,
    *,
    rules: SiteRules,
    form: str,
) -> PeriodReport:
    """The report of `month` (its first day) for the prosecutor's own office, logged as an
    aggregate disclosure (`form`: page, csv or api). Commits."""
    authorize(
        prosecutor,
        Action.charging_period,
        ChargingError("no such office for you"),
        agency_id=office_id,
    )
    office = db.get(Agency, office_id)
    assert office is not None
    end = _next_month(month)
    # A day either side in UTC, then the site's own dates decide.
    low = datetime.combine(month - timedelta(days=1), time(), tzinfo=UTC)
    high = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
    superseding = _SUPERSEDING
    rows = db.exec(
        select(  # type: ignore[call-overload]
            ChargingDecision.outcome,
            ChargingDecision.reason_codes,
            ChargingDecision.decided_at,
            ChargingMatter.person_id,
            Referral.referred_at,
            Referral.screening_done_at,
            Referral.intake_done_at,
        )
        .join(ChargingMatter, col(ChargingMatter.id) == ChargingDecision.matter_id)
        .join(Referral, col(Referral.id) == ChargingMatter.referral_id, isouter=True)
        .where(
            ChargingMatter.prosecuting_agency_id == office_id,
            col(ChargingDecision.decided_at) >= low,
            col(ChargingDecision.decided_at) < high,
            ~select(superseding.id)
            .where(superseding.supersedes_id == ChargingDecision.id)
            .exists(),
        )
    ).all()
    rows = [r for r in rows if month <= r[2].astimezone(rules.tz).date() < end]
    allowed = decide_each(
        db,
        prosecutor,
        {r[3] for r in rows},
        Purpose.charging_decision,
        (Category.legal, Category.referral, Category.engagement),
    )
    shown = [r for r in rows if r[3] in allowed[Category.legal]]
    outcomes: Counter[DecisionOutcome] = Counter()
    reasons: Counter[tuple[DecisionOutcome, str]] = Counter()
    completed = declined = not_shared = 0
    days: list[int] = []
    for outcome, codes, decided_at, person_id, referred_at, screened, done in shown:
        outcome = DecisionOutcome(outcome)
        outcomes[outcome] += 1
        reasons.update((outcome, c) for c in codes)
        if outcome not in FINAL or referred_at is None:
            continue
        if person_id in allowed[Category.referral]:
            decided_on = decided_at.astimezone(rules.tz).date()
            days.append((decided_on - referred_at.astimezone(rules.tz).date()).days)
        if person_id not in allowed[Category.engagement]:
            not_shared += 1
        elif screened is not None and done is not None and max(screened, done) <= decided_at:
            completed += 1
            declined += outcome == DecisionOutcome.decline
    labels = {r.code: r.label for r in rules.reason_codes}
    report = PeriodReport(
        office_id=office_id,
        office_name=office.name,
        month=month.strftime("%Y-%m"),
        decisions=len(shown),
        by_outcome={o: outcomes[o] for o in DecisionOutcome},
        by_reason=[
            ReasonCount(o, code, labels.get(code, code), n)
            for (o, code), n in sorted(reasons.items(), key=lambda i: (i[0][0].value, i[0][1]))
        ],
        intake_completed=completed,
        intake_completed_declined=declined,
        intake_not_shared=not_shared,
        days_median=statistics.median(days) if days else None,
        days_min=min(days) if days else None,
        days_max=max(days) if days else None,
    )
    entry = log_aggregate(
        db,
        prosecutor,
        actor,
        tag=DisclosureTag.charging_period_read,
        purpose=Purpose.charging_decision,
        categories=(Category.legal, Category.referral, Category.engagement),
        detail={
            "office_id": office_id,
            "month": report.month,
            "form": form,
            "decisions": report.decisions,
            "persons": len({r[3] for r in shown}),
        },
    )
    return PeriodReport(**{**report.__dict__, "log_seq": entry.seq})


def format_period_csv(report: PeriodReport) -> str:
    """The report as CSV: one measure a line (measure, outcome, reason, value)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("office", "month", "measure", "outcome", "reason", "value"))
    head = (report.office_name, report.month)
    writer.writerow((*head, "decisions", "", "", report.decisions))
    for outcome, n in report.by_outcome.items():
        writer.writerow((*head, "decisions_by_outcome", outcome.value, "", n))
    for r in report.by_reason:
        writer.writerow((*head, "decisions_by_reason", r.outcome.value, r.code, r.count))
    share = report.declined_share
    for measure, value in (
        ("intake_completed", report.intake_completed),
        ("intake_completed_declined", report.intake_completed_declined),
        ("declined_share_of_intake_completed", "" if share is None else f"{share:.3f}"),
        ("intake_status_not_shared", report.intake_not_shared),
        ("days_referral_to_decision_median", _blank(report.days_median)),
        ("days_referral_to_decision_min", _blank(report.days_min)),
        ("days_referral_to_decision_max", _blank(report.days_max)),
    ):
        writer.writerow((*head, measure, "", "", value))
    return out.getvalue()


def _blank(value: float | int | None) -> str:
    return "" if value is None else str(value)
