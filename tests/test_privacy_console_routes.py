"""The console over HTTP: only privacy officers get in; its pages render log metadata; filters
travel in POST bodies and URLs carry ids only; exports, receipts and reviews are logged."""

import csv
import io
import json
import re

import pytest
from sqlmodel import col, select

from hub.audit.models import LogEntry
from hub.privacy.flags.computing import compute_flags
from hub.privacy.models import ReviewFlag
from hub.vocabulary import DisclosureTag, Role, SecurityEventTag
from tests.audit_support import detail_of
from tests.privacy_support import actor, record_read, search_read
from tests.signing_in import logged

CONSOLE_PAGES = ["/privacy", "/privacy/flags"]


@pytest.fixture
def officer(sign_in):
    return sign_in(Role.privacy_officer)


@pytest.fixture
def data(db, factories):
    cm = factories.User(role=Role.case_manager, display_name="Casey Manager")
    person = factories.Person(first_name="Zebulon", last_name="Quarrington")
    reads = [
        record_read(db, cm, person.id, {"identity": "role", "engagement": "role"}) for _ in range(3)
    ]
    search_read(db, cm, {person.id: "role"})
    return {"cm": cm, "person": person, "reads": reads}


@pytest.mark.parametrize("role", [r for r in Role if r != Role.privacy_officer])
def test_only_privacy_officers_reach_the_console(sign_in, role, data):
    other = sign_in(role)
    person_id, user_id = data["person"].id, data["cm"].id
    for path in (
        "/privacy",
        "/privacy/flags",
        f"/privacy/users/{user_id}",
        f"/privacy/clients/{person_id}",
        f"/privacy/clients/{person_id}/accounting",
        f"/privacy/log/{data['reads'][0].seq}",
    ):
        assert other.client.get(path).status_code == 403, path
    for path in (
        "/privacy/log",
        "/privacy/log/export",
        "/privacy/flags/compute",
        f"/privacy/clients/{person_id}/accounting",
        f"/privacy/log/{data['reads'][0].seq}/fhir",
        f"/privacy/log/{data['reads'][0].seq}/receipt",
    ):
        assert other.post(path, data={"format": "csv"}).status_code == 403, path


def test_a_stranger_is_sent_to_sign_in(client):
    response = client.get("/privacy", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"


def _urls(html):
    return re.findall(r'(?:href|action|hx-get|hx-post)="([^"]*)"', html)


def test_pages_show_log_metadata_never_client_names_and_urls_carry_ids_only(db, officer, data):
    person, cm = data["person"], data["cm"]
    compute_flags(db, actor(None), days=2)
    flag_id = db.exec(select(ReviewFlag.id)).first()
    db.commit()
    pages = [
        officer.client.get("/privacy"),
        officer.client.get("/privacy/flags"),
        officer.client.get(f"/privacy/flags/{flag_id}"),
        officer.client.get(f"/privacy/users/{cm.id}"),
        officer.client.get(f"/privacy/clients/{person.id}"),
        officer.client.get(f"/privacy/log/{data['reads'][0].seq}"),
        officer.client.get(f"/privacy/clients/{person.id}/accounting"),
        officer.post("/privacy/log", data={"person_id": str(person.id), "role": "case_manager"}),
        officer.post(f"/privacy/clients/{person.id}/accounting", data={"summarise": "1"}),
    ]
    for response in pages:
        assert response.status_code == 200, response.url
        assert "Zebulon" not in response.text and "Quarrington" not in response.text
        for url in _urls(response.text):
            # Ids and codes at most: no names, no search terms, no filters in the query string.
            assert "Zebulon" not in url and "Quarrington" not in url
            assert not re.search(r"[?&](person_id|user_id|name|role|category)=", url), url
    assert "Casey Manager" in pages[3].text  # staff are named; clients are numbers
    assert f"Client #{person.id}" in pages[0].text or f"#{person.id}" in pages[0].text
    # The search form posts: nothing typed in it reaches a URL.
    assert re.search(r'<form method="post" action="/privacy/log"', pages[0].text)


def test_search_filters_by_post_and_pages_with_a_cursor(db, officer, data):
    response = officer.post(
        "/privacy/log",
        data={"user_id": str(data["cm"].id), "kind": "disclosure"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="results"')  # the htmx fragment
    shown = [int(s) for s in re.findall(r'href="/privacy/log/(\d+)"', response.text)]
    assert shown == sorted(
        [e.seq for e in data["reads"]] + [data["reads"][-1].seq + 1], reverse=True
    )
    (entry,) = [
        e for e in logged(db, SecurityEventTag.log_read) if detail_of(e)["view"] == "search"
    ]
    assert detail_of(entry)["filters"] == {"user_id": str(data["cm"].id), "kind": "disclosure"}
    assert detail_of(entry)["shown"] == 4
    bad = officer.post("/privacy/log", data={"person_id": "Quarrington"})
    assert bad.status_code == 422 and "Quarrington" not in bad.text


def test_csv_and_jsonl_exports_are_filtered_streamed_and_logged(db, officer, data):
    person_id = str(data["person"].id)
    csv_response = officer.post(
        "/privacy/log/export", data={"format": "csv", "person_id": person_id}
    )
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.text)))
    # The export's own entry is about the client too, and was committed before the first row.
    *reads, own = rows
    assert [int(r["seq"]) for r in reads] == [e.seq for e in data["reads"]]
    assert own["tag"] == SecurityEventTag.log_exported.value
    jsonl = officer.post("/privacy/log/export", data={"format": "jsonl", "person_id": person_id})
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [line["seq"] for line in lines[:3]] == [e.seq for e in data["reads"]]
    assert lines[0]["leaf_hash"] == data["reads"][0].leaf_hash
    exported = logged(db, SecurityEventTag.log_exported)
    assert [detail_of(e)["format"] for e in exported] == ["csv", "jsonl"]
    assert detail_of(exported[0])["filters"] == {"person_id": person_id}
    assert exported[0].actor_user_id == officer.user.id
    assert officer.post("/privacy/log/export", data={"format": "xml"}).status_code == 422


