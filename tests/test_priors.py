"""Earlier matters and warrants (issue 15, item 3): entered by a prosecutor of an office with a
matter of the client's, or imported from the office's case system as CSV, every row checked,
the valid rows in one transaction or nothing; shown in the legal category, through the policy
layer, to whoever it grants legal to."""

from datetime import date

import pytest
from sqlmodel import func, select

from hub.audit.models import LogEntry
from hub.clients.models import ClientAssignment
from hub.disclosure.record import disclose_record
from hub.disclosure.record_view import Legal, WithheldCategory
from hub.priors.models import PriorMatter, Warrant
from hub.priors.services import (
    PRIOR_MATTER_COLUMNS,
    WARRANT_COLUMNS,
    ImportKind,
    PriorMatterIn,
    PriorsError,
    import_file,
    record_entry,
)
from hub.vocabulary import AssignmentKind, ImportMode, Purpose, SecurityEventTag

TODAY = date(2026, 11, 20)


def count(db, model):
    found = db.exec(select(func.count()).select_from(model)).one()
    db.commit()
    return found


def csv_text(columns, rows):
    lines = [",".join(columns)]
    lines += [",".join(str(cell) for cell in row) for row in rows]
    return "\n".join(lines) + "\n"


def good_matter(person_id, case="22-1-00417-1"):
    return [person_id, case, "Salish County Superior", "9A.56.040", "Theft 2", "felony",
            "2022-03-01", "2022-09-15", "dismissed"]  # fmt: skip


@pytest.fixture
def client(world):
    """A person with a matter at the county prosecutor's office."""
    _, matter = world.arrest()
    return matter.person_id


def _import(world, text, mode, kind=ImportKind.prior_matters):
    return import_file(
        world.db,
        world.viewer("county_prosecutor"),
        text,
        kind,
        mode,
        world.actor("county_prosecutor"),
        TODAY,
    )


@pytest.mark.parametrize("mode", list(ImportMode))
def test_an_import_with_a_bad_row_reports_it_and_imports_the_rest_or_nothing(world, client, mode):
    db = world.db
    other_office = world.arrest(("prostitution",))[1].person_id  # the city attorney's
    rows = [
        good_matter(client),
        # line 3: four things wrong at once, each named
        [client, "", "Court", "X1", "Offense", "felony", "1899-12-31", "2030-01-01", "convicted"],
        good_matter(client, "23-1-00001-1"),
        good_matter(other_office, "23-1-00002-1"),  # line 5: not a client of this office
        [client, "24-1", "Court", "X1", "Offense", "felony", "2024-02-30", "", ""],  # line 6
    ]
    before = (count(db, PriorMatter), count(db, LogEntry))
    report = _import(world, csv_text(PRIOR_MATTER_COLUMNS, rows), mode)
    assert [r.line for r in report.refused] == [3, 5, 6]
    line3 = " | ".join(report.refused[0].reasons)
    assert "case_number" in line3 and "1899-12-31 is before 1900" in line3
    assert "disposed_on: 2030-01-01 is in the future" in line3
    assert "no client of your office" in " ".join(report.refused[1].reasons)
    assert "filed_on" in " ".join(report.refused[2].reasons)
    if mode == ImportMode.valid_rows:
        assert report.imported == 2
        assert count(db, PriorMatter) == before[0] + 2
        (event,) = db.exec(
            select(LogEntry).where(LogEntry.tag == SecurityEventTag.priors_imported.value)
        ).all()
        assert event.detail["imported"] == 2 and event.detail["refused_lines"] == [3, 5, 6]
        assert event.detail["person_ids"] == [client]
    else:
        assert report.imported == 0
        assert (count(db, PriorMatter), count(db, LogEntry)) == before


def test_a_bad_header_refuses_the_file_whole(world, client):
    db = world.db
    text = csv_text(("person_id", "case", "court"), [[client, "1", "x"]])
    report = _import(world, text, ImportMode.valid_rows)
    assert report.imported == 0 and report.refused[0].line == 1
    assert "missing column: case_number" in report.refused[0].reasons
    assert "unknown column: case" in report.refused[0].reasons
    assert count(db, PriorMatter) == 0


def test_warrants_import_and_status_is_checked(world, client):
    rows = [
        [client, "2021-05-04", "Cascadia Municipal", "bench warrant", "recalled"],
        [client, "2021-05-04", "Cascadia Municipal", "bench warrant", "lost"],
    ]
    report = _import(
        world, csv_text(WARRANT_COLUMNS, rows), ImportMode.valid_rows, ImportKind.warrants
    )
    assert report.imported == 1 and [r.line for r in report.refused] == [3]
    assert "status" in report.refused[0].reasons[0]


