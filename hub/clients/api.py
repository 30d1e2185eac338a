"""The client API under /api/v1: the same reads and writes as the client pages, through the
same policy layer, for programs holding a bearer token (`hub users token`). The purpose of
every read is fixed by the token holder's role (hub.clients.purposes). A withheld category is
{"withheld": true, "reason": ..., "explanation": ...}; a response with treatment data carries
the 42 CFR 2.32 notice in `redisclosure_notice`."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.clients.pages import WITHHELD_WORDS
from hub.clients.services import NoteError, add_case_note, written_in_part2_program
from hub.clients.web import (
    ClientReader,
    ClientSearcher,
    ConsentId,
    ConsentManager,
    NoteWriter,
    PersonId,
    RecordPurpose,
    SearchPurpose,
    not_found,
    read_record,
)
from hub.consents import services as consents
from hub.consents.models import Consent
from hub.consents.services import ConsentError, ConsentForm, ConsentRefused
from hub.db import ident, utcnow
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.disclosure.policy import PersonNotFound
from hub.disclosure.record_search import SearchError, SearchQuery, disclose_search
from hub.disclosure.record_view import (
    ChargingMatterEntry,
    DisclosedRecord,
    IntakeClock,
    NoteEntry,
    PlanGoalEntry,
    ReferralEntry,
    TreatmentEntry,
    WithheldCategory,
)
from hub.vocabulary import (
    PART2_CATEGORIES,
    AgencyKind,
    Category,
    ConsentKind,
    ProgramStatus,
    Purpose,
    WithheldReason,
)
from hub.web.api import API_DEPENDENCIES, READS_ONLY, IsoDate, RecordRef, api_errors
from hub.web.dependencies import DB, log_actor

# The schema says what the services accept, so a client (and schemathesis) can tell a valid
# request from an invalid one: no NUL characters (PostgreSQL cannot store them), and a field
# the services require to hold something holds more than blanks.
Text = Annotated[str, Field(pattern=r"^[^\x00]*$")]
NonBlank = Annotated[str, Field(pattern=r"^[^\x00]*[^\x00\s][^\x00]*$")]
RowId = RecordRef


ERRORS = api_errors(
    not_found="No client record this token may see has that number (unknown, or its identity "
    "is withheld from this token: the answer does not tell which)."
)

router = APIRouter(
    prefix="/api/v1", tags=["clients"], responses=ERRORS, dependencies=API_DEPENDENCIES
)


# --- the record ------------------------------------------------------------------------------


class Withheld(BaseModel):
    """A category the token holder may not see, and why; never any of its data."""

    withheld: Literal[True] = True
    reason: WithheldReason
    explanation: str


class Disclosed(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    withheld: Literal[False] = False


class IdentityOut(Disclosed):
    first_name: str
    last_name: str
    date_of_birth: date | None
    aliases: list[str]


class DemographicsOut(Disclosed):
    race_ethnicity: list[int] = Field(description="HUD HMIS FY2024 RaceAndEthnicity codes")
    additional_race_ethnicity: str | None
    gender: list[int] = Field(description="HUD HMIS FY2024 Gender codes")


class ContactOut(Disclosed):
    phone: str | None
    staying_at: str | None
    updated_at: datetime | None


class ReferralsOut(Disclosed):
    entries: list[ReferralEntry]
    record_created_at: datetime
    record_created_by_id: int | None


class EngagementOut(Disclosed):
    program_status: ProgramStatus
    status_changed_at: datetime | None
    last_contact_on: date | None
    intake: list[IntakeClock]


class LegalOut(Disclosed):
    forwarded_to_agency_ids: list[int]
    matters: list[ChargingMatterEntry]


class PlanOut(Disclosed):
    goals: list[PlanGoalEntry]
    part2_withheld: WithheldReason | None = Field(
        default=None,
        description="Goals a 42 CFR Part 2 program recorded, if any, are not shown, for this"
        " reason; said for every client, so it never tells whether a program recorded any",
    )


class HousingOut(Disclosed):
    living_situation: int | None = Field(description="HUD HMIS 3.917 living situation code")
    waitlist: str | None
    waitlist_since: date | None
    updated_at: datetime | None


class HealthOut(Disclosed):
    mental_health: str | None
    physical_health: str | None
    updated_at: datetime | None


class TreatmentOut(Disclosed):
    entries: list[TreatmentEntry]


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    category: Category
    author_id: int
    written_at: datetime
    body: str
    part2: bool = Field(
        default=False, description="Written by a 42 CFR Part 2 program's staff: Part 2 data"
    )


SECTION_MODELS: dict[Category, type[Disclosed]] = {
    Category.identity: IdentityOut,
    Category.demographics: DemographicsOut,
    Category.contact: ContactOut,
    Category.referral: ReferralsOut,
    Category.legal: LegalOut,
    Category.engagement: EngagementOut,
    Category.plan: PlanOut,
    Category.housing: HousingOut,
    Category.health: HealthOut,
    Category.treatment: TreatmentOut,
}


class ClientRecordOut(BaseModel):
    """One client's record as the token holder may see it for the route's purpose: every
    category present, as data or as withheld."""

    person_id: int
    purpose: Purpose
    policy_version: str
    log_seq: int = Field(description="The disclosure-log entry that records this read.")
    identity: IdentityOut | Withheld
    demographics: DemographicsOut | Withheld
    contact: ContactOut | Withheld
    referral: ReferralsOut | Withheld
    legal: LegalOut | Withheld
    engagement: EngagementOut | Withheld
    plan: PlanOut | Withheld
    housing: HousingOut | Withheld
    health: HealthOut | Withheld
    treatment: TreatmentOut | Withheld
    notes: list[NoteOut]
    participant: bool | None
    part2: bool = Field(description="Treatment data (42 CFR Part 2) is in this response.")
    redisclosure_notice: str | None = Field(
        description="The 42 CFR 2.32 notice, whenever part2 is true; it travels with the data."
    )


def _section(record: DisclosedRecord, category: Category) -> Disclosed | Withheld:
    section = record.section(category)
    if isinstance(section, WithheldCategory):
        return Withheld(reason=section.reason, explanation=WITHHELD_WORDS[section.reason])
    return SECTION_MODELS[category].model_validate(section)


def record_out(record: DisclosedRecord) -> ClientRecordOut:
    sections: dict[str, Any] = {c.value: _section(record, c) for c in Category}
    return ClientRecordOut(
        person_id=record.person_id,
        purpose=record.purpose,
        policy_version=record.policy_version,
        log_seq=record.log_seq,
        notes=[NoteOut.model_validate(n) for n in record.notes],
        participant=record.participant,
        part2=record.part2,
        redisclosure_notice=record.notice,
        **sections,
    )


# --- search ---------------------------------------------------------------------------------


class SearchIn(BaseModel):
    """Part of a name or alias (two letters at least), a date of birth, or both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"anyOf": [{"required": ["name"]}, {"required": ["date_of_birth"]}]},
    )
    name: (
        Annotated[
            str,
            Field(max_length=200, pattern=r"^[^\x00]*[^\x00\s][^\x00]*[^\x00\s][^\x00]*$"),
        ]
        | SkipJsonSchema[None]
    ) = None
    date_of_birth: IsoDate | SkipJsonSchema[None] = None

    @field_validator("name", "date_of_birth", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Leave a term out rather than send null: the schema has no null for them.
        if value is None:
            raise ValueError("leave the field out instead of sending null")
        return value


class SearchHitOut(BaseModel):
    person_id: int
    identity: IdentityOut


class SearchOut(BaseModel):
    purpose: Purpose
    policy_version: str
    log_seq: int
    results: list[SearchHitOut]


@router.post(
    "/clients/search",
    summary="Find clients by name, alias or date of birth",
    openapi_extra=READS_ONLY,
)
def search_clients(
    request: Request, db: DB, viewer: ClientSearcher, purpose: SearchPurpose, terms: SearchIn
) -> SearchOut:
    """Identity only, of the clients whose identity the token holder may see. The terms travel
    in the body and are never logged."""
    try:
        results = disclose_search(
            db,
            viewer,
            SearchQuery(name=terms.name, date_of_birth=terms.date_of_birth),
            purpose,
            log_actor(request, viewer),
        )
    except SearchError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return SearchOut(
        purpose=results.purpose,
        policy_version=results.policy_version,
        log_seq=results.log_seq,
        results=[
            SearchHitOut(person_id=h.person_id, identity=IdentityOut.model_validate(h.identity))
            for h in results.hits
        ],
    )


# Declared after the search, so that POST /clients/search is not matched as an id.
@router.get("/clients/{person_id:int}", summary="Read a client record")
def get_client(
    request: Request, db: DB, viewer: ClientReader, purpose: RecordPurpose, person_id: PersonId
) -> ClientRecordOut:
    """Every category of the record, disclosed or withheld, for the purpose fixed by the
    token holder's role; the read is in the disclosure log."""
    return record_out(read_record(db, viewer, person_id, purpose, request))


# --- case notes ------------------------------------------------------------------------------


class NotesOut(BaseModel):
    person_id: int
    purpose: Purpose
    log_seq: int
    notes: list[NoteOut]
    part2: bool
    redisclosure_notice: str | None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Category
    body: Annotated[NonBlank, Field(max_length=20_000)]


class NoteCreatedOut(NoteOut):
    redisclosure_notice: str | None = Field(
        description="The 42 CFR 2.32 notice, when the note is a treatment note."
    )


@router.get("/clients/{person_id:int}/notes", summary="List a client's case notes")
def list_notes(
    request: Request, db: DB, viewer: ClientReader, purpose: RecordPurpose, person_id: PersonId
) -> NotesOut:
    """The notes of the categories the token holder may see, oldest first; logged."""
    record = read_record(db, viewer, person_id, purpose, request)
    return NotesOut(
        person_id=person_id,
        purpose=record.purpose,
        log_seq=record.log_seq,
        notes=[NoteOut.model_validate(n) for n in record.notes],
        part2=record.part2,
        redisclosure_notice=record.notice,
    )


@router.post(
    "/clients/{person_id:int}/notes",
    status_code=status.HTTP_201_CREATED,
    summary="Add a case note",
)
def create_note(
    request: Request, db: DB, viewer: NoteWriter, person_id: PersonId, note: NoteIn
) -> NoteCreatedOut:
    """Files a note in a category the token holder may see for case management."""
    try:
        created = add_case_note(
            db, viewer, person_id, note.category, note.body, log_actor(request, viewer)
        )
    except NoteError as exc:
        if exc.not_found:
            raise not_found() from None
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    origin = written_in_part2_program(db, created)
    entry = NoteEntry(
        id=ident(created.id),
        category=created.category,
        author_id=created.author_id,
        written_at=created.written_at,
        body=created.body,
        part2=origin,
    )
    part2 = origin or created.category in PART2_CATEGORIES
    return NoteCreatedOut(
        **NoteOut.model_validate(entry).model_dump(),
        redisclosure_notice=REDISCLOSURE_NOTICE if part2 else None,
    )


# --- consents --------------------------------------------------------------------------------


class ConsentOut(BaseModel):
    """A consent with every 42 CFR 2.31 element, whether it is in effect, and what it lacks."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    person_id: int
    kind: ConsentKind
    discloser_agency_id: int
    recipient_user_id: int | None
    recipient_agency_id: int | None
    recipient_agency_kind: AgencyKind | None
    categories: list[str]
    purposes: list[str]
    description: str
    right_to_revoke: str
    expires_on: date | None
    expiry_event: str | None
    irrevocable_until: str | None
    irrevocable_event_at: datetime | None
    expiry_event_at: datetime | None
    signed_by: str
    signature_on_file: bool
    signed_on: date
    revoked_at: datetime | None
    created_at: datetime
    active: bool
    missing_elements: list[str]


def consent_out(consent: Consent) -> ConsentOut:
    fields = {
        name: getattr(consent, name) for name in ConsentOut.model_fields if hasattr(consent, name)
    }
    return ConsentOut(
        **{**fields, "active": consents.is_active(consent, utcnow())},
        missing_elements=consents.missing_elements(consent),
    )


class ConsentsOut(BaseModel):
    person_id: int
    consents: list[ConsentOut]


class ConsentIn(BaseModel):
    """What the client signed. Every 42 CFR 2.31 element is required for the consent to be
    recorded; a recipient is a person, an agency, or every agency of a kind."""

    model_config = ConfigDict(extra="forbid")
    kind: ConsentKind
    discloser_agency_id: RowId
    recipient_user_id: RowId | None = None
    recipient_agency_id: RowId | None = None
    recipient_agency_kind: AgencyKind | None = None
    categories: list[Category] = Field(max_length=len(Category))
    purposes: list[Purpose] = Field(max_length=len(Purpose))
    description: Annotated[NonBlank, Field(max_length=1000)]
    right_to_revoke: Annotated[NonBlank, Field(max_length=1000)]
    expires_on: IsoDate | None = None
    expiry_event: Annotated[Text, Field(max_length=300)] | None = None
    irrevocable_until: Annotated[Text, Field(max_length=300)] | None = None
    signed_by: Annotated[NonBlank, Field(max_length=200)]
    signature_on_file: StrictBool
    signed_on: IsoDate


def _consent_error(exc: ConsentError) -> HTTPException:
    if isinstance(exc.__cause__, PersonNotFound):
        return not_found()
    if isinstance(exc, ConsentRefused):
        return HTTPException(status.HTTP_403_FORBIDDEN, str(exc))
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


def _listed(db: Session, viewer: Viewer, person_id: int, request: Request) -> list[Consent]:
    try:
        return consents.list_consents(db, viewer, person_id, log_actor(request, viewer))
    except ConsentError as exc:
        raise _consent_error(exc) from None


@router.get("/clients/{person_id:int}/consents", summary="List a client's consents")
def list_client_consents(
    request: Request, db: DB, viewer: ConsentManager, person_id: PersonId
) -> ConsentsOut:
    """For the client's own case-management agency; the read is logged."""
    listed = _listed(db, viewer, person_id, request)
    return ConsentsOut(person_id=person_id, consents=[consent_out(c) for c in listed])


@router.post(
    "/clients/{person_id:int}/consents",
    status_code=status.HTTP_201_CREATED,
    summary="Record a consent",
)
def create_client_consent(
    request: Request, db: DB, viewer: ConsentManager, person_id: PersonId, consent: ConsentIn
) -> ConsentOut:
    """Refused with the list of missing 42 CFR 2.31 elements if any is missing."""
    form = ConsentForm(person_id=person_id, **consent.model_dump())
    try:
        created = consents.create_consent(db, viewer, form, log_actor(request, viewer))
    except ConsentError as exc:
        raise _consent_error(exc) from None
    return consent_out(created)


@router.post(
    "/clients/{person_id:int}/consents/{consent_id:int}/revoke", summary="Revoke a consent"
)
def revoke_client_consent(
    request: Request,
    db: DB,
    viewer: ConsentManager,
    person_id: PersonId,
    consent_id: ConsentId,
) -> ConsentOut:
    """Takes effect on the next read; a 42 CFR 2.35 consent before its stated event is refused."""
    if not any(c.id == consent_id for c in _listed(db, viewer, person_id, request)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such consent for this client.")
    try:
        revoked = consents.revoke_consent(db, viewer, consent_id, log_actor(request, viewer))
    except ConsentError as exc:
        raise _consent_error(exc) from None
    return consent_out(revoked)
