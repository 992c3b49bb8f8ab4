"""Conversation reads, always through what a member may see."""

from __future__ import annotations

import datetime
import functools
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connections
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from twoway.accounts.models import Membership, Team
from twoway.accounts.names import person_name
from twoway.contacts.lookup import organization_filter_values
from twoway.contacts.models import Contact
from twoway.contacts.selectors import contact_groups
from twoway.conversations.access import conversations_visible_to
from twoway.conversations.models import (
    RETRYABLE_CATEGORIES,
    Conversation,
    Direction,
    Folder,
    Kind,
    Message,
    Status,
)
from twoway.core.errors import InvalidInput
from twoway.numbers.access import members_who_see, teams_who_see

# The assignee filter of the inbox and the API: "me" (the member, or a team they belong to),
# "none" (unassigned), "user:<user id>", "team:<team id>". Ids of up to 18 digits fit the
# databases' 64-bit integers.
ASSIGNEE_FILTER = re.compile(r"^(?:me|none|user:[0-9]{1,18}|team:[0-9]{1,18})$")


def filter_by_assignee(
    conversations: QuerySet[Conversation], membership: Membership, assignee: str
) -> QuerySet[Conversation]:
    """Narrow to an assignee (see ASSIGNEE_FILTER); an empty or unknown value keeps them all.
    Filters on the two assignee columns only, so it adds no join to the inbox's query."""
    if not ASSIGNEE_FILTER.match(assignee):
        return conversations
    if assignee == "me":
        teams = list(membership.teams.values_list("pk", flat=True))
        return conversations.filter(
            Q(assignee_id=membership.user_id) | Q(assignee_team_id__in=teams)
        )
    if assignee == "none":
        return conversations.filter(assignee__isnull=True, assignee_team__isnull=True)
    kind, pk = assignee.split(":")
    if kind == "user":
        return conversations.filter(assignee_id=int(pk))
    return conversations.filter(assignee_team_id=int(pk))


def assignee_choices(conversation: Conversation) -> dict[str, Any]:
    """Whom the conversation may be assigned to: the people and teams who see its number; and
    `kept`, its current assignee when no longer among them (access taken away, deactivated),
    so the menu still shows who has it instead of suggesting "Unassigned"."""
    number = conversation.phone_number
    members = members_who_see(number).select_related("user").order_by("user__email")
    teams = teams_who_see(number).order_by("name", "pk")
    kept: tuple[str, str] | None = None
    if conversation.assignee_id and not members.filter(user_id=conversation.assignee_id).exists():
        user = conversation.assignee
        assert user is not None
        name = person_name(user)
        kept = (f"user:{user.pk}", f"{name} (cannot see this number now)")
    elif (
        conversation.assignee_team_id
        and not teams.filter(pk=conversation.assignee_team_id).exists()
    ):
        team = conversation.assignee_team
        assert team is not None
        kept = (f"team:{team.pk}", f"Team {team.name} (cannot see this number now)")
    return {"members": members, "teams": teams, "kept": kept}


def assignee_filter_choices(membership: Membership) -> dict[str, QuerySet[Any]]:
    """The inbox filter's people and teams: the organization's active members and its teams."""
    org_id = membership.organization_id
    return {
        "members": Membership.objects.filter(organization_id=org_id, user__is_active=True)
        .select_related("user")
        .order_by("user__email"),
        "teams": Team.objects.filter(organization_id=org_id).order_by("name", "pk"),
    }


