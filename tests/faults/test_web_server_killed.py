"""kill -9 of the web server while signed webhooks arrive: every webhook it acknowledged is
stored, and none twice, though the carrier retries those it got no answer to.

The server is a real `twoway web` on the suite's database (committed rows: transactional_db),
killed with SIGKILL mid-stream and started again on the same port.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from pathlib import Path

import pytest

from tests.conftest import free_port, subprocess_env
from twoway.carrier_events.models import CarrierEvent, EventKind
from twoway.numbers.models import PhoneNumber

from .processes import Carrier, WebServer, web_env

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 3  # carriers posting at once, so that requests are in flight when the server dies
KILLS = 2


class Stream:
    """Carriers posting new texts, retrying each one not answered 200 (as Twilio does with a
    status report; an inbound text is what must never be acknowledged and then lost)."""

    def __init__(self, carrier: Carrier) -> None:
        self.carrier = carrier
        self.acknowledged: list[str] = []
        self.retries = 0
        self.unanswered: deque[str] = deque()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._post, daemon=True) for _ in range(CLIENTS)]

    def _post(self) -> None:
        while not self.stopping.is_set():
            try:
                sid = self.unanswered.popleft()
                self.retries += 1
            except IndexError:
                sid = self.carrier.new_sid()
            if self.carrier.post(sid) == 200:
                self.acknowledged.append(sid)
            else:
                self.unanswered.append(sid)
                time.sleep(0.05)

    def wait_for(self, count: int, web: WebServer, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{len(self.acknowledged)} of {count} acknowledged\n{web.log()}")
            time.sleep(0.01)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=20)


def test_web_server_killed_while_webhooks_arrive_loses_and_duplicates_nothing(
    twilio_number: PhoneNumber, tmp_path: Path, settings
) -> None:
    port = free_port()
    env = web_env(subprocess_env(WORKER_WAKE_PORT=str(settings.WORKER_WAKE_PORT)), port)
    web = WebServer(port, env, tmp_path)
    stream = Stream(Carrier(port, twilio_number.number))
    try:
        web.start()
        for thread in stream.threads:
            thread.start()
        for kill in range(1, KILLS + 1):
            stream.wait_for(40 * kill, web)
            web.kill()
            time.sleep(0.2)  # the carriers find nobody there meanwhile
            web.start()
        stream.wait_for(40 * (KILLS + 1), web)
        stream.stop()
        # What never got an answer is retried until it does.
        for sid in list(stream.unanswered):
            for _ in range(20):
                if stream.carrier.post(sid) == 200:
                    stream.acknowledged.append(sid)
                    break
                time.sleep(0.1)
            else:
                pytest.fail(f"{sid} was never acknowledged\n{web.log()}")
    finally:
        stream.stop()
        web.stop()
    print(web.log())

    stored = Counter(
        CarrierEvent.objects.filter(carrier="twilio", kind=EventKind.INBOUND).values_list(
            "dedupe_key", flat=True
        )
    )
    acknowledged = Counter(stream.acknowledged)
    assert web.starts == KILLS + 1
    assert stream.retries > 0, "the carriers never found the server gone"
    # Each text answered 200 exactly once: the carrier stops there.
    assert [sid for sid, n in acknowledged.items() if n > 1] == []
    assert set(acknowledged) - set(stored) == set(), "acknowledged and not stored"
    assert [sid for sid, n in stored.items() if n > 1] == []
    assert set(stored) == set(acknowledged), "stored what nobody posted"
