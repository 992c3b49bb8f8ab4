"""Twilio Programmable Messaging: REST sends, signed form-encoded webhooks, TwiML answers."""

from __future__ import annotations

import base64
import hmac
import http.client
import json
import logging
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
from twilio.request_validator import RequestValidator

from twoway.carriers.base import (
    MEDIA_MAX_COUNT,
    AvailableNumber,
    Carrier,
    CarrierError,
    CarrierEventData,
    CarrierStatus,
    CredentialField,
    FetchedMedia,
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
    webhook_count,
    webhook_id,
    without_nul,
)
from twoway.carriers.keepalive import KeepAliveConnections, UnusableURL

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

# Twilio's MessageStatus values mapped onto ours. Statuses missing here (e.g. "receiving",
# "received", "partially_delivered") are valid but not ours to track, so they parse to None.
STATUS_MAP: dict[str, CarrierStatus] = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


class _MultiForm:
    """Form fields with every value kept: Twilio signs repeated fields value by value.

    RequestValidator looks for a `getlist` method (Django's QueryDict shape) to read them.
    """

    def __init__(self, fields: Mapping[str, list[str]]) -> None:
        self._fields = fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __bool__(self) -> bool:
        return bool(self._fields)

    def getlist(self, name: str) -> list[str]:
        return self._fields[name]


