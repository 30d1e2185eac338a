"""The hub's words, in one registry: agency kinds, roles, disclosure categories, purposes of use,
actions and security-event tags.

Everything else imports these; nothing spells a role or a category as a bare string.
"""

from enum import StrEnum


class AgencyKind(StrEnum):
    police = "police"
    case_management = "case_management"
    prosecution = "prosecution"
    defense = "defense"
    program_office = "program_office"
    oversight = "oversight"


class Role(StrEnum):
    officer = "officer"
    sergeant = "sergeant"
    case_manager = "case_manager"
    case_manager_supervisor = "case_manager_supervisor"
    prosecutor = "prosecutor"
    defender = "defender"
    # Issue 15: appoints the office's defenders to clients and ends appointments; reads no
    # client record (deny by default: no policy row names this role).
    defender_supervisor = "defender_supervisor"
    coordinator = "coordinator"
    privacy_officer = "privacy_officer"
    admin = "admin"
    # A member of the Policy Coordinating Group (agency leaders, community representatives):
    # sees aggregates only, never a field about one client (issue 16).
    policy_group = "policy_group"


# Which roles an agency of each kind may hold. An agency's users are managed by its own admin
# or by the program office, so this is also what an agency admin may hand out.
ROLES_BY_AGENCY_KIND: dict[AgencyKind, frozenset[Role]] = {
    AgencyKind.police: frozenset({Role.officer, Role.sergeant, Role.admin}),
    AgencyKind.case_management: frozenset(
        {Role.case_manager, Role.case_manager_supervisor, Role.admin}
    ),
    AgencyKind.prosecution: frozenset({Role.prosecutor, Role.admin}),
    AgencyKind.defense: frozenset({Role.defender, Role.defender_supervisor, Role.admin}),
    AgencyKind.program_office: frozenset(
        {Role.coordinator, Role.privacy_officer, Role.admin, Role.policy_group}
    ),
    AgencyKind.oversight: frozenset({Role.privacy_officer, Role.admin}),
}

# Roles whose users work for law enforcement or prosecution: 42 CFR 2.12(d) and the program's
# first rule keep treatment and health data from them whatever a consent says.
ENFORCEMENT_ROLES = frozenset({Role.officer, Role.sergeant, Role.prosecutor})

# Roles that see counts over many clients and never a client-level field: no policy line, no
# consent and no court order discloses a client's record to them (hub.disclosure.policy).
AGGREGATE_ONLY_ROLES = frozenset({Role.policy_group})


class Category(StrEnum):
    """Disclosure categories: every field of a client record belongs to exactly one."""

    identity = "identity"
    demographics = "demographics"
    contact = "contact"
    referral = "referral"
    legal = "legal"
    engagement = "engagement"
    plan = "plan"
    housing = "housing"
    health = "health"
    treatment = "treatment"


# 42 CFR Part 2 data, and health data held to the same rule by the program.
PROTECTED_HEALTH_CATEGORIES = frozenset({Category.health, Category.treatment})
PART2_CATEGORIES = frozenset({Category.treatment})
# Shared for care coordination: a file decision that rests on these is flagged for review
# (the program's rule: no participant worse off).
CARE_CATEGORIES = frozenset({Category.plan, Category.housing, Category.health, Category.treatment})
# Fields of these categories (and case notes in them) are encrypted at rest.
ENCRYPTED_CATEGORIES = frozenset({Category.contact, Category.health, Category.treatment})


class Purpose(StrEnum):
    """Purposes of use. A route fixes its purpose; no request parameter can choose one."""

    case_management = "case_management"
    referral = "referral"
    work_group = "work_group"
    charging_decision = "charging_decision"
    defense = "defense"
    oversight = "oversight"
    research = "research"


class ReferralKind(StrEnum):
    arrest = "arrest"
    social_contact = "social_contact"
    community = "community"


class ProgramStatus(StrEnum):
    """Where a referred person stands. 'Not engaged' is a fact, never a sanction."""

    referred = "referred"
    screened = "screened"
    enrolled = "enrolled"
    active = "active"
    not_engaged = "not_engaged"
    exited = "exited"
    # Back after an exit or a time not engaged: no time limit on services (LEAD).
    re_engaged = "re_engaged"


class ExitReason(StrEnum):
    """Why a client left the program: a fact, never a sanction (LEAD: no "non-compliance")."""

    moved = "moved"
    goals_met = "goals_met"
    declined = "declined"
    deceased = "deceased"
    other = "other"


class ContactKind(StrEnum):
    """How a case manager met (or looked for) a client: LEAD seeks clients where they are."""

    outreach_attempt = "outreach_attempt"
    in_person = "in_person"
    phone = "phone"
    at_precinct = "at_precinct"
    in_jail = "in_jail"


