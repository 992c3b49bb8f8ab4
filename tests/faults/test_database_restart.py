"""A PostgreSQL restart while Twoway sends and receives: nothing lost, nothing twice, no 503
once the database is back, and the first webhook after it answered 200 at once.

The test starts a PostgreSQL cluster of its own on a port of its own (it must restart it), so
it needs no pytest-django database and could run on either pass of the suite; it runs once, in
the PostgreSQL pass (`DATABASE_URL` a postgres URL), where the server programs are sure to be
installed. A real `twoway web` and `twoway worker` run against it with a fake Twilio API in
this process; a carrier posts signed inbound texts and an API client queues texts. The cluster
restarts twice: once under that traffic (webhooks and sends in flight), once after a burst of
concurrent requests filled the web server's connection pool, as a busy hour does, and with no
webhook coming: every pooled connection breaks, and the first webhook after it meets them.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from bench.fakes.twilio_api import FakeTwilioServer

from .cluster import ClusterUnavailable, PrivateCluster, free_port
from .processes import AUTH_TOKEN, Carrier, Process, WebServer, ci, web_env

NUMBER = "+14155550123"
# The first webhook after the database is back must be answered within this (carriers wait 15 s).
FIRST_ANSWER_SECONDS = 2.0
SETUP = f"""
from twoway.accounts.api_keys import api_key_create
from twoway.accounts.models import Membership, Organization, Role
from twoway.numbers.models import PhoneNumber
from django.contrib.auth import get_user_model
org = Organization.objects.create(name="Restart Dental", country="US", two_way_enabled=True)
user = get_user_model().objects.create_user(username="ops@restart.test", email="ops@restart.test")
member = Membership.objects.create(user=user, organization=org, role=Role.ADMINISTRATIVE)
PhoneNumber.objects.create(organization=org, number="{NUMBER}", carrier="twilio", mps_limit=100)
print("KEY", api_key_create(owner=member, name="restart test")[1])
"""

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="runs once, in the PostgreSQL pass of the suite (it brings its own cluster)",
)


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    try:
        server = PrivateCluster()
    except ClusterUnavailable as exc:
        if ci():
            pytest.fail(f"CI must run the database restart test: {exc}")
        pytest.skip(str(exc))
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


@dataclass
class Request:
    kind: str  # "webhook" or "send"
    started: float
    seconds: float
    status: int | None


@dataclass
class Traffic:
    """Inbound texts posted and texts queued through the API, one after the other."""

    carrier: Carrier
    api_key: str
    port: int
    requests: list[Request] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)  # inbound sids answered 200
    queued: list[str] = field(default_factory=list)  # bodies answered 201
    unanswered: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    paused: threading.Event = field(default_factory=threading.Event)
    idle: threading.Event = field(default_factory=threading.Event)

    def api(self, method: str, path: str, payload: dict | None = None) -> int | None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            connection.request(
                method,
                path,
                body=json.dumps(payload) if payload is not None else None,
                headers={
                    "Authorization": f"Bearer {self.api_key}",
                    "Content-Type": "application/json",
                },
            )
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()

    def run(self) -> None:
        count = 0
        while not self.stopping.is_set():
            if self.paused.is_set():
                self.idle.set()
                time.sleep(0.01)
                continue
            self.idle.clear()
            count += 1
            sid = self.unanswered.pop(0) if self.unanswered else self.carrier.new_sid()
            started = time.monotonic()
            status = self.carrier.post(sid)
            self.requests.append(Request("webhook", started, time.monotonic() - started, status))
            (self.acknowledged if status == 200 else self.unanswered).append(sid)
            body = f"Reminder {count}"
            started = time.monotonic()
            status = self.api(
                "POST", "/api/v1/messages", {"from": NUMBER, "to": "+14155550142", "body": body}
            )
            self.requests.append(Request("send", started, time.monotonic() - started, status))
            if status == 201:
                self.queued.append(body)
            time.sleep(0.02)

    def wait_for(self, count: int, logs: str | None = None, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{len(self.acknowledged)} of {count} webhooks acknowledged\n{logs}")
            time.sleep(0.01)

    def burst(self) -> None:
        """Many requests at once: the web server's pool grows to its full size."""
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda _: self.api("GET", "/api/v1/conversations"), range(64)))


