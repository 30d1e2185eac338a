"""Helpers for the referral, intake and charging page tests: form data as a browser sends it,
consents as a case manager records them, and the disclosure-log entries a prosecutor received."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.consents.services import ConsentForm, create_consent
from hub.db import utcnow
from hub.disclosure.identities import names_person
from hub.referrals.models import Referral
from hub.referrals.rules import default_rules
from hub.vocabulary import Category, ConsentKind, Purpose

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def local_input(moment: datetime) -> str:
    """A datetime-local field's value for this moment, in the site's time zone."""
    return moment.astimezone(default_rules().tz).strftime("%Y-%m-%dT%H:%M")


def arrest_form(first: str, last: str, otn: str, agency_id: int, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": first,
        "last_name": last,
        "date_of_birth": "1990-04-02",
        "offenses": ["VUCSA-possession"],
        "arrested_at": local_input(datetime.now(UTC) - timedelta(hours=2)),
        "place": "3rd Ave & Pine St",
        "precinct": "West",
        "offense_tracking_number": otn,
        "case_management_agency_id": str(agency_id),
    }
    data.update(fields)
    return data


def referral_id_from(response: Any) -> int:
    match = re.match(r"/referrals/(\d+)", response.headers["location"])
    assert match, response.headers.get("location")
    return int(match.group(1))


def decision_id_from(response: Any) -> int:
    match = re.match(r"/charging/decisions/(\d+)", response.headers["location"])
    assert match, response.headers.get("location")
    return int(match.group(1))


def consent_2_35(db: Session, case_manager: Any, person_id: int, office_id: int) -> None:
    """The client's 42 CFR 2.35 consent: the prosecutor holding charges may monitor attendance
    and engagement (recorded through the consent service, as the consent pages will)."""
    create_consent(
        db,
        case_manager,
        ConsentForm(
            person_id=person_id,
            kind=ConsentKind.criminal_justice_referral,
            discloser_agency_id=case_manager.agency_id,
            recipient_agency_id=office_id,
            categories=[Category.engagement],
            purposes=[Purpose.charging_decision, Purpose.work_group],
            description="Attendance and engagement only.",
            right_to_revoke="Not before final disposition of the charges.",
            signed_by="The client",
            signature_on_file=True,
            signed_on=utcnow().date(),  # the set clock's day, where a test sets one
            expiry_event="final disposition of the charges",
            irrevocable_until="final disposition of the charges",
        ),
        Actor(user_id=case_manager.user_id, role=case_manager.role.value),
    )


def received(db: Session, user_id: int, person_id: int, since: datetime) -> list[int]:
    """The seqs of every disclosure about the person this user received since `since`,
    computed from the log alone (record reads name the person; lists name them in detail)."""
    entries = db.exec(
        select(LogEntry)
        .where(
            LogEntry.kind == "disclosure",
            LogEntry.outcome == "disclosed",
            LogEntry.actor_user_id == user_id,
            col(LogEntry.recorded_at) >= since,
        )
        .order_by(col(LogEntry.seq))
    ).all()
    db.commit()
    return [e.seq for e in entries if names_person(e.person_id, e.detail, person_id)]


def first_referral(db: Session, person_id: int) -> Referral:
    referral = db.exec(
        select(Referral).where(Referral.person_id == person_id).order_by(col(Referral.id))
    ).first()
    db.commit()
    assert referral is not None
    return referral


def seqs_on_page(html: str) -> list[int]:
    """The entry numbers in the decision page's table of bound disclosures."""
    table = html.split('id="bound-disclosures"', 1)[1].split("</table>", 1)[0]
    return [int(s) for s in re.findall(r'data-seq="(\d+)"', table)]