def test_one_entry_as_fhir_audit_event_and_as_receipt_each_logged(db, officer, data):
    seq = data["reads"][0].seq
    fhir = officer.post(f"/privacy/log/{seq}/fhir")
    assert fhir.status_code == 200
    event = fhir.json()
    assert event["resourceType"] == "AuditEvent" and event["id"] == str(seq)
    assert event["entity"][0]["what"]["reference"] == f"Patient/{data['person'].id}"
    receipt = officer.post(f"/privacy/log/{seq}/receipt")
    assert receipt.status_code == 200
    body = receipt.json()
    assert (
        body["leaf_index"] == seq
        and body["tree_size"] > seq
        and body["inclusion_proof"] is not None
    )
    (fhir_entry,) = logged(db, SecurityEventTag.log_exported, format="fhir_audit_event")
    assert detail_of(fhir_entry)["seq"] == seq
    (receipt_entry,) = logged(db, SecurityEventTag.receipt_issued, seq=seq)
    assert receipt_entry.actor_user_id == officer.user.id
    assert officer.post("/privacy/log/999999/fhir").status_code == 404


def test_reviewing_a_flag_through_the_page_is_logged(db, officer, data):
    compute_flags(db, actor(None), days=2)
    flag = db.exec(select(ReviewFlag)).first()
    db.commit()
    page = officer.client.get(f"/privacy/flags/{flag.id}")
    assert "Mark reviewed" in page.text
    empty = officer.post(f"/privacy/flags/{flag.id}/review", data={"note": " "})
    assert empty.status_code == 422
    done = officer.post(
        f"/privacy/flags/{flag.id}/review",
        data={"note": "Spoke with the supervisor."},
        follow_redirects=False,
    )
    assert done.status_code == 303
    (entry,) = logged(db, SecurityEventTag.flag_reviewed, review_flag_id=flag.id)
    assert entry.actor_user_id == officer.user.id
    assert "Spoke with the supervisor." in officer.client.get(f"/privacy/flags/{flag.id}").text


def test_the_console_can_compute_flags_and_its_run_is_logged(db, officer, data):
    response = officer.post("/privacy/flags/compute", follow_redirects=False)
    assert response.status_code == 303
    (run,) = logged(db, SecurityEventTag.flags_computed)
    assert run.actor_user_id == officer.user.id and detail_of(run)["created"]
    assert "outside relationship" in officer.client.get("/privacy/flags").text


def test_the_accounting_page_is_printable_and_shows_the_checkpoint(db, officer, data):
    response = officer.post(
        f"/privacy/clients/{data['person'].id}/accounting", data={"summarise": "1"}
    )
    assert response.status_code == 200
    text = response.text
    assert "print.css" in text and "HIPAA, 45 CFR 164.528" in text and "42 CFR Part 2" in text
    assert "Integrity of the log at the time of printing: verified" in text
    assert "diversion-hub.example/log\n" in text
    assert len(logged(db, SecurityEventTag.accounting_generated)) == 1
    bad = officer.post(f"/privacy/clients/{data['person'].id}/accounting", data={"since": "x"})
    assert bad.status_code == 422


