"""Real `twoway worker` processes sending to a fake Twilio: nothing lost, nothing sent twice.

These tests commit rows (transactional_db) so the worker processes, which open their own
connections to the test database, see them. Each worker's output goes to a file that is printed
when a test fails.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bench.fakes.twilio_api import FakeTwilioServer

from tests.conftest import free_port, subprocess_env
from twoway.conversations.models import Message, Status
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT_SID = "AC" + "2" * 32
AUTH_TOKEN = "worker-test-token"
WAIT_SECONDS = 15.0


class WorkerProcess:
    def __init__(self, proc: subprocess.Popen[bytes], log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


class Workers:
    """Starts worker processes that all share one wake-up port and one fake Twilio."""

    def __init__(self, fake: FakeTwilioServer, tmp_path: Path, wake_port: int) -> None:
        self.fake = fake
        self.tmp_path = tmp_path
        self.wake_port = wake_port
        self.started: list[WorkerProcess] = []

    def start(self, *, twilio_timeout: float = 5.0) -> WorkerProcess:
        env = subprocess_env(
            WORKER_WAKE_PORT=str(self.wake_port),
            SEND_LEASE_SECONDS="2",
            SEND_RETRY_BASE_SECONDS="0.2",
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_API_BASE_URL=self.fake.url,
            TWILIO_TIMEOUT=str(twilio_timeout),
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
        )
        log_path = self.tmp_path / f"worker-{len(self.started) + 1}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "twoway.cli", "worker"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(proc, log_path)
        self.started.append(worker)
        return worker

    def logs(self) -> str:
        return "\n".join(
            f"--- worker {i} (pid {w.proc.pid}, exit {w.proc.poll()}) ---\n{w.log()}"
            for i, w in enumerate(self.started, 1)
        )

    def wait_for(
        self, condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS
    ) -> None:
        """Poll until `condition()` holds; fail with every worker's output if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            for worker in self.started:
                if worker.proc.poll() not in (None, -signal.SIGKILL):
                    pytest.fail(
                        f"a worker exited with {worker.proc.returncode} while waiting until "
                        f"{what}\n{self.logs()}"
                    )
            time.sleep(0.05)
        pytest.fail(f"not within {timeout:g} s: {what}\n{self.logs()}")

    def kill_all(self) -> None:
        for worker in self.started:
            try:
                worker.kill()
            except subprocess.TimeoutExpired:  # pragma: no cover - a stuck kill is reported
                print(f"worker {worker.proc.pid} did not die", file=sys.stderr)


@pytest.fixture
def fake() -> Iterator[FakeTwilioServer]:
    with FakeTwilioServer(auth_token=AUTH_TOKEN, hang_seconds=60) as server:
        yield server


@pytest.fixture
def workers(fake: FakeTwilioServer, tmp_path: Path, settings) -> Iterator[Workers]:
    # message_send's wake-up nudge goes to the port the workers listen on.
    settings.WORKER_WAKE_PORT = free_port()
    pool = Workers(fake, tmp_path, settings.WORKER_WAKE_PORT)
    try:
        yield pool
    finally:
        pool.kill_all()
        if pool.started:
            # Captured output is shown for failing tests only.
            print(pool.logs())


def queue(number: PhoneNumber, body: str, to: str = "+14155550142") -> Message:
    return message_send(phone_number=number, to=to, body=body)


def statuses(messages: list[Message]) -> list[str]:
    by_pk = dict(
        Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("pk", "status")
    )
    return [by_pk[m.pk] for m in messages]


def deliveries_for(fake: FakeTwilioServer, message: Message) -> int:
    return len({d.sid for d in fake.deliveries if d.idempotency_key == str(message.uid)})


def test_worker_sends_queued_messages(
    workers: Workers, fake: FakeTwilioServer, twilio_number: PhoneNumber
) -> None:
    workers.start()
    messages = [queue(twilio_number, f"Hello {i}", to=f"+1415555014{i}") for i in range(3)]
    workers.wait_for(lambda: statuses(messages) == [Status.SENT] * 3, "all three messages are sent")
    sids = {d.idempotency_key: d.sid for d in fake.deliveries}
    assert len(fake.deliveries) == 3
    for message in messages:
        message.refresh_from_db()
        assert message.carrier_message_id == sids[str(message.uid)]
        assert message.attempts == 1
    assert sorted(d.body for d in fake.deliveries) == ["Hello 0", "Hello 1", "Hello 2"]


