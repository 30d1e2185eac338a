"""How long does `hub audit verify` take over a large log?

Generates N entries (1,000,000 by default) with proper leaves (hub.audit.bulk, as the scale
demo writes them) bulk-inserted into a fresh, migrated SQLite
database (and a fresh PostgreSQL database with --postgres), signs a checkpoint every 100,000
entries, then times verify_log and prints the figure.

    .venv/bin/python bench/bench_audit_verify.py [--entries N] [--postgres] [--url URL]

--url verifies an existing database instead (one bench_proofs.py --url URL --build made, with
the same HUB_LOG_SIGNING_KEY).
"""

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.crypto import generate_environment

os.environ.update({k: v for k, v in generate_environment().items() if k not in os.environ})

from bench.scratch import scratch_postgres
from hub.audit.bulk import entry_row, write_entries
from hub.audit.log import canonical_json

CATEGORIES = [
    ["identity"],
    ["engagement", "identity"],
    ["engagement", "identity", "referral"],
    ["identity", "legal", "referral"],
    ["contact", "identity", "plan"],
    ["health", "identity", "treatment"],
]
TAGS = ["disclosure:client:read", "disclosure:client:search", "account:sign_in:success"]
ROLES = ["case_manager", "officer", "prosecutor", "defender", "coordinator"]
PURPOSES = ["case_management", "referral", "work_group", "charging_decision", "defense"]
CHECKPOINT_EVERY = 100_000


def make_rows(count: int, start: datetime):
    """Rows as hub.audit.log.append stores them (hub.audit.bulk computes digest and leaf)."""
    rng = random.Random(6962)
    for seq in range(count):
        categories = CATEGORIES[seq % len(CATEGORIES)]
        detail = {
            "basis": {c: f"consent:{rng.randrange(10_000)}" for c in categories},
            "objects": [rng.randrange(1_000_000)],
        }
        yield entry_row(
            seq,
            start + timedelta(microseconds=50 * seq),
            secrets.token_hex(16),
            "disclosure",
            TAGS[seq % len(TAGS)],
            "disclosed",
            PURPOSES[seq % len(PURPOSES)],
            ROLES[seq % len(ROLES)],
            rng.randrange(1, 40),
            canonical_json(categories).decode(),
            "2026-11-01",
            rng.randrange(1, 500),
            rng.randrange(1, 20_000),
            uuid.UUID(int=rng.getrandbits(128)).hex,
            f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
            canonical_json(detail).decode(),
        )


def run(url: str, count: int, start: datetime, build: bool = True) -> None:
    from hub.audit.checkpoint import verifier_key
    from hub.audit.notes import Verifier
    from hub.audit.verify import verify_log
    from hub.db import engine_for, migrate

    engine = engine_for(url)
    if build:
        migrate(url)
        started = time.perf_counter()
        write_entries(engine, make_rows(count, start), batch=CHECKPOINT_EVERY)
        print(f"  generated and signed in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    report = verify_log(engine, Verifier.parse(verifier_key()))
    elapsed = time.perf_counter() - started
    status = "OK" if report.ok else f"FAILED: {report.first}"
    print(
        f"  verify: {report.entries:,} entries, {report.heads} heads in {elapsed:.2f} s "
        f"({report.entries / elapsed:,.0f} entries/s) -> {status}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--url", help="verify this existing database instead of building one")
    args = parser.parse_args()
    start = datetime.now(UTC) - timedelta(days=1)
    if args.url:
        os.environ["HUB_DATABASE_URL"] = args.url
        print(f"{args.url.split(':')[0]}:", flush=True)
        run(args.url, 0, start, build=False)
        return
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        url = f"sqlite:///{path}"
        os.environ["HUB_DATABASE_URL"] = url
        print(f"SQLite, {args.entries:,} entries:", flush=True)
        run(url, args.entries, start)
    if args.postgres:
        with scratch_postgres() as url:
            print(f"PostgreSQL, {args.entries:,} entries:", flush=True)
            run(url, args.entries, start)


if __name__ == "__main__":
    main()
