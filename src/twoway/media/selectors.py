"""Reads of message media."""

from __future__ import annotations

from collections.abc import Iterable

from twoway.media.models import MediaStatus, MessageMedia
from twoway.media.signing import media_public_url


def media_links_for_carrier(message_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """Signed links to each message's media, in order, by message id: what a send hands its
    carrier. Signed now, so a retried send carries links as fresh as its own try."""
    links: dict[int, list[str]] = {}
    rows = MessageMedia.objects.filter(
        message_id__in=list(message_ids), status=MediaStatus.READY
    ).order_by("message_id", "position")
    for media in rows.only("uid", "message_id"):
        links.setdefault(media.message_id, []).append(media_public_url(media))
    return {message_id: tuple(urls) for message_id, urls in links.items()}
