"""Who may see a message's media: whoever may see its conversation."""

from __future__ import annotations

from twoway.accounts.models import Membership
from twoway.conversations.access import access_conversation
from twoway.core.errors import NotFound
from twoway.media.models import MediaStatus, MessageMedia


def access_media(membership: Membership, media_id: int) -> MessageMedia:
    media = (
        MessageMedia.objects.select_related("message")
        .filter(pk=media_id, organization_id=membership.organization_id, status=MediaStatus.READY)
        .first()
    )
    if media is None or media.message.conversation_id is None:
        raise NotFound("That picture or video does not exist.")
    access_conversation(membership, media.message.conversation_id)
    return media