def test_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    workers: Workers, fake: FakeTwilioServer, twilio_number: PhoneNumber
) -> None:
    fake.set_mode("timeout")  # the fake takes the message, then hangs on the answer
    first = workers.start(twilio_timeout=30)
    message = queue(twilio_number, "Your appointment is at 3 pm")
    key = str(message.uid)
    workers.wait_for(
        lambda: any(r.idempotency_key == key for r in fake.requests),
        "the fake Twilio received the message",
    )
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=10)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENDING, 1), workers.logs()
    assert message.carrier_message_id is None

    fake.set_mode("normal")
    workers.start(twilio_timeout=30)
    workers.wait_for(lambda: statuses([message]) == [Status.SENT], "the message is sent")
    message.refresh_from_db()
    assert message.attempts == 2
    assert deliveries_for(fake, message) == 1
    [delivery] = fake.deliveries
    assert message.carrier_message_id == delivery.sid
    assert [r.idempotency_key for r in fake.requests] == [key, key]


def test_carrier_down_keeps_messages_queued_then_sends_them(
    workers: Workers, fake: FakeTwilioServer, twilio_number: PhoneNumber
) -> None:
    fake.set_mode("down")
    workers.start()
    messages = [queue(twilio_number, f"Reminder {i}", to=f"+1415555015{i}") for i in range(2)]

    def retried_three_times() -> bool:
        rows = Message.objects.filter(pk__in=[m.pk for m in messages])
        return all(
            m.status == Status.QUEUED and m.attempts >= 3 and m.error_code == "20500" for m in rows
        )

    workers.wait_for(retried_three_times, "both messages failed three times and wait to retry")
    for message in messages:
        message.refresh_from_db()
        assert message.status == Status.QUEUED
        assert message.error_message.startswith("Retrying")
    assert fake.deliveries == []

    fake.set_mode("normal")
    workers.wait_for(lambda: statuses(messages) == [Status.SENT] * 2, "both messages are sent")
    for message in messages:
        message.refresh_from_db()
        assert (message.error_code, message.error_message) == ("", "")
        assert deliveries_for(fake, message) == 1
    assert len(fake.deliveries) == 2


def test_sigterm_stops_the_worker_cleanly(
    workers: Workers, fake: FakeTwilioServer, twilio_number: PhoneNumber
) -> None:
    worker = workers.start()
    workers.wait_for(lambda: "Worker started" in worker.log(), "the worker has started")
    message = queue(twilio_number, "Hello")
    workers.wait_for(lambda: statuses([message]) == [Status.SENT], "the message is sent")
    worker.proc.send_signal(signal.SIGTERM)
    try:
        code = worker.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the worker did not stop within 5 s of SIGTERM\n{workers.logs()}")
    assert code == 0, workers.logs()
    assert "Worker stopping" in worker.log()


def test_sigterm_lets_the_send_in_flight_finish(
    workers: Workers, fake: FakeTwilioServer, twilio_number: PhoneNumber
) -> None:
    fake.state.latency_ms = 1500  # the carrier is slow to answer
    worker = workers.start()
    workers.wait_for(lambda: "Worker started" in worker.log(), "the worker has started")
    message = queue(twilio_number, "Hello")
    workers.wait_for(lambda: len(fake.requests) == 1, "the fake Twilio received the message")
    worker.proc.send_signal(signal.SIGTERM)
    try:
        code = worker.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the worker did not stop within 10 s of SIGTERM\n{workers.logs()}")
    assert code == 0, workers.logs()
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.carrier_message_id == fake.deliveries[0].sid


def test_worker_output_is_shown_when_waiting_fails(workers: Workers) -> None:
    worker = workers.start()
    workers.wait_for(lambda: "Worker started" in worker.log(), "the worker has started")
    with pytest.raises(pytest.fail.Exception) as failed:
        workers.wait_for(lambda: False, "something that never happens", timeout=0.3)
    text = str(failed.value)
    assert "not within 0.3 s: something that never happens" in text
    assert f"--- worker 1 (pid {worker.proc.pid}" in text
    assert "Worker started" in text