@dataclass(frozen=True)
class ContactFilter:
    """The inbox's filters on a conversation's contact: its client type, one of its groups, its
    home location (each as stored; empty narrows nothing). A group of another organization
    keeps nothing, since the conversations are the member's organization's."""

    client_type: str = ""
    group_id: int | None = None
    home_location: str = ""

    def __bool__(self) -> bool:
        return bool(self.client_type or self.group_id is not None or self.home_location)

    def apply(self, conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
        if self.client_type:
            conversations = conversations.filter(contact__client_type=self.client_type)
        if self.home_location:
            conversations = conversations.filter(contact__home_location=self.home_location)
        if self.group_id is not None:
            # A contact is in a group once, so the join repeats no conversation.
            conversations = conversations.filter(contact__groups=self.group_id)
        return conversations


def inbox_scope(
    membership: Membership, assignee: str = "", contact_filter: ContactFilter | None = None
) -> QuerySet[Conversation]:
    """What the inbox shows the member, narrowed by the assignee and contact filters. Building
    it reads the member's numbers (and, for "me", teams): build it once per request and pass
    it on."""
    scope = filter_by_assignee(conversations_visible_to(membership), membership, assignee)
    return contact_filter.apply(scope) if contact_filter else scope


def contact_filter_choices(organization_id: int) -> dict[str, list[Any]]:
    """What the inbox's contact filters offer: the client types and home locations the
    organization's contacts have, and its groups (as the contacts table's filters do)."""
    return {
        "client_types": organization_filter_values(organization_id, "client_type"),
        "home_locations": organization_filter_values(organization_id, "home_location"),
        "groups": list(contact_groups(organization_id)),
    }


INBOX_ROW_FIELDS = (
    "contact_number",
    "unread_count",
    "muted",
    "last_message_at",
    "last_message_preview",
    "contact__name",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__email",
    "assignee_team__name",
)


# Rows per page of the inbox list ("Show older conversations" loads the next). Each row shown
# is work on every live refresh too: the list is re-fetched with every row the member loaded.
INBOX_PAGE = 50
# The most rows a live refresh redraws (`through`): a member who loaded more keeps the newest
# this many, and "Show older conversations" below them.
INBOX_THROUGH_MAX = 500


@dataclass(frozen=True)
class InboxCursor:
    """A row's place in a folder's list, newest first: its (last_message_at, id), written
    `<ISO 8601 time, or nothing>_<id>`. Keyset, not an offset: rows a new text moves to the top
    do not shift the pages below them."""

    last_message_at: datetime.datetime | None
    id: int

    @classmethod
    def of(cls, conversation: Conversation) -> InboxCursor:
        return cls(conversation.last_message_at, conversation.pk)

    @classmethod
    def parse(cls, value: str) -> InboxCursor:
        at, _, pk = value.rpartition("_")
        try:
            if not re.fullmatch(r"[0-9]{1,18}", pk):
                raise ValueError(pk)
            when = datetime.datetime.fromisoformat(at) if at else None
            if when is not None and when.tzinfo is None:
                raise ValueError(at)
        except ValueError:
            raise InvalidInput(f"{value!r} is not a place in the conversation list.") from None
        return cls(when, int(pk))

    def __str__(self) -> str:
        at = self.last_message_at
        return f"{at.astimezone(datetime.UTC).isoformat() if at else ''}_{self.id}"


@dataclass
class InboxPage:
    conversations: Sequence[Conversation]
    # Whether rows follow the last one: "Show older conversations" is shown.
    has_older: bool

    @property
    def older_cursor(self) -> str:
        return str(InboxCursor.of(self.conversations[-1])) if self.has_older else ""


# The list's order is `-last_message_at, -id` as each database sorts it, so that the index
# (organization, folder, -last_message_at) serves it: PostgreSQL puts the conversations without
# a message yet (NULL) first, SQLite last. The conditions below follow that, and give each side
# of a cursor as ranges of that index (`<=`/`>=` on last_message_at, or IS NULL): an OR of a
# range and the NULL rows was read on SQLite as the whole rest of the folder, then sorted.


def _after(cursor: InboxCursor, nulls_first: bool) -> list[Q]:
    """The rows listed after the cursor's, as one or two ranges, in the list's order."""
    at, pk = cursor.last_message_at, cursor.id
    if at is None:
        rest = Q(last_message_at__isnull=True, id__lt=pk)
        return [rest, Q(last_message_at__isnull=False)] if nulls_first else [rest]
    rest = Q(last_message_at__lte=at) & (Q(last_message_at__lt=at) | Q(id__lt=pk))
    return [rest] if nulls_first else [rest, Q(last_message_at__isnull=True)]


def _through(cursor: InboxCursor, nulls_first: bool) -> Q:
    """The rows listed before the cursor's, and its own."""
    at, pk = cursor.last_message_at, cursor.id
    if at is None:
        head = Q(last_message_at__isnull=True, id__gte=pk)
        return head if nulls_first else head | Q(last_message_at__isnull=False)
    head = Q(last_message_at__gte=at) & (Q(last_message_at__gt=at) | Q(id__gte=pk))
    return head | Q(last_message_at__isnull=True) if nulls_first else head


def inbox_page(
    membership: Membership,
    folder: str,
    assignee: str = "",
    *,
    scope: QuerySet[Conversation] | None = None,
    before: InboxCursor | None = None,
    through: InboxCursor | None = None,
) -> InboxPage:
    """A page of a folder's conversations, newest first: the first INBOX_PAGE; with `before`,
    the INBOX_PAGE after that row; with `through` (the last row on screen, when the list is
    redrawn live), every row down to that one's place, at least INBOX_PAGE and at most
    INBOX_THROUGH_MAX, so a member who loaded older rows keeps them."""
    if scope is None:
        scope = inbox_scope(membership, assignee)
    in_folder = scope.filter(folder=folder)
    nulls_first = connections[in_folder.db].features.nulls_order_largest
    # Only what a row shows (`conversation_items`, web/templatetags/twoway.py): this runs on
    # every inbox page and live refresh, and each join and column more is work for every row.
    # A row reading another field would query once per row (the web tests count queries).
    rows = (
        in_folder.select_related("contact", "assignee", "assignee_team")
        .only(*INBOX_ROW_FIELDS)
        .order_by("-last_message_at", "-id")
    )
    if through is not None:
        # Whether rows follow, in the same query, so a live refresh costs no more queries than
        # the first page: the id of the row after the cursor's, found as "Show older" would
        # find it (in the index's order, from the cursor on). An EXISTS was planned on
        # PostgreSQL as a scan of the whole table, which reads every row when none follows.
        after = in_folder.filter(functools.reduce(operator.or_, _after(through, nulls_first)))
        after = after.order_by("-last_message_at", "-id")
        next_id = Subquery(after.values("pk")[:1])
        loaded = list(
            rows.filter(_through(through, nulls_first)).annotate(next_id=next_id)[
                : INBOX_THROUGH_MAX + 1
            ]
        )
        if len(loaded) > INBOX_THROUGH_MAX:
            return InboxPage(loaded[:INBOX_THROUGH_MAX], has_older=True)
        if len(loaded) >= INBOX_PAGE:
            has_older = loaded[0].next_id is not None
            return InboxPage(loaded, has_older=has_older)
        # Fewer than a page down to that row (conversations left the folder): the first page.
        before = None
    page: list[Conversation] = []
    for part in _after(before, nulls_first) if before is not None else [Q()]:
        page += rows.filter(part)[: INBOX_PAGE + 1 - len(page)]
        if len(page) > INBOX_PAGE:
            break
    return InboxPage(page[:INBOX_PAGE], has_older=len(page) > INBOX_PAGE)


# The tabs count up to this many conversations and show more as "999+": an exact count read
# every conversation of the organization on every page (100,000: 70-200 ms), a capped one
# reads at most this many index entries per folder (docs/performance.md, "Inbox").
FOLDER_COUNT_CAP = 999


def folder_counts(
    membership: Membership, assignee: str = "", *, scope: QuerySet[Conversation] | None = None
) -> dict[str, int]:
    """Conversations per folder (of those the assignee filter keeps), for the tabs; any count
    above FOLDER_COUNT_CAP is FOLDER_COUNT_CAP + 1."""
    visible = inbox_scope(membership, assignee) if scope is None else scope
    # One query for the three tabs, each folder a scalar subquery counting its capped rows, as
    # `.count()` of the sliced queryset would (the same plan): one round trip and one query
    # built instead of three, on every inbox page and live refresh of the list.
    connection = connections[visible.db]
    columns, params = [], []
    for folder in Folder.values:
        capped = visible.filter(folder=folder).order_by().values("pk")[: FOLDER_COUNT_CAP + 1]
        try:
            sql, folder_params = capped.query.get_compiler(connection=connection).as_sql()
        except EmptyResultSet:  # no numbers to see: nothing to count
            columns.append("0")
            continue
        # The ORM's SQL, its values passed as parameters.
        columns.append(f"(SELECT COUNT(*) FROM ({sql}) capped)")  # noqa: S608
        params.extend(folder_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)}", params)
        row = cursor.fetchone()
    return dict(zip(Folder.values, row, strict=True))


