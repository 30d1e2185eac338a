"""factory_boy factories for test data. Bind them to a session with `bind(session)` (the
`factories` fixture does that), then call e.g. `factories.User(role=Role.prosecutor)`."""

import datetime as dt
from types import SimpleNamespace

import factory
import pyotp
from argon2 import PasswordHasher
from factory.builder import Resolver
from sqlmodel import Session

from hub.accounts.models import Agency, User
from hub.charging.models import ChargingDecision, ChargingMatter
from hub.clients.models import (
    CaseNote,
    ClientAssignment,
    HealthRecord,
    HousingRecord,
    Person,
    PersonAlias,
    PersonContact,
    PlanGoal,
    TreatmentRecord,
)
from hub.consents.models import Consent
from hub.crypto import key_ring
from hub.db import ident
from hub.referrals.models import Referral
from hub.vocabulary import (
    ROLES_BY_AGENCY_KIND,
    AgencyKind,
    AssignmentKind,
    Category,
    ConsentKind,
    DecisionOutcome,
    ProgramStatus,
    Purpose,
    ReferralKind,
    Role,
)

PASSWORD = "correct horse battery staple"
_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)  # fast, for tests only
_PASSWORD_HASH = _HASHER.hash(PASSWORD)


def agency_kind_for(role: Role) -> AgencyKind:
    for kind, roles in ROLES_BY_AGENCY_KIND.items():
        if role in roles and kind != AgencyKind.oversight:
            return kind
    raise ValueError(role)


class _Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "commit"


class AgencyFactory(_Base):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Test Agency {n}")
    kind = AgencyKind.case_management


def _agency_id(user: Resolver) -> int:
    """The agency given, else a new one of the kind the user's role works in."""
    agency = user.agency or AgencyFactory.create(kind=agency_kind_for(user.role))
    return ident(agency.id)


class UserFactory(_Base):
    """An active user with a password (PASSWORD) and a confirmed TOTP second factor."""

    class Meta:
        model = User
        exclude = ("totp_secret",)

    class Params:
        agency = None

    role = Role.case_manager
    email = factory.Sequence(lambda n: f"user{n}@example.test")
    display_name = factory.Sequence(lambda n: f"Test User {n}")
    password_hash = _PASSWORD_HASH
    totp_secret = factory.LazyFunction(pyotp.random_base32)
    totp_secret_sealed = factory.LazyAttribute(lambda o: key_ring().seal(o.totp_secret))
    mfa_enrolled_at = factory.LazyFunction(lambda: dt.datetime.now(dt.UTC))

    agency_id = factory.LazyAttribute(_agency_id)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PersonFactory(_Base):
    class Meta:
        model = Person

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=70)
    race_ethnicity = factory.LazyFunction(lambda: [1])
    gender = factory.LazyFunction(lambda: [1])
    program_status = ProgramStatus.enrolled
    last_contact_on = factory.LazyFunction(dt.date.today)


class PersonAliasFactory(_Base):
    class Meta:
        model = PersonAlias

    name = factory.Faker("name")


class ReferralFactory(_Base):
    """A referral by `referring_user` (an officer) to `case_management_agency_id`."""

    class Meta:
        model = Referral
        exclude = ("referring_user",)

    referring_user = None
    kind = ReferralKind.social_contact
    referred_at = factory.LazyFunction(_utcnow)
    offense_category = "drug"
    alleged_offenses = factory.LazyFunction(lambda: ["VUCSA-possession"])
    intake_due_on = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=30))
    referring_user_id = factory.LazyAttribute(lambda o: o.referring_user.id)
    referring_agency_id = factory.LazyAttribute(lambda o: o.referring_user.agency_id)


class ClientAssignmentFactory(_Base):
    class Meta:
        model = ClientAssignment

    kind = AssignmentKind.caseload


class ConsentFactory(_Base):
    """A complete, signed 42 CFR 2.31 consent (active unless revoked, expired or changed)."""

    class Meta:
        model = Consent

    kind = ConsentKind.part2
    categories = factory.LazyFunction(lambda: [c.value for c in Category])
    purposes = factory.LazyFunction(lambda: [p.value for p in Purpose])
    description = "Records named by category, for the purposes listed."
    right_to_revoke = "In writing to the case-management agency, at any time."
    expires_on = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=365))
    signed_by = factory.Faker("name")
    signature_on_file = True
    signed_on = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=1))


class CaseNoteFactory(_Base):
    class Meta:
        model = CaseNote

    category = Category.engagement
    body = factory.Faker("sentence")


_FACTORIES = {
    "Agency": AgencyFactory,
    "User": UserFactory,
    "Person": PersonFactory,
    "PersonAlias": PersonAliasFactory,
    "Referral": ReferralFactory,
    "ClientAssignment": ClientAssignmentFactory,
    "Consent": ConsentFactory,
    "CaseNote": CaseNoteFactory,
}


def bind(session: Session) -> SimpleNamespace:
    for factory_class in _FACTORIES.values():
        # factory_boy declares its options at run time; its types know only the base class's.
        factory_class._meta.sqlalchemy_session = session  # type: ignore[attr-defined]
    return SimpleNamespace(**_FACTORIES)


def totp_secret_of(user: User) -> str:
    assert user.totp_secret_sealed
    return key_ring().open(user.totp_secret_sealed)


def full_client(
    session: Session,
    *,
    referring_user: User,
    case_management_agency_id: int,
    prosecuting_agency_id: int,
    note_author: User,
    forwarded: bool = True,
) -> Person:
    """A client with data in every category and one case note per category, so that a test
    can see exactly which categories a read disclosed."""
    person: Person = PersonFactory.create()
    person_id = ident(person.id)
    PersonAliasFactory.create(person_id=person_id)
    referral: Referral = ReferralFactory.create(
        person_id=person_id,
        referring_user=referring_user,
        case_management_agency_id=case_management_agency_id,
        forwarded_to_agency_id=prosecuting_agency_id if forwarded else None,
    )
    now = _utcnow()
    matter = ChargingMatter(
        person_id=person_id,
        referral_id=referral.id,
        prosecuting_agency_id=prosecuting_agency_id,
        offense_tracking_number=f"OTN-{person_id}-{now.timestamp()}",
        offenses=["VUCSA-possession"],
        arrested_at=now,
        court_date=dt.date.today() + dt.timedelta(days=60),
    )
    session.add(matter)
    session.flush()
    session.add_all(
        [
            ChargingDecision(
                matter_id=ident(matter.id),
                decided_by_id=ident(note_author.id),
                outcome=DecisionOutcome.divert,
                reason_codes=["diversion"],
            ),
            PersonContact(person_id=person_id, phone="555-0100", staying_at="Shelter on 3rd"),
            PlanGoal(person_id=person_id, goal="Get an ID card", services="ID clinic"),
            HousingRecord(person_id=person_id, living_situation=116, waitlist="Housing first"),
            HealthRecord(person_id=person_id, mental_health="Anxiety", physical_health="Asthma"),
            TreatmentRecord(person_id=person_id, program="Outpatient MOUD", notes="Buprenorphine"),
            *(
                CaseNote(
                    person_id=person_id,
                    author_id=ident(note_author.id),
                    category=category,
                    body=f"A note about {category.value}",
                )
                for category in Category
            ),
        ]
    )
    session.commit()
    return person