class PlaceKind(StrEnum):
    """Where a contact happened, as a kind of place (never an address)."""

    street = "street"
    shelter = "shelter"
    office = "office"
    home = "home"
    precinct = "precinct"
    jail = "jail"
    hospital = "hospital"
    treatment = "treatment"
    other = "other"


class RecordSection(StrEnum):
    """The one-row sections of a client's record that have a form (hub.caserecord.sections)."""

    contact = "contact"
    housing = "housing"
    health = "health"
    status = "status"  # program status: engagement


# HUD HMIS FY2024 3.917 current living situation, with the standard's words.
HMIS_LIVING_SITUATIONS: dict[int, str] = {
    116: "Place not meant for habitation",
    101: "Emergency shelter, including a hotel or motel paid with a shelter voucher",
    118: "Safe Haven",
    215: "Foster care home or foster care group home",
    206: "Hospital or other residential non-psychiatric medical facility",
    207: "Jail, prison or juvenile detention facility",
    225: "Long-term care facility or nursing home",
    204: "Psychiatric hospital or other psychiatric facility",
    205: "Substance abuse treatment facility or detox center",
    302: "Transitional housing for homeless persons",
    329: "Residential project or halfway house with no homeless criteria",
    314: "Hotel or motel paid for without an emergency shelter voucher",
    332: "Host home (non-crisis)",
    335: "Staying or living in a family member's room, apartment or house",
    336: "Staying or living in a friend's room, apartment or house",
    312: "Staying or living with family, temporary tenure",
    313: "Staying or living with friends, temporary tenure",
    422: "Staying or living with family, permanent tenure",
    423: "Staying or living with friends, permanent tenure",
    410: "Rental by client, no ongoing housing subsidy",
    435: "Rental by client, with ongoing housing subsidy",
    411: "Owned by client, no ongoing housing subsidy",
    421: "Owned by client, with ongoing housing subsidy",
    17: "Other",
    37: "Worker unable to determine",
    8: "Client doesn't know",
    9: "Client prefers not to answer",
    99: "Data not collected",
}


class CaseloadSort(StrEnum):
    """The orders a caseload page reads in (hub.disclosure.caseload)."""

    last_contact = "last_contact"  # never seen first, then the longest unseen: whom to seek out
    name = "name"
    status = "status"


class WriteCondition(StrEnum):
    """What a write-policy line (policies/write.csv) may require beyond the relationship."""

    none = "none"
    part2_program = "part2_program"  # the writer's agency is a 42 CFR Part 2 program


class WriteRefusal(StrEnum):
    """Why a write was refused (hub.caserecord.writing): logged, never a client's data."""

    admin = "admin"  # separation of duties: the admin role writes no client data
    enforcement_rule = "enforcement_rule"  # police and prosecution keep no client record
    not_part2_program = "not_part2_program"  # treatment: only a Part 2 program's staff
    not_on_caseload = "not_on_caseload"  # granted for the writer's own clients only
    cannot_read = "cannot_read"  # nobody writes what they may not read
    deny_by_default = "deny_by_default"  # no line grants it


class ConsentKind(StrEnum):
    general = "general"  # a release of information for non-Part 2 data
    part2 = "part2"  # 42 CFR 2.31 written consent for substance-use treatment records
    criminal_justice_referral = "criminal_justice_referral"  # 42 CFR 2.35


class DecisionOutcome(StrEnum):
    file = "file"
    decline = "decline"
    divert = "divert"  # divert before filing
    more_information = "more_information"


class WarrantStatus(StrEnum):
    active = "active"
    served = "served"
    recalled = "recalled"
    quashed = "quashed"


class ImportMode(StrEnum):
    """What a CSV import does when some of its rows are bad: the user chooses (issue 15)."""

    valid_rows = "valid_rows"  # import the valid rows in one transaction, report the others
    all_or_nothing = "all_or_nothing"  # import nothing if any row is bad


class PriorSource(StrEnum):
    """How an earlier matter or warrant reached the hub."""

    entered = "entered"  # typed in by a prosecutor
    imported = "imported"  # from the prosecutor's case system (CSV)


class MeetingStatus(StrEnum):
    draft = "draft"
    published = "published"
    held = "held"
    minutes_approved = "minutes_approved"


class UserStatus(StrEnum):
    active = "active"
    locked = "locked"  # CJIS AC-7: too many failed sign-ins; an administrator releases it
    disabled = "disabled"
    # Created or re-enabled, waiting for a second person's approval (CJIS AC-2, AC-5).
    pending = "pending"


