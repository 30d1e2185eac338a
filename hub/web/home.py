"""The home page: one per role, listing what that role does here; the health page; the API's
documentation page."""

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.accounts.kept_forms import kept_forms_of
from hub.vocabulary import Role
from hub.web.dependencies import DB, CurrentViewer
from hub.web.templating import Page, render

router = APIRouter()

# Roles whose whole work is one page land on it instead of a home page (issue 16: the Policy
# Coordinating Group reads the equity dashboard and nothing else).
LANDING_PAGES: dict[Role, str] = {Role.policy_group: "/equity"}


@router.get("/", response_class=HTMLResponse)
def home_page(request: Request, viewer: CurrentViewer, db: DB) -> Response:
    landing = LANDING_PAGES.get(viewer.role)
    if landing is not None:
        return RedirectResponse(landing, status_code=303)
    kept = kept_forms_of(db, viewer.user_id)
    return render(
        request,
        f"home/{viewer.role.value}.html",
        Page(title="Home", viewer=viewer, csrf_token=viewer.csrf_token, kept_forms=kept),
    )


@router.get("/healthz", include_in_schema=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


def health_page(request: Request) -> Response:
    """A small page through the same templates and middleware (security headers, request id)
    but no database, session, policy or log: the process can render. The load test measures
    every page against it (bench/load). Registered as a plain Starlette route (create_app), so
    not even the app-wide CSRF dependency runs: a session cookie sent with it is never read,
    and asking for it is not user activity (CJIS AC-11)."""
    return render(request, "healthz.html", Page(title="Ready"))


@dataclass(frozen=True)
class ApiOperation:
    method: str
    path: str
    summary: str


@dataclass
class ApiDocsPage(Page):
    operations: list[ApiOperation] = field(default_factory=list)


def api_docs_page(request: Request) -> Response:
    """/api/docs: the API's routes, read from the OpenAPI document, and a link to it. Rendered
    here rather than by Swagger UI, which needs an inline script and a script from a CDN that
    the CSP (script-src 'self' and htmx only) refuses. Public, as /api/openapi.json is: it
    names routes, no data. A plain Starlette route, like health_page."""
    schema = request.app.openapi()
    operations = [
        ApiOperation(method.upper(), path, operation.get("summary", ""))
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    return render(request, "api_docs.html", ApiDocsPage(title="API", operations=operations))
