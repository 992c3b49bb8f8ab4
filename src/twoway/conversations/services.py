"""Conversation writes: creation and the folder transitions."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from twoway.accounts.models import Membership, Team
from twoway.accounts.names import person_name
from twoway.contacts.models import Contact
from twoway.contacts.services.activity import contact_activity_record
from twoway.conversations.models import Conversation, Direction, Folder, Kind, Message
from twoway.conversations.tasks import deleted_texts_forget
from twoway.core.errors import InvalidInput
from twoway.core.text import NUL_MESSAGE, has_nul
from twoway.numbers.access import members_who_see, teams_who_see
from twoway.numbers.models import PhoneNumber
from twoway.realtime.events import (
    ConversationDeleted,
    ConversationUpdated,
    MessageCreated,
    event_publish,
    preview_of,
    realtime_events_forget,
)


def conversation_get_or_create(
    *, phone_number: PhoneNumber, contact: Contact, contact_number: str
) -> tuple[Conversation, bool]:
    assert phone_number.organization_id is not None, "system numbers hold no conversations"
    lookup = {"phone_number": phone_number, "contact_number": contact_number}
    if found := Conversation.objects.filter(**lookup).first():
        return found, False
    try:
        with transaction.atomic():
            return Conversation.objects.create(
                organization_id=phone_number.organization_id, contact=contact, **lookup
            ), True
    except IntegrityError:
        return Conversation.objects.get(**lookup), False


def conversation_preview(message: Message) -> str:
    """The line the inbox shows for a conversation's last message."""
    return body_preview(message.body)


def body_preview(body: str) -> str:
    """`conversation_preview` of a message not loaded as a model (batches of inbound texts)."""
    return body[:160]


def conversation_record_inbound(
    *, conversation: Conversation, message: Message, attention: bool = True
) -> None:
    """The contact wrote: Needs attention (see `inbound_folder`), one more unread, even out of
    the archive. A text Twoway answers by itself (STOP, HELP) needs no one (`attention` False):
    it shows in the thread and the preview, and folder and unread count stay as they were."""
    moves: dict[str, Any] = (
        {"folder": inbound_folder(conversation.phone_number), "unread_count": F("unread_count") + 1}
        if attention
        else {}
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        **moves,
        last_message_at=message.created_at,
        last_message_preview=conversation_preview(message),
    )
    contact_activity_record(conversation.contact_id, message.created_at)
    conversation.refresh_from_db()
    _publish_conversation(conversation)


def inbound_folder(phone_number: PhoneNumber) -> str:
    """Where a text from the contact puts the conversation: Needs attention, or Participating on
    a virtual-assistant-backed number (the assistant holds it until it hands it over)."""
    from twoway.numbers.models import RoutingMode

    assistant = phone_number.routing_mode == RoutingMode.ASSISTANT
    return Folder.PARTICIPATING if assistant else Folder.NEEDS_ATTENTION


def message_created(message: Message, *, contact: str, muted: bool) -> MessageCreated:
    """The `message.created` event of a stored message or note; `contact` is how the thread
    names the contact (their name, or their number)."""
    return MessageCreated(
        organization_id=message.organization_id,
        conversation_id=message.conversation_id,
        message=str(message.uid),
        direction=str(message.direction),
        note=message.kind == Kind.NOTE,
        status=str(message.status),
        preview=preview_of(message.body),
        contact=contact,
        muted=muted,
    )


def conversation_record_outbound(
    *, conversation: Conversation, message: Message, answers: bool = True
) -> None:
    """We wrote. A person's message (`answers`) moves it to Participating and clears unread;
    an automatic one (a STOP confirmation) only updates the preview."""
    fields: dict[str, object] = {
        "last_message_at": message.created_at,
        "last_message_preview": conversation_preview(message),
    }
    if answers:
        fields.update(folder=Folder.PARTICIPATING, unread_count=0)
    Conversation.objects.filter(pk=conversation.pk).update(**fields)
    contact_activity_record(conversation.contact_id, message.created_at)
    conversation.refresh_from_db()
    _publish_conversation(conversation)


def _publish_conversation(conversation: Conversation) -> None:
    event_publish(
        ConversationUpdated(
            organization_id=conversation.organization_id,
            conversation_id=conversation.pk,
            folder=conversation.folder,
            unread_count=conversation.unread_count,
        )
    )


@transaction.atomic
def note_add(
    *, conversation: Conversation, body: str, author_id: int | None, label: str = ""
) -> Message:
    """A note in the thread: shown to agents, never sent to the contact."""
    from twoway.core.errors import InvalidInput

    body = body.strip()
    if not body:
        raise InvalidInput("A note needs some text.", code="empty_body")
    if has_nul(body):
        raise InvalidInput(NUL_MESSAGE, code="null_character")
    if len(body) > 5000:
        raise InvalidInput("A note can be at most 5,000 characters.", code="too_long")
    note = Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        direction="out",
        kind=Kind.NOTE,
        body=body,
        status="",
        sent_by_id=author_id,
        sent_by_label=label,
    )
    contact = conversation.contact.name or conversation.contact_number
    event_publish(message_created(note, contact=contact, muted=conversation.muted))
    return note


# --- Actions on one conversation -------------------------------------------------------------
# Each locks the row so a concurrent inbound message (which moves folders too) is applied
# before or after it, never half-way, and publishes the change for the other open inboxes.


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _save_and_publish(conversation: Conversation, fields: list[str]) -> Conversation:
    conversation.save(update_fields=fields)
    _publish_conversation(conversation)
    return conversation


@transaction.atomic
def conversation_archive(*, conversation: Conversation) -> Conversation:
    """Out of the active folders; history kept. The next message either way brings it back."""
    locked = _locked(conversation)
    locked.folder = Folder.ARCHIVED
    return _save_and_publish(locked, ["folder"])


