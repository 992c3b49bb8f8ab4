"""Conversations: list, read, their threads (messages and notes), notes, the folder actions,
assignment, delete and export.

Every operation checks the key owner's access through `conversations.access`, as the inbox does.

No `from __future__ import annotations` here: @paginate wraps the views, and ninja resolves
string annotations in the wrapper's module (ninja.pagination), where `Folder` does not exist.
"""

import datetime
from typing import Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import model_validator

from twoway.api.auth import request_membership
from twoway.api.pagination import Pagination
from twoway.api.schemas import ERROR_RESPONSES, AssignIn, ConversationOut, MessageOut, NoteIn
from twoway.carrier_events.erasure import conversation_erase
from twoway.conversations.access import (
    access_conversation,
    access_conversation_assign,
    access_conversation_delete,
    access_conversation_export,
)
from twoway.conversations.export import MAX_EXPORT_DAYS, conversation_export
from twoway.conversations.models import Conversation, Folder, Message
from twoway.conversations.selectors import (
    ASSIGNEE_FILTER,
    conversations_for_api,
    messages_for_api,
)
from twoway.conversations.services import (
    conversation_archive,
    conversation_assign,
    conversation_mark_unread,
    conversation_set_muted,
    conversation_unarchive,
    note_add,
)

# by_alias: MessageOut writes its `from_` field as "from".
router = Router(tags=["conversations"], by_alias=True)


@router.get(
    "",
    response={200: list[ConversationOut], **ERROR_RESPONSES},
    operation_id="conversation_list",
)
@paginate(Pagination)
def list_conversations(
    request: HttpRequest,
    folder: Folder | None = None,
    assignee: str | None = Query(
        None,
        pattern=ASSIGNEE_FILTER.pattern,
        description=(
            "`me` (the key's owner or a team they belong to), `none` (unassigned), "
            "`user:<user id>` or `team:<team id>`."
        ),
    ),
) -> QuerySet[Conversation]:
    """Conversations on the numbers the key's owner may use, most recent activity first;
    `folder` narrows to one inbox folder, `assignee` to whom they are assigned."""
    return conversations_for_api(request_membership(request), folder, assignee)


@router.get(
    "/{conversation_id}",
    response={200: ConversationOut, **ERROR_RESPONSES},
    operation_id="conversation_get",
)
def get_conversation(request: HttpRequest, conversation_id: int) -> Conversation:
    return access_conversation(request_membership(request), conversation_id)


@router.get(
    "/{conversation_id}/messages",
    response={200: list[MessageOut], **ERROR_RESPONSES},
    operation_id="conversation_messages",
)
@paginate(Pagination)
def list_messages(request: HttpRequest, conversation_id: int) -> QuerySet[Message]:
    """The thread, oldest first: messages both ways and notes (`kind` "note")."""
    conversation = access_conversation(request_membership(request), conversation_id)
    return messages_for_api(conversation)


@router.post(
    "/{conversation_id}/notes",
    response={201: MessageOut, **ERROR_RESPONSES},
    operation_id="conversation_note_add",
)
def add_note(request: HttpRequest, conversation_id: int, payload: NoteIn) -> Status[Message]:
    """A note for the team in the thread; it is never sent to the contact."""
    membership = request_membership(request)
    conversation = access_conversation(membership, conversation_id)
    note = note_add(
        conversation=conversation, body=payload.body, author_id=membership.user_id, label="api"
    )
    return Status(201, note)


def _action(operation_id: str, path: str, summary: str):  # type: ignore[no-untyped-def]
    return router.post(
        f"/{{conversation_id}}/{path}",
        response={200: ConversationOut, **ERROR_RESPONSES},
        operation_id=operation_id,
        summary=summary,
    )


@_action("conversation_archive", "archive", "Archive")
def archive(request: HttpRequest, conversation_id: int) -> Conversation:
    """Hide it from the active folders, history kept; the next message brings it back."""
    conversation = access_conversation(request_membership(request), conversation_id)
    return conversation_archive(conversation=conversation)


