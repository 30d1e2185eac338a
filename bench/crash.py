"""Crash with nothing lost: SIGKILL the hub under load, restart it, and prove that nothing
acknowledged was lost and nothing half-written is visible.

    /work/venv/bin/python bench/crash.py --backend both --kills 1 --duration 60
    /work/venv/bin/python bench/crash.py --backend sqlite --broken deferred-log   # must FAIL

For each backend: build the demo in a fresh database, start `hub serve` with two workers
(bench/hubserver.py), run the locust load headless (bench/load/locustfile.py) with its journal
of responses, SIGKILL the server's whole process group at seeded random moments in the middle
of the run, leave the load hammering the dead port for `--outage` seconds, restart, let the load
finish, stop. Then (bench/crash_checks.py):

  a. `hub audit verify` passes;
  b. every acknowledged (2xx/3xx) response that carried client data has a log entry with its
     request id;
  c. every acknowledged write is in the database, found by the marker the load put in it
     (sealed notes opened with the hub's own keys), with its log entry;
  d. nothing half-written: new notes and decisions each with their log entry and no entry
     naming a row that is not there, bound disclosures and tree heads exist, every checkpoint
     pushed out of the database is a head it still holds; on SQLite the files as the kill left
     them open cleanly, pass integrity_check and their log verifies; on PostgreSQL no backend
     of the dead server is left in a transaction, nothing is left at the end.

Prints PASS/FAIL per check with counts; exit 0 only when every check passes. `--broken FAULT`
runs the same test against a deliberately broken server (bench/crash_faults/sitecustomize.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from hub.crypto import generate_environment  # noqa: E402

# One set of secrets for the run: the server, `hub audit verify` and the checks in this
# process must open the same sealed text and check the same signatures.
for _name, _value in generate_environment().items():
    os.environ.setdefault(_name, _value)

import crash_checks as checks  # noqa: E402
from hubserver import (  # noqa: E402
    POSTGRES_ADMIN_URL,
    HubServer,
    fresh_postgres,
    hub_environment,
    run_hub,
    sqlite_url,
)

LOCUSTFILE = BENCH / "load" / "locustfile.py"
FAULTS = BENCH / "crash_faults"
FAULT_NAMES = ("deferred-log", "early-ack")
FAULT_BANNER = "hub crash fault active"


@dataclass
class Options:
    duration: float
    kills: int
    outage: float
    users: int
    think: float
    locustfile: Path
    persons: int
    seed: int
    port: int
    out: Path
    database: str
    broken: str | None
    keep: bool


@dataclass
class Kill:
    number: int
    at: float
    journaled: int  # responses in the journal when the server died
    restarted_in: float = 0.0
    backends: checks.Backends | None = None
    snapshot: Path | None = None


@dataclass
class Run:
    backend: str
    timings: dict[str, float] = field(default_factory=dict)
    kills: list[Kill] = field(default_factory=list)
    results: list[checks.Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(check.passed for check in self.results)


# --- the database and the hub's own code in this process ------------------------------------------


@contextmanager
def database(backend: str, options: Options, run_dir: Path) -> Iterator[tuple[str, Path | None]]:
    if backend == "sqlite":
        path = run_dir / "hub.db"
        yield sqlite_url(path), path
        return
    with fresh_postgres(options.database, keep=options.keep) as url:
        yield url, None


@contextmanager
def hub_session(env: dict[str, str]) -> Iterator[object]:
    """A session on the run's database, opened by the hub's own code with the run's secrets."""
    from sqlmodel import Session

    from hub.crypto import key_ring
    from hub.db import engine_for, get_engine
    from hub.settings import get_settings

    for name, value in env.items():
        if name.startswith("HUB_"):
            os.environ[name] = value
    for cached in (get_settings, key_ring, engine_for):
        cached.cache_clear()
    engine = get_engine()
    try:
        with Session(engine, expire_on_commit=False) as db:
            yield db
    finally:
        engine.dispose()


# --- the load -------------------------------------------------------------------------------------


def start_load(
    base_url: str, accounts: Path, journal: Path, options: Options, log: Path
) -> subprocess.Popen[bytes]:
    if not options.locustfile.exists():
        raise SystemExit(f"{options.locustfile} is missing: merge branch `load`")
    state = log.parent / "load-state"  # which user signs which account in: fresh for each run
    shutil.rmtree(state, ignore_errors=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(BENCH.parent),
        "HUB_LOAD_ACCOUNTS": str(accounts),
        "HUB_LOAD_JOURNAL": str(journal),
        "HUB_LOAD_STATE": str(state),
        "HUB_LOAD_THINK": str(options.think),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(options.locustfile),
            "--headless",
            "--host",
            base_url,
            "--users",
            str(options.users),
            "--spawn-rate",
            str(options.users),
            # bench/crash.py stops it; this only bounds a run whose driver died.
            "--run-time",
            f"{int(options.duration * 3 + 300)}s",
            "--stop-timeout",
            "5",
            "--only-summary",
        ],
        cwd=BENCH.parent,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