@transaction.atomic
def conversation_unarchive(*, conversation: Conversation) -> Conversation:
    """Back where it would be had it never been archived: Needs attention while the contact's
    last words are unanswered, Participating otherwise."""
    locked = _locked(conversation)
    if locked.folder == Folder.ARCHIVED:
        locked.folder = Folder.NEEDS_ATTENTION if locked.unread_count else Folder.PARTICIPATING
    return _save_and_publish(locked, ["folder"])


@transaction.atomic
def conversation_mark_read(*, conversation: Conversation) -> Conversation:
    """The unread count cleared; the folder stays (a conversation whose last words are the
    contact's still needs an answer)."""
    locked = _locked(conversation)
    locked.unread_count = 0
    return _save_and_publish(locked, ["unread_count"])


@transaction.atomic
def conversation_mark_unread(*, conversation: Conversation) -> Conversation:
    """Back to Needs attention with the count of the contact's messages since our last reply
    (at least one, so the badge shows even when the last word was ours)."""
    locked = _locked(conversation)
    messages = Message.objects.filter(conversation=locked, kind=Kind.MESSAGE)
    last_reply = (
        messages.filter(direction=Direction.OUTBOUND, sent_by__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    inbound = messages.filter(direction=Direction.INBOUND)
    if last_reply is not None:
        inbound = inbound.filter(created_at__gt=last_reply)
    locked.folder = Folder.NEEDS_ATTENTION
    locked.unread_count = max(inbound.count(), 1)
    return _save_and_publish(locked, ["folder", "unread_count"])


@transaction.atomic
def conversation_set_muted(*, conversation: Conversation, muted: bool) -> Conversation:
    """Muted: no alerts for the contact's new messages until unmuted; folders move as usual."""
    locked = _locked(conversation)
    locked.muted = muted
    return _save_and_publish(locked, ["muted"])


@transaction.atomic
def conversation_delete(*, conversation: Conversation) -> None:
    """Delete the conversation and every message and note in it, for good.

    The consent and balance ledgers keep their entries (their link to the message is cleared),
    as an audit trail must outlive the thread. The contact stays.
    """
    organization_id, conversation_id = conversation.organization_id, conversation.pk
    Message.objects.filter(conversation_id=conversation_id).delete()
    Conversation.objects.filter(pk=conversation_id).delete()
    # The live events of its messages carry their texts (previews): gone with them.
    realtime_events_forget(organization_id=organization_id, conversation_id=conversation_id)
    if connection.vendor == "sqlite":
        transaction.on_commit(deleted_texts_forget.enqueue)
    event_publish(
        ConversationDeleted(organization_id=organization_id, conversation_id=conversation_id)
    )


def _person(user: Any) -> str:
    return person_name(user)


def _assignee_label(conversation: Conversation) -> str:
    if conversation.assignee_id is not None:
        return _person(conversation.assignee)
    if conversation.assignee_team_id is not None:
        assert conversation.assignee_team is not None
        return f"the team {conversation.assignee_team.name}"
    return ""


@transaction.atomic
def conversation_assign(
    *,
    conversation: Conversation,
    actor: Membership,
    user_id: int | None = None,
    team_id: int | None = None,
) -> Conversation:
    """Assign to one person (`user_id`) or one team (`team_id`), or unassign (neither).

    The assignee must see the conversation: an active member who may use its number, or a team
    the number is open to. The change is written in the thread as a note, so the history says
    who handed it to whom.
    """
    if user_id is not None and team_id is not None:
        raise InvalidInput(
            "Assign the conversation to a person or to a team, not both.", code="two_assignees"
        )
    locked = _locked(conversation)
    if (locked.assignee_id, locked.assignee_team_id) == (user_id, team_id):
        # Nothing changes, even for an assignee who has since lost access: pressing Assign
        # on what the menu shows never moves the conversation.
        return locked
    number = locked.phone_number
    user: Any = None
    team: Team | None = None
    if user_id is not None:
        member = (
            Membership.objects.filter(organization_id=locked.organization_id, user_id=user_id)
            .select_related("user")
            .first()
        )
        if member is None:
            raise InvalidInput(
                "That person is not a member of your organization.", code="assignee_not_member"
            )
        user = member.user
        if not user.is_active:
            raise InvalidInput(
                f"{_person(user)} is deactivated and cannot be assigned conversations.",
                code="assignee_inactive",
            )
        if not members_who_see(number).filter(pk=member.pk).exists():
            raise InvalidInput(
                f"{_person(user)} cannot use {number.display}, so cannot see this conversation. "
                "Give them access in the number's inbox settings first.",
                code="assignee_no_access",
            )
    elif team_id is not None:
        team = Team.objects.filter(organization_id=locked.organization_id, pk=team_id).first()
        if team is None:
            raise InvalidInput(
                "That team is not one of your organization's.", code="team_not_found"
            )
        if not teams_who_see(number).filter(pk=team.pk).exists():
            raise InvalidInput(
                f"The team {team.name} cannot use {number.display}, so cannot see this "
                "conversation. Open the number to the team in its inbox settings first.",
                code="team_no_access",
            )
    previous = _assignee_label(locked)
    locked.assignee, locked.assignee_team = user, team
    by = _person(actor.user)
    if user is not None or team is not None:
        body = f"{by} assigned this conversation to {_assignee_label(locked)}"
        body += f" (was {previous})." if previous else "."
    else:
        body = f"{by} unassigned this conversation (was {previous})."
    _save_and_publish(locked, ["assignee", "assignee_team"])
    note_add(conversation=locked, body=body, author_id=actor.user_id, label="assignment")
    return locked
