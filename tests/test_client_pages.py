"""Client pages and their htmx fragments, against the authorization matrix: for every role x
relationship x consent state (absent, present, revoked, expired, 2.35), at the purpose the
role's client routes are fixed to, exactly the expected categories carry data-disclosure, the
others say why they are withheld, the Part 2 notice follows the treatment data, and every
read wrote its log entry with that purpose. The expectations are tests/fixtures/policy_world.py's.
"""

import pytest

from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.vocabulary import Category, DisclosureTag, Role
from tests import client_world
from tests.client_world import (
    ROWS,
    disclosed_in,
    expected,
    route_purpose,
    withheld_in,
)
from tests.fixtures import policy_world

# Module fixtures: one database per backend for the whole module.
world = policy_world.world
served = client_world.served

C = Category
NOTICE_MARK = "data-part2-notice"


def _check_logged(served, role, person_id, before, categories):
    entry = served.last_entry()
    assert entry is not None and entry.seq == before.seq + 1, "the read wrote no log entry"
    assert entry.tag == DisclosureTag.client_record_read.value
    purpose = route_purpose(role)
    assert purpose is not None and entry.purpose == purpose.value
    assert entry.person_id == person_id
    assert entry.actor_user_id == served.world.viewers[role].user_id
    assert set(entry.categories) == {c.value for c in categories}


@pytest.mark.parametrize(("role", "related", "consent"), ROWS)
def test_record_page_shows_exactly_what_the_matrix_allows(served, role, related, consent):
    case = served.case(role, related, consent)
    browser = served.browsers[role]
    want = expected(role, related, consent)
    before = served.last_entry()

    response = browser.get(f"/clients/{case.person_id}")

    if route_purpose(role) is None:
        assert response.status_code == 403
        # Refused at the door: nothing read, only the refusal itself logged.
        assert served.only_denials_since(before)
        return
    if C.identity not in want:
        # Not even the record's existence: the same answer as for an unknown number.
        assert response.status_code == 404
        assert disclosed_in(response.text) == set()
        _check_logged(served, role, case.person_id, before, set())
        return
    assert response.status_code == 200
    assert disclosed_in(response.text) == {c.value for c in want}
    assert withheld_in(response.text) == {c.value for c in C} - {c.value for c in want}
    assert response.text.count("Withheld: ") == len(C) - len(want)
    assert (NOTICE_MARK in response.text) == (C.treatment in want)
    if C.treatment in want:
        assert REDISCLOSURE_NOTICE in response.text
    _check_logged(served, role, case.person_id, before, want)


@pytest.mark.parametrize(("role", "related", "consent"), ROWS)
def test_each_section_fragment_shows_and_logs_only_its_category(served, role, related, consent):
    case = served.case(role, related, consent)
    browser = served.browsers[role]
    want = expected(role, related, consent)
    for category in C:
        before = served.last_entry()
        response = browser.get(
            f"/clients/{case.person_id}/sections/{category.value}", headers={"HX-Request": "true"}
        )
        if route_purpose(role) is None:
            assert response.status_code == 403
            assert served.only_denials_since(before)
            continue
        if C.identity not in want:
            assert response.status_code == 404
            assert disclosed_in(response.text) == set()
            _check_logged(served, role, case.person_id, before, set())
            continue
        assert response.status_code == 200, category
        assert "<html" not in response.text  # a fragment, not a page
        shown = {category} & want
        assert disclosed_in(response.text) == {c.value for c in shown}, category
        assert withheld_in(response.text) == {category.value} - {c.value for c in shown}
        # 42 CFR 2.32: a fragment with treatment data carries the notice itself.
        assert (NOTICE_MARK in response.text) == (category in want and category == C.treatment)
        # HIPAA accounting: the fragment's read is logged as the one category it showed.
        _check_logged(served, role, case.person_id, before, shown)


@pytest.mark.parametrize(("role", "related", "consent"), ROWS)
def test_notes_page_lists_the_notes_of_visible_categories(served, role, related, consent):
    case = served.case(role, related, consent)
    want = expected(role, related, consent)
    before = served.last_entry()
    response = served.browsers[role].get(f"/clients/{case.person_id}/notes")
    if route_purpose(role) is None:
        assert response.status_code == 403
        return
    if C.identity not in want:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    # One note per category on every matrix client, plus the name in the heading.
    assert disclosed_in(response.text) == {c.value for c in want}
    assert (NOTICE_MARK in response.text) == (C.treatment in want)
    _check_logged(served, role, case.person_id, before, want)


@pytest.mark.parametrize("role", [r for r in Role if route_purpose(r) is not None])
def test_an_unknown_client_is_the_same_404(served, role):
    response = served.browsers[role].get("/clients/999999")
    assert response.status_code == 404
    assert "No client record you may see" in response.text
    assert served.browsers[role].get("/clients/99999999999").status_code == 422
