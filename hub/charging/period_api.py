"""GET /api/v1/charging/period: the period's decisions of the prosecutor's own office, for its
case-management system. The same report as the page (hub.charging.period), logged the same way
as an aggregate disclosure."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from hub.accounts.sessions import Viewer
from hub.charging.checks import ChargingError
from hub.charging.period import MonthOutOfRange, PeriodReport
from hub.charging.queue_routes import MONTH, period_for
from hub.vocabulary import Action, DecisionOutcome
from hub.web.api import API_DEPENDENCIES, api_errors
from hub.web.dependencies import DB, require
from hub.web.params import RecordNumber

router = APIRouter(
    prefix="/api/v1/charging",
    tags=["charging"],
    responses=api_errors(),
    dependencies=API_DEPENDENCIES,
)

PeriodReader = Annotated[Viewer, Depends(require(Action.charging_period))]


class ReasonCountOut(BaseModel):
    outcome: DecisionOutcome
    reason_code: str
    count: int


class PeriodOut(BaseModel):
    """One office's decisions in one month, in counts: no client appears."""

    office_id: int
    office_name: str
    month: str = Field(description="YYYY-MM, in the site's time zone")
    decisions: int
    by_outcome: dict[DecisionOutcome, int]
    by_reason: list[ReasonCountOut]
    intake_completed: int = Field(description="final decisions after intake was completed")
    intake_completed_declined: int
    declined_share: float | None = Field(description="declined / intake_completed")
    intake_status_not_shared: int = Field(description="no 42 CFR 2.35 consent: not counted")
    days_referral_to_decision_median: float | None
    days_referral_to_decision_min: int | None
    days_referral_to_decision_max: int | None

    @classmethod
    def of(cls, report: PeriodReport) -> "PeriodOut":
        return cls(
            office_id=report.office_id,
            office_name=report.office_name,
            month=report.month,
            decisions=report.decisions,
            by_outcome=report.by_outcome,
            by_reason=[
                ReasonCountOut(outcome=r.outcome, reason_code=r.code, count=r.count)
                for r in report.by_reason
            ],
            intake_completed=report.intake_completed,
            intake_completed_declined=report.intake_completed_declined,
            declined_share=report.declined_share,
            intake_status_not_shared=report.intake_not_shared,
            days_referral_to_decision_median=report.days_median,
            days_referral_to_decision_min=report.days_min,
            days_referral_to_decision_max=report.days_max,
        )


@router.get("/period")
def period(
    request: Request,
    db: DB,
    viewer: PeriodReader,
    office: Annotated[RecordNumber | None, Query(description="your office (the default)")] = None,
    month: MONTH = None,
) -> PeriodOut:
    """The office's decisions in a month (YYYY-MM; this month unless given): by outcome and
    reason, the declined share of matters with completed intake, days from referral to
    decision. Logged as an aggregate disclosure."""
    try:
        report = period_for(request, db, viewer, office, month, "api")
    except MonthOutOfRange as error:
        # Before 1900 or in the future: no such period (the schema cannot say "until now").
        db.rollback()
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error
    except ChargingError as error:
        db.rollback()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    return PeriodOut.of(report)
