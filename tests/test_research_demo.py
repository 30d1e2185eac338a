"""Issue 16, "done when": the research export of the demo passes its own k-anonymity report, and
no HIPAA Safe Harbor identifier remains in it: every cell is checked against the demo's names,
aliases, dates of birth, phone numbers, places and record numbers."""

import csv
import io
from collections.abc import Callable

from sqlmodel import Session, select

from hub.accounts.models import User
from hub.clients.models import Person, PersonAlias, PersonContact
from hub.db import get_engine
from hub.demo.phrases import PRECINCTS
from hub.demo.program import DEFAULT_SEED, build_demo
from hub.referrals.models import Referral
from hub.research import deidentify
from hub.research.exports import ExportRequest, make_research_export
from hub.research.services import confirm_protocol, record_protocol
from hub.vocabulary import ProgramStatus, ReferralKind, Role
from tests.research_support import (
    PLAIN_VARIABLES,
    TODAY,
    actor_of,
    form,
    frozen,
    unzip,
    viewer,
)

DEMO_TODAY = TODAY


def one_of(*values: str) -> Callable[[str], set[str]]:
    return lambda _value: set(values)


def a_year(value: str) -> set[str]:
    return {value} if value.isdigit() and 1990 <= int(value) <= TODAY.year else set()


DOMAINS: dict[str, Callable[[str], set[str]]] = {
    "age_band": one_of(*(band for _, _, band in deidentify.AGE_BANDS), "90+", "not_collected"),
    "race": one_of(*deidentify.RACE_LABELS.values(), "multiple", "not_collected"),
    "ethnicity": one_of("yes", "no", "not_collected"),
    "gender": one_of(*deidentify.GENDER_LABELS.values(), "multiple", "not_collected"),
    "area": one_of(*PRECINCTS, "unspecified"),
    "referral_year": a_year,
    "referral_kind": one_of(*ReferralKind),
    "offense_category": one_of("drug", "prostitution"),
    "eligibility": one_of("eligible", "presumptively_excluded"),
    "intake_completed": one_of("yes", "no"),
    "program_status": one_of(*ProgramStatus),
}


def identifiers(db: Session) -> set[str]:
    """Every value in the demo that could name or locate a person, as text."""
    found: set[str] = set()
    for person in db.exec(select(Person)).all():
        found |= {person.first_name, person.last_name, str(person.id)}
        if person.date_of_birth:
            born = person.date_of_birth
            found |= {born.isoformat(), born.strftime("%m/%d/%Y"), born.strftime("%Y-%m")}
    found |= {a.name for a in db.exec(select(PersonAlias)).all()}
    for contact in db.exec(select(PersonContact)).all():
        found |= {v for v in (contact.phone, contact.staying_at) if v}
    for referral in db.exec(select(Referral)).all():
        found |= {str(referral.id), referral.referred_at.date().isoformat()}
    db.commit()
    return {value.strip().lower() for value in found if value and value.strip()}


def test_the_demo_export_passes_k_anonymity_and_holds_no_safe_harbor_identifier(db):
    build_demo(db, DEFAULT_SEED, today=DEMO_TODAY)
    db.commit()
    users = {u.email: u for u in db.exec(select(User)).all()}
    coordinator = users["coordinator1@cascadia-lead.example"]
    recorder = viewer(db, coordinator)
    privacy = next(u for u in users.values() if u.role == Role.privacy_officer)
    with frozen():
        protocol = record_protocol(db, recorder, form(), actor_of(recorder))
        assert protocol.id is not None
        confirmer = viewer(db, privacy)
        confirm_protocol(db, confirmer, protocol.id, actor_of(confirmer))
        request = ExportRequest(
            protocol_id=protocol.id, variables=PLAIN_VARIABLES, suppress_small_classes=True
        )
        file = make_research_export(db, recorder, request, actor_of(recorder), TODAY)

    assert file.report.passes and file.report.k >= 5
    rows = list(csv.DictReader(io.StringIO(unzip(file.content)["data.csv"])))
    assert len(rows) == file.report.rows > 0
    assert list(rows[0]) == ["study_pseudonym", *PLAIN_VARIABLES]
    known = identifiers(db)
    # Every variable's cell is from its closed list of values (so no free text can leave);
    # the pseudonyms match no identifier (a last name such as "White" is also a race label,
    # and is allowed there only as the label).
    for row in rows:
        for column, value in row.items():
            if column == "study_pseudonym":
                assert value.lower() not in known and len(value) == 20
            else:
                assert value in DOMAINS[column](value), (column, value)
    assert not [row for row in rows if row["study_pseudonym"].lower() in known]
    # No cell holds a date finer than a year, nor an age over 89 outside its band.
    assert all(len(row["referral_year"]) == 4 for row in rows)
    assert all(row["age_band"] != "90" for row in rows)
    with Session(get_engine()) as other:
        assert other.exec(select(Person)).first() is not None