SIGN_IN_PAGES = ("sign-in form", "sign-in", "second-factor form", "second-factor")


def wait_for_work(journal: Path, load: subprocess.Popen[bytes], timeout: float = 180) -> float:
    """The moment the first page past sign-in is answered."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if load.poll() is not None:
            raise SystemExit(f"locust exited ({load.returncode}): see locust.log")
        if any(
            r.acknowledged and r.page not in SIGN_IN_PAGES
            for r in checks.Journal.read(journal).responses
        ):
            return time.perf_counter()
        time.sleep(0.2)
    raise SystemExit(f"no page past sign-in answered within {timeout:.0f} s: see locust.log")


def sleep_until(moment: float, load: subprocess.Popen[bytes]) -> None:
    while time.perf_counter() < moment and load.poll() is None:
        time.sleep(0.05)


def stop_load(load: subprocess.Popen[bytes]) -> None:
    """SIGTERM: locust stops its users, writes its summary and exits."""
    if load.poll() is None:
        load.terminate()
        try:
            load.wait(timeout=30)
        except subprocess.TimeoutExpired:
            load.kill()
            load.wait()


def _lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def plan_kills(rng: random.Random, options: Options) -> list[float]:
    """Seconds after the users signed in: one in each equal slot of the middle half of the run."""
    start, end = options.duration * 0.25, options.duration * 0.75
    slot = (end - start) / options.kills
    return [start + slot * n + rng.uniform(0, slot) for n in range(options.kills)]


# --- one run --------------------------------------------------------------------------------------


def run_backend(backend: str, options: Options) -> Run:
    run = Run(backend)
    run_dir = options.out / backend
    run_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{options.seed}:{backend}")
    journal = run_dir / "journal.jsonl"
    journal.unlink(missing_ok=True)
    pushed = run_dir / "checkpoints"
    with database(backend, options, run_dir) as (url, sqlite_path):
        env = hub_environment(
            url,
            # Heads signed and pushed every few seconds, so that the kill can land mid-round.
            HUB_CHECKPOINT_INTERVAL_SECONDS="2",
            HUB_CHECKPOINT_PUSH_DIR=str(pushed),
        )
        started = time.perf_counter()
        accounts = run_dir / "accounts.json"
        accounts.write_text(
            run_hub("demo", "--accounts-json", "--persons", str(options.persons), env=env)
        )
        run.timings["demo build"] = time.perf_counter() - started
        with hub_session(env) as db:
            since = checks.table_high_water(db)

        server_env = dict(env)
        if options.broken:
            server_env["PYTHONPATH"] = os.pathsep.join([str(FAULTS), env["PYTHONPATH"]])
            server_env["HUB_CRASH_FAULT"] = options.broken
        server_log = run_dir / "server.log"
        server_log.unlink(missing_ok=True)
        server = HubServer(server_env, options.port, workers=2, log_path=server_log)
        refuse_busy_port(options.port)
        started = time.perf_counter()
        server.start()
        run.timings["server start"] = time.perf_counter() - started

        load = start_load(server.base_url, accounts, journal, options, run_dir / "locust.log")
        try:
            # The clock starts when the users have signed in (argon2 and TOTP, a few seconds
            # on a busy machine) and work is being answered.
            signing_in = time.perf_counter()
            working = wait_for_work(journal, load)
            run.timings["sign-in"] = working - signing_in
            up_again = working
            for number, at in enumerate(plan_kills(rng, options), 1):
                sleep_until(max(working + at, up_again + 1), load)
                server.kill()
                kill = Kill(number, time.perf_counter() - working, _lines(journal))
                dead_since = time.perf_counter()
                if sqlite_path is not None:
                    kill.snapshot = checks.snapshot_sqlite(sqlite_path, run_dir / f"kill{number}")
                else:
                    kill.backends = watch_backends(options, dead_since)
                sleep_until(dead_since + options.outage, load)
                server.start()
                up_again = time.perf_counter()
                kill.restarted_in = up_again - dead_since - options.outage
                run.kills.append(kill)
            # However slow the restart, the load runs on a while against the restarted server.
            sleep_until(max(working + options.duration, up_again + options.duration / 4), load)
        finally:
            stop_load(load)
            run.timings["load"] = time.perf_counter() - signing_in
            server.stop()

        started = time.perf_counter()
        run.results = run_checks(backend, env, journal, since, pushed, sqlite_path, run)
        if options.broken:
            run.results.insert(0, fault_loaded(server_log, options.broken))
        run.timings["checks"] = time.perf_counter() - started
    return run


def refuse_busy_port(port: int) -> None:
    """HubServer waits for /healthz to answer: another hub already on the port would answer,
    and the load and the kill would then go to different servers."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is already in use: choose another with --port")


