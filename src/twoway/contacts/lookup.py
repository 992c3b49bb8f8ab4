"""Finding contacts: the contacts table (search, filters, sort, pages) and the suggestions of
New conversation's To field, always through what a member may see (`contacts.access`).

Pages are read by keyset (after the last row shown), never by counting and skipping rows, so
the thousandth page costs what the first does. The search's substring matches use trigram
indexes (`lookup_index.py`): on PostgreSQL built on exactly the expressions below, on SQLite
FTS5 tables read for the matching ids.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import json
import re
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection
from django.db.models import (
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Replace, Upper

from twoway.accounts.models import Membership
from twoway.contacts.access import contacts_visible_to
from twoway.contacts.lookup_index import sqlite_text_matches
from twoway.contacts.lookup_plan import SORTED_SUGGESTIONS_MAX, matches_are_few
from twoway.contacts.models import Contact, ContactPhone, CreatedFrom, OptInStatus
from twoway.core.errors import InvalidInput
from twoway.core.phones import InvalidPhoneNumber, normalize_phone

PAGE_SIZE = 50
SUGGESTIONS = 8
# The filters' lists of client types and home locations offer at most this many values.
FILTER_VALUES_MAX = 200

SORTS = {
    "name": "Name (A to Z)",
    "-name": "Name (Z to A)",
    "-created": "Newest first",
    "created": "Oldest first",
    "-activity": "Recent activity first",
}

# The fields a search's words are looked for in, joined into one text (and, on PostgreSQL,
# one trigram index): a name, e-mail, external UID or client ID each match a part of it.
SEARCHED_FIELDS = ("name", "email", "external_uid", "client_id")


class SearchedText(Func):
    """UPPER(name || ' ' || email || ' ' || external_uid || ' ' || client_id): `||`, not
    CONCAT, which PostgreSQL does not let an index use (it is not immutable)."""

    template = "UPPER(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__(*(F(name) for name in SEARCHED_FIELDS))


def phone_digits() -> Replace:
    """A contact phone's number without its '+', as the index on it spells it."""
    return Replace(F("number"), Value("+"), Value(""))


@dataclass(frozen=True)
class ContactFilters:
    """What the table shows: a search and filters, all of which a contact must meet."""

    query: str = ""
    client_type: str = ""
    group: int | None = None
    home_location: str = ""
    opted_out: bool = False
    lead: bool = False
    sort: str = "name"

    @classmethod
    def from_params(cls, params: Any) -> ContactFilters:
        """From a query string; values it cannot read are left out, so a stale link still
        shows the table."""
        group = params.get("group", "")
        sort = params.get("sort", "name")
        return cls(
            query=params.get("q", "").strip(),
            client_type=params.get("client_type", ""),
            group=int(group) if re.fullmatch(r"[0-9]{1,18}", group) else None,
            home_location=params.get("home_location", ""),
            opted_out=params.get("opted_out") == "1",
            lead=params.get("lead") == "1",
            sort=sort if sort in SORTS else "name",
        )

    def as_params(self) -> dict[str, str]:
        """The query string that shows the same table (what the page's links carry)."""
        params = {
            "q": self.query,
            "client_type": self.client_type,
            "group": str(self.group) if self.group is not None else "",
            "home_location": self.home_location,
            "opted_out": "1" if self.opted_out else "",
            "lead": "1" if self.lead else "",
            "sort": "" if self.sort == "name" else self.sort,
        }
        return {name: value for name, value in params.items() if value}

    @property
    def narrowed(self) -> bool:
        return bool(replace(self, sort="name").as_params())


# What a phone number typed any way is made of; anything else (a letter, an @) is no number,
# though it may hold digits (an e-mail address, a client ID).
_TYPED_NUMBER = re.compile(r"[0-9\s()+./-]+")


def _query_digits(query: str, country: str) -> set[str]:
    """The digits a typed phone number may be stored with: as typed, and its E.164 form read
    in the organization's country (a national trunk 0 is not part of the stored number)."""
    digits = re.sub(r"[^0-9]", "", query)
    if not digits or not _TYPED_NUMBER.fullmatch(query):
        return set()
    found = {digits}
    with contextlib.suppress(InvalidPhoneNumber):
        found.add(normalize_phone(query, country).lstrip("+"))
    return found


