"""How long does `hub keys rotate` take at 100 times the demo, and does it leave every sealed
value under the new key only?

Builds the demo program with N x 300 persons (`--scale`, 100 by default: 30,000 persons with
their contact, health and treatment records and case notes, the values hub.crypto seals) into
a fresh, migrated SQLite database (and a fresh PostgreSQL one with --postgres), all sealed
under an old key. Then puts a new key in front of HUB_DATA_KEYS, times
hub.keyrotation.rotate_data_keys, and reads every sealed column back raw: each value must
open with the new key alone and with the old key not at all. Prints the figures; asserts
nothing but that check.

    .venv/bin/python bench/bench_data_key_rotation.py [--scale N] [--postgres]
"""

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.crypto import generate_environment, new_data_key

os.environ.update({k: v for k, v in generate_environment().items() if k not in os.environ})
from sqlalchemy import Text, column, select, table
from sqlmodel import Session

from bench.scratch import scratch_postgres
from hub.audit.log import Actor
from hub.crypto import KeyRing, KeyRingError, key_ring
from hub.db import engine_for, migrate
from hub.demo.program import DEFAULT_PERSONS, build_demo
from hub.keyrotation import rotate_data_keys, sealed_columns
from hub.settings import get_settings

TODAY = date(2026, 11, 30)
OLD = f"old:{new_data_key()}"
NEW = f"new:{new_data_key()}"


def _use_keys(keys: str) -> None:
    os.environ["HUB_DATA_KEYS"] = keys
    get_settings.cache_clear()
    key_ring.cache_clear()


def check_sealed(url: str) -> tuple[int, int]:
    """(values that open with the new key alone, values that still open with the old key)."""
    new_only = KeyRing.parse(NEW)
    old_only = KeyRing.parse(OLD)
    opened = still_old = 0
    with engine_for(url).connect() as connection:
        for table_name, pk_name, col_name in sealed_columns():
            raw = table(table_name, column(pk_name), column(col_name, Text))
            rows = connection.execute(select(raw.c[col_name]).where(raw.c[col_name].is_not(None)))
            for (token,) in rows:
                new_only.open(token)
                opened += 1
                try:
                    old_only.open(token)
                    still_old += 1
                except KeyRingError:
                    pass
    return opened, still_old


def run(url: str, scale: int) -> None:
    _use_keys(OLD)
    migrate(url)
    engine = engine_for(url)
    started = time.perf_counter()
    with Session(engine) as db:
        build_demo(db, persons=DEFAULT_PERSONS * scale, today=TODAY)
        db.commit()
    print(f"  demo x{scale} built in {time.perf_counter() - started:.1f} s", flush=True)
    _use_keys(f"{NEW},{OLD}")
    started = time.perf_counter()
    counts = rotate_data_keys(engine, Actor())
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    print(f"  re-sealed {total:,} values in {elapsed:.1f} s ({total / elapsed:,.0f} values/s)")
    for name, count in counts.items():
        print(f"    {name}: {count:,}")
    started = time.perf_counter()
    again = sum(rotate_data_keys(engine, Actor()).values())
    print(f"  a second run re-sealed {again} values in {time.perf_counter() - started:.1f} s")
    opened, still_old = check_sealed(url)
    verdict = "OK" if opened == total and still_old == 0 else "FAILED"
    print(f"  check: {opened:,} open with the new key alone, {still_old} with the old: {verdict}")
    if verdict != "OK":
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        os.environ["HUB_DATABASE_URL"] = url
        print(f"SQLite, demo x{args.scale}:", flush=True)
        run(url, args.scale)
    if args.postgres:
        with scratch_postgres() as url:
            print(f"PostgreSQL, demo x{args.scale}:", flush=True)
            run(url, args.scale)


if __name__ == "__main__":
    main()