class SignInStage(StrEnum):
    """Where a sign-in attempt was checked (SignInAttempt.stage); every stage counts for AC-7."""

    password = "password"
    second_factor = "second_factor"
    reauthentication = "reauth"  # the current password, asked again to change it
    provider = "provider"  # an agency's OpenID provider (hub.identity)


class SecurityEventTag(StrEnum):
    """Security events, named scope:resource:action as warehouse does (CJIS AU-2)."""

    sign_in_success = "account:sign_in:success"
    sign_in_failure = "account:sign_in:failure"
    sign_in_rate_limited = "account:sign_in:rate_limited"
    account_locked = "account:lock:locked"
    account_unlocked = "account:lock:released"
    sign_out = "account:session:sign_out"
    session_ended_by_admin = "account:session:ended_by_admin"
    session_expired = "account:session:expired"
    form_kept = "account:form:kept"  # posted after the session ended; kept for its author
    password_changed = "account:password:changed"
    mfa_enrolled = "account:mfa:enrolled"
    mfa_reset = "account:mfa:reset"
    recovery_code_used = "account:mfa:recovery_code_used"
    user_created = "admin:user:created"
    user_changed = "admin:user:changed"
    user_disabled = "admin:user:disabled"
    user_disabled_inactive = "admin:user:disabled_inactive"
    agency_created = "admin:agency:created"
    agency_changed = "admin:agency:changed"
    api_token_created = "account:api_token:created"
    api_token_revoked = "account:api_token:revoked"
    consent_created = "client:consent:created"
    consent_revoked = "client:consent:revoked"
    court_order_recorded = "privacy:court_order:recorded"
    break_glass_opened = "privacy:break_glass:opened"
    policy_changed = "privacy:policy:changed"
    flag_reviewed = "privacy:flag:reviewed"
    log_exported = "audit:log:exported"
    log_tamper_attempt = "audit:log:tamper_attempt"
    log_erased = "audit:log:erased"
    receipt_issued = "audit:receipt:issued"
    access_denied = "authz:access:denied"
    break_glass_reviewed = "privacy:break_glass:reviewed"
    case_note_created = "client:case_note:created"
    consent_event_recorded = "client:consent:event_recorded"
    data_keys_rotated = "admin:data_keys:rotated"
    policy_explained = "privacy:policy:explained"
    policy_released = "admin:policy:released"
    referral_created = "referral:referral:created"
    exclusion_overridden = "referral:eligibility:overridden"
    # A sergeant other than the referring officer approves an override (a second person).
    override_approved = "referral:eligibility:override_approved"
    referral_corrected = "referral:referral:corrected"
    referral_withdrawn = "referral:referral:withdrawn"
    social_contact_listed = "referral:social_contact:listed"
    screening_recorded = "referral:intake:screening_recorded"
    intake_recorded = "referral:intake:assessment_recorded"
    caseload_assigned = "client:caseload:assigned"
    charging_matter_opened = "charging:matter:opened"
    decision_recorded = "charging:decision:recorded"
    decision_flagged = "charging:decision:flagged"
    decision_change_refused = "charging:decision:change_refused"
    # 42 CFR 2.12(d): treatment or health data found among a prosecutor's disclosures.
    part2_breach_signal = "privacy:breach:signal"
    site_rules_loaded = "site:rules:loaded"
    breach_signal_reviewed = "privacy:breach:reviewed"
    meeting_created = "work_group:meeting:created"
    agenda_changed = "work_group:agenda:changed"
    agenda_published = "work_group:agenda:published"
    agenda_printed = "work_group:agenda:printed"
    meeting_held = "work_group:meeting:held"
    minutes_approved = "work_group:minutes:approved"
    item_entry_written = "work_group:item:entry_written"
    action_item_changed = "work_group:action_item:changed"
    discussion_flagged = "work_group:client:flagged"
    proposal_dismissed = "work_group:proposal:dismissed"
    proposal_restored = "work_group:proposal:restored"
    attendance_recorded = "work_group:meeting:attendance"
    # The privacy console (hub.privacy): reading the log is itself an audited event (CJIS AU-2).
    log_read = "audit:log:read"
    accounting_generated = "audit:accounting:generated"
    flags_computed = "privacy:flags:computed"
    # `hub backup` copies every record (hub.backup): logged like an export of the log.
    database_backed_up = "admin:database:backed_up"
    # Issue 12: court orders and caseload moves take a second person (no one widens their access).
    court_order_confirmed = "privacy:court_order:confirmed"
    court_order_document_read = "privacy:court_order:document_read"
    caseload_requested = "client:caseload:requested"
    caseload_request_approved = "client:caseload:request_approved"
    caseload_request_refused = "client:caseload:request_refused"
    # Separation of duties for accounts (CJIS AC-2, AC-5): the creator hands over a link and
    # never learns the authenticator; a second person approves new access.
    enrolment_link_issued = "admin:enrolment_link:issued"
    enrolment_completed = "account:enrolment:completed"
    access_requested = "admin:access:requested"
    access_approved = "admin:access:approved"
    access_refused = "admin:access:refused"
    # 42 CFR 2.11: the program office marks an agency as a Part 2 program, or unmarks it.
    agency_part2_program_changed = "admin:agency:part2_program_changed"
    # Issue 19: a witness refused a checkpoint: the log showed it another tree of a size it had
    # cosigned (a split view), or a smaller tree than it had cosigned (a rollback).
    witness_refused = "audit:witness:refused"
    # Issue 16, items 5 and 6: research protocols take a second person (hub.research); an
    # export refused by its k-anonymity report or its protocol is logged with the reason.
    research_protocol_recorded = "research:protocol:recorded"
    research_protocol_confirmed = "research:protocol:confirmed"
    research_export_refused = "research:export:refused"
    # Issue 15: an arrest of a participant from any police agency or a prosecutor's system;
    # court dates on a matter.
    arrest_reported = "charging:arrest:reported"
    arrest_reconciled = "charging:arrest:reconciled"
    arrest_reports_read = "charging:arrest:read"  # case management read reported particulars
    hearing_set = "charging:hearing:set"
    hearing_changed = "charging:hearing:changed"
    hearing_cancelled = "charging:hearing:cancelled"
    defender_appointed = "client:defense:appointed"
    defender_appointment_ended = "client:defense:ended"
    defender_appointments_imported = "client:defense:imported"
    # Issue 14: a section of a client's record saved (its earlier value kept in record_change).
    record_changed = "client:record:changed"
    contact_logged = "client:contact:logged"
    # Issue 18, item 2: agency systems as OAuth 2 clients (hub.apiclients). Registering a
    # client or widening its scopes is new access: a second person approves it (CJIS AC-2, AC-5).
    # Issue 18, item 6: a new checkpoint signing key announced by the old one.
    log_signing_key_rotated = "audit:signing_key:rotated"
    api_client_requested = "admin:api_client:requested"
    api_client_approved = "admin:api_client:approved"
    api_client_refused = "admin:api_client:refused"
    api_client_disabled = "admin:api_client:disabled"
    api_client_scopes_changed = "admin:api_client:scopes_changed"
    api_client_token_issued = "api_client:token:issued"
    api_client_token_refused = "api_client:token:refused"
    api_client_token_revoked = "api_client:token:revoked"
    # Issue 18, item 1: signing in through an agency's own OpenID provider.
    oidc_sign_in_success = "account:oidc_sign_in:success"
    oidc_sign_in_failure = "account:oidc_sign_in:failure"
    oidc_link_created = "account:oidc_link:created"
    oidc_logout = "account:oidc_session:logged_out"
    identity_provider_changed = "admin:identity_provider:changed"
    # Issue 14: the client-set plan and the services and bridge-funding ledger.
    plan_goal_changed = "client:plan_goal:changed"
    plan_step_changed = "client:plan_step:changed"
    service_recorded = "client:service:recorded"
    bridge_displacement = "program:bridge:displacement"
    document_attached = "client:document:attached"
    # Two records of one person merged: asked by one supervisor, confirmed by a second person.
    merge_requested = "client:person:merge_requested"
    merge_confirmed = "client:person:merged"
    merge_refused = "client:person:merge_refused"
    # Issue 16: a month of the police department's eligible-arrest counts imported (aggregates).
    eligible_arrests_imported = "equity:eligible_arrests:imported"
    # Issue 16: a month of the jail's bookings of known persons imported (counted, never shown).
    jail_bookings_imported = "equity:jail_bookings:imported"
    # Issue 15: earlier matters and warrants, and the deputy who handles a matter.
    prior_matter_recorded = "charging:prior_matter:recorded"
    warrant_recorded = "charging:warrant:recorded"
    priors_imported = "charging:priors:imported"
    matter_deputy_assigned = "charging:matter:deputy_assigned"