# Messages a thread shows on open, and per "Show earlier messages".
THREAD_PAGE = 50


def thread_page(
    conversation: Conversation,
    *,
    before: str = "",
    around: str = "",
    since: str = "",
    limit: int = THREAD_PAGE,
) -> tuple[list[Message], bool]:
    """A page of the thread, oldest first, and whether older messages remain.

    The newest `limit` messages; with `before` (a message uid), the `limit` ones older than it;
    with `around` (a message uid: a search hit), that message, every newer one and `limit` older
    ones, so its `#message-<uid>` anchor is on the page however old it is; with `since` (the
    oldest message on screen, when the thread is redrawn live), that message and every newer
    one, and at least the newest `limit`, so a reader who loaded earlier messages keeps them. An
    unknown uid (or one of another conversation) as `around` or `since` is ignored; as `before`,
    it has nothing older.
    """
    messages = Message.objects.filter(conversation=conversation)
    anchor_uid = before or around or since
    anchor = None
    if anchor_uid:
        try:
            anchor = messages.filter(uid=anchor_uid).values("created_at", "id").first()
        except ValidationError:  # not a uuid
            anchor = None
    if before and anchor is None:
        return [], False
    if anchor is not None:
        older = Q(created_at__lt=anchor["created_at"]) | Q(
            created_at=anchor["created_at"], id__lt=anchor["id"]
        )
        if before:
            messages = messages.filter(older)
        elif around:
            limit += messages.exclude(older).count()
        else:
            limit = max(limit, messages.exclude(older).count())
    # Whether each was sent again (Retry is offered on a failed text once): a probe of the
    # retries' unique index per row.
    retried = Exists(Message.objects.filter(retry_of=OuterRef("pk")))
    page: list[Message] = list(
        messages.select_related("sent_by")
        .annotate(retried=retried)
        .order_by("-created_at", "-id")[: limit + 1]
    )
    has_earlier = len(page) > limit
    page = page[:limit]
    page.reverse()
    return page, has_earlier


