"""`twoway worker --processes N`: children restarted when they die, stopped together, and
several processes sharing the queue still send each message once."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.fakes.twilio_api import FakeTwilioServer

from tests.conftest import subprocess_env
from tests.messaging.test_worker_process import (  # noqa: F401 (fixtures)
    ACCOUNT_SID,
    AUTH_TOKEN,
    WorkerProcess,
    Workers,
    deliveries_for,
    fake,
    queue,
    statuses,
    workers,
)
from twoway.conversations.models import Status
from twoway.numbers.models import PhoneNumber
from twoway.worker import supervisor as supervisor_module
from twoway.worker.supervisor import ChildProcess, Supervisor


def sleeper(index: int) -> int:
    time.sleep(60)
    return 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def supervisor() -> Iterator[Supervisor]:
    clock = FakeClock()
    sup = Supervisor(sleeper, 2, stop_timeout=5, clock=clock)
    try:
        yield sup
    finally:
        for slot in sup.slots:
            if slot.process is not None and slot.process.poll() is None:
                slot.process.kill()
                slot.process.wait()


def test_a_child_that_dies_is_started_again_after_its_delay(supervisor: Supervisor) -> None:
    clock = supervisor.clock
    assert isinstance(clock, FakeClock)
    supervisor.check()  # starts both
    first, other = (slot.process for slot in supervisor.slots)
    assert first is not None and other is not None
    first.kill()
    first.wait()
    supervisor.check()  # it died at once: it waits before it starts again
    assert supervisor.slots[0].process is None
    clock.now += 0.6
    supervisor.check()
    restarted = supervisor.slots[0].process
    assert restarted is not None and restarted.pid != first.pid
    assert restarted.poll() is None
    assert supervisor.slots[1].process is other  # the other child is left alone
    assert supervisor.restarts == 1


def test_a_child_that_keeps_dying_waits_longer_each_time(supervisor: Supervisor) -> None:
    clock = supervisor.clock
    assert isinstance(clock, FakeClock)
    supervisor.check()
    delays = []
    for _ in range(3):
        process = supervisor.slots[0].process
        assert process is not None
        process.kill()
        process.wait()
        supervisor.check()
        delays.append(supervisor.slots[0].restart_at - clock.now)
        clock.now = supervisor.slots[0].restart_at
        supervisor.check()
    assert delays == [0.5, 1.0, 2.0]


def test_stopping_stops_every_child(supervisor: Supervisor) -> None:
    supervisor.check()
    processes = [slot.process for slot in supervisor.slots]
    assert supervisor._stop_children() == 0
    assert all(p is not None and p.poll() == -signal.SIGTERM for p in processes)


def test_a_stop_signal_right_after_the_fork_stops_the_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parent's own stop handler (the supervisor's) is never run by a child that a stop
    signal reaches before it has set its own: held back, the signal stops the child."""
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    real = supervisor_module._die_with_parent

    def slow_start(parent: int) -> None:
        time.sleep(0.3)  # the child has not set its handlers yet when the signal comes
        real(parent)

    monkeypatch.setattr(supervisor_module, "_die_with_parent", slow_start)
    child = ChildProcess(functools.partial(sleeper, 0))
    try:
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=5) == -signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)
        if child.poll() is None:
            child.kill()
            child.wait()


# --- The real command --------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except FileNotFoundError:
        return []


def start_supervised(pool: Workers, processes: int) -> subprocess.Popen[bytes]:
    """`twoway worker --processes N` with the settings `Workers.start` gives one worker."""
    env = subprocess_env(
        WORKER_WAKE_PORT=str(pool.wake_port),
        SEND_LEASE_SECONDS="2",
        SEND_RETRY_BASE_SECONDS="0.2",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_API_BASE_URL=pool.fake.url,
        TWILIO_TIMEOUT="5",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
        JOBS_RUNNERS="0",  # the worker processes alone (tests/jobs has the job runner's)
    )
    log_path: Path = pool.tmp_path / "supervisor.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "twoway.cli", "worker", "--processes", str(processes)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    pool.started.append(WorkerProcess(proc, log_path))
    return proc


@pytest.mark.django_db(transaction=True)
def test_worker_processes_send_each_message_once_and_survive_a_killed_child(
    workers: Workers,  # noqa: F811
    fake: FakeTwilioServer,  # noqa: F811
    twilio_number: PhoneNumber,
) -> None:
    twilio_number.mps_limit = 1000
    twilio_number.save(update_fields=["mps_limit"])
    proc = start_supervised(workers, 2)
    log = workers.started[-1].log
    workers.wait_for(lambda: log().count("Worker started") == 2, "both processes have started")
    children = children_of(proc.pid)
    assert len(children) == 2

    # Handsets, not the organization's own number (+14155550123): that one is refused.
    first = [queue(twilio_number, f"First {i}", to=f"+141555502{i:02d}") for i in range(40)]
    workers.wait_for(lambda: statuses(first) == [Status.SENT] * 40, "the first 40 are sent")

    os.kill(children[0], signal.SIGKILL)  # a crash of one process
    workers.wait_for(
        lambda: log().count("Worker started") == 3 and len(children_of(proc.pid)) == 2,
        "the killed process is started again",
    )
    assert children[1] in children_of(proc.pid)
    second = [queue(twilio_number, f"Second {i}", to=f"+141555502{i:02d}") for i in range(40)]
    workers.wait_for(lambda: statuses(second) == [Status.SENT] * 40, "the next 40 are sent")
    for message in first + second:
        assert deliveries_for(fake, message) == 1
    assert len(fake.requests) == 80

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0, workers.logs()
    assert log().count("Worker stopping") == 2
    assert "Worker supervisor stopped" in log()