class OffenseLevel(StrEnum):
    """An arrested offense's level, as the arrest report gives it (any offense, eligible or not)."""

    misdemeanor = "misdemeanor"
    gross_misdemeanor = "gross_misdemeanor"
    felony = "felony"


class ArrestReportStatus(StrEnum):
    """Where a reported arrest stands. Police are never told which (issue 12: who is on file)."""

    matched = "matched"  # one participant matched: a charging matter is open
    to_reconcile = "to_reconcile"  # no sure match: case management decides
    linked = "linked"  # case management linked it to a participant: a matter is open
    not_a_participant = "not_a_participant"  # case management found no participant


class HearingKind(StrEnum):
    arraignment = "arraignment"
    pretrial = "pretrial"
    trial = "trial"
    review = "review"
    other = "other"


class HearingChange(StrEnum):
    set = "set"
    moved = "moved"
    cancelled = "cancelled"
    # Issue 14: a section of a client's record saved (its earlier value kept in record_change).
    record_changed = "client:record:changed"
    contact_logged = "client:contact:logged"
    # Issue 14: the client-set plan and the services and bridge-funding ledger.
    plan_goal_changed = "client:plan_goal:changed"
    plan_step_changed = "client:plan_step:changed"
    service_recorded = "client:service:recorded"
    bridge_displacement = "program:bridge:displacement"
    document_attached = "client:document:attached"
    # Two records of one person merged: asked by one supervisor, confirmed by a second person.
    merge_requested = "client:person:merge_requested"
    merge_confirmed = "client:person:merged"
    merge_refused = "client:person:merge_refused"


