"""Consents (42 CFR 2.31 elements, revocation, 2.35), court orders, break-glass, case notes and
the participation setting, through the services and disclose_record."""

import datetime as dt
from types import SimpleNamespace
from typing import cast

import pytest
from sqlmodel import select

from hub.accounts.sessions import viewer_for
from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.clients.services import NoteError, add_case_note
from hub.consents.models import Consent
from hub.consents.services import (
    ConsentError,
    ConsentForm,
    create_consent,
    is_active,
    missing_elements,
    record_consent_event,
    revoke_consent,
)
from hub.db import ident, utcnow
from hub.disclosure.models import BreakGlass
from hub.disclosure.record import disclose_record
from hub.disclosure.services import (
    CourtOrderForm,
    PrivacyActionError,
    confirm_court_order,
    open_break_glass,
    record_court_order,
    review_break_glass,
)
from hub.settings import get_settings
from hub.vocabulary import (
    AgencyKind,
    AssignmentKind,
    Category,
    ConsentKind,
    Purpose,
    Role,
    WithheldReason,
)
from tests.factories import full_client

ACTOR = Actor(request_id="req-services")


@pytest.fixture
def site(db, factories):
    cm_agency = factories.Agency(kind=AgencyKind.case_management)
    police = factories.Agency(kind=AgencyKind.police)
    prosecution = factories.Agency(kind=AgencyKind.prosecution)
    defense = factories.Agency(kind=AgencyKind.defense)
    office = factories.Agency(kind=AgencyKind.program_office)
    case_manager = factories.User(role=Role.case_manager, agency=cm_agency)
    officer = factories.User(role=Role.officer, agency=police)
    prosecutor = factories.User(role=Role.prosecutor, agency=prosecution)
    defender = factories.User(role=Role.defender, agency=defense)
    privacy = factories.User(role=Role.privacy_officer, agency=office)
    privacy2 = factories.User(role=Role.privacy_officer, agency=office)
    person = full_client(
        db,
        referring_user=officer,
        case_management_agency_id=cm_agency.id,
        prosecuting_agency_id=prosecution.id,
        note_author=case_manager,
    )
    factories.ClientAssignment(person_id=person.id, user_id=case_manager.id)
    factories.ClientAssignment(
        person_id=person.id, user_id=defender.id, kind=AssignmentKind.defense
    )

    site = SimpleNamespace(**locals())
    site.v = lambda user: viewer_for(db, user)
    return site


@pytest.fixture
def site_setting(monkeypatch):
    """Sets a HUB_ setting for one test (settings are cached per process)."""

    def _set(name, value):
        monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield _set
    monkeypatch.undo()
    get_settings.cache_clear()


def form(site, **changes):
    fields = dict(
        person_id=site.person.id,
        kind=ConsentKind.part2,
        discloser_agency_id=site.cm_agency.id,
        recipient_agency_id=site.defense.id,
        categories=[Category.treatment, Category.health],
        purposes=[Purpose.defense],
        description="Treatment and health records, for the client's defense.",
        right_to_revoke="In writing to the case manager at any time.",
        signed_by="The client",
        signature_on_file=True,
        signed_on=dt.date.today(),
        expires_on=dt.date.today() + dt.timedelta(days=90),
    )
    fields.update(changes)
    return ConsentForm(**fields)


def read(db, site, user, purpose):
    return disclose_record(db, site.v(user), site.person.id, purpose, ACTOR)


def security_tags(db):
    db.rollback()
    return [e.tag for e in db.exec(select(LogEntry).where(LogEntry.kind == "security"))]


# --- 42 CFR 2.31 elements -------------------------------------------------------------------


ELEMENTS = [
    ("discloser_agency_id", 0, "who may disclose"),
    ("description", " ", "a description of the information"),
    ("categories", [], "a description of the information"),
    ("recipient_agency_id", None, "the recipients"),
    ("purposes", [], "the purpose"),
    ("right_to_revoke", "", "the right to revoke and how"),
    ("expires_on", None, "an expiry date or event"),
    ("signature_on_file", False, "the signature"),
    ("signed_by", "", "the signature"),
]