def twoway(env: dict[str, str], *argv: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "twoway.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_database_restart_while_sending_and_receiving(
    cluster: PrivateCluster, tmp_path: Path
) -> None:
    url = cluster.create_database("twoway_restart")
    port = free_port()
    # Each send takes a while at the carrier: sends are in flight when the database goes.
    with FakeTwilioServer(auth_token=AUTH_TOKEN, latency_ms=100) as fake:
        env = web_env(
            dict(os.environ),
            port,
            DATABASE_URL=url,
            TWOWAY_DATA_DIR=str(tmp_path / "data"),
            WORKER_WAKE_PORT=str(free_port()),
            TWILIO_API_BASE_URL=fake.url,
            SEND_RETRY_BASE_SECONDS="0.2",
            WORKER_PROCESSES="1",
        )
        twoway(env, "migrate", "--verbosity", "0")
        api_key = next(
            line.split()[1]
            for line in twoway(env, "manage", "shell", "-c", SETUP).splitlines()
            if line.startswith("KEY ")
        )
        web = WebServer(port, env, tmp_path)
        worker = Process("worker", ["worker"], env, tmp_path)
        traffic = Traffic(Carrier(port, NUMBER), api_key, port)
        client = threading.Thread(target=traffic.run, daemon=True)

        def logs() -> str:
            return f"{web.log()}\n{worker.log()}\n=== postgres ===\n{cluster.server_log()}"

        try:
            web.start()
            worker.start()
            client.start()
            # A restart under traffic: webhooks and sends in flight when it comes.
            traffic.wait_for(15, logs())
            cluster.restart()
            back = time.monotonic()
            traffic.wait_for(len(traffic.acknowledged) + 10, logs())
            after = [r for r in traffic.requests if r.started >= back]
            assert [r for r in after if r.status not in (200, 201)] == [], logs()

            # A restart after a busy spell, while no webhook comes: the first one after it meets
            # a pool of connections that all broke.
            traffic.burst()
            traffic.paused.set()
            assert traffic.idle.wait(15)
            cluster.restart()
            sid = traffic.carrier.new_sid()
            started = time.monotonic()
            status = traffic.carrier.post(sid)
            seconds = time.monotonic() - started
            print(f"first webhook after the restart: {status} in {seconds:.3f} s")
            assert status == 200, logs()
            traffic.acknowledged.append(sid)
            assert seconds < FIRST_ANSWER_SECONDS, logs()
            back = time.monotonic()
            traffic.paused.clear()
            traffic.wait_for(len(traffic.acknowledged) + 10, logs())
            traffic.stopping.set()
            client.join(timeout=30)
            assert not client.is_alive()
            after = [r for r in traffic.requests if r.started >= back]
            assert [r for r in after if r.status not in (200, 201)] == [], logs()

            with psycopg.connect(url, autocommit=True) as db:

                def outbound() -> list[tuple[str, str, str]]:
                    return db.execute(
                        "SELECT body, status, uid::text FROM conversations_message"
                        " WHERE direction = 'out'"
                    ).fetchall()

                deadline = time.monotonic() + 20
                while any(status not in ("sent", "delivered") for _, status, _ in outbound()):
                    if time.monotonic() > deadline:
                        pytest.fail(f"texts left unsent: {outbound()}\n{logs()}")
                    time.sleep(0.1)
                deadline = time.monotonic() + 20
                while db.execute(
                    "SELECT count(*) FROM carriers_carrierevent"
                    " WHERE kind = 'inbound' AND processed_at IS NULL"
                ).fetchone() != (0,):
                    if time.monotonic() > deadline:
                        pytest.fail(f"inbound texts left unprocessed\n{logs()}")
                    time.sleep(0.1)
                events = Counter(
                    key
                    for (key,) in db.execute(
                        "SELECT dedupe_key FROM carriers_carrierevent WHERE kind = 'inbound'"
                    )
                )
                received = Counter(
                    sid
                    for (sid,) in db.execute(
                        "SELECT carrier_message_id FROM conversations_message"
                        " WHERE direction = 'in'"
                    )
                )
                sent = outbound()
        finally:
            traffic.stopping.set()
            web.stop()
            worker.stop()
        print(logs())

        acknowledged = set(traffic.acknowledged)
        assert acknowledged - set(events) == set(), "acknowledged and not stored"
        assert [sid for sid, n in events.items() if n > 1] == []
        assert acknowledged - set(received) == set(), "stored and never processed"
        assert [sid for sid, n in received.items() if n > 1] == [], "one text, two messages"
        bodies = Counter(body for body, _, _ in sent)
        assert set(traffic.queued) - set(bodies) == set(), "queued (201) and not stored"
        assert [body for body, n in bodies.items() if n > 1] == []
        delivered = Counter(d.idempotency_key for d in fake.deliveries)
        assert sorted(delivered) == sorted(uid for _, _, uid in sent), "not sent exactly once"
        assert [key for key, n in delivered.items() if n > 1] == []
        # Not even asked twice: Twilio has no idempotency key, a second request is a second text.
        asked = Counter(r.idempotency_key for r in fake.requests if r.method == "POST")
        assert [key for key, n in asked.items() if n > 1] == []
