"""The simulated phone network: handsets that receive what Twoway sends and text back.

It plays the carrier's side: it accepts messages (once per idempotency key), reports delivery
a moment later, and turns a handset's reply into an inbound event exactly as a webhook would.

Every organization of the installation shares it. A handset is claimed by the first
organization to text it or to play it (play.py says who may play one); its behaviour
(landline, unreachable) is that organization's test setting, so it shapes only that
organization's texts: another organization's texts to the phone are delivered as to any phone.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from twoway.carriers.base import (
    CarrierError,
    CarrierStatus,
    InboundMessage,
    StatusUpdate,
    VerificationUpdate,
)
from twoway.media.services import CheckedMedia
from twoway.media.signing import media_by_token
from twoway.media.sniffing import EXTENSIONS
from twoway.simulator.models import HandsetBehaviour, SimHandset, SimMessage

SLUG = "simulator"
_OUTCOME: dict[str, tuple[CarrierStatus, str]] = {
    HandsetBehaviour.DELIVER: ("delivered", ""),
    HandsetBehaviour.LANDLINE: ("undelivered", "30006"),
    HandsetBehaviour.UNREACHABLE: ("failed", "30003"),
}


def handset_get(number: str) -> SimHandset:
    handset, _ = SimHandset.objects.get_or_create(number=number)
    return handset


def handset_lock(number: str) -> SimHandset:
    """The handset, its row locked until the transaction ends: claiming it and the traffic
    that decides who may play it are then seen and written one at a time."""
    handset, _ = SimHandset.objects.select_for_update().get_or_create(number=number)
    return handset


def _senders(keys_and_numbers: list[tuple[str | None, str]]) -> list[int | None]:
    """The organization that sent each (idempotency key, business number) text: Twoway's
    message with that id (the key is our message id), else the business number's owner."""
    from twoway.conversations.models import Message
    from twoway.numbers.models import PhoneNumber

    uids = {}
    for key, _ in keys_and_numbers:
        try:
            uids[key] = uuid.UUID(key or "")
        except ValueError:
            continue
    by_uid = dict(
        Message.objects.filter(uid__in=uids.values()).values_list("uid", "organization_id")
    )
    numbers = {n for key, n in keys_and_numbers if not (key in uids and uids[key] in by_uid)}
    by_number = (
        dict(
            PhoneNumber.objects.filter(number__in=numbers, is_system=False).values_list(
                "number", "organization_id"
            )
        )
        if numbers
        else {}
    )
    return [
        by_uid.get(uids[key]) if key in uids and uids[key] in by_uid else by_number.get(number)
        for key, number in keys_and_numbers
    ]


def _kept(content: bytes, content_type: str) -> dict[str, str]:
    name = default_storage.save(
        f"simulator/{uuid.uuid4().hex}{EXTENSIONS.get(content_type, '')}", ContentFile(content)
    )
    return {"name": name, "content_type": content_type}


def _downloaded(url: str) -> dict[str, str]:
    """The file behind a signed media link, copied as a handset downloads it: a link that no
    longer works is refused as a carrier would refuse it."""
    token = urlsplit(url).path.rstrip("/").rpartition("/")[2]
    media = media_by_token(token)
    if media is None:
        raise CarrierError(f"The media link {url} does not work", code="12300", transient=False)
    with default_storage.open(media.storage_name, "rb") as file:
        return _kept(file.read(), media.content_type)


def network_accept(
    *,
    idempotency_key: str,
    from_number: str,
    to_number: str,
    body: str,
    media_urls: tuple[str, ...] = (),
) -> str:
    """Take a message for a handset; the same key twice returns the first message's id."""
    if existing := SimMessage.objects.filter(idempotency_key=idempotency_key).first():
        return str(existing.sid)
    media = [_downloaded(url) for url in media_urls]
    report_at = timezone.now() + dt.timedelta(seconds=settings.SIMULATOR_DELIVERY_DELAY)
    try:
        with transaction.atomic():
            handset = handset_lock(to_number)
            if handset.claimed_by_id is None:
                [sender] = _senders([(idempotency_key, from_number)])
                if sender is not None:
                    SimHandset.objects.filter(pk=handset.pk).update(claimed_by_id=sender)
            message = SimMessage.objects.create(
                handset=handset,
                direction=SimMessage.MT,
                business_number=from_number,
                body=body,
                media=media,
                idempotency_key=idempotency_key,
                report_at=report_at,
            )
    except IntegrityError:
        return str(SimMessage.objects.get(idempotency_key=idempotency_key).sid)
    return str(message.sid)


