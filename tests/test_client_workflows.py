"""Client pages and API beyond the matrix, on SQLite and PostgreSQL: search keeps its terms out
of URLs and logs, a failed log write shows nothing, consents are recorded with every 42 CFR
2.31 element and revoked, case notes are added in a category, a privacy officer's break-glass
and court orders, and every role's way to the search."""

import json
import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from hub.audit import log as audit_log
from hub.audit.models import LogEntry
from hub.caserecord.writing import load_write_policy
from hub.clients.models import CaseNote
from hub.consents.models import Consent
from hub.disclosure.models import BreakGlass, CourtOrder
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.permissions import allowed
from hub.settings import get_settings
from hub.vocabulary import Action, AgencyKind, Category, DisclosureTag, Role, SecurityEventTag
from tests.client_world import disclosed_in
from tests.fixtures.consents import consent_form

HTMX = {"HX-Request": "true"}


def entries(db):
    rows = db.exec(select(LogEntry).order_by(col(LogEntry.seq))).all()
    db.commit()
    return rows


def unraised(app, signed):
    """The same session, from a client that answers a server error as a browser sees it."""
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    client.cookies.set(
        get_settings().session_cookie_name,
        signed.client.cookies.get(get_settings().session_cookie_name),
    )
    return client


# --- search ---------------------------------------------------------------------------------


