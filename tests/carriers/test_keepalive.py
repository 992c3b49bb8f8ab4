"""Kept connections of the send path: reused while fresh, replaced when the server let go."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from twoway.carriers.base import CarrierError, SendRequest
from twoway.carriers.keepalive import KeepAliveConnections, UnusableURL
from twoway.carriers.twilio.adapter import TwilioCarrier


class _Origin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, int]] = []  # the client's address of each request
        self.bodies: list[bytes] = []
        self.hang_up_after_answer = False  # close the connection without saying so


class _Handler(BaseHTTPRequestHandler):
    server: _Origin
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append(self.client_address)
        self.server.bodies.append(body)
        answer = b'{"ok": true}'
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        if self.server.hang_up_after_answer:
            # As a server does when its idle timeout for kept connections runs out.
            self.close_connection = True


@pytest.fixture
def origin() -> Iterator[_Origin]:
    server = _Origin()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: _Origin) -> str:
    return f"http://127.0.0.1:{server.server_port}/send?x=1"


def test_one_thread_reuses_its_connection(origin: _Origin) -> None:
    connections = KeepAliveConnections(timeout=5)
    answers = [connections.post(_url(origin), {}, f"n={n}".encode()) for n in range(3)]
    connections.close()
    assert [a.status for a in answers] == [201, 201, 201]
    assert answers[0].content == b'{"ok": true}' and answers[0].reason == "Created"
    assert origin.bodies == [b"n=0", b"n=1", b"n=2"]
    assert len(set(origin.seen)) == 1


def test_each_thread_has_its_own_connection(origin: _Origin) -> None:
    connections = KeepAliveConnections(timeout=5)
    barrier = threading.Barrier(2)

    def send_twice() -> None:
        barrier.wait()
        for _ in range(2):
            connections.post(_url(origin), {}, b"x")

    threads = [threading.Thread(target=send_twice) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connections.close()
    assert len(origin.seen) == 4
    assert len(set(origin.seen)) == 2


def test_a_connection_the_server_closed_is_replaced_not_failed(origin: _Origin) -> None:
    connections = KeepAliveConnections(timeout=5)
    origin.hang_up_after_answer = True
    connections.post(_url(origin), {}, b"first")
    time.sleep(0.2)  # the server's close has arrived
    second = connections.post(_url(origin), {}, b"second")
    connections.close()
    assert second.status == 201
    assert origin.bodies == [b"first", b"second"]  # each once: nothing failed, nothing resent
    assert origin.seen[0] != origin.seen[1]


def test_a_connection_idle_too_long_is_replaced(origin: _Origin) -> None:
    connections = KeepAliveConnections(timeout=5, keepalive_expiry=0.1)
    connections.post(_url(origin), {}, b"a")
    connections.post(_url(origin), {}, b"b")
    time.sleep(0.15)
    connections.post(_url(origin), {}, b"c")
    connections.close()
    assert origin.seen[0] == origin.seen[1] != origin.seen[2]


def test_close_lets_the_next_send_open_a_new_connection(origin: _Origin) -> None:
    connections = KeepAliveConnections(timeout=5)
    connections.post(_url(origin), {}, b"a")
    connections.close()
    connections.post(_url(origin), {}, b"b")
    connections.close()
    assert origin.seen[0] != origin.seen[1]


@pytest.mark.parametrize("url", ["localhost:8000/send", "ftp://example.org/send", "http:///x"])
def test_a_url_without_http_and_host_is_refused(url: str) -> None:
    with pytest.raises(UnusableURL):
        KeepAliveConnections(timeout=1).post(url, {}, b"")


def test_the_twilio_adapter_calls_a_bad_base_url_a_configuration_error() -> None:
    adapter = TwilioCarrier(account_sid="AC1", auth_token="t", api_base_url="api.twilio.com")
    request = SendRequest(
        idempotency_key="k", from_number="+14155550123", to_number="+12025550172", body="Hi"
    )
    with pytest.raises(CarrierError) as caught:
        adapter.send(request)
    assert caught.value.code == "config" and not caught.value.transient
    assert "TWILIO_API_BASE_URL" in str(caught.value)
