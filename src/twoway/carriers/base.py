"""The one interface every carrier adapter implements.

Adapters translate between a carrier's wire format and these dataclasses. They never touch
Twoway's database: the webhook views and the dispatcher do that with what adapters return.
"""

from __future__ import annotations

import abc
import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

# Delivery statuses a carrier can report back, in our vocabulary.
CarrierStatus = Literal["queued", "sending", "sent", "delivered", "undelivered", "failed"]


@dataclass(frozen=True)
class SendRequest:
    """One outbound message, as handed to a carrier."""

    idempotency_key: str  # our message id; carriers that support it dedupe on it
    from_number: str  # E.164 (or a short code)
    to_number: str  # E.164
    body: str
    status_callback_url: str | None = None
    media_urls: tuple[str, ...] = ()
    # Called once the request has left for the carrier (its bytes written), by adapters that
    # `reports_departure`: the worker paces a number's next send from that moment.
    departed: Callable[[], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SendResult:
    """The carrier accepted the message."""

    carrier_message_id: str
    status: CarrierStatus = "sent"


class CarrierError(Exception):
    """A send the carrier did not accept.

    `transient` errors (network trouble, timeouts, 429, 5xx) are retried later; the others are
    final and the message is marked failed with `code`.
    """

    def __init__(self, message: str, *, code: str = "", transient: bool) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient


@dataclass(frozen=True)
class InboundMessage:
    """A message a handset sent to one of our numbers."""

    carrier_message_id: str
    from_number: str
    to_number: str
    body: str
    media_urls: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery report for a message we sent."""

    carrier_message_id: str
    status: CarrierStatus
    error_code: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


# Verification states a carrier can report for a number, in our vocabulary.
VerificationStatus = Literal["pending", "in_review", "verified", "rejected"]


@dataclass(frozen=True)
class VerificationUpdate:
    """The carriers' review of one of our numbers moved on."""

    number: str  # E.164
    status: VerificationStatus
    reason: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


CarrierEventData = InboundMessage | StatusUpdate | VerificationUpdate


@dataclass(frozen=True)
class WebhookRequest:
    """What a webhook view hands an adapter: enough to verify and parse, nothing Django."""

    url: str  # the full URL the carrier called, as it signed it
    method: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    form: Mapping[str, str]  # parsed application/x-www-form-urlencoded body, if any


class WebhookParseError(ValueError):
    """The webhook body is not something this carrier sends (answered 400)."""


# --- What a webhook may carry: the same rules for every adapter ------------------------------

# The longest text a carrier delivers (concatenated SMS): a longer body is not from a carrier.
INBOUND_BODY_MAX_LENGTH = 1600
# The longest carrier message id Twoway stores (Message.carrier_message_id).
CARRIER_ID_MAX_LENGTH = 64
# Media a carrier attaches to one message at most (MMS: Twilio's limit is 10).
MEDIA_MAX_COUNT = 10
# A sender is a phone number (E.164: at most 15 digits), a short code (3 to 8 digits) or an
# alphanumeric sender id (at most 11 letters, digits and spaces, with a letter in it).
_PHONE_NUMBER = re.compile(r"\+?[0-9]{7,15}")
_PHONE_PUNCTUATION = re.compile(r"[ ().-]")
_SHORT_CODE = re.compile(r"[0-9]{3,8}")
_ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
_COUNT = re.compile(r"[0-9]{1,4}")


def json_object(raw: bytes) -> dict[str, Any]:
    """A carrier's JSON answer or webhook as an object; {} when it is not JSON or not an object,
    so a caller reads missing keys instead of catching decoding errors."""
    try:
        payload = json.loads(raw)
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def without_nul(text: str) -> str:
    """A carrier's text without NUL characters, which PostgreSQL cannot store (text, jsonb).

    Text from carriers is kept with them removed rather than refused: a carrier cannot be asked
    to fix a client's text, and a refused inbound text is lost (docs/decisions.md)."""
    return text.replace("\x00", "")


def webhook_address(value: str, what: str) -> str:
    """A sender or recipient as a carrier sends it: a phone number, a short code or an
    alphanumeric sender id; anything else is refused (WebhookParseError)."""
    value = without_nul(value).strip()
    if (
        (_PHONE_NUMBER.fullmatch(_PHONE_PUNCTUATION.sub("", value)) and len(value) <= 20)
        or _SHORT_CODE.fullmatch(value)
        or _ALPHANUMERIC_SENDER.fullmatch(value)
    ):
        return value
    shown = value if len(value) <= 40 else value[:40] + "…"
    raise WebhookParseError(
        f"{what} {shown!r} is not a phone number, a short code (3 to 8 digits) or an "
        "alphanumeric sender (at most 11 letters and digits)"
    )


def webhook_body(value: str) -> str:
    """A text's body as a carrier delivers it: at most INBOUND_BODY_MAX_LENGTH characters."""
    value = without_nul(value)
    if len(value) > INBOUND_BODY_MAX_LENGTH:
        raise WebhookParseError(
            f"the body is {len(value):,} characters long; carriers deliver at most "
            f"{INBOUND_BODY_MAX_LENGTH:,}"
        )
    return value


def webhook_id(value: str, what: str, *, max_length: int = CARRIER_ID_MAX_LENGTH) -> str:
    value = without_nul(value).strip()
    if len(value) > max_length:
        raise WebhookParseError(f"{what} is {len(value)} characters long; at most {max_length}")
    return value


def webhook_count(value: str, what: str, *, most: int) -> int:
    """A count field (e.g. how many media): digits only, from 0 to `most`."""
    value = value.strip()
    if not _COUNT.fullmatch(value) or int(value) > most:
        raise WebhookParseError(f"{what} must be a whole number from 0 to {most}, not {value!r}")
    return int(value)


def event_without_nul(event: CarrierEventData) -> CarrierEventData:
    """`event` with NUL characters removed from every string in it, `raw` included (keys and
    values): what every event is stored as, whichever adapter or handset made it."""
    changes: dict[str, Any] = {}
    for item in dataclasses.fields(event):
        value = getattr(event, item.name)
        if isinstance(value, str) and "\x00" in value:
            changes[item.name] = without_nul(value)
        elif isinstance(value, tuple) and any("\x00" in part for part in value):
            changes[item.name] = tuple(without_nul(part) for part in value)
    raw = event.raw
    if any("\x00" in key or (isinstance(v, str) and "\x00" in v) for key, v in raw.items()):
        changes["raw"] = {
            without_nul(key): without_nul(v) if isinstance(v, str) else v for key, v in raw.items()
        }
    return dataclasses.replace(event, **changes) if changes else event


@dataclass(frozen=True)
class FetchedMedia:
    """The file of an inbound MMS, as the carrier handed it over."""

    content: bytes
    content_type: str  # what the carrier says it is (checked again against the content)


# Kinds of number a carrier offers, in our vocabulary (the values of numbers.NumberType).
NumberKind = Literal["local", "toll_free", "short_code"]


@dataclass(frozen=True)
class AvailableNumber:
    """A number the carrier offers and would provision for us."""

    number: str  # E.164
    number_type: NumberKind = "local"
    sms: bool = True
    mms: bool = False
    locality: str = ""  # the carrier's "San Francisco, CA", when it says


@dataclass(frozen=True)
class ProvisionedNumber:
    """A number the carrier now holds for our account."""

    number: str  # E.164
    number_type: NumberKind = "local"
    sms: bool = True
    mms: bool = False
    carrier_number_id: str = ""  # the carrier's id for it (Twilio's PN... sid)


@dataclass(frozen=True)
class CredentialField:
    """One setting of a carrier account that an administrator enters: an argument of the
    adapter's constructor, stored encrypted and never shown back in full."""

    name: str  # the constructor's argument
    label: str
    pattern: str = ""  # a regular expression the whole value matches, when it has a known shape
    shape: str = ""  # that shape in words, for a refusal ("AC and 32 hexadecimal digits")
    secret: bool = True  # typed into a password field


class Carrier(abc.ABC):
    """A carrier plugin. Subclasses set the class attributes and implement the methods."""

    slug: ClassVar[str]
    name: ClassVar[str]
    # What an account of this carrier is made of (Twilio: account SID, auth token): a carrier
    # that declares none (the simulator) has no accounts, only its settings' configuration.
    credential_fields: ClassVar[tuple[CredentialField, ...]] = ()
    supports_mms: ClassVar[bool] = False
    # Whether `send` passes our idempotency key to a carrier that honours it, so that a resend
    # after a crash never reaches the handset twice.
    honours_idempotency_key: ClassVar[bool] = False
    # Whether `send` calls `request.departed` when the request has really left (for the others
    # the start of `send` counts as the departure). Under load a request can leave some
    # milliseconds after `send` starts, and pacing from the start would bring the number's next
    # send that much closer to it at the carrier.
    reports_departure: ClassVar[bool] = False

    @abc.abstractmethod
    def send(self, request: SendRequest) -> SendResult:
        """Hand one message to the carrier; raise CarrierError when it is not accepted."""

    @abc.abstractmethod
    def verify_signature(self, request: WebhookRequest) -> bool:
        """True when the webhook really comes from the carrier (constant-time comparison)."""

    @abc.abstractmethod
    def parse_webhook(self, request: WebhookRequest) -> CarrierEventData | None:
        """Turn a verified webhook into an event; None for event types we do not handle.

        Raises WebhookParseError for a body that is malformed.
        """

    def webhook_response(self, event: CarrierEventData | None) -> tuple[str, str]:
        """Body and content type the carrier expects in answer to a webhook."""
        return "", "text/plain"

    def fetch_media(self, url: str, *, max_bytes: int) -> FetchedMedia:
        """The file at `url`, a media link of one of this carrier's inbound messages, fetched
        with this account's credentials; CarrierError when it cannot be (transient: try again
        later), also for a file larger than `max_bytes`."""
        raise CarrierError(f"{self.name} does not deliver pictures or videos", transient=False)

    # --- Work of its own in the worker (optional) ---------------------------------------------
    # A carrier that plays the network's side inside Twoway (the simulator: delivery reports that
    # fall due a moment after a send) sets `has_worker_turns`; the worker then gives it a turn
    # between sends and wakes for it in time.
    has_worker_turns: ClassVar[bool] = False

    def worker_turn(self) -> int:
        """Do what is due now; returns how many things were done (more may be due at once)."""
        return 0

    def worker_next_turn_in(self) -> float | None:
        """Seconds until something falls due, or None when nothing is waiting."""
        return None

    # --- Number inventory (optional) ----------------------------------------------------------
    # Carriers that sell numbers over their API set `can_provision_numbers` and implement both
    # methods; both raise CarrierError when the carrier refuses or cannot be reached.
    can_provision_numbers: ClassVar[bool] = False

    def available_numbers(
        self, country: str, area_code: str | None, limit: int
    ) -> list[AvailableNumber]:
        """Up to `limit` numbers the carrier offers in `country` (ISO code), in `area_code` when
        given, that can send SMS."""
        raise NotImplementedError(f"{self.name} cannot list numbers to buy")

    def provision_number(self, number: str, *, sms_url: str | None = None) -> ProvisionedNumber:
        """Take `number` (one `available_numbers` offered) for our account; `sms_url` is where
        the carrier should send its incoming messages, when it asks for one."""
        raise NotImplementedError(f"{self.name} cannot provision numbers")
