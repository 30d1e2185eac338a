"""Signing in through an agency's OpenID provider: start, callback, back-channel logout.
Thin: the rules are in hub.identity.services."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.accounts.pages import SignInPage
from hub.accounts.routes import clear_cookie, render_presession, set_cookie
from hub.accounts.rules import SignInRateLimited
from hub.identity.config import sign_in_buttons
from hub.identity.pages import ContinuePage
from hub.identity.services import (
    OidcRefused,
    ProviderDown,
    backchannel_logout,
    begin_sign_in,
    complete_sign_in,
)
from hub.settings import get_settings
from hub.web.dependencies import ANONYMOUS_CSRF_COOKIE, BACKCHANNEL_LOGOUT_PATH, DB, log_actor
from hub.web.params import RecordNumber
from hub.web.templating import render

router = APIRouter()

# Binds the callback to the browser that started the sign-in. SameSite=Lax, not Strict: the
# callback is a top-level navigation from the provider's site, which a Strict cookie misses.
FLOW_COOKIE = "hub_oidc_flow"
FLOW_PATH = "/sign-in/oidc"
FLOW_SECONDS = 600

# What a provider sends back: opaque values, bounded so a flood of bytes is refused first.
Opaque = Annotated[str | None, Query(max_length=2048)]


def _refused(request: Request, db: DB, message: str, code: int) -> HTMLResponse:
    page = SignInPage(title="Sign in", error=message, providers=sign_in_buttons(db))
    response = render_presession(request, "accounts/sign_in.html", page, code)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response


# A link, not a form: the CSP's form-action 'self' would stop a form's redirect to the
# provider. Nothing here can be forged into a sign-in: the flow is bound to this browser.
@router.get("/sign-in/oidc/agency/{agency_id}", response_class=HTMLResponse)
def start(request: Request, db: DB, agency_id: RecordNumber) -> Response:
    try:
        started = begin_sign_in(db, log_actor(request, None), agency_id)
    except ProviderDown as down:
        return _refused(request, db, str(down), status.HTTP_503_SERVICE_UNAVAILABLE)
    except SignInRateLimited as limited:
        return _refused(request, db, str(limited), status.HTTP_429_TOO_MANY_REQUESTS)
    except OidcRefused as refused:
        return _refused(request, db, str(refused), status.HTTP_400_BAD_REQUEST)
    response = RedirectResponse(started.url, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        FLOW_COOKIE,
        started.browser_token,
        max_age=FLOW_SECONDS,
        path=FLOW_PATH,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
    )
    return response


@router.get("/sign-in/oidc/callback", response_class=HTMLResponse)
def callback(
    request: Request,
    db: DB,
    state: Opaque = None,
    code: Opaque = None,
    error: Opaque = None,
) -> Response:
    if not state:
        return _refused(request, db, "That sign-in link is not complete.", 400)
    try:
        signed_in = complete_sign_in(
            db,
            log_actor(request, None),
            state=state,
            code=code,
            provider_error=error,
            browser_token=request.cookies.get(FLOW_COOKIE),
            user_agent=request.headers.get("user-agent"),
        )
    except ProviderDown as down:
        return _refused(request, db, str(down), status.HTTP_503_SERVICE_UNAVAILABLE)
    except SignInRateLimited as limited:
        return _refused(request, db, str(limited), status.HTTP_429_TOO_MANY_REQUESTS)
    except OidcRefused as refused:
        return _refused(request, db, str(refused), status.HTTP_401_UNAUTHORIZED)
    if signed_in.mfa_passed:
        next_url = "/"
    else:
        next_url = "/sign-in/enrol" if signed_in.needs_enrolment else "/sign-in/second-factor"
    # A page, not a redirect: the session cookie is SameSite=Strict, and a redirect chain
    # that began at the provider's site would not send it to the next page.
    page = ContinuePage(title="Signed in at your agency", next_url=next_url)
    response = render(request, "identity/continue.html", page)
    set_cookie(response, get_settings().session_cookie_name, signed_in.token)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    if signed_in.mfa_passed:
        clear_cookie(response, ANONYMOUS_CSRF_COOKIE)
    return response


@router.post(BACKCHANNEL_LOGOUT_PATH)
def logout_from_provider(
    request: Request, db: DB, logout_token: Annotated[str, Form(max_length=8192)] = ""
) -> Response:
    """OpenID Connect Back-Channel Logout 1.0, section 2.8: 200 when done, 400 when refused;
    never cached."""
    headers = {"Cache-Control": "no-store"}
    try:
        backchannel_logout(db, log_actor(request, None), logout_token)
    except OidcRefused:
        return Response(status_code=status.HTTP_400_BAD_REQUEST, headers=headers)
    return Response(status_code=status.HTTP_200_OK, headers=headers)
