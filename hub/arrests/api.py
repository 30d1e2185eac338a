"""/api/v1/arrests: a police or prosecution records system reports a participant's arrest.
The answer is the same whether or not the person matched anyone on file (issue 12)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from hub.accounts.sessions import Viewer
from hub.arrests import services
from hub.arrests.forms import ArrestIn, details_from_api
from hub.arrests.services import ArrestRefused
from hub.vocabulary import Action
from hub.web.api import API_DEPENDENCIES, ApiError, Problem, api_errors
from hub.web.dependencies import DB, log_actor, require

router = APIRouter(
    prefix="/api/v1",
    tags=["arrests", "charging"],
    responses=api_errors(),
    dependencies=API_DEPENDENCIES,
)

Reporter = Annotated[Viewer, Depends(require(Action.arrests_record))]


class ArrestReceivedOut(BaseModel):
    arrest_report_id: int
    received_at: str
    message: str = Field(description="the same words whether or not anyone matched")


@router.post(
    "/arrests",
    status_code=status.HTTP_201_CREATED,
    response_model=ArrestReceivedOut,
    responses={
        422: {"model": ApiError, "description": "every problem, per field; nothing changed"}
    },
)
def report_arrest(request: Request, db: DB, viewer: Reporter, body: ArrestIn) -> Any:
    """Records an arrest of a participant for any offense (read-and-write token). A sure match
    opens a charging matter at the office the site routes the level to; any other report waits
    for case management. The answer says neither."""
    try:
        received = services.record_arrest(
            db, viewer, details_from_api(body), log_actor(request, viewer)
        )
    except ArrestRefused as refused:
        db.rollback()
        # Every problem at once, per field, as a validation error is answered (hub.web.app).
        problems = ApiError(
            detail=[Problem(field=f, problem=p) for f, p in refused.problems],
            request_id=getattr(request.state, "request_id", None),
        )
        return JSONResponse(problems.model_dump(), status.HTTP_422_UNPROCESSABLE_CONTENT)
    return ArrestReceivedOut(
        arrest_report_id=received.arrest_report_id,
        received_at=received.received_at.isoformat(),
        message=received.message,
    )
