"""The demo holds what the pages of issue 5 show, so a newcomer sees the whole path: who
screened and did intake, intake assessments, reason codes of the site's rules, the social
contact list, and notifications without personal data."""

from datetime import date

from sqlmodel import Session, select

from hub.charging.models import ChargingDecision
from hub.clients.models import Person
from hub.db import get_engine
from hub.demo.program import build_demo
from hub.notifications.models import Notification
from hub.notifications.services import TEXTS
from hub.referrals.models import IntakeAssessment, Referral, SocialContactEntry
from hub.referrals.rules import default_rules
from hub.vocabulary import NotificationKind, ReferralKind

TODAY = date(2026, 3, 3)


def test_demo_fills_the_referral_pages(database_url):
    with Session(get_engine(), expire_on_commit=False) as db:
        build_demo(db, persons=60, today=TODAY)
        db.commit()
        referrals = db.exec(select(Referral)).all()
        rules = default_rules()
        assert {r.rules_version for r in referrals} == {rules.version}
        for r in referrals:
            assert (r.screening_done_at is None) == (r.screening_done_by_id is None)
            assert (r.intake_done_at is None) == (r.intake_done_by_id is None)
            if r.eligibility == "presumptively_excluded":
                assert r.exclusions_matched and r.exclusion_override_reason
        assessments = {a.referral_id: a for a in db.exec(select(IntakeAssessment)).all()}
        assert set(assessments) == {r.id for r in referrals if r.intake_done_at is not None}
        assert all(a.services for a in assessments.values())
        codes = {c for d in db.exec(select(ChargingDecision)).all() for c in d.reason_codes}
        assert codes <= set(rules.reason_codes_by_code)

        entries = db.exec(select(SocialContactEntry)).all()
        assert any(e.closed_by_referral_id for e in entries)
        assert any(e.closed_at is None for e in entries)
        community = {r.id for r in referrals if r.kind == ReferralKind.community}
        assert {e.closed_by_referral_id for e in entries if e.closed_at} <= community
        assert all(e.added_at.date() < TODAY for e in entries)

        notes = db.exec(select(Notification)).all()
        kinds = {n.kind for n in notes}
        assert {
            NotificationKind.new_referral,
            NotificationKind.deadline_near,
            NotificationKind.decision_on_referral,
        } <= kinds
        assert all(n.text == TEXTS[n.kind] for n in notes)
        names = {p.last_name for p in db.exec(select(Person)).all()}
        assert not any(name in n.text or name in (n.link or "") for n in notes for name in names)
