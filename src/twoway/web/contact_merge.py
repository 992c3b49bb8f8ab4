"""Merging contacts from the card: find the other contact (the contacts table's search, and
the card's suggestions), then both side by side, a choice for each field that differs, and
Merge. The contact whose card it started from survives."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.contacts.access import access_contact
from twoway.contacts.duplicates import PAIRS_SHOWN, duplicate_pairs
from twoway.contacts.lookup import ContactFilters, contacts_page
from twoway.contacts.merging import KEEP_OTHER, KEEP_THIS, contact_duplicates
from twoway.contacts.models import Contact, phones_in_order
from twoway.contacts.selectors import custom_fields
from twoway.conversations.contact_merge import contact_merge, contact_merge_plan
from twoway.conversations.selectors import contact_conversations
from twoway.core.errors import InvalidInput
from twoway.core.text import CONTACT_QUERY_MAX_LENGTH, query_problem

# The search's matches offered at once: a person narrows the search rather than scroll.
FOUND_SHOWN = 20


@member_view
def contact_merge_find(
    request: HttpRequest, membership: Membership, contact_id: int
) -> HttpResponse:
    """Which contact to merge into this one: suggestions, and a search (its results alone
    for htmx, as the person types)."""
    contact = access_contact(membership, contact_id)
    query = request.GET.get("q", "").strip()
    problem = query_problem(query, CONTACT_QUERY_MAX_LENGTH)
    found: list[Contact] = []
    if query and not problem:
        page = contacts_page(membership, ContactFilters(query=query), size=FOUND_SHOWN + 1)
        found = [c for c in page.contacts if c.pk != contact.pk][:FOUND_SHOWN]
    context = {
        "membership": membership,
        "contact": contact,
        "query": query,
        "problem": problem,
        "found": [(c, phones_in_order(c.phones.all())) for c in found],
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/_contact_merge_found.html", context)
    duplicates = contact_duplicates(membership, contact)
    context["duplicates"] = [(c, phones_in_order(c.phones.all())) for c in duplicates]
    return render(request, "web/contact_merge_find.html", context)


@member_view
def contact_duplicates_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The organization's possible duplicates, each pair with Merge (the older survives, or
    the newer with Keep ... instead on the merge page)."""
    found = duplicate_pairs(membership)
    context = {
        "membership": membership,
        "pairs": [
            (
                pair,
                phones_in_order(pair.older.phones.all()),
                phones_in_order(pair.newer.phones.all()),
            )
            for pair in found.pairs
        ],
        "more": found.more,
        "shown": PAIRS_SHOWN,
    }
    return render(request, "web/contact_duplicates.html", context)


def _picked(request: HttpRequest, prefix: str) -> dict[str, str]:
    return {
        name[len(prefix) :]: value
        for name, value in request.POST.items()
        if name.startswith(prefix) and value in (KEEP_THIS, KEEP_OTHER)
    }


@member_view
def contact_merge_confirm(
    request: HttpRequest, membership: Membership, contact_id: int, other_id: int
) -> HttpResponse:
    """Both contacts side by side, a radio for each field that differs; POST merges the
    other into this one (or says why not, keeping the choices) and opens the survivor."""
    contact = access_contact(membership, contact_id)
    other = access_contact(membership, other_id)
    keep: dict[str, str] = {}
    keep_custom: dict[str, str] = {}
    error = ""
    if request.method == "POST":
        keep = _picked(request, "keep_")
        # The radios name custom fields by id: a name may hold anything.
        names = {str(field.pk): field.name for field in custom_fields(membership.organization_id)}
        keep_custom = {
            names[pk]: value for pk, value in _picked(request, "keepcustom_").items() if pk in names
        }
        try:
            contact_merge(
                membership=membership,
                survivor_id=contact.pk,
                merged_id=other.pk,
                keep=keep,
                keep_custom=keep_custom,
            )
        except InvalidInput as exc:
            error = exc.message
        else:
            messages.success(
                request,
                f"Merged {other.name or f'contact {other.pk}'} into this contact: its numbers, "
                "conversations and consent record are here now.",
            )
            return redirect("contact", contact_id=contact.pk)
    try:
        plan = contact_merge_plan(membership, contact, other, keep=keep, keep_custom=keep_custom)
    except InvalidInput:
        # The choices were refused (`error` says why): show the defaults again.
        plan = contact_merge_plan(membership, contact, other)
    context = {
        "membership": membership,
        "contact": contact,
        "other": other,
        "plan": plan,
        "same": [choice for choice in plan.fields if not choice.differs and choice.this],
        "phones": phones_in_order(contact.phones.all()),
        "other_phones": phones_in_order(other.phones.all()),
        "groups": sorted({g.name for g in (*contact.groups.all(), *other.groups.all())}),
        "other_conversations": len(contact_conversations(membership, other)),
        "error": error,
    }
    return render(request, "web/contact_merge.html", context, status=422 if error else 200)
