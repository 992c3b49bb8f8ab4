"""A local stand-in for Twilio's Messages API, for tests and benchmarks (standard library only).

In a test::

    with FakeTwilioServer() as fake:
        carrier = TwilioCarrier(account_sid="AC...", auth_token="t", api_base_url=fake.url)
        fake.set_mode("reject", code=21610, message="Attempt to send to unsubscribed recipient")

As its own process (for a benchmark)::

    python -m bench.fakes.twilio_api --port 8999 --latency-ms 50 --error-rate 0.01

Unlike Twilio it honours an `Idempotency-Key` header: a repeated key gets the first answer back
and is delivered only once, so the benchmark can count what really reached "handsets".
Other processes read `GET /_fake/deliveries` and `GET /_fake/requests`, and switch modes with
`POST /_fake/mode` (JSON {"mode": ..., "code": ..., "message": ...}). `GET
/_fake/deliveries?with=at` adds when each delivery's request arrived (time.time()), which a
benchmark needs to check per-number rate limits as the carrier sees them.

It serves inbound media (`add_media`): a MediaUrl's file, to the account's credentials only.

It also sells numbers: `GET .../AvailablePhoneNumbers/{US|CA}/Local.json?AreaCode=` offers
555-01xx numbers of that area code not bought yet, `POST .../IncomingPhoneNumbers.json` with
`PhoneNumber` buys one (21422 when taken); `owned_numbers` holds what was bought.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import re
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs

Mode = Literal["normal", "down", "timeout", "reject"]
MODES: tuple[str, ...] = ("normal", "down", "timeout", "reject")
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
# Number inventory: search local numbers, buy one.
AVAILABLE_PATH = re.compile(
    r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/AvailablePhoneNumbers/(?P<country>[A-Z]{2})/Local\.json$"
)
INCOMING_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/IncomingPhoneNumbers\.json$")
# An inbound MMS's file, as Twilio links it in MediaUrlN (HTTP auth with the account's keys).
MEDIA_PATH = re.compile(
    r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages/(?P<message>MM[0-9a-f]+)/Media/(?P<media>ME[0-9a-f]+)$"
)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    form: dict[str, list[str]]
    auth: tuple[str, str] | None
    idempotency_key: str


@dataclass
class Delivery:
    sid: str
    to: str
    from_: str
    body: str
    media_urls: list[str] = field(default_factory=list)
    idempotency_key: str = ""
    at: float = field(default_factory=time.time)  # when the request arrived (epoch seconds)


class FakeState:
    """Everything the fake knows; shared by handler threads, so guarded by one lock."""

    def __init__(
        self, latency_ms: float = 0.0, error_rate: float = 0.0, auth_token: str | None = None
    ) -> None:
        self.lock = threading.Lock()
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.auth_token = auth_token  # None: any password is accepted
        self.hang_seconds = 30.0  # how long "timeout" mode sits on a response
        self.mode: Mode = "normal"
        self.reject_code = 21610
        self.reject_message = "Attempt to send to unsubscribed recipient"
        self.requests: list[RecordedRequest] = []
        self.deliveries: list[Delivery] = []
        self.answers_by_key: dict[str, dict[str, Any]] = {}
        self.owned_numbers: dict[str, dict[str, Any]] = {}  # bought numbers, by E.164
        # Inbound media it serves, by path: (content, content type); and how many of the next
        # media requests fail with a 500 first (to see a fetch retried).
        self.media: dict[str, tuple[bytes, str]] = {}
        self.media_failures = 0
        self.stopping = threading.Event()  # wakes hanging handlers at shutdown

    def reset(self) -> None:
        with self.lock:
            self.mode = "normal"
            self.requests.clear()
            self.deliveries.clear()
            self.answers_by_key.clear()
            self.owned_numbers.clear()
            self.media.clear()
            self.media_failures = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeState


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API, so clients can pool
    # Headers and body leave in two writes; with Nagle on, the second waits for the client's
    # delayed ACK (~40 ms), which capped any client at ~22 sends/s per connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests and benchmarks would drown in access lines

    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: int, message: str) -> None:
        self._send_json(status, {"code": code, "message": message, "status": status})

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if match := AVAILABLE_PATH.match(path):
            self._available_numbers(match["sid"], match["country"], parse_qs(query))
            return
        if match := MEDIA_PATH.match(path):
            self._media(match["sid"], path)
            return
        state = self.server.state
        with state.lock:
            if self.path in ("/_fake/deliveries", "/_fake/deliveries?with=at"):
                with_at = self.path.endswith("?with=at")
                payload: Any = [_delivery_json(d, with_at) for d in state.deliveries]
            elif self.path == "/_fake/requests":
                payload = [asdict(r) for r in state.requests]
            else:
                payload = None
        if payload is None:
            self._error(404, 20404, "The requested resource was not found")
        else:
            self._send_json(200, payload)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", errors="replace")
        if self.path == "/_fake/mode":
            self._set_mode_from_json(raw)
            return
        if self.path == "/_fake/reset":
            self.server.state.reset()
            self._send_json(200, {"ok": True})
            return
        if incoming := INCOMING_PATH.match(self.path):
            self._buy_number(incoming["sid"], parse_qs(raw, keep_blank_values=True))
            return
        match = MESSAGES_PATH.match(self.path)
        if match is None:
            self._error(404, 20404, "The requested resource was not found")
            return
        self._create_message(match["sid"], parse_qs(raw, keep_blank_values=True))

    def _set_mode_from_json(self, raw: str) -> None:
        try:
            spec = json.loads(raw or "{}")
            set_mode(self.server.state, spec["mode"], spec.get("code"), spec.get("message"))
        except (ValueError, KeyError, TypeError) as exc:
            self._send_json(400, {"error": str(exc)})
            return
        self._send_json(200, {"ok": True})

    def _create_message(self, account_sid: str, form: dict[str, list[str]]) -> None:
        arrived_at = time.time()
        state = self.server.state
        auth = _basic_auth(self.headers.get("Authorization", ""))
        key = self.headers.get("Idempotency-Key", "")
        with state.lock:
            state.requests.append(
                RecordedRequest(
                    method="POST",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    form=form,
                    auth=auth,
                    idempotency_key=key,
                )
            )
            mode, latency_ms, error_rate = state.mode, state.latency_ms, state.error_rate
            code, message = state.reject_code, state.reject_message
        if latency_ms:
            time.sleep(latency_ms / 1000)

        if (
            auth is None
            or auth[0] != account_sid
            or (state.auth_token is not None and auth[1] != state.auth_token)
        ):
            self._error(401, 20003, "Authenticate")
            return
        if mode == "down" or (error_rate and random.random() < error_rate):
            self._error(500, 20500, "Internal Server Error")
            return
        if mode == "reject":
            self._error(400, code, message)
            return
        first = {name: values[0] for name, values in form.items() if values}
        for name, twilio_code in (("To", 21604), ("From", 21603)):
            if not first.get(name):
                self._error(400, twilio_code, f"A '{name}' phone number is required.")
                return
        if not first.get("Body") and not form.get("MediaUrl"):
            self._error(400, 21602, "Message body is required.")
            return

        answer = _deliver(state, account_sid, first, form.get("MediaUrl", []), key, arrived_at)
        if mode == "timeout":
            # Twilio took the message but the answer never arrives in time: the ambiguous case
            # a retrying sender must survive without texting the person twice.
            state.stopping.wait(state.hang_seconds)
        self._send_json(201, answer)

    def _media(self, account_sid: str, path: str) -> None:
        if self._inventory_refused(account_sid, "GET", {}):
            return
        state = self.server.state
        with state.lock:
            found = state.media.get(path)
            failing = state.media_failures > 0
            if failing:
                state.media_failures -= 1
        if failing:
            self._error(500, 20500, "Internal Server Error")
        elif found is None:
            self._error(404, 20404, "The requested resource was not found")
        else:
            content, content_type = found
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

    # --- Number inventory ---------------------------------------------------------------------

    def _inventory_refused(self, account_sid: str, method: str, form: dict[str, list[str]]) -> bool:
        """Record the request and answer it with an error when auth or the mode says so."""
        state = self.server.state
        auth = _basic_auth(self.headers.get("Authorization", ""))
        with state.lock:
            state.requests.append(
                RecordedRequest(
                    method=method,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    form=form,
                    auth=auth,
                    idempotency_key="",
                )
            )
            mode, code, message = state.mode, state.reject_code, state.reject_message
        if (
            auth is None
            or auth[0] != account_sid
            or (state.auth_token is not None and auth[1] != state.auth_token)
        ):
            self._error(401, 20003, "Authenticate")
        elif mode in ("down", "timeout"):
            self._error(500, 20500, "Internal Server Error")
        elif mode == "reject":
            self._error(400, code, message)
        else:
            return False
        return True

    def _available_numbers(
        self, account_sid: str, country: str, query: dict[str, list[str]]
    ) -> None:
        """Local numbers 555-0100 and up in the area code asked for (415 by default, only in
        US and CA), leaving out those already bought."""
        if self._inventory_refused(account_sid, "GET", query):
            return
        area = (query.get("AreaCode") or ["415"])[0]
        try:
            size = max(1, min(int((query.get("PageSize") or ["50"])[0]), 1000))
        except ValueError:
            self._error(400, 20001, "Invalid PageSize")
            return
        numbers: list[dict[str, Any]] = []
        if country in ("US", "CA") and re.fullmatch(r"[2-9]\d{2}", area):
            with self.server.state.lock:
                owned = set(self.server.state.owned_numbers)
            for line in range(100, 10000):
                number = f"+1{area}555{line:04d}"
                if number not in owned:
                    numbers.append(_available_json(number, area, country))
                if len(numbers) == size:
                    break
        uri = f"/2010-04-01/Accounts/{account_sid}/AvailablePhoneNumbers/{country}/Local.json"
        self._send_json(200, {"available_phone_numbers": numbers, "uri": uri})

    def _buy_number(self, account_sid: str, form: dict[str, list[str]]) -> None:
        if self._inventory_refused(account_sid, "POST", form):
            return
        number = (form.get("PhoneNumber") or [""])[0]
        if not re.fullmatch(r"\+1[2-9]\d{2}555\d{4}", number):
            self._error(400, 21421, "PhoneNumber is invalid")
            return
        state = self.server.state
        with state.lock:
            if number in state.owned_numbers:
                answer = None
            else:
                sid = "PN" + uuid.uuid4().hex
                answer = {
                    "sid": sid,
                    "account_sid": account_sid,
                    "phone_number": number,
                    "friendly_name": number,
                    "sms_url": (form.get("SmsUrl") or [""])[0],
                    "sms_method": (form.get("SmsMethod") or ["POST"])[0],
                    "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
                    "uri": f"/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json",
                }
                state.owned_numbers[number] = answer
        if answer is None:
            self._error(400, 21422, "PhoneNumber requested is not available")
            return
        self._send_json(201, answer)


def _available_json(number: str, area: str, country: str) -> dict[str, Any]:
    return {
        "friendly_name": f"({area}) 555-{number[-4:]}",
        "phone_number": number,
        "locality": "Fakeville",
        "region": "CA" if country == "US" else "ON",
        "iso_country": country,
        "capabilities": {"voice": True, "SMS": True, "MMS": True, "fax": False},
        "beta": False,
    }


def _deliver(
    state: FakeState,
    account_sid: str,
    first: dict[str, str],
    media: list[str],
    key: str,
    arrived_at: float | None = None,
) -> dict[str, Any]:
    with state.lock:
        if key and key in state.answers_by_key:
            return state.answers_by_key[key]
        sid = "SM" + uuid.uuid4().hex
        state.deliveries.append(
            Delivery(sid, first["To"], first["From"], first.get("Body", ""), list(media), key)
        )
        if arrived_at is not None:
            state.deliveries[-1].at = arrived_at
        now = format_datetime(datetime.now(UTC), usegmt=True)
        answer = {
            "sid": sid,
            "account_sid": account_sid,
            "status": "queued",
            "to": first["To"],
            "from": first["From"],
            "body": first.get("Body", ""),
            "num_media": str(len(media)),
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
        }
        if key:
            state.answers_by_key[key] = answer
        return answer


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except ValueError:
        return None
    return (user, password) if sep else None


def _delivery_json(delivery: Delivery, with_at: bool = False) -> dict[str, Any]:
    data = asdict(delivery)
    data["from"] = data.pop("from_")
    if not with_at:
        data.pop("at")
    return data


def set_mode(
    state: FakeState, mode: str, code: int | None = None, message: str | None = None
) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    with state.lock:
        state.mode = mode  # type: ignore[assignment]
        if code is not None:
            state.reject_code = int(code)
        if message is not None:
            state.reject_message = message


class FakeTwilioServer:
    """The fake on 127.0.0.1 in a background thread; port 0 picks a free port."""

    def __init__(
        self,
        *,
        port: int = 0,
        latency_ms: float = 0.0,
        error_rate: float = 0.0,
        auth_token: str | None = None,
        hang_seconds: float = 30.0,
    ) -> None:
        self.state = FakeState(latency_ms, error_rate, auth_token)
        self.state.hang_seconds = hang_seconds
        self._server = _Server(("127.0.0.1", port), _Handler)
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

    def set_mode(self, mode: str, *, code: int | None = None, message: str | None = None) -> None:
        """normal; down (500 always); timeout (accept, then answer after hang_seconds);
        reject (400 with `code` and `message`, default 21610)."""
        set_mode(self.state, mode, code, message)

    def reset(self) -> None:
        self.state.reset()

    def add_media(
        self, account_sid: str, content: bytes, content_type: str, *, failures: int = 0
    ) -> str:
        """Serve `content` as an inbound MMS's file of `account_sid`; its MediaUrl. The first
        `failures` media requests answer 500."""
        path = (
            f"/2010-04-01/Accounts/{account_sid}/Messages/MM{uuid.uuid4().hex}"
            f"/Media/ME{uuid.uuid4().hex}"
        )
        with self.state.lock:
            self.state.media[path] = (content, content_type)
            self.state.media_failures = failures
        return self.url + path

    def start(self) -> FakeTwilioServer:
        # A short poll interval makes stop() quick: shutdown() waits for the next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-twilio", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the command-line entry point)."""
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.state.stopping.set()
            self._server.server_close()

    def __enter__(self) -> FakeTwilioServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Twilio Messages API")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of sends to 500")
    parser.add_argument("--auth-token", default=None, help="require this password (default any)")
    args = parser.parse_args(argv)
    server = FakeTwilioServer(
        port=args.port,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        auth_token=args.auth_token,
    )
    # A benchmark reads this line to learn the port when it asked for port 0.
    print(f"fake twilio listening on {server.url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
