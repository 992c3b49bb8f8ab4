"""Vonage's Messages API for texts (JSON sends with the API key and secret, JSON webhooks signed
with a JWT), and its Numbers API for searching and buying numbers.

The Messages API rather than the older SMS API: a long text is one message with one id and one
delivery report there (the SMS API answers one id per part, and reports each part on its own),
an incoming long text arrives joined, and every webhook is signed with the account's signature
secret. Sends authenticate with the API key and secret (HTTP Basic), which the Messages API
takes as it takes an application's JWT, so no private key has to be stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx
import phonenumbers

from twoway.carriers.base import (
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
from twoway.carriers.vonage.signature import signed_token_valid

logger = logging.getLogger(__name__)

# The Messages API's statuses of an SMS in our vocabulary.
STATUS_MAP: dict[str, CarrierStatus] = {
    "submitted": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "rejected": "failed",
    "undeliverable": "undelivered",
}

# The Numbers API's error-code values that mean a retry may succeed.
_NUMBERS_TRANSIENT = {"429", "500", "503"}


def _msisdn(number: str) -> str:
    """Vonage writes numbers without the +: 14155550100."""
    return number[1:] if number.startswith("+") else number


def _e164(value: str) -> str:
    """A number as Vonage sends it (14155550100) written as Twoway stores numbers (+14155550100);
    a short code or an alphanumeric sender stays as it is."""
    value = value.strip()
    return f"+{value}" if value.isdigit() and len(value) > 8 else value


def error_code(vonage_code: str) -> str:
    """A Vonage error code (the fragment of its problem `type`, or a Numbers API error-code) as
    kept on a message: "vonage:<code>", explained in carriers.errors."""
    vonage_code = vonage_code.strip()
    return f"vonage:{vonage_code}"[:16] if vonage_code else ""


class VonageCarrier(Carrier):
    slug = "vonage"
    name = "Vonage"
    # The Messages API sends MMS to US numbers only; Twoway sends SMS through it.
    supports_mms = False
    honours_idempotency_key = False
    can_provision_numbers = True
    credential_fields = (
        CredentialField(
            "api_key",
            "API key",
            pattern=r"[0-9A-Za-z]{6,16}",
            shape="letters and digits, 8 of them in most accounts (API Settings)",
            secret=False,
        ),
        CredentialField(
            "api_secret",
            "API secret",
            pattern=r"[0-9A-Za-z]{8,64}",
            shape="letters and digits, 16 of them in most accounts (API Settings)",
        ),
        CredentialField("signature_secret", "Signature secret"),
        CredentialField(
            "application_id",
            "Application ID",
            pattern=r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            shape="a UUID such as aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee (Applications)",
            secret=False,
        ),
    )

    def __init__(
        self,
        api_key: str | None = "",
        api_secret: str | None = "",
        signature_secret: str | None = "",
        application_id: str | None = "",
        api_base_url: str = "https://api.nexmo.com",
        rest_base_url: str = "https://rest.nexmo.com",
        timeout: float = 10.0,
        clock: Any = time.time,
    ) -> None:
        self.api_key = api_key or ""
        self._api_secret = api_secret or ""
        self._signature_secret = signature_secret or ""
        self.application_id = application_id or ""
        self.api_base_url = (api_base_url or "https://api.nexmo.com").rstrip("/")
        self.rest_base_url = (rest_base_url or "https://rest.nexmo.com").rstrip("/")
        self.timeout = float(timeout)
        self._clock = clock
        self._client = httpx.Client(timeout=self.timeout)

    def __repr__(self) -> str:  # keeps the secrets out of tracebacks and debug pages
        return f"VonageCarrier(api_key={self.api_key!r}, api_base_url={self.api_base_url!r})"

    def close(self) -> None:
        self._client.close()

    def _request(self, method: str, url: str, doing: str, **kwargs: Any) -> httpx.Response:
        if not self.api_key or not self._api_secret:
            raise CarrierError(
                "Vonage is not configured: its API key or secret is missing "
                "(VONAGE_API_KEY and VONAGE_API_SECRET, or the carrier account's).",
                code="config",
                transient=False,
            )
        try:
            return self._client.request(method, url, **kwargs)
        except httpx.UnsupportedProtocol as exc:
            raise CarrierError(
                f"VONAGE_API_BASE_URL is not a usable URL: {exc}", code="config", transient=False
            ) from exc
        except httpx.TransportError as exc:
            logger.warning("Vonage %s failed: %s", doing, exc)
            raise CarrierError(f"Could not reach Vonage: {exc}", transient=True) from exc

    # --- Sending ---------------------------------------------------------------------------

    def send(self, request: SendRequest) -> SendResult:
        body: dict[str, Any] = {
            "message_type": "text",
            "channel": "sms",
            "to": _msisdn(request.to_number),
            "from": _msisdn(request.from_number),
            "text": request.body,
            # Vonage picks GSM-7 or UCS-2 from the text, as Twoway counted its segments.
            "sms": {"encoding_type": "auto"},
            "client_ref": request.idempotency_key[:100],
        }
        if request.status_callback_url:
            body["webhook_url"] = request.status_callback_url
        response = self._request(
            "POST",
            f"{self.api_base_url}/v1/messages",
            "send",
            json=body,
            auth=(self.api_key, self._api_secret),
        )
        payload = json_object(response.content)
        status = response.status_code
        if 200 <= status < 300:
            message_id = payload.get("message_uuid")
            if not isinstance(message_id, str) or not message_id:
                # Accepted, but we cannot tell which message it is: resending could text twice.
                raise CarrierError("Vonage accepted the message without its id", transient=False)
            return SendResult(carrier_message_id=message_id, status="sent")
        raise _send_refusal(status, payload, response.reason_phrase)

    # --- Number inventory ------------------------------------------------------------------

    def _numbers_call(self, method: str, path: str, doing: str, **fields: str) -> dict[str, Any]:
        credentials = {"api_key": self.api_key, "api_secret": self._api_secret}
        url = f"{self.rest_base_url}{path}"
        if method == "GET":
            response = self._request(method, url, doing, params={**credentials, **fields})
        else:
            response = self._request(method, url, doing, data={**credentials, **fields})
        payload = json_object(response.content)
        code = str(payload.get("error-code") or "")
        status = response.status_code
        if 200 <= status < 300 and code in ("", "200"):
            return payload
        label = str(payload.get("error-code-label") or response.reason_phrase or "error")
        logger.warning("Vonage refused a %s: HTTP %s error-code=%s", doing, status, code)
        transient = status == 429 or status >= 500 or code in _NUMBERS_TRANSIENT
        if status == 401 or code == "401":
            kept = "config"
        else:
            kept = error_code(code) if code else ("" if transient else str(status))
        raise CarrierError(f"Vonage {doing}: {label}", code=kept, transient=transient)

    def available_numbers(
        self, country: str, area_code: str | None, limit: int
    ) -> list[AvailableNumber]:
        country = (country or "US").upper()
        fields = {"country": country, "features": "SMS", "size": str(max(1, min(limit, 100)))}
        if area_code:
            # Numbers are searched by their digits: in the +1 countries an area code follows
            # the country code; elsewhere it is looked for anywhere in the number.
            prefix = phonenumbers.country_code_for_region(country)
            if prefix == 1:
                fields.update(pattern=f"1{area_code}", search_pattern="0")
            else:
                fields.update(pattern=area_code, search_pattern="1")
        payload = self._numbers_call("GET", "/number/search", "number search", **fields)
        offered = payload.get("numbers") or []
        if not isinstance(offered, list):
            raise CarrierError("Vonage answered without a list of numbers", transient=True)
        numbers = []
        for item in offered:
            if not isinstance(item, dict) or not str(item.get("msisdn") or "").isdigit():
                continue
            features = {str(f).upper() for f in item.get("features") or []}
            numbers.append(
                AvailableNumber(
                    number=f"+{item['msisdn']}",
                    number_type="toll_free" if "toll-free" in str(item.get("type")) else "local",
                    sms="SMS" in features,
                    mms="MMS" in features,
                )
            )
        return numbers[:limit]

    def provision_number(self, number: str, *, sms_url: str | None = None) -> ProvisionedNumber:
        try:
            country = phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
        except phonenumbers.NumberParseException:
            country = ""
        if not country:
            raise CarrierError(f"{number} is not a number Vonage sells", transient=False)
        msisdn = _msisdn(number)
        self._numbers_call("POST", "/number/buy", "number purchase", country=country, msisdn=msisdn)
        # Texts to a number reach the webhooks of the application it is linked to: linking it to
        # the account's application is what routes them to Twoway (`sms_url` is what that
        # application's inbound URL must be; README).
        if self.application_id:
            self._numbers_call(
                "POST",
                "/number/update",
                "number link",
                country=country,
                msisdn=msisdn,
                app_id=self.application_id,
            )
        return ProvisionedNumber(number=number, number_type="local", carrier_number_id=msisdn)

    # --- Webhooks --------------------------------------------------------------------------

    def verify_signature(self, request: WebhookRequest) -> bool:
        return signed_token_valid(
            request.headers.get("authorization", ""),
            request.body,
            self._signature_secret,
            api_key=self.api_key,
            now=self._clock(),
        )

    def parse_webhook(self, request: WebhookRequest) -> InboundMessage | StatusUpdate | None:
        payload = json_object(request.body)
        if not payload:
            raise WebhookParseError("Vonage webhook is not a JSON object")
        message_id = webhook_id(str(payload.get("message_uuid") or ""), "message_uuid")
        if not message_id:
            raise WebhookParseError("Vonage webhook has no message_uuid")
        if payload.get("channel", "sms") != "sms":
            return None  # WhatsApp, RCS and the like: not texts Twoway handles
        raw = _raw(payload)
        status = payload.get("status")
        if status is None:
            text = payload.get("text")
            sender, recipient = payload.get("from"), payload.get("to")
            if not isinstance(sender, str) or not isinstance(recipient, str):
                raise WebhookParseError("Vonage inbound message lacks from or to")
            return InboundMessage(
                carrier_message_id=message_id,
                from_number=_e164(webhook_address(sender, "from")),
                to_number=_e164(webhook_address(recipient, "to")),
                body=webhook_body(text if isinstance(text, str) else ""),
                raw=raw,
            )
        ours = STATUS_MAP.get(str(status))
        if ours is None:
            return None  # a status Twoway does not track
        code = ""
        error = payload.get("error")
        if ours in ("failed", "undelivered") and isinstance(error, dict):
            code = error_code(_problem_code(error))
        return StatusUpdate(carrier_message_id=message_id, status=ours, error_code=code, raw=raw)


def _raw(payload: Mapping[str, Any]) -> dict[str, str]:
    """What is kept beside the event: the webhook's top-level strings."""
    return {
        key: without_nul(str(value))
        for key, value in payload.items()
        if isinstance(value, (str, int, float)) and key != "text"
    }


def _problem_code(problem: Mapping[str, Any]) -> str:
    """Vonage's error code: the fragment of the problem's `type` URL (…/messages#1150), else its
    `title` when that is a number (delivery reports put the code there)."""
    kind = str(problem.get("type") or "")
    if "#" in kind:
        return kind.rsplit("#", 1)[1]
    title = str(problem.get("title") or "")
    return title if title.isdigit() else ""


def _send_refusal(status: int, payload: Mapping[str, Any], reason: str) -> CarrierError:
    code = _problem_code(payload)
    detail = str(payload.get("detail") or payload.get("title") or reason or "error")
    transient = status == 429 or status >= 500
    logger.warning("Vonage refused a send: HTTP %s code=%s %s", status, code, detail)
    if status == 401:
        kept = "config"  # the key or secret is wrong: the account must be fixed
    elif code:
        kept = error_code(code)
    else:
        kept = "" if transient else str(status)
    return CarrierError(f"Vonage HTTP {status}: {detail}", code=kept, transient=transient)
