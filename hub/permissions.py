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
    Action.clients_read: _CLIENT_READERS,
    Action.clients_search: _CLIENT_READERS,
    Action.consents_manage: frozenset({Role.case_manager, Role.case_manager_supervisor}),
    Action.notes_write: frozenset(
        {Role.case_manager, Role.case_manager_supervisor, Role.defender, Role.coordinator}
    ),
    Action.privacy_console: frozenset({Role.privacy_officer}),
    Action.privacy_break_glass: frozenset({Role.privacy_officer}),
    Action.privacy_court_orders: frozenset({Role.privacy_officer}),
    # Work groups: members of any agency; what each sees of a client is the policy's decision.
    Action.work_group_read: _CLIENT_READERS,
    Action.work_group_manage: frozenset({Role.coordinator}),
    Action.work_group_contribute: _CLIENT_READERS - {Role.privacy_officer},
    Action.work_group_flag: frozenset(
        {Role.case_manager, Role.case_manager_supervisor, Role.defender}
    ),
    Action.work_group_decide: frozenset({Role.prosecutor}),
}


def allowed(role: Role, action: Action) -> bool:
    return role in GRANTS.get(action, frozenset())
