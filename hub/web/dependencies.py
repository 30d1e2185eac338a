"""What routes ask for: a database session, the signed-in viewer, a declared action, and CSRF.

A route never checks a role inline; it declares `Depends(require(Action.X))`.
"""

import hashlib
import hmac
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, Request, status
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from hub.accounts.kept_forms import keep_form
from hub.accounts.sessions import Viewer, load_api_grant, load_session, tokens_match, viewer_for
from hub.apiclients.tokens import client_viewer
from hub.audit.log import Actor, append_refusal
from hub.db import get_engine
from hub.permissions import allowed
from hub.referrals.rules import known_site_zone, site_zone
from hub.settings import get_settings
from hub.vocabulary import Action
from hub.web.templating import use_site_zone

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
ANONYMOUS_CSRF_COOKIE = "hub_signin_csrf"
# An agency's OpenID provider posts logout tokens here, server to server (hub.identity): no
# cookie, so no ambient credential to forge; the signed logout token is the proof.
BACKCHANNEL_LOGOUT_PATH = "/sign-in/oidc/backchannel-logout"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Requests the page makes on its own, on a timer: they read the session but do not count as
# activity, so polling cannot hold off the idle lock (CJIS AC-11). The notification badge and
# the live work-group agenda poll.
PASSIVE_PATHS = re.compile(r"^/notifications/badge$|^/work-group/meetings/\d+/live$")


async def database() -> AsyncIterator[Session]:
    """The request's database session. Opening one does no I/O, so it happens on the event
    loop; closing it returns the connection (a round trip), so that goes to the threadpool.
    A sync generator here would cost two threadpool hops on every request instead of one."""
    session = Session(get_engine(), expire_on_commit=False)
    try:
        yield session
    finally:
        # Shielded: a request cancelled here (the client went away) still returns its
        # connection now, not whenever the garbage collector finds the session.
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(session.close)


DB = Annotated[Session, Depends(database)]


class SignInRequired(Exception):
    """Raised for a page request without a live session; answered with a redirect."""


class FormKept(SignInRequired):
    """The session ended by a time limit while its person was writing: the form was kept
    (hub.accounts.kept_forms), and sign-in will offer it back."""


def _bearer(request: Request) -> str | None:
    """An API token, honoured only under /api/: pages are for people with a session, and a
    token that leaked must not open them (nor skip their CSRF check)."""
    if not request.url.path.startswith("/api/"):
        return None
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def optional_viewer(request: Request, db: DB) -> Viewer | None:
    """The viewer behind this request's session cookie or bearer token, if any is live."""
    token = _bearer(request)
    if token is not None:
        grant = load_api_grant(db, token)
        if grant is None:
            # An agency system's OAuth 2 token (hub.apiclients), or no one.
            return client_viewer(db, token)
        return viewer_for(db, grant[0], token_scope=grant[1])
    cookie = request.cookies.get(get_settings().session_cookie_name)
    if not cookie:
        return None
    passive = PASSIVE_PATHS.match(request.url.path) is not None
    loaded = load_session(db, cookie, touch=not passive)
    if loaded is None or not loaded[0].mfa_passed:
        return None
    record, user, agency = loaded
    return viewer_for(db, user, record, agency)


async def current_viewer(  # no I/O: async spares a threadpool hop
    request: Request, viewer: Annotated[Viewer | None, Depends(optional_viewer)]
) -> Viewer:
    if viewer is not None:
        return viewer
    if request.url.path.startswith("/api/"):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "A valid bearer token is required.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    raise SignInRequired()


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


def require(action: Action) -> Callable[..., Awaitable[Viewer]]:
    """A dependency that admits only viewers whose role holds the action. A refusal is itself
    a security event (ASVS V16: log authorization failures; the privacy console flags them)."""

    # async: a permitted request (nearly all) costs no threadpool hop; a refusal writes its
    # log entry in the threadpool, never on the event loop.
    async def _require(request: Request, db: DB, viewer: CurrentViewer) -> Viewer:
        if not allowed(viewer.role, action):
            await run_in_threadpool(_log_refusal, db, log_actor(request, viewer), action, request)
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Your role does not allow this.")
        return viewer

    _require.__name__ = f"require_{action.name}"
    return _require


def _log_refusal(db: Session, actor: Actor, action: Action, request: Request) -> None:
    # The path holds record numbers at most, never personal data.
    append_refusal(db, actor, {"action": action.value, "path": request.url.path})