class DeadlineStatus(StrEnum):
    """The intake clock: screening and full intake by the referral's due date."""

    met = "met"
    near = "near"
    missed = "missed"
    pending = "pending"


class EligibilityResult(StrEnum):
    eligible = "eligible"
    presumptively_excluded = "presumptively_excluded"


class PriorInvolvementKind(StrEnum):
    """What a social-contact referral may point to as prior documented drug or prostitution
    involvement; each site lists the kinds it accepts in its referral rules."""

    prior_referral = "prior_referral"  # a referral of this person on record in the hub
    prior_arrest = "prior_arrest"  # an offense tracking number on record in the hub
    documented_incident = "documented_incident"  # a police incident number the officer cites


class AssignmentKind(StrEnum):
    """ClientAssignment.kind: the relationships a person holds to a client by assignment."""

    caseload = "caseload"
    defense = "defense"


class Relationship(StrEnum):
    """How a viewer stands to a client, as the disclosure policy reads it (policies/policy.csv).
    `everyone` holds for every client, so a line with it grants by role alone."""

    caseload = "caseload"  # an open caseload assignment to this viewer
    defense_client = "defense_client"  # an open defense assignment to this viewer
    own_referral = "own_referral"  # the viewer referred this person
    agency_referral = "agency_referral"  # an officer of the viewer's agency referred them
    agency_client = "agency_client"  # the viewer's case-management agency serves them
    office_matter = "office_matter"  # a referral or charging matter is at the viewer's office
    everyone = "everyone"


class PolicyCondition(StrEnum):
    """What a policy line may require beyond the relationship, checked against the facts."""

    none = "none"
    consent = "consent"  # an active consent naming the viewer, their agency or agency kind
    consent_naming_office = "consent_naming_office"  # names the viewer or their agency itself
    consent_2_35 = "consent_2_35"  # an active 42 CFR 2.35 criminal-justice-referral consent
    break_glass = "break_glass"  # an open, unexpired break-glass request of this viewer
    site_participation = "site_participation"  # settings.officer_sees_participation is on


class WithheldReason(StrEnum):
    """Why a category was withheld: shown to the viewer and written to the log."""

    admin = "admin"  # separation of duties: the admin role sees no client data
    enforcement_rule = "enforcement_rule"  # 42 CFR 2.12(d): health/treatment never to enforcement
    wrong_purpose = "wrong_purpose"  # granted to this role, but not for this purpose
    not_on_caseload = "not_on_caseload"  # granted for the viewer's own clients only
    not_related = "not_related"  # granted for related clients (referral, office) only
    no_consent = "no_consent"  # needs an active consent naming the viewer
    part2 = "part2"  # treatment needs an active 42 CFR 2.31 Part 2 consent
    break_glass_required = "break_glass_required"  # privacy officer: open a break-glass first
    deny_by_default = "deny_by_default"  # no policy line grants it
    not_requested = "not_requested"  # the read asked for other categories only (a page fragment)


