"""Issue 16, item 6: the HMIS CSV export (HUD FY2024) of consenting clients only. Every file's
header is the specification's, every coded value is on its code list, and each included
client's accounting lists the disclosure."""

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from sqlmodel import col, select

from hub.audit.models import LogEntry
from hub.clients.models import HousingRecord, Person
from hub.privacy.accounting import generate_accounting
from hub.research import deidentify
from hub.research import hmis_spec as spec
from hub.research.hmis import HmisRequest, make_hmis_export
from hub.research.services import ResearchError
from hub.vocabulary import (
    HMIS_GENDER_LABELS,
    AgencyKind,
    Category,
    ConsentKind,
    DisclosureTag,
    ProgramStatus,
    Role,
)
from tests.research_support import actor_of, clients, frozen, unzip, viewer


def at(year, month, day):
    return datetime(year, month, day, 17, tzinfo=UTC)


HMIS_CATEGORIES = ["identity", "demographics", "referral", "engagement", "housing"]


@pytest.fixture
def world(db, factories):
    cm_agency = factories.Agency(kind=AgencyKind.case_management)
    coc = factories.Agency(kind=AgencyKind.case_management, name="Salish County CoC (fictional)")
    other = factories.Agency(kind=AgencyKind.case_management)
    supervisor = factories.User(role=Role.case_manager_supervisor, agency=cm_agency)
    officer = factories.User(role=Role.officer)
    ids = clients(factories, 5, cm_agency=cm_agency, officer=officer, race=[3, 6], gender=[0])

    def consent(pid, recipient, **changes):
        fields = {
            "person_id": pid,
            "kind": ConsentKind.general,
            "discloser_agency_id": cm_agency.id,
            "recipient_agency_id": recipient.id,
            "categories": HMIS_CATEGORIES,
            "purposes": ["case_management"],
            "signed_on": date(2026, 1, 5),
            "expires_on": date(2027, 1, 5),
            "created_by_id": supervisor.id,
        }
        fields.update(changes)
        return factories.Consent(**fields)

    consent(ids[0], coc)
    consent(ids[1], coc)
    consent(ids[2], other)  # names another recipient
    consent(
        ids[3], coc, revoked_at=datetime(2026, 3, 1, 17, tzinfo=UTC)
    )  # revoked before the export
    # ids[4]: no consent at all
    db.add(HousingRecord(person_id=ids[0], living_situation=116, updated_at=at(2026, 4, 1)))
    db.add(HousingRecord(person_id=ids[1], living_situation=205, updated_at=at(2026, 4, 2)))
    db.commit()
    return locals()


def export(db, user, recipient_id):
    seen = viewer(db, user)
    with frozen():
        return make_hmis_export(db, seen, HmisRequest(recipient_agency_id=recipient_id),
                                actor_of(seen))  # fmt: skip


def tables(file):
    return {name: list(csv.reader(io.StringIO(text))) for name, text in unzip(file.content).items()}


def test_every_file_has_the_spec_header_and_every_code_is_on_its_list(db, world):
    file = export(db, world["supervisor"], world["coc"].id)
    found = tables(file)
    assert sorted(found) == sorted(spec.FILES)  # no Part 2 data: no notice file
    for name, columns in spec.FILES.items():
        header, *rows = found[name]
        assert tuple(header) == columns, name
        for row in rows:
            assert len(row) == len(columns)
            cells = dict(zip(header, row, strict=True))
            for column, codes in spec.CODED[name].items():
                if cells[column] != "":
                    assert int(cells[column]) in codes, (name, column, cells[column])
    client = [dict(zip(found["Client.csv"][0], r, strict=True)) for r in found["Client.csv"][1:]]
    assert all(c["BlackAfAmerican"] == "1" and c["HispanicLatinaeo"] == "1" for c in client)
    assert all(c["White"] == "0" and c["RaceNone"] == "" and c["Woman"] == "1" for c in client)
    assert all(c["NameDataQuality"] and c["DOBDataQuality"] for c in client)