def fault_loaded(server_log: Path, fault: str) -> checks.Check:
    """A broken run proves something only if the broken build is what ran."""
    banners = server_log.read_text(errors="replace").count(f"{FAULT_BANNER}: {fault}")
    return checks.Check(
        "broken build running",
        banners > 0,
        f"{banners} server processes (master and workers, each start) ran with fault {fault}",
    )


def watch_backends(options: Options, since: float) -> checks.Backends:
    """The dead server's PostgreSQL backends: seen right after the kill, and what is left
    once the outage is over (waiting up to 10 s more for them to go)."""
    admin = POSTGRES_ADMIN_URL
    at_kill = checks.postgres_backends(admin, options.database)
    left = at_kill
    while left and time.perf_counter() - since < options.outage + 10:
        time.sleep(0.1)
        left = checks.postgres_backends(admin, options.database)
    return checks.Backends(at_kill, left, time.perf_counter() - since)


def run_checks(
    backend: str,
    env: dict[str, str],
    journal_path: Path,
    since: dict[str, int],
    pushed: Path,
    sqlite_path: Path | None,
    run: Run,
) -> list[checks.Check]:
    journal = checks.Journal.read(journal_path)
    run.notes.append(f"journal: {journal.summary()}")
    results = [checks.audit_verify(env)]
    with hub_session(env) as db:
        results.append(checks.disclosures_logged(db, journal))
        results.append(checks.writes_kept(db, journal, since))
        results.append(checks.records_whole(db, since))
        results.append(checks.pushed_checkpoints(db, pushed))
        for kill in run.kills:
            if kill.snapshot is not None:
                results.append(
                    checks.sqlite_sound(kill.snapshot, f"files as kill {kill.number} left them")
                )
                results.append(checks.verify_snapshot(kill.snapshot))
            if kill.backends is not None:
                results.append(checks.postgres_after_kill(kill.backends, kill.number))
    if sqlite_path is not None:
        results.append(checks.sqlite_sound(sqlite_path, "files at the end"))
    else:
        results.append(checks.postgres_at_end(POSTGRES_ADMIN_URL, env_database(env)))
    return results


def env_database(env: dict[str, str]) -> str:
    return env["HUB_DATABASE_URL"].rsplit("/", 1)[1]


# --- output ---------------------------------------------------------------------------------------


def report(run: Run, options: Options) -> None:
    print(f"== {run.backend}", flush=True)
    for name, seconds in run.timings.items():
        print(f"  {name}: {seconds:.1f} s")
    for kill in run.kills:
        print(
            f"  kill {kill.number}: SIGKILL to the server group {kill.at:.1f} s into the load "
            f"({kill.journaled} responses journaled), {options.outage:.0f} s down, "
            f"answering again {kill.restarted_in:.1f} s after its restart"
        )
    for note in run.notes:
        print(f"  {note}")
    for check in run.results:
        for line in check.lines():
            print(line)
    print(f"== {run.backend}: {'PASS' if run.passed else 'FAIL'}", flush=True)


def parse(argv: list[str] | None = None) -> tuple[list[str], Options]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--kills", type=int, default=1, help="SIGKILLs during the run")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load after sign-in")
    parser.add_argument("--outage", type=float, default=3, help="seconds the server stays dead")
    parser.add_argument("--users", type=int, default=16, help="locust users")
    parser.add_argument("--think", type=float, default=0.2, help="seconds between a user's tasks")
    parser.add_argument("--locustfile", type=Path, default=LOCUSTFILE)
    parser.add_argument("--persons", type=int, default=300, help="demo persons")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one, printed")
    parser.add_argument("--port", type=int, default=8410)
    parser.add_argument("--out", type=Path, default=None, help="journal, logs, snapshots")
    parser.add_argument("--database", default="crash_run", help="PostgreSQL database name")
    parser.add_argument("--broken", choices=FAULT_NAMES, default=None, help="a broken build")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args(argv)
    if args.kills < 1 or args.duration < 10:
        parser.error("at least one kill and 10 s of load")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    out = args.out or Path(tempfile.mkdtemp(prefix="hub-crash-"))
    return backends, Options(
        duration=args.duration,
        kills=args.kills,
        outage=args.outage,
        users=args.users,
        think=args.think,
        locustfile=args.locustfile,
        persons=args.persons,
        seed=seed,
        port=args.port,
        out=out,
        database=args.database,
        broken=args.broken,
        keep=args.keep,
    )


def main(argv: list[str] | None = None) -> int:
    backends, options = parse(argv)
    print(
        f"crash test: seed {options.seed}, {options.duration:.0f} s of load by {options.users} "
        f"users, {options.kills} kill(s), {options.outage:.0f} s down each; backends "
        f"{', '.join(backends)}; build {options.broken or 'as committed'}; output in {options.out}",
        flush=True,
    )
    runs = []
    for backend in backends:
        run = run_backend(backend, options)
        report(run, options)
        runs.append(run)
    passed = all(run.passed for run in runs)
    summary = {run.backend: "PASS" if run.passed else "FAIL" for run in runs}
    print(f"crash test: {json.dumps(summary)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
