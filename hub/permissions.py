"""Which role holds which action. Disclosure of client data is decided field by field by the
policy layer (hub.disclosure); these grants only open the doors to pages and API routes."""

from hub.vocabulary import Action, Role

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
    # A second person approves new access (hub.accounts.approvals.APPROVERS says whose).
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
}


def allowed(role: Role, action: Action) -> bool:
    return role in GRANTS.get(action, frozenset())
