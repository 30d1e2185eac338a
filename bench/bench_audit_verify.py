"""How long does `hub audit verify` take over a large log?

Generates N entries (1,000,000 by default) with proper leaves — computed with hub.audit.log's
reference encoding, not the verifier's fast one — bulk-inserted into a fresh, migrated SQLite
database (and a fresh PostgreSQL database with --postgres), signs a checkpoint every 100,000
entries, then times verify_log and prints the figure.

    /work/venv/bin/python bench/bench_audit_verify.py [--entries N] [--postgres]
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

from hub.audit.log import canonical_json, leaf_hash, personal_digest, timestamp

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
    """Rows as hub.audit.log.append stores them."""
    rng = random.Random(6962)
    for seq in range(count):
        moment = start + timedelta(microseconds=50 * seq)
        categories = CATEGORIES[seq % len(CATEGORIES)]
        detail = {
            "basis": {c: f"consent:{rng.randrange(10_000)}" for c in categories},
            "objects": [rng.randrange(1_000_000)],
        }
        public = {
            "seq": seq,
            "recorded_at": timestamp(moment),
            "kind": "disclosure",
            "tag": TAGS[seq % len(TAGS)],
            "outcome": "disclosed",
            "purpose": PURPOSES[seq % len(PURPOSES)],
            "actor_role": ROLES[seq % len(ROLES)],
            "actor_agency_id": rng.randrange(1, 40),
            "categories": categories,
            "policy_version": "2026-11-01",
        }
        personal = {
            "actor_user_id": rng.randrange(1, 500),
            "person_id": rng.randrange(1, 20_000),
            "request_id": uuid.UUID(int=rng.getrandbits(128)).hex,
            "address": f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
            "detail": detail,
        }
        salt = secrets.token_hex(16)
        digest = personal_digest(salt, personal)
        leaf = leaf_hash(canonical_json({**public, "personal_digest": digest}))
        yield (
            seq,
            moment,
            public["kind"],
            public["tag"],
            public["outcome"],
            public["purpose"],
            public["actor_role"],
            public["actor_agency_id"],
            canonical_json(categories).decode(),  # as hub.audit.models.CanonicalJSON stores
            public["policy_version"],
            personal["actor_user_id"],
            personal["person_id"],
            personal["request_id"],
            personal["address"],
            canonical_json(detail).decode(),
            salt,
            digest,
            leaf,
        )


COLUMNS = (
    "seq, recorded_at, kind, tag, outcome, purpose, actor_role, actor_agency_id, categories, "
    "policy_version, actor_user_id, person_id, request_id, address, detail, salt, "
    "personal_digest, leaf_hash"
)


def fill_sqlite(path: Path, count: int, start: datetime) -> None:
    import sqlite3

    connection = sqlite3.connect(path)
    marks = ", ".join("?" * 18)
    batch = []
    for row in make_rows(count, start):
        moment = row[1].strftime("%Y-%m-%d %H:%M:%S.%f")
        batch.append((row[0], moment, *row[2:]))
        if len(batch) == CHECKPOINT_EVERY:
            connection.executemany(f"INSERT INTO log_entry ({COLUMNS}) VALUES ({marks})", batch)
            connection.commit()
            batch = []
            yield
    if batch:
        connection.executemany(f"INSERT INTO log_entry ({COLUMNS}) VALUES ({marks})", batch)
        connection.commit()
        yield
    connection.close()


def fill_postgres(url: str, count: int, start: datetime):
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        rows = make_rows(count, start)
        done = 0
        while done < count:
            chunk = min(CHECKPOINT_EVERY, count - done)
            cursor = connection.cursor()
            with cursor.copy(f"COPY log_entry ({COLUMNS}) FROM STDIN") as copy:
                for _ in range(chunk):
                    copy.write_row(next(rows))
            connection.commit()
            done += chunk
            yield


def run(url: str, filler) -> None:
    from sqlmodel import Session

    from hub.audit.checkpoint import sign_checkpoint, verifier_key
    from hub.audit.notes import Verifier
    from hub.audit.verify import verify_log
    from hub.db import engine_for, migrate

    migrate(url)
    engine = engine_for(url)
    started = time.perf_counter()
    for _ in filler:
        with Session(engine) as db:
            sign_checkpoint(db)
            db.commit()
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
    args = parser.parse_args()
    start = datetime.now(UTC) - timedelta(days=1)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        url = f"sqlite:///{path}"
        os.environ["HUB_DATABASE_URL"] = url
        print(f"SQLite, {args.entries:,} entries:", flush=True)
        run(url, fill_sqlite(path, args.entries, start))
    if args.postgres:
        import psycopg

        server = os.environ.get(
            "HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432"
        )
        admin = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
        name = f"hub_bench_{secrets.token_hex(4)}"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        try:
            url = f"{server}/{name}"
            os.environ["HUB_DATABASE_URL"] = url
            print(f"PostgreSQL, {args.entries:,} entries:", flush=True)
            run(url, fill_postgres(url, args.entries, start))
        finally:
            from hub.db import engine_for

            engine_for.cache_clear()
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
