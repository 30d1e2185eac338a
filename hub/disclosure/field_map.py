"""Which category every stored field of a client record belongs to (FIELD_MAP), the rows whose
category is their own (ROW_CATEGORY), and the tables that hold client data but are read
elsewhere (OUTSIDE_RECORD). A test fails when a column is added without a category."""

from hub.vocabulary import (
    Category,
)


class RowCategory:
    """Field-map marker: the field takes the category of its own row (case notes)."""

    def __repr__(self) -> str:
        return "ROW_CATEGORY"


ROW_CATEGORY = RowCategory()


C = Category


# Every field of every table of the client record -> exactly one category.
# tests/test_disclosure_record.py checks this against the models: a new column that is not
# mapped here fails the build, so it can never be shown by accident.
FIELD_MAP: dict[str, dict[str, Category | RowCategory]] = {
    "person": {
        "id": C.identity,
        "first_name": C.identity,
        "last_name": C.identity,
        "date_of_birth": C.identity,
        "race_ethnicity": C.demographics,
        "additional_race_ethnicity": C.demographics,
        "gender": C.demographics,
        "program_status": C.engagement,
        "status_changed_at": C.engagement,
        "last_contact_on": C.engagement,
        # The record was opened at referral, usually by the referring officer.
        "created_at": C.referral,
        "created_by_id": C.referral,
    },
    "person_alias": {"id": C.identity, "person_id": C.identity, "name": C.identity},
    "person_contact": {
        "person_id": C.contact,
        "phone": C.contact,
        "staying_at": C.contact,
        "updated_at": C.contact,
        "recorded_by_id": C.contact,
    },
    "referral": {
        "id": C.referral,
        "person_id": C.referral,
        "kind": C.referral,
        "referred_at": C.referral,
        "referring_user_id": C.referral,
        "referring_agency_id": C.referral,
        "precinct": C.referral,
        "alleged_offenses": C.referral,
        "offense_category": C.referral,
        "eligibility": C.referral,
        "exclusion_override_reason": C.referral,
        # A sergeant's approval of the override, and an officer's withdrawal of a referral made
        # in error (hub.referrals.corrections): facts of the referral itself.
        "override_approved_by_id": C.referral,
        "override_approved_at": C.referral,
        "withdrawn_by_id": C.referral,
        "withdrawn_at": C.referral,
        "prior_involvement": C.referral,
        "case_management_agency_id": C.referral,
        "created_at": C.referral,
        # Which site rules screened the referral and which exclusions matched: eligibility.
        "rules_version": C.referral,
        "exclusions_matched": C.referral,
        "social_contact_entry_id": C.referral,
        # Where the arrest report went is the start of a charging matter.
        "forwarded_to_agency_id": C.legal,
        # Whether the person came to screening and intake is attendance: 42 CFR 2.35 monitoring.
        "intake_due_on": C.engagement,
        "screening_done_at": C.engagement,
        "intake_done_at": C.engagement,
        "screening_done_by_id": C.engagement,
        "intake_done_by_id": C.engagement,
    },
    "charging_matter": {
        name: C.legal
        for name in (
            "id",
            "person_id",
            "referral_id",
            "prosecuting_agency_id",
            "offense_tracking_number",
            "offenses",
            "arrested_at",
            "arrest_place",
            "court_date",
            "created_at",
            # The newest decision's outcome, kept by a trigger (migration 0011que): legal, as
            # the decisions it repeats.
            "standing_outcome",
        )
    },
    "charging_decision": {
        name: C.legal
        for name in (
            "id",
            "matter_id",
            "decided_by_id",
            "decided_at",
            "outcome",
            "reason_codes",
            "note",
            "supersedes_id",
            "tree_head_id",
        )
    },
    # Issue 15: earlier matters and warrants, from the prosecutor's case system.
    "prior_matter": {
        name: C.legal
        for name in (
            "id",
            "person_id",
            "case_number",
            "court",
            "offense_code",
            "offense_description",
            "level",
            "filed_on",
            "disposed_on",
            "disposition",
            "source",
            "recorded_by_id",
            "recorded_at",
        )
    },
    "warrant": {
        name: C.legal
        for name in (
            "id",
            "person_id",
            "issued_on",
            "court",
            "kind",
            "status",
            "source",
            "recorded_by_id",
            "recorded_at",
        )
    },
    "plan_goal": {
        name: C.plan
        for name in (
            "id",
            "person_id",
            "goal",
            "services",
            "status",
            "created_at",
            "created_by_id",
            "domain",
            "updated_at",
        )
    },
    "housing_record": {
        name: C.housing
        for name in (
            "person_id",
            "living_situation",
            "waitlist",
            "waitlist_since",
            "updated_at",
            "recorded_by_id",
        )
    },
    "health_record": {
        name: C.health
        for name in (
            "person_id",
            "mental_health",
            "physical_health",
            "updated_at",
            "recorded_by_id",
        )
    },
    "treatment_record": {
        name: C.treatment
        for name in ("id", "person_id", "program", "started_on", "ended_on", "notes", "created_at")
    },
    "case_note": {
        name: ROW_CATEGORY
        for name in ("id", "person_id", "author_id", "category", "written_at", "body")
    },
}


