"""`hub audit export` streams the log as CSV or JSON lines and logs that it did; one entry as a
FHIR R4 AuditEvent."""

import csv
import io
import json
from datetime import timedelta

from sqlmodel import select
from typer.testing import CliRunner

from hub.audit.fhir import audit_event
from hub.audit.log import Actor, Event, append
from hub.audit.models import LogEntry
from hub.cli import app as cli
from hub.db import utcnow
from hub.vocabulary import Category, LogKind, LogOutcome, Purpose, Role
from tests.audit_support import add_entries, verify


def test_jsonl_export_holds_every_entry_and_logs_itself(db):
    add_entries(db, 4)
    result = CliRunner().invoke(cli, ["audit", "export", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["seq"] for line in lines] == [0, 1, 2, 3, 4]
    assert lines[0]["person_id"] == 1000
    assert lines[0]["detail"]["basis"]["engagement"] == "consent:0"
    assert lines[-1]["tag"] == "audit:log:exported"
    assert lines[-1]["detail"]["format"] == "jsonl"
    assert verify(db).ok


def test_csv_export_and_date_bounds(db):
    add_entries(db, 2)
    today = utcnow().date()
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "export", "--format", "csv", "--since", str(today)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["seq"] for r in rows] == ["0", "1", "2"]
    assert json.loads(rows[0]["categories"]) == ["engagement", "identity"]
    yesterday = str(today - timedelta(days=1))
    result = runner.invoke(cli, ["audit", "export", "--format", "csv", "--until", yesterday])
    assert list(csv.DictReader(io.StringIO(result.output))) == []
    db.expire_all()
    exports = db.exec(select(LogEntry).where(LogEntry.tag == "audit:log:exported")).all()
    assert [e.detail["until"] for e in exports] == [None, yesterday]


def test_bad_export_options_change_nothing(db):
    runner = CliRunner()
    for args in (["--format", "xml"], ["--since", "yesterday"]):
        result = runner.invoke(cli, ["audit", "export", *args])
        assert result.exit_code == 2
    assert db.exec(select(LogEntry)).all() == []


def test_an_entry_as_a_fhir_audit_event(db):
    entry = append(
        db,
        Actor(user_id=7, role=Role.case_manager, agency_id=2, request_id="r", address="10.1.1.1"),
        Event(
            kind=LogKind.disclosure,
            tag="disclosure:client:read",
            outcome=LogOutcome.disclosed,
            purpose=Purpose.case_management,
            person_id=42,
            categories=[Category.treatment, Category.identity],
        ),
    )
    event = audit_event(entry)
    assert event["resourceType"] == "AuditEvent"
    assert event["type"]["code"] == "110110"
    assert event["subtype"] == [
        {"system": "urn:diversion-hub:event", "code": "disclosure:client:read"}
    ]
    assert event["action"] == "R"
    assert event["recorded"].endswith("Z")
    assert event["outcome"] == "0"
    [agent] = event["agent"]
    assert agent["who"] == {"reference": "Practitioner/7"}
    assert agent["role"][0]["coding"][0]["code"] == "case_manager"
    assert agent["requestor"] is True
    [entity] = event["entity"]
    assert entity["what"] == {"reference": "Patient/42"}
    codes = {label["code"] for label in entity["securityLabel"]}
    assert codes == {"R", "ETH", "42CFRPart2"}
    assert event["meta"]["security"] == entity["securityLabel"]
    assert event["purposeOfEvent"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
        "code": "CAREMGT",
    }


def test_a_security_event_as_fhir(db):
    entry = append(
        db,
        Actor(),
        Event(kind=LogKind.security, tag="account:sign_in:failure", outcome=LogOutcome.failure),
    )
    event = audit_event(entry)
    assert event["type"]["code"] == "110114"
    assert event["outcome"] == "4"
    assert "entity" not in event
    assert [label["code"] for label in event["meta"]["security"]] == ["N"]
