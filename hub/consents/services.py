"""Consents: the 42 CFR 2.31 elements, whether a consent is in effect, and recording, revoking
and ending consents. The disclosure policy (hub.disclosure.policy) counts a consent only while
`is_active` says so, so revocation takes effect on the very next read."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlmodel import Session, col, select

from hub.accounts.models import Agency, User
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit
from hub.consents.models import Consent
from hub.db import record_number, rollback_on_error, utcnow
from hub.permissions import allowed
from hub.vocabulary import (
    Action,
    AgencyKind,
    Category,
    ConsentKind,
    DisclosureOutcome,
    DisclosureTag,
    Purpose,
    Relationship,
    Role,
    SecurityEventTag,
    UserStatus,
)

# 42 CFR 2.35: a criminal-justice-referral consent serves monitoring of progress only.
CJR_CATEGORIES = frozenset({Category.engagement})


class ConsentError(ValueError):
    """A consent cannot be recorded, revoked or changed as asked; the message says why."""


class ConsentRefused(ConsentError):
    """The viewer may not manage this client's consents (role or agency)."""


class ConsentTerms(Protocol):
    """What `is_active` reads of a consent: a Consent, or a row of just these columns
    (hub.disclosure.policy reads many consents at once without building objects)."""

    @property
    def person_id(self) -> int: ...
    @property
    def discloser_agency_id(self) -> int: ...
    @property
    def description(self) -> str: ...
    @property
    def categories(self) -> list[str]: ...
    @property
    def purposes(self) -> list[str]: ...
    @property
    def recipient_user_id(self) -> int | None: ...
    @property
    def recipient_agency_id(self) -> int | None: ...
    @property
    def recipient_agency_kind(self) -> AgencyKind | None: ...
    @property
    def right_to_revoke(self) -> str: ...
    @property
    def expires_on(self) -> date | None: ...
    @property
    def expiry_event(self) -> str | None: ...
    @property
    def expiry_event_at(self) -> datetime | None: ...
    @property
    def signature_on_file(self) -> bool: ...
    @property
    def signed_by(self) -> str: ...
    @property
    def signed_on(self) -> date: ...
    @property
    def revoked_at(self) -> datetime | None: ...


# The columns of ConsentTerms, in one place for those who select them.
CONSENT_TERMS = tuple(
    name
    for name in ConsentTerms.__dict__
    if not name.startswith("_") and name in Consent.model_fields
)


def missing_elements(consent: ConsentTerms) -> list[str]:
    """The 42 CFR 2.31(a) elements this consent lacks, in the rule's order; empty if complete."""
    missing = []
    if not consent.person_id:
        missing.append("the patient's name")
    if not consent.discloser_agency_id:
        missing.append("who may disclose")
    if not (consent.description or "").strip() or not consent.categories:
        missing.append("a description of the information")
    if not (
        consent.recipient_user_id or consent.recipient_agency_id or consent.recipient_agency_kind
    ):
        missing.append("the recipients")
    if not consent.purposes:
        missing.append("the purpose")
    if not (consent.right_to_revoke or "").strip():
        missing.append("the right to revoke and how")
    if not consent.expires_on and not (consent.expiry_event or "").strip():
        missing.append("an expiry date or event")
    if not consent.signature_on_file or not (consent.signed_by or "").strip():
        missing.append("the signature")
    if not consent.signed_on:
        missing.append("the date signed")
    return missing


def is_active(consent: ConsentTerms, on: datetime) -> bool:
    """Whether the consent is in effect at `on`: complete (2.31), signed by then, not expired
    (by date or by its recorded expiry event) and not revoked."""
    if missing_elements(consent):
        return False
    if consent.signed_on > on.date():
        return False
    if consent.revoked_at is not None and consent.revoked_at <= on:
        return False
    if consent.expires_on is not None and on.date() > consent.expires_on:
        return False
    return not (consent.expiry_event_at is not None and consent.expiry_event_at <= on)


def is_irrevocable(consent: Consent) -> bool:
    """42 CFR 2.35(d): a criminal-justice-referral consent may be irrevocable until a stated
    event (no later than final disposition); it stays so until that event is recorded."""
    return (
        consent.kind == ConsentKind.criminal_justice_referral
        and bool((consent.irrevocable_until or "").strip())
        and consent.irrevocable_event_at is None
    )


@dataclass(frozen=True)
class ConsentForm:
    """What a case manager records from the client's signed consent form."""

    person_id: int
    kind: ConsentKind
    discloser_agency_id: int
    categories: list[Category]
    purposes: list[Purpose]
    description: str
    right_to_revoke: str
    signed_by: str
    signature_on_file: bool
    signed_on: date
    recipient_user_id: int | None = None
    recipient_agency_id: int | None = None
    recipient_agency_kind: AgencyKind | None = None
    expires_on: date | None = None
    expiry_event: str | None = None
    irrevocable_until: str | None = None


