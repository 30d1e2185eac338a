"""How long `hub demo --scale N` takes, phase by phase, and what it builds.

    /work/venv/bin/python bench/scale_seed.py [--scale 100] [--postgres] [--keep URL]

Builds the scale demo into a fresh database (a scratch SQLite file, or with --postgres a
scratch PostgreSQL database, dropped afterwards), then prints the seconds of each phase, the
row count of every non-empty table, the database size and the time of `hub audit verify`.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.crypto import generate_environment

os.environ.update({k: v for k, v in generate_environment().items() if k not in os.environ})


def measure(url: str, scale: int, seed: int) -> None:
    from sqlalchemy import MetaData, func, select, text

    from hub.audit.checkpoint import verifier_key
    from hub.audit.notes import Verifier
    from hub.audit.verify import verify_log
    from hub.db import engine_for
    from hub.demo.program import DEFAULT_PERSONS
    from hub.demo.services import rebuild_demo
    from hub.settings import get_settings

    os.environ["HUB_DATABASE_URL"] = url
    get_settings.cache_clear()

    def phase(name: str, seconds: float) -> None:
        print(f"  {name:40} {seconds:8.1f} s", flush=True)

    started = time.perf_counter()
    rebuild_demo(url, seed, DEFAULT_PERSONS, scale=scale, phase=phase)
    phase("build, total", time.perf_counter() - started)
    engine = engine_for(url)
    started = time.perf_counter()
    report = verify_log(engine, Verifier.parse(verifier_key()))
    status = "OK" if report.ok else f"FAILED: {report.first}"
    phase(f"hub audit verify ({status})", time.perf_counter() - started)

    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        for name, table in sorted(tables.tables.items()):
            count = connection.execute(select(func.count()).select_from(table)).scalar_one()
            if count:
                print(f"  {name:40} {count:>12,} rows")
        if engine.dialect.name == "postgresql":
            size = connection.execute(text("SELECT pg_database_size(current_database())")).scalar()
        else:
            size = Path(engine.url.database or "").stat().st_size
    print(f"  {'database size':40} {int(size or 0) / 2**20:12,.0f} MiB")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2011)
    parser.add_argument(
        "--postgres", action="store_true", help="on a scratch PostgreSQL database instead"
    )
    parser.add_argument(
        "--server",
        default=os.environ.get(
            "HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432"
        ),
        help="the PostgreSQL server for --postgres",
    )
    args = parser.parse_args()
    if not args.postgres:
        with tempfile.TemporaryDirectory() as scratch:
            print(f"SQLite, scale {args.scale}:", flush=True)
            measure(f"sqlite:///{scratch}/scale.db", args.scale, args.seed)
        return
    from sqlalchemy import create_engine, text

    name = f"scale_bench_{os.getpid()}"
    print(f"PostgreSQL, scale {args.scale}:", flush=True)
    try:
        measure(f"{args.server}/{name}", args.scale, args.seed)
    finally:
        server = create_engine(f"{args.server}/postgres", isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


if __name__ == "__main__":
    main()
