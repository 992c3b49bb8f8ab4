"""What the fake Telnyx and Vonage APIs share (standard library only): a threaded HTTP server on
127.0.0.1 that records every request, a mode to make it fail, and the numbers it sold."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Self
from urllib.parse import parse_qs

# normal; down (every call answers 500); reject (every call answers the carrier's refusal with
# `reject_code`, as the fake chooses to shape it).
Mode = Literal["normal", "down", "reject"]


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the query
    headers: dict[str, str]  # lower-cased names
    query: dict[str, list[str]]
    form: dict[str, list[str]]  # a form-encoded body
    json: Any  # a JSON body, else None


@dataclass
class Delivery:
    message_id: str
    to: str
    from_: str
    body: str
    extra: dict[str, Any] = field(default_factory=dict)


class FakeState:
    """Everything a fake knows; shared by handler threads, so guarded by one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mode: Mode = "normal"
        self.reject_code = ""
        self.reject_status = 400
        self.requests: list[RecordedRequest] = []
        self.deliveries: list[Delivery] = []
        self.owned_numbers: dict[str, dict[str, Any]] = {}  # bought numbers, by E.164


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeState


class FakeHandler(BaseHTTPRequestHandler):
    """Reads and records each request, then calls `route(request)`, which answers."""

    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def state(self) -> FakeState:
        return self.server.state

    def send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read(self, method: str) -> RecordedRequest:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", errors="replace") if length else ""
        path, _, query = self.path.partition("?")
        content_type = self.headers.get("Content-Type", "")
        body_json: Any = None
        form: dict[str, list[str]] = {}
        if "json" in content_type and raw:
            try:
                body_json = json.loads(raw)
            except ValueError:
                body_json = None
        elif raw:
            form = parse_qs(raw, keep_blank_values=True)
        request = RecordedRequest(
            method=method,
            path=path,
            headers={k.lower(): v for k, v in self.headers.items()},
            query=parse_qs(query, keep_blank_values=True),
            form=form,
            json=body_json,
        )
        with self.state.lock:
            self.state.requests.append(request)
        return request

    def do_GET(self) -> None:
        self.route(self._read("GET"))

    def do_POST(self) -> None:
        self.route(self._read("POST"))

    def route(self, request: RecordedRequest) -> None:
        raise NotImplementedError


class FakeCarrierServer:
    """A fake on 127.0.0.1 in a background thread; port 0 picks a free port."""

    handler: type[FakeHandler]
    thread_name = "fake-carrier"

    def __init__(self, *, port: int = 0) -> None:
        self.state = FakeState()
        self._server = _Server(("127.0.0.1", port), self.handler)
        self._server.state = self.state
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return list(self.state.requests)

    @property
    def deliveries(self) -> list[Delivery]:
        with self.state.lock:
            return list(self.state.deliveries)

    def set_mode(self, mode: Mode, *, code: str = "", status: int = 400) -> None:
        with self.state.lock:
            self.state.mode = mode
            self.state.reject_code = code
            self.state.reject_status = status

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
