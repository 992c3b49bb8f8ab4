"""What the worker looks for on a pass: carrier events when a nudge announced them (or the last
look found a batch), otherwise only every EVENTS_CHECK_SECONDS, so a loop busy sending does not
ask the event table on each of its passes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import free_port
from twoway.carrier_events.models import CarrierEvent
from twoway.carrier_events.store import carrier_event_record
from twoway.carriers.base import InboundMessage
from twoway.numbers.models import PhoneNumber
from twoway.realtime.wakeup import wake_worker
from twoway.worker import loop
from twoway.worker.loop import Worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(settings) -> Iterator[Worker]:
    settings.WORKER_WAKE_PORT = free_port()
    worker = Worker(concurrency=1, wake_port=settings.WORKER_WAKE_PORT)
    try:
        yield worker
    finally:
        worker.pool.shutdown(wait=True)
        worker.listener.close()


def _texted(number: PhoneNumber, capture) -> None:
    with capture(execute=True):  # the nudge leaves when the event is committed
        carrier_event_record(
            "simulator",
            InboundMessage(
                carrier_message_id=f"SIM{uuid.uuid4().hex}",
                from_number="+12025550172",
                to_number=number.number,
                body="Hi",
            ),
        )


def _waiting() -> int:
    return CarrierEvent.objects.filter(processed_at__isnull=True).count()


def test_an_announced_event_is_processed_on_the_next_pass(
    worker: Worker, number: PhoneNumber, django_capture_on_commit_callbacks
) -> None:
    assert worker._process_events() is False  # the first pass looks: nothing yet
    _texted(number, django_capture_on_commit_callbacks)
    time.sleep(0.05)  # the datagram reaches the socket
    assert worker._process_events() is True
    assert _waiting() == 0


def test_an_unannounced_event_waits_for_the_next_check(
    worker: Worker, number: PhoneNumber, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    assert worker._process_events() is False
    _texted(number, lambda execute: django_capture_on_commit_callbacks(execute=False))
    assert worker._process_events() is False  # no nudge, checked a moment ago
    assert _waiting() == 1
    monkeypatch.setattr(loop, "EVENTS_CHECK_SECONDS", 0.0)
    worker.next_events_check = 0.0  # the check's time has come
    assert worker._process_events() is True
    assert _waiting() == 0


def test_a_nudge_about_texts_to_send_does_not_announce_events(
    worker: Worker, number: PhoneNumber, django_capture_on_commit_callbacks
) -> None:
    assert worker._process_events() is False
    _texted(number, lambda execute: django_capture_on_commit_callbacks(execute=False))
    with django_capture_on_commit_callbacks(execute=True):
        wake_worker()
    time.sleep(0.05)
    assert worker._process_events() is False
    assert _waiting() == 1


def test_the_simulator_asks_again_once_it_handed_a_text_over(settings) -> None:
    """The simulator believes "no report coming" for a while, never past a text of its own."""
    from twoway.carriers.base import SendRequest
    from twoway.carriers.registry import get_carrier

    settings.SIMULATOR_DELIVERY_DELAY = 30
    simulator = get_carrier("simulator")
    assert simulator.worker_next_turn_in() is None  # nothing in flight, now believed
    simulator.send(SendRequest(f"key-{uuid.uuid4().hex}", "+14155550100", "+14155550142", "Hi"))
    wait = simulator.worker_next_turn_in()
    assert wait is not None and 25 < wait <= 30