def test_the_accounting_letter_tells_the_client_in_plain_words(db, officer, data):
    """Issue 17, item 7: a letter the privacy officer can hand over, with the integrity check
    said plainly; the log's codes stay in the table version."""
    form = officer.client.get(f"/privacy/clients/{data['person'].id}/accounting").text
    assert 'name="form" value="letter" checked' in form
    letter = officer.post(
        f"/privacy/clients/{data['person'].id}/accounting",
        data={"summarise": "1", "form": "letter"},
    )
    assert letter.status_code == 200
    text = letter.text
    assert "print.css" in text and "Who has seen information about you" in text
    # One summarised line: who, what and why in words, how often.
    said = re.findall(r"<li>On [0-9-]+(.*?)</li>", text)
    assert len(said) == 2 and "and 2 more times until" in said[0]
    assert "<strong>Casey Manager, case manager at " in said[0]
    assert "saw whether you take part in the program and your name and date of birth" in said[0]
    assert "to work with you as your case manager" in said[0]
    assert "The check passed: the log is intact." in text
    for code in ("case_management", "engagement,", "relationship:", "role,"):
        assert code not in text, code
    assert "Zebulon" not in text  # the client's name is written in by hand
    assert len(logged(db, SecurityEventTag.accounting_generated)) == 1


def test_console_and_home_page_link_to_it(officer):
    home = officer.client.get("/")
    assert 'href="/privacy"' in home.text


def test_finding_a_client_by_name_goes_through_the_policy_and_finds_no_one_by_default(
    db, officer, data
):
    response = officer.post("/privacy/pick", data={"query": "Quarrington"})
    assert response.status_code == 200
    assert "No client found whose name you may see" in response.text
    (entry,) = logged_disclosures(db)
    assert entry.actor_user_id == officer.user.id and entry.outcome == "withheld"


def test_the_old_name_search_is_gone_for_the_picker(officer):
    """Issue 17, item 7: one way to find a client on the console, the picker."""
    assert officer.post("/privacy/persons", data={"name": "Quarrington"}).status_code == 404


def logged_disclosures(db):
    found = list(
        db.exec(
            select(LogEntry).where(
                LogEntry.tag == "disclosure:client_search:read",
                col(LogEntry.actor_role) == Role.privacy_officer.value,
            )
        )
    )
    db.commit()
    return found


def test_other_users_cannot_see_the_console_link(sign_in):
    cm = sign_in(Role.case_manager)
    assert 'href="/privacy"' not in cm.client.get("/").text


def test_the_client_picker_finds_by_record_number_or_name_within_the_policy(db, officer, data):
    """Issue 17, item 7: break-glass, court orders and accountings start from a picker, not a
    typed number; it names a client only as the policy lets a privacy officer see them."""
    from hub.disclosure.services import open_break_glass
    from tests.fixtures.referrals import actor_of, viewer_of

    person = data["person"]
    for path, field in (("/privacy/break-glass", "glass-person"), ("/privacy/court-orders", "")):
        page = officer.client.get(path).text
        assert 'action="/privacy/pick"' in page and (field in page)
    assert 'name="picked_for" value="accounting"' in officer.client.get("/privacy").text

    def picker_entries():
        found = db.exec(
            select(LogEntry)
            .where(LogEntry.tag == DisclosureTag.client_list_read.value)
            .order_by(col(LogEntry.seq))
        ).all()
        db.commit()
        return found

    before = len(picker_entries())
    by_number = officer.post(
        "/privacy/pick",
        data={"query": str(person.id), "picked_for": "break_glass"},
        headers={"HX-Request": "true"},
    )
    assert by_number.status_code == 200 and "<html" not in by_number.text
    assert f"Client record {person.id}" in by_number.text and "name withheld" in by_number.text
    assert f'data-pick="{person.id}" data-pick-into="glass-person"' in by_number.text
    assert "Zebulon" not in by_number.text
    # The answer is the policy layer's, logged under oversight.
    entries = picker_entries()
    assert len(entries) == before + 1 and entries[-1].purpose == "oversight"
    by_name = officer.post(
        "/privacy/pick", data={"query": "Quarrington", "picked_for": "accounting"}
    )
    assert by_name.status_code == 200 and "No client found whose name you may see" in by_name.text
    assert officer.post("/privacy/pick", data={"query": " "}).status_code == 422
    # Under an open break-glass the name finds the client, with the way to their accounting.
    viewer = viewer_of(db, officer.user)
    open_break_glass(
        db, viewer, person.id, "Client complaint about who read the record.", actor_of(viewer)
    )
    found = officer.post("/privacy/pick", data={"query": "Quarrington", "picked_for": "accounting"})
    assert f"Client record {person.id}: Zebulon Quarrington" in found.text
    assert f'href="/privacy/clients/{person.id}/accounting"' in found.text
