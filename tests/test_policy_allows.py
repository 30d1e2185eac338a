"""policy.allows answers one category's question (a work list asking it of many clients) and
must answer it exactly as decide does, for every role, purpose, category and kind of fact."""

import itertools

from hub.accounts.sessions import Viewer
from hub.disclosure.policy import ConsentFact, CourtOrderFact, Facts, allows, decide, load_policy
from hub.vocabulary import AgencyKind, Category, ConsentKind, Purpose, Relationship, Role

AGENCY = 7


def _facts() -> list[Facts]:
    consents = [
        ConsentFact(
            id=1,
            kind=ConsentKind.criminal_justice_referral,
            categories=frozenset({Category.engagement, Category.plan}),
            purposes=frozenset(Purpose),
            recipient_agency_id=AGENCY,
        ),
        ConsentFact(
            id=2,
            kind=ConsentKind.part2,
            categories=frozenset(Category),
            purposes=frozenset(Purpose),
            recipient_agency_id=AGENCY,
        ),
    ]
    order = CourtOrderFact(
        id=3, categories=frozenset({Category.treatment}), purposes=frozenset(Purpose)
    )
    facts = []
    for relationship in Relationship:
        for consent in (None, *consents):
            for orders in ((), (order,)):
                facts.append(
                    Facts(
                        person_id=1,
                        relationships=frozenset({Relationship.everyone, relationship}),
                        consents=() if consent is None else (consent,),
                        court_orders=orders,
                        break_glass_id=9 if relationship == Relationship.everyone else None,
                    )
                )
    return facts


def test_allows_answers_as_decide_does_for_every_category():
    policy = load_policy()
    facts = _facts()
    for role, purpose in itertools.product(Role, Purpose):
        viewer = Viewer(
            user_id=1,
            role=role,
            agency_id=AGENCY,
            agency_kind=AgencyKind.prosecution,
            display_name="viewer",
        )
        for fact in facts:
            disclosed = decide(viewer, fact, purpose, policy).disclosed
            for category in Category:
                assert allows(viewer, fact, purpose, category, policy) == (category in disclosed)
