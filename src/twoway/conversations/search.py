"""Full-text search over the conversations a member sees, archived ones included.

`conversation_search` is the one way in, for the web page and the API alike. It finds
- messages and notes whose body has every word of the query (the last word also as a prefix,
  so results come while typing), newest first;
- conversations whose contact's name has the words (as prefixes), or whose contact number holds
  the digits typed, in any format.

The indexes are the database's own (conversations/search_index.py): FTS5 on SQLite, GIN on
`to_tsvector('simple', ...)` on PostgreSQL, whose expressions the conditions below repeat. The
query never reaches either syntax as typed: it is cut into words first, and only the words are
quoted into a match expression.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Contains
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from twoway.accounts.models import Membership
from twoway.conversations.models import Conversation, Folder, Message
from twoway.conversations.search_index import CONTACT_FTS, MESSAGE_FTS, number_digits
from twoway.conversations.selectors import ContactFilter
from twoway.numbers.access import access_phone_number, numbers_seen_by

MAX_LIMIT = 200
CONTACT_LIMIT = 20
# Enough for any real query; bounds the work a pasted paragraph can cause.
MAX_TERMS = 8
MAX_TERM_LENGTH = 64
# Fewer digits than this match too many numbers to be a phone search.
MIN_PHONE_DIGITS = 3
SNIPPET_CHARS = 160

# Letters and digits, in any script; everything else separates words (and never reaches a
# match expression). Underscore is a word character to `\w` but not to either tokenizer.
_WORD = re.compile(r"[^\W_]+")
_PHONE_LIKE = re.compile(r"^[\d\s().+\-]+$")


@dataclass(frozen=True)
class SearchResults:
    query: str
    terms: tuple[str, ...]
    # Newest first, each with its conversation, contact and number loaded.
    messages: list[Message] = field(default_factory=list)
    # Conversations whose contact name or number matched, latest activity first.
    conversations: list[Conversation] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.messages and not self.conversations


def search_terms(query: str) -> tuple[str, ...]:
    """The words of a query, lower-cased, at most MAX_TERMS of them."""
    words = _WORD.findall(query.casefold())
    return tuple(word[:MAX_TERM_LENGTH] for word in words[:MAX_TERMS])


def phone_digits(query: str) -> str:
    """The digits of a query that looks like (part of) a phone number, else ""."""
    if not _PHONE_LIKE.match(query.strip()):
        return ""
    digits = re.sub(r"\D", "", query)
    return digits if len(digits) >= MIN_PHONE_DIGITS else ""


def fts5_match(terms: tuple[str, ...], *, prefix_all: bool = False) -> str:
    """An FTS5 query: every word a quoted string (so `AND`, `NEAR`, `*`, `-` are just words),
    all required, the last (or all) also as a prefix."""
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    for index in range(len(quoted)):
        if prefix_all or index == len(quoted) - 1:
            quoted[index] += "*"
    return " ".join(quoted)


def tsquery(terms: tuple[str, ...], *, prefix_all: bool = False) -> str:
    """A `to_tsquery` text: every word a quoted lexeme, all required (`&`), the last (or all)
    also as a prefix (`:*`)."""
    quoted = ["'" + term.replace("'", "''").replace("\\", "\\\\") + "'" for term in terms]
    for index in range(len(quoted)):
        if prefix_all or index == len(quoted) - 1:
            quoted[index] += ":*"
    return " & ".join(quoted)


# The match conditions. Only the match expression is a parameter; everything else is fixed.
_BODY_MATCH_POSTGRESQL = (
    """to_tsvector('simple', "conversations_message"."body") @@ to_tsquery('simple', %s)"""
)
_BODY_MATCH_SQLITE = (
    '"conversations_message"."id" IN (SELECT rowid FROM conversations_message_search '
    "WHERE conversations_message_search MATCH %s)"
)
_NAME_MATCH_POSTGRESQL = (
    '"conversations_conversation"."contact_id" IN (SELECT "contacts_contact"."id" '
    """FROM "contacts_contact" WHERE to_tsvector('simple', "contacts_contact"."name") """
    "@@ to_tsquery('simple', %s))"
)
_NAME_MATCH_SQLITE = (
    '"conversations_conversation"."contact_id" IN (SELECT rowid FROM contacts_contact_search '
    "WHERE contacts_contact_search MATCH %s)"
)


def _body_matches(terms: tuple[str, ...]) -> RawSQL:
    if connection.vendor == "postgresql":
        sql, match = _BODY_MATCH_POSTGRESQL, tsquery(terms)
    else:
        sql, match = _BODY_MATCH_SQLITE, fts5_match(terms)
    return RawSQL(sql, [match], output_field=BooleanField())  # noqa: S611  fixed SQL


def _name_matches(terms: tuple[str, ...]) -> RawSQL | Q:
    # A name is short and typed from memory: every word may be the start of one ("dan smi").
    if connection.vendor == "postgresql":
        sql, match = _NAME_MATCH_POSTGRESQL, tsquery(terms, prefix_all=True)
    else:
        sql, match = _NAME_MATCH_SQLITE, fts5_match(terms, prefix_all=True)
        # A few contacts are named as constants: SQLite then finds their conversations on the
        # contact index instead of testing every conversation of the organization (60+ ms).
        contact_ids = _fts_rowids(
            f"SELECT rowid FROM {CONTACT_FTS} WHERE {CONTACT_FTS} MATCH %s LIMIT %s",  # noqa: S608  fixed SQL
            [match, ID_BATCH + 1],
        )
        if len(contact_ids) <= ID_BATCH:
            return Q(contact_id__in=contact_ids)
    return RawSQL(sql, [match], output_field=BooleanField())  # noqa: S611  fixed SQL


def _visible(
    membership: Membership, number_ids: list[int], folder: str | None
) -> QuerySet[Conversation]:
    """The member's conversations on `number_ids`, which the caller read from the numbers the
    member may use (`conversations_visible_to`'s own rule), so they are not read again."""
    conversations = Conversation.objects.filter(
        organization_id=membership.organization_id, phone_number_id__in=number_ids
    )
    if folder:
        conversations = conversations.filter(folder=folder)
    return conversations


# Finding the newest matches (docs/decisions.md, "Search: newest matches without reading them
# all"). Both databases look at the newest messages first and widen only while too few match.
#
# PostgreSQL: windows of the newest messages by date. A window starts at the date of the message
# this many ids below the newest; any window that yields `limit` matches holds the `limit`
# newest, whatever the dates of the older ids, since everything outside is older.
WINDOWS = (20_000, 100_000, 500_000)
# Expected matches (in the scope, from the first window) below which all of them are read.
FEW_MATCHES = 1_000
# SQLite: FTS5 hands out matches by descending rowid (= message id, in order of arrival) without
# reading the rest; they come in chunks that grow from the first to the last size.
FIRST_CHUNK = 200
LAST_CHUNK = 6_400
# Ids per query when checking a list of them (well under SQLite's 32,766 parameters).
ID_BATCH = 900


def _windows(
    since: datetime.datetime | None, until: datetime.datetime | None
) -> tuple[int, list[tuple[int, Any]]]:
    """The newest message id, and the PostgreSQL windows as (size, date where it starts), newest
    first; none that would hold nothing (at or after `until`) or everything (at or before
    `since`)."""
    subqueries = ", ".join(
        "(SELECT created_at FROM conversations_message WHERE id <= newest.id - %s "
        "ORDER BY id DESC LIMIT 1)"
        for _ in WINDOWS
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT newest.id, {subqueries} "  # noqa: S608  fixed SQL
            "FROM (SELECT max(id) AS id FROM conversations_message) newest",
            list(WINDOWS),
        )
        newest_id, *starts = cursor.fetchone() or (None,)
    windows: list[tuple[int, Any]] = []
    for size, start in zip(WINDOWS, starts, strict=False):
        if start is None or (since is not None and start <= since):
            break
        if (until is not None and start >= until) or (windows and start >= windows[-1][1]):
            continue
        windows.append((size, start))
    return newest_id or 0, windows


def _newest_postgresql(
    matching: QuerySet[Message],
    limit: int,
    since: datetime.datetime | None,
    until: datetime.datetime | None,
) -> list[int]:
    """Ids of the `limit` newest messages of `matching` (scope and match), newest first.

    The first window is the planner's: for a common word it walks the newest messages by date
    and stops at the limit (a few ms). What it found tells how far to look next: the wider
    windows expected to hold too few are skipped, and a word expected to match only a few
    hundred messages in all goes straight to the GIN index. Those later queries run with index
    scans off: the walk would compute `to_tsvector` for every message it passes (seconds), so the
    GIN index is read as a bitmap, ANDed with the date range's. Hash and merge joins go off with
    them: the planner, guessing a thousand matches where a rare word has a handful, otherwise
    hashed all 100,000 conversations to join them (40 ms of a 41 ms query, measured), where a
    nested loop looks up each match's conversation (0.3 ms).
    """
    newest = matching.order_by("-created_at", "-id").values_list("id", flat=True)
    newest_id, windows = _windows(since, until)
    if windows:
        first_size, first_start = windows[0]
        ids = list(newest.filter(created_at__gte=first_start)[:limit])
        if len(ids) >= limit:
            return ids
        density = len(ids) / first_size
        if density * newest_id <= FEW_MATCHES:
            windows = []
        else:
            windows = [(size, start) for size, start in windows[1:] if density * size >= limit]
    with transaction.atomic(), connection.cursor() as cursor:
        # Local to this transaction (or, inside a caller's, put back below).
        cursor.execute(_SWITCH_OFF)
        kept = cursor.fetchone()[: len(_OFF_FOR_FEW_MATCHES)]
        for _size, start in windows:
            ids = list(newest.filter(created_at__gte=start)[:limit])
            if len(ids) >= limit:
                break
        else:
            ids = list(newest[:limit])
        cursor.execute(_PUT_BACK, kept)
    return ids


# The planner settings `_newest_postgresql` switches off for its later queries, and how.
_OFF_FOR_FEW_MATCHES = ("enable_indexscan", "enable_hashjoin", "enable_mergejoin", "jit")
_SWITCH_OFF = (
    "SELECT "
    + ", ".join(f"current_setting('{name}')" for name in _OFF_FOR_FEW_MATCHES)
    + ", "
    + ", ".join(f"set_config('{name}', 'off', true)" for name in _OFF_FOR_FEW_MATCHES)
)
_PUT_BACK = "SELECT " + ", ".join(
    f"set_config('{name}', %s, true)" for name in _OFF_FOR_FEW_MATCHES
)


def _fts_rowids(sql: str, params: list[Any]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [rowid for (rowid,) in cursor.fetchall()]


def _newest_sqlite(scoped: QuerySet[Message], terms: tuple[str, ...], limit: int) -> list[int]:
    """Ids of the `limit` newest messages of `scoped` matching `terms`, newest first.

    Matches are read from FTS5 newest id first, in chunks, and each chunk is narrowed to the
    scope, until `limit` are found or none are left. Ids follow arrival, dates nearly so: then
    the messages older by id but at least as new by date as the last one found are checked too
    (normally none, found on the date index), so the order is exactly the dates'.
    """
    match = fts5_match(terms)
    found: list[tuple[datetime.datetime, int]] = []
    below: int | None = None
    chunk = FIRST_CHUNK
    exhausted = False
    while len(found) < limit and not exhausted:
        if below is None:
            rowids = _fts_rowids(
                f"SELECT rowid FROM {MESSAGE_FTS} WHERE {MESSAGE_FTS} MATCH %s "  # noqa: S608  fixed SQL
                "ORDER BY rowid DESC LIMIT %s",
                [match, chunk],
            )
        else:
            rowids = _fts_rowids(
                f"SELECT rowid FROM {MESSAGE_FTS} WHERE {MESSAGE_FTS} MATCH %s AND rowid < %s "  # noqa: S608  fixed SQL
                "ORDER BY rowid DESC LIMIT %s",
                [match, below, chunk],
            )
        exhausted = len(rowids) < chunk
        if rowids:
            below = rowids[-1]
            found.extend(_in_scope(scoped, rowids))
        chunk = min(chunk * 2, LAST_CHUNK)
    found.sort(reverse=True)
    if not exhausted and below is not None:
        # Older ids with a date at least as new as the limit-th match's (imports, clock skew).
        oldest_date = found[limit - 1][0]
        with connection.cursor() as cursor:
            # `+id`: the date index finds them, not a walk of every id below.
            cursor.execute(
                "SELECT id FROM conversations_message WHERE created_at >= %s AND +id < %s",
                [connection.ops.adapt_datetimefield_value(oldest_date), below],
            )
            late = [pk for (pk,) in cursor.fetchall()]
        for start in range(0, len(late), ID_BATCH):
            batch = late[start : start + ID_BATCH]
            marks = ", ".join(["%s"] * len(batch))
            matched = _fts_rowids(
                f"SELECT rowid FROM {MESSAGE_FTS} WHERE {MESSAGE_FTS} MATCH %s "  # noqa: S608  fixed SQL
                f"AND rowid IN ({marks})",
                [match, *batch],
            )
            found.extend(_in_scope(scoped, matched))
        found.sort(reverse=True)
    return [pk for _, pk in found[:limit]]


def _in_scope(scoped: QuerySet[Message], ids: list[int]) -> list[tuple[datetime.datetime, int]]:
    """(date, id) of those of `ids` in the scope."""
    pairs: list[tuple[datetime.datetime, int]] = []
    for start in range(0, len(ids), ID_BATCH):
        batch = ids[start : start + ID_BATCH]
        pairs.extend(scoped.filter(id__in=batch).values_list("created_at", "id"))
    return pairs


def conversation_search(
    membership: Membership,
    query: str,
    *,
    number_id: int | None = None,
    folder: str | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    contact_filter: ContactFilter | None = None,
    limit: int = 50,
) -> SearchResults:
    """Messages, notes and contacts matching `query` in the conversations the member sees.

    `number_id` (one of the member's numbers, else NotFound), `folder`, the dates and the
    contact filter narrow it; `since` is inclusive, `until` exclusive. Contacts match by name
    or number regardless of the dates (they have no date of their own).
    """
    terms = search_terms(query)
    digits = phone_digits(query)
    if folder and folder not in Folder.values:
        folder = None
    limit = max(1, min(limit, MAX_LIMIT))
    results = SearchResults(query=query, terms=terms)
    if not terms:
        return results
    # The conversations a member sees are those of the numbers open to them
    # (`conversations_visible_to`). The messages' query names the numbers as constants rather
    # than nesting that queryset: the planner then knows how many rows the scope keeps, and
    # walks the newest messages for a common word or the GIN index for a rare one. Nested, it
    # guessed a handful of conversations and read every message of all 100,000 (30 s).
    if number_id is not None:
        number_ids = [access_phone_number(membership, number_id).pk]
    else:
        number_ids = list(numbers_seen_by(membership).values_list("pk", flat=True))
    visible = _visible(membership, number_ids, folder)
    if contact_filter:
        visible = contact_filter.apply(visible)

    scoped = Message.objects.filter(
        organization_id=membership.organization_id,
        conversation__phone_number_id__in=number_ids,
    )
    if folder:
        scoped = scoped.filter(conversation__folder=folder)
    if since is not None:
        scoped = scoped.filter(created_at__gte=since)
    if until is not None:
        scoped = scoped.filter(created_at__lt=until)
    if contact_filter:
        # The conversations whose contact passes: a semi-join the unfiltered search never pays.
        scoped = scoped.filter(conversation__in=visible.values("pk"))
    # Ids first, then the rows with their joins: the joins stay out of the plans that find them.
    if connection.vendor == "postgresql":
        ids = _newest_postgresql(scoped.filter(_body_matches(terms)), limit, since, until)
    else:
        ids = _newest_sqlite(scoped, terms, limit)
    found = Message.objects.select_related(
        "conversation__contact", "conversation__phone_number", "sent_by"
    ).in_bulk(ids)
    results.messages.extend(found[pk] for pk in ids)

    by_contact = visible.filter(_name_matches(terms))
    if digits:
        by_contact = by_contact | visible.filter(Contains(number_digits(), digits))
    results.conversations.extend(
        by_contact.select_related("contact", "phone_number", "assignee", "assignee_team").order_by(
            "-last_message_at", "-id"
        )[:CONTACT_LIMIT]
    )
    return results


def highlight(text: str, terms: tuple[str, ...], *, width: int = SNIPPET_CHARS) -> SafeString:
    """`text` escaped, cut to about `width` characters around the first match, with the words
    that start with a search term wrapped in <mark>."""
    if not terms:
        return escape(text[:width])
    starts = [m.start() for m in _WORD.finditer(text) if _matches(m.group(), terms)]
    start = 0
    if starts and len(text) > width and starts[0] > width // 3:
        start = max(0, min(starts[0] - width // 3, len(text) - width))
        # Begin at a word boundary.
        space = text.find(" ", start)
        if space != -1 and space < starts[0]:
            start = space + 1
    window = text[start : start + width]
    parts: list[str] = ["…" if start else ""]
    position = 0
    for match in _WORD.finditer(window):
        if not _matches(match.group(), terms):
            continue
        parts.append(escape(window[position : match.start()]))
        parts.append(f"<mark>{escape(match.group())}</mark>")
        position = match.end()
    parts.append(escape(window[position:]))
    if start + width < len(text):
        parts.append("…")
    return mark_safe("".join(parts))  # noqa: S308  every piece of text above went through escape()


def _matches(word: str, terms: tuple[str, ...]) -> bool:
    folded = word.casefold()
    return any(folded.startswith(term) for term in terms)
