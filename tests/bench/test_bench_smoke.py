"""The benchmark suite in its smoke size: every correctness check must pass (speed is not judged).

It runs `python -m bench all --size smoke` as a subprocess on the database of this test run
(PostgreSQL when DATABASE_URL points at one, else SQLite). The suite makes and drops its own
databases, so this test needs no pytest-django database.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 360  # a hung run fails, rather than holding CI; a slow one on a busy machine passes


def test_bench_smoke_correctness() -> None:
    db = "postgres" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "bench", "all", "--db", db, "--size", "smoke"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # the runner stops its children and drops its DB
        stdout, stderr = process.communicate(timeout=30)
        raise AssertionError(f"bench smoke run took over {TIMEOUT} s:\n{stderr[-3000:]}") from None
    results = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    checks = [r for r in results if r["ok"] is not None]
    failed = [r for r in checks if not r["ok"]]
    assert not failed, f"failed checks: {failed}\n{stderr[-3000:]}"
    assert process.returncode == 0, stderr[-3000:]
    benches = {r["bench"] for r in checks}
    assert {"inbound", "outbound", "send", "inbox"} <= benches, stderr[-3000:]
    assert len(checks) >= 15
