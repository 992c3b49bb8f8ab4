"""Telnyx Messaging (API v2): JSON sends with a bearer API key, JSON webhooks signed with
Ed25519, numbers searched and ordered over the same API."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx

from twoway.carriers.base import (
    MEDIA_MAX_COUNT,
    AvailableNumber,
    Carrier,
    CarrierError,
    CarrierStatus,
    CredentialField,
    InboundMessage,
    ProvisionedNumber,
    SendRequest,
    SendResult,
    StatusUpdate,
    WebhookParseError,
    WebhookRequest,
    json_object,
    webhook_address,
    webhook_body,
    webhook_id,
    without_nul,
)
from twoway.carriers.telnyx.signature import public_key_load, signature_valid

logger = logging.getLogger(__name__)

# A recipient's status in a delivery report (payload.to[].status) in our vocabulary. A status
# missing here ("delivery_unconfirmed", "webhook_delivered") says nothing we track.
STATUS_MAP: dict[str, CarrierStatus] = {
    "queued": "queued",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "delivery_failed": "undelivered",
    "sending_failed": "failed",
}
REPORT_EVENTS = ("message.sent", "message.finalized")

# Telnyx's codes that mean what one of the shared codes (carriers.errors) means; any other is
# kept as "telnyx:<code>".
SHARED_CODES = {
    "40001": "30006",  # not routable: a landline or a number that takes no texts
    "40002": "30007",  # blocked as spam
    "40003": "30007",
    "40006": "30003",  # the recipient's carrier is unavailable
    "40008": "30008",  # undeliverable
    "40012": "21211",  # invalid destination number
    "40300": "21610",  # the recipient replied STOP
    "40310": "21211",  # invalid "to" address
    "10002": "21211",  # invalid phone number
    "10016": "21211",  # not in +E.164 format
}


def shared_code(code: str) -> str:
    """A Telnyx error code in the codes Twoway explains (carriers.errors)."""
    code = code.strip()
    if not code:
        return ""
    return SHARED_CODES.get(code, f"telnyx:{code}"[:16])


class TelnyxCarrier(Carrier):
    slug = "telnyx"
    name = "Telnyx"
    supports_mms = True
    # Telnyx's send has no idempotency key: a resend after a lost answer can text twice.
    honours_idempotency_key = False
    can_provision_numbers = True
    # The API's base URL and timeout stay the operator's (TELNYX_API_BASE_URL, TELNYX_TIMEOUT):
    # an address an organization could set would have the worker post its key wherever it points.
    credential_fields = (
        CredentialField(
            "api_key",
            "API key",
            pattern=r"KEY[A-Za-z0-9_-]{10,}",
            shape="KEY followed by letters, digits, - and _ (API Keys in the Telnyx portal)",
        ),
        CredentialField(
            "public_key",
            "Public key",
            pattern=r"[A-Za-z0-9+/]{43}=",
            shape="44 characters of base64 ending in = (Keys & Credentials, Public Key)",
            secret=False,
        ),
        CredentialField(
            "messaging_profile_id",
            "Messaging profile ID",
            pattern=r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            shape="a UUID such as 40017a4c-8d5e-4b5e-9c1a-2f6f1e3b9a10",
            secret=False,
        ),
    )

    def __init__(
        self,
        api_key: str | None = "",
        public_key: str | None = "",
        messaging_profile_id: str | None = "",
        api_base_url: str = "https://api.telnyx.com",
        timeout: float = 10.0,
        clock: Any = time.time,
    ) -> None:
        self._api_key = api_key or ""
        self.public_key = public_key or ""
        self._verifier = public_key_load(self.public_key) if self.public_key else None
        self.messaging_profile_id = messaging_profile_id or ""
        self.api_base_url = (api_base_url or "https://api.telnyx.com").rstrip("/")
        self.timeout = float(timeout)
        self._clock = clock
        # One pooled client per adapter (thread-safe): connections are reused across sends.
        self._client = httpx.Client(timeout=self.timeout)

    def __repr__(self) -> str:  # keeps the API key out of tracebacks and debug pages
        return f"TelnyxCarrier(api_base_url={self.api_base_url!r})"

    def close(self) -> None:
        self._client.close()

    # --- Calls -----------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        doing: str,
        json_body: Mapping[str, Any] | None = None,
        params: Any = None,
    ) -> dict[str, Any]:
        """The `data` of Telnyx's answer; CarrierError for a refusal or no answer."""
        if not self._api_key:
            raise CarrierError(
                "Telnyx is not configured: its API key is missing "
                "(TELNYX_API_KEY, or the carrier account's).",
                code="config",
                transient=False,
            )
        try:
            response = self._client.request(
                method,
                f"{self.api_base_url}{path}",
                json=json_body,
                params=params,
                headers={"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"},
            )
        except httpx.UnsupportedProtocol as exc:
            raise CarrierError(
                f"TELNYX_API_BASE_URL is not a usable URL: {exc}", code="config", transient=False
            ) from exc
        except httpx.TransportError as exc:
            # Timeouts, refused connections, resets: Telnyx may come back, so retry later.
            logger.warning("Telnyx %s failed: %s", doing, exc)
            raise CarrierError(f"Could not reach Telnyx: {exc}", transient=True) from exc
        payload = json_object(response.content)
        status = response.status_code
        if 200 <= status < 300:
            data = payload.get("data")
            if not isinstance(data, (dict, list)):
                raise CarrierError(f"Telnyx answered {status} without data", transient=False)
            return {"data": data}
        raise _refusal(status, payload, response.reason_phrase, doing)

    # --- Sending ---------------------------------------------------------------------------

    def send(self, request: SendRequest) -> SendResult:
        body: dict[str, Any] = {
            "from": request.from_number,
            "to": request.to_number,
            "text": request.body,
        }
        if request.status_callback_url:
            body["webhook_url"] = request.status_callback_url
        if request.media_urls:
            body["media_urls"] = list(request.media_urls)
        if self.messaging_profile_id:
            body["messaging_profile_id"] = self.messaging_profile_id
        data = self._call("POST", "/v2/messages", doing="send", json_body=body)["data"]
        message_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(message_id, str) or not message_id:
            # Telnyx took the message but we cannot tell which one: resending could text the
            # person twice, so this is final rather than retried.
            raise CarrierError("Telnyx accepted the message without its id", transient=False)
        # Accepted means handed over: Telnyx's "queued" is "sent" from Twoway's side, and its
        # reports move the message on from there.
        return SendResult(carrier_message_id=message_id, status="sent")

    # --- Number inventory ------------------------------------------------------------------

    def available_numbers(
        self, country: str, area_code: str | None, limit: int
    ) -> list[AvailableNumber]:
        params: list[tuple[str, str]] = [
            ("filter[country_code]", (country or "US").upper()),
            ("filter[features][]", "sms"),
            ("filter[limit]", str(max(1, min(limit, 50)))),
        ]
        if area_code:
            params.append(("filter[national_destination_code]", area_code))
        data = self._call(
            "GET", "/v2/available_phone_numbers", doing="number search", params=params
        )["data"]
        if not isinstance(data, list):
            raise CarrierError("Telnyx answered without a list of numbers", transient=True)
        numbers = []
        for item in data:
            if not isinstance(item, dict) or not isinstance(item.get("phone_number"), str):
                continue
            features = {
                str(f.get("name", "")).lower()
                for f in item.get("features") or []
                if isinstance(f, dict)
            }
            numbers.append(
                AvailableNumber(
                    number=item["phone_number"],
                    number_type="toll_free"
                    if item.get("phone_number_type") == "toll_free"
                    else "local",
                    sms="sms" in features,
                    mms="mms" in features,
                    locality=_locality(item.get("region_information")),
                )
            )
        return numbers[:limit]

    def provision_number(self, number: str, *, sms_url: str | None = None) -> ProvisionedNumber:
        # Telnyx posts a number's texts to its messaging profile's webhook URL, not one per
        # number: ordering the number into the account's profile is what routes them to Twoway
        # (`sms_url` is what that profile's URL must be; README).
        order: dict[str, Any] = {"phone_numbers": [{"phone_number": number}]}
        if self.messaging_profile_id:
            order["messaging_profile_id"] = self.messaging_profile_id
        data = self._call("POST", "/v2/number_orders", doing="number order", json_body=order)[
            "data"
        ]
        ordered = data.get("phone_numbers") if isinstance(data, dict) else None
        first = ordered[0] if isinstance(ordered, list) and ordered else None
        if not isinstance(first, dict) or first.get("phone_number") != number:
            raise CarrierError("Telnyx answered the order without the number", transient=False)
        status = str(first.get("status") or data.get("status") or "")
        if status == "failed":
            raise CarrierError(
                "Telnyx could not fulfil the order for that number",
                code="telnyx:order",
                transient=False,
            )
        return ProvisionedNumber(
            number=number,
            number_type="local",
            sms=True,
            mms=True,
            carrier_number_id=str(first.get("id") or data.get("id") or ""),
        )

    # --- Webhooks --------------------------------------------------------------------------

    def verify_signature(self, request: WebhookRequest) -> bool:
        return signature_valid(
            self._verifier,
            request.headers.get("telnyx-timestamp", ""),
            request.body,
            request.headers.get("telnyx-signature-ed25519", ""),
            now=self._clock(),
        )

    def parse_webhook(self, request: WebhookRequest) -> InboundMessage | StatusUpdate | None:
        envelope = json_object(request.body)
        data = envelope.get("data")
        if not isinstance(data, dict):
            raise WebhookParseError("Telnyx webhook is not JSON with a data object")
        event_type = str(data.get("event_type") or "")
        payload = data.get("payload")
        if not event_type or not isinstance(payload, dict):
            raise WebhookParseError("Telnyx webhook has no event_type or payload")
        if event_type == "message.received":
            return _inbound(data, payload)
        if event_type in REPORT_EVENTS:
            return _report(data, payload)
        return None  # a real Telnyx event (a call, a number order) Twoway does not track


