"""The equity dashboard's figures, counted in the database (GROUP BY) and published through
hub.equity.suppression: referral composition by HMIS race/ethnicity and gender against the
eligible population, the referral funnel and charging outcomes, per agency, area and officer.

Referrals and arrests are both grouped by hub.equity.population.race_group, so the two sides of
the relative rate index count the same groups.
"""

import json
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, literal
from sqlalchemy import select as core_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from hub.accounts.models import Agency, User
from hub.charging.models import ChargingDecision, ChargingMatter
from hub.clients.models import Person
from hub.db import UTCDateTime
from hub.equity.disparity import RelativeRate, relative_rate
from hub.equity.models import (
    EligibleArrestCount,
    EligibleArrestImport,
    JailBooking,
    JailBookingImport,
)
from hub.equity.population import race_group
from hub.equity.suppression import TOTAL, Atom, PublishedTable, publish
from hub.equity.tables import (
    ELIGIBLE_TABLES,
    GENDER_LABELS,
    INTAKE_BUCKETS,
    JAIL_BOOKED,
    JAIL_NOT_BOOKED,
    NO_INTAKE,
    OUTCOME_TABLES,
    RACE_LABELS,
    RACE_ORDER,
    REFERENCE_GROUP,
    REFERRAL_TABLES,
    SUPPRESS_BELOW,
    WINDOWS,
)
from hub.referrals.models import Referral
from hub.referrals.rules import site_zone
from hub.site_clock import SiteClock, offset_changes
from hub.vocabulary import ProgramStatus, ReferralKind

__all__ = [
    "SUPPRESS_BELOW",
    "WINDOWS",
    "EquityFigures",
    "equity_figures",
    "months_back",
    "offset_changes",
]


def gender_label(codes: list[int]) -> str:
    if len(codes) == 1:
        return GENDER_LABELS.get(codes[0], str(codes[0]))
    return "More than one" if codes else GENDER_LABELS[99]


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    first_month: str
    last_month: str


def _month_start(index: int, zone: tzinfo) -> datetime:
    """Midnight on the first of month `index` (year * 12 + month - 1) in the zone, in UTC."""
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=zone).astimezone(UTC)


def months_back(now: datetime, months: int, zone: tzinfo = UTC) -> Period:
    """The last `months` calendar months of the site's time zone, this one included."""
    local = now.astimezone(zone)
    this = local.year * 12 + local.month - 1
    start = _month_start(this - (months - 1), zone)
    return Period(
        start=start,
        end=_month_start(this + 1, zone),
        first_month=start.astimezone(zone).strftime("%Y-%m"),
        last_month=local.strftime("%Y-%m"),
    )


def site_clock(db: Session, now: datetime) -> SiteClock:
    """The site's clock over every referral so far."""
    since = db.execute(core_select(func.min(col(Referral.referred_at)))).scalar_one()
    return SiteClock(site_zone(db), db.get_bind().dialect.name, min(since or now, now), now)