def messages_for_api(conversation: Conversation) -> QuerySet[Message]:
    return Message.objects.filter(conversation=conversation).order_by("created_at", "id")


def conversations_for_api(
    membership: Membership, folder: str | None, assignee: str | None = None
) -> QuerySet[Conversation]:
    """What the member sees, newest activity first; conversations without a message go last."""
    conversations = conversations_visible_to(membership).select_related("assignee", "assignee_team")
    if folder:
        conversations = conversations.filter(folder=folder)
    if assignee:
        conversations = filter_by_assignee(conversations, membership, assignee)
    return conversations.order_by(F("last_message_at").desc(nulls_last=True), "-id")


def contact_conversations(membership: Membership, contact: Contact) -> list[Conversation]:
    """The contact's conversations that the member may open."""
    return list(
        conversations_visible_to(membership)
        .filter(contact=contact)
        .select_related("phone_number")
        .order_by("-last_message_at", "-id")
    )


def failed_texts_visible_to(membership: Membership) -> QuerySet[Message]:
    """The failed and undelivered texts of the conversations the member sees that were not sent
    again yet, newest first."""
    return Message.objects.filter(
        conversation__in=conversations_visible_to(membership),
        direction=Direction.OUTBOUND,
        kind=Kind.MESSAGE,
        category__in=RETRYABLE_CATEGORIES,
        status__in=(Status.FAILED, Status.UNDELIVERED),
        retries__isnull=True,
    ).order_by("-created_at", "-id")


def conversations_with_flagged_opt_out(membership: Membership) -> QuerySet[Conversation]:
    """The member's conversations whose contact sent a worded opt-out that waits for an agent,
    the longest-waiting first."""
    return (
        conversations_visible_to(membership)
        .filter(contact__opt_out_flagged_at__isnull=False)
        .select_related("contact", "phone_number")
        .order_by("contact__opt_out_flagged_at", "pk")
    )
