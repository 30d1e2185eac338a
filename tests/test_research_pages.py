"""The research pages end to end: a coordinator records a protocol, a privacy officer confirms
it (its recorder cannot), the coordinator downloads the zip or gets the k-anonymity report; a
supervisor downloads the HMIS zip. Bad input gets 422 with every error and changes nothing."""

from datetime import date

from sqlmodel import select

from hub.research.models import ResearchProtocol
from hub.vocabulary import AgencyKind, ConsentKind, Role
from tests.research_support import PLAIN_VARIABLES, clients, frozen, unzip

FORM = {
    "title": "Re-arrest after LEAD referral",
    "irb_number": "IRB-2026-0142",
    "data_use_agreement": "DUA 26-07",
    "recipient_name": "Dr. R. Example",
    "recipient_organisation": "Salish University (fictional)",
    "approved_from": "2026-01-01",
    "expires_on": "2026-12-31",
    "variables": PLAIN_VARIABLES,
}


def protocols(db):
    found = db.exec(select(ResearchProtocol).execution_options(populate_existing=True)).all()
    db.commit()
    return found


def test_record_confirm_and_export_through_the_pages(db, sign_in, factories):
    office = factories.Agency(kind=AgencyKind.program_office)
    coordinator = sign_in(Role.coordinator, agency=office)
    privacy1 = sign_in(Role.privacy_officer, agency=office)
    privacy2 = sign_in(Role.privacy_officer, agency=office)
    cm_agency = factories.Agency(kind=AgencyKind.case_management)
    officer = factories.User(role=Role.officer)
    included = clients(factories, 5, cm_agency=cm_agency, officer=officer)
    clients(factories, 1, cm_agency=cm_agency, officer=officer, race=[2])

    with frozen():
        page = coordinator.client.get("/research/protocols")
        assert page.status_code == 200 and "Record a protocol" in page.text
        bad = coordinator.post(
            "/research/protocols",
            data={**FORM, "irb_number": "", "approved_from": "9999-01-01", "variables": ["x"]},
        )
        assert bad.status_code == 422
        assert "irb_number" in bad.text and "approved_from" in bad.text
        assert protocols(db) == []
        done = privacy1.post("/research/protocols", data=FORM)
        assert done.status_code == 200, done.text
        (protocol,) = protocols(db)
        own = privacy1.post(f"/research/protocols/{protocol.id}/confirm")
        assert own.status_code == 422 and "other than its recorder" in own.text
        early = coordinator.post(
            f"/research/protocols/{protocol.id}/export", data={"variables": PLAIN_VARIABLES}
        )
        assert early.status_code == 422 and "second privacy officer" in early.text
        assert privacy2.post(f"/research/protocols/{protocol.id}/confirm").status_code == 200
        refused = coordinator.post(
            f"/research/protocols/{protocol.id}/export", data={"variables": PLAIN_VARIABLES}
        )
        assert refused.status_code == 422 and "k-anonymity-report" in refused.text
        download = coordinator.post(
            f"/research/protocols/{protocol.id}/export",
            data={"variables": PLAIN_VARIABLES, "suppress_small_classes": "on"},
        )
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert download.headers["content-disposition"].startswith("attachment")
    assert unzip(download.content)["data.csv"].count("\n") == 6  # header and 5 rows
    # The privacy officer's accounting of an included client lists the research disclosure.
    with frozen():
        accounting = privacy2.post(f"/privacy/clients/{included[0]}/accounting")
    assert accounting.status_code == 200
    assert "research" in accounting.text and "Test User" in accounting.text
    # The officer has no door to these pages.
    assert sign_in(Role.officer).client.get("/research/protocols").status_code == 403


def test_a_supervisor_downloads_the_hmis_zip(db, sign_in, factories):
    cm_agency = factories.Agency(kind=AgencyKind.case_management)
    coc = factories.Agency(kind=AgencyKind.case_management)
    supervisor = sign_in(Role.case_manager_supervisor, agency=cm_agency)
    officer = factories.User(role=Role.officer)
    (pid,) = clients(factories, 1, cm_agency=cm_agency, officer=officer)
    factories.Consent(
        person_id=pid,
        kind=ConsentKind.general,
        discloser_agency_id=cm_agency.id,
        recipient_agency_id=coc.id,
        categories=["identity", "demographics", "referral"],
        purposes=["case_management"],
        signed_on=date(2026, 1, 5),
        expires_on=date(2027, 1, 5),
        created_by_id=supervisor.user.id,
    )
    with frozen():
        assert supervisor.client.get("/research/hmis").status_code == 200
        bad = supervisor.post("/research/hmis", data={"recipient_agency_id": "0"})
        assert bad.status_code == 422
        download = supervisor.post("/research/hmis", data={"recipient_agency_id": str(coc.id)})
    assert download.status_code == 200
    files = unzip(download.content)
    assert len(files) == 8 and str(pid) in files["Client.csv"]