class DisclosureTag(StrEnum):
    """Disclosure-log entries (kind "disclosure"), named like the security events."""

    client_record_read = "disclosure:client_record:read"
    client_search_read = "disclosure:client_search:read"
    client_list_read = "disclosure:client_list:read"
    decision_export_read = "disclosure:decision_export:read"
    client_consents_read = "disclosure:client_consents:read"
    # One entry per agenda item shown to a member: the record's sections and the item's
    # updates, notes and action items, decided together (hub.disclosure.items).
    work_group_item_read = "disclosure:work_group_item:read"
    # Pages that name no one but show a referral's or a matter's own fields: the sergeant's
    # overrides (referral: the officer's reason) and a prosecutor's decision pages (legal: the
    # offense tracking number, the decision and its note).
    referral_overrides_read = "disclosure:referral_overrides:read"
    charging_matter_read = "disclosure:charging_matter:read"
    # Issue 16: one entry per client included in a de-identified research export (purpose
    # research) or an HMIS CSV export to the Continuum of Care, so each client's accounting of
    # disclosures lists it (hub.disclosure.research).
    research_export_read = "disclosure:research_export:read"
    hmis_export_read = "disclosure:hmis_export:read"
    # Issue 14: a section's history of changes, and a case manager's or supervisor's caseload.
    record_history_read = "disclosure:record_history:read"
    caseload_read = "disclosure:caseload:read"
    # Issue 14: a client's plan (goals, steps, services), and the ledger's monthly totals (an
    # aggregate disclosure: no one named, logged as such).
    client_plan_read = "disclosure:client_plan:read"
    service_totals_read = "disclosure:service_totals:read"
    # A client's documents: the list (what each is), and each download of one.
    documents_read = "disclosure:client_documents:read"
    document_read = "disclosure:client_document:read"
    # Counts over many clients (a dashboard, a report): names no one; its categories are what
    # the counts drew on (hub.disclosure.aggregates).
    aggregate_read = "disclosure:aggregate:read"
    # Issue 15: the period's decisions of an office (an aggregate: names no one).
    charging_period_read = "disclosure:charging_period:read"
    # The queue's count of matters per deadline state (engagement, in aggregate).
    charging_queue_counts_read = "disclosure:charging_queue_counts:read"


class DisclosureOutcome(StrEnum):
    disclosed = "disclosed"
    withheld = "withheld"


class NotificationKind(StrEnum):
    deadline_near = "deadline_near"
    deadline_missed = "deadline_missed"
    new_referral = "new_referral"
    decision_on_referral = "decision_on_referral"
    decision_flagged = "decision_flagged"
    breach_signal = "breach_signal"
    agenda_published = "agenda_published"
    caseload_requested = "caseload_requested"  # to the agency's supervisors
    caseload_changed = "caseload_changed"  # to the case manager the client leaves
    court_order_awaiting = "court_order_awaiting"  # to the other privacy officers
    review_flags_new = "review_flags_new"  # to every privacy officer
    new_arrest = "new_arrest"  # to the prosecuting office: a participant's new arrest
    arrest_to_reconcile = "arrest_to_reconcile"  # to case management: no participant matched
    court_date_near = "court_date_near"  # to the matter's office and the client's defender
    bridge_displacement = "bridge_displacement"  # to the program office's coordinators
    referral_withdrawn = "referral_withdrawn"  # to the case management agency and the office
    referral_corrected = "referral_corrected"  # to the case management agency it now names
    override_approved = "override_approved"  # to the officer whose override a sergeant approved


class ReferralCorrectionReason(StrEnum):
    """Why an officer corrects or withdraws a referral made in error: codes for the log (free
    text may name people, so it stays on the referral)."""

    wrong_person = "wrong_person"
    not_eligible = "not_eligible"
    duplicate = "duplicate"
    wrong_agency = "wrong_agency"
    entered_in_error = "entered_in_error"


class DismissalReason(StrEnum):
    """Why the coordinator leaves a proposal off the agenda: codes for the log (the optional
    note is kept sealed on the dismissal, not logged)."""

    already_handled = "already_handled"
    not_for_this_group = "not_for_this_group"
    discussed_elsewhere = "discussed_elsewhere"


class AgendaItemKind(StrEnum):
    """What put an item on a work group's agenda. The proposals are computed from the data
    since the last meeting; `manual` is added by the coordinator."""

    new_referral = "new_referral"
    intake_deadline = "intake_deadline"  # near or missed
    new_arrest = "new_arrest"  # of a client whose matter awaits a filing decision
    flagged = "flagged"  # a case manager or defender asked for it to be discussed
    not_seen = "not_seen"  # no contact for the site's configured number of days
    action_item = "action_item"  # an open action item carried over from an earlier meeting
    manual = "manual"


class ItemEntryKind(StrEnum):
    update = "update"  # a member's update before the meeting
    note = "note"  # the coordinator's discussion note during the meeting


class ActionItemStatus(StrEnum):
    open = "open"
    done = "done"
    dropped = "dropped"


class CaseloadRequestStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    refused = "refused"