@_action("conversation_unarchive", "unarchive", "Unarchive")
def unarchive(request: HttpRequest, conversation_id: int) -> Conversation:
    """Back to Needs attention if the contact's last words are unanswered, else Participating."""
    conversation = access_conversation(request_membership(request), conversation_id)
    return conversation_unarchive(conversation=conversation)


@_action("conversation_mark_unread", "unread", "Mark as unread")
def mark_unread(request: HttpRequest, conversation_id: int) -> Conversation:
    """Back to Needs attention with the unread count (at least 1)."""
    conversation = access_conversation(request_membership(request), conversation_id)
    return conversation_mark_unread(conversation=conversation)


@_action("conversation_mute", "mute", "Mute")
def mute(request: HttpRequest, conversation_id: int) -> Conversation:
    """No alerts for the contact's new messages until unmuted."""
    conversation = access_conversation(request_membership(request), conversation_id)
    return conversation_set_muted(conversation=conversation, muted=True)


@_action("conversation_unmute", "unmute", "Unmute")
def unmute(request: HttpRequest, conversation_id: int) -> Conversation:
    conversation = access_conversation(request_membership(request), conversation_id)
    return conversation_set_muted(conversation=conversation, muted=False)


@router.post(
    "/{conversation_id}/assignee",
    response={200: ConversationOut, **ERROR_RESPONSES},
    operation_id="conversation_assign",
    summary="Assign or unassign",
)
def assign(request: HttpRequest, conversation_id: int, payload: AssignIn) -> Conversation:
    """Assign to a person (`user_id`) or a team (`team_id`), not both (400 `two_assignees`),
    or unassign with `{}` (or both null). Any other body, an unknown key included, is a 422. The
    assignee must be able to see the conversation (400 otherwise); Limited users may not assign
    (403). The change is recorded as a note in the thread."""
    membership = request_membership(request)
    conversation = access_conversation_assign(membership, conversation_id)
    return conversation_assign(
        conversation=conversation,
        actor=membership,
        user_id=payload.user_id,
        team_id=payload.team_id,
    )


@router.delete(
    "/{conversation_id}",
    response={204: None, **ERROR_RESPONSES},
    operation_id="conversation_delete",
)
def delete(request: HttpRequest, conversation_id: int) -> Status[None]:
    """Delete it with all its messages and notes, irreversibly. Administrators only, and only
    while the organization allows deleting (403 `delete_disabled` otherwise)."""
    conversation = access_conversation_delete(request_membership(request), conversation_id)
    conversation_erase(conversation=conversation)
    return Status(204, None)


class ExportParams(Schema):
    start: datetime.date = Field(description="The first day.")
    end: datetime.date = Field(
        description=f"The last day: on or after `start`, at most {MAX_EXPORT_DAYS - 1} days "
        f"later ({MAX_EXPORT_DAYS} days in all; 422 otherwise)."
    )
    format: Literal["csv", "html"] = "csv"

    @model_validator(mode="after")
    def _within_range(self) -> "ExportParams":
        # A rule between two values, which the schema can only describe: refused like any other
        # request outside it.
        if self.end < self.start:
            raise ValueError("`end` is before `start`.")
        if (self.end - self.start).days >= MAX_EXPORT_DAYS:
            raise ValueError(
                f"Export at most {MAX_EXPORT_DAYS} days at a time: `end` at most "
                f"{MAX_EXPORT_DAYS - 1} days after `start`."
            )
        return self


@router.get(
    "/{conversation_id}/export",
    response={200: None, **ERROR_RESPONSES},
    operation_id="conversation_export",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, as a download",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "text/html": {"schema": {"type": "string"}},
                },
            }
        }
    },
)
def export(request: HttpRequest, conversation_id: int, params: Query[ExportParams]) -> HttpResponse:
    """The thread from `start` to `end` (dates, inclusive, at most 7 days, in the
    organization's time zone) as CSV or HTML. Not for Limited users (403)."""
    conversation = access_conversation_export(request_membership(request), conversation_id)
    exported = conversation_export(
        conversation=conversation,
        start=params.start,
        end=params.end,
        export_format=params.format,
    )
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    return response
