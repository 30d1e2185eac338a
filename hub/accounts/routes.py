"""Sign-in (password, then a second factor or its enrolment), sign-out and the account page.
Thin: the rules are in hub.accounts (signing_in, second_factor, own_access, enrolment)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from hub.accounts import enrolment, own_access, rules, second_factor, signing_in
from hub.accounts.models import User, UserSession
from hub.accounts.pages import (
    AccountPage,
    EnrolPage,
    RecoveryCodesPage,
    SecondFactorPage,
    SessionRow,
    SignInPage,
    TokenRow,
    WelcomePage,
)
from hub.accounts.rules import AccountError, SignInRateLimited, SignInRefused
from hub.accounts.sessions import Viewer, new_token
from hub.identity.config import SignInButton, sign_in_buttons
from hub.identity.pages import ContinuePage
from hub.identity.services import provider_logout_url
from hub.mail.services import delivery_of, set_delivery
from hub.settings import get_settings
from hub.vocabulary import Action, MailDelivery, TokenScope, UserStatus
from hub.web.dependencies import (
    ANONYMOUS_CSRF_COOKIE,
    DB,
    anonymous_csrf_token,
    log_actor,
    optional_viewer,
    require,
)
from hub.web.params import RecordNumber
from hub.web.templating import Page, is_htmx, render

router = APIRouter()

Password = Annotated[str, Form(max_length=1024)]
Code = Annotated[str, Form(max_length=64)]


# --- cookies ------------------------------------------------------------------------------------


def set_cookie(response: Response, name: str, value: str) -> None:
    """HttpOnly, SameSite=Strict, and Secure with Path=/ for the __Host- prefix (ASVS V3.3)."""
    secure = get_settings().cookie_secure
    response.set_cookie(name, value, httponly=True, samesite="strict", secure=secure, path="/")


def clear_cookie(response: Response, name: str) -> None:
    secure = get_settings().cookie_secure
    response.delete_cookie(name, httponly=True, samesite="strict", secure=secure, path="/")


def _presession(request: Request) -> tuple[str, bool]:
    existing = request.cookies.get(ANONYMOUS_CSRF_COOKIE)
    return (existing, False) if existing else (new_token(), True)


def render_presession(
    request: Request, template: str, page: Page, status_code: int = 200
) -> HTMLResponse:
    """A page before sign-in completes: its forms carry the token bound to the pre-session
    cookie (hub.web.dependencies.anonymous_csrf_token)."""
    cookie, is_new = _presession(request)
    page.csrf_token = anonymous_csrf_token(cookie)
    response = render(request, template, page, status_code)
    if is_new:
        set_cookie(response, ANONYMOUS_CSRF_COOKIE, cookie)
    return response


def _signed_in(response: Response, token: str) -> Response:
    set_cookie(response, get_settings().session_cookie_name, token)
    clear_cookie(response, ANONYMOUS_CSRF_COOKIE)
    return response


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def _user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


# --- sign-in ------------------------------------------------------------------------------------


KEPT_MESSAGE = (
    "You were signed out after a time without activity. What you were sending is kept for "
    "24 hours: sign in again and your home page offers it back."
)


def _sign_in_page(
    request: Request,
    error: str | None,
    email: str,
    code: int,
    providers: list[SignInButton] | None = None,
    messages: list[str] | None = None,
) -> HTMLResponse:
    page = SignInPage(
        title="Sign in",
        email=email,
        error=error,
        providers=providers or [],
        messages=messages or [],
    )
    return render_presession(request, "accounts/sign_in.html", page, code)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(
    request: Request, db: DB, viewer: Annotated[Viewer | None, Depends(optional_viewer)]
) -> Response:
    if viewer is not None:
        return _redirect("/")
    kept = request.query_params.get("kept") == "1"
    messages = [KEPT_MESSAGE] if kept else None
    return _sign_in_page(request, None, "", 200, sign_in_buttons(db), messages)


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in_submit(
    request: Request,
    db: DB,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Password = "",
) -> Response:
    try:
        half = signing_in.sign_in_with_password(
            db, email, password, actor=log_actor(request, None), user_agent=_user_agent(request)
        )
    except SignInRateLimited as limited:
        return _sign_in_page(request, str(limited), email, status.HTTP_429_TOO_MANY_REQUESTS)
    except SignInRefused as refused:
        code = status.HTTP_401_UNAUTHORIZED
        return _sign_in_page(request, str(refused), email, code, sign_in_buttons(db))
    response = _redirect("/sign-in/enrol" if half.needs_enrolment else "/sign-in/second-factor")
    set_cookie(response, get_settings().session_cookie_name, half.token)
    return response


def _half_session(request: Request, db: Session) -> tuple[UserSession, User] | None:
    token = request.cookies.get(get_settings().session_cookie_name)
    return signing_in.load_half_session(db, token) if token else None


@router.get("/sign-in/second-factor", response_class=HTMLResponse)
def second_factor_form(request: Request, db: DB) -> Response:
    half = _half_session(request, db)
    if half is None:
        return _redirect("/sign-in")
    if not second_factor.has_second_factor(half[1]):
        return _redirect("/sign-in/enrol")
    page = SecondFactorPage(title="Second factor")
    return render_presession(request, "accounts/second_factor.html", page)


def _refused_at_second_step(
    request: Request, half: UserSession, template: str, page: Page
) -> Response:
    if half.ended_at is not None:
        # The failure locked the account: start again from the password, told nothing more.
        response = _sign_in_page(request, rules.GENERIC_FAILURE, "", status.HTTP_401_UNAUTHORIZED)
        clear_cookie(response, get_settings().session_cookie_name)
        return response
    return render_presession(request, template, page, status.HTTP_401_UNAUTHORIZED)


@router.post("/sign-in/second-factor", response_class=HTMLResponse)
def second_factor_submit(request: Request, db: DB, code: Code = "") -> Response:
    half = _half_session(request, db)
    if half is None:
        return _redirect("/sign-in")
    session, user = half
    try:
        token = signing_in.pass_second_factor(
            db,
            session,
            user,
            code,
            actor=log_actor(request, None),
            user_agent=_user_agent(request),
        )
    except SignInRateLimited as limited:
        page = SecondFactorPage(title="Second factor", error=str(limited))
        return render_presession(request, "accounts/second_factor.html", page, 429)
    except SignInRefused as refused:
        page = SecondFactorPage(title="Second factor", error=str(refused))
        return _refused_at_second_step(request, session, "accounts/second_factor.html", page)
    return _signed_in(_redirect("/"), token)


@router.get("/sign-in/enrol", response_class=HTMLResponse)
def enrol_form(request: Request, db: DB) -> Response:
    half = _half_session(request, db)
    if half is None:
        return _redirect("/sign-in")
    enrolment = second_factor.pending_enrolment(*half)
    if enrolment is None:
        return _redirect("/sign-in/second-factor")
    page = EnrolPage(title="Set up your second factor", enrolment=enrolment)
    return render_presession(request, "accounts/enrol.html", page)


@router.post("/sign-in/enrol", response_class=HTMLResponse)
def enrol_submit(request: Request, db: DB, code: Code = "") -> Response:
    half = _half_session(request, db)
    if half is None:
        return _redirect("/sign-in")
    session, user = half
    try:
        token, codes = signing_in.enrol_during_sign_in(
            db, session, user, code, actor=log_actor(request, None), user_agent=_user_agent(request)
        )
    except SignInRateLimited as limited:
        page = EnrolPage(title="Set up your second factor", error=str(limited))
        page.enrolment = second_factor.pending_enrolment(session, user)
        return render_presession(request, "accounts/enrol.html", page, 429)
    except AccountError as refused:
        page = EnrolPage(title="Set up your second factor", error=str(refused))
        page.enrolment = second_factor.pending_enrolment(session, user)
        return _refused_at_second_step(request, session, "accounts/enrol.html", page)
    shown = RecoveryCodesPage(title="Your recovery codes", codes=codes)
    return _signed_in(render(request, "accounts/recovery_codes.html", shown), token)


# --- the enrolment link: a new user sets their own password and second factor ------------------


def _welcome(
    request: Request, db: Session, token: str, error: str | None = None, code: int = 200
) -> Response:
    found = enrolment.enrolment_link(db, token)
    if found is None:
        bad = SignInPage(title="Enrolment link", error=enrolment.BAD_LINK)
        return render_presession(request, "accounts/sign_in.html", bad, status.HTTP_404_NOT_FOUND)
    link, user = found
    page = WelcomePage(
        title="Set up your account",
        email=user.email,
        enrolment=enrolment.link_enrolment(link, user),
        action=rules.ENROLMENT_PATH + token,
        error=error,
    )
    return render_presession(request, "accounts/welcome.html", page, code)


# The token is a secret in the path, as in any one-time link: Referrer-Policy no-referrer keeps
# it from other sites, and it works once.
@router.get("/sign-in/welcome/{token}", response_class=HTMLResponse)
def welcome_form(request: Request, db: DB, token: str) -> Response:
    return _welcome(request, db, token)


@router.post("/sign-in/welcome/{token}", response_class=HTMLResponse)
def welcome_submit(
    request: Request,
    db: DB,
    token: str,
    new_password: Password = "",
    new_password_again: Password = "",
    code: Code = "",
) -> Response:
    try:
        enrolled = enrolment.complete_enrolment(
            db, log_actor(request, None), token, new_password, new_password_again, code
        )
    except AccountError as refused:
        return _welcome(request, db, token, str(refused), status.HTTP_400_BAD_REQUEST)
    shown = RecoveryCodesPage(title="Your recovery codes", codes=enrolled.recovery_codes)
    shown.continue_url = "/sign-in"
    if not enrolled.active:
        shown.messages.append(
            "Your password and second factor are set. Your account waits for a second person "
            "to approve it; you can sign in once they have."
        )
    return render_presession(request, "accounts/recovery_codes.html", shown)


@router.post("/sign-out")
def sign_out(
    request: Request,
    db: DB,
    viewer: Annotated[Viewer | None, Depends(optional_viewer)],
) -> Response:
    at_provider = None
    if viewer is not None and viewer.session_id is not None:
        signing_in.sign_out(db, log_actor(request, viewer), viewer.session_id)
        # RP-initiated logout: an account that signs in through its agency's provider is
        # signed out there too.
        at_provider = provider_logout_url(db, viewer.user_id)
    response: Response = _redirect("/sign-in")
    if at_provider is not None:
        page = ContinuePage(title="Signing out at your agency", next_url=at_provider)
        response = render(request, "identity/continue.html", page)
    clear_cookie(response, get_settings().session_cookie_name)
    return response


# --- the account page ---------------------------------------------------------------------------


def browser_viewer(
    viewer: Annotated[Viewer, Depends(require(Action.account_manage_own))],
) -> Viewer:
    """Accounts are managed from a signed-in browser, never with an API token."""
    if viewer.session_id is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Sign in with a browser to do this.")
    return viewer


AccountViewer = Annotated[Viewer, Depends(browser_viewer)]


def _own(db: Session, viewer: Viewer) -> tuple[User, UserSession]:
    user = db.get(User, viewer.user_id)
    session = db.get(UserSession, viewer.session_id)
    assert user is not None and session is not None
    return user, session


def account_page(db: Session, viewer: Viewer, **extra: Any) -> AccountPage:
    user, _ = _own(db, viewer)
    return AccountPage(
        title="Your account",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        email=user.email,
        mfa_enrolled_at=user.mfa_enrolled_at,
        recovery_codes_left=second_factor.unused_recovery_codes(db, user),
        password_changed_at=user.password_changed_at,
        sessions=[
            SessionRow.of(s, viewer.session_id)
            for s in own_access.active_sessions(db, viewer.user_id)
        ],
        tokens=[TokenRow.of(t) for t in own_access.api_tokens(db, viewer.user_id)],
        mail_delivery=delivery_of(db, viewer.user_id),
        **extra,
    )


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, db: DB, viewer: AccountViewer) -> Response:
    return render(request, "accounts/account.html", account_page(db, viewer))


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    db: DB,
    viewer: AccountViewer,
    current_password: Password = "",
    new_password: Password = "",
    new_password_again: Password = "",
) -> Response:
    user, _ = _own(db, viewer)
    try:
        ended = own_access.change_password(
            db,
            log_actor(request, viewer),
            user,
            viewer.session_id,
            current_password,
            new_password,
            new_password_again,
        )
    except AccountError as refused:
        if user.status != UserStatus.active:
            return _redirect("/sign-in")  # the failure locked the account; its sessions ended
        page = account_page(db, viewer, error=str(refused))
        return render(request, "accounts/account.html", page, status.HTTP_400_BAD_REQUEST)
    page = account_page(db, viewer)
    page.messages.append(f"Your password is changed. Other sessions ended: {ended}.")
    return render(request, "accounts/account.html", page)


@router.post("/account/sessions/{session_id}/end", response_class=HTMLResponse)
def end_session(
    request: Request, db: DB, viewer: AccountViewer, session_id: RecordNumber
) -> Response:
    try:
        own_access.end_own_session(db, log_actor(request, viewer), viewer.user_id, session_id)
    except AccountError as refused:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(refused)) from refused
    if session_id == viewer.session_id:
        response: Response = (
            Response(status_code=200, headers={"HX-Redirect": "/sign-in"})
            if is_htmx(request)
            else _redirect("/sign-in")
        )
        clear_cookie(response, get_settings().session_cookie_name)
        return response
    if is_htmx(request):
        return render(request, "accounts/_sessions.html", account_page(db, viewer))
    return _redirect("/account")


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    db: DB,
    viewer: AccountViewer,
    name: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[int, Form(ge=0, le=10_000)] = rules.API_TOKEN_DEFAULT_DAYS,
    scope: Annotated[TokenScope, Form()] = TokenScope.read,
) -> Response:
    user, _ = _own(db, viewer)
    template = "accounts/_tokens.html" if is_htmx(request) else "accounts/account.html"
    try:
        token = own_access.create_api_token(
            db, log_actor(request, viewer), user, name, days, scope=scope
        )
    except AccountError as refused:
        page = account_page(db, viewer, error=str(refused))
        # htmx swaps only 2xx answers: the fragment carries the error itself.
        code = status.HTTP_200_OK if is_htmx(request) else status.HTTP_400_BAD_REQUEST
        return render(request, template, page, code)
    return render(request, template, account_page(db, viewer, new_token=token))


@router.post("/account/mail", response_class=HTMLResponse)
def choose_mail(
    request: Request,
    db: DB,
    viewer: AccountViewer,
    delivery: Annotated[MailDelivery, Form()],
) -> Response:
    """How the person wants notifications by e-mail (security alerts always go at once)."""
    set_delivery(db, viewer.user_id, delivery)
    page = account_page(db, viewer)
    page.messages.append("Your choice of e-mail is saved.")
    return render(request, "accounts/account.html", page)


@router.post("/account/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke_token(
    request: Request, db: DB, viewer: AccountViewer, token_id: RecordNumber
) -> Response:
    try:
        own_access.revoke_api_token(db, log_actor(request, viewer), viewer.user_id, token_id)
    except AccountError as refused:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(refused)) from refused
    if is_htmx(request):
        return render(request, "accounts/_tokens.html", account_page(db, viewer))
    return _redirect("/account")


@router.post("/account/mfa/start", response_class=HTMLResponse)
def start_reenrolment(
    request: Request, db: DB, viewer: AccountViewer, current_password: Password = ""
) -> Response:
    user, session = _own(db, viewer)
    try:
        own_access.start_reenrolment(
            db, log_actor(request, viewer), user, session, current_password
        )
    except AccountError as refused:
        if user.status != UserStatus.active:
            return _redirect("/sign-in")
        page = account_page(db, viewer, error=str(refused))
        return render(request, "accounts/account.html", page, status.HTTP_400_BAD_REQUEST)
    return _redirect("/account/mfa")


def _reenrol_page(
    viewer: Viewer, enrolment: second_factor.Enrolment | None, error: str | None = None
) -> EnrolPage:
    return EnrolPage(
        title="Set up a new second factor",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        enrolment=enrolment,
        action="/account/mfa",
        error=error,
    )


@router.get("/account/mfa", response_class=HTMLResponse)
def reenrolment_form(request: Request, db: DB, viewer: AccountViewer) -> Response:
    user, session = _own(db, viewer)
    enrolment = second_factor.pending_enrolment(session, user)
    if enrolment is None:
        return _redirect("/account")
    return render(request, "accounts/enrol.html", _reenrol_page(viewer, enrolment))


@router.post("/account/mfa", response_class=HTMLResponse)
def reenrolment_submit(
    request: Request, db: DB, viewer: AccountViewer, code: Code = ""
) -> Response:
    user, session = _own(db, viewer)
    try:
        codes = own_access.confirm_reenrolment(db, log_actor(request, viewer), user, session, code)
    except AccountError as refused:
        page = _reenrol_page(viewer, second_factor.pending_enrolment(session, user), str(refused))
        return render(request, "accounts/enrol.html", page, status.HTTP_400_BAD_REQUEST)
    shown = RecoveryCodesPage(
        title="Your new recovery codes",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        codes=codes,
        continue_url="/account",
    )
    return render(request, "accounts/recovery_codes.html", shown)