def days_between(earlier: Any, later: Any, dialect: str) -> ColumnElement:
    """Days from one timestamp to another, in SQL (fractional)."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def _bucket(days: ColumnElement, edges: list[tuple[float, str]], otherwise: str) -> ColumnElement:
    return case(*((days <= edge, label) for edge, label in edges), else_=otherwise)


def referral_cube(db: Session, period: Period, now: datetime) -> list[tuple[Atom, int]]:
    """Every referral made before `now`, counted by every dimension the dashboard and the
    outcome tables break them down by: one GROUP BY, never a row per person. Dimensions that
    only the period's tables use are blank outside the period, which keeps the cube small."""
    dialect = db.get_bind().dialect.name
    latest_outcome = (
        core_select(col(ChargingDecision.outcome))
        .join(ChargingMatter, col(ChargingMatter.id) == col(ChargingDecision.matter_id))
        .where(col(ChargingMatter.referral_id) == col(Referral.id))
        .order_by(col(ChargingDecision.id).desc())
        .limit(1)
        .scalar_subquery()
    )
    # A later arrest: a charging matter of the same person, arrested after the referral, that
    # is not the referral's own arrest.
    first_rearrest = (
        core_select(
            func.min(
                days_between(col(Referral.referred_at), col(ChargingMatter.arrested_at), dialect)
            )
        )
        .where(
            col(ChargingMatter.person_id) == col(Referral.person_id),
            col(ChargingMatter.arrested_at) > col(Referral.referred_at),
            func.coalesce(col(ChargingMatter.referral_id), 0) != col(Referral.id),
        )
        .scalar_subquery()
    )
    clock = site_clock(db, now)
    moment = literal(now, UTCDateTime(timezone=True))
    age = days_between(col(Referral.referred_at), moment, dialect)
    # Jail bookings in the year before and the year after referral, only where that year has
    # passed (the followup of the 12-month re-arrest table).
    year_passed = age > WINDOWS["12 months"]
    referred_on = clock.day(col(Referral.referred_at))
    booked = {
        "jail_before": jail_booked(
            col(Referral.person_id), clock.day(col(Referral.referred_at), -365), referred_on
        ),
        "jail_after": jail_booked(
            col(Referral.person_id), referred_on, clock.day(col(Referral.referred_at), 365)
        ),
    }
    to_intake = days_between(col(Referral.referred_at), col(Referral.intake_done_at), dialect)
    in_period = and_(
        col(Referral.referred_at) >= period.start, col(Referral.referred_at) < period.end
    )

    def period_only(expression: Any) -> ColumnElement:
        # Blank outside the period: fewer groups, and a CASE skips its subquery there.
        return case((in_period, expression), else_="")

    # One row per referral with each subquery worked out once; OFFSET 0 keeps the database
    # from folding it into the GROUP BY, which would work each out again per bucket.
    per_referral = (
        core_select(
            case((in_period, 1), else_=0).label("in_period"),
            clock.month(col(Referral.referred_at)).label("month"),
            cast(Person.race_ethnicity, String).label("race"),
            period_only(cast(Person.gender, String)).label("gender"),
            col(Referral.kind).label("kind"),
            period_only(func.coalesce(col(Referral.precinct), "(not recorded)")).label("area"),
            # Record numbers, named after the GROUP BY: short keys, and no join per referral.
            case((in_period, col(Referral.referring_agency_id))).label("agency"),
            case((in_period, col(Referral.referring_user_id))).label("officer"),
            period_only(
                case((col(Referral.exclusion_override_reason).is_(None), "0"), else_="1")
            ).label("override"),
            period_only(
                case(
                    (col(Referral.intake_done_at).is_(None), NO_INTAKE),
                    else_=_bucket(
                        to_intake,
                        list(zip([7, 14, 30], INTAKE_BUCKETS, strict=False)),
                        INTAKE_BUCKETS[-1],
                    ),
                )
            ).label("intake"),
            period_only(func.coalesce(cast(latest_outcome, String), "none")).label("outcome"),
            col(Person.program_status).label("status"),
            age.label("age"),
            *(
                case(
                    (year_passed, case((found, JAIL_BOOKED), else_=JAIL_NOT_BOOKED)), else_=""
                ).label(name)
                for name, found in booked.items()
            ),
            first_rearrest.label("rearrest_days"),
        )
        .join(Person, col(Person.id) == col(Referral.person_id))
        # A referral its officer withdrew as made in error was never a referral.
        .where(col(Referral.referred_at) < now, col(Referral.withdrawn_at).is_(None))
        .offset(0)
        .subquery()
    )
    kept = [c for c in per_referral.c if c.name not in ("age", "rearrest_days")]
    inner = core_select(
        *kept,
        _bucket(per_referral.c.age, [(182, "0"), (365, "1"), (730, "2")], "3").label("followup"),
        func.coalesce(
            _bucket(
                per_referral.c.rearrest_days,
                [(182, "6 months"), (365, "12 months"), (730, "24 months")],
                "later",
            ),
            "none",
        ).label("rearrest"),
    ).subquery()
    # Through the session's connection (its transaction) as plain rows: the ORM's row handling
    # cost more than the query at 14,000 groups.
    rows = db.connection().execute(core_select(*inner.c, func.count()).group_by(*inner.c)).all()
    names = [c.name for c in inner.c]
    at = {name: i for i, name in enumerate(names)}
    cube: dict[tuple[Hashable, ...], int] = defaultdict(int)
    # Groups repeat the same few raw values: each is turned into its label once.
    race_of = cache(lambda raw: race_group(json.loads(raw or "[]")))
    gender_of = cache(lambda raw: gender_label(sorted(json.loads(raw))) if raw else "")
    quarter_of = cache(lambda month: f"{month[:4]} Q{(int(month[5:7]) - 1) // 3 + 1}")
    agency_names = {
        id_: name for id_, name in db.execute(core_select(col(Agency.id), col(Agency.name)))
    }
    officers = {values[at["officer"]] for *values, _ in rows} - {None}
    officer_names = {
        id_: name
        for id_, name in db.execute(
            core_select(col(User.id), col(User.display_name)).where(col(User.id).in_(officers))
        )
    }
    for *values, count in rows:
        agency, officer = values[at["agency"]], values[at["officer"]]
        values[at["agency"]] = agency_names.get(agency, "") if agency is not None else ""
        values[at["officer"]] = (
            f"{agency_names.get(agency, '')}: {officer_names.get(officer, '')}"
            if officer is not None
            else ""
        )
        values[at["race"]] = race_of(values[at["race"]])
        values[at["gender"]] = gender_of(values[at["gender"]])
        values[at["kind"]] = ReferralKind(values[at["kind"]]).value
        values[at["status"]] = ProgramStatus(values[at["status"]]).value
        inside = bool(values[at["in_period"]])
        values[at["in_period"]] = inside
        values[at["override"]] = values[at["override"]] == "1" if inside else ""
        month = str(values[at["month"]])
        if not inside:
            values[at["month"]] = ""  # the period's tables alone use it; the quarter stays
        cube[(*values, quarter_of(month))] += int(count)
    keys = [*names, "quarter"]
    ordered = sorted(cube.items(), key=lambda kv: tuple(map(str, kv[0])))
    return [(dict(zip(keys, key, strict=True)), count) for key, count in ordered]


