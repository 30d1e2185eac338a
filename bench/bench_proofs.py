"""How long do the log's proofs take at scale: a receipt, the accounting's proofs of a client's
500 disclosures, a charging decision's binding (issue 19: they must cost their size, not the
log's)?

Builds a log of N entries (hub.audit.bulk, as bench_audit_verify.py does: tiles and a checkpoint
after every batch) in a scratch SQLite database, and with --postgres in a scratch PostgreSQL
database too (--only-postgres: that one alone), or measures an existing database (--url, e.g.
one `hub demo --scale 20 --build-only` built; with --build, first builds the log into it, empty
and kept, to measure again or verify with bench_audit_verify.py --url under the same
HUB_LOG_SIGNING_KEY), then prints the median and worst of each:

- receipt: `build_receipt` of an entry in the middle of the log (hub audit receipt);
- accounting: `verify_entries` of 500 entries spread over the log, the part of an accounting
  of disclosures that proves every listed entry against the newest checkpoint; "cold" first
  empties the process's cache of full tiles' inner hashes (hub.audit.tiles.full_tile_levels),
  as after a restart;
- binding: one disclosure appended and `tree_head_for_decision` (the checkpoint a charging
  decision binds, signed in its transaction), rolled back each time;
- before: the same receipt's proof built from every leaf hash, as receipts did before tiles
  (--no-before skips it: 40 s at 5 M entries).

At 5,000,000 entries on PostgreSQL (shared 2-core machine, load average 5 to 7), medians of
three interleaved runs, before -> after: receipt 6.8-8.8 -> 5.4-6.4 ms; accounting 298-421 ->
cold 194-269, warm 132-150 ms; binding 8.1-14.3 -> 7.9-12.0 ms. See
docs/audit-log.md, "Tiles: proofs that cost their size".

    .venv/bin/python bench/bench_proofs.py [--entries N] [--postgres | --only-postgres]
        [--url URL [--build]] [--repeat R] [--no-before]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.crypto import generate_environment

os.environ.update({k: v for k, v in generate_environment().items() if k not in os.environ})

from bench.bench_audit_verify import make_rows
from bench.scratch import scratch_postgres
from bench.timing import timed

ACCOUNTED = 500


def figures(name: str, samples: list[float]) -> None:
    print(
        f"  {name:34} median {statistics.median(samples) * 1000:9.1f} ms   "
        f"worst {max(samples) * 1000:9.1f} ms",
        flush=True,
    )


def measure(url: str, repeat: int, before_too: bool = True) -> None:
    from sqlmodel import Session

    from hub.audit.checkpoint import latest_head, leaf_hashes
    from hub.audit.log import Actor, Event, append
    from hub.audit.merkle import ListNodes, inclusion_proof
    from hub.audit.receipts import build_receipt
    from hub.audit.tiles import full_tile_levels
    from hub.charging.binding import tree_head_for_decision
    from hub.db import engine_for
    from hub.privacy.accounting import verify_entries
    from hub.vocabulary import Category, LogKind, LogOutcome, Purpose

    engine = engine_for(url)
    with Session(engine, expire_on_commit=False) as db:
        head = latest_head(db)
        assert head is not None, "no signed checkpoint: nothing to prove against"
        size = head.tree_size
        print(f"  tree size {size:,}", flush=True)
        middle = size // 2
        spread = sorted({size * n // ACCOUNTED for n in range(ACCOUNTED)})

        def receipt() -> None:
            build_receipt(db, middle)
            db.rollback()

        def accounting() -> None:
            integrity = verify_entries(db, spread)
            assert not integrity.problems, integrity.problems
            db.rollback()

        def cold_accounting() -> None:
            full_tile_levels.cache_clear()
            accounting()

        def binding() -> None:
            append(
                db,
                Actor(user_id=1, role="prosecutor", agency_id=1, request_id="bench"),
                Event(
                    kind=LogKind.disclosure,
                    tag="disclosure:client:read",
                    outcome=LogOutcome.disclosed,
                    purpose=Purpose.charging_decision,
                    person_id=1,
                    categories=[Category.identity, Category.legal],
                ),
            )
            assert tree_head_for_decision(db) is not None
            db.rollback()

        def before() -> None:
            inclusion_proof(middle, size, ListNodes(list(leaf_hashes(db, 0, size))))
            db.rollback()

        figures("receipt", timed(receipt, repeat))
        figures(f"accounting, cold ({len(spread)} proven)", timed(cold_accounting, repeat))
        figures(f"accounting ({len(spread)} entries proven)", timed(accounting, repeat))
        figures("binding (append + checkpoint)", timed(binding, repeat))
        if before_too:
            figures("before: receipt proof from leaves", timed(before, 1))


def build(url: str, count: int) -> None:
    from hub.audit.bulk import write_entries
    from hub.db import engine_for, migrate

    migrate(url)
    started = time.perf_counter()
    start = datetime.now(UTC) - timedelta(days=1)
    write_entries(engine_for(url), make_rows(count, start), batch=100_000)
    print(f"  {count:,} entries generated, tiled and signed in "
          f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--only-postgres", action="store_true", help="on PostgreSQL alone")
    parser.add_argument("--url", help="measure this existing database instead of building one")
    parser.add_argument("--build", action="store_true", help="first build the log into --url")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-before", action="store_true", help="skip the proof from every leaf")
    args = parser.parse_args()
    if args.url:
        os.environ["HUB_DATABASE_URL"] = args.url
        print(f"{args.url.split(':')[0]}:", flush=True)
        if args.build:
            build(args.url, args.entries)
        measure(args.url, args.repeat, not args.no_before)
        return
    if not args.only_postgres:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{Path(directory) / 'bench.db'}"
            os.environ["HUB_DATABASE_URL"] = url
            print("SQLite:", flush=True)
            build(url, args.entries)
            measure(url, args.repeat, not args.no_before)
    if args.postgres or args.only_postgres:
        with scratch_postgres() as url:
            print("PostgreSQL:", flush=True)
            build(url, args.entries)
            measure(url, args.repeat, not args.no_before)


if __name__ == "__main__":
    main()
