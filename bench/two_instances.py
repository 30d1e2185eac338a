"""Two hub instances on one database, as tests/test_two_instances.py and bench/propagation.py
drive them: a small world of accounts and one client, sign-in over real HTTP (password and
TOTP), a policy that differs from policies/ in one grant, and timing how long a release takes
to show on an instance's pages.

The world is made with the test factories against the database URL, in this process; the
instances are `HubServer`s (bench/hubserver.py) in processes of their own.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pyotp
from sqlmodel import Session, col, select

from bench.hubserver import PROJECT_ROOT
from hub.db import ident

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# The grant the variant policy lacks: defenders read everyone's legal section for the defense.
VARIANT_REMOVES = "p, defender, everyone, legal, defense, none"
CHANGED_CATEGORY = "legal"  # shown to a defender under policies/, withheld under the variant
CONSENTED_CATEGORY = "plan"  # shown to the client's defender only on the client's consent


@dataclass
class World:
    """One client and the accounts around them."""

    person_id: int
    consent_id: int
    case_management_agency_id: int
    defense_agency_id: int

    def defender(self, session: Session) -> Any:
        """A new defender of this client (own account: a TOTP code is good for one sign-in)."""
        from hub.vocabulary import AssignmentKind, Role
        from tests import factories as f

        fx = f.bind(session)
        user = fx.User(role=Role.defender, agency_id=self.defense_agency_id)
        fx.ClientAssignment(person_id=self.person_id, user_id=user.id, kind=AssignmentKind.defense)
        return user

    def case_manager(self, session: Session) -> Any:
        """A new case manager of the client's case-management agency."""
        from hub.vocabulary import Role
        from tests import factories as f

        return f.bind(session).User(
            role=Role.case_manager, agency_id=self.case_management_agency_id
        )


def make_world(session: Session) -> World:
    from hub.vocabulary import AgencyKind, Category, ConsentKind, Purpose, Role
    from tests import factories as f

    fx = f.bind(session)
    agencies = {
        kind: fx.Agency(kind=kind)
        for kind in (
            AgencyKind.police,
            AgencyKind.case_management,
            AgencyKind.prosecution,
            AgencyKind.defense,
        )
    }
    officer = fx.User(role=Role.officer, agency=agencies[AgencyKind.police])
    author = fx.User(role=Role.case_manager, agency=agencies[AgencyKind.case_management])
    person = f.full_client(
        session,
        referring_user=officer,
        case_management_agency_id=agencies[AgencyKind.case_management].id,
        prosecuting_agency_id=agencies[AgencyKind.prosecution].id,
        note_author=author,
    )
    consent = fx.Consent(
        person_id=person.id,
        kind=ConsentKind.general,
        categories=[Category.plan.value, Category.housing.value],
        purposes=[Purpose.defense.value],
        discloser_agency_id=agencies[AgencyKind.case_management].id,
        recipient_agency_id=agencies[AgencyKind.defense].id,
        created_by_id=author.id,
    )
    return World(
        person_id=ident(person.id),
        consent_id=consent.id,
        case_management_agency_id=agencies[AgencyKind.case_management].id,
        defense_agency_id=agencies[AgencyKind.defense].id,
    )


# --- over HTTP -----------------------------------------------------------------------------------


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    if match is None:
        raise AssertionError("the page has no CSRF field")
    return match.group(1)


def sign_in(base_url: str, email: str, totp_secret: str, password: str) -> httpx2.Client:
    """A client signed in to one instance through its forms: password, then the TOTP code."""
    client = httpx2.Client(base_url=base_url, timeout=30, follow_redirects=False)
    page = client.get("/sign-in")
    answer = client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
    )
    if answer.status_code != 303 or answer.headers["location"] != "/sign-in/second-factor":
        raise AssertionError(f"password step answered {answer.status_code}")
    page = client.get("/sign-in/second-factor")
    answer = client.post(
        "/sign-in/second-factor",
        data={"code": pyotp.TOTP(totp_secret).now(), "csrf_token": csrf_of(page.text)},
    )
    if answer.status_code != 303:
        raise AssertionError(f"second factor answered {answer.status_code}")
    return client


