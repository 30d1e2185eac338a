"""Issue 16: the police department's eligible-arrest CSV. Every row checked, a bad row named by
its line and reason (all of them at once), the file imported whole or not at all, and a
re-import of the same month and agency replacing it with the earlier version kept."""

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.equity.models import EligibleArrestCount, EligibleArrestImport
from hub.equity.population import ImportRefused, import_eligible_arrests, parse_arrest_file
from hub.vocabulary import AgencyKind, Role, SecurityEventTag
from tests.signing_in import csrf_of

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
HEADER = "month,area,race_ethnicity,gender,arrests\n"
GOOD = HEADER + "2026-10,North,3,1,42\n2026-10,North,5,1,120\n2026-10,South,3;6,0,7\n"


def _lines(refused: ImportRefused) -> list[tuple[int, str]]:
    return [(e.line, e.reason) for e in refused.errors]


def test_a_good_file_parses_with_race_groups():
    parsed = parse_arrest_file(GOOD.encode(), NOW)
    assert parsed.month == "2026-10"
    assert [(r.area, r.race_group, r.gender, r.arrests) for r in parsed.rows] == [
        ("North", "3", 1, 42),
        ("North", "5", 1, 120),
        ("South", "multiracial", 0, 7),
    ]


def test_every_bad_line_is_named_with_its_reason():
    data = HEADER + (
        "2026-10,North,3,1,42\n"  # line 2: good
        "2026-13,North,3,1,5\n"  # line 3: month
        "2026-10,,3,1,5\n"  # line 4: area
        "2026-10,East,3;8,1,5\n"  # line 5: 8 does not combine
        "2026-10,East,5,7,5\n"  # line 6: gender 7 is not a code
        "2026-10,East,5,1,-3\n"  # line 7: arrests
        "2026-10,North,3,1,9\n"  # line 8: repeats line 2
        "2026-10,West,5\n"  # line 9: too few fields
        "2031-01,West,5,1,4\n"  # line 10: the future
    )
    with pytest.raises(ImportRefused) as refused:
        parse_arrest_file(data.encode(), NOW)
    lines = _lines(refused.value)
    assert [n for n, _ in lines] == [3, 4, 5, 6, 7, 8, 9, 10]
    reasons = dict(lines)
    assert "month" in reasons[3] and "area" in reasons[4] and "race_ethnicity" in reasons[5]
    assert "gender" in reasons[6] and "arrests" in reasons[7] and "line 2" in reasons[8]
    assert "fields" in reasons[9] and "this month" in reasons[10]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "header"),
        (b"month,area\n2026-10,North\n", "header"),
        (HEADER.encode(), "no rows"),
        (b"\xff\xfe" + GOOD.encode(), "UTF-8"),
        ((HEADER + "2026-09,North,3,1,4\n2026-10,North,3,1,4\n").encode(), "one month"),
        (GOOD.encode() + b"x" * 1_000_001, "larger"),
    ],
)
def test_whole_file_problems(data, reason):
    with pytest.raises(ImportRefused) as refused:
        parse_arrest_file(data, NOW)
    assert any(reason in e.reason for e in refused.value.errors)


def _police(factories):
    agency = factories.Agency(kind=AgencyKind.police)
    user = factories.User(role=Role.coordinator)
    return agency, user


def test_import_is_whole_or_nothing_and_replaces_a_month_keeping_the_old(db, factories):
    agency, user = _police(factories)
    actor = Actor(user_id=user.id, role=user.role.value, agency_id=user.agency_id)
    first = import_eligible_arrests(db, actor, agency.id, user.id, GOOD.encode(), NOW)
    bad = GOOD + "2026-10,East,5,1,lots\n"
    with pytest.raises(ImportRefused):
        import_eligible_arrests(db, actor, agency.id, user.id, bad.encode(), NOW)
    db.rollback()
    assert len(db.exec(select(EligibleArrestCount)).all()) == 3  # nothing of the bad file
    corrected = HEADER + "2026-10,North,3,1,40\n2026-10,North,5,1,121\n"
    second = import_eligible_arrests(db, actor, agency.id, user.id, corrected.encode(), NOW)
    imports = db.exec(select(EligibleArrestImport).order_by(col(EligibleArrestImport.id))).all()
    assert [(i.id, i.superseded_by_id) for i in imports] == [
        (first.id, second.id),
        (second.id, None),
    ]
    current = db.exec(
        select(EligibleArrestCount).where(EligibleArrestCount.import_id == second.id)
    ).all()
    assert sorted(c.arrests for c in current) == [40, 121]
    kept = db.exec(select(EligibleArrestCount).where(EligibleArrestCount.import_id == first.id))
    assert sorted(c.arrests for c in kept) == [7, 42, 120]  # the earlier version is kept
    logged = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.eligible_arrests_imported.value)
    ).all()
    assert [e.detail["superseded"] for e in logged] == [[], [first.id]]
    db.commit()


def test_only_a_police_agency(db, factories):
    user = factories.User(role=Role.coordinator)
    other = factories.Agency(kind=AgencyKind.case_management)
    with pytest.raises(ImportRefused):
        import_eligible_arrests(db, Actor(), other.id, user.id, GOOD.encode(), NOW)


def test_the_page_lists_every_bad_line_and_changes_nothing(db, factories, sign_in):
    agency = factories.Agency(kind=AgencyKind.police)
    coordinator = sign_in(Role.coordinator)
    form = coordinator.client.get("/equity/eligible-arrests")
    assert form.status_code == 200
    bad = HEADER + "2026-10,North,3,1,42\n2026-10,North,9;3,1,4\n2026-10,South,5,1,x\n"
    response = coordinator.client.post(
        "/equity/eligible-arrests",
        data={"agency_id": str(agency.id), "csrf_token": csrf_of(form)},
        files={"file": ("arrests.csv", bad.encode(), "text/csv")},
    )
    assert response.status_code == 422
    assert "Line 3:" in response.text and "Line 4:" in response.text
    assert db.exec(select(EligibleArrestImport)).all() == []
    db.commit()
    good = coordinator.client.post(
        "/equity/eligible-arrests",
        data={"agency_id": str(agency.id), "csrf_token": csrf_of(form)},
        files={"file": ("arrests.csv", GOOD.encode(), "text/csv")},
    )
    assert good.status_code == 200 and "Imported 2026-10: 3 rows" in good.text
    missing = coordinator.client.post(
        "/equity/eligible-arrests", data={"agency_id": str(agency.id), "csrf_token": csrf_of(form)}
    )
    assert missing.status_code == 422


def test_only_the_coordinator_imports(sign_in):
    assert sign_in(Role.policy_group).client.get("/equity/eligible-arrests").status_code == 403
    assert sign_in(Role.sergeant).client.get("/equity/eligible-arrests").status_code == 403
