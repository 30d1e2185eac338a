"""The record's writes under /api/v1, for an agency's own case system: the same services,
write policy and history as the pages. A read-only token is refused (hub.web.api). A save
based on a stale version answers 409 and writes nothing; bad input answers 422 naming every
wrong field."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from hub.accounts.sessions import Viewer
from hub.caserecord.contacts import log_contact
from hub.caserecord.forms import (
    ContactEntryValues,
    ContactValues,
    FormErrors,
    HealthValues,
    HousingValues,
    StatusValues,
)
from hub.caserecord.routes import refused
from hub.caserecord.sections import save_section
from hub.caserecord.writing import StaleVersion, WriteRefused
from hub.clients.web import PersonId
from hub.vocabulary import Action, RecordSection
from hub.web.api import API_DEPENDENCIES, api_errors
from hub.web.dependencies import DB, log_actor, require
from hub.web.params import Count

router = APIRouter(
    prefix="/api/v1",
    tags=["record", "clients"],  # a client token needs clients:read or clients:write
    responses=api_errors(),
    dependencies=API_DEPENDENCIES,
)

RecordWriter = Annotated[Viewer, Depends(require(Action.record_write))]
Version = Annotated[
    Count, Field(description="The section's version the change is based on (0: never saved).")
]


class ContactIn(ContactValues):
    version: Version


class HousingIn(HousingValues):
    version: Version


class HealthIn(HealthValues):
    version: Version


class StatusIn(StatusValues):
    version: Version


class SavedOut(BaseModel):
    person_id: int
    section: RecordSection
    version: int = Field(description="The section's version now: base the next change on it.")


class ContactLoggedOut(BaseModel):
    contact_id: int


def _invalid(exc: FormErrors) -> RequestValidationError:
    return RequestValidationError(
        [
            {"loc": ("body", name), "msg": message, "type": "value_error"}
            for name, message in exc.errors.items()
        ]
    )


def _save(
    request: Request, db: DB, viewer: Viewer, person_id: int, section: RecordSection, body: Any
) -> SavedOut:
    raw = body.model_dump(exclude={"version"})
    try:
        saved = save_section(
            db, viewer, log_actor(request, viewer), person_id, section, raw, based_on=body.version
        )
    except WriteRefused as exc:
        raise refused(exc) from None
    except FormErrors as exc:
        raise _invalid(exc) from None
    except StaleVersion as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"The {section.value} section changed since version {exc.based_on}: it is at "
            f"version {exc.current}. Nothing was written; read it again and resend.",
        ) from None
    return SavedOut(person_id=person_id, section=section, version=saved.version)


@router.put("/clients/{person_id:int}/contact", summary="Keep the client's contact")
def put_contact(
    request: Request, db: DB, viewer: RecordWriter, person_id: PersonId, body: ContactIn
) -> SavedOut:
    return _save(request, db, viewer, person_id, RecordSection.contact, body)


@router.put("/clients/{person_id:int}/housing", summary="Keep the client's housing")
def put_housing(
    request: Request, db: DB, viewer: RecordWriter, person_id: PersonId, body: HousingIn
) -> SavedOut:
    return _save(request, db, viewer, person_id, RecordSection.housing, body)


@router.put("/clients/{person_id:int}/health", summary="Keep the client's health")
def put_health(
    request: Request, db: DB, viewer: RecordWriter, person_id: PersonId, body: HealthIn
) -> SavedOut:
    return _save(request, db, viewer, person_id, RecordSection.health, body)


@router.post("/clients/{person_id:int}/status", summary="Change the client's program status")
def post_status(
    request: Request, db: DB, viewer: RecordWriter, person_id: PersonId, body: StatusIn
) -> SavedOut:
    return _save(request, db, viewer, person_id, RecordSection.status, body)


@router.post(
    "/clients/{person_id:int}/contacts",
    status_code=status.HTTP_201_CREATED,
    summary="Log a contact with the client",
)
def post_contact(
    request: Request, db: DB, viewer: RecordWriter, person_id: PersonId, body: ContactEntryValues
) -> ContactLoggedOut:
    try:
        contact_id = log_contact(
            db, viewer, log_actor(request, viewer), person_id, body.model_dump()
        )
    except WriteRefused as exc:
        raise refused(exc) from None
    except FormErrors as exc:
        raise _invalid(exc) from None
    return ContactLoggedOut(contact_id=contact_id)
