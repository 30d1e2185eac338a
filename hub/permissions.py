"""Which role holds which action: the one table of who may do what. Routes open their doors
with it (hub.web.dependencies.require) and services check their steps with `authorize`, so no
role is compared anywhere else (tests/test_permissions_source.py). Disclosure of client data is
decided field by field by the policy layer (hub.disclosure), not here."""

from collections.abc import Iterable
from typing import Protocol

from hub.vocabulary import ROLES_BY_AGENCY_KIND, Action, AgencyKind, Role


class HoldsRole(Protocol):
    """A signed-in viewer or a user account: whoever asks to act."""

    @property
    def role(self) -> Role: ...

    @property
    def agency_id(self) -> int | None: ...


_CLIENT_READERS = frozenset(
    {
        Role.officer,
        Role.sergeant,
        Role.case_manager,
        Role.case_manager_supervisor,
        Role.prosecutor,
        Role.defender,
        Role.coordinator,
        Role.privacy_officer,
    }
)

GRANTS: dict[Action, frozenset[Role]] = {
    Action.account_manage_own: frozenset(Role),
    # Separation of duties: the admin manages accounts and sees no client data.
    Action.admin_agencies_manage: frozenset({Role.admin, Role.coordinator}),
    Action.admin_users_manage: frozenset({Role.admin, Role.coordinator}),
    # Releasing the disclosure policy: the program office's admin (hub.disclosure.releases).
    Action.admin_policy_release: frozenset({Role.admin}),
    Action.clients_read: _CLIENT_READERS,
    Action.clients_search: _CLIENT_READERS,
    Action.consents_manage: frozenset({Role.case_manager, Role.case_manager_supervisor}),
    # Case notes are kept under the write policy (policies/write.csv): only case management.
    Action.notes_write: frozenset({Role.case_manager, Role.case_manager_supervisor}),
    Action.privacy_console: frozenset({Role.privacy_officer}),
    Action.privacy_break_glass: frozenset({Role.privacy_officer}),
    Action.privacy_court_orders: frozenset({Role.privacy_officer}),
    Action.referrals_create: frozenset({Role.officer, Role.sergeant}),
    Action.referrals_feedback: frozenset({Role.officer, Role.sergeant}),
    Action.referrals_overrides: frozenset({Role.sergeant}),
    Action.social_contacts_add: frozenset({Role.officer, Role.sergeant}),
    Action.intake_manage: frozenset({Role.case_manager, Role.case_manager_supervisor}),
    # A case manager asks for a client; a supervisor of the agency decides (no self-widening).
    Action.caseload_approve: frozenset({Role.case_manager_supervisor}),
    # Who carries a caseload of their own: case managers, not their supervisors.
    Action.caseload_hold: frozenset({Role.case_manager}),
    Action.community_refer: frozenset({Role.case_manager, Role.case_manager_supervisor}),
    Action.charging_decide: frozenset({Role.prosecutor}),
    Action.charging_export: frozenset({Role.prosecutor}),
    Action.defense_decisions: frozenset({Role.defender}),
    # Issue 15: earlier matters and warrants come from the prosecutor's case system.
    Action.priors_record: frozenset({Role.prosecutor}),
    Action.charging_period: frozenset({Role.prosecutor}),
    # A defender reads the flags on their own clients' decisions; a privacy officer reviews all.
    Action.flags_read: frozenset({Role.defender, Role.privacy_officer}),
    Action.flags_review: frozenset({Role.privacy_officer}),
    Action.notifications_read: frozenset(Role),
    # Work groups: members of any agency; what each sees of a client is the policy's decision.
    Action.work_group_read: _CLIENT_READERS,
    Action.work_group_manage: frozenset({Role.coordinator}),
    Action.work_group_contribute: _CLIENT_READERS - {Role.privacy_officer},
    Action.work_group_flag: frozenset(
        {Role.case_manager, Role.case_manager_supervisor, Role.defender}
    ),
    Action.work_group_decide: frozenset({Role.prosecutor}),
    # Issue 15: any police agency's officers and a prosecutor's case system (through the API)
    # record a participant's arrest; case management reconciles the ones that matched no one.
    Action.arrests_record: frozenset({Role.officer, Role.sergeant, Role.prosecutor}),
    Action.arrests_reconcile: frozenset({Role.case_manager, Role.case_manager_supervisor}),
    # Court dates: the matter's office or the client's defender (hub.hearings.services).
    Action.hearings_manage: frozenset({Role.prosecutor, Role.defender}),
    Action.calendar_read: frozenset({Role.prosecutor, Role.defender}),
    # Appointing a defender to a client, by the case's offense tracking number: the defender
    # office's supervisor, who sees no client data there (hub.defense.appointments).
    Action.defense_appoint: frozenset({Role.defender_supervisor}),
    # Issue 16: suppressed aggregates for the Policy Coordinating Group and the program office;
    # the police department's eligible-arrest counts are imported by the program office.
    Action.equity_read: frozenset({Role.policy_group, Role.coordinator, Role.sergeant}),
    Action.equity_import: frozenset({Role.coordinator}),
    Action.equity_officers: frozenset({Role.sergeant, Role.coordinator}),
    # A second person approves new access (APPROVERS below says whose).
    Action.access_approve: frozenset(
        {
            Role.sergeant,
            Role.case_manager_supervisor,
            Role.admin,
            Role.coordinator,
            Role.privacy_officer,
        }
    ),
    # Issue 16: research protocols are recorded by the program office or a privacy officer and
    # confirmed by another privacy officer (hub.research.services); the program office makes
    # the de-identified export, the case-management agency the HMIS export of its clients.
    Action.research_protocols: frozenset({Role.coordinator, Role.privacy_officer}),
    Action.research_protocols_confirm: frozenset({Role.privacy_officer}),
    Action.research_export: frozenset({Role.coordinator}),
    Action.hmis_export: frozenset({Role.case_manager_supervisor}),
    # Issue 14: the door to the record's forms and the caseload; policies/write.csv decides
    # each write (hub.caserecord.writing), the disclosure policy each row shown.
    Action.record_write: frozenset({Role.case_manager, Role.case_manager_supervisor}),
    Action.caseload_read: frozenset({Role.case_manager, Role.case_manager_supervisor}),
    # Agency systems as OAuth 2 clients (hub.apiclients): an agency's admin or the program
    # office asks; a second person of the approvers of the client's role decides.
    Action.api_clients_read: frozenset(
        {
            Role.sergeant,
            Role.case_manager_supervisor,
            Role.admin,
            Role.coordinator,
            Role.privacy_officer,
        }
    ),
    Action.api_clients_request: frozenset({Role.admin, Role.coordinator}),
    Action.api_clients_approve: frozenset(
        {
            Role.sergeant,
            Role.case_manager_supervisor,
            Role.admin,
            Role.coordinator,
            Role.privacy_officer,
        }
    ),
    # Issue 14: the program office reads the ledger's monthly totals (an aggregate).
    Action.services_totals: frozenset({Role.coordinator}),
    # Merging two records of one person: a supervisor asks, another supervisor of the agency
    # or a privacy officer confirms (hub.person_merges: no one widens their own access).
    Action.persons_merge: frozenset({Role.case_manager_supervisor, Role.privacy_officer}),
    Action.persons_merge_request: frozenset({Role.case_manager_supervisor}),
}

