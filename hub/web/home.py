"""The home page: one per role, listing what that role does here."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.web.dependencies import CurrentViewer
from hub.web.templating import Page, render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home_page(request: Request, viewer: CurrentViewer) -> HTMLResponse:
    return render(
        request,
        f"home/{viewer.role.value}.html",
        Page(title="Home", viewer=viewer, csrf_token=viewer.csrf_token),
    )


@router.get("/healthz", include_in_schema=False)
def health() -> dict[str, str]:
    return {"status": "ok"}
