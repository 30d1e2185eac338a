"""The crash test, short (bench/crash.py, docs/crash-test.md): the hub is SIGKILLed once under
the locust load and restarted, and nothing acknowledged may be lost, nothing half-written seen;
and the deliberately broken build (a disclosure logged after its response) must be caught.

Each run is a real `hub serve` with two workers and a real locust; the test asserts the
checks' verdicts, never how long anything took.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, POSTGRES_URL

ROOT = Path(__file__).resolve().parent.parent
SECONDS_OF_LOAD = "20"

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def crash_run(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Fresh secrets and database come from bench/crash.py itself, not from the test session.
    env = {name: value for name, value in os.environ.items() if not name.startswith("HUB_")}
    env["PYTHONPATH"] = str(ROOT)
    env["HUB_BENCH_POSTGRES_ADMIN"] = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    env["HUB_BENCH_POSTGRES_ADMIN"] += "/postgres"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "crash.py"),
            "--out",
            str(out),
            "--port",
            str(free_port()),
            "--seed",
            "7",
            "--kills",
            "1",
            "--duration",
            SECONDS_OF_LOAD,
            "--persons",
            "120",
            "--users",
            "8",
            *args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    print(done.stdout, done.stderr)  # shown by pytest when the test fails
    return done


def verdicts(output: str) -> dict[str, str]:
    """`PASS a. audit verify: ...` lines as {check: PASS|FAIL} (several d. checks share a
    letter; any FAIL among them wins)."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        verdict, _, rest = line.partition(" ")
        if verdict in ("PASS", "FAIL"):
            name = rest.split(":", 1)[0]
            found[name] = "FAIL" if found.get(name) == "FAIL" else verdict
    return found


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_kill_under_load_loses_nothing(backend, tmp_path, request):
    args = ["--backend", backend]
    if backend == "postgres":
        server = request.getfixturevalue("postgres_server")
        args += ["--database", f"{server.prefix}_crash"]
    done = crash_run(tmp_path, *args)
    found = verdicts(done.stdout)
    assert done.returncode == 0, found
    assert {"a. audit verify", "b. disclosures logged", "c. acknowledged writes kept"} <= set(found)
    assert set(found.values()) == {"PASS"}
    assert "kill 1: SIGKILL to the server group" in done.stdout


def test_the_broken_build_is_caught(tmp_path):
    """The disclosure's entry is written 1.5 s after the response (bench/crash_faults): the
    kill loses the entries of pages already shown, and check b says so."""
    done = crash_run(tmp_path, "--backend", "sqlite", "--broken", "deferred-log")
    found = verdicts(done.stdout)
    assert found["broken build running"] == "PASS"
    assert found["b. disclosures logged"] == "FAIL"
    assert done.returncode == 1
