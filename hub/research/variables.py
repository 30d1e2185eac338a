"""The fixed list of variables a research protocol may approve, each with the disclosure
category it draws on. A protocol names variables from this list only; the export writes these
columns only, so nothing else can leave in a research file (HIPAA minimum necessary)."""

from dataclasses import dataclass

from hub.vocabulary import Category


@dataclass(frozen=True)
class Variable:
    name: str
    category: Category
    description: str
    # One of the quasi-identifiers the k-anonymity report groups by.
    quasi_identifier: bool = False


_VARIABLES = (
    Variable(
        "age_band",
        Category.demographics,
        "Age at referral in bands (18-24 ... 80-89, 90+); computed inside the policy layer from "
        "the date of birth, which never leaves it (45 CFR 164.514(b)(2)(i)(C): ages over 89 "
        "are grouped).",
        quasi_identifier=True,
    ),
    Variable(
        "race",
        Category.demographics,
        "HUD HMIS FY2024 race (3.04 without Hispanic/Latina/e/o): one label, or 'multiple'.",
        quasi_identifier=True,
    ),
    Variable(
        "ethnicity",
        Category.demographics,
        "Hispanic/Latina/e/o (HMIS 3.04 code 6): yes, no, or not_collected.",
        quasi_identifier=True,
    ),
    Variable(
        "gender",
        Category.demographics,
        "HUD HMIS FY2024 gender (3.06): one label, or 'multiple'.",
        quasi_identifier=True,
    ),
    Variable(
        "area",
        Category.referral,
        "The police precinct of the referral, or 'unspecified': no geography finer than that.",
        quasi_identifier=True,
    ),
    Variable("referral_year", Category.referral, "Year of the first referral (year only)."),
    Variable("referral_kind", Category.referral, "arrest, social_contact or community."),
    Variable("offense_category", Category.referral, "drug or prostitution."),
    Variable("eligibility", Category.referral, "eligible or presumptively_excluded."),
    Variable("intake_completed", Category.referral, "Whether the full intake was done: yes/no."),
    Variable("program_status", Category.engagement, "Where the person stands in the program."),
    Variable(
        "in_treatment",
        Category.treatment,
        "Whether substance-use treatment is recorded: yes/no. 42 CFR Part 2 data: only under "
        "the program director's 42 CFR 2.52 determination.",
    ),
    Variable(
        "treatment_start_year",
        Category.treatment,
        "Year the first recorded treatment started. 42 CFR Part 2 data, as in_treatment.",
    ),
)

VARIABLES: dict[str, Variable] = {v.name: v for v in _VARIABLES}
QUASI_IDENTIFIERS: tuple[str, ...] = tuple(v.name for v in _VARIABLES if v.quasi_identifier)
# The pseudonym column every research file starts with (not a variable a protocol approves).
PSEUDONYM = "study_pseudonym"


def categories_of(names: list[str] | tuple[str, ...]) -> frozenset[Category]:
    """The categories the named variables draw on (unknown names draw on none)."""
    return frozenset(VARIABLES[n].category for n in names if n in VARIABLES)


def needs_part2(names: list[str] | tuple[str, ...]) -> bool:
    """Whether any named variable is substance-use treatment data (42 CFR 2.52)."""
    return Category.treatment in categories_of(names)
