"""Every route of the app, driven by hypothesis with extreme numbers, odd dates and strange text
in its path, query string and form fields, answers without a server error (no 5xx), on SQLite
and PostgreSQL.

Each route is called by a role that may use it (from its `require(Action.X)` and
hub.permissions.GRANTS), signed in afresh for every call (a route may end the session), so the
values reach the route's own validation and code rather than a 403. JSON bodies are left to
schemathesis (tests/test_api_schemathesis.py); here an API route gets its path and query
values and an empty body. Derandomized: the same examples on every run."""

import re
import urllib.parse
from dataclasses import dataclass, fields
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from hub.accounts.models import Agency
from hub.accounts.own_access import create_api_token
from hub.accounts.sessions import start_session
from hub.audit.log import Actor
from hub.permissions import GRANTS
from hub.privacy.search import LogFilter
from hub.settings import get_settings
from hub.vocabulary import Action, Role, UserStatus
from tests.routes import calls, flat_routes, is_public, parameters
from tests.signing_in import csrf_of

EXAMPLES_PER_ROUTE = 12

NUMBERS = [0, -1, 1, 2, 3, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30, -(2**63) - 1]
MOMENTS = [
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-13-01",
    "2026-01-01T00:00:00",
    "2026-01-01T00:00:00Z",
    "9999-12-31T23:59",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+01:00",
    "1764201600",
]
ODD_TEXT = ["", " ", "\x00", "a\x00b", "x" * 5000, "é" * 300, "𝄞", "\u202e", "nan", "1e400", "-0"]

# Plain values first: hypothesis starts from the simplest, so a route's first call passes its
# validation and later ones mix plain and extreme values, reaching past it.
PLAIN = ["1", "2", "x", "2026-12-10", "2026-12-10T10:00", "housing", "none", "csv"]

values = st.one_of(
    st.sampled_from(PLAIN),
    st.sampled_from([str(n) for n in NUMBERS]),
    st.sampled_from(MOMENTS),
    st.sampled_from(ODD_TEXT),
    st.integers().map(str),
    # Any text a URL or form can carry as UTF-8 (lone surrogates cannot be encoded at all).
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
)


# Routes that read their form whole rather than field by field: the fields they look for.
_FILTERS = tuple((f.name, False) for f in fields(LogFilter))
UNDECLARED_FORMS = {
    "/privacy/log": (*_FILTERS, ("before", False)),
    "/privacy/log/export": (*_FILTERS, ("format", False)),
}


@dataclass(frozen=True)
class Target:
    method: str
    path: str
    role: Role | None  # None: a public route, called without a session
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    form_fields: tuple[tuple[str, bool], ...]  # (name, takes several values)
    json_body: bool

    def __str__(self) -> str:
        return f"{self.method} {self.path} as {self.role.value if self.role else 'anyone'}"


def _role_for(dependant: Any) -> Role:
    actions = {
        Action[call.__name__.removeprefix("require_")]
        for call in calls(dependant)
        if getattr(call, "__name__", "").startswith("require_")
    }
    for role in Role:
        if all(role in GRANTS.get(action, frozenset()) for action in actions):
            return role
    raise AssertionError(f"no role holds all of {actions}")


def _is_list(annotation: Any) -> bool:
    return "list[" in str(annotation)


def _form_fields(dependant: Any) -> tuple[tuple[tuple[str, bool], ...], bool]:
    fields: list[tuple[str, bool]] = []
    json_body = False
    for field in parameters(dependant, "body_params"):
        annotation = field.field_info.annotation
        model = annotation if isinstance(annotation, type) else None
        if model is not None and issubclass(model, BaseModel):
            if type(field.field_info).__name__ == "Form":
                fields.extend(
                    (name, _is_list(f.annotation)) for name, f in model.model_fields.items()
                )
            else:
                json_body = True
        elif type(field.field_info).__name__ == "Form":
            fields.append((field.alias, _is_list(annotation)))
        else:
            json_body = True
    return tuple(f for f in fields if f[0] != "csrf_token"), json_body


def targets(app: Any) -> list[Target]:
    found = []
    for route in flat_routes(app):
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue  # /static, the OpenAPI document: no parameters of ours
        form_fields, json_body = _form_fields(dependant)
        for method in sorted(route.methods):
            found.append(
                Target(
                    method=method,
                    path=route.path,
                    role=None if is_public(route.path) else _role_for(dependant),
                    path_params=tuple(p.alias for p in parameters(dependant, "path_params")),
                    query_params=tuple(p.alias for p in parameters(dependant, "query_params")),
                    form_fields=form_fields + UNDECLARED_FORMS.get(route.path, ()),
                    json_body=json_body,
                )
            )
    return found


