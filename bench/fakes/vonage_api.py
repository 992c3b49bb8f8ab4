"""A local stand-in for Vonage's Messages API and Numbers API, for tests; one server for both
hosts (api.nexmo.com and rest.nexmo.com).

    with FakeVonageServer(api_key="abcd1234", api_secret="...") as fake:
        carrier = VonageCarrier(..., api_base_url=fake.url, rest_base_url=fake.url)
        fake.set_mode("reject", code="1240", status=422)

`POST /v1/messages` (HTTP Basic with the key and secret) answers 202 with a `message_uuid`;
`GET /number/search?pattern=1<area>` offers 555-01xx numbers not bought yet; `POST /number/buy`
buys one (error-code 420 when taken); `POST /number/update` links it to an application.
"""

from __future__ import annotations

import argparse
import base64
import re
import uuid
from typing import Any

from bench.fakes.carrier_server import Delivery, FakeCarrierServer, FakeHandler, RecordedRequest

TITLES = {
    "1000": "Throttled",
    "1020": "Invalid params",
    "1240": "Illegal Number",
    "1250": "Unroutable",
}


class _VonageHandler(FakeHandler):
    def _credentials(self) -> tuple[str, str] | None:
        return getattr(self.server, "credentials", None)

    def _problem(self, status: int, code: str, detail: str = "") -> None:
        title = TITLES.get(code, "Error")
        fragment = f"#{code}" if code else ""  # some refusals name no code
        self.send_json(
            status,
            {
                "type": f"https://developer.vonage.com/api-errors/messages{fragment}",
                "title": title,
                "detail": detail or title,
                "instance": str(uuid.uuid4()),
            },
        )

    def route(self, request: RecordedRequest) -> None:
        with self.state.lock:
            mode, code, status = self.state.mode, self.state.reject_code, self.state.reject_status
        if request.path == "/v1/messages" and request.method == "POST":
            if not self._basic_ok(request.headers.get("authorization", "")):
                self._problem(401, "unauthorized", "You did not provide correct credentials.")
            elif mode == "down":
                self._problem(503, "1030", "Internal error")
            elif mode == "reject":
                self._problem(status, code)
            else:
                self._message(request.json)
            return
        fields = {k: v[0] for k, v in {**request.query, **request.form}.items() if v}
        expected = self._credentials()
        if expected is not None and (fields.get("api_key"), fields.get("api_secret")) != expected:
            self.send_json(401, {"error-code": "401", "error-code-label": "authentication failed"})
        elif mode == "down":
            self.send_json(500, {"error-code": "500", "error-code-label": "internal error"})
        elif mode == "reject":
            self.send_json(status, {"error-code": code or "420", "error-code-label": "refused"})
        elif (request.method, request.path) == ("GET", "/number/search"):
            self._search(fields)
        elif (request.method, request.path) == ("POST", "/number/buy"):
            self._buy(fields)
        elif (request.method, request.path) == ("POST", "/number/update"):
            self._update(fields)
        else:
            self.send_json(404, {"error-code": "404", "error-code-label": "not found"})

    def _basic_ok(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        expected = self._credentials()
        return expected is None or (user, password) == expected

    def _message(self, body: Any) -> None:
        if not isinstance(body, dict) or body.get("channel") != "sms":
            self._problem(422, "1020", "channel must be sms here")
            return
        for name in ("to", "from"):
            if not re.fullmatch(r"\d{7,15}|[A-Za-z0-9 ]{1,11}", str(body.get(name) or "")):
                self._problem(422, "1240" if name == "to" else "1020", f"Invalid {name}")
                return
        message_id = str(uuid.uuid4())
        with self.state.lock:
            self.state.deliveries.append(
                Delivery(
                    message_id,
                    body["to"],
                    body["from"],
                    str(body.get("text") or ""),
                    {k: v for k, v in body.items() if k not in ("to", "from", "text")},
                )
            )
        self.send_json(202, {"message_uuid": message_id})

    def _search(self, fields: dict[str, str]) -> None:
        pattern = fields.get("pattern", "1415")
        try:
            size = max(1, min(int(fields.get("size", "10")), 100))
        except ValueError:
            self.send_json(400, {"error-code": "400", "error-code-label": "size is not a number"})
            return
        numbers: list[dict[str, Any]] = []
        match = re.fullmatch(r"1([2-9]\d{2})", pattern)
        if fields.get("country") in ("US", "CA") and match:
            with self.state.lock:
                owned = set(self.state.owned_numbers)
            for line in range(100, 10000):
                msisdn = f"1{match[1]}555{line:04d}"
                if f"+{msisdn}" not in owned:
                    numbers.append(
                        {
                            "country": fields["country"],
                            "msisdn": msisdn,
                            "type": "mobile-lvn",
                            "cost": "0.90",
                            "features": ["VOICE", "SMS"],
                        }
                    )
                if len(numbers) == size:
                    break
        self.send_json(200, {"count": len(numbers), "numbers": numbers})

    def _buy(self, fields: dict[str, str]) -> None:
        msisdn = fields.get("msisdn", "")
        if not re.fullmatch(r"1[2-9]\d{2}555\d{4}", msisdn) or not fields.get("country"):
            self.send_json(420, {"error-code": "420", "error-code-label": "method failed"})
            return
        with self.state.lock:
            taken = f"+{msisdn}" in self.state.owned_numbers
            if not taken:
                self.state.owned_numbers[f"+{msisdn}"] = {"country": fields["country"]}
        if taken:
            self.send_json(420, {"error-code": "420", "error-code-label": "method failed"})
            return
        self.send_json(200, {"error-code": "200", "error-code-label": "success"})

    def _update(self, fields: dict[str, str]) -> None:
        with self.state.lock:
            owned = self.state.owned_numbers.get(f"+{fields.get('msisdn', '')}")
            if owned is not None:
                owned["app_id"] = fields.get("app_id", "")
        if owned is None:
            self.send_json(420, {"error-code": "420", "error-code-label": "method failed"})
            return
        self.send_json(200, {"error-code": "200", "error-code-label": "success"})


class FakeVonageServer(FakeCarrierServer):
    handler = _VonageHandler
    thread_name = "fake-vonage"

    def __init__(
        self, *, port: int = 0, api_key: str | None = None, api_secret: str | None = None
    ) -> None:
        super().__init__(port=port)
        credentials = (api_key, api_secret) if api_key is not None else None
        self._server.credentials = credentials  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Vonage Messages and Numbers APIs")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--api-secret", default=None)
    args = parser.parse_args(argv)
    server = FakeVonageServer(port=args.port, api_key=args.api_key, api_secret=args.api_secret)
    print(f"fake vonage listening on {server.url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