def _require_consent_manager(db: Session, viewer: Viewer, person_id: int) -> None:
    from hub.disclosure.policy import PersonNotFound, gather_facts

    if not allowed(viewer.role, Action.consents_manage):
        raise ConsentRefused("Your role does not record consents.")
    try:
        facts = gather_facts(db, viewer, person_id, utcnow())
    except PersonNotFound as exc:
        raise ConsentError(str(exc)) from exc
    if not facts.relationships & {Relationship.caseload, Relationship.agency_client}:
        raise ConsentRefused("Consents are recorded by the client's own case-management agency.")


def _check_form(form: ConsentForm) -> None:
    try:
        categories = {Category(c) for c in form.categories}
        {Purpose(p) for p in form.purposes}
    except ValueError as exc:
        raise ConsentError(f"Unknown category or purpose: {exc}") from exc
    if Category.treatment in categories and form.kind != ConsentKind.part2:
        raise ConsentError("Treatment records can be released only on a Part 2 consent.")
    if form.kind == ConsentKind.criminal_justice_referral:
        if not categories <= CJR_CATEGORIES:
            raise ConsentError(
                "A criminal-justice-referral consent (42 CFR 2.35) covers engagement only."
            )
    elif (form.irrevocable_until or "").strip():
        raise ConsentError(
            "Only a criminal-justice-referral consent (42 CFR 2.35) can be irrevocable."
        )
    if form.expires_on is not None and form.expires_on < form.signed_on:
        raise ConsentError("The consent would expire before it was signed.")


def _check_parties(db: Session, form: ConsentForm) -> None:
    # A consent naming an agency or person the hub does not know names nobody (2.31(a)(2-3)).
    if db.get(Agency, form.discloser_agency_id) is None:
        raise ConsentError("No such agency to disclose the information.")
    if form.recipient_agency_id is not None and db.get(Agency, form.recipient_agency_id) is None:
        raise ConsentError("No such recipient agency.")
    if form.recipient_user_id is not None and db.get(User, form.recipient_user_id) is None:
        raise ConsentError("No such recipient.")


def create_consent(db: Session, viewer: Viewer, form: ConsentForm, actor: Actor) -> Consent:
    """Records a consent, refusing one that lacks any 42 CFR 2.31 element, and logs
    consent_created in the same transaction. Commits."""
    with rollback_on_error(db):
        _require_consent_manager(db, viewer, form.person_id)
        _check_form(form)
        _check_parties(db, form)
        consent = Consent(
            person_id=form.person_id,
            kind=form.kind,
            discloser_agency_id=form.discloser_agency_id,
            recipient_user_id=form.recipient_user_id,
            recipient_agency_id=form.recipient_agency_id,
            recipient_agency_kind=form.recipient_agency_kind,
            categories=sorted(Category(c).value for c in form.categories),
            purposes=sorted(Purpose(p).value for p in form.purposes),
            description=form.description.strip(),
            right_to_revoke=form.right_to_revoke.strip(),
            expires_on=form.expires_on,
            expiry_event=(form.expiry_event or "").strip() or None,
            irrevocable_until=(form.irrevocable_until or "").strip() or None,
            signed_by=form.signed_by.strip(),
            signature_on_file=form.signature_on_file,
            signed_on=form.signed_on,
            created_by_id=viewer.user_id,
        )
        missing = missing_elements(consent)
        if missing:
            raise ConsentError("The consent lacks what 42 CFR 2.31 requires: " + ", ".join(missing))
        return _commit_logged(db, consent, SecurityEventTag.consent_created, actor)


def revoke_consent(db: Session, viewer: Viewer, consent_id: int, actor: Actor) -> Consent:
    """Records the client's revocation; it takes effect at once (disclosures made before it
    stay in the log). A 2.35 consent before its stated event is refused. Commits."""
    with rollback_on_error(db):
        consent = db.get(Consent, consent_id)
        if consent is None:
            raise ConsentError("No such consent.")
        _require_consent_manager(db, viewer, consent.person_id)
        if consent.revoked_at is not None:
            raise ConsentError("This consent is already revoked.")
        if is_irrevocable(consent):
            raise ConsentError(
                "This criminal-justice-referral consent is irrevocable (42 CFR 2.35) until: "
                f"{consent.irrevocable_until}. Record that event first."
            )
        consent.revoked_at = utcnow()
        consent.revoked_by_id = viewer.user_id
        return _commit_logged(db, consent, SecurityEventTag.consent_revoked, actor)


