"""The application: middleware, error pages, and every domain's routes."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from hub.accounts import admin_routes as accounts_admin
from hub.accounts import kept_form_routes as kept_forms
from hub.accounts import routes as accounts
from hub.apiclients import oauth as api_client_oauth
from hub.apiclients import routes as api_clients
from hub.arrests import api as arrests_api
from hub.arrests import routes as arrests
from hub.audit import routes as log_tiles
from hub.audit.checkpoint import run_checkpointer
from hub.audit.witnessing import checkpoint_and_witness_round
from hub.caserecord import api as caserecord_api
from hub.caserecord import caseload_routes as caseload
from hub.caserecord import routes as caserecord
from hub.charging import api as charging_api
from hub.charging import period_api as charging_period_api
from hub.charging import queue_routes as charging_queue
from hub.charging import routes as charging
from hub.clients import api as clients_api
from hub.clients import routes as clients
from hub.clients.purposes import NoRecordPurpose
from hub.db import check_schema_current, get_engine
from hub.defense import routes as defense
from hub.disclosure import routes as privacy_actions
from hub.disclosure.releases import PolicyUnavailable, heard_of_a_release, policy_in_force
from hub.disclosure.watcher import start_watching, stop_watching
from hub.documents import routes as documents
from hub.equity import routes as equity
from hub.hearings import routes as hearings
from hub.identity import routes as identity
from hub.notifications import routes as notifications
from hub.person_merges import routes as person_merges
from hub.plans import api as plans_api
from hub.plans import routes as plans
from hub.priors import routes as priors
from hub.privacy import accounting_routes as privacy_accounting
from hub.privacy import flag_routes as privacy_flags
from hub.privacy import picker_routes as privacy_picker
from hub.privacy import routes as privacy_console
from hub.privacy.flag_rounds import run_flag_rounds
from hub.referrals import api as referrals_api
from hub.referrals import correction_routes as referral_corrections
from hub.referrals import feedback_routes as referral_feedback
from hub.referrals import intake_routes as referral_intake
from hub.referrals import routes as referrals
from hub.research import routes as research
from hub.services_ledger import routes as services_ledger
from hub.settings import PROJECT_ROOT, get_settings
from hub.web import home
from hub.web.admission import AdmissionLimit
from hub.web.dependencies import (
    PASSIVE_PATHS,
    FormKept,
    SignInRequired,
    csrf_protect,
    site_time_zone,
)
from hub.web.readable import ReadableForms, readable_input
from hub.web.security import SecurityHeaders
from hub.web.templating import Page, render
from hub.workgroup import item_routes as workgroup_items
from hub.workgroup import meeting_routes as workgroup_meetings
from hub.workgroup import routes as workgroup

log = logging.getLogger("hub")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Refuse to serve a database whose schema is behind the code (hub.db.SchemaBehind).
    check_schema_current(get_engine())
    # Compile the policy in force before the first request: otherwise every worker's first
    # requests compile it at once, in the threadpool, each paying a fraction of a second. A
    # release that cannot be compiled is refused at each decision (fail closed), not here.
    with contextlib.suppress(PolicyUnavailable), Session(get_engine()) as db:
        policy_in_force(db)
    # Signs a checkpoint whenever the log has grown (hub.audit.checkpoint); one per process,
    # and an advisory lock lets only one of them sign at a time. Then asks the witnesses to
    # cosign it (hub.audit.witnessing), in the same worker thread, never in a request.
    checkpointer = asyncio.create_task(
        run_checkpointer(get_settings().checkpoint_interval_seconds, checkpoint_and_witness_round),
        name="checkpointer",
    )
    # Review flags without a button or a cron job (hub.privacy.flag_rounds).
    flagger = asyncio.create_task(
        run_flag_rounds(get_settings().flags_interval_seconds), name="flag-rounds"
    )
    # Hears of policy releases through Redis when HUB_REDIS_URL is set; the version check in
    # hub.disclosure.releases finds them within half a second without it.
    watcher = start_watching(get_engine(), heard_of_a_release)
    yield
    stop_watching(watcher)
    for task in (checkpointer, flagger):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Hub(FastAPI):
    """FastAPI with the security headers outside everything else, Starlette's
    ServerErrorMiddleware included: add_middleware can only place a middleware inside it, so
    the 500 page that the Exception handler renders there went out without the headers."""

    def build_middleware_stack(self) -> ASGIApp:
        stack: ASGIApp = SecurityHeaders(super().build_middleware_stack())
        trusted = get_settings().trusted_proxy_list
        if trusted:
            # Outermost: the client's address and scheme are settled before anything reads them
            # (the log's actor, the sign-in limits, HSTS). Only the proxies' headers count.
            stack = ProxyHeadersMiddleware(stack, trusted_hosts=trusted)  # type: ignore[arg-type,assignment]
        return stack


def create_app() -> FastAPI:
    app = Hub(
        title="Diversion Hub",
        summary="The shared system of a pre-booking diversion program.",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(readable_input), Depends(csrf_protect), Depends(site_time_zone)],
        # /api/docs is home.api_docs_page: FastAPI's Swagger UI page has an inline script and
        # loads Swagger UI from a CDN unpinned, both refused by the CSP.
        docs_url=None,
        openapi_url="/api/openapi.json",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,  # no OAuth flow in the docs: one public page fewer
    )
    # Inside SecurityHeaders, which Hub puts around everything; the last added is outermost,
    # so a form body is read only once the request is admitted.
    app.add_middleware(ReadableForms)
    app.add_middleware(AdmissionLimit, limit=get_settings().concurrent_requests)
    app.mount("/static", StaticFiles(directory=str(PROJECT_ROOT / "static")), name="static")
    app.include_router(home.router)
    app.add_route("/healthz/page", home.health_page, include_in_schema=False)
    app.add_route("/api/docs", home.api_docs_page, include_in_schema=False)
    app.include_router(accounts.router)
    app.include_router(kept_forms.router)
    app.include_router(identity.router)
    app.include_router(accounts_admin.router)
    # Before the referral pages: their /referrals/{id} would take /referrals/overrides.
    app.include_router(referral_corrections.router)
    app.include_router(referrals.router)
    app.include_router(referral_feedback.router)
    app.include_router(referral_intake.router)
    app.include_router(charging.router)
    app.include_router(charging_queue.router)
    app.include_router(priors.router)
    app.include_router(notifications.router)
    app.include_router(referrals_api.router)
    app.include_router(charging_api.router)
    app.include_router(charging_period_api.router)
    app.include_router(clients.router)
    app.include_router(clients_api.router)
    app.include_router(caserecord.router)
    app.include_router(caseload.router)
    app.include_router(caserecord_api.router)
    app.include_router(privacy_actions.router)
    app.include_router(workgroup.router)
    app.include_router(workgroup_meetings.router)
    app.include_router(workgroup_items.router)
    app.include_router(privacy_console.router)
    app.include_router(privacy_accounting.router)
    app.include_router(privacy_flags.router)
    app.include_router(privacy_picker.router)
    app.include_router(log_tiles.router)
    app.include_router(research.router)
    app.include_router(arrests.router)
    app.include_router(arrests_api.router)
    app.include_router(hearings.router)
    app.include_router(defense.router)
    app.include_router(api_clients.router)
    app.include_router(api_client_oauth.router)
    app.include_router(plans.router)
    app.include_router(plans_api.router)
    app.include_router(services_ledger.router)
    app.include_router(documents.router)
    app.include_router(person_merges.router)
    app.include_router(equity.router)
    _add_error_pages(app)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _add_error_pages(app: FastAPI) -> None:
    """Error responses say what went wrong in general terms and carry the request id; never
    the data, the query or the stack (no personal data in error pages)."""

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        target = "/sign-in?kept=1" if isinstance(exc, FormKept) else "/sign-in"
        if PASSIVE_PATHS.match(request.url.path):
            # A poll the page makes by itself: it stops (htmx's 286) and leaves the page, and
            # whatever is being typed on it, where it is.
            return Response(status_code=286)
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        # The client closed the connection before its request arrived in full (a closed tab, a
        # load generator cutting a request): not the hub's fault, and nothing was done, since
        # the form that would have said what to do was never read. The answer is for the
        # record only: the server drops it, there is no one left to read it.
        log.info(
            "client disconnected during %s %s before its request arrived in full (request %s)",
            request.method,
            request.url.path,
            getattr(request.state, "request_id", ""),
        )
        return _error(
            request, 400, "The request did not arrive in full; nothing was changed.", None
        )

    # Starlette's class, so the router's own 404 and 405 get the error page too.
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc.__cause__, ClientDisconnect):
            # FastAPI reads a route's form fields itself and turns the disconnect into a 400.
            return await _gone(request, exc.__cause__)
        return _error(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # Name the fields that are wrong, never echo what was sent.
        problems = [
            {"field": ".".join(str(p) for p in error["loc"][1:]), "problem": error["msg"]}
            for error in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse({"detail": problems}, status_code=422)
        text = "; ".join(f"{p['field'] or 'request'}: {p['problem']}" for p in problems)
        return _error(request, 422, f"Some of what was sent is not valid: {text}", None)

    @app.exception_handler(NoRecordPurpose)
    async def _no_purpose(request: Request, exc: NoRecordPurpose) -> Response:
        return _error(request, 403, str(exc), None)

    @app.exception_handler(PolicyUnavailable)
    async def _no_policy(request: Request, exc: PolicyUnavailable) -> Response:
        # Fail closed: the newest policy release cannot be applied, so nothing is decided.
        log.error("no decision: %s (request %s)", exc, request.state.request_id)
        return _error(
            request,
            503,
            "The disclosure policy in force cannot be applied, so no client data can be "
            "shown; nothing was shown or changed. An administrator must release a policy.",
            None,
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.error(
            "unhandled %s on %s %s (request %s)",
            type(exc).__name__,
            request.method,
            request.url.path,
            request.state.request_id,
        )
        return _error(request, 500, "Something went wrong; nothing was shown or changed.", None)


def _error(
    request: Request, status_code: int, message: str, headers: Mapping[str, str] | None
) -> Response:
    request_id = getattr(request.state, "request_id", "")
    if _wants_json(request):
        return JSONResponse(
            {"detail": message, "request_id": request_id},
            status_code=status_code,
            headers=dict(headers or {}),
        )
    response = render(
        request, "error.html", Page(title=f"Error {status_code}", messages=[message]), status_code
    )
    if headers:
        response.headers.update(headers)
    return response