def contacts_matching(
    contacts: QuerySet[Contact], query: str, country: str = "US"
) -> QuerySet[Contact]:
    """`contacts` whose name, e-mail, external UID or client ID contains `query` (any case),
    or, for a query that is a number typed any way, one of whose numbers contains its digits."""
    query = query.strip()
    if not query:
        return contacts
    digits = _query_digits(query, country)
    if connection.vendor == "sqlite":
        indexed = sqlite_text_matches(query, digits)
        if indexed is not None:
            return contacts.filter(pk__in=RawSQL(*indexed))  # noqa: S611 (our SQL, its values)
    in_text = Q(searched__contains=Upper(Value(query)))
    if not digits:
        return contacts.annotate(searched=SearchedText()).filter(in_text)
    in_numbers = Q()
    for part in digits:
        in_numbers |= Q(digits__contains=part)
    # One set of ids from each index, not an OR across the two tables: PostgreSQL answers an
    # OR with a subquery by reading every contact.
    by_text = Contact.objects.annotate(searched=SearchedText()).filter(in_text).values("pk")
    by_number = (
        ContactPhone.objects.annotate(digits=phone_digits()).filter(in_numbers).values("contact_id")
    )
    return contacts.filter(pk__in=by_text.union(by_number))


def contact_ids_matching(organization_id: int, query: str, country: str = "US") -> QuerySet[Any]:
    """The ids of the organization's contacts that `contacts_matching` finds for `query`, as a
    subquery (the consent ledger's contact search: the same name or number match as here)."""
    contacts = Contact.objects.filter(organization_id=organization_id)
    return contacts_matching(contacts, query, country).values("pk")


def contacts_filtered(membership: Membership, filters: ContactFilters) -> QuerySet[Contact]:
    """The member's contacts that meet every filter, unordered."""
    contacts = contacts_visible_to(membership)
    country = membership.organization.country
    contacts = contacts_matching(contacts, filters.query, country)
    if filters.client_type:
        contacts = contacts.filter(client_type=filters.client_type)
    if filters.home_location:
        contacts = contacts.filter(home_location=filters.home_location)
    if filters.group is not None:
        in_group = Contact.groups.through.objects.filter(
            contact_id=OuterRef("pk"), contactgroup_id=filters.group
        )
        contacts = contacts.filter(Exists(in_group))
    if filters.opted_out:
        contacts = contacts.filter(opt_in_status=OptInStatus.OPTED_OUT)
    if filters.lead:
        contacts = contacts.filter(created_from=CreatedFrom.INBOUND)
    return contacts


@dataclass(frozen=True)
class ContactCursor:
    """Where a page ended: the sort key of its last row. For the name sort, `named` says
    whether that row had a name (unnamed contacts come after all named ones, by id)."""

    named: bool
    value: str
    pk: int

    def __str__(self) -> str:
        raw = json.dumps([int(self.named), self.value, self.pk], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str) -> ContactCursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            named, value, pk = json.loads(raw)
            if not (isinstance(value, str) and isinstance(pk, int) and named in (0, 1)):
                raise ValueError(text)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidInput("That page of contacts does not exist.") from exc
        return cls(bool(named), value, pk)


@dataclass
class ContactPage:
    contacts: list[Contact]
    next_cursor: str  # "" on the last page


def _after(field: str, value: Any, pk: int, descending: bool) -> Q:
    """Rows after (value, pk) in the order (field, pk), both ascending or both descending.
    The first term alone (field >= value) lets an index on (..., field, id) start there."""
    if descending:
        return Q(**{f"{field}__lte": value}) & (
            Q(**{f"{field}__lt": value}) | Q(**{field: value, "pk__lt": pk})
        )
    return Q(**{f"{field}__gte": value}) & (
        Q(**{f"{field}__gt": value}) | Q(**{field: value, "pk__gt": pk})
    )


def _sort_key(field: str, unindexed: bool) -> Any:
    """A sort key: the field, or for `unindexed` the same values spelt so that no index gives
    them in order, so that PostgreSQL reads the matches and sorts them (`lookup_plan`)."""
    if not unindexed:
        return F(field)
    if field == "pk":
        return F("pk") + 0
    if field == "name":
        return Func(F(field), Value(""), template="(%(expressions)s)", arg_joiner=" || ")
    return ExpressionWrapper(F(field) + datetime.timedelta(0), output_field=DateTimeField())


def _ordered(
    contacts: QuerySet[Contact], field: str, descending: bool, unindexed: bool
) -> QuerySet[Contact]:
    keys = (_sort_key(field, unindexed), _sort_key("pk", unindexed))
    return contacts.order_by(*(key.desc() if descending else key.asc() for key in keys))


@dataclass(frozen=True)
class _Sort:
    """How the table reads a sort: `field` in order, and the contacts with no value of it
    (`empty`) after all the others, by id in the same direction."""

    field: str
    empty: Q
    descending: bool

    def value(self, text: str) -> Any:
        """A cursor's value as the field holds it."""
        if self.field == "name":
            return text
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError as exc:
            raise InvalidInput("That page of contacts does not exist.") from exc

    def cursor(self, contact: Contact) -> ContactCursor:
        value = getattr(contact, self.field)
        if self.field == "name":
            return ContactCursor(bool(value), value, contact.pk)
        return ContactCursor(value is not None, value.isoformat() if value else "", contact.pk)


