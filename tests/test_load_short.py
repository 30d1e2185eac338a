"""The short load test (bench/load/run.py) against a real `hub serve` on PostgreSQL: every role
signs in and works for a few seconds. No timing is asserted (figures belong to `make bench`);
what is asserted is that nothing failed, and that every response that carried client data has
its entry in the disclosure log under the response's request id."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_short_work_group_morning_fails_nothing_and_logs_every_disclosure(
    postgres_server, tmp_path
):
    name = f"{postgres_server.prefix}_load"
    postgres_server.created.append(name)  # run.py makes it; the fixture drops it
    journal = tmp_path / "journal.jsonl"
    admin = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    environment = {**os.environ, "HUB_BENCH_POSTGRES_ADMIN": admin}
    done = subprocess.run(
        [
            sys.executable, str(ROOT / "bench" / "load" / "run.py"),
            "--database", name, "--keep", "--duration", "8", "--users", "8",
            "--workers", "2", "--port", str(_free_port()),
            "--journal", str(journal), "--out", str(tmp_path), "--label", "test",
        ],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads((tmp_path / "load-n1-w2-test.json").read_text())
    assert figures["failures"] == 0 and figures["errors"] == [], figures["errors"]
    assert figures["unhandled"] == []
    assert {row["phase"] for row in figures["rows"]} == {"bare", "mixed"}

    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert all(line["status"] < 500 for line in lines)
    disclosing = {line["request_id"] for line in lines if line["discloses"]}
    assert disclosing, "the morning read no client data"
    writes = [line["write"] for line in lines if line["write"]]
    assert {w["kind"] for w in writes} <= {"case_note", "charging_decision"}

    url = f"{POSTGRES_URL}/{name}".replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        logged = {
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT request_id FROM log_entry WHERE request_id = ANY(%s)",
                (sorted(disclosing),),
            )
        }
    unlogged = sorted(
        {
            (line["page"], line["status"])
            for line in lines
            if line["request_id"] in disclosing - logged
        }
    )
    assert unlogged == [], "pages that showed client data without a log entry"
