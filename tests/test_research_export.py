"""Issue 16, item 5: research protocols need a second person; the de-identified export is
refused without a protocol in force, past its expiry, for unapproved or treatment variables
without 42 CFR 2.52, and below k = 5; two studies' pseudonyms differ; each included client's
accounting lists the research disclosure."""

import csv
import io
from datetime import date

import pytest
from sqlmodel import col, select

from hub.audit.models import LogEntry
from hub.clients.models import TreatmentRecord
from hub.db import ident
from hub.privacy.accounting import generate_accounting
from hub.research import deidentify
from hub.research.exports import ExportRefused, ExportRequest, make_research_export
from hub.research.services import ResearchError, confirm_protocol, record_protocol
from hub.vocabulary import AgencyKind, DisclosureTag, Role, SecurityEventTag
from tests.audit_support import detail_of
from tests.research_support import (
    PLAIN_VARIABLES,
    TODAY,
    actor_of,
    clients,
    confirmed_protocol,
    form,
    frozen,
    program_office,
    unzip,
    viewer,
)
from tests.signing_in import logged


@pytest.fixture
def world(db, factories):
    people = program_office(factories)
    people.cm_agency = factories.Agency(kind=AgencyKind.case_management)
    people.officer = factories.User(role=Role.officer)
    return people


def export(
    db,
    people,
    protocol_id,
    variables=PLAIN_VARIABLES,
    suppress=False,
    today=TODAY,
    generalise=False,
):
    coordinator = viewer(db, people.coordinator)
    request = ExportRequest(
        protocol_id=protocol_id,
        variables=variables,
        suppress_small_classes=suppress,
        generalise_rare_values=generalise,
    )
    with frozen():
        return make_research_export(db, coordinator, request, actor_of(coordinator), today)


def rows_of(file):
    return list(csv.DictReader(io.StringIO(unzip(file.content)["data.csv"])))


# --- the protocol takes a second person ------------------------------------------------------


def test_a_protocol_is_in_force_only_once_another_privacy_officer_confirms_it(db, world):
    recorder = viewer(db, world.privacy1)
    with frozen():
        protocol = record_protocol(db, recorder, form(), actor_of(recorder))
    with pytest.raises(ExportRefused, match="second privacy officer"):
        export(db, world, protocol.id)
    with frozen(), pytest.raises(ResearchError, match="other than its recorder"):
        confirm_protocol(db, recorder, ident(protocol.id), actor_of(recorder))
    refused = [
        e
        for e in logged(db, SecurityEventTag.access_denied)
        if detail_of(e)["action"] == "research_protocol:confirm_own"
    ]
    assert len(refused) == 1
    coordinator = viewer(db, world.coordinator)
    with frozen(), pytest.raises(ResearchError, match="role"):
        confirm_protocol(db, coordinator, ident(protocol.id), actor_of(coordinator))
    other = viewer(db, world.privacy2)
    with frozen():
        confirm_protocol(db, other, ident(protocol.id), actor_of(other))
    assert logged(db, SecurityEventTag.research_protocol_recorded, protocol_id=protocol.id)
    assert logged(db, SecurityEventTag.research_protocol_confirmed, protocol_id=protocol.id)


def test_a_protocol_form_names_every_problem_at_once(db, world):
    recorder = viewer(db, world.coordinator)
    bad = form(
        variables=["age_band", "home_address", "in_treatment"],
        approved_from=date(2026, 6, 1),
        expires_on=date(2026, 5, 1),
    )
    with frozen(), pytest.raises(ResearchError) as raised:
        record_protocol(db, recorder, bad, actor_of(recorder))
    assert len(raised.value.problems) == 3
    assert not logged(db, SecurityEventTag.research_protocol_recorded)


# --- refusals ------------------------------------------------------------------------------


def test_export_refused_past_expiry_before_approval_and_for_unapproved_variables(
    db, world, factories
):
    clients(factories, 5, cm_agency=world.cm_agency, officer=world.officer)
    protocol = confirmed_protocol(db, world, variables=["age_band", "race"])
    with pytest.raises(ExportRefused, match="expired"):
        export(db, world, protocol.id, ["age_band"], today=date(2027, 1, 1))
    with pytest.raises(ExportRefused, match="not started"):
        export(db, world, protocol.id, ["age_band"], today=date(2025, 12, 31))
    with pytest.raises(ExportRefused, match="does not approve: gender"):
        export(db, world, protocol.id, ["age_band", "gender"])
    with pytest.raises(ExportRefused, match="No such"):
        export(db, world, 999_999, ["age_band"])
    assert len(logged(db, SecurityEventTag.research_export_refused)) == 4
    assert not disclosures(db)


def disclosures(db):
    found = db.exec(
        select(LogEntry).where(col(LogEntry.tag) == DisclosureTag.research_export_read.value)
    ).all()
    db.commit()
    return found