def jail_booked(person_id: Any, first_day: ColumnElement, until_day: ColumnElement) -> Any:
    """Whether the person has a booking from `first_day` up to (not including) `until_day`
    in the jail's current imports."""
    return exists(
        core_select(literal(1))
        .select_from(JailBooking)
        .join(JailBookingImport, col(JailBookingImport.id) == col(JailBooking.import_id))
        .where(
            col(JailBooking.person_id) == person_id,
            col(JailBooking.booked_on) >= first_day,
            col(JailBooking.booked_on) < until_day,
            col(JailBookingImport.superseded_at).is_(None),
        )
    )


def eligible_cube(db: Session, period: Period) -> list[tuple[Atom, int]]:
    """Eligible arrests in the period's months, from each agency's current import."""
    rows = db.execute(
        core_select(
            col(EligibleArrestCount.race_group),
            col(EligibleArrestCount.gender),
            col(EligibleArrestCount.area),
            func.sum(col(EligibleArrestCount.arrests)),
        )
        .join(
            EligibleArrestImport, col(EligibleArrestImport.id) == col(EligibleArrestCount.import_id)
        )
        .where(
            col(EligibleArrestImport.superseded_at).is_(None),
            col(EligibleArrestImport.month) >= period.first_month,
            col(EligibleArrestImport.month) <= period.last_month,
        )
        .group_by(
            col(EligibleArrestCount.race_group),
            col(EligibleArrestCount.gender),
            col(EligibleArrestCount.area),
        )
    ).all()
    return [
        ({"race": race, "gender": GENDER_LABELS.get(gender, str(gender)), "area": area}, int(n))
        for race, gender, area, n in rows
        if n
    ]


@dataclass(frozen=True)
class CompositionRow:
    group: str
    arrest_referrals: int | None
    eligible: int | None
    referral_share: float | None
    eligible_share: float | None
    rate: RelativeRate | None
    reference: bool


def composition(referrals: PublishedTable, eligible: PublishedTable) -> list[CompositionRow]:
    """Arrest referrals against eligible arrests by race and ethnicity, with the RRI where both
    counts are shown (an RRI of a suppressed count would give it away)."""
    ref_label = RACE_LABELS[REFERENCE_GROUP]
    ref_referrals = referrals.value(ref_label, ReferralKind.arrest.value)
    ref_eligible = eligible.value(ref_label)
    total_referrals = referrals.value(TOTAL, ReferralKind.arrest.value)
    total_eligible = eligible.value(TOTAL)
    rows = []
    for label in RACE_ORDER:
        n = referrals.value(label, ReferralKind.arrest.value)
        e = eligible.value(label)
        if (label, ReferralKind.arrest.value) not in referrals.values and (
            label,
            TOTAL,
        ) not in eligible.values:
            continue
        rate = None
        if None not in (n, e, ref_referrals, ref_eligible) and label != ref_label:
            rate = relative_rate(n or 0, e or 0, ref_referrals or 0, ref_eligible or 0)
        rows.append(
            CompositionRow(
                group=label,
                arrest_referrals=n,
                eligible=e,
                referral_share=(n / total_referrals) if n is not None and total_referrals else None,
                eligible_share=(e / total_eligible) if e is not None and total_eligible else None,
                rate=rate,
                reference=label == ref_label,
            )
        )
    return rows


@dataclass(frozen=True)
class EquityFigures:
    period: Period
    tables: dict[str, PublishedTable]  # the period's and the outcome tables
    eligible: dict[str, PublishedTable]
    composition: list[CompositionRow]


def equity_figures(db: Session, period: Period, now: datetime) -> EquityFigures:
    """Every table of the dashboard for the period and the outcome tables, suppressed
    together: they count one population."""
    cube = referral_cube(db, period, now)
    specs = [*REFERRAL_TABLES, *OUTCOME_TABLES]
    tables = {t.name: t for t in publish(cube, specs, SUPPRESS_BELOW)}
    eligible = {
        t.name: t for t in publish(eligible_cube(db, period), ELIGIBLE_TABLES, SUPPRESS_BELOW)
    }
    return EquityFigures(
        period=period,
        tables=tables,
        eligible=eligible,
        composition=composition(tables["race_kind"], eligible["eligible_race"]),
    )