def refused_as_not_found(
    request: Request,
    db: Session,
    viewer: Viewer,
    action: Action,
    message: str,
    **record: int,
) -> HTTPException:
    """Another's record answers as none (404), and the attempt is still a refused access:
    logged, after rolling back whatever the refused step began, as a security event naming
    the attempted record number (`record`, e.g. referral_id=7), never its content (ASVS V16).
    The caller raises what this returns."""
    db.rollback()
    detail: dict[str, object] = {"action": action.value, "path": request.url.path, **record}
    append_refusal(db, log_actor(request, viewer), detail)
    return HTTPException(status.HTTP_404_NOT_FOUND, message)


async def site_time_zone(db: DB) -> None:
    """The site's time zone for this request's pages (hub.web.templating's `site_time`): a
    dictionary look-up on the event loop, and at most once a minute a read in the threadpool."""
    # async, setting a context variable on the request's own task: the route, sync or async,
    # runs in a copy of this context.
    zone = known_site_zone(db)
    if zone is None:
        zone = await run_in_threadpool(site_zone, db)
    use_site_zone(zone)


def anonymous_csrf_token(cookie_value: str) -> str:
    """The token a sign-in form must echo: bound to the browser's pre-session cookie."""
    secret = get_settings().secret_key
    assert secret is not None
    return hmac.new(
        secret.get_secret_value().encode(), cookie_value.encode(), hashlib.sha256
    ).hexdigest()


async def csrf_protect(
    request: Request, db: DB, viewer: Annotated[Viewer | None, Depends(optional_viewer)]
) -> None:
    """Every state-changing request carries the session's CSRF token, as a form field or, from
    htmx, as the X-CSRF-Token header (hx-headers on <body>). Bearer-token API calls carry no
    cookie and so need none."""
    if request.method in SAFE_METHODS or _bearer(request) is not None:
        return
    if request.url.path.startswith(("/api/", "/oauth/")) and not request.cookies:
        # No cookie, so no ambient credential to forge: the route's own check answers 401
        # (/oauth/: the client authenticates itself in the request, RFC 6749 2.3).
        return
    if request.url.path == BACKCHANNEL_LOGOUT_PATH and not request.cookies:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if viewer is not None and viewer.csrf_token is not None:
        expected: str | None = viewer.csrf_token
    else:
        # Before sign-in completes (the password and second-factor forms), the token is bound
        # to a pre-session cookie; a half-signed-in session has its own token too.
        expected = _presession_csrf(request)
    if not tokens_match(expected, given) and viewer is None and await _kept(request, db, given):
        raise FormKept()
    if not tokens_match(expected, given):
        # A refused request (ASVS V16), logged with no user when there is no session.
        await run_in_threadpool(_log_csrf_failure, db, log_actor(request, viewer), request)
        raise HTTPException(status.HTTP_403_FORBIDDEN, "The form has expired; reload the page.")


async def _kept(request: Request, db: Session, given: str | None) -> bool:
    """Keeps a form posted with the token of a session that has just timed out. URL-encoded
    forms only: a file upload is never kept."""
    cookie = request.cookies.get(get_settings().session_cookie_name)
    content_type = request.headers.get("content-type", "")
    if not cookie or not content_type.startswith("application/x-www-form-urlencoded"):
        return False
    form = await request.form()
    fields = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    actor = log_actor(request, None)
    return await run_in_threadpool(keep_form, db, cookie, given, request.url.path, fields, actor)


def _log_csrf_failure(db: Session, actor: Actor, request: Request) -> None:
    # The route's pattern and its numeric parameters only: the path of a forged request is
    # whatever its sender wrote.
    route = request.scope.get("route")
    record = {k: int(v) for k, v in request.path_params.items() if str(v).isdigit()}
    detail = {"action": "csrf", "route": getattr(route, "path", None), **record}
    append_refusal(db, actor, detail)


def _presession_csrf(request: Request) -> str | None:
    cookie = request.cookies.get(ANONYMOUS_CSRF_COOKIE)
    return anonymous_csrf_token(cookie) if cookie else None


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def log_actor(request: Request, viewer: Viewer | None) -> Actor:
    """Who and where, for hub.audit.log entries made while answering this request."""
    return Actor(
        user_id=viewer.user_id if viewer else None,
        role=viewer.role.value if viewer else None,
        agency_id=viewer.agency_id if viewer else None,
        request_id=getattr(request.state, "request_id", None),
        address=client_address(request),
    )
