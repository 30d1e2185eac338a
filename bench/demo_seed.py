"""How long `hub demo` takes to build its program, on SQLite and on PostgreSQL.

    /work/venv/bin/python bench/demo_seed.py [--persons 300] [--postgres URL]

Prints the time of a cold build (argon2 hashes the staff passwords) and of a warm rebuild (the
hashes are reused in-process, so it shows the cost of the persons themselves).
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2011)
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432",
        help="server URL; a scratch database is created there and dropped",
    )
    args = parser.parse_args()

    from sqlalchemy import create_engine, text

    from hub.clients.models import Person
    from hub.db import engine_for
    from hub.demo.program import _password_hash
    from hub.demo.services import rebuild_demo
    from hub.settings import get_settings

    with tempfile.TemporaryDirectory() as scratch:
        targets = [("sqlite", f"sqlite:///{scratch}/bench.db")]
        name = f"hub_bench_demo_{os.getpid()}"
        targets.append(("postgres", f"{args.postgres}/{name}"))
        try:
            for label, url in targets:
                os.environ["HUB_DATABASE_URL"] = url
                get_settings.cache_clear()
                _password_hash.cache_clear()
                for run in ("cold", "warm"):
                    started = time.perf_counter()
                    rebuild_demo(url, args.seed, args.persons)
                    elapsed = time.perf_counter() - started
                    with engine_for(url).connect() as connection:
                        count = connection.execute(
                            text(f"SELECT count(*) FROM {Person.__tablename__}")
                        ).scalar()
                    print(f"{label:8} {run}: {count} persons in {elapsed:.2f} s")
                engine_for(url).dispose()
        finally:
            server = create_engine(f"{args.postgres}/postgres", isolation_level="AUTOCOMMIT")
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            server.dispose()


if __name__ == "__main__":
    main()
