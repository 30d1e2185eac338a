"""The load test in one command: data at scale N, a real `hub serve`, the bare ceiling, then a
work-group morning, and the table.

    python bench/load/run.py                          # short: scale 1, 30 s per phase
    python bench/load/run.py --scale 100 --duration 300 --template-database scale_n100
    python bench/load/run.py --workers 1,2,4          # the same run once per worker count

1. Builds the demo at --scale N (`hub demo --scale N`) in a fresh PostgreSQL database named
   load_n<N> (or copies --template-database, or --sqlite for a SQLite file), and takes its
   accounts.
2. Starts `hub serve` on 127.0.0.1 with the production settings (PostgreSQL, Secure cookies off
   only because there is no TLS proxy in front of 127.0.0.1) and --workers workers.
3. Phase "bare": --users locust users ask only /healthz/page (a small template through the same
   middleware; no database, session, policy or log). Phase "mixed": the same number of users
   do the work-group day of bench/load/locustfile.py. Each phase measures --duration seconds
   after every user has signed in.
4. Prints, per page, requests, req/s, p50, p99, errors and the page's throughput as a share of
   the bare endpoint's; then the targets (mixed >= 0.3 x bare; every page's p99 <= 150 ms) with
   PASS or MISS, and the CPU the client, the server and the machine used. Writes the same as
   JSON and Markdown into bench/out/.

Exits 1 when a request failed (HTTP 5xx, an unexpected status, a refused write); a MISS
against the targets is a figure, not a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from bench.hubserver import (  # noqa: E402
    HubServer,
    _admin_execute,
    fresh_postgres,
    hub_environment,
    postgres_url,
    run_hub,
    sqlite_url,
)

RATIO_TARGET = 0.3
P99_TARGET_MS = 150.0
OUT = ROOT / "bench" / "out"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1, help="hub demo --scale N (default 1)")
    parser.add_argument("--duration", type=float, default=30, help="seconds measured per phase")
    parser.add_argument("--users", type=int, default=32, help="concurrent users (connections)")
    parser.add_argument(
        "--workers",
        default=str(os.cpu_count() or 2),
        help="uvicorn workers (default: one per core, as deploy/README.md recommends); a comma "
        "list runs once per count",
    )
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, not PostgreSQL")
    parser.add_argument(
        "--template-database",
        help="copy this PostgreSQL database (CREATE DATABASE ... TEMPLATE) instead of building",
    )
    parser.add_argument("--database", help="the database name (default load_n<scale>)")
    parser.add_argument(
        "--env-file",
        type=Path,
        help="NAME=VALUE lines (the secrets a copied database was sealed with)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--journal", type=Path, help="append the journal here (locustfile.py)")
    parser.add_argument("--label", default="", help="a word for the output files")
    parser.add_argument("--out", type=Path, default=OUT, help="where the table goes (bench/out)")
    parser.add_argument("--phases", default="bare,mixed")
    args = parser.parse_args(argv)

    name = args.database or f"load_n{args.scale}"
    failed = False
    if args.env_file:
        for line in args.env_file.read_text().splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith("#"):
                os.environ[key.strip()] = value.strip()
    with _database(args, name) as url:
        env = hub_environment(url)
        accounts = _accounts(args, env)
        with tempfile.TemporaryDirectory(prefix="hub-load-") as scratch:
            accounts_file = Path(scratch) / "accounts.json"
            accounts_file.write_text(json.dumps(accounts))
            for workers in [int(w) for w in args.workers.split(",")]:
                result = run_once(args, env, workers, accounts_file, Path(scratch))
                print(result["table"])
                _write(result, args.out, args, workers)
                failed = failed or result["failures"] > 0
    return 1 if failed else 0


@contextmanager
def _database(args: argparse.Namespace, name: str) -> Iterator[str]:
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="hub-load-db-") as scratch:
            yield sqlite_url(Path(scratch) / f"{name}.db")
        return
    if args.template_database:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{args.template_database}"')
        try:
            yield postgres_url(name)
        finally:
            if not args.keep:
                _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    with fresh_postgres(name, keep=args.keep) as url:
        yield url


def _accounts(args: argparse.Namespace, env: dict[str, str]) -> list[dict[str, str]]:
    """Builds the data (or, on a copied database of the same scale, only lists its accounts)."""
    started = time.perf_counter()
    if args.template_database:
        run_hub("migrate", env=env, timeout=7200)  # a copy made before this code's revisions
    accounts = json.loads(
        run_hub("demo", "--scale", str(args.scale), "--accounts-json", env=env, timeout=7200)
    )
    took = time.perf_counter() - started
    print(f"data: scale {args.scale}, {len(accounts)} accounts ({took:.0f} s)")
    return [a for a in accounts if a["role"] != "admin"]


def run_once(
    args: argparse.Namespace,
    env: dict[str, str],
    workers: int,
    accounts_file: Path,
    scratch: Path,
) -> dict[str, Any]:
    log = scratch / f"serve-{workers}.log"
    phases: dict[str, dict[str, Any]] = {}
    with HubServer(env, args.port, workers=workers, log_path=log) as server:
        assert server.process is not None
        for phase in args.phases.split(","):
            phases[phase] = _locust(
                args, server, phase, accounts_file, scratch / f"{phase}-{workers}"
            )
    unhandled = [line for line in log.read_text().splitlines() if "unhandled" in line]
    return _report(args, workers, phases, unhandled)


def _locust(
    args: argparse.Namespace, server: HubServer, phase: str, accounts: Path, state: Path
) -> dict[str, Any]:
    state.mkdir()
    stats = state / "stats.json"
    assert server.process is not None
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HUB_LOAD_PHASE": phase,
        "HUB_LOAD_ACCOUNTS": str(accounts),
        "HUB_LOAD_STATE": str(state),
        "HUB_LOAD_DURATION": str(args.duration),
        "HUB_LOAD_STATS": str(stats),
        "HUB_LOAD_SERVER_PID": str(server.process.pid),
    }
    if args.journal:
        env["HUB_LOAD_JOURNAL"] = str(args.journal)
    users = str(args.users)
    done = subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
            "--host", server.base_url, "-u", users, "-r", users, "--only-summary",
            "--loglevel", "WARNING", "-t", f"{int(args.duration + 300)}s",
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if not stats.exists():
        raise RuntimeError(f"locust ({phase}) measured nothing:\n{done.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(stats.read_text())
    return figures


def _report(
    args: argparse.Namespace,
    workers: int,
    phases: dict[str, dict[str, Any]],
    unhandled: list[str],
) -> dict[str, Any]:
    bare_rps = phases.get("bare", {}).get("total", {}).get("rps") or 0.0
    rows = []
    for phase, figures in phases.items():
        for page, f in sorted(figures["pages"].items()):
            rows.append(
                {
                    "phase": phase,
                    "page": page,
                    "method": f["method"],
                    "requests": f["requests"],
                    "rps": f["rps"],
                    "p50_ms": f["p50_ms"],
                    "p99_ms": f["p99_ms"],
                    "errors": f["failures"],
                    "ratio": f["rps"] / bare_rps if bare_rps else None,
                }
            )
    mixed = phases.get("mixed", {}).get("total", {})
    ratio = mixed.get("rps", 0) / bare_rps if bare_rps and mixed else None
    slow = [r["page"] for r in rows if r["phase"] == "mixed" and r["p99_ms"] > P99_TARGET_MS]
    failures = sum(f["total"]["failures"] for f in phases.values())
    verdicts = {
        "ratio": ratio,
        "ratio_pass": ratio is not None and ratio >= RATIO_TARGET,
        "p99_over_target": slow,
        "p99_pass": not slow,
    }
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "backend": "sqlite" if args.sqlite else "postgresql",
        "workers": workers,
        "users": args.users,
        "duration": args.duration,
        "rows": rows,
        "totals": {p: f["total"] for p, f in phases.items()},
        "cpu": {p: f["cpu"] for p, f in phases.items()},
        "errors": [e for f in phases.values() for e in f["errors"]],
        "unhandled": unhandled,
        "verdicts": verdicts,
        "failures": failures,
    }
    result["table"] = _markdown(result)
    return result


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        f"## Load: scale {result['scale']}, {result['backend']}, {result['workers']} worker(s), "
        f"{result['users']} users, {result['duration']:.0f} s per phase ({result['at']})",
        "",
        "| phase | page | method | requests | req/s | p50 ms | p99 ms | errors | ratio to bare |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in result["rows"]:
        ratio = f"{r['ratio']:.3f}" if r["ratio"] is not None else ""
        lines.append(
            f"| {r['phase']} | {r['page']} | {r['method']} | {r['requests']} | {r['rps']:.1f} | "
            f"{r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {r['errors']} | {ratio} |"
        )
    for phase, t in result["totals"].items():
        lines.append(
            f"| **{phase}** | **all** | | {t['requests']} | {t['rps']:.1f} | {t['p50_ms']:.0f} | "
            f"{t['p99_ms']:.0f} | {t['failures']} | |"
        )
    v = result["verdicts"]
    ratio = f"{v['ratio']:.3f}" if v["ratio"] is not None else "n/a"
    lines += [
        "",
        f"- mixed / bare throughput: {ratio} (target >= {RATIO_TARGET}): "
        f"{'PASS' if v['ratio_pass'] else 'MISS'}",
        f"- every page's p99 <= {P99_TARGET_MS:.0f} ms: "
        + ("PASS" if v["p99_pass"] else f"MISS ({', '.join(v['p99_over_target'])})"),
    ]
    for phase, cpu in result["cpu"].items():
        requests = result["totals"][phase]["requests"]
        # CPU per request: what the page costs the hub, whatever else runs on the machine.
        per_request = cpu["server_cores"] * result["duration"] * 1000 / requests if requests else 0
        lines.append(
            f"- CPU during {phase}: locust {cpu['client_cores']:.2f} cores, hub workers "
            f"{cpu['server_cores']:.2f} cores ({per_request:.2f} ms of hub CPU per request), "
            f"machine {cpu['machine_busy']:.0%} busy of {cpu['cores']} cores (locust, the hub "
            "and PostgreSQL share them, and anything else running)"
        )
    for error in result["errors"]:
        lines.append(
            f"- error: {error['method']} {error['page']}: {error['error']} x{error['count']}"
        )
    lines += [f"- server: {line}" for line in result["unhandled"][:10]]
    return "\n".join(lines) + "\n"


def _write(result: dict[str, Any], out: Path, args: argparse.Namespace, workers: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stem = f"load-n{args.scale}-w{workers}{'-' + args.label if args.label else ''}"
    figures = {k: v for k, v in result.items() if k != "table"}
    (out / f"{stem}.json").write_text(json.dumps(figures, indent=2))
    (out / f"{stem}.md").write_text(result["table"])
    print(f"wrote {out / stem}.json and .md")


if __name__ == "__main__":
    sys.exit(main())