def _raw(data: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, str]:
    """What is kept of the webhook beside the event: flat strings (the full JSON stays in the
    carrier's logs)."""
    fields = {
        "event_id": data.get("id"),
        "event_type": data.get("event_type"),
        "occurred_at": data.get("occurred_at"),
        "type": payload.get("type"),
        "direction": payload.get("direction"),
    }
    return {key: without_nul(str(value)) for key, value in fields.items() if value is not None}


def _message_id(payload: Mapping[str, Any]) -> str:
    message_id = webhook_id(str(payload.get("id") or ""), "payload.id")
    if not message_id:
        raise WebhookParseError("Telnyx message webhook has no payload.id")
    return message_id


def _inbound(data: Mapping[str, Any], payload: Mapping[str, Any]) -> InboundMessage:
    sender = payload.get("from")
    recipients = payload.get("to")
    from_number = sender.get("phone_number") if isinstance(sender, dict) else None
    first = recipients[0] if isinstance(recipients, list) and recipients else None
    to_number = first.get("phone_number") if isinstance(first, dict) else None
    if not isinstance(from_number, str) or not isinstance(to_number, str):
        raise WebhookParseError("Telnyx message.received lacks from.phone_number or to[0]")
    text = payload.get("text")
    media_items = payload.get("media") or []
    if not isinstance(media_items, list) or len(media_items) > MEDIA_MAX_COUNT:
        raise WebhookParseError(f"Telnyx media must be a list of at most {MEDIA_MAX_COUNT}")
    media = []
    for item in media_items:
        url = item.get("url") if isinstance(item, dict) else None
        if not isinstance(url, str) or not url:
            raise WebhookParseError("Telnyx media item has no url")
        media.append(without_nul(url))
    return InboundMessage(
        carrier_message_id=_message_id(payload),
        from_number=webhook_address(from_number, "from"),
        to_number=webhook_address(to_number, "to"),
        body=webhook_body(text if isinstance(text, str) else ""),
        media_urls=tuple(media),
        raw=_raw(data, payload),
    )


