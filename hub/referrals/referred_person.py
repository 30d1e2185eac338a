"""Who is referred: a person the officer names (only one they referred before) or a new
one, checked for possible duplicates server side; police are told the same either way."""

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from hub.accounts.sessions import Viewer
from hub.clients.models import Person, PersonAlias
from hub.db import ident, utcnow
from hub.permissions import permits
from hub.referrals.duplicates import DuplicateCandidate, find_possible_duplicates
from hub.referrals.eligibility import (
    ReferralError,
)
from hub.referrals.models import (
    PersonReconciliation,
    Referral,
)
from hub.referrals.rules import SiteRules
from hub.vocabulary import Action

# HUD HMIS FY2024 data standards: 3.04 RaceAndEthnicity and 3.06 Gender response codes.
HMIS_RACE_ETHNICITY = {1, 2, 3, 4, 5, 6, 7, 8, 9, 99}


HMIS_GENDER = {0, 1, 2, 3, 4, 5, 6, 8, 9, 99}


_NOT_COLLECTED = {8, 9, 99}


class PossibleDuplicate(ReferralError):
    """Persons on file may be the one entered: choose one, or say it is none of these."""

    def __init__(self, candidates: list[DuplicateCandidate]) -> None:
        self.candidates = candidates
        super().__init__(
            "possible duplicates on file: choose the existing person or confirm none of these"
        )


@dataclass(frozen=True)
class ExistingPerson:
    person_id: int


@dataclass(frozen=True)
class NewPerson:
    """A person not yet on file. `none_of` holds the candidate ids the referrer was shown and
    answered "none of these" to; the service checks again and refuses if any candidate found
    now is missing from it (a person may have been entered in between)."""

    first_name: str
    last_name: str
    date_of_birth: date | None
    aliases: tuple[str, ...] = ()
    race_ethnicity: tuple[int, ...] = ()
    gender: tuple[int, ...] = ()
    none_of: frozenset[int] = field(default_factory=frozenset)


PersonChoice = ExistingPerson | NewPerson


def _hmis_codes(codes: tuple[int, ...], allowed: set[int], what: str) -> list[int]:
    chosen = sorted(set(codes))
    if set(chosen) - allowed:
        raise ReferralError(f"not a HUD HMIS {what} code: {sorted(set(chosen) - allowed)}")
    if len(chosen) > 1 and set(chosen) & _NOT_COLLECTED:
        raise ReferralError(
            f"'doesn't know', 'prefers not to answer' or 'not collected' stand alone ({what})"
        )
    return chosen or [99]


class PersonRefused(ReferralError):
    """A police referrer named an existing person they did not refer. The message is the
    same whether or not the person exists; `person_id` is the attempted record number, for
    the log."""

    def __init__(self, person_id: int) -> None:
        self.person_id = person_id
        super().__init__(
            "police name an existing person only if they referred them: send the person's "
            "particulars, and the case management agency reconciles the referral"
        )


def _referred_by(db: Session, person_id: int, user_id: int) -> bool:
    return (
        db.exec(
            select(Referral.id).where(
                Referral.person_id == person_id, Referral.referring_user_id == user_id
            )
        ).first()
        is not None
    )


def check_named_person(db: Session, referrer: Viewer, choice: PersonChoice) -> None:
    """Refuses a police referrer's existing person unless they referred them: checked before
    anything else about the referral, so that no other answer tells who or what is on file."""
    if (
        isinstance(choice, ExistingPerson)
        and permits(referrer, Action.referrals_create)
        and not _referred_by(db, choice.person_id, referrer.user_id)
    ):
        raise PersonRefused(choice.person_id)


def resolve_person(
    db: Session, choice: PersonChoice, rules: SiteRules, referrer: Viewer
) -> tuple[Person, bool]:
    """The person referred, and whether they were created now.

    Police learn nothing of who is on file: they may name an existing person only if they
    referred them themself, and particulars that resemble persons on file make a new person
    all the same, flagged for the case management agency to reconcile (PersonReconciliation).
    Whether a match was found changes nothing in what police are answered."""
    police = permits(referrer, Action.referrals_create)
    check_named_person(db, referrer, choice)
    if isinstance(choice, ExistingPerson):
        person = db.get(Person, choice.person_id)
        if person is None:
            raise ReferralError("no such person")
        return person, False
    first, last = choice.first_name.strip(), choice.last_name.strip()
    if not first or not last:
        raise ReferralError("a new person needs a first and a last name")
    if choice.date_of_birth is not None and choice.date_of_birth > utcnow().date():
        raise ReferralError("a date of birth lies in the future")
    aliases = [a.strip() for a in choice.aliases if a.strip()]
    candidates = find_possible_duplicates(
        db, first, last, choice.date_of_birth, aliases, rules=rules
    )
    unseen = [c for c in candidates if c.person_id not in choice.none_of]
    if unseen and not police:
        raise PossibleDuplicate(candidates)
    person = Person(
        first_name=first,
        last_name=last,
        date_of_birth=choice.date_of_birth,
        race_ethnicity=_hmis_codes(choice.race_ethnicity, HMIS_RACE_ETHNICITY, "race/ethnicity"),
        gender=_hmis_codes(choice.gender, HMIS_GENDER, "gender"),
        created_by_id=referrer.user_id,
    )
    db.add(person)
    db.flush()
    for alias in aliases:
        db.add(PersonAlias(person_id=ident(person.id), name=alias))
    if police and candidates:
        db.add(
            PersonReconciliation(
                person_id=ident(person.id),
                candidate_ids=[c.person_id for c in candidates],
                flagged_by_id=referrer.user_id,
            )
        )
    return person, True
