"""Outcomes (issue 16, item 3): re-arrest within 6, 12 and 24 months of referral, days from
referral to intake, program status over time, and a cost table with the site's unit costs.

The counts come from the same suppressed cube as the dashboard (hub.equity.figures); the cost
table's quantities are sums in the database, each suppressed below the threshold.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, literal
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from hub.charging.models import ChargingMatter
from hub.clients.models import Person
from hub.db import UTCDateTime
from hub.equity.figures import SUPPRESS_BELOW, WINDOWS, days_between
from hub.equity.suppression import TOTAL, PublishedTable, shown_or_none
from hub.referrals.models import Referral
from hub.settings import get_settings
from hub.vocabulary import ProgramStatus

DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class CostRow:
    item: str
    quantity: float | None  # None: suppressed or not recorded
    unit_cost: float
    total: float | None
    note: str = ""


@dataclass(frozen=True)
class OutcomeFigures:
    rearrest: list[PublishedTable]
    rearrest_rates: list[tuple[str, float | None]]
    intake_days: PublishedTable
    status: PublishedTable
    costs: list[CostRow]


def rearrest_rates(tables: dict[str, PublishedTable]) -> list[tuple[str, float | None]]:
    """The share re-arrested within each window, where both counts are shown."""
    rates = []
    for window, days in WINDOWS.items():
        table = tables[f"rearrest_{days}"]
        hit = table.value(TOTAL, f"re-arrested within {window}")
        everyone = table.value(TOTAL)
        rates.append((window, hit / everyone if hit is not None and everyone else None))
    return rates


def _cost_quantities(db: Session, now: datetime) -> tuple[int, float]:
    """Bookings after referral (later arrests) and months of case management since intake,
    summed in the database."""
    dialect = db.get_bind().dialect.name
    bookings = db.execute(
        core_select(func.count(col(ChargingMatter.id)))
        .select_from(ChargingMatter)
        .join(Referral, col(Referral.person_id) == col(ChargingMatter.person_id))
        .where(
            col(ChargingMatter.arrested_at) > col(Referral.referred_at),
            func.coalesce(col(ChargingMatter.referral_id), 0) != col(Referral.id),
        )
    ).scalar_one()
    moment = literal(now, UTCDateTime(timezone=True))
    # Case management runs from intake to exit (the status change), or to now.
    until = case(
        (
            and_(
                col(Person.program_status) == ProgramStatus.exited.value,
                col(Person.status_changed_at).is_not(None),
            ),
            col(Person.status_changed_at),
        ),
        else_=moment,
    )
    days = db.execute(
        core_select(func.sum(days_between(col(Referral.intake_done_at), until, dialect)))
        .join(Person, col(Person.id) == col(Referral.person_id))
        .where(col(Referral.intake_done_at).is_not(None), col(Referral.intake_done_at) < now)
    ).scalar_one()
    return int(bookings or 0), max(float(days or 0.0), 0.0) / DAYS_PER_MONTH


def cost_table(bookings: int, case_management_months: float) -> list[CostRow]:
    settings = get_settings()

    def row(item: str, quantity: float | None, unit: float, note: str = "") -> CostRow:
        total = quantity * unit if quantity is not None and unit else None
        return CostRow(item, quantity, unit, total, note)

    return [
        row(
            "Jail bookings after referral",
            shown_or_none(bookings, SUPPRESS_BELOW),
            settings.cost_booking,
        ),
        row(
            "Jail days",
            None,
            settings.cost_jail_day,
            "not recorded yet: the jail-booking import is still to come",
        ),
        row(
            "Months of case management",
            shown_or_none(round(case_management_months), SUPPRESS_BELOW),
            settings.cost_case_management_month,
        ),
    ]


def outcome_figures(
    db: Session, tables: dict[str, PublishedTable], now: datetime
) -> OutcomeFigures:
    bookings, months = _cost_quantities(db, now)
    return OutcomeFigures(
        rearrest=[tables[f"rearrest_{days}"] for days in WINDOWS.values()],
        rearrest_rates=rearrest_rates(tables),
        intake_days=tables["intake_days"],
        status=tables["status_quarter"],
        costs=cost_table(bookings, months),
    )