# Roles that hold an action only over what belongs to their own agency: a supervisor confirms
# a merge another supervisor of the same agency asked for; a privacy officer any agency's.
OWN_AGENCY_ONLY: dict[Action, frozenset[Role]] = {
    Action.persons_merge: frozenset({Role.case_manager_supervisor}),
    # A prosecutor reads their own office's period of decisions, no other's.
    Action.charging_period: frozenset({Role.prosecutor}),
}


def allowed(role: Role, action: Action) -> bool:
    return role in GRANTS.get(action, frozenset())


def permits(who: HoldsRole, action: Action, *, agency_id: int | None = None) -> bool:
    """Whether `who` may take `action`; with `agency_id`, over something of that agency (a
    role limited to its own agency is refused when none is named: fail closed)."""
    if not allowed(who.role, action):
        return False
    if who.role in OWN_AGENCY_ONLY.get(action, frozenset()):
        return agency_id is not None and agency_id == who.agency_id
    return True


def holds_site_role(who: HoldsRole, roles: Iterable[Role]) -> bool:
    """Whether `who` holds one of the roles the site's rules name for a step (a site decides,
    in its rules file, who makes community referrals: hub.referrals.rules)."""
    return who.role in frozenset(roles)


def authorize(
    who: HoldsRole, action: Action, refusal: Exception, *, agency_id: int | None = None
) -> None:
    """Raises `refusal` (the caller's own error, with its words) unless `who` may act."""
    if not permits(who, action, agency_id=agency_id):
        raise refusal


