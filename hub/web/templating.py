"""Rendering. A page's context is a typed object: a template sees what the route handed it,
and client data only in the shape the policy layer returned."""

from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, tzinfo
from enum import Enum
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Undefined

from hub.accounts.kept_forms import KeptFormLine
from hub.accounts.sessions import Viewer
from hub.disclosure.record_view import WithheldCategory
from hub.permissions import allowed
from hub.settings import PROJECT_ROOT, get_settings
from hub.vocabulary import HMIS_GENDER_LABELS, HMIS_RACE_ETHNICITY_LABELS
from hub.web.security import HTMX_INTEGRITY, HTMX_URL

templates = Jinja2Templates(directory=str(PROJECT_ROOT / "templates"))
# Templates change only with a release, and a release restarts the processes. Jinja would
# otherwise stat every template file (base, nav, partials) on every render: 5% of a worker's
# time in the load test's profile (docs/load-test.md).
templates.env.auto_reload = False


class FieldUndefined(Undefined):
    """A name the page did not hand over, or a field its object lacks, fails the render (as
    Jinja's StrictUndefined does) rather than printing nothing: a typo must never read as an
    empty (or withheld) field. A key missing from a form's dict of values or errors is only a
    field not filled in, and reads as empty."""

    def _strict(self) -> None:
        if not isinstance(self._undefined_obj, dict):
            self._fail_with_undefined_error()

    def __str__(self) -> str:
        self._strict()
        return ""

    def __bool__(self) -> bool:
        self._strict()
        return False

    def __len__(self) -> int:
        self._strict()
        return 0

    def __iter__(self) -> Iterator[Any]:
        self._strict()
        return iter(())

    def __eq__(self, other: object) -> bool:
        self._strict()
        return type(self) is type(other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __contains__(self, item: object) -> bool:
        self._strict()
        return False

    __hash__ = Undefined.__hash__


templates.env.undefined = FieldUndefined
templates.env.globals.update(htmx_url=HTMX_URL, htmx_integrity=HTMX_INTEGRITY, allowed=allowed)


def idle_seconds() -> int:
    """The idle sign-out (CJIS AC-11) in seconds, for static/idle.js's warning."""
    return get_settings().session_idle_minutes * 60


templates.env.globals["idle_seconds"] = idle_seconds


def label(value: Enum | str | None) -> str:
    """A vocabulary value in words for a page ("case_manager" reads "case manager"); exports
    keep the codes."""
    if value is None:
        return ""
    text = value.value if isinstance(value, Enum) else value
    return str(text).replace("_", " ")


templates.env.filters["label"] = label
# `{% if section is withheld %}`: asks the policy layer's answer itself, so a misspelt field
# fails the render (StrictUndefined) instead of reading as "withheld".
templates.env.tests["withheld"] = lambda value: isinstance(value, WithheldCategory)


def hmis_labels(codes: list[int] | None, table: dict[int, str]) -> str:
    """HMIS response codes as their labels ("White; Hispanic/Latina/e/o"), or a dash."""
    return "; ".join(table.get(c, f"code {c}") for c in codes or []) or "—"


templates.env.filters["race_ethnicity"] = lambda codes: hmis_labels(
    codes, HMIS_RACE_ETHNICITY_LABELS
)
templates.env.filters["gender"] = lambda codes: hmis_labels(codes, HMIS_GENDER_LABELS)


# The site's zone for the pages of this request, set once by hub.web.dependencies.site_time_zone.
# A context variable rather than a template variable: macros imported from another template
# (`when` in _who.html) do not see the page's variables. UTC, still labelled, on a page rendered
# before it was set (an error page).
_page_zone: ContextVar[tzinfo] = ContextVar("page_zone", default=UTC)


def use_site_zone(zone: tzinfo) -> None:
    """Pages rendered for this request show times in this zone."""
    _page_zone.set(zone)


def _in_zone(moment: datetime, zone: tzinfo) -> datetime:
    # Stored moments are aware UTC (hub.db.UTCDateTime); a naive one can only be UTC too.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)


def site_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A moment on the site's clock, with its zone ("2026-12-04 14:05 PST"); exports and the
    API keep ISO UTC. A dash for none."""
    if moment is None:
        return "—"
    return _in_zone(moment, _page_zone.get()).strftime(f"{fmt} %Z")


def site_date(moment: datetime | date | None, fmt: str = "%Y-%m-%d") -> str:
    """The site-local day of a moment (a date is already one). A dash for none."""
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        moment = _in_zone(moment, _page_zone.get()).date()
    return moment.strftime(fmt)


templates.env.filters.update(site_time=site_time, site_date=site_date)


@dataclass
class Page:
    """What every page knows: who is looking (None on the sign-in pages) and the page title."""

    title: str
    viewer: Viewer | None = None
    csrf_token: str | None = None
    messages: list[str] = field(default_factory=list)
    # Forms posted after the session timed out, offered back (only the home page fills it).
    kept_forms: list[KeptFormLine] = field(default_factory=list)


def is_htmx(request: Request) -> bool:
    """Whether htmx asked, so the route answers with the fragment it swaps."""
    return request.headers.get("hx-request") == "true"


def render(request: Request, template: str, page: Page, status_code: int = 200) -> HTMLResponse:
    # Shallow on purpose: nested objects reach the template as they are, not as dicts.
    context: dict[str, Any] = {f.name: getattr(page, f.name) for f in fields(page)}
    context["page"] = page
    return templates.TemplateResponse(request, template, context, status_code=status_code)


__all__ = ["Page", "render", "templates"]
