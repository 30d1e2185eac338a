"""The facts of a matter that the decide form repeats beside the form: the referral's date and
the intake due date that follows from it alone (referral data, not engagement)."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from hub.charging.models import ChargingMatter
from hub.referrals.models import Referral
from hub.referrals.opening import intake_due_on
from hub.referrals.rules import SiteRules


@dataclass(frozen=True)
class MatterFacts:
    referred_at: datetime | None  # None: a client's new arrest, no referral
    due_on: date | None


def matter_facts(db: Session, matter: ChargingMatter, rules: SiteRules) -> MatterFacts:
    """The matter's referral date and intake due date; the caller has had the policy layer
    decide and log the referral category."""
    referral = db.get(Referral, matter.referral_id) if matter.referral_id else None
    if referral is None:
        return MatterFacts(referred_at=None, due_on=None)
    return MatterFacts(
        referred_at=referral.referred_at, due_on=intake_due_on(referral.referred_at, rules)
    )
