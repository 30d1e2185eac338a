"""The short run of the load, scale and crash harness (`make bench`): about 4 minutes.

One after another, each printing its own figures:

1. scale: `hub demo --scale 2` built into a fresh SQLite file, timed per phase, then verified;
2. load: the work-group morning against the bare ceiling on PostgreSQL at scale 1, 30 s a phase;
3. crash: the load on SQLite and on PostgreSQL, one SIGKILL of the server in the middle,
   restart, and the four checks (verify, disclosures logged, writes kept, nothing half-written);
4. propagation: two instances on one PostgreSQL database, three policy releases made on one and
   timed until the other applies them, with Redis and without.

Ends with one line per step (exit code and wall time) and fails if any step failed. A MISS
against a performance target is a figure, not a failure. README's "Load test" gives the full
versions (scale 100, five-minute phases, several kills).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

STEPS: list[tuple[str, list[str]]] = [
    ("scale", ["bench/scale_seed.py", "--scale", "2"]),
    ("load", ["bench/load/run.py", "--scale", "1", "--duration", "30"]),
    ("crash", ["bench/crash.py", "--backend", "both", "--kills", "1", "--duration", "30"]),
    ("propagation", ["bench/propagation.py", "--releases", "3"]),
]


def main() -> int:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    results = []
    for name, command in STEPS:
        print(f"\n== {name}: {' '.join(command)}", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, *command], cwd=ROOT, env=environment, check=False)
        results.append((name, done.returncode, time.perf_counter() - started))
    print("\n== short run")
    for name, code, took in results:
        print(f"{name:<12} {'ok' if code == 0 else f'FAILED (exit {code})':<18} {took:6.1f} s")
    print(f"{'total':<12} {'':<18} {sum(took for _, _, took in results):6.1f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
