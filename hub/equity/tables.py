"""What the equity pages publish: the HMIS labels, and every table as a TableSpec over the
referral cube (hub.equity.figures), so that hub.equity.suppression publishes them together."""

from collections.abc import Callable, Sequence

from hub.equity.population import MULTIRACIAL, UNKNOWN
from hub.equity.suppression import Atom, TableSpec
from hub.vocabulary import HMIS_GENDER_LABELS, ProgramStatus, ReferralKind

SUPPRESS_BELOW = 11  # issue 16: every count under 11 is suppressed
REFERENCE_GROUP = "5"  # White, the DMC reference group

# HUD HMIS FY2024 3.04 RaceAndEthnicity and 3.06 Gender, with the reporting groups.
RACE_LABELS = {
    "1": "American Indian, Alaska Native, or Indigenous",
    "2": "Asian or Asian American",
    "3": "Black, African American, or African",
    "4": "Native Hawaiian or Pacific Islander",
    "5": "White",
    "6": "Hispanic/Latina/e/o",
    "7": "Middle Eastern or North African",
    MULTIRACIAL: "Two or more (multiracial)",
    UNKNOWN: "Unknown, not answered or not collected",
}
# The HMIS 3.06.1 labels (hub.vocabulary): 3 is a different identity, 5 transgender, 6 questioning.
GENDER_LABELS = HMIS_GENDER_LABELS
OUTCOME_LABELS = {
    "file": "filed",
    "decline": "declined",
    "divert": "diverted",
    "more_information": "more information",
    "none": "no decision",
}

# Follow-up windows for re-arrest (issue 16, item 3), in days.
WINDOWS = {"6 months": 182, "12 months": 365, "24 months": 730}
INTAKE_BUCKETS = ["within 7 days", "8 to 14 days", "15 to 30 days", "more than 30 days"]
NO_INTAKE = "no intake yet"
JAIL_BOOKED = "booked"
JAIL_NOT_BOOKED = "not booked"


def _race(atom: Atom) -> str:
    return RACE_LABELS[str(atom["race"])]


def _dimension(name: str) -> Callable[[Atom], str]:
    return lambda atom: str(atom[name])


def _stage(atom: Atom) -> str:
    return "intake not (yet) completed" if atom["intake"] == NO_INTAKE else "intake completed"


def _outcome(atom: Atom) -> str:
    return OUTCOME_LABELS.get(str(atom["outcome"]), str(atom["outcome"]))


def _in_period(atom: Atom) -> bool:
    return bool(atom["in_period"])


RACE_ORDER = [RACE_LABELS[k] for k in RACE_LABELS]
KIND_ORDER = [k.value for k in ReferralKind]
STATUS_ORDER = [s.value for s in ProgramStatus]


def _period_table(
    name: str,
    title: str,
    heading: str,
    rows: Callable[[Atom], str],
    columns: Callable[[Atom], str] | None,
    row_order: Sequence[str] = (),
    column_order: Sequence[str] = (),
) -> TableSpec:
    return TableSpec(name, title, heading, rows, columns, row_order, column_order, _in_period)


def _rearrest_table(window: str, complete: int) -> TableSpec:
    """Referrals whose follow-up reaches `window`, by race: re-arrested within it or not."""
    days = WINDOWS[window]

    def within(atom: Atom) -> str:
        rearrest = str(atom["rearrest"])
        hit = rearrest in WINDOWS and WINDOWS[rearrest] <= days
        return f"re-arrested within {window}" if hit else "not re-arrested"

    return TableSpec(
        f"rearrest_{days}",
        f"Re-arrest within {window} of referral (referrals at least {window} old)",
        "Race and ethnicity",
        _race,
        within,
        RACE_ORDER,
        [f"re-arrested within {window}", "not re-arrested"],
        lambda atom: int(str(atom["followup"])) >= complete,
    )


REFERRAL_TABLES = [
    _period_table(
        "month_kind",
        "Referrals per month, by kind",
        "Month",
        _dimension("month"),
        _dimension("kind"),
        column_order=KIND_ORDER,
    ),
    _period_table(
        "race_kind",
        "Referrals by race and ethnicity (HMIS 3.04), by kind",
        "Race and ethnicity",
        _race,
        _dimension("kind"),
        RACE_ORDER,
        KIND_ORDER,
    ),
    _period_table(
        "gender_kind",
        "Referrals by gender (HMIS 3.06), by kind",
        "Gender",
        _dimension("gender"),
        _dimension("kind"),
        column_order=KIND_ORDER,
    ),
    _period_table(
        "race_intake",
        "Intake completion by race and ethnicity",
        "Race and ethnicity",
        _race,
        _stage,
        RACE_ORDER,
    ),
    _period_table(
        "race_override",
        "Eligibility overrides by race and ethnicity",
        "Race and ethnicity",
        _race,
        lambda a: "eligibility overridden" if a["override"] else "no override",
        RACE_ORDER,
    ),
    _period_table(
        "race_outcome",
        "Charging outcomes by race and ethnicity",
        "Race and ethnicity",
        _race,
        _outcome,
        RACE_ORDER,
    ),
    _period_table(
        "agency_kind",
        "Referrals per agency, by kind",
        "Agency",
        _dimension("agency"),
        _dimension("kind"),
        column_order=KIND_ORDER,
    ),
    _period_table(
        "area_race",
        "Referrals per area, by race and ethnicity",
        "Area",
        _dimension("area"),
        _race,
        column_order=RACE_ORDER,
    ),
    # Per officer: shown only to their sergeant and the coordinator (hub.equity.services), but
    # always suppressed with the rest, so every viewer's tables agree.
    _period_table(
        "officer_kind",
        "Referrals per officer, by kind",
        "Officer",
        _dimension("officer"),
        _dimension("kind"),
        column_order=KIND_ORDER,
    ),
]

# Outcomes (issue 16, item 3): every referral so far, suppressed with the tables above.
OUTCOME_TABLES = [
    _period_table(
        "intake_days",
        "Days from referral to intake",
        "Days",
        _dimension("intake"),
        None,
        [*INTAKE_BUCKETS, NO_INTAKE],
    ),
    TableSpec(
        "status_quarter",
        "Program status today, by quarter of referral",
        "Quarter referred",
        _dimension("quarter"),
        _dimension("status"),
        column_order=STATUS_ORDER,
    ),
    _rearrest_table("6 months", 1),
    _rearrest_table("12 months", 2),
    _rearrest_table("24 months", 3),
    # Jail bookings from the jail's import, the same referrals as the 12-month re-arrest table.
    TableSpec(
        "jail_booked",
        "Referrals booked into jail in the 12 months before and after referral"
        " (referrals at least 12 months old)",
        "12 months before",
        lambda atom: f"before: {atom['jail_before']}",
        lambda atom: f"after: {atom['jail_after']}",
        [f"before: {JAIL_BOOKED}", f"before: {JAIL_NOT_BOOKED}"],
        [f"after: {JAIL_BOOKED}", f"after: {JAIL_NOT_BOOKED}"],
        lambda atom: int(str(atom["followup"])) >= 2,
    ),
]


ELIGIBLE_TABLES = [
    TableSpec(
        "eligible_race",
        "Eligible arrests by race and ethnicity",
        "Race and ethnicity",
        _race,
        None,
        RACE_ORDER,
    ),
    TableSpec("eligible_gender", "Eligible arrests by gender", "Gender", _dimension("gender")),
    TableSpec("eligible_area", "Eligible arrests per area", "Area", _dimension("area")),
]