class FlagStatus(StrEnum):
    open = "open"
    reviewed = "reviewed"


class FlagRule(StrEnum):
    """Why the privacy console flagged log entries for review (hub.privacy.flags)."""

    break_glass = "break_glass"  # a privacy officer opened a break-glass
    outside_relationship = "outside_relationship"  # a read on role alone: no caseload/referral
    unusual_volume = "unusual_volume"  # a day's reads far above the user's own last 30 days
    after_hours = "after_hours"  # reads outside the site's working hours
    denied = "denied"  # reads withheld in full, or access refused
    sign_in_failures = "sign_in_failures"  # a burst of failed sign-ins
    lockout = "lockout"  # an account locked (CJIS AC-7)
    new_address = "new_address"  # a sign-in from an address the user had not used
    caseload_change = "caseload_change"  # a caseload request, approval, refusal or move
    court_order_pending = "court_order_pending"  # a court order awaiting a second officer
    new_access = "new_access"  # an account created, approved, re-enabled or given a new role
    witness_refused = "witness_refused"  # a witness refused a checkpoint: split view or rollback


class Action(StrEnum):
    """What a route may need, named scope:resource:action. Routes declare one with
    hub.web.dependencies.require(Action.X); hub.permissions says which roles hold it."""

    account_manage_own = "account:self:manage"
    admin_agencies_manage = "admin:agencies:manage"
    admin_users_manage = "admin:users:manage"
    admin_policy_release = "admin:policy:release"
    clients_read = "clients:record:read"
    clients_search = "clients:record:search"
    consents_manage = "clients:consent:manage"
    notes_write = "clients:note:write"
    privacy_console = "privacy:console:read"
    privacy_break_glass = "privacy:break_glass:open"
    privacy_court_orders = "privacy:court_order:record"
    caseload_approve = "referrals:caseload:approve"
    caseload_hold = "referrals:caseload:hold"
    referrals_create = "referrals:referral:create"
    referrals_feedback = "referrals:referral:feedback"
    referrals_overrides = "referrals:override:review"
    social_contacts_add = "referrals:social_contact:add"
    intake_manage = "referrals:intake:manage"
    community_refer = "referrals:community:create"
    charging_decide = "charging:decision:record"
    charging_export = "charging:decision:export"
    defense_decisions = "charging:decision:defense_view"
    flags_read = "privacy:flag:read"
    flags_review = "privacy:flag:review"
    notifications_read = "account:notification:read"
    work_group_read = "work_group:agenda:read"
    work_group_manage = "work_group:agenda:manage"
    work_group_contribute = "work_group:item:contribute"
    work_group_flag = "work_group:client:flag"
    work_group_decide = "work_group:charging_decision:record"
    access_approve = "admin:access:approve"
    research_protocols = "research:protocol:record"
    research_protocols_confirm = "research:protocol:confirm"
    research_export = "research:export:create"
    hmis_export = "research:hmis_export:create"
    arrests_record = "charging:arrest:record"
    arrests_reconcile = "charging:arrest:reconcile"
    hearings_manage = "charging:hearing:manage"
    calendar_read = "charging:hearing:calendar"
    defense_appoint = "clients:defense:appoint"
    # Keeping a client's record (hub.caserecord): the door; the write policy decides each write.
    record_write = "clients:record:write"
    caseload_read = "clients:caseload:read"
    api_clients_read = "admin:api_client:read"
    api_clients_request = "admin:api_client:request"
    api_clients_approve = "admin:api_client:approve"
    services_totals = "program:service_totals:read"
    persons_merge = "clients:person:merge"
    persons_merge_request = "clients:person:merge_request"
    # Issue 16: equity and outcome figures, suppressed aggregates only (hub.equity).
    equity_read = "equity:dashboard:read"
    equity_import = "equity:population:import"
    # Referrals per officer: to the officer's sergeant (their own agency) and the coordinator.
    equity_officers = "equity:officers:read"
    priors_record = "charging:prior_matter:record"
    charging_period = "charging:period:read"


class LogKind(StrEnum):
    """What a log entry records (hub.audit.log)."""

    disclosure = "disclosure"
    security = "security"


class LogOutcome(StrEnum):
    disclosed = "disclosed"
    withheld = "withheld"
    success = "success"
    failure = "failure"
    denied = "denied"


class AccessRequestKind(StrEnum):
    """What an access request asks a second person to approve (hub.accounts.approvals)."""

    new_account = "new_account"
    role_change = "role_change"
    re_enable = "re_enable"


class AccessRequestStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    refused = "refused"
    withdrawn = "withdrawn"  # replaced by a later request, or the account was disabled


