"""factory_boy factories for test data. Bind them to a session with `bind(session)` (the
`factories` fixture does that), then call e.g. `factories.User(role=Role.prosecutor)`."""

import datetime as dt
from types import SimpleNamespace

import factory
import pyotp
from argon2 import PasswordHasher
from sqlmodel import Session

from hub.accounts.models import Agency, User
from hub.clients.models import Person
from hub.crypto import key_ring
from hub.vocabulary import ROLES_BY_AGENCY_KIND, AgencyKind, Role

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

    @factory.lazy_attribute
    def agency_id(self) -> int:
        agency = self.agency or AgencyFactory(kind=agency_kind_for(self.role))
        return int(agency.id)


class PersonFactory(_Base):
    class Meta:
        model = Person

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=70)
    race_ethnicity = factory.LazyFunction(lambda: [99])
    gender = factory.LazyFunction(lambda: [99])


_FACTORIES = {"Agency": AgencyFactory, "User": UserFactory, "Person": PersonFactory}


def bind(session: Session) -> SimpleNamespace:
    for factory_class in _FACTORIES.values():
        factory_class._meta.sqlalchemy_session = session
    return SimpleNamespace(**_FACTORIES)


def totp_secret_of(user: User) -> str:
    assert user.totp_secret_sealed
    return key_ring().open(user.totp_secret_sealed)