def _fill(path: str, name: str, value: str) -> str:
    # {name} or {name:int}; the value percent-encoded as a browser would (a NUL as %00).
    return re.sub(r"\{" + name + r"(:[a-z]+)?\}", urllib.parse.quote(value, safe=""), path)


class Driver:
    """Calls a target as its role, with a fresh session (and CSRF token) for every call."""

    def __init__(self, app: Any, db: Any, factories: Any, users: dict[Role, Any]) -> None:
        self.db = db
        self.factories = factories
        self.users = dict(users)
        self.client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
        self.tokens = {role: self._token(user) for role, user in users.items()}

    def _token(self, user: Any) -> str:
        token = create_api_token(self.db, Actor(request_id="bad-input"), user, "bad input", 1)
        self.db.commit()
        return token

    def user(self, role: Role) -> Any:
        """The role's user, or a new one in its agency when a drawn number has disabled it,
        reset its second factor or changed its role (an admin route given a small id)."""
        user = self.users[role]
        self.db.refresh(user)
        self.db.commit()
        if user.role == role and user.status == UserStatus.active and user.mfa_enrolled_at:
            return user
        agency = self.db.get(Agency, user.agency_id)
        self.db.commit()
        user = self.users[role] = self.factories.User(role=role, agency=agency)
        self.tokens[role] = self._token(user)
        return user

    def call(self, target: Target, path: str, query: dict[str, str], form: dict[str, Any]) -> Any:
        client = self.client
        client.cookies.clear()
        headers: dict[str, str] = {}
        if target.role is None:
            if target.method == "POST":
                form = {**form, "csrf_token": csrf_of(client.get("/sign-in"))}
        elif path.startswith("/api/"):
            self.user(target.role)
            headers["Authorization"] = f"Bearer {self.tokens[target.role]}"
        else:
            token, record = start_session(
                self.db,
                self.user(target.role),
                mfa_passed=True,
                address="testclient",
                user_agent="pytest",
            )
            self.db.commit()
            client.cookies.set(get_settings().session_cookie_name, token)
            headers["X-CSRF-Token"] = record.csrf_token
        return client.request(
            target.method,
            path,
            params=query,
            data=form or None,
            json={} if target.json_body else None,
            headers=headers,
            follow_redirects=False,
        )


@pytest.fixture
def users(db, world) -> dict[Role, Any]:
    world.add_user("admin", Role.admin, "program_office")
    world.add_user("defender_supervisor", Role.defender_supervisor, "defense")
    # Some rows, so that small numbers name real records as well as none.
    world.arrest()
    world.arrest()
    named = {
        Role.officer: "officer",
        Role.sergeant: "sergeant",
        Role.case_manager: "case_manager",
        Role.case_manager_supervisor: "supervisor",
        Role.prosecutor: "county_prosecutor",
        Role.defender: "defender",
        Role.coordinator: "coordinator",
        Role.privacy_officer: "privacy_officer",
        Role.admin: "admin",
        Role.defender_supervisor: "defender_supervisor",
    }
    return {role: world.users[name] for role, name in named.items()}


def test_the_targets_cover_every_route_with_a_role_that_may_use_it(app):
    found = targets(app)
    assert len({t.path for t in found}) > 100
    matter = next(t for t in found if t.path == "/charging/matters/{matter_id}")
    assert matter.role == Role.prosecutor and matter.path_params == ("matter_id",)
    meeting = next(t for t in found if t.path == "/work-group/meetings" and t.method == "POST")
    assert ("invitees", True) in meeting.form_fields and ("starts_at", False) in meeting.form_fields
    arrest = next(t for t in found if t.path == "/referrals/new/arrest" and t.method == "POST")
    assert ("case_management_agency_id", False) in arrest.form_fields


def drive(driver: Driver, target: Target, errors: Any) -> Any:
    """A hypothesis run of one target: EXAMPLES_PER_ROUTE calls with drawn values."""

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        path = target.path
        for name in target.path_params:
            path = _fill(path, name, data.draw(values, label=name))
        query = {name: data.draw(values, label=name) for name in target.query_params}
        form: dict[str, Any] = {}
        for name, several in target.form_fields:
            if several:
                form[name] = data.draw(st.lists(values, max_size=2), label=name)
            else:
                form[name] = data.draw(values, label=name)
        response = driver.call(target, path, query, form)
        assert response.status_code < 500, (
            f"{target}: {response.status_code} for {path} {query} {form}; log: {errors()}"
        )

    return run


# The routes are driven in shards, each a test of its own, so that xdist workers share them.
SHARDS = 6


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_route_answers_a_server_error(app, db, factories, users, caplog, shard):
    driver = Driver(app, db, factories, users)
    found = targets(app)
    for target in found[shard::SHARDS]:
        drive(
            driver,
            target,
            lambda: [r.getMessage() for r in caplog.records if r.levelname == "ERROR"][-3:],
        )()
    driver.client.close()
