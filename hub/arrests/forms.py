"""What the arrest pages and the arrest API receive, and how it becomes service input."""

from datetime import date

from pydantic import AwareDatetime, BaseModel, Field

from hub.arrests.services import ArrestDetails, ArrestRefused
from hub.referrals.eligibility import ReferralError
from hub.referrals.forms import parse_date, parse_local_time
from hub.referrals.rules import SiteRules
from hub.vocabulary import OffenseLevel
from hub.web.api import NulFree


class ArrestForm(BaseModel):
    """The officer's page: text as typed, so that a mistake is answered with the form again."""

    first_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)
    date_of_birth: str = Field(default="", max_length=10)
    offense_code: str = Field(default="", max_length=64)
    offense_description: str = Field(default="", max_length=200)
    offense_level: str = Field(default="", max_length=32)
    has_victim: bool = False
    arrested_at: str = Field(default="", max_length=20)
    place: str = Field(default="", max_length=200)
    offense_tracking_number: str = Field(default="", max_length=40)


class ArrestIn(BaseModel):
    """An arrest as a police or prosecution records system submits it."""

    # Not blank: at least one character that is not a space, as the service checks.
    first_name: NulFree = Field(min_length=1, max_length=100, pattern=r"\S")
    last_name: NulFree = Field(min_length=1, max_length=100, pattern=r"\S")
    date_of_birth: date | None = None
    offense_code: NulFree = Field(min_length=1, max_length=64, pattern=r"\S")
    offense_description: NulFree = Field(min_length=1, max_length=200, pattern=r"\S")
    offense_level: OffenseLevel
    has_victim: bool
    arrested_at: AwareDatetime
    place: NulFree = Field(default="", max_length=200)
    offense_tracking_number: NulFree = Field(min_length=1, max_length=40, pattern=r"\S")


def details_from_form(form: ArrestForm, rules: SiteRules) -> ArrestDetails:
    """The form's fields as service input; every unreadable field refused at once."""
    problems: list[tuple[str, str]] = []
    born = arrested = level = None
    try:
        born = parse_date(form.date_of_birth, "date of birth")
    except ReferralError as error:
        problems.append(("date_of_birth", str(error)))
    try:
        arrested = parse_local_time(form.arrested_at, rules, "the arrest")
    except ReferralError as error:
        problems.append(("arrested_at", str(error)))
    try:
        level = OffenseLevel(form.offense_level)
    except ValueError:
        problems.append(("offense_level", "choose felony, gross misdemeanor or misdemeanor"))
    if problems or arrested is None or level is None:
        # Every error at once: the blank fields too, not only those that did not parse.
        blank = [
            (name, "required")
            for name in (
                "first_name",
                "last_name",
                "offense_code",
                "offense_description",
                "offense_tracking_number",
            )
            if not getattr(form, name).strip()
        ]
        raise ArrestRefused(problems + blank)
    return ArrestDetails(
        first_name=form.first_name,
        last_name=form.last_name,
        date_of_birth=born,
        offense_code=form.offense_code,
        offense_description=form.offense_description,
        offense_level=level,
        has_victim=form.has_victim,
        arrested_at=arrested,
        place=form.place,
        offense_tracking_number=form.offense_tracking_number,
    )


def details_from_api(body: ArrestIn) -> ArrestDetails:
    return ArrestDetails(**body.model_dump())