def test_htmx_search_keeps_the_terms_out_of_urls_and_logs(app, db, program, sign_in, caplog):
    me = sign_in(user=program.case_manager)
    page = me.client.get("/clients/search")
    assert page.status_code == 200 and 'hx-post="/clients/search"' in page.text
    assert 'method="post"' in page.text

    term = program.person.last_name
    response = me.post(
        "/clients/search",
        data={"name": term, "date_of_birth": program.person.date_of_birth.isoformat()},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "<html" not in response.text and 'id="search-results"' in response.text
    assert disclosed_in(response.text) == {"identity"}
    assert f'href="/clients/{program.person.id}"' in response.text
    assert term not in str(response.url)
    assert all(term not in href for href in re.findall(r'href="([^"]*)"', response.text))
    (entry,) = [e for e in entries(db) if e.tag == DisclosureTag.client_search_read.value]
    assert entry.purpose == "case_management"
    assert entry.detail["person_ids"] == [program.person.id]
    for e in entries(db):
        dumped = json.dumps(e.model_dump(), default=str)
        assert term not in dumped
        assert program.person.date_of_birth.isoformat() not in dumped
    assert term not in caplog.text


def test_search_without_usable_terms_says_so(app, db, program, sign_in):
    me = sign_in(user=program.officer)
    response = me.post("/clients/search", data={"name": "x"})
    assert response.status_code == 422
    assert "at least two letters" in response.text
    fragment = me.post("/clients/search", data={"name": "x"}, headers=HTMX)
    assert fragment.status_code == 200 and "at least two letters" in fragment.text
    assert me.post("/clients/search", data={"date_of_birth": "1990-13-45"}).status_code == 422


def test_search_is_refused_to_admins(app, program, sign_in):
    admin = sign_in(Role.admin)
    assert admin.client.get("/clients/search").status_code == 403
    assert admin.post("/clients/search", data={"name": "an"}).status_code == 403


# --- a failed log write ---------------------------------------------------------------------


def test_a_failed_log_write_shows_nothing(app, db, program, sign_in, monkeypatch):
    me = sign_in(user=program.case_manager)
    browser = unraised(app, me)
    api_token = _token(db, program.case_manager)
    before = len(entries(db))

    def broken_append(*args, **kwargs):
        raise RuntimeError("the log is unavailable")

    monkeypatch.setattr(audit_log, "append", broken_append)
    pid = program.person.id
    for url in (
        f"/clients/{pid}",
        f"/clients/{pid}/sections/treatment",
        f"/clients/{pid}/notes",
        f"/clients/{pid}/consents",
    ):
        response = browser.get(url)
        assert response.status_code == 500, url
        assert "nothing was shown" in response.text
        assert disclosed_in(response.text) == set()
        assert program.person.last_name not in response.text
        assert "Outpatient MOUD" not in response.text
    search = browser.post(
        "/clients/search",
        data={"name": program.person.last_name},
        headers={"X-CSRF-Token": me.csrf_token},
    )
    assert search.status_code == 500 and program.person.first_name not in search.text
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as api:
        response = api.get(
            f"/api/v1/clients/{pid}", headers={"Authorization": f"Bearer {api_token}"}
        )
        assert response.status_code == 500
        assert set(response.json()) == {"detail", "request_id"}
        assert program.person.last_name not in response.text
    assert len(entries(db)) == before


def _token(db, user):
    from hub.accounts.own_access import create_api_token
    from hub.audit.log import Actor
    from hub.vocabulary import TokenScope

    # Read and write: the API tests below write notes and consents with it.
    return create_api_token(
        db, Actor(request_id="test"), user, "test", 1, scope=TokenScope.read_write
    )


# --- case notes -----------------------------------------------------------------------------


def test_case_manager_adds_a_note_with_htmx_and_it_is_logged(app, db, program, sign_in):
    me = sign_in(user=program.case_manager)
    notes = me.client.get(f"/clients/{program.person.id}/notes")
    assert notes.status_code == 200
    assert 'name="category"' in notes.text and REDISCLOSURE_NOTICE in notes.text

    response = me.post(
        f"/clients/{program.person.id}/notes",
        data={"category": "housing", "body": "Viewed a studio on Pine St."},
        headers=HTMX,
    )
    assert response.status_code == 200 and "<html" not in response.text
    assert "Viewed a studio on Pine St." in response.text
    # The fragment holds the treatment note too, so it carries the notice itself.
    assert "data-part2-notice" in response.text
    # Bodies are sealed at rest: find the note by its author and read it back.
    note = db.exec(
        select(CaseNote)
        .where(CaseNote.author_id == program.case_manager.id)
        .order_by(col(CaseNote.id).desc())
    ).first()
    db.commit()
    assert note.body == "Viewed a studio on Pine St." and note.category == Category.housing
    created = [e for e in entries(db) if e.tag == SecurityEventTag.case_note_created.value]
    assert created[-1].detail == {
        "note_id": note.id,
        "write_policy_version": load_write_policy().version,
    }

    refused = me.post(
        f"/clients/{program.person.id}/notes", data={"category": "housing", "body": "  "}
    )
    assert refused.status_code == 422 and "1 to" in refused.text
    redirected = me.post(
        f"/clients/{program.person.id}/notes",
        data={"category": "plan", "body": "Wants an ID card first."},
        follow_redirects=False,
    )
    assert redirected.status_code == 303
    assert redirected.headers["location"] == f"/clients/{program.person.id}/notes"


def test_the_note_form_preselects_no_category_and_a_missing_one_is_refused(db, program, sign_in):
    # Issue 17: the form used to open on "identity", so notes were filed under it unread.
    me = sign_in(user=program.case_manager)
    url = f"/clients/{program.person.id}/notes"
    form = re.search(r'<select id="note-category"[^>]*>.*?</select>', me.client.get(url).text, re.S)
    assert form and " required" in form.group(0) and "selected" not in form.group(0)
    first = re.search(r"<option[^>]*>[^<]*</option>", form.group(0))
    assert first and first.group(0) == '<option value="">Choose a category</option>'

    def notes_now():
        count = len(db.exec(select(CaseNote).where(CaseNote.author_id == me.user.id)).all())
        db.commit()
        created = SecurityEventTag.case_note_created.value
        return count, len([e for e in entries(db) if e.tag == created])

    before = notes_now()
    for data, headers, code in (
        ({"body": "Met at the library."}, {}, 422),
        ({"category": "", "body": "Met at the library."}, HTMX, 200),
    ):
        refused = me.post(url, data=data, headers=headers)
        assert refused.status_code == code and "A case note needs a category." in refused.text
        # What was typed stays, and nothing was filed (the form's re-read is logged as ever).
        assert "Met at the library.</textarea>" in refused.text
        assert notes_now() == before
    # A category chosen stays chosen when the note is refused for another reason.
    refused = me.post(url, data={"category": "housing", "body": " "}, headers=HTMX)
    assert '<option value="housing" selected>' in refused.text


def test_note_in_a_category_the_author_cannot_see_is_refused(app, db, program, sign_in, factories):
    other = factories.User(role=Role.case_manager, agency=program.cm_agency)
    me = sign_in(user=other)  # same agency, not on the caseload: the write policy gives none
    page = me.client.get(f"/clients/{program.person.id}/notes")
    options = re.findall(r'<option value="([a-z_]+)"', page.text)
    assert options == [] and "Add a case note" not in page.text
    response = me.post(
        f"/clients/{program.person.id}/notes", data={"category": "treatment", "body": "x"}
    )
    assert response.status_code == 422 and "cannot file a note under treatment" in response.text
    assert db.exec(select(CaseNote).where(CaseNote.author_id == other.id)).first() is None
    db.commit()


def test_notes_api(app, db, program):
    # Treatment notes are kept only by a 42 CFR Part 2 program's staff (the write policy).
    program.cm_agency.part2_program = True
    db.add(program.cm_agency)
    db.commit()
    token = _token(db, program.case_manager)
    with TestClient(app, base_url="https://testserver") as api:
        headers = {"Authorization": f"Bearer {token}"}
        created = api.post(
            f"/api/v1/clients/{program.person.id}/notes",
            json={"category": "treatment", "body": "Started group on Tuesdays."},
            headers=headers,
        )
        assert created.status_code == 201
        assert created.json()["redisclosure_notice"] == REDISCLOSURE_NOTICE
        listed = api.get(f"/api/v1/clients/{program.person.id}/notes", headers=headers).json()
        assert "Started group on Tuesdays." in [n["body"] for n in listed["notes"]]
        bad = api.post(
            f"/api/v1/clients/{program.person.id}/notes",
            json={"category": "nonsense", "body": "x"},
            headers=headers,
        )
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "category"
        missing = api.post(
            "/api/v1/clients/999999/notes", json={"category": "plan", "body": "x"}, headers=headers
        )
        assert missing.status_code == 404


# --- consents -------------------------------------------------------------------------------


def test_consent_recipients_are_grouped_agencies_kinds_people(db, program, sign_in):
    # Issue 17: agencies, kinds of agency and people were one undivided list of about forty.
    me = sign_in(user=program.case_manager)
    pid = program.person.id

    def recipient_select(text):
        found = re.search(r'<select id="consent-recipient"[^>]*>(.*?)</select>', text, re.S)
        assert found
        body = found.group(1)
        groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', body, re.S)
        return body, {label: re.findall(r'<option value="([^"]*)"', opts) for label, opts in groups}

    body, groups = recipient_select(me.client.get(f"/clients/{pid}/consents/new").text)
    assert body.strip().startswith('<option value="">Choose')
    assert list(groups) == ["Agencies", "Kinds of agency", "People"]
    assert f"agency:{program.prosecution.id}" in groups["Agencies"]
    assert set(groups["Kinds of agency"]) == {f"kind:{k.value}" for k in AgencyKind}
    assert f"user:{program.prosecutor.id}" in groups["People"]
    assert all(v.startswith("user:") for v in groups["People"])
    # Searchable: a field that filters the list (static/filter-select.js), loaded on the page.
    page = me.client.get(f"/clients/{pid}/consents/new").text
    assert 'type="search"' in page and 'data-filter-select="consent-recipient"' in page
    assert '<script src="/static/filter-select.js" defer></script>' in page
    # A refused consent keeps the recipient chosen, inside its group.
    chosen = f"user:{program.prosecutor.id}"
    refused = me.post(
        f"/clients/{pid}/consents", data=consent_form(program, recipient=chosen, signed_by="")
    )
    assert refused.status_code == 422
    body, _ = recipient_select(refused.text)
    people = body[body.index('label="People"') :]
    assert f'<option value="{chosen}" selected>' in people


def test_consent_is_recorded_listed_printed_and_revoked(app, db, program, sign_in):
    me = sign_in(user=program.case_manager)
    pid = program.person.id
    form_page = me.client.get(f"/clients/{pid}/consents/new")
    assert form_page.status_code == 200
    for element in ("2.31(a)(1)", "2.31(a)(4)", "2.31(a)(6)", "2.31(a)(9)"):
        assert element in form_page.text

    incomplete = me.post(f"/clients/{pid}/consents", data=consent_form(program, right_to_revoke=""))
    assert incomplete.status_code == 422 and "the right to revoke" in incomplete.text
    assert db.exec(select(Consent)).first() is None
    db.commit()

    created = me.post(
        f"/clients/{pid}/consents", data=consent_form(program), follow_redirects=False
    )
    assert created.status_code == 303
    consent = db.exec(select(Consent)).one()
    db.commit()

    listing = me.client.get(f"/clients/{pid}/consents")
    assert listing.status_code == 200 and "in effect" in listing.text
    assert any(e.tag == DisclosureTag.client_consents_read.value for e in entries(db))

    printed = me.client.get(f"/clients/{pid}/consents/{consent.id}/print")
    assert printed.status_code == 200
    for number in range(1, 10):
        assert f"2.31(a)({number})" in printed.text
    assert "The client" in printed.text and "@media print" not in printed.text

    # The prosecutor's office now sees plan and housing for the charging decision.
    prosecutor = sign_in(user=program.prosecutor)
    shown = disclosed_in(prosecutor.client.get(f"/clients/{pid}").text)
    assert {"plan", "housing"} <= shown and not {"health", "treatment"} & shown

    revoked = me.post(f"/clients/{pid}/consents/{consent.id}/revoke", headers=HTMX)
    assert revoked.status_code == 200 and "<html" not in revoked.text and "revoked" in revoked.text
    # Revocation takes effect on the very next read.
    shown = disclosed_in(prosecutor.client.get(f"/clients/{pid}").text)
    assert not {"plan", "housing"} & shown
    again = me.post(f"/clients/{pid}/consents/{consent.id}/revoke")
    assert again.status_code == 422 and "already revoked" in again.text


def test_consents_are_managed_only_by_the_clients_agency(app, db, program, sign_in, factories):
    elsewhere = factories.User(
        role=Role.case_manager, agency=factories.Agency(kind=AgencyKind.case_management)
    )
    me = sign_in(user=elsewhere)
    assert me.client.get(f"/clients/{program.person.id}/consents").status_code == 403
    prosecutor = sign_in(user=program.prosecutor)
    assert prosecutor.client.get(f"/clients/{program.person.id}/consents").status_code == 403
    refused = me.post(f"/clients/{program.person.id}/consents", data=consent_form(program))
    assert refused.status_code == 403
    assert db.exec(select(Consent)).first() is None
    db.commit()


def test_consents_api(app, db, program):
    token = _token(db, program.case_manager)
    pid = program.person.id
    body = {
        "kind": "criminal_justice_referral",
        "discloser_agency_id": program.cm_agency.id,
        "recipient_agency_id": program.prosecution.id,
        "categories": ["engagement"],
        "purposes": ["charging_decision"],
        "description": "Attendance and engagement, for monitoring (42 CFR 2.35).",
        "right_to_revoke": "In writing, after final disposition.",
        "expiry_event": "final disposition",
        "irrevocable_until": "final disposition",
        "signed_by": "The client",
        "signature_on_file": True,
        "signed_on": date.today().isoformat(),
    }
    with TestClient(app, base_url="https://testserver") as api:
        headers = {"Authorization": f"Bearer {token}"}
        created = api.post(f"/api/v1/clients/{pid}/consents", json=body, headers=headers)
        assert created.status_code == 201, created.text
        assert created.json()["active"] is True and created.json()["missing_elements"] == []
        cid = created.json()["id"]
        listed = api.get(f"/api/v1/clients/{pid}/consents", headers=headers).json()
        assert [c["id"] for c in listed["consents"]] == [cid]
        refused = api.post(f"/api/v1/clients/{pid}/consents/{cid}/revoke", headers=headers)
        assert refused.status_code == 422 and "irrevocable" in refused.json()["detail"]
        wrong = api.post(
            f"/api/v1/clients/{pid}/consents",
            json={**body, "categories": ["treatment"]},
            headers=headers,
        )
        assert wrong.status_code == 422 and "Part 2" in wrong.json()["detail"]
        unsigned = api.post(
            f"/api/v1/clients/{pid}/consents",
            json={**body, "signature_on_file": False},
            headers=headers,
        )
        assert unsigned.status_code == 422 and "the signature" in unsigned.json()["detail"]
        blank = api.post(
            f"/api/v1/clients/{pid}/consents", json={**body, "signed_by": " "}, headers=headers
        )
        assert blank.status_code == 422 and blank.json()["detail"][0]["field"] == "signed_by"
        assert api.get("/api/v1/clients/999999/consents", headers=headers).status_code == 404


# --- privacy officer ------------------------------------------------------------------------


def test_break_glass_opens_the_whole_record_for_a_time(app, db, program, sign_in):
    officer = sign_in(Role.privacy_officer)
    pid = program.person.id
    assert officer.client.get(f"/clients/{pid}").status_code == 404  # nothing without it

    short = officer.post("/privacy/break-glass", data={"person_id": str(pid), "reason": "look"})
    assert short.status_code == 422 and "at least 20" in short.text
    assert db.exec(select(BreakGlass)).first() is None
    db.commit()

    opened = officer.post(
        "/privacy/break-glass",
        data={"person_id": str(pid), "reason": "Complaint 2024-17: client says notes are wrong."},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    page = officer.client.get(opened.headers["location"])
    assert page.status_code == 200
    assert disclosed_in(page.text) == {c.value for c in Category}
    assert "Access ends" in page.text and REDISCLOSURE_NOTICE in page.text
    read = [e for e in entries(db) if e.tag == DisclosureTag.client_record_read.value][-1]
    assert read.purpose == "oversight" and read.detail["basis"]["treatment"].startswith(
        "break_glass:"
    )

    other = sign_in(Role.privacy_officer)
    assert other.client.get(opened.headers["location"]).status_code == 404


def test_court_order_lets_treatment_reach_the_prosecutor(app, db, program, sign_in):
    privacy = sign_in(Role.privacy_officer)
    pid = program.person.id
    prosecutor = sign_in(user=program.prosecutor)
    assert "treatment" not in disclosed_in(prosecutor.client.get(f"/clients/{pid}").text)
    form = {
        "person_id": str(pid),
        "recipient_agency_id": str(program.prosecution.id),
        "categories": ["treatment"],
        "purposes": ["charging_decision"],
        "court": "Salish County Superior Court",
        "order_reference": "24-1-00017-3",
        "rule": "2.65",
        "scope": "Treatment records, for the charging decision on the pending matter.",
        "issued_on": date.today().isoformat(),
        "expires_on": (date.today() + timedelta(days=30)).isoformat(),
        "judge": "Hon. A. Example",
    }
    copy = {"document": ("order.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")}
    bad = privacy.post("/privacy/court-orders", data={**form, "rule": "subpoena"}, files=copy)
    assert bad.status_code == 422 and "2.64 or 2.65" in bad.text
    recorded = privacy.post("/privacy/court-orders", data=form, files=copy)
    assert recorded.status_code == 200 and "is recorded" in recorded.text
    order = db.exec(select(CourtOrder)).one()
    assert order.rule == "2.65"
    db.commit()
    # Issue 12: in force once a second privacy officer confirms it.
    assert "treatment" not in disclosed_in(prosecutor.client.get(f"/clients/{pid}").text)
    confirmed = sign_in(Role.privacy_officer).post(f"/privacy/court-orders/{order.id}/confirm")
    assert confirmed.status_code == 200 and "is confirmed" in confirmed.text

    page = prosecutor.client.get(f"/clients/{pid}")
    assert "treatment" in disclosed_in(page.text) and REDISCLOSURE_NOTICE in page.text
    assert "health" not in disclosed_in(page.text)
    assert sign_in(Role.case_manager).client.get("/privacy/court-orders").status_code == 403


# --- ways in --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_that_searches_has_the_way_to_it(app, sign_in, role):
    home = sign_in(role).client.get("/")
    can = allowed(role, Action.clients_search)
    nav = home.text.split('aria-label="Main"')[1].split("</nav>")[0]
    assert ('href="/clients/search"' in nav) == can
    main = home.text.split('id="main"')[1]
    assert ('href="/clients/search"' in main) == can
