"""Runs every bench/bench_*.py in turn and prints the figures each one prints.

Performance figures live here, never in tests (no timed assertions). Each script is run with
this interpreter from the project root; the run fails if any script fails.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# Scripts that are not bench_*.py, with the arguments that keep them short here.
EXTRA = {"scale_seed.py": ["--scale", "2"]}


def main() -> int:
    scripts = sorted(BENCH.glob("bench_*.py")) + [BENCH / name for name in EXTRA]
    if not scripts:
        print("no bench scripts yet (bench/bench_*.py)")
        return 0
    failed = []
    for script in scripts:
        print(f"== {script.relative_to(ROOT)}", flush=True)
        started = time.perf_counter()
        # The project root on the path, so a script imports hub whether or not it is installed.
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        result = subprocess.run(
            [sys.executable, str(script), *EXTRA.get(script.name, [])],
            cwd=ROOT,
            env=environment,
            check=False,
        )
        took = time.perf_counter() - started
        print(f"-- {script.name}: exit {result.returncode}, {took:.1f} s wall", flush=True)
        if result.returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    print(f"{len(scripts)} bench scripts ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