class TwilioCarrier(Carrier):
    slug = "twilio"
    name = "Twilio"
    supports_mms = True
    # Twilio's Messages API has no idempotency key, so a resend after a lost response can reach
    # the handset twice. `send` still passes our key as an `Idempotency-Key` header because
    # Twilio-compatible fakes (ours included) and some proxies honour it; Twilio ignores it.
    honours_idempotency_key = False
    reports_departure = True
    can_provision_numbers = True
    # The API's base URL and timeout stay the operator's (TWILIO_API_BASE_URL, TWILIO_TIMEOUT)
    # for every account: an address an organization could set would have the worker post its
    # credentials wherever that points.
    credential_fields = (
        CredentialField(
            "account_sid",
            "Account SID",
            pattern=r"AC[0-9a-f]{32}",
            shape="AC followed by 32 hexadecimal digits (0-9, a-f)",
            secret=False,
        ),
        CredentialField(
            "auth_token",
            "Auth token",
            pattern=r"[0-9a-f]{32}",
            shape="32 hexadecimal digits (0-9, a-f)",
        ),
    )

    def __init__(
        self,
        account_sid: str | None = "",
        auth_token: str | None = "",
        api_base_url: str = "https://api.twilio.com",
        timeout: float = 10.0,
    ) -> None:
        self.account_sid = account_sid or ""
        self._auth_token = auth_token or ""
        self.api_base_url = (api_base_url or "https://api.twilio.com").rstrip("/")
        self.timeout = float(timeout)
        # One pooled client per adapter: httpx.Client is thread-safe, and reusing connections
        # saves a TLS handshake per message.
        self._client = httpx.Client(timeout=self.timeout)
        # Sends, the worker's hot path, go out on one kept connection per send thread: a third
        # of the CPU of a shared pool with the worker's threads (docs/decisions.md). Behind a
        # proxy from the environment, which only httpx reads, sends take httpx.
        self._direct: KeepAliveConnections | None = None
        if not _proxy_configured():
            self._direct = KeepAliveConnections(self.timeout)

    def __repr__(self) -> str:  # keeps the auth token out of tracebacks and debug pages
        return (
            f"TwilioCarrier(account_sid={self.account_sid!r}, api_base_url={self.api_base_url!r})"
        )

    def close(self) -> None:
        self._client.close()
        if self._direct is not None:
            self._direct.close()

    def _require_config(self) -> None:
        if not self.account_sid or not self._auth_token:
            raise CarrierError(
                "Twilio is not configured: its account SID or auth token is missing "
                "(TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or the carrier account's).",
                code="config",
                transient=False,
            )

    def _account_url(self, resource: str) -> str:
        return f"{self.api_base_url}/2010-04-01/Accounts/{self.account_sid}/{resource}"

    # --- Sending ---------------------------------------------------------------------------

    def send(self, request: SendRequest) -> SendResult:
        self._require_config()
        url = self._account_url("Messages.json")
        data: dict[str, str | list[str]] = {
            "To": request.to_number,
            "From": request.from_number,
            "Body": request.body,
        }
        if request.status_callback_url:
            data["StatusCallback"] = request.status_callback_url
        if request.media_urls:
            data["MediaUrl"] = list(request.media_urls)
        if self._direct is not None:
            return self._send_direct(self._direct, url, data, request)
        try:
            response = self._client.post(
                url,
                data=data,
                auth=(self.account_sid, self._auth_token),
                headers={"Idempotency-Key": request.idempotency_key},
                extensions=_departure_trace(request),
            )
        except httpx.UnsupportedProtocol as exc:
            # A base URL without http(s):// will never work; retrying would only hide it.
            raise CarrierError(
                f"TWILIO_API_BASE_URL is not a usable URL: {exc}", code="config", transient=False
            ) from exc
        except httpx.TransportError as exc:
            # Timeouts, refused connections, resets: the carrier may come back, so retry later.
            logger.warning("Twilio send %s failed: %s", request.idempotency_key, exc)
            raise CarrierError(f"Could not reach Twilio: {exc}", transient=True) from exc
        return self._result(
            response.status_code, json_object(response.content), response.reason_phrase
        )

    def _send_direct(
        self,
        connections: KeepAliveConnections,
        url: str,
        data: Mapping[str, str | list[str]],
        request: SendRequest,
    ) -> SendResult:
        """`send` on this thread's kept connection: the same request and errors as through
        httpx (http.client adds Host and Content-Length)."""
        idempotency_key = request.idempotency_key
        credentials = f"{self.account_sid}:{self._auth_token}".encode()
        headers = {
            "Authorization": "Basic " + base64.b64encode(credentials).decode("ascii"),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "*/*",
            "Idempotency-Key": idempotency_key,
        }
        body = urlencode(data, doseq=True).encode()
        try:
            response = connections.post(url, headers, body, request.departed)
        except UnusableURL as exc:
            raise CarrierError(
                f"TWILIO_API_BASE_URL is not a usable URL: {exc}", code="config", transient=False
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            # Timeouts, refused connections, resets: the carrier may come back, so retry later.
            logger.warning("Twilio send %s failed: %s", idempotency_key, exc)
            raise CarrierError(f"Could not reach Twilio: {exc!r}", transient=True) from exc
        try:
            payload = json.loads(response.content)
        except ValueError:
            payload = {}
        return self._result(
            response.status, payload if isinstance(payload, dict) else {}, response.reason
        )

    def _result(self, status: int, payload: dict[str, Any], reason: str) -> SendResult:
        if 200 <= status < 300:
            sid = payload.get("sid")
            if not isinstance(sid, str) or not sid:
                # Twilio took the message but we cannot tell which one it is; resending could
                # text the person twice, so this is final rather than retried.
                raise CarrierError(
                    f"Twilio answered {status} without a message sid", transient=False
                )
            return SendResult(carrier_message_id=sid, status="sent")
        code = str(payload.get("code") or "")
        message = str(payload.get("message") or reason or "error")
        transient = status == 429 or status >= 500
        logger.warning("Twilio refused a send: HTTP %s code=%s %s", status, code, message)
        if not transient and not code:
            code = str(status)  # a 4xx without Twilio's body still needs a code to show
        raise CarrierError(f"Twilio HTTP {status}: {message}", code=code, transient=transient)

    # --- Inbound media ---------------------------------------------------------------------

    def fetch_media(self, url: str, *, max_bytes: int) -> FetchedMedia:
        self._require_config()
        # Twilio's media links need the account's credentials (when the account enforces HTTP
        # auth on media) and redirect to its file store; httpx drops the credentials when a
        # redirect leaves Twilio's host, so they never reach the store.
        try:
            with self._client.stream(
                "GET", url, auth=(self.account_sid, self._auth_token), follow_redirects=True
            ) as response:
                status = response.status_code
                if status != 200:
                    raise CarrierError(
                        f"Twilio answered HTTP {status} for the media",
                        code=str(status),
                        transient=status == 429 or status >= 500,
                    )
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise CarrierError(
                            f"The media is larger than {max_bytes:,} bytes", transient=False
                        )
                    chunks.append(chunk)
                content_type = response.headers.get("content-type", "")
        except httpx.UnsupportedProtocol as exc:
            raise CarrierError(f"Not a usable media URL: {exc}", transient=False) from exc
        except httpx.TransportError as exc:
            raise CarrierError(f"Could not reach Twilio: {exc}", transient=True) from exc
        return FetchedMedia(content=b"".join(chunks), content_type=content_type)

    # --- Number inventory ------------------------------------------------------------------

    def available_numbers(
        self, country: str, area_code: str | None, limit: int
    ) -> list[AvailableNumber]:
        self._require_config()
        params: dict[str, str | int] = {"SmsEnabled": "true", "PageSize": max(1, min(limit, 50))}
        if area_code:
            params["AreaCode"] = area_code
        country = (country or "US").upper()
        payload = self._inventory_call(
            "GET", f"AvailablePhoneNumbers/{country}/Local.json", params=params
        )
        offered = payload.get("available_phone_numbers")
        if not isinstance(offered, list):
            raise CarrierError(
                "Twilio answered without a list of available numbers", transient=True
            )
        numbers = []
        for item in offered:
            if not isinstance(item, dict) or not isinstance(item.get("phone_number"), str):
                continue
            capabilities = _capabilities(item)
            locality = ", ".join(str(item[key]) for key in ("locality", "region") if item.get(key))
            numbers.append(
                AvailableNumber(
                    number=item["phone_number"],
                    number_type="local",
                    sms=capabilities.get("sms", True),
                    mms=capabilities.get("mms", False),
                    locality=locality,
                )
            )
        return numbers[:limit]

    def provision_number(self, number: str, *, sms_url: str | None = None) -> ProvisionedNumber:
        self._require_config()
        data = {"PhoneNumber": number}
        if sms_url:
            data.update(SmsUrl=sms_url, SmsMethod="POST")
        payload = self._inventory_call("POST", "IncomingPhoneNumbers.json", data=data)
        sid, bought = payload.get("sid"), payload.get("phone_number")
        if not isinstance(sid, str) or not sid:
            raise CarrierError("Twilio answered without the new number's sid", transient=False)
        capabilities = _capabilities(payload)
        return ProvisionedNumber(
            number=bought if isinstance(bought, str) and bought else number,
            number_type="local",
            sms=capabilities.get("sms", True),
            mms=capabilities.get("mms", False),
            carrier_number_id=sid,
        )

    def _inventory_call(
        self,
        method: str,
        resource: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        try:
            response = self._client.request(
                method,
                self._account_url(resource),
                params=params,
                data=data,
                auth=(self.account_sid, self._auth_token),
            )
        except httpx.UnsupportedProtocol as exc:
            raise CarrierError(
                f"TWILIO_API_BASE_URL is not a usable URL: {exc}", code="config", transient=False
            ) from exc
        except httpx.TransportError as exc:
            raise CarrierError(f"Could not reach Twilio: {exc}", transient=True) from exc
        payload = json_object(response.content)
        status = response.status_code
        if 200 <= status < 300:
            return payload
        code = str(payload.get("code") or "")
        message = str(payload.get("message") or response.reason_phrase or "error")
        logger.warning("Twilio refused %s %s: HTTP %s code=%s", method, resource, status, code)
        transient = status == 429 or status >= 500
        raise CarrierError(
            f"Twilio HTTP {status}: {message}",
            code=code or ("" if transient else str(status)),
            transient=transient,
        )

    # --- Webhooks --------------------------------------------------------------------------

    def verify_signature(self, request: WebhookRequest) -> bool:
        signature = request.headers.get("x-twilio-signature", "")
        if not self._auth_token or not signature:
            return False
        validator = RequestValidator(self._auth_token)
        params = _signed_params(request)
        # The URL as it was called first: one HMAC instead of validate()'s two (the URL with and
        # without its port, as Twilio may sign either); a match proves Twilio signed this URL.
        computed = validator.compute_signature(request.url, params)
        if hmac.compare_digest(computed.encode(), signature.encode()):
            return True
        return bool(validator.validate(request.url, params, signature))

    def parse_webhook(self, request: WebhookRequest) -> InboundMessage | StatusUpdate | None:
        form = dict(request.form)
        sid = webhook_id(form.get("MessageSid") or form.get("SmsSid") or "", "MessageSid")
        if not sid:
            raise WebhookParseError("Twilio webhook has no MessageSid or SmsSid field")
        status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()

        if "Body" in form and status in ("", "received"):
            return _inbound(sid, form)
        if status in STATUS_MAP:
            return StatusUpdate(
                carrier_message_id=sid,
                status=STATUS_MAP[status],
                error_code=webhook_id(form.get("ErrorCode") or "", "ErrorCode", max_length=16),
                raw=form,
            )
        if status:
            return None  # a real Twilio status we do not track
        raise WebhookParseError(
            "Twilio webhook is neither an incoming message (no Body) "
            "nor a status callback (no MessageStatus)"
        )

    def webhook_response(self, event: CarrierEventData | None) -> tuple[str, str]:
        if isinstance(event, InboundMessage):
            # An empty <Response> tells Twilio "no auto-reply"; anything else is an error there.
            return EMPTY_TWIML, "text/xml"
        return "", "text/plain"


def _inbound(sid: str, form: dict[str, str]) -> InboundMessage:
    """An incoming text, refused (WebhookParseError) where it is not what Twilio sends: the
    limits are the same for every carrier (`carriers.base`)."""
    from_number, to_number = form.get("From", ""), form.get("To", "")
    if not from_number or not to_number:
        raise WebhookParseError("Twilio incoming message webhook lacks a From or To number")
    from_number = webhook_address(from_number, "From")
    to_number = webhook_address(to_number, "To")
    num_media = webhook_count(form.get("NumMedia") or "0", "NumMedia", most=MEDIA_MAX_COUNT)
    media: list[str] = []
    for index in range(num_media):
        url = without_nul(form.get(f"MediaUrl{index}") or "")
        if not url:
            raise WebhookParseError(
                f"Twilio webhook says NumMedia={num_media} but MediaUrl{index} is missing"
            )
        media.append(url)
    return InboundMessage(
        carrier_message_id=sid,
        from_number=from_number,
        to_number=to_number,
        body=webhook_body(form["Body"]),
        media_urls=tuple(media),
        raw=form,
    )


def _departure_trace(request: SendRequest) -> dict[str, Any]:
    """httpx's `trace` extension (sends through a proxy), telling `request.departed` when the
    request's body has been written to the connection: the moment it left for Twilio."""
    departed = request.departed
    if departed is None:
        return {}

    def trace(event: str, info: Mapping[str, Any]) -> None:
        if event.endswith(".send_request_body.complete"):
            departed()

    return {"trace": trace}


def _signed_params(request: WebhookRequest) -> Any:
    """The POST fields Twilio signed: from the raw body when we have it, so repeated fields
    and empty values count exactly as Twilio counted them; else the already-parsed form."""
    content_type = request.headers.get("content-type", "")
    if request.body and content_type.startswith("application/x-www-form-urlencoded"):
        text = request.body.decode("utf-8", errors="replace")
        return _MultiForm(parse_qs(text, keep_blank_values=True))
    return dict(request.form)


def _proxy_configured() -> bool:
    return bool({"http", "https", "all"} & set(urllib.request.getproxies()))


def _capabilities(item: Mapping[str, Any]) -> dict[str, bool]:
    """Twilio spells them "SMS"/"MMS" for available numbers and "sms"/"mms" for owned ones."""
    raw = item.get("capabilities")
    if not isinstance(raw, dict):
        return {}
    return {str(key).lower(): bool(value) for key, value in raw.items()}
