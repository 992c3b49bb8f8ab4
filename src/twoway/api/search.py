"""GET /search: messages, notes and conversations matching words, a name or a phone number."""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import AfterValidator, BeforeValidator

from twoway.api.auth import request_membership
from twoway.api.schemas import ERROR_RESPONSES, ConversationOut, MessageOut, NulFree, lengths
from twoway.conversations.models import Folder
from twoway.conversations.search import MAX_LIMIT, SearchResults, conversation_search
from twoway.core.errors import InvalidInput
from twoway.core.text import SEARCH_QUERY_MAX_LENGTH

# by_alias: MessageOut writes its `from_` field as "from".
router = Router(tags=["search"], by_alias=True)


class SearchOut(Schema):
    query: str
    terms: list[str] = Field(description="The words searched for, lower-cased.")
    messages: list[MessageOut] = Field(
        description="Messages and notes with every word (the last also as a prefix), newest "
        "first, at most `limit`."
    )
    conversations: list[ConversationOut] = Field(
        description="Conversations whose contact's name starts with the words, or whose contact "
        "number holds the digits typed; latest activity first, at most 20."
    )


def _iso_only(value: Any) -> Any:
    """A date-time as ISO 8601 text, as the schema says: the parser would also take a number
    as seconds since 1970, which nobody means in a search."""
    if isinstance(value, str) and not re.match(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("give a date and time as ISO 8601, e.g. 2026-11-23T09:00:00Z")
    if not isinstance(value, str | datetime.datetime):
        raise ValueError("give a date and time as ISO 8601, e.g. 2026-11-23T09:00:00Z")
    return value


def _in_utc(value: datetime.datetime) -> datetime.datetime:
    """In UTC: PostgreSQL takes offsets up to ±15:59 only, and ISO 8601 allows ±23:59."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(datetime.UTC)
    except OverflowError:
        raise ValueError("give a date and time between the years 1 and 9999") from None


IsoDateTime = Annotated[datetime.datetime, BeforeValidator(_iso_only), AfterValidator(_in_utc)]


class SearchParams(Schema):
    q: Annotated[NulFree, lengths(1, SEARCH_QUERY_MAX_LENGTH)] = Field(
        description="Words, a contact's name, or digits of a number; not only spaces (400 "
        "`empty_query`)."
    )
    number_id: int | None = Field(None, ge=1, description="Only this one of your numbers.")
    folder: Folder | None = None
    since: IsoDateTime | None = Field(None, description="Created at or after.")
    until: IsoDateTime | None = Field(None, description="Created before.")
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="At most this many messages.")


@router.get("", response={200: SearchOut, **ERROR_RESPONSES}, operation_id="search")
def search(request: HttpRequest, params: Query[SearchParams]) -> SearchResults:
    """Search the conversations the key's owner sees, archived ones included. An empty `q` is a
    400 (`empty_query`); a `number_id` they may not use is a 404."""
    membership = request_membership(request)
    if not params.q.strip():
        raise InvalidInput("Say what to search for (`q`).", code="empty_query")
    return conversation_search(
        membership,
        params.q,
        number_id=params.number_id,
        folder=params.folder,
        since=params.since,
        until=params.until,
        limit=params.limit,
    )
