"""Job runners in processes of their own (`twoway jobs`), on the test database, with short
intervals so that leases run out and retries come in fractions of a second."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import subprocess_env

REPO = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 20.0
# Leases short enough that a killed runner's job is taken over in about two seconds.
FAST = {
    "JOBS_POLL_SECONDS": "0.05",
    "JOBS_LEASE_SECONDS": "1.5",
    "JOBS_HEARTBEAT_SECONDS": "0.2",
    # No periodic chores, unless a test asks for them.
    "HOUSEKEEPING_INTERVAL_SECONDS": "0",
    "PYTHONUNBUFFERED": "1",
    "LOG_LEVEL": "INFO",
}


class Runner:
    def __init__(self, proc: subprocess.Popen[bytes], log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def runner_id(self) -> str:
        """The id it logged when it started (what task results and leases name)."""
        for line in self.log().splitlines():
            if "Job runner started (" in line:
                return line.rsplit("(", 1)[1].rstrip(")")
        return ""


class Runners:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[Runner] = []

    def start(self, command: tuple[str, ...] = ("jobs",), **env: str) -> Runner:
        log_path = self.tmp_path / f"runner-{len(self.started) + 1}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "twoway.cli", *command],
                cwd=REPO,  # the test jobs are imported as tests.jobs.tasks
                env=subprocess_env(**{**FAST, **env}),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        runner = Runner(proc, log_path)
        self.started.append(runner)
        return runner

    def start_ready(self, **env: str) -> Runner:
        runner = self.start(**env)
        self.wait_for(lambda: bool(runner.runner_id), "the runner has started")
        return runner

    def logs(self) -> str:
        return "\n".join(
            f"--- runner {i} (pid {r.proc.pid}, exit {r.proc.poll()}) ---\n{r.log()}"
            for i, r in enumerate(self.started, 1)
        )

    def wait_for(
        self, condition: Callable[[], object], what: str, timeout: float = WAIT_SECONDS
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        pytest.fail(f"not within {timeout:g} s: {what}\n{self.logs()}")

    def stop(self, runner: Runner) -> int:
        runner.proc.send_signal(signal.SIGTERM)
        return runner.proc.wait(timeout=10)

    def kill_all(self) -> None:
        for runner in self.started:
            if runner.proc.poll() is None:
                runner.proc.kill()
            runner.proc.wait(timeout=10)


@pytest.fixture
def runners(tmp_path: Path) -> Iterator[Runners]:
    pool = Runners(tmp_path)
    try:
        yield pool
    finally:
        pool.kill_all()
        print(pool.logs())  # shown for failing tests only
