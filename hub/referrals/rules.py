"""The site's referral rules, kept as data (policies/site/referral-rules.yaml).

Why a file loaded by a command rather than a migration: the rules are the program's protocol,
agreed by a site's stakeholders and changed by them without a release. A YAML file in the repo
can carry a comment for every rule and is reviewed as a diff; `hub site load-rules FILE`
validates it whole, stores it in site_setting and logs the change with the file's digest. A
migration would freeze one site's protocol into every site's schema history.
"""

import hashlib
import re
import time
import weakref
from datetime import tzinfo
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Engine
from sqlmodel import Session

from hub.settings import PROJECT_ROOT, get_settings
from hub.site import read_setting, write_setting
from hub.vocabulary import DecisionOutcome, PriorInvolvementKind, Role

DEFAULT_RULES_FILE = PROJECT_ROOT / "policies" / "site" / "referral-rules.yaml"
SETTING_NAME = "referral_rules"


class RulesError(ValueError):
    """The site's rules file is malformed; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Offense(_Strict):
    code: str = Field(min_length=1, max_length=64)
    label: str = Field(min_length=1)
    level: str
    category: str


class Exclusion(_Strict):
    code: str = Field(min_length=1, max_length=64)
    label: str = Field(min_length=1)
    kind: Literal["conviction_within_years", "offense", "fact"]
    offense_classes: list[str] = Field(default_factory=list)
    years: int | None = Field(default=None, ge=1)
    offense_codes: list[str] = Field(default_factory=list)
    question: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> "Exclusion":
        needs = {
            "conviction_within_years": bool(self.offense_classes) and self.years is not None,
            "offense": bool(self.offense_codes),
            "fact": bool(self.question),
        }
        if not needs[self.kind]:
            raise ValueError(f"exclusion {self.code}: a {self.kind} rule is missing its terms")
        return self


class SocialContactRules(_Strict):
    categories: list[str] = Field(min_length=1)
    accepted: list[PriorInvolvementKind] = Field(min_length=1)
    incident_number_pattern: str | None = None

    @field_validator("incident_number_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            re.compile(value)
        return value


class DuplicateRules(_Strict):
    name_weight: float = Field(ge=0, le=1)
    dob_weight: float = Field(ge=0, le=1)
    report_at: float = Field(gt=0, le=1)
    name_only_at: float = Field(gt=0, le=1)


class ReasonCode(_Strict):
    code: str = Field(min_length=1, max_length=64)
    label: str = Field(min_length=1)
    outcomes: list[DecisionOutcome] = Field(min_length=1)


class ReportingRules(_Strict):
    suppress_below: int = Field(default=5, ge=0)


class SiteRules(_Strict):
    """One site's referral protocol. Build one from rows in tests; read the site's with
    `current_rules(db)`."""

    version: str = Field(min_length=1, max_length=64)
    timezone: str = "UTC"
    intake_deadline_days: int | None = Field(default=None, ge=1, le=365)
    levels: list[str] = Field(min_length=1)
    prosecution: dict[str, str]
    offenses: list[Offense] = Field(min_length=1)
    exclusions: list[Exclusion] = Field(default_factory=list)
    social_contact: SocialContactRules
    community_referrer_roles: list[Role] = Field(default_factory=list)
    duplicates: DuplicateRules
    reason_codes: list[ReasonCode] = Field(min_length=1)
    reporting: ReportingRules = Field(default_factory=ReportingRules)

    @model_validator(mode="after")
    def _consistent(self) -> "SiteRules":
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc
        levels = set(self.levels)
        for offense in self.offenses:
            if offense.level not in levels:
                raise ValueError(f"offense {offense.code}: level {offense.level!r} not in levels")
        missing = levels - set(self.prosecution)
        if missing:
            raise ValueError(f"prosecution: no office for level(s) {sorted(missing)}")
        for name, items in (
            ("offense", self.offenses),
            ("exclusion", self.exclusions),
            ("reason code", self.reason_codes),
        ):
            codes = [item.code for item in items]
            if len(codes) != len(set(codes)):
                raise ValueError(f"a {name} code appears twice")
        known = {o.code for o in self.offenses}
        for exclusion in self.exclusions:
            unknown = set(exclusion.offense_codes) - known
            if unknown:
                raise ValueError(f"exclusion {exclusion.code}: unknown offenses {sorted(unknown)}")
        return self

    # --- look-ups ---------------------------------------------------------------------------

    @cached_property
    def offenses_by_code(self) -> dict[str, Offense]:
        return {o.code: o for o in self.offenses}

    @cached_property
    def reason_codes_by_code(self) -> dict[str, ReasonCode]:
        return {r.code: r for r in self.reason_codes}

    @cached_property
    def code_labels(self) -> dict[str, str]:
        """Every offense, exclusion and reason code of the site by its label, for pages that
        show codes stored on a record (exports keep the codes)."""
        return {
            **{o.code: o.label for o in self.offenses},
            **{e.code: e.label for e in self.exclusions},
            **{r.code: r.label for r in self.reason_codes},
        }

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    @property
    def deadline_days(self) -> int:
        return self.intake_deadline_days or get_settings().intake_deadline_days

    def level_rank(self, level: str) -> int:
        return self.levels.index(level)


def parse_rules(data: Any) -> SiteRules:
    """Validates a whole rules document; raises RulesError naming each problem."""
    from pydantic import ValidationError

    try:
        return SiteRules.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'rules'}: {e['msg']}" for e in exc.errors()
        )
        raise RulesError(problems) from None


def read_rules_file(path: Path) -> tuple[SiteRules, str]:
    """The rules in a YAML (or JSON, a subset of YAML) file, and the file's SHA-256."""
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise RulesError(f"{path.name} is not valid YAML: {exc}") from None
    return parse_rules(data), hashlib.sha256(raw).hexdigest()