def _sort_of(name: str) -> _Sort:
    descending = name.startswith("-")
    if name.endswith("created"):
        return _Sort("created_at", Q(pk__in=[]), descending)
    if name.endswith("activity"):
        return _Sort("last_activity_at", Q(last_activity_at__isnull=True), descending)
    return _Sort("name", Q(name=""), descending)


def _page(
    contacts: QuerySet[Contact], sort: _Sort, cursor: ContactCursor | None, size: int, few: bool
) -> tuple[list[Contact], bool]:
    """`size` rows in the sort from after `cursor`, and whether more follow. `few`: the
    contacts are a search's few matches, read and sorted (`lookup_plan`)."""
    rows: list[Contact] = []
    if cursor is None or cursor.named:
        valued = contacts.exclude(sort.empty)
        if cursor is not None:
            after = _after(sort.field, sort.value(cursor.value), cursor.pk, sort.descending)
            valued = valued.filter(after)
        rows = list(_ordered(valued, sort.field, sort.descending, few)[: size + 1])
        if len(rows) > size:
            return rows[:size], True
    empty = contacts.filter(sort.empty)
    if cursor is not None and not cursor.named:
        after_pk = Q(pk__lt=cursor.pk) if sort.descending else Q(pk__gt=cursor.pk)
        empty = empty.filter(after_pk)
    rows += list(_ordered(empty, "pk", sort.descending, few)[: size + 1 - len(rows)])
    return rows[:size], len(rows) > size


def contacts_page(
    membership: Membership, filters: ContactFilters, after: str = "", size: int = PAGE_SIZE
) -> ContactPage:
    """A page of the table, in the filters' sort, from after the `after` cursor."""
    contacts = contacts_filtered(membership, filters)
    cursor = ContactCursor.parse(after) if after else None
    sort = _sort_of(filters.sort)
    few = bool(filters.query) and matches_are_few(contacts)
    rows, more = _page(contacts.prefetch_related("phones"), sort, cursor, size, few)
    next_cursor = str(sort.cursor(rows[-1])) if more and rows else ""
    return ContactPage(rows, next_cursor)


def filter_values(membership: Membership, field: str) -> list[str]:
    """The client types or home locations the organization's contacts have, for the table's
    filters (for those who may browse contacts: `contacts_visible_to`'s rule)."""
    contacts_visible_to(membership)  # the same rule as the table's
    return organization_filter_values(membership.organization_id, field)


def organization_filter_values(organization_id: int, field: str) -> list[str]:
    """The client types or home locations an organization's contacts have, alphabetically (at
    most FILTER_VALUES_MAX): also the inbox's filters, which every member has.

    Read by skipping from one value to the next along the (organization, field) index, one
    lookup a value: a DISTINCT would read every contact's entry (about 40 ms at 100,000)."""
    if field not in ("client_type", "home_location"):
        raise ValueError(field)
    column = f'"{field}"'
    sql = f"""
        WITH RECURSIVE found(value) AS (
            SELECT MIN({column}) FROM contacts_contact
            WHERE organization_id = %s AND {column} > ''
            UNION ALL
            SELECT (SELECT MIN({column}) FROM contacts_contact
                    WHERE organization_id = %s AND {column} > found.value)
            FROM found WHERE found.value IS NOT NULL
        )
        SELECT value FROM found WHERE value IS NOT NULL LIMIT %s"""  # noqa: S608 (two names)
    with connection.cursor() as cursor:
        cursor.execute(sql, [organization_id, organization_id, FILTER_VALUES_MAX])
        return [value for (value,) in cursor.fetchall()]


def contact_suggestions(
    membership: Membership, query: str, limit: int = SUGGESTIONS
) -> list[Contact]:
    """The contacts New conversation's To field suggests for what was typed: the newest
    matches, by name. Newest, not the first by name: a name's matches sit together in name
    order ("Sam ..." near the end), so the name index would be walked a long way to them,
    while along the ids they are spread out and soon found."""
    if not query.strip():
        return []
    contacts = contacts_matching(
        contacts_visible_to(membership), query, membership.organization.country
    )
    newest = _ordered(contacts, "pk", True, matches_are_few(contacts, SORTED_SUGGESTIONS_MAX))
    found = list(newest.prefetch_related("phones")[:limit])
    return sorted(found, key=lambda contact: (contact.name == "", contact.name, contact.pk))
