"""Permissions are declared, not sprinkled (STYLE.md): a route added without
`Depends(current_viewer)` or `Depends(require(Action.X))` fails this test, unless it is on the
short list of public routes below. And every Action is granted somewhere (datasette's conftest
fails the run on an unregistered action), so `require(Action.X)` never silently admits nobody."""

import inspect
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI

from hub.permissions import GRANTS
from hub.vocabulary import Action, Role
from hub.web.app import create_app
from hub.web.dependencies import current_viewer
from tests.routes import PUBLIC_PATHS, calls, flat_routes, is_public, route_paths


def declares_viewer(route: Any) -> bool:
    # require(Action.X) itself depends on current_viewer, so one search covers both.
    dependant = getattr(route, "dependant", None)
    return dependant is not None and current_viewer in set(calls(dependant))


def undeclared(app: FastAPI) -> list[str]:
    return sorted(
        f"{' '.join(sorted(getattr(route, 'methods', None) or ['*']))} {route.path}"
        for route in flat_routes(app)
        if not is_public(route.path) and not declares_viewer(route)
    )


def test_every_route_declares_who_may_use_it():
    assert undeclared(create_app()) == [], (
        "these routes declare no viewer: add Depends(require(Action.X)) (or CurrentViewer), "
        "or, if they must be public, add them to PUBLIC_PATHS with a reason"
    )


def test_the_check_catches_an_undeclared_route():
    app = create_app()
    sneaky = APIRouter()

    @sneaky.get("/clients/export")
    def export() -> dict[str, str]:
        return {}

    @sneaky.get("/sign-inx")  # looks public, is not
    def lookalike() -> dict[str, str]:
        return {}

    app.include_router(sneaky)
    assert undeclared(app) == ["GET /clients/export", "GET /sign-inx"]


def test_the_public_routes_exist():
    paths = route_paths(create_app())
    assert PUBLIC_PATHS - paths == set(), "drop public paths that no longer exist"


def test_every_action_is_granted():
    assert set(Action) - set(GRANTS) == set()


@pytest.mark.parametrize("action", list(GRANTS))
def test_grants_name_roles(action):
    assert GRANTS[action], f"{action} is granted to no role"
    assert all(isinstance(role, Role) for role in GRANTS[action])


@pytest.mark.parametrize("action", [a for a in Action if a.value.startswith("clients:")])
def test_the_admin_holds_no_client_data_action(action):
    # Separation of duties: the admin manages accounts and sees no client data.
    assert Role.admin not in GRANTS[action]


def test_a_refused_route_is_logged_as_a_denied_attempt(db, sign_in):
    # ASVS V16 and the privacy console's "denied attempts" flag: every refusal leaves a trace,
    # naming the action and the path (record numbers at most), never client data.
    from sqlmodel import select

    from hub.audit.models import LogEntry
    from hub.vocabulary import Role, SecurityEventTag

    officer = sign_in(Role.officer)
    assert officer.client.get("/admin/users").status_code == 403
    db.expire_all()
    (entry,) = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.access_denied.value)
    ).all()
    assert entry.outcome == "denied"
    assert entry.actor_user_id == officer.user.id and entry.actor_role == "officer"
    assert entry.detail == {"action": "admin:users:manage", "path": "/admin/users"}


def async_routes_reading_the_database(app: FastAPI) -> list[str]:
    from hub.web.dependencies import database

    return sorted(
        route.path
        for route in flat_routes(app)
        if (dependant := getattr(route, "dependant", None)) is not None
        and inspect.iscoroutinefunction(dependant.call)
        and any(dependency.call is database for dependency in dependant.dependencies)
    )


def test_no_route_reads_the_database_on_the_event_loop():
    """An `async def` route runs on the event loop. A query there that waits for SQLite's write
    lock stalls every request of the worker, the lock's holder included, until the busy timeout
    (bench/crash.py found a privacy officer's search freezing the hub for 30 s). Routes that
    read the database are plain `def`, which FastAPI runs in the threadpool; awaiting the form
    goes in a dependency (hub/privacy/routes.py, `FormFields`)."""
    assert async_routes_reading_the_database(create_app()) == []


def test_the_check_catches_an_async_route_with_the_database():
    from hub.web.dependencies import DB

    app = create_app()
    hasty = APIRouter()

    @hasty.get("/hasty")
    async def hasty_page(db: DB) -> dict[str, str]:
        return {}

    app.include_router(hasty)
    assert async_routes_reading_the_database(app) == ["/hasty"]
