"""Administration of users and agencies. Thin: the agency scope and every rule are checked in
hub.accounts.administration (Scope); these routes only declare the action they need."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from hub.accounts import administration, approvals, own_access, rules
from hub.accounts.administration import Scope
from hub.accounts.models import User
from hub.accounts.pages import (
    AdminAgenciesPage,
    AdminAgencyPage,
    AdminPolicyPage,
    AdminUserPage,
    AdminUsersPage,
    AgencyRow,
    ApprovalsPage,
    ReleaseRow,
    RequestRow,
    UserRow,
)
from hub.accounts.routes import browser_viewer
from hub.accounts.rules import AccountError, NotPermitted
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.db import ident
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
AccessApprover = Annotated[Viewer, Depends(_manager(Action.access_approve))]


def _roles(agency_kind: AgencyKind) -> list[Role]:
    return sorted(ROLES_BY_AGENCY_KIND[agency_kind], key=lambda r: r.value)


def _agency_rows(db: Session, scope: Scope) -> list[AgencyRow]:
    return [AgencyRow.of(a, _roles(a.kind)) for a in administration.list_agencies(db, scope)]


def _users_page(db: Session, viewer: Viewer, **extra: Any) -> AdminUsersPage:
    scope = Scope.of(viewer)
    agencies = _agency_rows(db, scope)
    return AdminUsersPage(
        title="Users",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        users=[UserRow.of(u, a) for u, a in administration.list_users(db, scope)],
        agencies=agencies,
        roles=sorted({r for a in agencies for r in a.roles}, key=lambda r: r.value),
        **extra,
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
        created = administration.create_user(
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
    # Shown once, on this response only: the manager hands the link over; the person sets their
    # password and second factor through it, so the manager never learns either.
    page = _users_page(
        db,
        viewer,
        created_email=created.user.email,
        created_link=enrolment_url(request, created.enrolment_token),
    )
    return render(request, "admin/users.html", page, status.HTTP_201_CREATED)


def enrolment_url(request: Request, token: str) -> str:
    return str(request.base_url).rstrip("/") + rules.ENROLMENT_PATH + token


def _user_page(db: Session, viewer: Viewer, user: User, **extra: Any) -> AdminUserPage:
    agency = rules.agency_of(db, user.agency_id)
    pending = administration.pending_request(db, ident(user.id))
    return AdminUserPage(
        title=f"User: {user.display_name}",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        user=UserRow.of(user, agency),
        roles=_roles(agency.kind),
        live_sessions=len(own_access.active_sessions(db, ident(user.id))),
        pending_kind=pending.kind if pending else None,
        pending_role=pending.role if pending else None,
        **extra,
    )


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_detail(request: Request, db: DB, viewer: UserManager, user_id: RecordNumber) -> Response:
    try:
        user = administration.managed_user(
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
        lambda: administration.change_role(db, actor, scope, user_id, role),
        "The new role waits for a second person's approval; until then the role is as it was.",
    )


@router.post("/users/{user_id}/enrolment-link", response_class=HTMLResponse)
def new_enrolment_link(
    request: Request, db: DB, viewer: UserManager, user_id: RecordNumber
) -> Response:
    """A fresh link for a person who has not enrolled yet; the older one stops working."""
    actor, scope = log_actor(request, viewer), Scope.of(viewer)
    links: list[str] = []

    def issue() -> None:
        links.append(administration.issue_enrolment_link(db, actor, scope, user_id))

    response = _user_action(request, db, viewer, user_id, issue, "A new enrolment link is made.")
    if links and isinstance(response, HTMLResponse):
        user = db.get(User, user_id)
        assert user is not None
        page = _user_page(db, viewer, user, created_link=enrolment_url(request, links[0]))
        page.messages.append("A new enrolment link is made; the older one no longer works.")
        return render(request, "admin/user.html", page)
    return response


UserChange = Callable[[Session, Actor, Scope, int], object]

# One button each on the account's page: path, service, what the manager is told.
_USER_CHANGES: list[tuple[str, UserChange, str]] = [
    ("disable", administration.disable_user, "The account is disabled and its sessions ended."),
    (
        "enable",
        administration.enable_user,
        "The account becomes active again once a second person approves it.",
    ),
    ("release", administration.release_lockout, "The lockout is released."),
    (
        "reset-mfa",
        administration.reset_mfa,
        "The second factor is removed and the API tokens revoked; the person sets up a new "
        "factor at the next sign-in.",
    ),
    (
        "end-sessions",
        administration.end_user_sessions,
        "Every session of the account has ended and its API tokens are revoked.",
    ),
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


# --- approvals: a second person grants new access ---------------------------------------------


def _approvals_page(db: Session, viewer: Viewer, **extra: Any) -> ApprovalsPage:
    rows = approvals.requests_for(db, approvals.Approver.of(viewer))
    names = rules.display_names(db, (r.requested_by_id for r, _, _ in rows if r.requested_by_id))
    return ApprovalsPage(
        title="Access to approve",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        requests=[RequestRow.of(r, u, a, names) for r, u, a in rows],
        **extra,
    )


@router.get("/approvals", response_class=HTMLResponse)
def approvals_list(request: Request, db: DB, viewer: AccessApprover) -> Response:
    return render(request, "admin/approvals.html", _approvals_page(db, viewer))


def _decide(
    request: Request,
    db: Session,
    viewer: Viewer,
    request_id: int,
    decide: Callable[[Session, Actor, approvals.Approver, int], object],
    message: str,
) -> Response:
    try:
        decide(db, log_actor(request, viewer), approvals.Approver.of(viewer), request_id)
    except AccountError as refused:
        _refused(refused)
        page = _approvals_page(db, viewer, error=str(refused))
        return render(request, "admin/approvals.html", page, status.HTTP_400_BAD_REQUEST)
    page = _approvals_page(db, viewer)
    page.messages.append(message)
    return render(request, "admin/approvals.html", page)


@router.post("/approvals/{request_id}/approve", response_class=HTMLResponse)
def approve(request: Request, db: DB, viewer: AccessApprover, request_id: RecordNumber) -> Response:
    return _decide(request, db, viewer, request_id, approvals.approve, "Approved.")


@router.post("/approvals/{request_id}/refuse", response_class=HTMLResponse)
def refuse(request: Request, db: DB, viewer: AccessApprover, request_id: RecordNumber) -> Response:
    return _decide(request, db, viewer, request_id, approvals.refuse, "Refused.")


# --- agencies ---------------------------------------------------------------------------------


def _agencies_page(db: Session, viewer: Viewer, **extra: Any) -> AdminAgenciesPage:
    scope = Scope.of(viewer)
    return AdminAgenciesPage(
        title="Agencies",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        agencies=_agency_rows(db, scope),
        kinds=list(AgencyKind),
        can_create=scope.all_agencies,
        **extra,
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
        administration.create_agency(
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


def _agency_page(db: Session, viewer: Viewer, agency_id: int, **extra: Any) -> AdminAgencyPage:
    agency = rules.agency_of(db, agency_id)
    return AdminAgencyPage(
        title=f"Agency: {agency.name}",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        agency=AgencyRow.of(agency, _roles(agency.kind)),
        can_mark_part2=Scope.of(viewer).all_agencies,
        **extra,
    )


def _agency_refused(
    request: Request, db: Session, viewer: Viewer, agency_id: int, refused: AccountError
) -> Response:
    """The agency page again with the refusal (403 for another agency's, 404 for none)."""
    _refused(refused)
    try:
        page = _agency_page(db, viewer, agency_id, error=str(refused))
    except AccountError as missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing)) from missing
    return render(request, "admin/agency.html", page, status.HTTP_400_BAD_REQUEST)


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
        administration.update_agency(
            db,
            log_actor(request, viewer),
            Scope.of(viewer),
            agency_id,
            name=name,
            jurisdiction=jurisdiction,
        )
    except AccountError as refused:
        return _agency_refused(request, db, viewer, agency_id, refused)
    page = _agency_page(db, viewer, agency_id)
    page.messages.append("The agency is saved.")
    return render(request, "admin/agency.html", page)


@router.post("/agencies/{agency_id}/part2-program", response_class=HTMLResponse)
def set_part2_program(
    request: Request,
    db: DB,
    viewer: AgencyManager,
    agency_id: RecordNumber,
    part2_program: Annotated[bool, Form()],
) -> Response:
    """The program office marks an agency as a 42 CFR Part 2 program, or unmarks it."""
    try:
        administration.set_part2_program(
            db, log_actor(request, viewer), Scope.of(viewer), agency_id, part2_program=part2_program
        )
    except AccountError as refused:
        return _agency_refused(request, db, viewer, agency_id, refused)
    page = _agency_page(db, viewer, agency_id)
    page.messages.append(
        "The agency is now a 42 CFR Part 2 program: what its staff record is Part 2 data."
        if part2_program
        else "The agency is no longer a 42 CFR Part 2 program."
    )
    return render(request, "admin/agency.html", page)


# --- the disclosure policy --------------------------------------------------------------------


def _policy_page(db: Session, viewer: Viewer, **extra: Any) -> AdminPolicyPage:
    history = releases.release_history(db)
    names = rules.display_names(db, (r.released_by_id for r in history if r.released_by_id))
    rows = [
        ReleaseRow(
            id=ident(r.id),
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
        **extra,
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