@pytest.mark.parametrize(("field", "value", "element"), ELEMENTS)
def test_a_consent_missing_a_2_31_element_is_not_active(db, site, factories, field, value, element):
    consent = factories.Consent(
        person_id=site.person.id,
        discloser_agency_id=site.cm_agency.id,
        recipient_agency_id=site.defense.id,
        created_by_id=site.case_manager.id,
    )
    assert missing_elements(consent) == [] and is_active(consent, utcnow())
    setattr(consent, field, value)
    assert element in missing_elements(consent)
    assert not is_active(consent, utcnow())


def test_create_consent_refuses_missing_elements_and_changes_nothing(db, site):
    with pytest.raises(ConsentError, match="the right to revoke"):
        create_consent(db, site.v(site.case_manager), form(site, right_to_revoke=""), ACTOR)
    db.rollback()
    assert db.exec(select(Consent)).all() == []
    assert security_tags(db) == []


def test_treatment_needs_a_part2_consent(db, site):
    with pytest.raises(ConsentError, match="Part 2"):
        create_consent(db, site.v(site.case_manager), form(site, kind=ConsentKind.general), ACTOR)


def test_only_the_clients_case_management_agency_records_consents(db, site, factories):
    other = factories.User(role=Role.case_manager)  # another agency, no caseload
    with pytest.raises(ConsentError):
        create_consent(db, site.v(other), form(site), ACTOR)
    with pytest.raises(ConsentError):
        create_consent(db, site.v(site.defender), form(site), ACTOR)


def test_consent_gates_the_defenders_treatment_read_and_revocation_is_immediate(db, site):
    assert read(db, site, site.defender, Purpose.defense).treatment.reason == WithheldReason.part2
    consent = create_consent(db, site.v(site.case_manager), form(site), ACTOR)
    record = read(db, site, site.defender, Purpose.defense)
    assert record.treatment.entries[0].program == "Outpatient MOUD"
    assert record.basis[Category.treatment] == f"consent:{consent.id}"
    assert record.part2 is True
    before = record.log_seq

    revoke_consent(db, site.v(site.case_manager), ident(consent.id), ACTOR)
    record = read(db, site, site.defender, Purpose.defense)
    assert record.treatment.reason == WithheldReason.part2
    assert record.health.reason == WithheldReason.no_consent
    # Disclosures made before the revocation stay in the log.
    assert db.get(LogEntry, before).detail["basis"]["treatment"] == f"consent:{consent.id}"
    assert security_tags(db) == ["client:consent:created", "client:consent:revoked"]
    with pytest.raises(ConsentError, match="already revoked"):
        revoke_consent(db, site.v(site.case_manager), ident(consent.id), ACTOR)


def test_an_expired_consent_stops_at_its_date_or_event(db, site, factories):
    consent = factories.Consent(
        person_id=site.person.id,
        discloser_agency_id=site.cm_agency.id,
        recipient_agency_id=site.defense.id,
        created_by_id=site.case_manager.id,
        expires_on=None,
        expiry_event="the end of the client's case",
    )
    assert read(db, site, site.defender, Purpose.defense).basis[Category.plan] == (
        f"consent:{consent.id}"
    )
    record_consent_event(db, site.v(site.case_manager), consent.id, event="expired", actor=ACTOR)
    assert read(db, site, site.defender, Purpose.defense).plan.reason == WithheldReason.no_consent
    consent.expires_on, consent.expiry_event = dt.date.today() - dt.timedelta(days=1), None
    assert not is_active(consent, utcnow())


def test_a_2_35_consent_is_irrevocable_until_its_event_and_covers_engagement_only(db, site):
    cjr = form(
        site,
        kind=ConsentKind.criminal_justice_referral,
        recipient_agency_id=site.prosecution.id,
        categories=[Category.engagement],
        purposes=[Purpose.charging_decision],
        irrevocable_until="final disposition of the charges",
    )
    with pytest.raises(ConsentError, match="engagement only"):
        create_consent(
            db,
            site.v(site.case_manager),
            form(site, **{**cjr.__dict__, "categories": [Category.engagement, Category.plan]}),
            ACTOR,
        )
    assert (
        read(db, site, site.prosecutor, Purpose.charging_decision).engagement.reason
        == WithheldReason.no_consent
    )
    consent = create_consent(db, site.v(site.case_manager), cjr, ACTOR)
    record = read(db, site, site.prosecutor, Purpose.charging_decision)
    assert record.engagement.program_status == site.person.program_status
    assert record.basis[Category.engagement] == f"consent:{consent.id}"
    assert record.plan.reason == WithheldReason.no_consent
    assert record.treatment.reason == WithheldReason.enforcement_rule

    with pytest.raises(ConsentError, match="irrevocable"):
        revoke_consent(db, site.v(site.case_manager), ident(consent.id), ACTOR)
    assert db.get(Consent, consent.id).revoked_at is None
    record_consent_event(
        db, site.v(site.case_manager), ident(consent.id), event="irrevocability_ended", actor=ACTOR
    )
    revoke_consent(db, site.v(site.case_manager), ident(consent.id), ACTOR)
    record = read(db, site, site.prosecutor, Purpose.charging_decision)
    assert record.engagement.reason == WithheldReason.no_consent


