"""Which scope each /api/v1 route needs from an agency system's token: the route's area (its
router's tag: referrals, clients, charging) and whether it reads or writes (a GET, or a POST
marked as reading only, reads). A route outside every scope is refused to every client token:
deny by default."""

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from hub.accounts.sessions import Viewer
from hub.audit.log import append_refusal
from hub.vocabulary import ClientScope, TokenScope
from hub.web.dependencies import DB, SAFE_METHODS, log_actor, optional_viewer

SCOPE_REFUSAL = "This client's token does not carry the scope this route needs."


def route_scope(route: Any, method: str) -> ClientScope | None:
    """The scope a client token needs for this route and method, None if no scope opens it."""
    tags = getattr(route, "tags", None) or []
    reads = (
        method in SAFE_METHODS
        or (getattr(route, "openapi_extra", None) or {}).get("x-token-scope") == TokenScope.read
    )
    for tag in tags:
        try:
            return ClientScope(f"{tag}:{'read' if reads else 'write'}")
        except ValueError:
            continue
    return None


async def refuse_out_of_scope(
    request: Request, db: DB, viewer: Annotated[Viewer | None, Depends(optional_viewer)]
) -> None:
    """A client token without the route's scope is refused (403), and the refusal logged."""
    if viewer is None or viewer.client_scopes is None:
        return
    needed = route_scope(request.scope.get("route"), request.method)
    if needed is not None and needed.value in viewer.client_scopes:
        return
    detail = {
        "action": "api:client_scope",
        "path": request.url.path,
        "scope": needed.value if needed else None,
    }
    await run_in_threadpool(append_refusal, db, log_actor(request, viewer), detail)
    raise HTTPException(status.HTTP_403_FORBIDDEN, SCOPE_REFUSAL)
