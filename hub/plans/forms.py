"""What the plan pages and the plan API receive. Fields stay text where a person types them, so
that every mistake is answered at once, per field, with the form again (nothing changed)."""

from datetime import date, timedelta
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, Field

from hub.web.params import Count

# A step's date: a plan looks a few years back and ahead, no further (bad input, not history).
STEP_DATE_PAST = timedelta(days=5 * 366)
STEP_DATE_FUTURE = timedelta(days=3 * 366)

E = TypeVar("E", bound=StrEnum)


class FormErrors(ValueError):
    """Every field that is wrong, by field name; nothing was changed."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class GoalForm(BaseModel):
    """A goal in the client's own words, its life area, and the services that go with it."""

    goal: str = Field(default="", max_length=500)
    domain: str = Field(default="", max_length=32)
    services: str = Field(default="", max_length=500)


class GoalChangeForm(BaseModel):
    """A goal's status (never "failed": met or set aside, by the client) or its words."""

    status: str = Field(default="", max_length=32)
    goal: str = Field(default="", max_length=500)
    # The goal's version in the record's history the form was drawn from: a stale form never
    # overwrites (hub.caserecord.writing.StaleVersion).
    version: Count | None = None


class StepForm(BaseModel):
    step: str = Field(default="", max_length=500)
    status: str = Field(default="", max_length=32)
    on_date: str = Field(default="", max_length=10)


def choice(
    enum: type[E], text: str, field: str, errors: dict[str, str], *, default: E | None = None
) -> E | None:
    """The vocabulary value named by `text`, or an error for `field`."""
    text = text.strip()
    if not text and default is not None:
        return default
    try:
        return enum(text)
    except ValueError:
        errors[field] = "Choose one of: " + ", ".join(m.value for m in enum) + "."
        return None


def words(text: str, field: str, errors: dict[str, str], *, required: bool = True) -> str:
    text = text.strip()
    if required and not text:
        errors[field] = "Write this in the client's own words."
    return text


def bounded_date(
    text: str,
    field: str,
    errors: dict[str, str],
    today: date,
    *,
    past: timedelta,
    future: timedelta,
) -> date | None:
    """A date in YYYY-MM-DD within `past` before and `future` after today, or an error."""
    text = text.strip()
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        errors[field] = "A date reads as YYYY-MM-DD."
        return None
    if not today - past <= value <= today + future:
        errors[field] = f"A date between {today - past} and {today + future}."
        return None
    return value
