"""The equity dashboard and quarterly report as use cases: the counts are read through the
policy layer's aggregate disclosure (hub.disclosure.aggregates), logged with purpose
oversight, then turned into the page's views and charts."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hub.accounts.models import Agency
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.charts import Chart, bars
from hub.disclosure.aggregates import disclose_aggregate
from hub.equity.figures import (
    SUPPRESS_BELOW,
    WINDOWS,
    CompositionRow,
    EquityFigures,
    Period,
    equity_figures,
    months_back,
)
from hub.equity.kept import kept_or_computed
from hub.equity.models import EligibleArrestImport
from hub.equity.outcomes import (
    JailFigures,
    OutcomeFigures,
    case_management_months,
    jail_figures,
    outcomes_of,
)
from hub.equity.suppression import TOTAL, PublishedTable
from hub.permissions import allowed
from hub.referrals.rules import site_zone
from hub.vocabulary import Action, AgencyKind, Category, Purpose

MAX_MONTHS = 36
# What the dashboard's counts draw on: the person's HMIS codes (demographics), the referral
# (kind, area, agency, officer, overrides), intake (engagement), charging outcomes and later
# arrests (legal). Never identity, contact or anything clinical.
DASHBOARD_CATEGORIES = frozenset(
    {Category.demographics, Category.referral, Category.engagement, Category.legal}
)


class EquityInputError(ValueError):
    pass


@dataclass(frozen=True)
class ImportView:
    agency: str
    month: str
    rows: int
    imported_at: datetime
    superseded_at: datetime | None


@dataclass(frozen=True)
class EquityDashboard:
    period: Period
    months: int
    threshold: int
    tables: list[PublishedTable]
    eligible: list[PublishedTable]
    composition: list[CompositionRow]
    officers: PublishedTable | None
    funnel: list[tuple[str, int | None]]
    outcomes: OutcomeFigures
    charts: dict[str, Chart]
    imports: list[ImportView]


def _officer_rows(table: PublishedTable, viewer: Viewer, agency_name: str) -> PublishedTable | None:
    """Per officer: the coordinator sees every agency's officers, a sergeant their own."""
    if not allowed(viewer.role, Action.equity_officers):
        return None
    if viewer.agency_kind == AgencyKind.program_office:
        return table
    prefix = f"{agency_name}: "
    rows = [
        (label, values)
        for label, values in table.rows
        if label.startswith(prefix) or label == TOTAL
    ]
    return PublishedTable(
        name=table.name,
        title=table.title,
        row_heading=table.row_heading,
        columns=table.columns,
        rows=rows,
        suppressed=sum(1 for _, values in rows for v in values if v is None),
    )


def funnel(figures: EquityFigures) -> list[tuple[str, int | None]]:
    """Referrals in the period, those with an eligibility override, those with intake done."""
    intake = figures.tables["race_intake"]
    return [
        ("referred", intake.value(TOTAL)),
        (
            "eligibility overridden",
            figures.tables["race_override"].value(TOTAL, "eligibility overridden"),
        ),
        ("intake completed", intake.value(TOTAL, "intake completed")),
    ]


def _charts(figures: EquityFigures, outcomes: OutcomeFigures) -> dict[str, Chart]:
    by_month = figures.tables["month_kind"]
    kinds = [c for c in by_month.columns if c != TOTAL]
    months = [label for label, _ in by_month.rows if label != TOTAL]
    charts = {
        "month_kind": bars(
            "Referrals per month, by kind",
            months,
            [(kind.replace("_", " "), [by_month.value(m, kind) for m in months]) for kind in kinds],
            stacked=True,
        )
    }
    rows = [r for r in figures.composition]
    charts["composition"] = bars(
        "Share of arrest referrals and of eligible arrests",
        [r.group for r in rows],
        [
            ("arrest referrals", [r.referral_share for r in rows]),
            ("eligible arrests", [r.eligible_share for r in rows]),
        ],
        horizontal=True,
        percent=True,
    )
    steps = funnel(figures)
    charts["funnel"] = bars(
        "From referral to intake",
        [label for label, _ in steps],
        [("referrals", [value for _, value in steps])],
    )
    rearrest = outcomes.rearrest_rates
    charts["outcomes"] = bars(
        "Re-arrested within 6, 12 and 24 months of referral",
        [label for label, _ in rearrest],
        [("share re-arrested", [rate for _, rate in rearrest])],
        percent=True,
    )
    return charts


def _imports(db: Session) -> list[ImportView]:
    rows = db.exec(
        select(EligibleArrestImport, Agency.name)
        .join(Agency, col(Agency.id) == col(EligibleArrestImport.agency_id))
        .order_by(col(EligibleArrestImport.month).desc(), col(EligibleArrestImport.id).desc())
        .limit(48)
    ).all()
    return [
        ImportView(name, batch.month, batch.rows, batch.imported_at, batch.superseded_at)
        for batch, name in rows
    ]


def equity_dashboard(
    db: Session, actor: Actor, viewer: Viewer, months: int, now: datetime
) -> EquityDashboard:
    """The dashboard for the last `months` months: read and logged as one aggregate disclosure
    (purpose oversight)."""
    if not 1 <= months <= MAX_MONTHS:
        raise EquityInputError(f"months must be from 1 to {MAX_MONTHS}")
    zone = site_zone(db)
    period = months_back(now, months, zone)

    def compute(session: Session) -> tuple[EquityFigures, JailFigures, list[ImportView]]:
        figures = equity_figures(session, period, now)
        jail = jail_figures(session, figures.tables["jail_booked"], now)
        return figures, jail, _imports(session)

    def read(session: Session) -> tuple[EquityFigures, OutcomeFigures, list[ImportView]]:
        # Kept per data version (hub.equity.kept): the same figures a computation now would give.
        figures, jail, imports = kept_or_computed(
            session,
            ("dashboard", period.start, period.end, str(zone)),
            now,
            period.end,
            lambda: compute(session),
        )
        outcomes = outcomes_of(figures.tables, jail, case_management_months(session, now))
        return figures, outcomes, imports

    figures, outcomes, imports = disclose_aggregate(
        db,
        actor,
        viewer,
        Purpose.oversight,
        DASHBOARD_CATEGORIES,
        "equity_dashboard",
        read,
        detail={
            "first_month": period.first_month,
            "last_month": period.last_month,
            "suppressed_below": SUPPRESS_BELOW,
        },
    )
    outcome_names = {
        "officer_kind",
        "intake_days",
        "status_quarter",
        "jail_booked",
        *(f"rearrest_{d}" for d in WINDOWS.values()),
    }
    tables = [t for name, t in figures.tables.items() if name not in outcome_names]
    agency = db.get(Agency, viewer.agency_id)
    agency_name = agency.name if agency else ""
    db.commit()
    return EquityDashboard(
        period=period,
        months=months,
        threshold=SUPPRESS_BELOW,
        tables=tables,
        eligible=list(figures.eligible.values()),
        composition=figures.composition,
        officers=_officer_rows(figures.tables["officer_kind"], viewer, agency_name),
        outcomes=outcomes,
        funnel=funnel(figures),
        charts=_charts(figures, outcomes),
        imports=imports,
    )
