"""The app's routes, flattened, for tests that inspect them, and which of them are public."""

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant


def flat_routes(app: FastAPI) -> list[Any]:
    """Every route with the dependencies it really runs (the app's own included), whether or
    not this FastAPI includes routers lazily."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazy include_router: app.routes is already flat
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def route_paths(app: FastAPI) -> set[str]:
    return {route.path for route in flat_routes(app)}


def parameters(dependant: Any, kind: str) -> list[Any]:
    """A route's parameters of one kind ("path_params", "query_params", "body_params"), its
    dependencies' included."""
    found = list(getattr(dependant, kind))
    for sub in dependant.dependencies:
        found.extend(parameters(sub, kind))
    return found


# Reachable without signing in. Adding to this list is a security decision: say why in the commit.
# /healthz/page renders a fixed template with no database, session or client data: the load
# test's ceiling (bench/load) and a check that the process can render.
PUBLIC_PATHS = frozenset({"/healthz", "/healthz/page", "/static", "/api/openapi.json", "/api/docs"})
# /sign-in and /sign-in/... (second factor, enrolment); /sign-out ends whatever session the
# cookie names and must work when that session has already timed out (CSRF still applies).
# /log/... serves the log read-only in the C2SP tlog-tiles layout for monitors and witnesses,
# who have no account: checkpoints, tiles of hashes, and entries' public parts and personal
# digests only, never a personal part (hub/audit/routes.py).
# /oauth/token and /oauth/revoke (hub/apiclients/oauth.py): an agency system authenticates
# itself with its client id and secret in the request (RFC 6749 2.3), not with a session or a
# bearer token; a client not yet approved by a second person, or disabled, gets nothing.
PUBLIC_PREFIXES = ("/sign-in", "/sign-out", "/log", "/oauth")


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or any(
        path == prefix or path.startswith(f"{prefix}/") for prefix in PUBLIC_PREFIXES
    )


def calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from calls(dependency)
