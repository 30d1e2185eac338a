"""The demo's legal day (issue 15): made through the real services, it gives the queue, the
calendar, the defense pages and the period report something real to show."""

from datetime import date, datetime, time

from sqlmodel import Session, col, select

from hub.accounts.models import User
from hub.accounts.sessions import viewer_for
from hub.arrests.models import ArrestReport
from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.charging.models import ChargingDecision, ChargingMatter, MatterDeputy
from hub.charging.period import period_report
from hub.charging.queue_order import queue_keys
from hub.db import get_engine
from hub.defense.services import defense_clients
from hub.demo.legal import build_legal_day
from hub.demo.program import DEFAULT_SEED, build_demo
from hub.hearings.models import CourtHearing
from hub.priors.models import PriorMatter, Warrant
from hub.referrals.models import Referral
from hub.referrals.rules import current_rules
from hub.vocabulary import DecisionOutcome, Role, SecurityEventTag
from tests.audit_support import detail_of

TODAY = date(2026, 3, 3)


def test_the_legal_day_shows_on_the_queue_calendar_defense_pages_and_period(database_url):
    with Session(get_engine(), expire_on_commit=False) as db:
        build_demo(db, DEFAULT_SEED, 40, today=TODAY)
        db.commit()
        day = build_legal_day(db, TODAY)
        assert day is not None
        rules = current_rules(db)
        filed = db.get(ChargingMatter, day.filed_matter_id)
        queued = db.get(ChargingMatter, day.queued_matter_id)
        assert filed is not None and queued is not None

        # Reported by an officer of another agency than the one that referred the client,
        # for an offense with a victim.
        for matter in (filed, queued):
            report = db.exec(select(ArrestReport).where(ArrestReport.matter_id == matter.id)).one()
            referral = db.exec(
                select(Referral).where(Referral.person_id == matter.person_id)
            ).first()
            assert referral is not None and report.has_victim
            assert report.reporting_agency_id != referral.referring_agency_id
            reporter = db.get(User, report.reported_by_id)
            assert reporter is not None and reporter.role == Role.officer

        # The queued one awaits the office's decision as a new arrest.
        prosecutor = db.exec(
            select(User)
            .where(User.agency_id == queued.prosecuting_agency_id, User.role == Role.prosecutor)
            .order_by(col(User.id))
        ).first()
        assert prosecutor is not None
        viewer = viewer_for(db, prosecutor)
        keys = {k.matter_id: k for k in queue_keys(db, viewer, TODAY, rules=rules)}
        assert queued.id in keys and keys[queued.id].deadline_status is None
        assert filed.id not in keys

        # The defender appointed by the supervisor has both clients, with their court dates.
        appointed = {
            e.person_id: detail_of(e)["defender_id"]
            for e in db.exec(
                select(LogEntry).where(LogEntry.tag == SecurityEventTag.defender_appointed.value)
            )
        }
        assert set(appointed) == {filed.person_id, queued.person_id}
        defender_user = db.get(User, appointed[queued.person_id])
        assert defender_user is not None
        defender = viewer_for(db, defender_user)
        noon = datetime.combine(TODAY, time(12, 0), tzinfo=rules.tz)
        clients = {c.person_id: c for c in defense_clients(db, defender, noon, rules.tz)}
        line = next(m for m in clients[queued.person_id].matters if m.matter_id == queued.id)
        assert line.open and line.next_court_date is not None
        hearings = db.exec(select(CourtHearing)).all()
        assert len({h.matter_id for h in hearings}) > 2  # queued matters of each office too
        assert db.exec(select(MatterDeputy)).all()
        assert len(db.exec(select(PriorMatter)).all()) == 1
        assert [w.status.value for w in db.exec(select(Warrant))] == ["active"]

        # The filing for harm to a victim, counted in the month's report.
        decision = db.get(ChargingDecision, day.decision_id)
        assert decision is not None
        assert (decision.outcome, decision.reason_codes) == (
            DecisionOutcome.file,
            ["harm-to-victim"],
        )
        filer_user = db.get(User, decision.decided_by_id)
        assert filer_user is not None
        filer = viewer_for(db, filer_user)
        period = period_report(
            db,
            filer,
            filed.prosecuting_agency_id,
            TODAY.replace(day=1),
            Actor(user_id=filer.user_id, request_id="test"),
            rules=rules,
            form="page",
        )
        assert period.by_outcome[DecisionOutcome.file] >= 1
        assert any(r.code == "harm-to-victim" and r.count >= 1 for r in period.by_reason)
