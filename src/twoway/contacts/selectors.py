"""Contact reads, always through what a member may see (`contacts.access`)."""

from __future__ import annotations

from django.db.models import Case, Q, QuerySet, Value, When

from twoway.accounts.models import Membership
from twoway.contacts.access import contacts_visible_to
from twoway.contacts.models import Contact


def contacts_list(membership: Membership, query: str = "") -> QuerySet[Contact]:
    """The organization's contacts by name (unnamed ones last), with their phones; `query`
    narrows by a part of the name, e-mail or phone number."""
    contacts = contacts_visible_to(membership).prefetch_related("phones")
    query = query.strip()
    if query:
        digits = "".join(ch for ch in query if ch.isdigit())
        match = Q(name__icontains=query) | Q(email__icontains=query)
        if digits:
            match |= Q(phones__number__contains=digits)
        contacts = contacts.filter(match).distinct()
    unnamed_last = Case(When(name="", then=Value(1)), default=Value(0))
    return contacts.order_by(unnamed_last, "name", "pk")
