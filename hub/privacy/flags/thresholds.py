"""The review flags' thresholds: the site setting `privacy_flags`."""

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session

from hub.site import read_setting

SETTING_NAME = "privacy_flags"


class FlagSettings(BaseModel):
    """The site's thresholds (site setting `privacy_flags`, a JSON object of these names)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    working_hours_start: time = time(7)
    working_hours_end: time = time(19)
    working_days: frozenset[int] = Field(default=frozenset(range(5)))  # Monday is 0
    volume_floor: int = Field(default=20, ge=1)
    volume_sd: float = Field(default=3.0, gt=0)
    volume_history_days: int = Field(default=30, ge=7, le=366)
    failure_burst: int = Field(default=3, ge=2)
    failure_window_minutes: int = Field(default=15, ge=1)
    new_address_days: int = Field(default=90, ge=1)


def flag_settings(db: Session) -> FlagSettings:
    """The site's thresholds; a malformed setting is refused (fail closed), not ignored."""
    try:
        return FlagSettings.model_validate(read_setting(db, SETTING_NAME, {}) or {})
    except ValidationError as exc:
        raise ValueError(f"site setting {SETTING_NAME} is malformed: {exc}") from None
