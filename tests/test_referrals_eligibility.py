"""Eligibility screening, overrides and the social-contact prerequisite, driven by rows of site
data: each site below is a table of rules, each case a row run against every site."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from hub.audit.models import LogEntry
from hub.clients.models import Person
from hub.referrals.eligibility import (
    PresumptivelyExcluded,
    PriorConviction,
    PriorInvolvement,
    ReferralError,
    ScreeningAnswers,
    screen,
)
from hub.referrals.models import Referral
from hub.referrals.officer_feedback import overrides_for_sergeant
from hub.referrals.opening import create_social_contact_referral
from hub.referrals.referred_person import ExistingPerson, NewPerson
from hub.referrals.rules import RulesError, SiteRules, default_rules, parse_rules
from hub.vocabulary import EligibilityResult, PriorInvolvementKind, SecurityEventTag


def site(**changes: Any) -> SiteRules:
    return parse_rules({**default_rules().model_dump(mode="json"), **changes})


# --- presumptive exclusions as data --------------------------------------------------------

EXCLUSION_SITES = {
    "five-year site": [
        {
            "code": "violent",
            "label": "Violent felony",
            "kind": "conviction_within_years",
            "offense_classes": ["violent_felony"],
            "years": 5,
        },
        {"code": "nco", "label": "No-contact order", "kind": "fact", "question": "NCO?"},
        {
            "code": "delivery",
            "label": "Delivery",
            "kind": "offense",
            "offense_codes": ["VUCSA-delivery-subsistence"],
        },
    ],
    "ten-year site, no offense rule": [
        {
            "code": "violent",
            "label": "Violent felony",
            "kind": "conviction_within_years",
            "offense_classes": ["violent_felony", "robbery"],
            "years": 10,
        },
        {"code": "nco", "label": "No-contact order", "kind": "fact", "question": "NCO?"},
    ],
    "no exclusions": [],
}
ON = date(2026, 6, 15)
# (case, offenses, convictions, facts, expected matches per site in EXCLUSION_SITES order)
SCREENING_CASES = [
    ("clean", ["VUCSA-possession"], [], [], [(), (), ()]),
    (
        "violent exactly 5 years ago",
        ["VUCSA-possession"],
        [("violent_felony", date(2021, 6, 15))],
        [],
        [("violent",), ("violent",), ()],
    ),
    (
        "violent a day over 5 years",
        ["VUCSA-possession"],
        [("violent_felony", date(2021, 6, 14))],
        [],
        [(), ("violent",), ()],
    ),
    (
        "violent 11 years ago",
        ["VUCSA-possession"],
        [("violent_felony", date(2015, 6, 1))],
        [],
        [(), (), ()],
    ),
    (
        "robbery 3 years ago",
        ["prostitution"],
        [("robbery", date(2023, 1, 1))],
        [],
        [(), ("violent",), ()],
    ),
    ("no-contact order", ["prostitution"], [], ["nco"], [("nco",), ("nco",), None]),
    ("delivery offense", ["VUCSA-delivery-subsistence"], [], [], [("delivery",), (), ()]),
    (
        "several",
        ["VUCSA-delivery-subsistence"],
        [("violent_felony", date(2025, 1, 1))],
        ["nco"],
        [("violent", "nco", "delivery"), ("violent", "nco"), None],
    ),
]


@pytest.mark.parametrize("site_index,site_name", list(enumerate(EXCLUSION_SITES)))
@pytest.mark.parametrize("case", SCREENING_CASES, ids=[c[0] for c in SCREENING_CASES])
def test_screening_follows_the_sites_exclusion_rows(site_index, site_name, case):
    _, offenses, convictions, facts, expected = case
    rules = site(exclusions=EXCLUSION_SITES[site_name])
    answers = ScreeningAnswers(
        convictions=tuple(PriorConviction(c, d) for c, d in convictions),
        facts=frozenset(facts),
    )
    want = expected[site_index]
    if want is None:  # the site has no such question: the answer is refused, not ignored
        with pytest.raises(ReferralError, match="not a screening question"):
            screen(rules, offenses, answers, ON)
        return
    result = screen(rules, offenses, answers, ON)
    assert result.matched == want
    assert result.result == (
        EligibilityResult.presumptively_excluded if want else EligibilityResult.eligible
    )
    assert result.rules_version == rules.version


def test_a_conviction_in_the_future_is_refused():
    with pytest.raises(ReferralError, match="future"):
        screen(
            default_rules(),
            ["prostitution"],
            ScreeningAnswers(convictions=(PriorConviction("violent_felony", date(2027, 1, 1)),)),
            ON,
        )


@pytest.mark.parametrize(
    "change,problem",
    [
        (
            {"offenses": [{"code": "x", "label": "X", "level": "petty", "category": "drug"}]},
            "level 'petty' not in levels",
        ),
        ({"prosecution": {"felony": "felony"}}, "no office for level"),
        ({"exclusions": [{"code": "e", "label": "E", "kind": "fact"}]}, "missing its terms"),
        (
            {
                "exclusions": [
                    {"code": "e", "label": "E", "kind": "offense", "offense_codes": ["nope"]}
                ]
            },
            "unknown offenses",
        ),
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"social_contact": {"categories": ["drug"], "accepted": ["hearsay"]}}, "accepted"),
        ({"reason_codes": [{"code": "r", "label": "R", "outcomes": ["acquit"]}]}, "outcomes"),
        ({"surprise": 1}, "Extra inputs"),
    ],
)
def test_malformed_site_rules_are_refused_whole(change, problem):
    with pytest.raises(RulesError, match=problem):
        site(**change)


# --- overrides -----------------------------------------------------------------------------

NCO = ScreeningAnswers(facts=frozenset({"no-contact-order"}))


def test_an_excluded_referral_needs_a_written_reason_and_changes_nothing_without_one(world):
    db = world.db
    with pytest.raises(PresumptivelyExcluded) as refused:
        world.arrest(answers=NCO)
    assert refused.value.matched == ["no-contact-order"]
    db.rollback()
    assert db.exec(select(func.count()).select_from(Referral)).one() == 0
    assert db.exec(select(func.count()).select_from(Person)).one() == 0


def test_an_override_is_kept_logged_and_shown_to_the_officers_sergeant_only(world):
    referral, _ = world.arrest(answers=NCO, override_reason="Known to me; safe to work with")
    assert referral.eligibility == EligibilityResult.presumptively_excluded
    assert referral.exclusions_matched == ["no-contact-order"]
    tags = world.db.exec(select(LogEntry.tag)).all()
    assert SecurityEventTag.exclusion_overridden.value in tags
    # The reason text never goes into the log: free text may name people.
    for entry in world.db.exec(select(LogEntry)):
        assert "Known to me" not in str(entry.detail)
    seen = overrides_for_sergeant(world.db, world.viewer("sergeant"))
    assert [(o.referral_id, o.exclusions, o.reason) for o in seen] == [
        (referral.id, ["no-contact-order"], "Known to me; safe to work with")
    ]
    # The item names the person only for the policy layer's decision and its log entry (the
    # reasons are referral data of that person); the sergeant's page names no one.
    assert seen[0].person_id == referral.person_id
    page = Path(__file__).resolve().parent.parent / "templates/referrals/overrides.html"
    assert "person_id" not in page.read_text() and "identity" not in page.read_text()
    assert overrides_for_sergeant(world.db, world.viewer("other_sergeant")) == []
    with pytest.raises(ReferralError):
        overrides_for_sergeant(world.db, world.viewer("officer"))


def test_an_override_without_an_exclusion_is_refused(world):
    with pytest.raises(ReferralError, match="nothing to override"):
        world.arrest(override_reason="just because")


# --- the social-contact prerequisite as data ----------------------------------------------

SOCIAL_CONTACT_SITES = {
    "accepts incident numbers": {
        "categories": ["drug", "prostitution"],
        "accepted": ["prior_referral", "prior_arrest", "documented_incident"],
        "incident_number_pattern": r"^[0-9]{4}-[0-9]{6}$",
    },
    "hub records only": {
        "categories": ["drug", "prostitution"],
        "accepted": ["prior_referral", "prior_arrest"],
    },
    "drug only, any incident form": {
        "categories": ["drug"],
        "accepted": ["documented_incident", "prior_arrest"],
    },
}
# (case, person: "known" | "stranger" | "new", category, kind, reference, allowed per site)
PREREQUISITE_CASES = [
    ("own prior referral", "known", "drug", "prior_referral", "{referral}", [True, True, False]),
    (
        "another person's referral",
        "stranger",
        "drug",
        "prior_referral",
        "{referral}",
        [False, False, False],
    ),
    ("own prior arrest", "known", "prostitution", "prior_arrest", "{otn}", [True, True, False]),
    ("own prior arrest, drug", "known", "drug", "prior_arrest", "{otn}", [True, True, True]),
    ("unknown arrest", "known", "drug", "prior_arrest", "OTN-99999", [False, False, False]),
    (
        "incident of the site's form",
        "new",
        "drug",
        "documented_incident",
        "2024-123456",
        [True, False, True],
    ),
    ("incident of another form", "new", "drug", "documented_incident", "abc", [False, False, True]),
    ("empty reference", "known", "drug", "documented_incident", "  ", [False, False, False]),
    (
        "not drug or prostitution",
        "known",
        "theft",
        "prior_referral",
        "{referral}",
        [False, False, False],
    ),
    (
        "new person cannot have a hub record",
        "new",
        "drug",
        "prior_referral",
        "{referral}",
        [False, False, False],
    ),
]


@pytest.mark.parametrize("site_index,site_name", list(enumerate(SOCIAL_CONTACT_SITES)))
@pytest.mark.parametrize("case", PREREQUISITE_CASES, ids=[c[0] for c in PREREQUISITE_CASES])
def test_social_contact_referrals_need_the_prior_involvement_the_site_accepts(
    world, site_index, site_name, case
):
    _, who, category, kind, reference, allowed = case
    known_referral, _ = world.arrest(("VUCSA-possession", "prostitution"))
    stranger = world.factories.Person()
    world.rules = site(social_contact=SOCIAL_CONTACT_SITES[site_name])
    from hub.charging.models import ChargingMatter

    otn = world.db.exec(
        select(ChargingMatter.offense_tracking_number).where(
            ChargingMatter.referral_id == known_referral.id
        )
    ).one()
    people: dict[str, ExistingPerson | NewPerson] = {
        "known": ExistingPerson(known_referral.person_id),
        "stranger": ExistingPerson(stranger.id),
        "new": NewPerson("Newly", "Met", date(1990, 1, 1)),
    }
    person = people[who]
    involvement = PriorInvolvement(
        PriorInvolvementKind(kind), reference.format(referral=known_referral.id, otn=otn)
    )

    def refer():
        return create_social_contact_referral(
            world.db,
            world.viewer("officer"),
            person,
            category,
            involvement,
            world.agencies["case_management"].id,
            ScreeningAnswers(),
            world.actor("officer"),
            precinct="West",
            rules=world.rules,
        )

    if allowed[site_index]:
        referral = refer()
        assert referral.kind.value == "social_contact"
        assert referral.prior_involvement == f"{kind}:{involvement.reference.strip()}"
        assert referral.alleged_offenses == []
        assert referral.forwarded_to_agency_id is None
    else:
        before = world.db.exec(select(func.count()).select_from(Referral)).one()
        with pytest.raises(ReferralError):
            refer()
        world.db.rollback()
        assert world.db.exec(select(func.count()).select_from(Referral)).one() == before


def test_only_officers_make_social_contact_referrals(world):
    with pytest.raises(ReferralError, match="may not"):
        create_social_contact_referral(
            world.db,
            world.viewer("case_manager"),
            NewPerson("A", "B", None),
            "drug",
            PriorInvolvement(PriorInvolvementKind.documented_incident, "2024-123456"),
            world.agencies["case_management"].id,
            ScreeningAnswers(),
            world.actor("case_manager"),
            rules=world.rules,
        )


def test_load_rules_validates_stores_and_logs_the_sites_rules(db, tmp_path):
    import yaml
    from typer.testing import CliRunner

    from hub.cli import app
    from hub.referrals.rules import DEFAULT_RULES_FILE, current_rules

    data = yaml.safe_load(DEFAULT_RULES_FILE.read_text())
    data["version"] = "our-site-2"
    data["intake_deadline_days"] = 21
    good = tmp_path / "rules.yaml"
    good.write_text(yaml.safe_dump(data))
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**data, "levels": []}))
    runner = CliRunner()
    refused = runner.invoke(app, ["site", "load-rules", str(bad)])
    assert refused.exit_code == 1 and "levels" in refused.output
    assert current_rules(db).version == default_rules().version
    db.rollback()  # end this session's transaction: SQLite lets one writer at a time
    loaded = runner.invoke(app, ["site", "load-rules", str(good)])
    assert loaded.exit_code == 0, loaded.output
    db.expire_all()
    assert current_rules(db).version == "our-site-2"
    assert current_rules(db).deadline_days == 21
    event = db.exec(
        select(LogEntry).where(LogEntry.tag == SecurityEventTag.site_rules_loaded.value)
    ).one()
    assert event.detail["version"] == "our-site-2" and len(event.detail["sha256"]) == 64
