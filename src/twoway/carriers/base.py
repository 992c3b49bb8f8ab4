"""The one interface every carrier adapter implements.

Adapters translate between a carrier's wire format and these dataclasses. They never touch
Twoway's database: the webhook views and the dispatcher do that with what adapters return.
"""

from __future__ import annotations

import abc
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
    """The carriers' review of one of our numbers moved on (C1)."""

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


class Carrier(abc.ABC):
    """A carrier plugin. Subclasses set the class attributes and implement the methods."""

    slug: ClassVar[str]
    name: ClassVar[str]
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
