"""What every JSON API router shares: the error body, the documented error answers and the
bearer scheme, so that /api/openapi.json tells a client system the truth about each route."""

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, Security, status
from fastapi.security import HTTPBearer
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field
from starlette.concurrency import run_in_threadpool

from hub.accounts.sessions import Viewer
from hub.apiclients.scopes import refuse_out_of_scope
from hub.audit.log import append_refusal
from hub.db import MAX_LOG_SEQ, MAX_RECORD_ID
from hub.vocabulary import TokenScope
from hub.web.dependencies import DB, SAFE_METHODS, log_actor, optional_viewer


class Problem(BaseModel):
    field: str
    problem: str


class ApiError(BaseModel):
    """Every error: a message for a person (or the invalid fields), and the request id."""

    detail: str | list[Problem]
    request_id: str | None = None


def api_errors(not_found: str = "No such record for this token.") -> dict[int | str, Any]:
    """The error answers every /api/v1 route may give (hub.web.app renders them)."""
    return {
        status.HTTP_400_BAD_REQUEST: {"model": ApiError, "description": "The body is not JSON."},
        status.HTTP_401_UNAUTHORIZED: {"model": ApiError, "description": "No valid bearer token."},
        status.HTTP_403_FORBIDDEN: {
            "model": ApiError,
            "description": "The role does not allow it.",
        },
        status.HTTP_404_NOT_FOUND: {"model": ApiError, "description": not_found},
        status.HTTP_409_CONFLICT: {
            "model": ApiError,
            "description": "The state does not allow it.",
        },
        status.HTTP_422_UNPROCESSABLE_CONTENT: {
            "model": ApiError,
            "description": "The request is not valid; nothing changed.",
        },
    }


# The paged lists name their next page in a Link header (RFC 8288), as a browser's "next" link.
NEXT_PAGE: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "Link": {
                "description": 'The next page, as a URL with rel="next"; absent on the last page.',
                "schema": {"type": "string"},
            }
        }
    }
}

# Documents the bearer scheme in the OpenAPI schema; hub.web.dependencies checks the token.
BEARER = Security(HTTPBearer(auto_error=False, description="A token from `hub users token`."))

# Record numbers are INTEGER columns: 32-bit on PostgreSQL (hub.db.MAX_RECORD_ID). In a path
# from 0: no record is 0, so it is a 404, as the API has always answered it.
RecordId = Annotated[int, Path(ge=0, le=MAX_RECORD_ID)]


def _json_integer(value: object) -> object:
    # A JSON integer, as JSON Schema reads one: 12 or 12.0, never true or "12".
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a record number is a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("a record number is a whole number")
        return int(value)
    return value


RecordRef = Annotated[int, Field(ge=1, le=MAX_RECORD_ID), BeforeValidator(_json_integer)]
# A log entry's seq (from 0, BIGINT) and a code from a published list (HUD HMIS), in a body.
LogRef = Annotated[int, Field(ge=0, le=MAX_LOG_SEQ), BeforeValidator(_json_integer)]
CodeRef = Annotated[int, Field(ge=0, le=MAX_RECORD_ID), BeforeValidator(_json_integer)]


def _iso_only(value: object) -> object:
    # JSON has no dates: a date is a "YYYY-MM-DD" string (a moment, ISO 8601), never a number
    # that pydantic would read as a Unix timestamp.
    if not isinstance(value, str | date):
        raise ValueError("write dates as ISO 8601 text, e.g. 2026-11-27 or 2026-11-27T09:00:00Z")
    if isinstance(value, str) and not _ISO.match(value):
        raise ValueError("write dates as ISO 8601 text, e.g. 2026-11-27 or 2026-11-27T09:00:00Z")
    return value


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
IsoDate = Annotated[date, BeforeValidator(_iso_only)]


def _in_utc(value: datetime) -> datetime:
    # A moment without its zone is ambiguous (the site's? the caller's? UTC?) and a store of
    # UTC cannot compare it: the calling system says which zone it means.
    if value.tzinfo is None:
        raise ValueError(
            "a moment needs its time zone, e.g. 2026-11-27T09:00:00Z or 2026-11-27T01:00:00-08:00"
        )
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the moment is outside the years 1 to 9999 in UTC") from None


# A moment in time (a query's `since`): ISO 8601 with its zone, read as UTC. Date alone is
# refused as well: its midnight would be in no zone.
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_in_utc)]


# Text in a JSON body: no NUL character (PostgreSQL cannot store one: it answered 500), said
# in the schema so that a client, and schemathesis, can tell a valid request from an invalid one.
NulFree = Annotated[str, Field(pattern=r"^[^\x00]*$")]


def refuse_unknown_query(request: Request) -> None:
    """A query parameter the route does not declare is a mistake in the calling system: say so
    rather than silently ignore it (bad input gets a clear error and changes nothing)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = {param.alias for param in _query_params(dependant)}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"unknown query parameter: {', '.join(unknown)[:200]}",
        )


def _query_params(dependant: Any) -> list[Any]:
    found = list(dependant.query_params)
    for sub in dependant.dependencies:
        found.extend(_query_params(sub))
    return found


# A POST that only reads (a search whose terms must not travel in the URL) says so:
# `@router.post(..., openapi_extra=READS_ONLY)`. Every other POST is a write.
READS_ONLY: dict[str, Any] = {"x-token-scope": TokenScope.read.value}
READ_ONLY_REFUSAL = "This token may only read; ask for a token that may read and write."


async def refuse_read_only_writes(
    request: Request, db: DB, viewer: Annotated[Viewer | None, Depends(optional_viewer)]
) -> None:
    """A read-scoped token is refused (403, logged) on every route that writes."""
    if viewer is None or viewer.token_scope != TokenScope.read or request.method in SAFE_METHODS:
        return
    route = request.scope.get("route")
    if (getattr(route, "openapi_extra", None) or {}).get("x-token-scope") == TokenScope.read:
        return
    detail = {"action": "api:write", "path": request.url.path, "token_scope": TokenScope.read}
    await run_in_threadpool(append_refusal, db, log_actor(request, viewer), detail)
    raise HTTPException(status.HTTP_403_FORBIDDEN, READ_ONLY_REFUSAL)


API_DEPENDENCIES = [
    BEARER,
    Depends(refuse_unknown_query),
    Depends(refuse_read_only_writes),
    # An agency system's OAuth 2 token also needs the route's scope (hub.apiclients.scopes).
    Depends(refuse_out_of_scope),
]
