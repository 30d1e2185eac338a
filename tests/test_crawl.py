"""Crawl the hub as a prosecutor and as an officer on the demo program, and find no treatment,
health or contact information anywhere they can reach (42 CFR 2.12(d), and the program's first
rule: what is shared for care never becomes the basis for enforcement).

The crawl starts at the home page and at every client's record page (a number typed into the
address bar is as reachable as a link), follows every same-origin link and htmx hx-get, GET
only, and checks every answer against the plaintext the database holds, read here with the
data keys, and against the decision table of tests/fixtures/policy_world.py."""

import html
import re
from collections import deque
from datetime import date

import pytest
from sqlmodel import select

from hub.accounts.models import User
from hub.accounts.sessions import viewer_for
from hub.clients.models import CaseNote, HealthRecord, Person, PersonContact, TreatmentRecord
from hub.clients.purposes import RECORD_PURPOSE
from hub.db import utcnow
from hub.demo.program import DEFAULT_SEED, demo_accounts
from hub.disclosure.policy import decide, gather_facts
from hub.vocabulary import Category, Role
from tests.client_world import disclosed_in
from tests.fixtures.demo_copies import demo_database_url
from tests.fixtures.policy_world import CONSENT_STATES, expected_categories

PERSONS = 60
PAGE_LIMIT = 1500  # bounded: a loop in the links fails the test instead of hanging it
FORBIDDEN_CATEGORIES = {Category.treatment, Category.health, Category.contact}
_LINK = re.compile(r'(href|hx-get)="([^"]+)"')
_RECORD = re.compile(r"^/clients/(\d+)(/|$)")


def _account(db, role: Role) -> User:
    email = next(a.email for a in demo_accounts(DEFAULT_SEED) if a.role == role)
    user = db.exec(select(User).where(User.email == email)).one()
    db.commit()
    return user


def _secrets(db) -> set[str]:
    """Every treatment, health and contact value in the database, as plaintext."""
    values: set[str] = set()
    for row in db.exec(select(PersonContact)).all():
        values |= {row.phone or "", row.staying_at or ""}
    for row in db.exec(select(HealthRecord)).all():
        values |= {row.mental_health or "", row.physical_health or ""}
    for row in db.exec(select(TreatmentRecord)).all():
        values |= {row.program, row.notes or ""}
    for note in db.exec(select(CaseNote)).all():
        if note.category in FORBIDDEN_CATEGORIES:
            values.add(note.body)
    db.commit()
    # Short or everyday values ("Asthma") could match innocent text; the demo's are sentences.
    return {v for v in values if len(v) >= 12}


def _links(page: str) -> list[tuple[str, bool]]:
    found = []
    for attribute, url in _LINK.findall(page):
        url = html.unescape(url).split("#")[0]
        if url.startswith("/") and not url.startswith("//") and not url.startswith("/static/"):
            found.append((url, attribute == "hx-get"))
    return found


def crawl(client, starts: list[str]) -> dict[str, tuple[int, str]]:
    queue = deque((url, False) for url in starts)
    seen: dict[str, tuple[int, str]] = {}
    while queue:
        url, htmx = queue.popleft()
        if url in seen:
            continue
        assert len(seen) < PAGE_LIMIT, "the crawl did not end"
        response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
        seen[url] = (response.status_code, response.text)
        if response.status_code == 200:
            queue.extend(link for link in _links(response.text) if link[0] not in seen)
    return seen


@pytest.fixture
def database_url(backend, request, tmp_path_factory):
    """A copy of one demo build per process (tests/fixtures/demo_copies.py)."""
    yield from demo_database_url(backend, request, tmp_path_factory, PERSONS, date.today())


@pytest.fixture
def demo(db):
    return [p.id for p in db.exec(select(Person)).all()]


@pytest.mark.parametrize("role", [Role.prosecutor, Role.officer])
def test_no_treatment_health_or_contact_anywhere_they_can_reach(db, demo, sign_in, role):
    user = _account(db, role)
    me = sign_in(user=user)
    secrets = _secrets(db)
    assert secrets, "the demo has treatment, health and contact data to look for"
    purpose = RECORD_PURPOSE[role]
    # The decision table's most for this role and purpose, over every relationship and consent.
    most = set().union(
        *(
            expected_categories(role, purpose, related, consent)
            for related in (True, False)
            for consent in CONSENT_STATES
        )
    )
    assert not most & {Category.treatment, Category.health}
    viewer = viewer_for(db, user)
    db.commit()

    pages = crawl(me.client, ["/", *(f"/clients/{pid}" for pid in demo)])

    assert any(_RECORD.match(url) and status == 200 for url, (status, _) in pages.items()), (
        "the crawl reached no client record: it proves nothing"
    )
    for url, (status, text) in pages.items():
        # 204: a live fragment with nothing new (the work-group poll) carries no content at all.
        assert status in (200, 204, 403, 404), f"{url} answered {status}"
        shown = disclosed_in(text)
        assert not shown & {"treatment", "health", "contact"}, url
        assert shown <= {c.value for c in most}, f"{url} shows {shown - {c.value for c in most}}"
        for value in secrets:
            assert value not in text and html.escape(value) not in text, f"{url} leaks data"
        record = _RECORD.match(url)
        if record and status == 200:
            decision = decide(
                viewer, gather_facts(db, viewer, int(record.group(1)), utcnow()), purpose
            )
            db.commit()
            assert shown <= {c.value for c in decision.disclosed}, url
