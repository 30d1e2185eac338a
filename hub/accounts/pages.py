"""What the account and administration pages show, as typed contexts: rows carry the fields a
page needs, never the stored hashes or sealed secrets behind them."""

from dataclasses import dataclass, field
from datetime import datetime

from hub.accounts.models import AccessRequest, Agency, ApiToken, User, UserSession
from hub.accounts.second_factor import Enrolment
from hub.db import ident
from hub.identity.config import SignInButton
from hub.vocabulary import (
    AccessRequestKind,
    AgencyKind,
    MailDelivery,
    Role,
    TokenScope,
    UserStatus,
)
from hub.web.templating import Page


@dataclass
class SignInPage(Page):
    email: str = ""
    error: str | None = None
    # "Sign in with <provider>" for each agency that signs in through its own provider.
    providers: list[SignInButton] = field(default_factory=list)


@dataclass
class SecondFactorPage(Page):
    error: str | None = None


@dataclass
class EnrolPage(Page):
    enrolment: Enrolment | None = None
    action: str = "/sign-in/enrol"
    error: str | None = None


@dataclass
class RecoveryCodesPage(Page):
    codes: list[str] = field(default_factory=list)
    continue_url: str = "/"


@dataclass(frozen=True)
class SessionRow:
    id: int
    created_at: datetime
    last_seen_at: datetime
    address: str | None
    user_agent: str | None
    current: bool

    @classmethod
    def of(cls, session: UserSession, current_id: int | None) -> "SessionRow":
        return cls(
            id=ident(session.id),
            created_at=session.created_at,
            last_seen_at=session.last_seen_at,
            address=session.address,
            user_agent=session.user_agent,
            current=session.id == current_id,
        )


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    scope: TokenScope

    @classmethod
    def of(cls, token: ApiToken) -> "TokenRow":
        return cls(
            id=ident(token.id),
            name=token.name,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            scope=token.scope,
        )


@dataclass
class AccountPage(Page):
    email: str = ""
    mfa_enrolled_at: datetime | None = None
    recovery_codes_left: int = 0
    password_changed_at: datetime | None = None
    sessions: list[SessionRow] = field(default_factory=list)
    tokens: list[TokenRow] = field(default_factory=list)
    new_token: str | None = None
    error: str | None = None
    mail_delivery: MailDelivery = MailDelivery.off


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    display_name: str
    role: Role
    status: UserStatus
    agency_id: int
    agency_name: str
    mfa_enrolled: bool
    last_active_at: datetime | None
    status_reason: str | None

    @classmethod
    def of(cls, user: User, agency: Agency) -> "UserRow":
        return cls(
            id=ident(user.id),
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            status=user.status,
            agency_id=ident(agency.id),
            agency_name=agency.name,
            mfa_enrolled=user.mfa_enrolled_at is not None,
            last_active_at=user.last_active_at,
            status_reason=user.status_reason,
        )


@dataclass(frozen=True)
class AgencyRow:
    id: int
    name: str
    kind: AgencyKind
    jurisdiction: str | None
    roles: list[Role]
    part2_program: bool = False  # 42 CFR 2.11

    @classmethod
    def of(cls, agency: Agency, roles: list[Role]) -> "AgencyRow":
        return cls(
            id=ident(agency.id),
            name=agency.name,
            kind=agency.kind,
            jurisdiction=agency.jurisdiction,
            roles=roles,
            part2_program=agency.part2_program,
        )


@dataclass
class AdminUsersPage(Page):
    users: list[UserRow] = field(default_factory=list)
    agencies: list[AgencyRow] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    created_email: str | None = None
    created_link: str | None = None  # the one-time enrolment link, shown once
    error: str | None = None


@dataclass
class AdminUserPage(Page):
    user: UserRow | None = None
    roles: list[Role] = field(default_factory=list)
    live_sessions: int = 0
    # The request waiting for a second person, if any: what it asks, and for which role.
    pending_kind: AccessRequestKind | None = None
    pending_role: Role | None = None
    created_link: str | None = None
    error: str | None = None


@dataclass
class AdminAgenciesPage(Page):
    agencies: list[AgencyRow] = field(default_factory=list)
    kinds: list[AgencyKind] = field(default_factory=list)
    can_create: bool = False
    error: str | None = None


@dataclass
class AdminAgencyPage(Page):
    agency: AgencyRow | None = None
    error: str | None = None
    # Only the program office marks a Part 2 program (administration.set_part2_program).
    can_mark_part2: bool = False


@dataclass(frozen=True)
class ReleaseRow:
    id: int
    version: str
    released_at: datetime
    released_by: str  # a display name, or "command line"
    via: str


@dataclass
class AdminPolicyPage(Page):
    in_force_version: str = ""
    in_force_applicable: bool = True  # False: it cannot be compiled, decisions are refused
    in_force_release: ReleaseRow | None = None  # None: no release yet, the files are in force
    in_force_text: str = ""
    deployed_version: str | None = None  # the files on this server; None if unreadable
    can_release: bool = False
    releases: list[ReleaseRow] = field(default_factory=list)
    error: str | None = None


@dataclass
class WelcomePage(Page):
    """The enrolment link's page: the new user sets a password and a second factor."""

    email: str = ""
    enrolment: Enrolment | None = None
    action: str = ""
    error: str | None = None


@dataclass(frozen=True)
class RequestRow:
    id: int
    kind: AccessRequestKind
    account_id: int
    display_name: str
    email: str
    agency_name: str
    role: Role
    role_before: Role | None
    requested_by: str  # a display name, or "command line"
    requested_at: datetime
    enrolled: bool

    @classmethod
    def of(
        cls, request: AccessRequest, user: User, agency: Agency, names: dict[int, str]
    ) -> "RequestRow":
        by = request.requested_by_id
        return cls(
            id=ident(request.id),
            kind=request.kind,
            account_id=ident(user.id),
            display_name=user.display_name,
            email=user.email,
            agency_name=agency.name,
            role=request.role,
            role_before=request.role_before,
            requested_by="command line" if by is None else names.get(by, f"account {by}"),
            requested_at=request.requested_at,
            enrolled=user.mfa_enrolled_at is not None,
        )


@dataclass
class ApprovalsPage(Page):
    requests: list[RequestRow] = field(default_factory=list)
    error: str | None = None