# Tables about a client that are not part of the record shown: the policy layer reads them to
# decide, and their own services show them.
OUTSIDE_RECORD: dict[str, str] = {
    "client_assignment": "a relationship the policy reads (caseload, defense)",
    "consent": "the client's consents, read by the policy and managed by hub.consents",
    "court_order": "read by the policy; recorded and shown by privacy officers",
    "court_order_document": "a court order's sealed copy, for privacy officers only",
    "caseload_request": "a case manager's request for a client; grants nothing until approved",
    "break_glass": "read by the policy; reviewed by privacy officers",
    "decision_disclosure": "links a charging decision to log entries; read by the accountings",
    "decision_flag": "a file decision resting on care data, for the defender and privacy review",
    "matter_deputy": "which deputy of the office handles a matter: the office's own workflow",
    "intake_assessment": "the intake clock's second step; its services reach the record as plan "
    "data only through hub.disclosure",
    "agenda_item": "a work group's agenda item: ids and kind; its client's record is read here",
    "item_entry": "work-group updates and notes, each of its own category: hub.disclosure.items",
    "action_item": "work-group action items, each of its own category: hub.disclosure.items",
    "discussion_flag": "a request to discuss a client, of its own category: hub.disclosure.items",
    "social_contact_entry": "police's social-contact list; a page listing it discloses each "
    "person's identity through disclose_search's rules",
    "person_reconciliation": "ids of persons a police referral may duplicate, for case "
    "management to reconcile; each one's identity is shown through disclose_identities",
    "arrest_report": "an arrest as police or a prosecutor's system reported it (legal): the "
    "particulars as entered, for case management to reconcile; a match is a charging matter",
    "court_hearing": "a charging matter's court date (legal): hub.hearings shows it once the "
    "policy allowed the client's legal category",
    "court_hearing_change": "a court date's history (legal), shown with its court date",
    "record_change": "a section's earlier values, each of its section's category: shown only "
    "through hub.disclosure.history, under that category's read policy",
    "contact_entry": "the contact log: engagement, its note of its own category; shown only "
    "through hub.disclosure.history",
    "plan_step": "a plan goal's steps, read with their goal through hub.disclosure.plans",
    "service_record": "services and the bridge-funding ledger, read through "
    "hub.disclosure.plans (plan, or health/treatment for a clinical kind)",
    "person_merge": "which record of a person was merged into which (ids only): the tombstone "
    "that keeps both numbers findable in the log and the accounting",
    "client_document": "documents attached to a client or a consent, each of its own category: "
    "listed and downloaded only through hub.disclosure.documents",
    "jail_booking": "the jail's bookings of a person (legal), imported for the outcomes: read only "
    "as suppressed counts by hub.equity.outcomes, never a row",
    "referral_correction": "an officer's correction or withdrawal of their own referral "
    "(referral): shown with that referral to the officer who made it (hub.referrals.corrections)",
}
