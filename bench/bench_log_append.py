"""What one disclosing request pays the log: append_many of 1 and of 40 entries (an agenda)
and the commit, on PostgreSQL (a scratch database) and SQLite (a scratch file). CPU time of
this process (process_time) and wall time, median and p90 of --runs runs each.

    /work/venv/bin/python bench/bench_log_append.py [--runs 300] [--no-postgres]

Prints figures; asserts nothing.
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.crypto import generate_environment

os.environ.update({k: v for k, v in generate_environment().items() if k not in os.environ})
os.environ["HUB_CHECKPOINT_INTERVAL_SECONDS"] = "3600"


def disclosures(count: int) -> list:
    """`count` disclosure events, as one request writes them (an agenda: forty)."""
    from hub.audit.log import Event

    return [
        Event(
            kind="disclosure",
            tag="client_record_read",
            outcome="disclosed",
            purpose="charging",
            person_id=i + 1,
            categories=["identity", "legal"],
            policy_version="v1",
            detail={"basis": {"identity": "relationship:office_matter"}},
        )
        for i in range(count)
    ]


def _figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered) * 1000:6.2f} ms, p90 {p90 * 1000:6.2f} ms"


def run(label: str, url: str, runs: int) -> None:
    from sqlmodel import Session

    from hub.audit.log import Actor, append_many
    from hub.db import engine_for, migrate

    migrate(url)
    engine = engine_for(url)
    actor = Actor(user_id=1, role="prosecutor", agency_id=2, request_id="r" * 24)
    for count in (1, 40):
        events = disclosures(count)
        cpu, wall = [], []
        for _ in range(runs):
            with Session(engine) as db:
                started_cpu, started = time.process_time(), time.perf_counter()
                append_many(db, actor, events)
                db.commit()
                cpu.append(time.process_time() - started_cpu)
                wall.append(time.perf_counter() - started)
        print(f"{label}, {count:2d} entries + commit: CPU {_figures(cpu)}; wall {_figures(wall)}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        run("SQLite", f"sqlite:///{Path(directory) / 'bench.db'}", args.runs)
    if args.no_postgres:
        return
    import psycopg

    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    name = f"hub_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        run("PostgreSQL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", args.runs)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
