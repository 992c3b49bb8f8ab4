"""Conversations, their threads (messages and notes) and adding notes.

No `from __future__ import annotations` here: @paginate wraps the views, and ninja resolves
string annotations in the wrapper's module (ninja.pagination), where `Folder` does not exist.
"""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from twoway.api.access import org_conversation, org_conversations
from twoway.api.auth import request_organization
from twoway.api.pagination import Pagination
from twoway.api.schemas import ERROR_RESPONSES, ConversationOut, MessageOut, NoteIn
from twoway.conversations.models import Conversation, Folder, Message
from twoway.conversations.selectors import messages_for_api
from twoway.conversations.services import note_add

# by_alias: MessageOut writes its `from_` field as "from".
router = Router(tags=["conversations"], by_alias=True)


@router.get(
    "",
    response={200: list[ConversationOut], **ERROR_RESPONSES},
    operation_id="conversation_list",
)
@paginate(Pagination)
def list_conversations(
    request: HttpRequest, folder: Folder | None = None
) -> QuerySet[Conversation]:
    """Conversations, most recent activity first; `folder` narrows to one inbox folder."""
    return org_conversations(request_organization(request), folder)


@router.get(
    "/{conversation_id}/messages",
    response={200: list[MessageOut], **ERROR_RESPONSES},
    operation_id="conversation_messages",
)
@paginate(Pagination)
def list_messages(request: HttpRequest, conversation_id: int) -> QuerySet[Message]:
    """The thread, oldest first: messages both ways and notes (`kind` "note")."""
    conversation = org_conversation(request_organization(request), conversation_id)
    return messages_for_api(conversation)


@router.post(
    "/{conversation_id}/notes",
    response={201: MessageOut, **ERROR_RESPONSES},
    operation_id="conversation_note_add",
)
def add_note(request: HttpRequest, conversation_id: int, payload: NoteIn) -> Status[Message]:
    """A note for the team in the thread; it is never sent to the contact."""
    conversation = org_conversation(request_organization(request), conversation_id)
    note = note_add(conversation=conversation, body=payload.body, author_id=None, label="api")
    return Status(201, note)