def test_a_2_35_consent_listing_more_still_covers_engagement_only(db, site, factories):
    """Even a stored 2.35 consent that lists more (an import, an old form) opens engagement only."""
    factories.Consent(
        person_id=site.person.id,
        kind=ConsentKind.criminal_justice_referral,
        discloser_agency_id=site.cm_agency.id,
        recipient_agency_id=site.prosecution.id,
        created_by_id=site.case_manager.id,
    )
    record = read(db, site, site.prosecutor, Purpose.charging_decision)
    assert record.disclosed_categories == [
        Category.identity,
        Category.referral,
        Category.legal,
        Category.engagement,
    ]


# --- the enforcement rule and court orders --------------------------------------------------


def court_order(site, **changes):
    fields = dict(
        person_id=site.person.id,
        recipient_agency_id=site.prosecution.id,
        categories=[Category.treatment],
        purposes=[Purpose.charging_decision],
        court="Superior Court",
        order_reference="24-1-00001",
        rule="2.65",
        scope="Treatment dates only, for the investigation of an extremely serious crime.",
        issued_on=dt.date.today(),
        expires_on=dt.date.today() + dt.timedelta(days=30),
        judge="Hon. A. Example",
        document=b"%PDF-1.7\n%%EOF\n",
    )
    fields.update(changes)
    return CourtOrderForm(**fields)


def test_treatment_never_reaches_a_prosecutor_on_consent_only_on_a_court_order(db, site, factories):
    factories.Consent(
        person_id=site.person.id,
        discloser_agency_id=site.cm_agency.id,
        recipient_agency_id=site.prosecution.id,
        created_by_id=site.case_manager.id,
    )
    record = read(db, site, site.prosecutor, Purpose.charging_decision)
    assert record.treatment.reason == WithheldReason.enforcement_rule
    assert record.health.reason == WithheldReason.enforcement_rule
    assert record.plan.goals  # the consent names the office: the plan is shown

    with pytest.raises(PrivacyActionError):
        record_court_order(db, site.v(site.case_manager), court_order(site), ACTOR)
    with pytest.raises(PrivacyActionError, match=r"2\.64 or 2\.65"):
        record_court_order(db, site.v(site.privacy), court_order(site, rule="subpoena"), ACTOR)
    order = record_court_order(db, site.v(site.privacy), court_order(site), ACTOR)
    # Recorded, not yet in force: a second privacy officer confirms it (issue 12).
    record = read(db, site, site.prosecutor, Purpose.charging_decision)
    assert record.treatment.reason == WithheldReason.enforcement_rule
    with pytest.raises(PrivacyActionError, match="other than the one who recorded"):
        confirm_court_order(db, site.v(site.privacy), ident(order.id), ACTOR)
    confirm_court_order(db, site.v(site.privacy2), ident(order.id), ACTOR)
    record = read(db, site, site.prosecutor, Purpose.charging_decision)
    assert record.basis[Category.treatment] == f"court_order:{order.id}"
    assert record.part2 is True
    assert record.health.reason == WithheldReason.enforcement_rule  # not in the order's scope
    assert read(db, site, site.prosecutor, Purpose.work_group).treatment.reason == (
        WithheldReason.enforcement_rule
    )
    assert "privacy:court_order:recorded" in security_tags(db)


# --- break-glass -------------------------------------------------------------------------------


