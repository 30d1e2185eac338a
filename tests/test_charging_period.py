"""The period's decisions (issue 15, item 6): per office and month, decisions by outcome and
reason, the declined share of matters with completed intake, days from referral to decision;
a page, a CSV and the API, each logged as an aggregate disclosure that names no one."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlmodel import col, select

from hub.audit.models import LogEntry
from hub.charging.checks import ChargingError
from hub.charging.models import ChargingDecision
from hub.charging.period import format_period_csv, period_report
from hub.vocabulary import DecisionOutcome, DisclosureTag
from tests.referral_pages import consent_2_35, decision_id_from


def at(month, day, hour=18):
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def referral_on(world, day, *, intake_done=None, consent=False):
    """A referral to the county prosecutor on October `day`, with intake done when given."""
    referral, matter = world.arrest(now=at(10, day, 17))
    if intake_done is not None:
        referral.screening_done_at = at(10, intake_done - 1)
        referral.intake_done_at = at(10, intake_done)
        world.db.add(referral)
        world.db.commit()
    if consent:
        office = world.agencies["county_prosecutor"].id
        consent_2_35(world.db, world.viewer("case_manager"), matter.person_id, office)
    return matter


def decided(world, matter, outcome, reasons, when, supersedes=None):
    decision = ChargingDecision(
        matter_id=matter.id,
        decided_by_id=world.users["county_prosecutor"].id,
        decided_at=when,
        outcome=outcome,
        reason_codes=reasons,
        supersedes_id=supersedes.id if supersedes else None,
        note="correction" if supersedes else None,
    )
    world.db.add(decision)
    world.db.commit()
    return decision


def test_the_month_counts_outcomes_reasons_the_declined_share_and_days(world, db):
    m1 = referral_on(world, 1, intake_done=10, consent=True)
    m2 = referral_on(world, 1, intake_done=12, consent=True)
    m3 = referral_on(world, 2, intake_done=8)  # no 2.35 consent: intake status not shared
    m4 = referral_on(world, 3)
    m5 = referral_on(world, 3, intake_done=9, consent=True)
    m6 = referral_on(world, 3)
    decided(world, m1, "decline", ["completed-intake"], at(10, 20))
    decided(world, m2, "file", ["harm-to-victim"], at(10, 25))
    decided(world, m3, "decline", ["completed-intake"], at(10, 15))
    decided(world, m4, "more_information", ["awaiting-lab"], at(10, 5))
    decided(world, m5, "decline", ["completed-intake"], at(11, 2))  # November's
    wrong = decided(world, m6, "file", ["harm-to-victim"], at(10, 27))
    decided(world, m6, "decline", ["correction"], at(10, 28), supersedes=wrong)
    prosecutor = world.viewer("county_prosecutor")
    office = world.agencies["county_prosecutor"].id

    report = period_report(
        db, prosecutor, office, date(2026, 10, 1), world.actor("county_prosecutor"),
        rules=world.rules, form="page",
    )  # fmt: skip
    assert report.decisions == 5  # the superseded one and November's do not count
    assert report.by_outcome == {
        DecisionOutcome.file: 1,
        DecisionOutcome.decline: 3,
        DecisionOutcome.divert: 0,
        DecisionOutcome.more_information: 1,
    }
    assert {(r.outcome.value, r.code): r.count for r in report.by_reason} == {
        ("decline", "completed-intake"): 2,
        ("decline", "correction"): 1,
        ("file", "harm-to-victim"): 1,
        ("more_information", "awaiting-lab"): 1,
    }
    # Completed intake and shared: m1 (declined) and m2 (filed).
    assert (report.intake_completed, report.intake_completed_declined) == (2, 1)
    assert report.declined_share == 0.5
    assert report.intake_not_shared == 2  # m3, m6
    assert (report.days_median, report.days_min, report.days_max) == (21.5, 13, 25)

    entry = db.exec(select(LogEntry).where(col(LogEntry.seq) == report.log_seq)).one()
    assert entry.tag == DisclosureTag.charging_period_read.value
    assert entry.kind == "disclosure" and entry.person_id is None
    assert entry.detail == {
        "aggregate": True,
        "office_id": office,
        "month": "2026-10",
        "form": "page",
        "decisions": 5,
        "persons": 5,
    }
    rows = list(csv.reader(io.StringIO(format_period_csv(report))))
    assert rows[0] == ["office", "month", "measure", "outcome", "reason", "value"]
    assert [
        "County Prosecutor",
        "2026-10",
        "declined_share_of_intake_completed",
        "",
        "",
        "0.500",
    ] in rows

    with pytest.raises(ChargingError, match="no such office"):
        period_report(
            db, world.viewer("city_prosecutor"), office, date(2026, 10, 1),
            world.actor("city_prosecutor"), rules=world.rules, form="page",
        )  # fmt: skip


def test_a_filed_harm_to_victim_decision_is_counted_on_the_page_csv_and_api(
    world, sign_in, api, db
):
    _, matter = world.arrest()
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    response = prosecutor.post(
        f"/charging/matters/{matter.id}/decisions",
        data={"outcome": "file", "reason_codes": ["harm-to-victim"]},
        follow_redirects=False,
    )
    decision = db.get(ChargingDecision, decision_id_from(response))
    month = decision.decided_at.astimezone(world.rules.tz).strftime("%Y-%m")
    db.commit()

    page = prosecutor.client.get(f"/charging/period?month={month}")
    assert page.status_code == 200
    assert '<tr data-reason="file:harm-to-victim"><td>file</td>' in page.text
    assert '<dd data-measure="decisions">1</dd>' in page.text
    assert matter.offense_tracking_number not in page.text  # no client-level data
    text = prosecutor.client.get(f"/charging/period.csv?month={month}").text
    assert f"County Prosecutor,{month},decisions_by_reason,file,harm-to-victim,1" in text
    answer = api(world.users["county_prosecutor"]).get(f"/api/v1/charging/period?month={month}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["by_outcome"]["file"] == 1 and body["decisions"] == 1
    assert body["by_reason"] == [{"outcome": "file", "reason_code": "harm-to-victim", "count": 1}]

    forms = [
        e.detail["form"]
        for e in db.exec(
            select(LogEntry).where(LogEntry.tag == DisclosureTag.charging_period_read.value)
        ).all()
    ]
    db.commit()
    assert forms == ["page", "csv", "api"]

    records_system = api(world.users["county_prosecutor"])
    for bad in ("1899-12", "2999-01", "0000-01"):
        assert prosecutor.client.get(f"/charging/period?month={bad}").status_code == 400
        # No such period: before 1900 or in the future.
        assert records_system.get(f"/api/v1/charging/period?month={bad}").status_code == 404
    for bad in ("2026-13", "2026-00", "26-01"):
        assert prosecutor.client.get(f"/charging/period?month={bad}").status_code == 422
        assert records_system.get(f"/api/v1/charging/period?month={bad}").status_code == 422
    assert prosecutor.client.get("/charging/period?month=october").status_code == 422
    other = world.agencies["city_attorney"].id
    assert prosecutor.client.get(f"/charging/period?office={other}").status_code == 404
    defender = sign_in(user=world.users["defender"])
    assert defender.client.get("/charging/period").status_code == 403