@lru_cache
def default_rules() -> SiteRules:
    return read_rules_file(DEFAULT_RULES_FILE)[0]


def current_rules(db: Session) -> SiteRules:
    """The rules the site loaded, or the shipped defaults until it loads its own."""
    stored = read_setting(db, SETTING_NAME)
    return default_rules() if stored is None else parse_rules(stored)


def store_rules(db: Session, rules: SiteRules) -> None:
    global _stored
    write_setting(db, SETTING_NAME, rules.model_dump(mode="json"))
    _stored += 1  # this process reads the zone again at once; others within a minute


# --- the site's time zone -----------------------------------------------------------------------

# Every page shows times in the site's zone, and a page shows dozens: reading and validating
# the whole rules document for each (or each request) would cost more than the page. A zone
# changes perhaps once in a site's life, so a process re-reads it at most once a minute.
ZONE_CHECK_SECONDS = 60.0
_zones: "weakref.WeakKeyDictionary[Engine, tuple[float, int, ZoneInfo]]" = (
    weakref.WeakKeyDictionary()
)
_stored = 0  # store_rules calls in this process


def known_site_zone(db: Session) -> ZoneInfo | None:
    """The site's zone as this process last read it, if that was recent; no I/O."""
    known = _zones.get(db.get_bind().engine)
    if known is None or known[1] != _stored or time.monotonic() - known[0] >= ZONE_CHECK_SECONDS:
        return None
    return known[2]


def site_zone(db: Session) -> ZoneInfo:
    """The site's time zone (its rules name it): local days, periods and every time a page
    shows. A dictionary look-up, and at most once a minute a read of the rules."""
    zone = known_site_zone(db)
    if zone is None:
        generation = _stored  # read first: a store during the read is not lost
        zone = ZoneInfo(current_rules(db).timezone)
        _zones[db.get_bind().engine] = (time.monotonic(), generation, zone)
    return zone
