"""Conversation reads, always through what a member may see."""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet

from twoway.accounts.access import conversations_visible_to
from twoway.accounts.models import Membership
from twoway.conversations.models import Conversation, Folder, Message


def inbox_conversations(
    membership: Membership, folder: str, limit: int = 100
) -> list[Conversation]:
    return list(
        conversations_visible_to(membership)
        .filter(folder=folder)
        .select_related("contact", "phone_number")
        .order_by("-last_message_at", "-id")[:limit]
    )


def folder_counts(membership: Membership) -> dict[str, int]:
    """Conversations per folder, for the tabs."""
    counts = conversations_visible_to(membership).aggregate(
        **{folder: Count("id", filter=Q(folder=folder)) for folder in Folder.values}
    )
    return {folder: counts[folder] or 0 for folder in Folder.values}


def thread_messages(conversation: Conversation, limit: int = 200) -> list[Message]:
    """The newest `limit` messages and notes, oldest first."""
    newest = list(
        Message.objects.filter(conversation=conversation)
        .select_related("sent_by")
        .order_by("-created_at", "-id")[:limit]
    )
    newest.reverse()
    return newest


def messages_for_api(conversation: Conversation) -> QuerySet[Message]:
    return Message.objects.filter(conversation=conversation).order_by("created_at", "id")


def conversations_for_api(membership: Membership, folder: str | None) -> QuerySet[Conversation]:
    """What the member sees, newest activity first; conversations without a message go last."""
    conversations = conversations_visible_to(membership)
    if folder:
        conversations = conversations.filter(folder=folder)
    return conversations.order_by(F("last_message_at").desc(nulls_last=True), "-id")
