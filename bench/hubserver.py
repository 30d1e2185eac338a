"""The hub as a real server, for the load, crash and two-instance runs.

`HubServer` starts `python -m hub serve` (uvicorn with its workers) in a process group of its
own, waits until it answers, and can stop it politely or kill the whole group with SIGKILL, the
way a power cut or the OOM killer would. `fresh_postgres` and `sqlite_url` give each run a
database of its own, migrated by the hub itself.

Used by bench/ scripts and by the slow tests that run their short versions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get(
    "HUB_BENCH_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def hub_environment(database_url: str, **extra: str) -> dict[str, str]:
    """The environment a production process gets: the three secrets (from this environment if
    set, else fresh ones), the database, and plain-HTTP cookies because no TLS proxy is in front
    of 127.0.0.1 here. Everything else is the hub's production default."""
    from hub.crypto import generate_environment

    env = dict(os.environ)
    for name, value in generate_environment().items():
        env.setdefault(name, value)
    env.update(
        HUB_DATABASE_URL=database_url,
        HUB_COOKIE_SECURE="false",
        PYTHONPATH=str(PROJECT_ROOT),
        **extra,
    )
    return env


def run_hub(*args: str, env: dict[str, str], timeout: float = 3600) -> str:
    """Run a `hub` command to completion; its output, or an error that carries its output."""
    done = subprocess.run(
        [sys.executable, "-m", "hub", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"hub {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


@dataclass
class HubServer:
    """One hub instance: `hub serve` with `workers` uvicorn workers on 127.0.0.1:`port`."""

    env: dict[str, str]
    port: int
    workers: int = 2
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> HubServer:
        if self.process is not None:
            raise RuntimeError("this server is already running")
        output = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = self._spawn(output)
        finally:
            if not isinstance(output, int):
                output.close()  # the server holds its own copy of the descriptor
        self._wait_until_ready(timeout)
        return self

    def _spawn(self, output: int | IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches every worker
        )

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the hub on port {self.port} exited ({self.process.returncode})"
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the hub on port {self.port} did not answer within {timeout} s")

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown handler, no flush, no commit."""
        self._signal_group(signal.SIGKILL)

    def stop(self, grace: float = 15) -> None:
        """SIGTERM and wait; SIGKILL what is still there after `grace` seconds."""
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(grace)
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        self.process.wait()
        self.process = None

    def __enter__(self) -> HubServer:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _admin_execute(statement: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)  # names below are ours, not input


def postgres_url(name: str) -> str:
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}"


@contextmanager
def fresh_postgres(name: str, keep: bool = False) -> Iterator[str]:
    """A new, empty PostgreSQL database for one run (dropped afterwards unless `keep`)."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain database name: {name!r}")
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(name)
    finally:
        if not keep:
            _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