def test_treatment_variables_need_the_2_52_determination(db, world, factories):
    ids = clients(factories, 5, cm_agency=world.cm_agency, officer=world.officer)
    recorder = viewer(db, world.coordinator)
    with frozen(), pytest.raises(ResearchError, match=r"2\.52"):
        record_protocol(db, recorder, form(variables=["in_treatment"]), actor_of(recorder))
    protocol = confirmed_protocol(
        db,
        world,
        variables=["age_band", "in_treatment", "treatment_start_year"],
        part2_conditions_met=True,
        part2_determined_by="Program director, Cascadia LEAD (fictional)",
        part2_determination="The 42 CFR 2.52 conditions are met: IRB review, data-use "
        "agreement, no re-identification, and security safeguards.",
    )
    db.add(TreatmentRecord(person_id=ids[0], program="MOUD", started_on=date(2025, 8, 14)))
    db.commit()
    file = export(db, world, protocol.id, ["age_band", "in_treatment", "treatment_start_year"])
    rows = rows_of(file)
    assert sorted(r["in_treatment"] for r in rows) == ["no"] * 4 + ["yes"]
    assert {r["treatment_start_year"] for r in rows} == {"", "2025"}
    assert "42 CFR part 2" in unzip(file.content)["README.txt"]
    entries = disclosures(db)
    assert all("treatment" in e.categories for e in entries)
    assert all(e.detail["basis"]["treatment"].endswith("42cfr2.52") for e in entries)

    plain = confirmed_protocol(db, world, variables=["age_band", "in_treatment"],
                               part2_conditions_met=True, part2_determined_by="Director",
                               part2_determination="x" * 30)  # fmt: skip
    plain.part2_conditions_met = False  # the determination withdrawn
    db.add(plain)
    db.commit()
    with pytest.raises(ExportRefused, match=r"2\.52"):
        export(db, world, plain.id, ["age_band", "in_treatment"])


# --- k-anonymity ---------------------------------------------------------------------------


def test_export_below_k_5_is_refused_with_its_report_unless_rows_are_suppressed(
    db, world, factories
):
    common = clients(factories, 6, cm_agency=world.cm_agency, officer=world.officer)
    rare = clients(
        factories, 2, cm_agency=world.cm_agency, officer=world.officer, race=[3], gender=[0]
    )
    protocol = confirmed_protocol(db, world)
    with pytest.raises(ExportRefused) as refused:
        export(db, world, protocol.id)
    report = refused.value.report
    assert report is not None and report.k == 2 and report.small_classes == 1
    assert report.rows_in_small_classes == 2 and not report.passes
    entry = logged(db, SecurityEventTag.research_export_refused)[-1]
    assert detail_of(entry)["k_anonymity"]["k"] == 2
    assert not disclosures(db)

    file = export(db, world, protocol.id, suppress=True)
    assert file.report.k == 6 and file.report.suppressed_rows == 2 and file.report.passes
    assert len(rows_of(file)) == 6
    included = sorted(e.person_id for e in disclosures(db))
    assert included == sorted(common) and not set(rare) & set(included)


def test_two_studies_pseudonyms_differ_for_the_same_person(db, world, factories):
    clients(factories, 5, cm_agency=world.cm_agency, officer=world.officer)
    first = confirmed_protocol(db, world, variables=["age_band"])
    second = confirmed_protocol(db, world, variables=["age_band"])
    one = {r["study_pseudonym"] for r in rows_of(export(db, world, first.id, ["age_band"]))}
    again = {r["study_pseudonym"] for r in rows_of(export(db, world, first.id, ["age_band"]))}
    two = {r["study_pseudonym"] for r in rows_of(export(db, world, second.id, ["age_band"]))}
    assert one == again and len(one) == 5
    assert not one & two
    key = deidentify.study_key("secret", 1)
    assert deidentify.pseudonym(key, 7) != deidentify.pseudonym(deidentify.study_key("s", 1), 7)


def test_ages_over_89_are_one_band():
    assert deidentify.age_band(89) == "65-89"
    assert deidentify.age_band(90) == deidentify.age_band(104) == "90+"
    assert deidentify.age_band(None) == "not_collected"


# --- the accounting ------------------------------------------------------------------------


def test_each_included_clients_accounting_lists_the_research_disclosure(db, world, factories):
    ids = clients(factories, 5, cm_agency=world.cm_agency, officer=world.officer)
    protocol = confirmed_protocol(db, world)
    file = export(db, world, protocol.id)
    privacy = viewer(db, world.privacy2)
    with frozen():
        accounting = generate_accounting(db, privacy, ids[0], actor_of(privacy))
    assert accounting.integrity.problems == []  # each entry proven against a checkpoint
    lines = accounting.sections[0].lines
    research = [line for line in lines if line.purpose == "research"]
    assert len(research) == 1
    assert research[0].recipient_role == Role.coordinator.value
    entry = disclosures(db)[0]
    assert entry.detail["protocol_id"] == protocol.id and entry.detail["sha256"] == file.sha256
    # The file itself names no one: the hub's ids are only in the log.
    assert all(str(pid) not in unzip(file.content)["data.csv"].split(",") for pid in ids)


def test_rare_values_generalised_to_other_before_any_row_is_suppressed(db, world, factories):
    clients(factories, 6, cm_agency=world.cm_agency, officer=world.officer)
    clients(factories, 2, cm_agency=world.cm_agency, officer=world.officer, race=[3])
    clients(factories, 3, cm_agency=world.cm_agency, officer=world.officer, race=[2])
    protocol = confirmed_protocol(db, world)
    file = export(db, world, protocol.id, generalise=True)
    rows = rows_of(file)
    assert len(rows) == 11 and file.report.suppressed_rows == 0
    assert file.report.generalised_cells == 5 and file.report.k == 5
    assert sorted({r["race"] for r in rows}) == ["other", "white"]
    assert "5 cells generalised" in unzip(file.content)["README.txt"]