def record_page(client: httpx2.Client, person_id: int) -> str:
    answer = client.get(f"/clients/{person_id}")
    if answer.status_code != 200:
        raise AssertionError(f"the record page answered {answer.status_code}")
    return answer.text


def shows(html: str, category: str) -> bool:
    """Whether the record page disclosed the category (its section, not a withheld notice)."""
    if f'data-withheld="{category}"' in html:
        return False
    return f'<div class="section-body" data-disclosure="{category}">' in html


def revoke_consent(client: httpx2.Client, person_id: int, consent_id: int) -> None:
    page = client.get(f"/clients/{person_id}/consents")
    answer = client.post(
        f"/clients/{person_id}/consents/{consent_id}/revoke",
        data={"csrf_token": csrf_of(page.text)},
    )
    if answer.status_code != 303:
        raise AssertionError(f"revoking answered {answer.status_code}")


# --- releases -------------------------------------------------------------------------------------


def variant_policy(target: Path) -> Path:
    """policies/ copied to `target` without VARIANT_REMOVES, its decision tables saying so."""
    from hub.disclosure.policy import POLICY_DIR

    shutil.copytree(POLICY_DIR, target)
    policy = target / "policy.csv"
    lines = policy.read_text().splitlines()
    if VARIANT_REMOVES not in lines:
        raise RuntimeError(f"policies/policy.csv no longer has the line {VARIANT_REMOVES!r}")
    policy.write_text("\n".join(line for line in lines if line != VARIANT_REMOVES) + "\n")
    matrix = target / "tests" / "matrix.csv"
    matrix.write_text(
        re.sub(
            r"^(defender,[a-z_+]+,none,defense,legal,)disclosed$",
            r"\1withheld",
            matrix.read_text(),
            flags=re.M,
        )
    )
    # What a Part 2 program recorded as legal data follows the legal line too.
    origin = target / "tests" / "part2_origin.csv"
    origin.write_text(
        re.sub(
            r"^(defender,[a-z_+]+,[a-z_+0-9]+,defense,part2:legal,)disclosed$",
            r"\1withheld",
            origin.read_text(),
            flags=re.M,
        )
    )
    return target


def newest_release_time(database_url: str) -> datetime:
    from hub.db import engine_for
    from hub.disclosure.models import PolicyRelease

    with Session(engine_for(database_url)) as db:
        return db.exec(
            select(PolicyRelease.released_at).order_by(col(PolicyRelease.id).desc()).limit(1)
        ).one()


def time_release(
    directory: Path, env: dict[str, str], changed: Callable[[], bool], timeout: float = 60
) -> float:
    """Runs `hub policy release --directory` as an operator would, polling `changed` (a page of
    another instance) all the while; seconds from the release (its released_at, stamped just
    before its commit) to the first answer that showed it. Raises AssertionError if no answer
    showed it within `timeout`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", "policy", "release", "--directory", str(directory)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen_at = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if changed():
            seen_at = datetime.now(UTC)
            break
        time.sleep(0.01)
    _, errors = process.communicate(timeout=120)
    if process.returncode != 0:
        raise RuntimeError(f"hub policy release failed ({process.returncode}):\n{errors}")
    if seen_at is None:
        raise AssertionError(f"the release did not show within {timeout} s")
    return (seen_at - newest_release_time(env["HUB_DATABASE_URL"])).total_seconds()


def wait_for_subscribers(redis_url: str, channel: str, count: int, timeout: float = 20) -> None:
    """Until `count` processes listen on the channel (a watcher connects on its own thread)."""
    from redis import Redis

    client = Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            listening = dict(client.pubsub_numsub(channel)).get(channel.encode(), 0)
            if int(listening) >= count:
                return
            time.sleep(0.05)
    finally:
        client.close()
    raise AssertionError(f"fewer than {count} watchers on the channel after {timeout} s")
