"""The app's routes, flattened, for tests that inspect them."""

from typing import Any

from fastapi import FastAPI


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
