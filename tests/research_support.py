"""Shared pieces of the research and HMIS export tests (issue 16, items 5 and 6)."""

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from types import SimpleNamespace
from unittest import mock

from sqlmodel import Session

from hub.accounts.models import Agency, User
from hub.research.models import ResearchProtocol
from hub.research.services import ProtocolForm, confirm_protocol, record_protocol
from hub.vocabulary import AgencyKind, ReferralKind, Role
from tests.fixtures.referrals import actor_of
from tests.fixtures.referrals import viewer_of as viewer

NOW = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)
TODAY = NOW.date()
REFERRED = datetime(2026, 2, 10, 18, 0, tzinfo=UTC)
PLAIN_VARIABLES = [
    "age_band",
    "race",
    "ethnicity",
    "gender",
    "area",
    "referral_year",
    "referral_kind",
    "offense_category",
    "eligibility",
    "intake_completed",
    "program_status",
]


@contextmanager
def frozen(moment: datetime = NOW) -> Iterator[None]:
    """Every clock the exports and the log read, set to one moment."""
    with (
        mock.patch("hub.audit.log.utcnow", return_value=moment),
        mock.patch("hub.disclosure.research.utcnow", return_value=moment),
        mock.patch("hub.research.exports.utcnow", return_value=moment),
        mock.patch("hub.disclosure.hmis.utcnow", return_value=moment),
        mock.patch("hub.research.hmis.utcnow", return_value=moment),
        mock.patch("hub.research.routes.utcnow", return_value=moment),
        mock.patch("hub.research.services.utcnow", return_value=moment),
        mock.patch("hub.privacy.accounting.utcnow", return_value=moment),
    ):
        yield


def form(**changes: object) -> ProtocolForm:
    fields: dict[str, object] = {
        "title": "Re-arrest after LEAD referral",
        "irb_number": "IRB-2026-0142",
        "data_use_agreement": "DUA 26-07, Cascadia LEAD and Salish University",
        "recipient_name": "Dr. R. Example",
        "recipient_organisation": "Salish University (fictional)",
        "approved_from": date(2026, 1, 1),
        "expires_on": date(2026, 12, 31),
        "variables": PLAIN_VARIABLES,
    }
    fields.update(changes)
    return ProtocolForm.model_validate(fields)


def program_office(factories: SimpleNamespace) -> SimpleNamespace:
    """A coordinator and two privacy officers of the program office."""
    office = factories.Agency(kind=AgencyKind.program_office)
    return SimpleNamespace(
        office=office,
        coordinator=factories.User(role=Role.coordinator, agency=office),
        privacy1=factories.User(role=Role.privacy_officer, agency=office),
        privacy2=factories.User(role=Role.privacy_officer, agency=office),
    )


def confirmed_protocol(db: Session, people: SimpleNamespace, **changes: object) -> ResearchProtocol:
    with frozen():
        recorder = viewer(db, people.coordinator)
        protocol = record_protocol(db, recorder, form(**changes), actor_of(recorder))
        confirmer = viewer(db, people.privacy1)
        assert protocol.id is not None
        return confirm_protocol(db, confirmer, protocol.id, actor_of(confirmer))


def clients(
    factories: SimpleNamespace,
    count: int,
    *,
    cm_agency: Agency,
    officer: User,
    race: list[int] | None = None,
    gender: list[int] | None = None,
    born: date = date(1990, 6, 1),
    precinct: str | None = "North",
) -> list[int]:
    """`count` referred clients sharing one combination of quasi-identifiers."""
    ids = []
    for _ in range(count):
        person = factories.Person(
            race_ethnicity=race or [5], gender=gender or [1], date_of_birth=born
        )
        factories.Referral(
            person_id=person.id,
            referring_user=officer,
            case_management_agency_id=cm_agency.id,
            kind=ReferralKind.social_contact,
            referred_at=REFERRED,
            intake_due_on=date(2026, 3, 12),
            precinct=precinct,
        )
        ids.append(person.id)
    return ids


def unzip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}
