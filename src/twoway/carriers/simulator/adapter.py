"""The built-in carrier: delivers to simulated handsets inside Twoway, no account needed."""

from __future__ import annotations

from twoway.carriers.base import (
    Carrier,
    InboundMessage,
    SendRequest,
    SendResult,
    StatusUpdate,
    WebhookRequest,
)


class SimulatorCarrier(Carrier):
    slug = "simulator"
    name = "Simulator"
    supports_mms = False
    honours_idempotency_key = True

    def send(self, request: SendRequest) -> SendResult:
        # The simulated network lives in Twoway's own database, so this carrier, unlike the
        # others, reaches it through the network module rather than over HTTP.
        from twoway.carriers.simulator.network import network_accept

        sid = network_accept(
            idempotency_key=request.idempotency_key,
            from_number=request.from_number,
            to_number=request.to_number,
            body=request.body,
        )
        return SendResult(carrier_message_id=sid, status="sent")

    def verify_signature(self, request: WebhookRequest) -> bool:
        # Simulated handsets hand their events straight to Twoway; no outside webhook is real.
        return False

    def parse_webhook(self, request: WebhookRequest) -> InboundMessage | StatusUpdate | None:
        return None
