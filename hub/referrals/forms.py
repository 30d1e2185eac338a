"""What the referral pages and the referral API receive, and how it becomes service input.

Form fields stay text where a person types them, so that a mistake is answered with the
form again and a message (nothing changed), not with a bare validation error.
"""

from datetime import UTC, date, datetime

from pydantic import BaseModel, Field
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.permissions import permits
from hub.referrals.duplicates import find_possible_duplicates
from hub.referrals.eligibility import PriorConviction, PriorInvolvement, ReferralError
from hub.referrals.eligibility import ScreeningAnswers as Answers
from hub.referrals.referred_person import ExistingPerson, NewPerson, PersonChoice
from hub.referrals.rules import SiteRules
from hub.vocabulary import Action, PriorInvolvementKind
from hub.web.params import Code, RecordNumber

NONE_OF_THESE = "none"


class PersonFields(BaseModel):
    """Who is referred: a new person's particulars, and the referrer's answer to the duplicate
    check (`person_choice`: "" before it, an id of a candidate, or "none")."""

    first_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)
    date_of_birth: str = Field(default="", max_length=10)
    aliases: str = Field(default="", max_length=1000)
    race_ethnicity: list[Code] = Field(default_factory=list)
    gender: list[Code] = Field(default_factory=list)
    person_choice: str = Field(default="", max_length=20)
    candidate_ids: list[RecordNumber] = Field(default_factory=list)


class ScreeningFields(BaseModel):
    """The site's screening questions answered yes, prior convictions, and the written reason
    to refer anyway when the screening presumptively excludes."""

    facts: list[str] = Field(default_factory=list)
    conviction_class: list[str] = Field(default_factory=list)
    conviction_date: list[str] = Field(default_factory=list)
    override_reason: str = Field(default="", max_length=1000)


class ArrestForm(PersonFields, ScreeningFields):
    offenses: list[str] = Field(default_factory=list)
    arrested_at: str = Field(default="", max_length=20)
    place: str = Field(default="", max_length=200)
    precinct: str = Field(default="", max_length=100)
    offense_tracking_number: str = Field(default="", max_length=40)
    case_management_agency_id: RecordNumber | None = None


class SocialContactForm(PersonFields, ScreeningFields):
    offense_category: str = Field(default="", max_length=32)
    prior_kind: str = Field(default="", max_length=32)
    prior_reference: str = Field(default="", max_length=100)
    precinct: str = Field(default="", max_length=100)
    case_management_agency_id: RecordNumber | None = None


class ListEntryForm(PersonFields):
    offense_category: str = Field(default="", max_length=32)
    prior_kind: str = Field(default="", max_length=32)
    prior_reference: str = Field(default="", max_length=100)
    precinct: str = Field(default="", max_length=100)


def parse_date(text: str, what: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReferralError(f"{what}: give a date as YYYY-MM-DD") from None


def parse_local_time(text: str, rules: SiteRules, what: str) -> datetime:
    """A datetime-local field, read in the site's time zone."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ReferralError(f"{what}: give a date and time") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=rules.tz)
    try:
        moment.astimezone(UTC)  # stored in UTC: year 1 east of UTC is no date at all
    except OverflowError:
        raise ReferralError(f"{what}: give a date and time from the years 1 to 9999") from None
    return moment


def choose_person(
    db: Session, form: PersonFields, rules: SiteRules, referrer: Viewer
) -> PersonChoice:
    """The person the referrer means. An existing person may be chosen only from the duplicate
    candidates of the particulars entered, found again here: an id typed into a form must not
    make anyone's client the referrer's own referral (and so open their record to them).
    Police are shown no candidates: the service admits only a person they referred
    themself (hub.referrals.referred_person.check_named_person)."""
    dob = parse_date(form.date_of_birth, "date of birth")
    aliases = tuple(a.strip() for a in form.aliases.splitlines() if a.strip())
    choice = form.person_choice.strip()
    if choice and choice != NONE_OF_THESE:
        if not choice.isdigit():
            raise ReferralError("choose one of the persons shown, or none of these")
        if permits(referrer, Action.referrals_create):  # police: see referred_person
            return ExistingPerson(int(choice))
        candidates = find_possible_duplicates(
            db, form.first_name, form.last_name, dob, aliases, rules=rules
        )
        if int(choice) not in {c.person_id for c in candidates}:
            raise ReferralError("choose one of the persons shown, or none of these")
        return ExistingPerson(int(choice))
    return NewPerson(
        first_name=form.first_name,
        last_name=form.last_name,
        date_of_birth=dob,
        aliases=aliases,
        race_ethnicity=tuple(form.race_ethnicity),
        gender=tuple(form.gender),
        none_of=frozenset(form.candidate_ids) if choice == NONE_OF_THESE else frozenset(),
    )


def screening_answers(form: ScreeningFields) -> Answers:
    convictions = []
    for offense_class, day in zip(form.conviction_class, form.conviction_date, strict=False):
        if not offense_class.strip() and not day.strip():
            continue
        convicted_on = parse_date(day, "conviction date")
        if not offense_class.strip() or convicted_on is None:
            raise ReferralError("a prior conviction needs its class and its date")
        convictions.append(PriorConviction(offense_class.strip(), convicted_on))
    return Answers(convictions=tuple(convictions), facts=frozenset(form.facts))


def prior_involvement(kind: str, reference: str) -> PriorInvolvement:
    try:
        parsed = PriorInvolvementKind(kind)
    except ValueError:
        raise ReferralError("choose the kind of prior documented involvement") from None
    return PriorInvolvement(parsed, reference)
