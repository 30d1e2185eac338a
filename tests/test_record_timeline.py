"""The deadline timeline on the client record (issue 17, item 9): drawn from what the policy
layer disclosed to the viewer on that page, in the site's days; none where the intake clock
(engagement) is withheld; safe SVG followed by its data table."""

import re
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from sqlmodel import select

from hub.referrals.models import Referral
from tests.chart_support import charts_with_their_tables
from tests.fixtures.security_headers import assert_security_headers

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 10:00 on 20 November in the site's zone
# 21:00 on 2 November in the site's zone, already the 3rd in UTC: the referral's day is the 2nd.
REFERRED = datetime(2026, 11, 3, 5, 0, tzinfo=UTC)


@pytest.fixture
def clock_set(db, program):
    """The small program's client, its referral's clock at known days."""
    referral = db.exec(select(Referral).where(Referral.person_id == program.person.id)).one()
    referral.referred_at = REFERRED
    referral.intake_due_on = date(2026, 12, 2)
    referral.screening_done_at = REFERRED + timedelta(days=5)
    db.add(referral)
    db.commit()
    return program


def _get(client, path, **headers):
    with mock.patch("hub.clients.routes.utcnow", return_value=NOW):
        return client.get(path, headers=headers)


def _marks(html: str) -> dict[str, str]:
    table = html.split('data-table="deadline_timeline"')[1].split("</table>")[0]
    return dict(re.findall(r'<th scope="row">([a-z ]+)</th><td>([\d-]+)</td>', table))


def test_the_case_manager_sees_the_clock_as_a_timeline_in_the_sites_days(sign_in, clock_set):
    client = sign_in(user=clock_set.case_manager).client
    response = _get(client, f"/clients/{clock_set.person.id}")
    assert response.status_code == 200
    assert charts_with_their_tables(response.text) == ["deadline_timeline"]
    assert _marks(response.text) == {
        "referred": "2026-11-02",
        "screening done": "2026-11-07",
        "intake due": "2026-12-02",
        "today": "2026-11-20",
    }
    assert_security_headers(response)  # the CSP stays strict with the charts inline


def test_the_engagement_section_alone_draws_it_without_the_referral_it_did_not_read(
    sign_in, clock_set
):
    client = sign_in(user=clock_set.case_manager).client
    path = f"/clients/{clock_set.person.id}/sections/engagement"
    fragment = _get(client, path, **{"HX-Request": "true"}).text
    assert charts_with_their_tables(fragment) == ["deadline_timeline"]
    assert "referred" not in _marks(fragment) and "intake due" in _marks(fragment)


def test_no_timeline_where_the_clock_is_withheld(sign_in, clock_set):
    client = sign_in(user=clock_set.prosecutor).client
    response = _get(client, f"/clients/{clock_set.person.id}")
    assert response.status_code == 200
    assert 'data-withheld="engagement"' in response.text
    assert 'data-disclosure="referral"' in response.text  # the referral date alone draws nothing
    assert "deadline_timeline" not in response.text and "<svg" not in response.text