# The cells the export fills that hold no code: identifiers, names, dates and free text.
NOT_CODED = {
    "ExportID", "SourceID", "SourceName", "ExportDate", "ExportStartDate", "ExportEndDate",
    "SoftwareName", "SoftwareVersion", "CSVVersion", "ImplementationID", "OrganizationID",
    "OrganizationName", "ProjectID", "ProjectName", "OperatingStartDate", "PersonalID",
    "FirstName", "LastName", "DOB", "AdditionalRaceEthnicity", "EnrollmentID", "EntryDate",
    "HouseholdID", "ExitID", "ExitDate", "CurrentLivingSitID", "InformationDate",
    "DateCreated", "DateUpdated", "UserID",
}  # fmt: skip


def test_every_filled_cell_of_every_file_is_on_its_code_list_or_holds_no_code(db, world):
    """Every file with a row (Services has none yet): a coded cell is on its list, and a cell
    the export fills is either coded or an identifier, name, date or text."""
    person = db.get(Person, world["ids"][0])
    person.program_status = ProgramStatus.exited
    person.status_changed_at = at(2026, 4, 20)
    person.gender = [5]
    db.add(person)
    person = db.get(Person, world["ids"][1])
    person.gender = [6, 3]
    db.add(person)
    db.commit()
    found = tables(export(db, world["supervisor"], world["coc"].id))
    for name, columns in spec.FILES.items():
        header, *rows = found[name]
        assert tuple(header) == columns, name
        assert bool(rows) == (name != "Services.csv"), name
        for row in rows:
            cells = dict(zip(header, row, strict=True))
            filled = {column for column, value in cells.items() if value != ""}
            assert filled - spec.CODED[name].keys() <= NOT_CODED, name
            for column in filled & spec.CODED[name].keys():
                assert int(cells[column]) in spec.CODED[name][column], (name, column)
    client = {
        int(r[0]): dict(zip(found["Client.csv"][0], r, strict=True))
        for r in found["Client.csv"][1:]
    }
    chosen = {
        pid: {c for c in spec.GENDER_COLUMNS.values() if row[c] == "1"}
        for pid, row in client.items()
    }
    # HUD's 3.06.1 codes, as the hub records them: 5 transgender; 6 questioning, 3 different.
    assert chosen == {
        world["ids"][0]: {"Transgender"},
        world["ids"][1]: {"Questioning", "DifferentIdentity"},
    }


def test_the_fy2024_gender_list_and_every_recorded_gender_in_its_column():
    """3.06.1 (checked against Green River's hud_utility_2024.rb, see hmis_spec): 3 is a
    different identity, 5 transgender, 6 questioning. Each code the hub records lands in the
    column its label on the hub's pages names, and the research export's label says the same."""
    assert spec.GENDER_COLUMNS == {
        0: "Woman", 1: "Man", 2: "CulturallySpecific", 3: "DifferentIdentity",
        4: "NonBinary", 5: "Transgender", 6: "Questioning",
    }  # fmt: skip
    assert set(spec.GENDER_COLUMNS.values()) | {"GenderNone"} <= set(spec.CLIENT)
    for code, label in HMIS_GENDER_LABELS.items():
        if code in spec.NONE_REASONS:
            assert code not in spec.GENDER_COLUMNS
            continue
        column = spec.GENDER_COLUMNS[code]
        assert re.sub("[^a-z]", "", label.casefold()).startswith(column.casefold()), label
        research = deidentify.GENDER_LABELS[code].replace("_", "")
        assert research.startswith(column.casefold()), (code, research)


def test_only_clients_with_an_active_consent_naming_the_coc_are_included(db, world):
    file = export(db, world["supervisor"], world["coc"].id)
    found = tables(file)
    ids = world["ids"]
    assert sorted(int(r[0]) for r in found["Client.csv"][1:]) == sorted(ids[:2])
    # The living situation that names treatment (205) is Part 2 data: a general consent does
    # not carry it, so only the other client's appears.
    situations = found["CurrentLivingSituation.csv"][1:]
    assert [(int(r[2]), r[4]) for r in situations] == [(ids[0], "116")]
    entries = db.exec(
        select(LogEntry).where(col(LogEntry.tag) == DisclosureTag.hmis_export_read.value)
    ).all()
    db.commit()
    assert sorted(e.person_id for e in entries) == sorted(ids[:2])
    housing = {e.person_id: Category.housing.value in e.categories for e in entries}
    assert housing == {ids[0]: True, ids[1]: False}
    assert all(e.purpose == "case_management" for e in entries)
    assert all(e.detail["recipient_agency_id"] == world["coc"].id for e in entries)


