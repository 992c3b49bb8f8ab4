"""A local stand-in for Telnyx's API v2 (messages, available numbers, number orders), for tests.

    with FakeTelnyxServer(api_key="KEY...") as fake:
        carrier = TelnyxCarrier(api_key="KEY...", api_base_url=fake.url, ...)
        fake.set_mode("reject", code="40300", status=422)

`POST /v2/messages` answers like Telnyx (`data.id`, `data.to[0].status` "queued");
`GET /v2/available_phone_numbers?filter[national_destination_code]=` offers 555-01xx numbers of
that area code not ordered yet; `POST /v2/number_orders` orders one (10015 when taken).
"""

from __future__ import annotations

import argparse
import re
import uuid
from typing import Any

from bench.fakes.carrier_server import Delivery, FakeCarrierServer, FakeHandler, RecordedRequest

TITLES = {
    "40300": "Blocked due to STOP message",
    "40310": "Invalid 'to' address",
    "40013": "Invalid source number",
    "10009": "Authentication failed",
    "10011": "Too many requests",
}


class _TelnyxHandler(FakeHandler):
    api_key: str | None = None  # set per server class; None takes any key

    def _error(self, status: int, code: str, detail: str = "") -> None:
        title = TITLES.get(code, "Error")
        self.send_json(
            status, {"errors": [{"code": code, "title": title, "detail": detail or title}]}
        )

    def route(self, request: RecordedRequest) -> None:
        key = self.server_key()
        auth = request.headers.get("authorization", "")
        if key is not None and auth != f"Bearer {key}":
            self._error(401, "10009", "The API key is missing or wrong.")
            return
        with self.state.lock:
            mode, code, status = self.state.mode, self.state.reject_code, self.state.reject_status
        if mode == "down":
            self._error(503, "10007", "Unexpected error")
            return
        if mode == "reject":
            if code:
                self._error(status, code)
            else:  # a refusal without Telnyx's error body, as a proxy in front might answer
                self.send_json(status, {"errors": []})
            return
        if (request.method, request.path) == ("POST", "/v2/messages"):
            self._message(request.json)
        elif (request.method, request.path) == ("GET", "/v2/available_phone_numbers"):
            self._available(request.query)
        elif (request.method, request.path) == ("POST", "/v2/number_orders"):
            self._order(request.json)
        else:
            self._error(404, "10005", "Resource not found")

    def server_key(self) -> str | None:
        return getattr(self.server, "api_key", None)

    def _message(self, body: Any) -> None:
        if not isinstance(body, dict):
            self._error(400, "10015", "The request body is not JSON.")
            return
        for name in ("from", "to"):
            if not re.fullmatch(r"\+[1-9]\d{6,14}", str(body.get(name) or "")):
                self._error(422, "40310" if name == "to" else "40013")
                return
        if not body.get("text") and not body.get("media_urls"):
            self._error(422, "10004", "Either text or media_urls is required.")
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
        self.send_json(
            200,
            {
                "data": {
                    "record_type": "message",
                    "direction": "outbound",
                    "id": message_id,
                    "type": "MMS" if body.get("media_urls") else "SMS",
                    "from": {"phone_number": body["from"]},
                    "to": [{"phone_number": body["to"], "status": "queued"}],
                    "text": body.get("text") or "",
                    "webhook_url": body.get("webhook_url"),
                    "messaging_profile_id": body.get("messaging_profile_id"),
                    "parts": 1,
                    "errors": [],
                }
            },
        )

    def _available(self, query: dict[str, list[str]]) -> None:
        area = (query.get("filter[national_destination_code]") or ["415"])[0]
        country = (query.get("filter[country_code]") or ["US"])[0]
        try:
            limit = max(1, min(int((query.get("filter[limit]") or ["50"])[0]), 250))
        except ValueError:
            self._error(400, "10015", "filter[limit] is not a number")
            return
        numbers: list[dict[str, Any]] = []
        if country in ("US", "CA") and re.fullmatch(r"[2-9]\d{2}", area):
            with self.state.lock:
                owned = set(self.state.owned_numbers)
            for line in range(100, 10000):
                number = f"+1{area}555{line:04d}"
                if number not in owned:
                    numbers.append(
                        {
                            "record_type": "available_phone_number",
                            "phone_number": number,
                            "phone_number_type": "local",
                            "features": [{"name": "sms"}, {"name": "mms"}, {"name": "voice"}],
                            "region_information": [
                                {"region_type": "location", "region_name": "Fakeville"},
                                {"region_type": "state", "region_name": "CA"},
                                {"region_type": "country_code", "region_name": country},
                            ],
                        }
                    )
                if len(numbers) == limit:
                    break
        self.send_json(200, {"data": numbers, "metadata": {"total_results": len(numbers)}})

    def _order(self, body: Any) -> None:
        wanted = body.get("phone_numbers") if isinstance(body, dict) else None
        if not isinstance(wanted, list) or len(wanted) != 1 or not isinstance(wanted[0], dict):
            self._error(422, "10004", "phone_numbers must list one number here")
            return
        number = str(wanted[0].get("phone_number") or "")
        if not re.fullmatch(r"\+1[2-9]\d{2}555\d{4}", number):
            self._error(422, "10002", "The phone number is invalid.")
            return
        order_id = str(uuid.uuid4())
        with self.state.lock:
            taken = number in self.state.owned_numbers
            if not taken:
                self.state.owned_numbers[number] = {
                    "order_id": order_id,
                    "messaging_profile_id": body.get("messaging_profile_id"),
                }
        if taken:
            self._error(422, "10015", "The number is not available.")
            return
        self.send_json(
            200,
            {
                "data": {
                    "id": order_id,
                    "record_type": "number_order",
                    "status": "pending",
                    "messaging_profile_id": body.get("messaging_profile_id"),
                    "phone_numbers": [
                        {"id": str(uuid.uuid4()), "phone_number": number, "status": "pending"}
                    ],
                }
            },
        )


class FakeTelnyxServer(FakeCarrierServer):
    handler = _TelnyxHandler
    thread_name = "fake-telnyx"

    def __init__(self, *, port: int = 0, api_key: str | None = None) -> None:
        super().__init__(port=port)
        self._server.api_key = api_key  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telnyx API v2")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=None, help="require this key (default any)")
    args = parser.parse_args(argv)
    server = FakeTelnyxServer(port=args.port, api_key=args.api_key)
    print(f"fake telnyx listening on {server.url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