# Who approves new access in each role (hub.accounts.approvals; docs/accounts.md has the same
# table in words). The approver works in the account's agency, except the program office's
# coordinator, who speaks for every agency.
APPROVERS: dict[Role, frozenset[Role]] = {
    Role.officer: frozenset({Role.sergeant}),
    Role.sergeant: frozenset({Role.sergeant}),
    Role.case_manager: frozenset({Role.case_manager_supervisor}),
    Role.case_manager_supervisor: frozenset({Role.case_manager_supervisor}),
    # Prosecution and defense offices have no supervisor role in the hub.
    Role.prosecutor: frozenset({Role.admin, Role.coordinator}),
    Role.defender: frozenset({Role.admin, Role.coordinator}),
    Role.defender_supervisor: frozenset({Role.admin, Role.coordinator}),
    Role.coordinator: frozenset({Role.coordinator, Role.admin}),
    Role.privacy_officer: frozenset({Role.privacy_officer}),
    # An admin grants no client data, but manages accounts: a second admin of one person's
    # making would approve their requests.
    Role.admin: frozenset({Role.admin, Role.coordinator}),
    # Aggregates only, but still access: the program office's coordinator or admin approves.
    Role.policy_group: frozenset({Role.coordinator, Role.admin}),
}

# Roles a manager may not hand out: the program office's coordinator creates no privacy
# officers or admins (those watch and run the hub, the coordinator among others).
ROLES_NOT_GIVEN: dict[Role, frozenset[Role]] = {
    Role.coordinator: frozenset({Role.privacy_officer, Role.admin}),
}

# An agency system (hub.apiclients) acts for its agency's work, never as its administrator or
# its privacy officer: those roles see no client data, or oversee everyone's reads.
_NOT_FOR_AGENCY_SYSTEMS = frozenset({Role.admin, Role.privacy_officer})


def speaks_for_every_agency(role: Role | None, agency_kind: AgencyKind | None) -> bool:
    """The program office's coordinator: manages and approves accounts of every agency."""
    return role == Role.coordinator and agency_kind == AgencyKind.program_office


def manages_own_agency_only(who: HoldsRole) -> bool:
    """An agency's admin manages the accounts of their own agency only."""
    return who.role == Role.admin


def approves(approver_role: Role, requested_role: Role) -> bool:
    return approver_role in APPROVERS[requested_role]


def may_give(manager_role: Role | None, role: Role) -> bool:
    """Whether a manager in `manager_role` (None: the server's operator) may hand out `role`."""
    return manager_role is None or role not in ROLES_NOT_GIVEN.get(manager_role, frozenset())


def role_fits(kind: AgencyKind, role: Role) -> bool:
    """Whether an account of an agency of this kind may hold the role."""
    return role in ROLES_BY_AGENCY_KIND[kind]


def agency_system_roles(kind: AgencyKind) -> list[Role]:
    """The roles an agency system of an agency of this kind may act in."""
    return sorted(ROLES_BY_AGENCY_KIND[kind] - _NOT_FOR_AGENCY_SYSTEMS)


def agency_system_may_act_as(kind: AgencyKind, role: Role) -> bool:
    return role in agency_system_roles(kind)
