"""Administration of users and agencies. Thin: the agency scope and every rule are checked in
hub.accounts.services (Scope); these routes only declare the action they need."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from hub.accounts import services
from hub.accounts.models import User
from hub.accounts.pages import (
    AdminAgenciesPage,
    AdminAgencyPage,
    AdminPolicyPage,
    AdminUserPage,
    AdminUsersPage,
    AgencyRow,
    ReleaseRow,
    UserRow,
)
from hub.accounts.routes import browser_viewer
from hub.accounts.services import AccountError, NotPermitted, Scope
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.disclosure import releases
from hub.vocabulary import ROLES_BY_AGENCY_KIND, Action, AgencyKind, Role
from hub.web.dependencies import DB, log_actor, require
from hub.web.params import RecordNumber
from hub.web.templating import render

router = APIRouter(prefix="/admin")


def _manager(action: Action) -> Callable[[Viewer], Viewer]:
    def _check(viewer: Annotated[Viewer, Depends(require(action))]) -> Viewer:
        return browser_viewer(viewer)

    return _check


UserManager = Annotated[Viewer, Depends(_manager(Action.admin_users_manage))]
PolicyReleaser = Annotated[Viewer, Depends(_manager(Action.admin_policy_release))]
AgencyManager = Annotated[Viewer, Depends(_manager(Action.admin_agencies_manage))]


def _roles(agency_kind: AgencyKind) -> list[Role]:
    return sorted(ROLES_BY_AGENCY_KIND[agency_kind], key=lambda r: r.value)


def _agency_rows(db: Session, scope: Scope) -> list[AgencyRow]:
    return [AgencyRow.of(a, _roles(a.kind)) for a in services.list_agencies(db, scope)]


def _users_page(db: Session, viewer: Viewer, **extra: object) -> AdminUsersPage:
    scope = Scope.of(viewer)
    agencies = _agency_rows(db, scope)
    return AdminUsersPage(
        title="Users",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        users=[UserRow.of(u, a) for u, a in services.list_users(db, scope)],
        agencies=agencies,
        roles=sorted({r for a in agencies for r in a.roles}, key=lambda r: r.value),
        **extra,  # type: ignore[arg-type]
    )


def _refused(error: AccountError) -> None:
    if isinstance(error, NotPermitted):
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(error)) from error


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, db: DB, viewer: UserManager) -> Response:
    return render(request, "admin/users.html", _users_page(db, viewer))


@router.post("/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    db: DB,
    viewer: UserManager,
    email: Annotated[str, Form(max_length=254)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[Role | None, Form()] = None,
    agency_id: Annotated[RecordNumber, Form()] = 0,
) -> Response:
    try:
        if role is None:
            raise AccountError("Choose a role.")
        user, password = services.create_user(
            db,
            log_actor(request, viewer),
            Scope.of(viewer),
            email=email,
            display_name=display_name,
            role=role,
            agency_id=agency_id,
        )
    except AccountError as refused:
        _refused(refused)
        page = _users_page(db, viewer, error=str(refused))
        return render(request, "admin/users.html", page, status.HTTP_400_BAD_REQUEST)
    # Shown once, on this response only: the manager hands it over; the person enrols a second
    # factor at the first sign-in.
    page = _users_page(db, viewer, created_email=user.email, created_password=password)
    return render(request, "admin/users.html", page, status.HTTP_201_CREATED)


def _user_page(db: Session, viewer: Viewer, user: User, **extra: object) -> AdminUserPage:
    agency = services.agency_of(db, user.agency_id)
    return AdminUserPage(
        title=f"User: {user.display_name}",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        user=UserRow.of(user, agency),
        roles=_roles(agency.kind),
        live_sessions=len(services.active_sessions(db, user.id)),  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_detail(request: Request, db: DB, viewer: UserManager, user_id: RecordNumber) -> Response:
    try:
        user = services.managed_user(
            db, log_actor(request, viewer), Scope.of(viewer), user_id, "view_user"
        )
    except AccountError as refused:
        _refused(refused)
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(refused)) from refused
    return render(request, "admin/user.html", _user_page(db, viewer, user))


def _user_action(
    request: Request,
    db: Session,
    viewer: Viewer,
    user_id: int,
    act: Callable[[], object],
    message: str,
) -> Response:
    """Runs one administrative change and shows the account again, with the outcome."""
    try:
        act()
    except AccountError as refused:
        _refused(refused)
        user = db.get(User, user_id)
        if user is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(refused)) from refused
        page = _user_page(db, viewer, user, error=str(refused))
        return render(request, "admin/user.html", page, status.HTTP_400_BAD_REQUEST)
    user = db.get(User, user_id)
    assert user is not None
    db.refresh(user)
    page = _user_page(db, viewer, user)
    page.messages.append(message)
    return render(request, "admin/user.html", page)


@router.post("/users/{user_id}/role", response_class=HTMLResponse)
def change_role(
    request: Request,
    db: DB,
    viewer: UserManager,
    user_id: RecordNumber,
    role: Annotated[Role, Form()],
) -> Response:
    actor, scope = log_actor(request, viewer), Scope.of(viewer)
    return _user_action(
        request,
        db,
        viewer,
        user_id,
        lambda: services.change_role(db, actor, scope, user_id, role),
        "The role is changed; the account's sessions ended.",
    )


UserChange = Callable[[Session, Actor, Scope, int], object]

# One button each on the account's page: path, service, what the manager is told.
_USER_CHANGES: list[tuple[str, UserChange, str]] = [
    ("disable", services.disable_user, "The account is disabled and its sessions ended."),
    ("enable", services.enable_user, "The account is active again."),
    ("release", services.release_lockout, "The lockout is released."),
    (
        "reset-mfa",
        services.reset_mfa,
        "The second factor is removed; the person sets up a new one at the next sign-in.",
    ),
    ("end-sessions", services.end_user_sessions, "Every session of the account has ended."),
]


def _add_user_change(path: str, change: UserChange, message: str) -> None:
    def user_change(
        request: Request, db: DB, viewer: UserManager, user_id: RecordNumber
    ) -> Response:
        actor, scope = log_actor(request, viewer), Scope.of(viewer)
        return _user_action(
            request, db, viewer, user_id, lambda: change(db, actor, scope, user_id), message
        )

    router.add_api_route(
        f"/users/{{user_id}}/{path}",
        user_change,
        methods=["POST"],
        response_class=HTMLResponse,
        name=f"user_{path.replace('-', '_')}",
    )


for _path, _change, _message in _USER_CHANGES:
    _add_user_change(_path, _change, _message)


# --- agencies ---------------------------------------------------------------------------------


def _agencies_page(db: Session, viewer: Viewer, **extra: object) -> AdminAgenciesPage:
    scope = Scope.of(viewer)
    return AdminAgenciesPage(
        title="Agencies",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        agencies=_agency_rows(db, scope),
        kinds=list(AgencyKind),
        can_create=scope.all_agencies,
        **extra,  # type: ignore[arg-type]
    )


@router.get("/agencies", response_class=HTMLResponse)
def agencies(request: Request, db: DB, viewer: AgencyManager) -> Response:
    return render(request, "admin/agencies.html", _agencies_page(db, viewer))


@router.post("/agencies", response_class=HTMLResponse)
def create_agency(
    request: Request,
    db: DB,
    viewer: AgencyManager,
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[AgencyKind | None, Form()] = None,
    jurisdiction: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        if kind is None:
            raise AccountError("Choose the kind of agency.")
        services.create_agency(
            db,
            log_actor(request, viewer),
            Scope.of(viewer),
            name=name,
            kind=kind,
            jurisdiction=jurisdiction,
        )
    except AccountError as refused:
        _refused(refused)
        page = _agencies_page(db, viewer, error=str(refused))
        return render(request, "admin/agencies.html", page, status.HTTP_400_BAD_REQUEST)
    return RedirectResponse("/admin/agencies", status_code=status.HTTP_303_SEE_OTHER)


def _agency_page(db: Session, viewer: Viewer, agency_id: int, **extra: object) -> AdminAgencyPage:
    agency = services.agency_of(db, agency_id)
    return AdminAgencyPage(
        title=f"Agency: {agency.name}",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        agency=AgencyRow.of(agency, _roles(agency.kind)),
        **extra,  # type: ignore[arg-type]
    )


@router.get("/agencies/{agency_id}", response_class=HTMLResponse)
def agency_detail(
    request: Request, db: DB, viewer: AgencyManager, agency_id: RecordNumber
) -> Response:
    if not Scope.of(viewer).covers(agency_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "That agency is not yours to manage.")
    try:
        page = _agency_page(db, viewer, agency_id)
    except AccountError as refused:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(refused)) from refused
    return render(request, "admin/agency.html", page)


@router.post("/agencies/{agency_id}", response_class=HTMLResponse)
def update_agency(
    request: Request,
    db: DB,
    viewer: AgencyManager,
    agency_id: RecordNumber,
    name: Annotated[str, Form(max_length=200)] = "",
    jurisdiction: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        services.update_agency(
            db,
            log_actor(request, viewer),
            Scope.of(viewer),
            agency_id,
            name=name,
            jurisdiction=jurisdiction,
        )
    except AccountError as refused:
        _refused(refused)
        try:
            page = _agency_page(db, viewer, agency_id, error=str(refused))
        except AccountError as missing:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing)) from missing
        return render(request, "admin/agency.html", page, status.HTTP_400_BAD_REQUEST)
    page = _agency_page(db, viewer, agency_id)
    page.messages.append("The agency is saved.")
    return render(request, "admin/agency.html", page)


# --- the disclosure policy --------------------------------------------------------------------


def _policy_page(db: Session, viewer: Viewer, **extra: object) -> AdminPolicyPage:
    history = releases.release_history(db)
    names = services.display_names(db, (r.released_by_id for r in history if r.released_by_id))
    rows = [
        ReleaseRow(
            id=r.id,  # type: ignore[arg-type]
            version=r.version,
            released_at=r.released_at,
            released_by="command line"
            if r.released_by_id is None
            else names.get(r.released_by_id, f"account {r.released_by_id}"),
            via=r.released_via.replace("_", " "),
        )
        for r in history
    ]
    try:
        in_force, applicable = releases.policy_in_force(db).version, True
    except releases.PolicyUnavailable:
        # The page stays up, so that a policy that compiles can be released from it.
        in_force, applicable = history[0].version, False
    deployed = releases.deployed_policy()
    return AdminPolicyPage(
        title="Disclosure policy",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        in_force_version=in_force,
        in_force_applicable=applicable,
        in_force_release=rows[0] if rows else None,
        in_force_text=history[0].policy_text if history else (deployed.policy_text or ""),
        deployed_version=deployed.version,
        can_release=releases.may_release(viewer),
        releases=rows,
        **extra,  # type: ignore[arg-type]
    )


@router.get("/policy", response_class=HTMLResponse)
def policy(request: Request, db: DB, viewer: PolicyReleaser) -> Response:
    return render(request, "admin/policy.html", _policy_page(db, viewer))


@router.post("/policy/release", response_class=HTMLResponse)
def release_policy(request: Request, db: DB, viewer: PolicyReleaser) -> Response:
    """Releases the policy files deployed on this server, as `hub policy release` does."""
    try:
        released = releases.release_policy(
            db, log_actor(request, viewer), via=releases.VIA_ADMIN_PAGE, released_by=viewer
        )
    except releases.ReleaseNotPermitted as refused:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(refused)) from refused
    except releases.ReleaseError as refused:
        page = _policy_page(db, viewer, error=f"Not released: {refused}")
        return render(request, "admin/policy.html", page, status.HTTP_400_BAD_REQUEST)
    page = _policy_page(db, viewer)
    page.messages.append(
        f"Policy {released.release.version[:12]} is released; every server applies it within "
        "a second."
    )
    return render(request, "admin/policy.html", page)