def test_break_glass_needs_a_reason_opens_oversight_only_and_expires(db, site, monkeypatch):
    assert read(db, site, site.privacy, Purpose.oversight).identity.reason == (
        WithheldReason.break_glass_required
    )
    with pytest.raises(PrivacyActionError, match="reason"):
        open_break_glass(db, site.v(site.privacy), site.person.id, "because", ACTOR)
    with pytest.raises(PrivacyActionError):
        open_break_glass(
            db, site.v(site.case_manager), site.person.id, "A complaint about this record.", ACTOR
        )
    glass = open_break_glass(
        db, site.v(site.privacy), site.person.id, "Client complaint #12 about this record.", ACTOR
    )
    assert glass.expires_at - glass.opened_at == dt.timedelta(minutes=60)
    record = read(db, site, site.privacy, Purpose.oversight)
    assert record.withheld == []
    assert record.basis[Category.treatment] == f"break_glass:{glass.id}"
    assert read(db, site, site.privacy, Purpose.case_management).identity.reason == (
        WithheldReason.wrong_purpose
    )

    glass.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.add(glass)
    db.commit()
    assert read(db, site, site.privacy, Purpose.oversight).identity.reason == (
        WithheldReason.break_glass_required
    )
    with pytest.raises(PrivacyActionError, match="another privacy officer"):
        review_break_glass(db, site.v(site.privacy), ident(glass.id), ACTOR)
    review_break_glass(db, site.v(site.privacy2), ident(glass.id), ACTOR)
    assert db.get(BreakGlass, glass.id).reviewed_by_id == site.privacy2.id
    assert security_tags(db) == [
        "privacy:break_glass:opened",
        "privacy:break_glass:reviewed",
    ]


def test_break_glass_lasts_as_configured(db, site, site_setting):
    site_setting("HUB_BREAK_GLASS_MINUTES", "15")
    glass = open_break_glass(
        db, site.v(site.privacy), site.person.id, "Audit of an unusual access pattern.", ACTOR
    )
    assert glass.expires_at - glass.opened_at == dt.timedelta(minutes=15)


# --- case notes and participation ---------------------------------------------------------------


def test_case_notes_only_in_categories_the_author_may_see(db, site, factories):
    other_cm = factories.User(role=Role.case_manager, agency=site.cm_agency)
    # Treatment notes are kept only by a 42 CFR Part 2 program's staff (the write policy).
    site.cm_agency.part2_program = True
    db.add(site.cm_agency)
    db.commit()
    note = add_case_note(
        db, site.v(site.case_manager), site.person.id, Category.treatment, " Started MOUD. ", ACTOR
    )
    assert note.body == "Started MOUD."
    with pytest.raises(NoteError, match="treatment"):
        add_case_note(db, site.v(other_cm), site.person.id, Category.treatment, "x", ACTOR)
    # Notes follow the write policy: a colleague files none about a client not on their caseload.
    with pytest.raises(NoteError, match="engagement"):
        add_case_note(db, site.v(other_cm), site.person.id, Category.engagement, "Came in.", ACTOR)
    with pytest.raises(NoteError):
        add_case_note(db, site.v(site.officer), site.person.id, Category.identity, "x", ACTOR)
    with pytest.raises(NoteError, match="category"):
        # Not a category at all: what a hand-made form post could carry.
        clinical = cast(Category, "clinical")
        add_case_note(db, site.v(site.case_manager), site.person.id, clinical, "x", ACTOR)
    # The note refused for its category is a refused access, logged (ASVS V16); the refusals
    # for a role that writes no notes and for a category that does not exist are bad input.
    assert security_tags(db) == [
        "client:case_note:created",
        "authz:access:denied",
        "authz:access:denied",
    ]


def test_officers_learn_participation_of_others_only_where_the_site_allows(
    db, site, factories, site_setting
):
    other_officer = factories.User(role=Role.officer)
    record = read(db, site, other_officer, Purpose.referral)
    assert record.disclosed_categories == [] and record.participant is None
    assert record.identity.reason == WithheldReason.not_related

    site_setting("HUB_OFFICER_SEES_PARTICIPATION", "true")
    record = read(db, site, other_officer, Purpose.referral)
    assert record.disclosed_categories == [Category.identity]
    assert record.participant is True
    assert record.engagement.reason == WithheldReason.not_related
    assert record.basis[Category.identity] == "site:officer_sees_participation"
    assert read(db, site, other_officer, Purpose.work_group).participant is None
