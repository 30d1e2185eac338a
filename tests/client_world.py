"""The world of tests/fixtures/policy_world.py (a viewer of every role, and for each role one
client per consent state x relationship), served: an application on that database, a
signed-in browser session and an API token for every role. Used by the page and API matrices,
one database per module and backend.

The expectations are the matrix's own (`expected_categories`), read for the purpose each role's
client routes are fixed to (hub.clients.purposes): the pages and the API are checked against
the same independent table as the policy layer."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from hub.accounts.models import User
from hub.accounts.own_access import create_api_token
from hub.accounts.sessions import start_session
from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.clients.purposes import RECORD_PURPOSE
from hub.settings import get_settings
from hub.vocabulary import Category, Purpose, Role, SecurityEventTag, TokenScope
from tests.audit_support import engine_of
from tests.conftest import reset_caches
from tests.fixtures.policy_world import CONSENT_STATES, Case, World, expected_categories

# Every row of the matrix: role x relationship x consent state (the purpose is the route's).
ROWS = [
    pytest.param(
        role, related, consent, id=f"{role.value}-{'related' if related else 'other'}-{consent}"
    )
    for role in Role
    for related in (True, False)
    for consent in CONSENT_STATES
]

_DISCLOSED = re.compile(r'data-disclosure="([a-z_]+)"')
_WITHHELD = re.compile(r'data-withheld="([a-z_]+)"')


def disclosed_in(html: str) -> set[str]:
    return set(_DISCLOSED.findall(html))


def withheld_in(html: str) -> set[str]:
    return set(_WITHHELD.findall(html))


@dataclass
class Served:
    world: World
    app: Any
    browsers: dict[Role, TestClient]
    csrf: dict[Role, str]
    api: dict[Role, TestClient]

    def case(self, role: Role, related: bool, consent: str) -> Case:
        return next(
            c for c in self.world.cases[role] if c.related == related and c.consent == consent
        )

    def last_entry(self) -> LogEntry | None:
        session = self.world.session
        entry = session.exec(select(LogEntry).order_by(col(LogEntry.seq).desc()).limit(1)).first()
        session.commit()  # SQLite: release the lock before the app writes again
        return entry

    def only_denials_since(self, before: LogEntry | None) -> bool:
        """Whether every entry after `before` records a refusal at the door (authz:access:denied)
        and none discloses anything about a client."""
        session = self.world.session
        after = -1 if before is None else before.seq
        entries = session.exec(select(LogEntry).where(col(LogEntry.seq) > after)).all()
        session.commit()
        return all(
            e.tag == SecurityEventTag.access_denied.value and e.person_id is None for e in entries
        )

    def user(self, role: Role) -> User:
        user = self.world.session.get(User, self.world.viewers[role].user_id)
        self.world.session.commit()
        assert user is not None
        return user


def route_purpose(role: Role) -> Purpose | None:
    return RECORD_PURPOSE.get(role)


def expected(role: Role, related: bool, consent: str) -> set[Category]:
    purpose = route_purpose(role)
    return set() if purpose is None else expected_categories(role, purpose, related, consent)


@pytest.fixture(scope="module")
def served(world: World) -> Iterator[Served]:
    url = engine_of(world.session).url.render_as_string(hide_password=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HUB_DATABASE_URL", url)
        reset_caches()
        from hub.web.app import create_app

        app = create_app()
        browsers: dict[Role, TestClient] = {}
        csrf: dict[Role, str] = {}
        api: dict[Role, TestClient] = {}
        for role, viewer in world.viewers.items():
            user = world.session.get(User, viewer.user_id)
            assert user is not None
            token, record = start_session(
                world.session, user, mfa_passed=True, address="testclient", user_agent="pytest"
            )
            csrf[role] = record.csrf_token
            world.session.commit()
            browser = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
            browser.__enter__()
            browser.cookies.set(get_settings().session_cookie_name, token)
            browsers[role] = browser
            bearer = create_api_token(
                world.session,
                Actor(request_id="matrix"),
                user,
                "matrix",
                30,
                scope=TokenScope.read_write,
            )
            client = TestClient(
                app,
                base_url="https://testserver",
                raise_server_exceptions=False,
                headers={"Authorization": f"Bearer {bearer}"},
            )
            client.__enter__()
            api[role] = client
        yield Served(world=world, app=app, browsers=browsers, csrf=csrf, api=api)
        for client in [*browsers.values(), *api.values()]:
            client.__exit__(None, None, None)
        from hub.db import get_engine

        get_engine().dispose()  # the app's engine: no connection outlives the module's database
    reset_caches()
