"""Outcomes (issue 16, item 3): re-arrest within 6, 12 and 24 months of referral, days from
referral to intake, program status over time, jail bookings and days in the year before and
after referral (the jail's import, hub.equity.jail), and a cost table with the site's unit
costs.

The counts come from the same suppressed cube as the dashboard (hub.equity.figures); the cost
table's quantities are sums in the database, each suppressed below the threshold.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, literal
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from hub.clients.models import Person
from hub.db import UTCDateTime
from hub.equity.figures import SUPPRESS_BELOW, WINDOWS, days_between, site_clock
from hub.equity.models import JailBooking, JailBookingImport
from hub.equity.suppression import TOTAL, PublishedTable, shown_or_none
from hub.equity.tables import JAIL_BOOKED
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


@dataclass(frozen=True)
class JailFigures:
    """Bookings and jail days in the year before and the year after referral, among referrals
    at least a year old; None where suppressed."""

    bookings_before: int | None
    bookings_after: int | None
    days_before: int | None
    days_after: int | None


@dataclass(frozen=True)
class OutcomeFigures:
    rearrest: list[PublishedTable]
    rearrest_rates: list[tuple[str, float | None]]
    intake_days: PublishedTable
    status: PublishedTable
    jail_booked: PublishedTable
    jail: JailFigures
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


def _jail_sums(db: Session, now: datetime) -> dict[str, tuple[int, int]]:
    """Bookings and jail days per side of the referral ('before', 'after'), summed in the
    database over the jail's current imports."""
    clock = site_clock(db, now)
    dialect = db.get_bind().dialect.name
    moment = literal(now, UTCDateTime(timezone=True))
    referred_on = clock.day(col(Referral.referred_at))
    side = case((col(JailBooking.booked_on) < referred_on, "before"), else_="after")
    rows = db.execute(
        core_select(side, func.count(), func.sum(col(JailBooking.jail_days)))
        .select_from(Referral)
        .join(JailBooking, col(JailBooking.person_id) == col(Referral.person_id))
        .join(JailBookingImport, col(JailBookingImport.id) == col(JailBooking.import_id))
        .where(
            col(JailBookingImport.superseded_at).is_(None),
            col(Referral.withdrawn_at).is_(None),
            days_between(col(Referral.referred_at), moment, dialect) > WINDOWS["12 months"],
            col(JailBooking.booked_on) >= clock.day(col(Referral.referred_at), -365),
            col(JailBooking.booked_on) < clock.day(col(Referral.referred_at), 365),
        )
        .group_by(side)
    ).all()
    return {str(name): (int(n), int(days or 0)) for name, n, days in rows}


def jail_figures(db: Session, table: PublishedTable, now: datetime) -> JailFigures:
    """A sum is shown only where it is 11 or more and the count of referrals booked on that
    side is shown too: a sum over a suppressed handful would name them."""
    sums = _jail_sums(db, now)

    def shown(side: str, which: int) -> int | None:
        people = table.value(TOTAL, f"after: {JAIL_BOOKED}")
        if side == "before":
            people = table.value(f"before: {JAIL_BOOKED}", TOTAL)
        value = sums.get(side, (0, 0))[which]
        return None if people is None else shown_or_none(value, SUPPRESS_BELOW)

    return JailFigures(shown("before", 0), shown("after", 0), shown("before", 1), shown("after", 1))


def case_management_months(db: Session, now: datetime) -> float:
    """Months of case management since intake, summed in the database (up to `now`: it grows
    by the moment, so hub.equity.services reads it on every view)."""
    dialect = db.get_bind().dialect.name
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
        .where(
            col(Referral.intake_done_at).is_not(None),
            col(Referral.intake_done_at) < now,
            col(Referral.withdrawn_at).is_(None),
        )
    ).scalar_one()
    return max(float(days or 0.0), 0.0) / DAYS_PER_MONTH


def cost_table(jail: JailFigures, months_of_case_management: float) -> list[CostRow]:
    settings = get_settings()

    def row(item: str, quantity: float | None, unit: float) -> CostRow:
        total = quantity * unit if quantity is not None and unit else None
        return CostRow(item, quantity, unit, total)

    return [
        row(
            "Jail bookings, 12 months before referral", jail.bookings_before, settings.cost_booking
        ),
        row("Jail bookings, 12 months after referral", jail.bookings_after, settings.cost_booking),
        row("Jail days, 12 months before referral", jail.days_before, settings.cost_jail_day),
        row("Jail days, 12 months after referral", jail.days_after, settings.cost_jail_day),
        row(
            "Months of case management",
            shown_or_none(round(months_of_case_management), SUPPRESS_BELOW),
            settings.cost_case_management_month,
        ),
    ]


def outcome_figures(
    db: Session, tables: dict[str, PublishedTable], now: datetime
) -> OutcomeFigures:
    jail = jail_figures(db, tables["jail_booked"], now)
    return outcomes_of(tables, jail, case_management_months(db, now))


def outcomes_of(
    tables: dict[str, PublishedTable], jail: JailFigures, months_of_case_management: float
) -> OutcomeFigures:
    """The outcomes from the published tables, the jail's figures and the months of case
    management."""
    return OutcomeFigures(
        rearrest=[tables[f"rearrest_{days}"] for days in WINDOWS.values()],
        rearrest_rates=rearrest_rates(tables),
        intake_days=tables["intake_days"],
        status=tables["status_quarter"],
        jail_booked=tables["jail_booked"],
        jail=jail,
        costs=cost_table(jail, months_of_case_management),
    )
