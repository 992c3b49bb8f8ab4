"""The built-in carrier: delivers to simulated handsets inside Twoway, no account needed."""

from __future__ import annotations

import re
import time
from functools import cached_property
from importlib import import_module
from typing import Protocol, cast

import phonenumbers

from twoway.carriers.base import (
    AvailableNumber,
    Carrier,
    CarrierError,
    FetchedMedia,
    InboundMessage,
    NumberKind,
    ProvisionedNumber,
    SendRequest,
    SendResult,
    StatusUpdate,
    WebhookRequest,
)

# The simulated network hands out 555 numbers (555-0100 to 555-0199 are the ones reserved for
# fiction, then the rest of 555-xxxx) in any North American area code.
DEFAULT_AREA_CODE = {"US": "415", "CA": "416"}
_AREA_CODE = re.compile(r"^[2-9]\d{2}$")
_SIMULATED_NUMBER = re.compile(r"^\+1[2-9]\d{2}555(?P<line>\d{4})$")
_FIRST_LINE = 100
# How long "no delivery report is coming" is believed without asking the network again: the
# worker asks each time it goes idle, mostly with no simulated text in flight. A text this
# process hands over makes it ask again; one another worker process sent is reported by that
# process, or by this one within this time.
_NOTHING_COMING_SECONDS = 1.0


class SimulatedNetwork(Protocol):
    """What the adapter needs of the simulated network (a module of these functions)."""

    def network_accept(
        self,
        *,
        idempotency_key: str,
        from_number: str,
        to_number: str,
        body: str,
        media_urls: tuple[str, ...] = (),
    ) -> str: ...

    def network_media(self, url: str) -> tuple[bytes, str] | None: ...

    def network_report_due(self) -> int: ...

    def network_next_report_in(self) -> float | None: ...


class SimulatorCarrier(Carrier):
    slug = "simulator"
    name = "Simulator"
    supports_mms = True
    honours_idempotency_key = True
    can_provision_numbers = True
    has_worker_turns = True

    def __init__(self, network: str) -> None:
        # The simulated network lives in Twoway's own database, in the app that hosts it, so
        # this carrier reaches it through a module rather than over HTTP. Settings name that
        # module instead of the adapter importing it: an adapter depends on nothing of Twoway's
        # but the carrier interface, and the network sits in a layer above the adapters.
        self.network_module = network
        # Texts handed over (counted once the network has them), and "no report is coming"
        # as last heard: (texts handed over then, until when it is believed).
        self._handed_over = 0
        self._nothing_coming: tuple[int, float] = (-1, 0.0)

    @cached_property
    def network(self) -> SimulatedNetwork:
        return cast(SimulatedNetwork, import_module(self.network_module))

    def send(self, request: SendRequest) -> SendResult:
        sid = self.network.network_accept(
            idempotency_key=request.idempotency_key,
            from_number=request.from_number,
            to_number=request.to_number,
            body=request.body,
            media_urls=request.media_urls,
        )
        self._handed_over += 1  # its report is coming: forget any "nothing coming"
        return SendResult(carrier_message_id=sid, status="sent")

    def fetch_media(self, url: str, *, max_bytes: int) -> FetchedMedia:
        found = self.network.network_media(url)
        if found is None:
            raise CarrierError("The simulated phone's picture is gone", transient=False)
        content, content_type = found
        if len(content) > max_bytes:
            raise CarrierError(f"The media is larger than {max_bytes:,} bytes", transient=False)
        return FetchedMedia(content=content, content_type=content_type)

    def worker_turn(self) -> int:
        return self.network.network_report_due()

    def worker_next_turn_in(self) -> float | None:
        # Counted before asking: a text handed over while the network answers is not missed.
        handed_over, now = self._handed_over, time.monotonic()
        if self._nothing_coming[0] == handed_over and now < self._nothing_coming[1]:
            return None
        wait = self.network.network_next_report_in()
        if wait is None:
            self._nothing_coming = (handed_over, now + _NOTHING_COMING_SECONDS)
        return wait

    def verify_signature(self, request: WebhookRequest) -> bool:
        # Simulated handsets hand their events straight to Twoway; no outside webhook is real.
        return False

    def parse_webhook(self, request: WebhookRequest) -> InboundMessage | StatusUpdate | None:
        return None

    # The simulator's inventory is every 555 number; which ones Twoway already holds is in
    # Twoway's database, so the numbers service leaves those out, not this adapter.

    def available_numbers(
        self, country: str, area_code: str | None, limit: int
    ) -> list[AvailableNumber]:
        country = (country or "").upper()
        if country not in DEFAULT_AREA_CODE:
            raise CarrierError(
                "The simulator has numbers in the US and Canada only.",
                code="21452",
                transient=False,
            )
        area = (area_code or "").strip() or DEFAULT_AREA_CODE[country]
        if not _AREA_CODE.match(area):
            raise CarrierError(
                f"{area!r} is not an area code: use three digits such as 415.",
                code="21452",
                transient=False,
            )
        first = f"+1{area}555{_FIRST_LINE:04d}"
        if _region(first) != country:
            raise CarrierError(
                f"The simulator has no numbers in area code {area} in {country}.",
                code="21452",
                transient=False,
            )
        kind = _kind(first)
        count = max(0, min(limit, 10000 - _FIRST_LINE))
        return [
            AvailableNumber(
                number=f"+1{area}555{line:04d}", number_type=kind, locality=f"Simulated ({area})"
            )
            for line in range(_FIRST_LINE, _FIRST_LINE + count)
        ]

    def provision_number(self, number: str, *, sms_url: str | None = None) -> ProvisionedNumber:
        match = _SIMULATED_NUMBER.match(number)
        if match is None or int(match["line"]) < _FIRST_LINE or _region(number) is None:
            raise CarrierError(
                f"{number} is not a number of the simulated network.",
                code="21422",
                transient=False,
            )
        return ProvisionedNumber(
            number=number, number_type=_kind(number), carrier_number_id=f"SIM{number[1:]}"
        )


def _region(e164: str) -> str | None:
    parsed = phonenumbers.parse(e164, None)
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.region_code_for_number(parsed)


def _kind(e164: str) -> NumberKind:
    parsed = phonenumbers.parse(e164, None)
    if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.TOLL_FREE:
        return "toll_free"
    return "local"