def network_report_due(limit: int = 200) -> int:
    """Deliver (or fail) accepted messages whose time has come and report it like a carrier."""
    from twoway.carrier_events.store import carrier_event_record

    now = timezone.now()
    due = list(
        SimMessage.objects.select_related("handset")
        .filter(direction=SimMessage.MT, status="accepted", report_at__lte=now)
        .order_by("report_at")[:limit]
    )
    # A behaviour is its claiming organization's setting: look up who sent the few texts to
    # phones set to fail that some organization claimed.
    shaped = [
        m
        for m in due
        if m.handset.behaviour != HandsetBehaviour.DELIVER and m.handset.claimed_by_id is not None
    ]
    senders = dict(
        zip(
            (m.pk for m in shaped),
            _senders([(m.idempotency_key, m.business_number) for m in shaped]),
            strict=True,
        )
    )
    for message in due:
        behaviour = HandsetBehaviour(message.handset.behaviour)
        if message.pk in senders and senders[message.pk] != message.handset.claimed_by_id:
            behaviour = HandsetBehaviour.DELIVER
        status, code = _OUTCOME[behaviour]
        with transaction.atomic():
            updated = SimMessage.objects.filter(pk=message.pk, status="accepted").update(
                status=status, error_code=code
            )
            if updated:
                carrier_event_record(
                    SLUG,
                    StatusUpdate(
                        carrier_message_id=str(message.sid), status=status, error_code=code
                    ),  # type: ignore[arg-type]
                )
    return len(due)


def network_next_report_in() -> float | None:
    upcoming = (
        SimMessage.objects.filter(direction=SimMessage.MT, status="accepted")
        .order_by("report_at")
        .values_list("report_at", flat=True)
        .first()
    )
    if upcoming is None:
        return None
    return max((upcoming - timezone.now()).total_seconds(), 0.0)


# A handset's media link, as the network hands it to Twoway with an inbound MMS.
# (The phone page's own address of the file.)
_MEDIA_PATH = re.compile(r"/simulator/[^/]+/media/(?P<sid>[0-9a-f-]{36})/(?P<index>[0-9]{1,2})/$")


def handset_media_path(handset_number: str, message: SimMessage, index: int) -> str:
    return f"/simulator/{handset_number}/media/{message.sid}/{index}/"


def network_media(url: str) -> tuple[bytes, str] | None:
    """The file a handset sent with an MMS, by the link the network gave Twoway: what the
    carrier's media store answers."""
    match = _MEDIA_PATH.search(urlsplit(url).path)
    if match is None:
        return None
    message = SimMessage.objects.filter(sid=match["sid"], direction=SimMessage.MO).first()
    index = int(match["index"])
    if message is None or index >= len(message.media):
        return None
    item = message.media[index]
    with default_storage.open(item["name"], "rb") as file:
        return file.read(), item["content_type"]


@transaction.atomic
def handset_send(
    *,
    handset_number: str,
    business_number: str,
    body: str,
    played_by_id: int | None = None,
    media: Sequence[CheckedMedia] = (),
) -> SimMessage:
    """The handset texts a business number: the network hands Twoway an inbound event.
    `played_by_id`: the organization whose member played the handset, if one did."""
    from twoway.carrier_events.store import carrier_event_record

    message = SimMessage.objects.create(
        handset=handset_get(handset_number),
        direction=SimMessage.MO,
        business_number=business_number,
        played_by_id=played_by_id,
        body=body,
        media=[_kept(item.content, item.content_type) for item in media],
        status="delivered",
    )
    carrier_event_record(
        SLUG,
        InboundMessage(
            carrier_message_id=str(message.sid),
            from_number=handset_number,
            to_number=business_number,
            body=body,
            media_urls=tuple(
                settings.TWOWAY_PUBLIC_URL + handset_media_path(handset_number, message, index)
                for index in range(len(media))
            ),
        ),
    )
    return message


def network_verification_report(*, number: str, status: str, reason: str = "") -> bool:
    """The simulated carriers finished a step of reviewing `number`: they report it like a
    carrier's verification callback, processed by the worker."""
    from twoway.carrier_events.store import carrier_event_record

    return carrier_event_record(
        SLUG,
        VerificationUpdate(number=number, status=status, reason=reason),  # type: ignore[arg-type]
    )
