"""The client API against the authorization matrix, as the pages are (tests/test_client_pages.py):
for every role x relationship x consent state, at the purpose the role's routes are fixed to,
exactly the expected categories are present, every other one is {"withheld": true, "reason"},
a response with treatment data carries the 42 CFR 2.32 notice, and every read is logged."""

import pytest
from fastapi.testclient import TestClient

from hub.clients.models import Person
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.vocabulary import Category, DisclosureTag, Role, WithheldReason
from tests import client_world
from tests.client_world import (
    ROWS,
    expected,
    route_purpose,
)
from tests.fixtures import policy_world

# Module fixtures: one database per backend for the whole module.
world = policy_world.world
served = client_world.served

C = Category


def _logged(served, role, person_id, before, categories):
    entry = served.last_entry()
    assert entry is not None and entry.seq == before.seq + 1, "the read wrote no log entry"
    assert entry.tag == DisclosureTag.client_record_read.value
    purpose = route_purpose(role)
    assert purpose is not None and entry.purpose == purpose.value
    assert entry.person_id == person_id
    assert set(entry.categories) == {c.value for c in categories}
    return entry


@pytest.mark.parametrize(("role", "related", "consent"), ROWS)
def test_record_has_exactly_the_categories_the_matrix_allows(served, role, related, consent):
    case = served.case(role, related, consent)
    want = expected(role, related, consent)
    before = served.last_entry()

    response = served.api[role].get(f"/api/v1/clients/{case.person_id}")

    if route_purpose(role) is None:
        assert response.status_code == 403
        assert response.json()["detail"]
        return
    if C.identity not in want:
        assert response.status_code == 404
        assert set(response.json()) == {"detail", "request_id"}
        _logged(served, role, case.person_id, before, set())
        return
    assert response.status_code == 200
    body = response.json()
    purpose = route_purpose(role)
    assert purpose is not None and body["purpose"] == purpose.value
    present = {c for c in C if body[c.value]["withheld"] is False}
    assert present == want
    for category in set(C) - want:
        section = body[category.value]
        assert set(section) == {"withheld", "reason", "explanation"}
        assert WithheldReason(section["reason"]) != WithheldReason.not_requested
    assert {n["category"] for n in body["notes"]} == {c.value for c in want}
    assert body["part2"] == (C.treatment in want)
    assert body["redisclosure_notice"] == (REDISCLOSURE_NOTICE if C.treatment in want else None)
    entry = _logged(served, role, case.person_id, before, want)
    assert body["log_seq"] == entry.seq


@pytest.mark.parametrize(("role", "related", "consent"), ROWS)
def test_notes_list_has_the_notes_of_visible_categories(served, role, related, consent):
    case = served.case(role, related, consent)
    want = expected(role, related, consent)
    before = served.last_entry()
    response = served.api[role].get(f"/api/v1/clients/{case.person_id}/notes")
    if route_purpose(role) is None:
        assert response.status_code == 403
        return
    if C.identity not in want:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    body = response.json()
    assert {n["category"] for n in body["notes"]} == {c.value for c in want}
    assert body["redisclosure_notice"] == (REDISCLOSURE_NOTICE if C.treatment in want else None)
    _logged(served, role, case.person_id, before, want)


@pytest.mark.parametrize("role", list(Role))
def test_search_finds_only_identities_the_role_may_see(served, role):
    """Every matrix client of this role searched by date of birth: those whose identity the
    matrix allows come back, with identity only; the others do not."""
    before = served.last_entry()
    found = set()
    for case in served.world.cases[role]:
        person = served.world.session.get(Person, case.person_id)
        served.world.session.commit()
        response = served.api[role].post(
            "/api/v1/clients/search",
            json={"name": person.last_name, "date_of_birth": person.date_of_birth.isoformat()},
        )
        purpose = route_purpose(role)
        if purpose is None:
            assert response.status_code == 403
            continue
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["purpose"] == purpose.value
        for hit in body["results"]:
            assert set(hit) == {"person_id", "identity"}
            assert set(hit["identity"]) == {
                "withheld",
                "first_name",
                "last_name",
                "date_of_birth",
                "aliases",
            }
        if any(h["person_id"] == case.person_id for h in body["results"]):
            found.add(case.person_id)
    want = {
        c.person_id
        for c in served.world.cases[role]
        if C.identity in expected(role, c.related, c.consent)
    }
    assert found == want
    if route_purpose(role) is None:
        assert served.only_denials_since(before)


def test_api_needs_a_token_and_pages_ignore_one(served):
    with TestClient(served.app, base_url="https://testserver") as anonymous:
        response = anonymous.get("/api/v1/clients/1")
        assert response.status_code == 401
        assert response.json()["detail"] == "A valid bearer token is required."
        # A token opens /api/ only: the page asks for a session instead.
        page = anonymous.get(
            "/clients/1",
            headers={"Authorization": served.api[Role.coordinator].headers["Authorization"]},
            follow_redirects=False,
        )
        assert page.status_code == 303 and page.headers["location"] == "/sign-in"
