"""How long a policy release takes to reach another instance: two `hub serve` instances (one
worker each) on one fresh PostgreSQL database, a defender signed in on instance B, and
`hub policy release --directory` run as an operator on A's host, alternating between policies/
and a variant without one grant. Each figure is from the release's commit to the first answer
of B's record page that shows it; B's page is read back to back all the while.

Run twice: with the watcher (Redis at HUB_BENCH_REDIS_URL) and with it dead (a closed port),
where the version check alone carries the release. Prints median and max of N releases each.

    /work/venv/bin/python bench/propagation.py [--releases 10] [--port 8210]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import uuid
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.crypto import generate_environment

os.environ.update({k: v for k, v in generate_environment().items() if k not in os.environ})

from sqlalchemy.engine import make_url
from sqlmodel import Session

from bench.hubserver import HubServer, fresh_postgres, hub_environment, run_hub
from bench.two_instances import (
    CHANGED_CATEGORY,
    make_world,
    record_page,
    shows,
    sign_in,
    time_release,
    variant_policy,
    wait_for_subscribers,
)
from hub.db import engine_for
from hub.disclosure.policy import POLICY_DIR
from hub.disclosure.watcher import channel_for

REDIS_URL = os.environ.get("HUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(url: str, redis_url: str, port: int, releases: int, variant: Path) -> list[float]:
    from hub.db import engine_for
    from tests.factories import PASSWORD, totp_secret_of

    env = hub_environment(url, HUB_REDIS_URL=redis_url, HUB_ADDRESS_ATTEMPTS_PER_WINDOW="1000")
    with Session(engine_for(url), expire_on_commit=False) as db:
        world = make_world(db)
        defender = world.defender(db)
    a, b = HubServer(env, port, workers=1), HubServer(env, port + 1, workers=1)
    with a, b:
        client = sign_in(b.base_url, defender.email, totp_secret_of(defender), PASSWORD)
        with closing(client):

            def b_shows_it() -> bool:
                return shows(record_page(client, world.person_id), CHANGED_CATEGORY)

            if redis_url == REDIS_URL:
                channel = channel_for(make_url(url), env["HUB_SECRET_KEY"])
                wait_for_subscribers(REDIS_URL, channel, 2)
            times = []
            for n in range(releases):
                to_variant = n % 2 == 0
                directory = variant if to_variant else POLICY_DIR
                expect = not to_variant  # B shows the category again under policies/
                times.append(time_release(directory, a.env, lambda e=expect: b_shows_it() == e))
            return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=10)
    parser.add_argument("--port", type=int, default=8210, help="A's port; B takes the next")
    args = parser.parse_args()
    name = f"propagate_bench_{uuid.uuid4().hex[:8]}"
    variant = variant_policy(Path(tempfile.mkdtemp(prefix="hub-policy-")) / "variant")
    print(f"{args.releases} releases each, alternating policies/ and a variant; B's record page")
    for label, redis_url in (
        ("with the Redis watcher", REDIS_URL),
        ("watcher dead (version check only)", f"redis://127.0.0.1:{closed_port()}/0"),
    ):
        with fresh_postgres(name) as url:
            run_hub("migrate", env=hub_environment(url))
            times = measure(url, redis_url, args.port, args.releases, variant)
            engine_for(url).dispose()
        print(
            f"  {label:<36} median {statistics.median(times) * 1e3:7.0f} ms   "
            f"max {max(times) * 1e3:7.0f} ms"
        )


if __name__ == "__main__":
    main()