def record_consent_event(
    db: Session, viewer: Viewer, consent_id: int, *, event: str, actor: Actor
) -> Consent:
    """Records that a consent's stated event happened: event "irrevocability_ended" (the 2.35
    event, e.g. final disposition; the consent may then be revoked) or "expired" (its expiry
    event; it is no longer in effect). Commits."""
    with rollback_on_error(db):
        consent = db.get(Consent, consent_id)
        if consent is None:
            raise ConsentError("No such consent.")
        _require_consent_manager(db, viewer, consent.person_id)
        now = utcnow()
        if event == "irrevocability_ended":
            if not consent.irrevocable_until or consent.irrevocable_event_at is not None:
                raise ConsentError("This consent has no pending irrevocability event.")
            consent.irrevocable_event_at = now
        elif event == "expired":
            if not consent.expiry_event or consent.expiry_event_at is not None:
                raise ConsentError("This consent has no pending expiry event.")
            consent.expiry_event_at = now
        else:
            raise ConsentError("The event is irrevocability_ended or expired.")
        return _commit_logged(
            db, consent, SecurityEventTag.consent_event_recorded, actor, {"event": event}
        )


def _commit_logged(
    db: Session,
    consent: Consent,
    tag: SecurityEventTag,
    actor: Actor,
    extra: dict[str, str] | None = None,
) -> Consent:
    db.add(consent)
    db.flush()
    event = Event(
        kind="security",
        tag=tag.value,
        outcome="success",
        person_id=consent.person_id,
        categories=list(consent.categories),
        detail={"consent_id": consent.id, "kind": consent.kind.value, **(extra or {})},
    )
    append_and_commit(db, actor, event)
    return consent


def list_consents(db: Session, viewer: Viewer, person_id: int, actor: Actor) -> list[Consent]:
    """The client's consents, newest first, for their own case-management agency. Which
    consents a client signed says something about them (a Part 2 consent, that they are in
    treatment), so the read is logged as a disclosure and committed, like a record read."""
    with rollback_on_error(db):
        _require_consent_manager(db, viewer, person_id)
        consents = list(
            db.exec(
                select(Consent)
                .where(Consent.person_id == person_id)
                .order_by(col(Consent.signed_on).desc(), col(Consent.id).desc())
            ).all()
        )
        append_and_commit(
            db,
            actor,
            Event(
                kind="disclosure",
                tag=DisclosureTag.client_consents_read.value,
                outcome=DisclosureOutcome.disclosed.value,
                purpose=Purpose.case_management.value,
                person_id=person_id,
                detail={"consent_ids": [c.id for c in consents]},
            ),
        )
    return consents


@dataclass(frozen=True)
class RecipientChoice:
    value: str  # "agency:<id>", "kind:<agency kind>" or "user:<id>"
    label: str


def recipient_choices(db: Session) -> list[RecipientChoice]:
    """Who a consent can name as recipient (42 CFR 2.31(a)(3)): every agency, every kind of
    agency, and every active staff member who may read client records."""
    agencies = db.exec(select(Agency).order_by(col(Agency.name))).all()
    names = {a.id: a.name for a in agencies}
    users = db.exec(
        select(User)
        .where(User.status == UserStatus.active, User.role != Role.admin)
        .order_by(col(User.display_name))
    ).all()
    return [
        *(RecipientChoice(f"agency:{a.id}", a.name) for a in agencies),
        *(
            RecipientChoice(f"kind:{k.value}", f"Every {k.value.replace('_', ' ')} agency")
            for k in AgencyKind
        ),
        *(
            RecipientChoice(f"user:{u.id}", f"{u.display_name} ({names.get(u.agency_id, '')})")
            for u in users
        ),
    ]


@dataclass(frozen=True)
class RecipientGroup:
    label: str
    choices: tuple[RecipientChoice, ...]


# The form's recipient list, one group per kind of choice, in this order (issue 17: some forty
# agencies, kinds and people in one list got a consent filed to the wrong one).
RECIPIENT_GROUPS = {"agency": "Agencies", "kind": "Kinds of agency", "user": "People"}


def recipient_groups(db: Session) -> list[RecipientGroup]:
    """recipient_choices grouped for the consent form: agencies, kinds of agency, people."""
    choices = recipient_choices(db)
    groups = (
        RecipientGroup(label, tuple(c for c in choices if c.value.partition(":")[0] == prefix))
        for prefix, label in RECIPIENT_GROUPS.items()
    )
    return [group for group in groups if group.choices]


def agencies_by_name(db: Session) -> list[Agency]:
    """Every agency, by name: who may disclose, on a consent form."""
    return list(db.exec(select(Agency).order_by(col(Agency.name))).all())


def recipient_fields(choice: str) -> dict[str, object]:
    """A RecipientChoice value as ConsentForm fields; ConsentError if it is not one."""
    kind, _, value = choice.partition(":")
    try:
        if kind == "agency":
            return {"recipient_agency_id": record_number(value)}
        if kind == "user":
            return {"recipient_user_id": record_number(value)}
        if kind == "kind":
            return {"recipient_agency_kind": AgencyKind(value)}
    except ValueError:
        pass
    raise ConsentError("Choose who may receive the information (the recipients).")