def _report(data: Mapping[str, Any], payload: Mapping[str, Any]) -> StatusUpdate | None:
    recipients = payload.get("to")
    first = recipients[0] if isinstance(recipients, list) and recipients else None
    if not isinstance(first, dict):
        raise WebhookParseError("Telnyx delivery report has no to[0].status")
    status = STATUS_MAP.get(str(first.get("status") or ""))
    if status is None:
        return None  # "delivery_unconfirmed" and the like: nothing we track
    errors = payload.get("errors")
    code = ""
    if status in ("failed", "undelivered") and isinstance(errors, list) and errors:
        error = errors[0] if isinstance(errors[0], dict) else {}
        code = shared_code(str(error.get("code") or ""))
    return StatusUpdate(
        carrier_message_id=_message_id(payload),
        status=status,
        error_code=code,
        raw=_raw(data, payload),
    )


def _refusal(status: int, payload: Mapping[str, Any], reason: str, doing: str) -> CarrierError:
    """A Telnyx error answer as a CarrierError: 429 and 5xx are retried, the rest final with the
    first error's code in Twoway's codes."""
    errors = payload.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    telnyx_code = str(first.get("code") or "")
    detail = str(first.get("detail") or first.get("title") or reason or "error")
    transient = status == 429 or status >= 500
    logger.warning("Telnyx refused a %s: HTTP %s code=%s %s", doing, status, telnyx_code, detail)
    if status in (401, 403) and telnyx_code in ("", "10009", "10010"):
        code = "config"  # the key is wrong or lacks the right: the account must be fixed
    elif transient:
        code = shared_code(telnyx_code)
    else:
        code = shared_code(telnyx_code) or str(status)
    return CarrierError(f"Telnyx HTTP {status}: {detail}", code=code, transient=transient)


def _locality(regions: Any) -> str:
    """ "San Francisco, CA" from Telnyx's region_information list."""
    if not isinstance(regions, list):
        return ""
    names = {
        str(r.get("region_type")): str(r.get("region_name"))
        for r in regions
        if isinstance(r, dict) and r.get("region_name")
    }
    place = names.get("location") or names.get("rate_center")
    return ", ".join(part for part in (place, names.get("state")) if part)
