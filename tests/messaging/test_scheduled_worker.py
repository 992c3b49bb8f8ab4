"""Real `twoway worker` processes sending scheduled texts to a fake Twilio: each leaves within a
second of its time, once, whichever of two workers promotes it, and a worker killed meanwhile
loses none."""

from __future__ import annotations

import datetime as dt
import signal

import pytest
from bench.fakes.twilio_api import FakeTwilioServer
from django.utils import timezone

from tests.messaging import test_worker_process
from tests.messaging.test_worker_process import WorkerProcess, Workers, deliveries_for, statuses
from twoway.conversations.models import Message, Status
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db(transaction=True)

# The worker tests' fixtures: worker processes sharing one fake Twilio.
fake = test_worker_process.fake
workers = test_worker_process.workers

# How late a scheduled text may reach the carrier after its time.
ON_TIME_SECONDS = 1.0


def _schedule(number: PhoneNumber, to: str, body: str, seconds: float) -> Message:
    send_at = timezone.now() + dt.timedelta(seconds=seconds)
    return message_send(phone_number=number, to=to, body=body, send_at=send_at)


def _wait_until_running(workers: Workers, *started: WorkerProcess) -> None:
    """Until each worker's loop runs: starting one takes seconds on a busy machine, and a text
    due before then would measure the start, not the wake-up."""
    for worker in started:
        workers.wait_for(lambda w=worker: "Worker started" in w.log(), "the worker is running")


def test_scheduled_texts_leave_within_a_second_of_their_time_once_each(
    workers: Workers,
    fake: FakeTwilioServer,
    twilio_number: PhoneNumber,
) -> None:
    first = workers.start()
    _wait_until_running(workers, first, workers.start())
    # Both idle workers must wake by themselves at each text's time (no nudge comes then).
    messages = [
        _schedule(twilio_number, f"+1415555016{i}", f"Reminder {i}", seconds=3 + i)
        for i in range(3)
    ]
    assert statuses(messages) == [Status.SCHEDULED] * 3
    workers.wait_for(lambda: statuses(messages) == [Status.SENT] * 3, "all three are sent")
    arrived = {d.idempotency_key: d.at for d in fake.deliveries}
    late = {}
    for message in messages:
        message.refresh_from_db()
        assert message.send_at is not None
        late[message.body] = arrived[str(message.uid)] - message.send_at.timestamp()
        assert deliveries_for(fake, message) == 1
        assert message.attempts == 1
    assert all(0 <= seconds <= ON_TIME_SECONDS for seconds in late.values()), late
    assert len(fake.deliveries) == 3
    first.proc.send_signal(signal.SIGTERM)


def test_a_text_due_while_its_worker_was_killed_is_sent_by_the_next_one(
    workers: Workers,
    fake: FakeTwilioServer,
    twilio_number: PhoneNumber,
) -> None:
    first = workers.start()
    _wait_until_running(workers, first)
    message = _schedule(twilio_number, "+14155550170", "Your crown is ready", seconds=2)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=10)
    workers.wait_for(lambda: statuses([message]) == [Status.SCHEDULED], "it is still scheduled")
    workers.start()
    workers.wait_for(lambda: statuses([message]) == [Status.SENT], "the next worker sends it")
    assert deliveries_for(fake, message) == 1
