"""What the record's forms and the API's writes receive: one Pydantic model per section, and
the rule that turns its errors into one message per field, all at once (nothing is written
while any field is wrong).

Fields arrive as text from a page (a mistake is answered with the form again) or typed from
the API; both go through the same model."""

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hub.db import utcnow
from hub.vocabulary import (
    HMIS_LIVING_SITUATIONS,
    ContactKind,
    ExitReason,
    PlaceKind,
    ProgramStatus,
    RecordSection,
)
from hub.web.params import Code

# A date further back than this is a typing mistake, not a record (bad input is refused).
OLDEST_DATE = date(1990, 1, 1)
# A status change or a contact is dated at most this far back: it is recorded as it happens.
LONGEST_BACKDATING = timedelta(days=366)


class FormErrors(ValueError):
    """The form is not valid; nothing changed. `errors`: field -> what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def _blank_is_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


Optional = BeforeValidator(_blank_is_none)


# Optional text of at most so many characters: a blank field is None.
Phone = Annotated[
    Annotated[str, StringConstraints(max_length=40, pattern=r"^[0-9+() .\-]+$")] | None, Optional
]
Text200 = Annotated[Annotated[str, StringConstraints(max_length=200)] | None, Optional]
Text1000 = Annotated[Annotated[str, StringConstraints(max_length=1000)] | None, Optional]
Text2000 = Annotated[Annotated[str, StringConstraints(max_length=2000)] | None, Optional]


def _today(info: ValidationInfo) -> date:
    """The day dates are checked against: the caller's (a test's clock), else today (UTC)."""
    today = (info.context or {}).get("today")
    return today if isinstance(today, date) else utcnow().date()


class _Values(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store it, and no person types one (as hub.clients.web.refuse_nul).
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class ContactValues(_Values):
    """contact: how to reach the client (sealed at rest)."""

    phone: Phone = None
    staying_at: Text200 = None


class HousingValues(_Values):
    """housing: HUD HMIS 3.917 living situation and a public waiting list (non-displacement)."""

    living_situation: Annotated[Code | None, Optional] = None
    waitlist: Text200 = None
    waitlist_since: Annotated[date | None, Optional] = None

    @field_validator("living_situation")
    @classmethod
    def _hmis(cls, value: int | None) -> int | None:
        if value is not None and value not in HMIS_LIVING_SITUATIONS:
            raise ValueError("choose a living situation from the HUD HMIS list")
        return value

    @field_validator("waitlist_since")
    @classmethod
    def _since(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is not None and not OLDEST_DATE <= value <= _today(info):
            raise ValueError(f"a date from {OLDEST_DATE.isoformat()} to today")
        return value

    @model_validator(mode="after")
    def _since_needs_a_list(self) -> "HousingValues":
        if self.waitlist_since is not None and self.waitlist is None:
            raise ValueError("waitlist_since: name the waiting list the client is on since then")
        return self


class HealthValues(_Values):
    """health: mental and physical health, in the client's words where possible (sealed)."""

    mental_health: Text2000 = None
    physical_health: Text2000 = None


def _recent(value: date, info: ValidationInfo) -> date:
    today = _today(info)
    if not today - LONGEST_BACKDATING <= value <= today:
        raise ValueError("a date within the last year, not in the future")
    return value


class StatusValues(_Values):
    """engagement: where the client stands in the program, with the reason for the change.
    A fact, never a sanction (LEAD: no "non-compliance", no time limit on services)."""

    program_status: ProgramStatus
    exit_reason: Annotated[ExitReason | None, Optional] = None
    reason: str = Field(min_length=3, max_length=500)
    effective_on: date

    _effective = field_validator("effective_on")(_recent)

    @model_validator(mode="after")
    def _exit_reason(self) -> "StatusValues":
        if self.program_status == ProgramStatus.exited and self.exit_reason is None:
            raise ValueError("exit_reason: say why the client left the program")
        if self.program_status != ProgramStatus.exited and self.exit_reason is not None:
            raise ValueError("exit_reason: only an exit has an exit reason")
        return self


class ContactEntryValues(_Values):
    """A contact or an attempt, for the contact log; the note, if any, has its own category."""

    contact_on: date
    kind: ContactKind
    place_kind: PlaceKind
    note: Text1000 = None
    note_category: Annotated[str | None, Optional] = None

    _contact_on = field_validator("contact_on")(_recent)

    @model_validator(mode="after")
    def _note_category(self) -> "ContactEntryValues":
        if self.note is not None and self.note_category is None:
            raise ValueError("note_category: a note needs the category it belongs to")
        return self


SECTION_VALUES: dict[RecordSection, type[_Values]] = {
    RecordSection.contact: ContactValues,
    RecordSection.housing: HousingValues,
    RecordSection.health: HealthValues,
    RecordSection.status: StatusValues,
}


M = TypeVar("M", bound=BaseModel)


def parse_values(model: type[M], raw: Mapping[str, Any], today: date) -> M:
    """The model built from `raw`, or FormErrors naming every wrong field at once."""
    try:
        return model.model_validate(dict(raw), context={"today": today})
    except ValidationError as exc:
        raise FormErrors(field_errors(exc)) from None


def field_errors(exc: ValidationError) -> dict[str, str]:
    """One message per field (a model-wide rule names its field before a colon)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        where = str(error["loc"][0]) if error["loc"] else ""
        if not where and ": " in message:
            where, message = message.split(": ", 1)
        errors.setdefault(where or "form", message)
    return errors