def test_two_workers_share_the_rate_limit_and_send_each_message_once(
    workers: Workers, fake: FakeTwilioServer, twilio_number: PhoneNumber
) -> None:
    twilio_number.mps_limit = 5
    twilio_number.save(update_fields=["mps_limit"])
    workers.start()
    workers.start()
    messages = [queue(twilio_number, f"Batch {i}", to=f"+141555501{i:02d}") for i in range(12)]
    workers.wait_for(lambda: statuses(messages) == [Status.SENT] * 12, "all twelve are sent")
    for message in messages:
        assert deliveries_for(fake, message) == 1
    assert len(fake.requests) == 12
    # Five a second as the carrier sees them: any six consecutive arrivals span about a second.
    arrivals = sorted(d.at for d in fake.deliveries)
    spans = [later - earlier for earlier, later in zip(arrivals, arrivals[5:], strict=False)]
    assert min(spans) >= 0.9, spans


def test_a_claim_that_waited_past_its_lease_is_left_to_its_next_owner() -> None:
    """The pacer hands a claim to a send thread only while its lease holds: after that another
    worker may have claimed the message and be sending it."""
    import datetime as dt

    from django.utils import timezone

    from twoway.carriers.base import SendRequest
    from twoway.messaging.claiming import ClaimedSend
    from twoway.worker.loop import Worker

    def claim(message_id: int, lease_left: float) -> ClaimedSend:
        now = timezone.now()
        return ClaimedSend(
            carrier_account_id=None,
            message_id=message_id,
            send_at=now - dt.timedelta(seconds=5),
            lease_expires_at=now + dt.timedelta(seconds=lease_left),
            request=SendRequest(f"key-{message_id}", "+14155550100", "+14155550142", "Hi"),
            carrier="twilio",
            attempt=1,
            spacing=0.001,
        )

    worker = Worker(concurrency=2, wake_port=free_port())
    started: list[int] = []
    worker._send = lambda c: started.append(c.message_id)  # type: ignore[method-assign]
    try:
        worker.scheduled = [(0.0, 0, claim(1, lease_left=-0.1)), (0.0, 1, claim(2, 30))]
        with worker.clock:
            assert worker._start_due_sends() is None
        worker.pool.shutdown(wait=True)
        assert started == [2]
        assert worker.scheduled == []
    finally:
        worker.pool.shutdown(wait=True)
        worker.listener.close()


def test_a_numbers_next_send_is_paced_from_when_the_previous_one_left() -> None:
    """The pacer starts no second send of a number before the first has left for the carrier,
    and spaces the second from that departure: a request that left late does not bring the
    next one closer at the carrier."""
    import datetime as dt

    from django.utils import timezone

    from twoway.carriers.base import SendRequest
    from twoway.messaging.claiming import ClaimedSend
    from twoway.worker.loop import Worker, _Departure

    gap = 0.2  # seconds: the claim's spacing; the pacer keeps min_gap (a little less)

    def claim(message_id: int) -> ClaimedSend:
        now = timezone.now()
        return ClaimedSend(
            carrier_account_id=None,
            message_id=message_id,
            send_at=now - dt.timedelta(seconds=5),
            lease_expires_at=now + dt.timedelta(seconds=30),
            request=SendRequest(f"key-{message_id}", "+14155550100", "+14155550142", "Hi"),
            carrier="twilio",
            attempt=1,
            spacing=gap,
        )

    worker = Worker(concurrency=4, wake_port=free_port())
    started: list[int] = []
    worker._send = lambda c: started.append(c.message_id)  # type: ignore[method-assign]
    first, second = claim(1), claim(2)
    try:
        worker.scheduled = [(0.0, 0, first), (0.0, 1, second)]
        with worker.clock:
            wait = worker._start_due_sends()
        time.sleep(0.05)  # the send thread runs `_send`
        # The first is on its way; the second is held back until it has left.
        assert started == [1]
        assert wait is None
        assert [c for _, c in worker.held["+14155550100"]] == [second]
        # A gap later the first request has still not left (a busy machine): still held.
        time.sleep(first.min_gap + 0.05)
        with worker.clock:
            assert worker._start_due_sends() is None
        assert started == [1]
        left = time.monotonic()
        _Departure(worker, first)()
        _Departure(worker, first)()  # a second call changes nothing
        assert worker.departing == {} and worker.held == {}
        # The second starts one gap after the departure, not after the hand-over.
        deadline = time.monotonic() + 2
        while len(started) < 2 and time.monotonic() < deadline:
            with worker.clock:
                wait = worker._start_due_sends()
            time.sleep(min(wait or 0.001, 0.001))
        second_started = time.monotonic()
        assert started == [1, 2]
        assert left + first.min_gap <= second_started <= left + first.min_gap + 0.05
    finally:
        worker.pool.shutdown(wait=True)
        worker.listener.close()
