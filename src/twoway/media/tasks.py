"""Background jobs of the media app: an inbound MMS's files fetched from its carrier."""

from __future__ import annotations

import logging

from twoway.carriers.base import CarrierError
from twoway.carriers.registry import UnknownCarrier, carrier_for_account
from twoway.jobs.tasks_api import job
from twoway.media.models import MediaStatus, MessageMedia
from twoway.media.rules import INBOUND_MAX_BYTES
from twoway.media.services import media_fetch_failed, media_fetched
from twoway.realtime.events import MessageStatus, event_publish

log = logging.getLogger(__name__)

# Tries before a file is given up on and shown as "could not be fetched".
FETCH_ATTEMPTS = 5


@job(max_attempts=FETCH_ATTEMPTS, retry_base_seconds=5, retry_max_seconds=300)
def media_fetch_job(media_id: int) -> str:
    """Fetch one inbound file with its carrier account's credentials. A transient failure is
    raised for the runner to try again; the last try, or a final refusal, marks it failed."""
    media = MessageMedia.objects.select_related("message").filter(pk=media_id).first()
    if media is None or media.status != MediaStatus.FETCHING:
        return "nothing to fetch"  # its conversation was deleted, or a rerun after success
    media.fetch_attempts += 1
    try:
        carrier = carrier_for_account(media.carrier_account_id, media.carrier)
        fetched = carrier.fetch_media(media.source_url, max_bytes=INBOUND_MAX_BYTES)
    except Exception as exc:
        # A refusal the carrier calls final, or a carrier no longer set up, will not get better;
        # anything else (the network, an adapter's crash) may.
        final = (
            isinstance(exc, UnknownCarrier)
            or (isinstance(exc, CarrierError) and not exc.transient)
            or media.fetch_attempts >= FETCH_ATTEMPTS
        )
        if not final:
            media.save(update_fields=["fetch_attempts"])
            raise
        log.warning("Media %s could not be fetched: %s", media_id, exc)
        media_fetch_failed(media, str(exc))
    else:
        media_fetched(media, fetched.content, fetched.content_type)
    _redraw(media)
    return media.status


def _redraw(media: MessageMedia) -> None:
    """Open threads redraw on a message's status event: the picture (or its failure) shows."""
    message = media.message
    if message.conversation_id is None:
        return
    event_publish(
        MessageStatus(
            organization_id=message.organization_id,
            conversation_id=message.conversation_id,
            message=str(message.uid),
            status=message.status,
        )
    )