def test_entering_one_checks_the_office_and_dates(world, client):
    db = world.db
    entry = PriorMatterIn.model_validate(
        dict(zip(PRIOR_MATTER_COLUMNS[1:], good_matter(client)[1:], strict=True))
    )
    other = world.arrest(("prostitution",))[1].person_id
    with pytest.raises(PriorsError, match="no client of your office"):
        record_entry(
            db, world.viewer("county_prosecutor"), other, entry, world.actor("county_prosecutor"),
            TODAY,
        )  # fmt: skip
    db.rollback()
    with pytest.raises(PriorsError, match="in the future"):
        record_entry(
            db, world.viewer("county_prosecutor"), client, entry, world.actor("county_prosecutor"),
            date(2022, 5, 1),
        )  # fmt: skip
    db.rollback()
    row = record_entry(
        db, world.viewer("county_prosecutor"), client, entry, world.actor("county_prosecutor"),
        TODAY,
    )  # fmt: skip
    assert isinstance(row, PriorMatter) and row.source == "entered"


def _legal(world, who, person_id, purpose):
    record = disclose_record(world.db, world.viewer(who), person_id, purpose, world.actor(who))
    return record.legal


def test_prior_matters_and_warrants_show_only_where_the_policy_grants_legal(world, client):
    db = world.db
    _import(world, csv_text(PRIOR_MATTER_COLUMNS, [good_matter(client)]), ImportMode.valid_rows)
    _import(
        world,
        csv_text(
            WARRANT_COLUMNS, [[client, "2021-05-04", "Cascadia Municipal", "bench", "active"]]
        ),
        ImportMode.valid_rows,
        ImportKind.warrants,
    )
    db.add(
        ClientAssignment(
            person_id=client, user_id=world.users["case_manager"].id, kind=AssignmentKind.caseload
        )
    )
    db.commit()
    shown = {
        # who, purpose: the read policy (policies/policy.csv) grants legal to...
        ("defender", Purpose.defense): True,  # every client's legal standing
        ("case_manager", Purpose.case_management): True,  # their caseload
        ("other_case_manager", Purpose.case_management): False,
        ("officer", Purpose.referral): True,  # their own referral's legal outcome
        ("officer2", Purpose.referral): False,
        ("county_prosecutor", Purpose.charging_decision): True,  # the office's matter
        ("city_prosecutor", Purpose.charging_decision): False,
    }
    for (who, purpose), sees in shown.items():
        legal = _legal(world, who, client, purpose)
        if sees:
            assert isinstance(legal, Legal), who
            assert [p.case_number for p in legal.prior_matters] == ["22-1-00417-1"], who
            assert [(w.kind, w.status) for w in legal.warrants] == [("bench", "active")], who
        else:
            assert isinstance(legal, WithheldCategory), who
    assert count(db, Warrant) == 1


def test_the_pages_import_and_show_on_the_legal_section(world, client, sign_in, db):
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    city = sign_in(user=world.users["city_prosecutor"])
    assert prosecutor.client.get(f"/priors/{client}").status_code == 200
    assert city.client.get(f"/priors/{client}").status_code == 404
    refused = prosecutor.post(
        f"/priors/{client}/matters",
        data={"case_number": "", "court": "", "filed_on": "1850-01-01", "level": "felony"},
    )
    assert refused.status_code == 400
    for field in ("case_number", "court", "offense_code", "offense_description"):
        assert field in refused.text
    assert count(db, PriorMatter) == 0
    text = csv_text(PRIOR_MATTER_COLUMNS, [good_matter(client), [client, "x"]])
    nothing = prosecutor.post(
        "/priors/import",
        data={"kind": "prior_matters", "mode": "all_or_nothing"},
        files={"file": ("priors.csv", text.encode(), "text/csv")},
    )
    assert nothing.status_code == 400 and "Nothing was imported" in nothing.text
    assert count(db, PriorMatter) == 0
    done = prosecutor.post(
        "/priors/import",
        data={"kind": "prior_matters", "mode": "valid_rows"},
        files={"file": ("priors.csv", text.encode(), "text/csv")},
    )
    assert done.status_code == 200 and "1 of 2 rows imported" in done.text
    assert count(db, PriorMatter) == 1
    record = prosecutor.client.get(f"/clients/{client}")
    assert "22-1-00417-1" in record.text and "Earlier matters" in record.text