class TokenScope(StrEnum):
    """What an API token may do: read, or read and write (hub.web.dependencies)."""

    read = "read"
    read_write = "read_write"


class ClientScope(StrEnum):
    """What an agency system's OAuth 2 client may call: one scope per API area (the /api/v1
    router's tag) and reading or writing (hub.apiclients.scopes)."""

    charging_read = "charging:read"
    charging_write = "charging:write"
    clients_read = "clients:read"
    clients_write = "clients:write"
    referrals_read = "referrals:read"
    referrals_write = "referrals:write"


class ApiClientStatus(StrEnum):
    """An OAuth 2 client: waiting for a second person, in use, refused or disabled."""

    pending = "pending"
    active = "active"
    refused = "refused"
    disabled = "disabled"


class ApiClientRequestKind(StrEnum):
    """What a client's request asks a second person to approve (hub.apiclients.services)."""

    registration = "registration"
    wider_scopes = "wider_scopes"


class MailKind(StrEnum):
    """What an e-mail in the outbox is (hub.mail): none carries personal data."""

    notification = "notification"
    digest = "digest"
    invitation = "invitation"
    security_alert = "security_alert"


class MailStatus(StrEnum):
    held = "held"  # waits for the recipient's daily digest
    pending = "pending"  # due at next_attempt_at
    sent = "sent"
    failed = "failed"  # gave up after the last retry
    folded = "folded"  # went out inside a digest


class MailDelivery(StrEnum):
    """How a user wants notifications by e-mail. Security alerts always go at once."""

    immediate = "immediate"
    daily_digest = "daily_digest"
    off = "off"


class SecurityAlert(StrEnum):
    """The security events a user is told of by e-mail at once (hub.mail)."""

    new_address = "new_address"  # signed in from a network address not seen before
    password_changed = "password_changed"
    api_token_created = "api_token_created"


class PlanDomain(StrEnum):
    """The life area of a client-set goal. Substance use is treatment data (42 CFR Part 2)
    whoever records it (hub.disclosure.origin)."""

    housing = "housing"
    health = "health"
    income = "income"
    legal = "legal"
    relationships = "relationships"
    substance_use = "substance_use"


class GoalStatus(StrEnum):
    """Harm reduction: a goal is met or set aside by the client, never "failed"."""

    open = "open"
    met = "met"
    set_aside = "set_aside"


class StepStatus(StrEnum):
    planned = "planned"
    done = "done"
    set_aside = "set_aside"


class FundingSource(StrEnum):
    """Who paid for a service (the bridge-funding ledger)."""

    lead = "lead"
    medicaid = "medicaid"
    other_public = "other_public"
    other = "other"


class ServiceKind(StrEnum):
    """Services given or bought; hub.services_ledger.kinds says each one's category."""

    motel_stay = "motel_stay"
    rent_assistance = "rent_assistance"
    transport = "transport"
    phone = "phone"
    id_documents = "id_documents"
    food = "food"
    storage = "storage"
    legal_help = "legal_help"
    medical_visit = "medical_visit"
    mental_health_counseling = "mental_health_counseling"
    substance_use_treatment = "substance_use_treatment"
    detox = "detox"
    medication_for_opioid_use = "medication_for_opioid_use"
    other = "other"


class DocumentKind(StrEnum):
    """What a document attached to a client is (hub.documents)."""

    signed_release = "signed_release"  # a consent as the client signed it
    id_document = "id_document"
    other = "other"


class MergeStatus(StrEnum):
    """A merge of two records of one person (hub.person_merges): it takes a second person."""

    pending = "pending"
    merged = "merged"
    refused = "refused"


# HUD HMIS FY2024 data standards, 3.04 RaceAndEthnicity and 3.06 Gender: the response
# codes' labels, for pages (exports keep the codes).
HMIS_RACE_ETHNICITY_LABELS: dict[int, str] = {
    1: "American Indian, Alaska Native, or Indigenous",
    2: "Asian or Asian American",
    3: "Black, African American, or African",
    4: "Native Hawaiian or Pacific Islander",
    5: "White",
    6: "Hispanic/Latina/e/o",
    7: "Middle Eastern or North African",
    8: "Client doesn't know",
    9: "Client prefers not to answer",
    99: "Data not collected",
}
HMIS_GENDER_LABELS: dict[int, str] = {
    0: "Woman (girl, if child)",
    1: "Man (boy, if child)",
    2: "Culturally specific identity",
    3: "Different identity",
    4: "Non-binary",
    5: "Transgender",
    6: "Questioning",
    8: "Client doesn't know",
    9: "Client prefers not to answer",
    99: "Data not collected",
}