def test_exited_clients_get_an_exit_row_and_the_accounting_lists_the_export(db, world):
    person = db.get(Person, world["ids"][0])
    person.program_status = ProgramStatus.exited
    person.status_changed_at = at(2026, 4, 20)
    db.add(person)
    db.commit()
    found = tables(export(db, world["supervisor"], world["coc"].id))
    assert [(int(r[2]), r[3], r[4]) for r in found["Exit.csv"][1:]] == [
        (world["ids"][0], "2026-04-20", "99")
    ]
    privacy_office = world["factories"].Agency(kind=AgencyKind.program_office)
    privacy = viewer(db, world["factories"].User(role=Role.privacy_officer, agency=privacy_office))
    with frozen():
        accounting = generate_accounting(db, privacy, world["ids"][0], actor_of(privacy))
    assert [line.recipient_role for line in accounting.sections[0].lines] == [
        Role.case_manager_supervisor.value
    ]


def test_no_consenting_client_or_a_wrong_recipient_is_refused(db, world, factories):
    with pytest.raises(ResearchError, match="No client"):
        export(db, world["supervisor"], factories.Agency().id)
    with pytest.raises(ResearchError, match="recipient"):
        export(db, world["supervisor"], world["cm_agency"].id + 1000)
    with pytest.raises(ResearchError, match="recipient"):
        export(db, world["supervisor"], world["cm_agency"].id)
    with pytest.raises(ResearchError, match="role"):
        export(db, world["officer"], world["coc"].id)


def test_a_treatment_living_situation_goes_only_on_a_part2_consent_with_its_notice(
    db, world, factories
):
    ids = world["ids"]
    factories.Consent(
        person_id=ids[1],
        kind=ConsentKind.part2,
        discloser_agency_id=world["cm_agency"].id,
        recipient_agency_id=world["coc"].id,
        categories=["housing", "treatment"],
        purposes=["case_management"],
        signed_on=date(2026, 1, 5),
        expires_on=date(2027, 1, 5),
        created_by_id=world["supervisor"].id,
    )
    file = export(db, world["supervisor"], world["coc"].id)
    found = tables(file)
    situations = sorted((int(r[2]), r[4]) for r in found["CurrentLivingSituation.csv"][1:])
    assert situations == sorted([(ids[0], "116"), (ids[1], "205")])
    assert "42 CFR part 2" in unzip(file.content)["NOTICE-42-CFR-PART-2.txt"]
    entries = db.exec(
        select(LogEntry).where(col(LogEntry.tag) == DisclosureTag.hmis_export_read.value)
    ).all()
    db.commit()
    part2 = {e.person_id: e.detail["part2"] for e in entries}
    assert part2 == {ids[0]: False, ids[1]: True}
    privacy_office = factories.Agency(kind=AgencyKind.program_office)
    privacy = viewer(db, factories.User(role=Role.privacy_officer, agency=privacy_office))
    with frozen():
        accounting = generate_accounting(db, privacy, ids[1], actor_of(privacy))
    assert accounting.sections[1].disclosures == 1  # 42 CFR 2.24: consent-based Part 2


def test_the_fy2024_living_situation_lists_and_how_recorded_codes_fold_into_them():
    """FY2024 3.917 and 4.12 name a family member's or friend's place (335, 336) whatever the
    tenure; the tenure codes are destinations (3.12) only, and 1.1 has no period type 2."""
    assert {335, 336} <= spec.PRIOR_LIVING_SITUATION
    assert not {312, 313, 422, 423, 327, 426, 17, 37} & spec.PRIOR_LIVING_SITUATION
    assert {17, 37} == spec.CURRENT_LIVING_SITUATION_CODES - spec.PRIOR_LIVING_SITUATION
    assert {312, 313, 422, 423, 327, 426, 24, 30} <= spec.DESTINATION
    assert not {335, 336, 37} & spec.DESTINATION
    assert {1, 3, 4} == spec.EXPORT_PERIOD_TYPE
    assert [spec.prior_living_situation(c) for c in (312, 423, 17, None, 116)] == [
        335,
        336,
        99,
        99,
        116,
    ]
    assert [spec.current_living_situation(c) for c in (422, 313, 37)] == [335, 336, 37]
