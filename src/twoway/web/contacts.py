"""Contacts: the organization's list and a contact's card, for Administrative and Standard
users; Limited users meet contacts only in their conversations."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.contacts.access import access_contact
from twoway.contacts.selectors import contacts_list
from twoway.contacts.services import contact_update
from twoway.conversations.selectors import contact_conversations
from twoway.core.errors import InvalidInput
from twoway.core.text import CONTACT_QUERY_MAX_LENGTH, query_problem

PAGE_SIZE = 50


@member_view
def contact_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    query = request.GET.get("q", "")
    template = "web/_contact_rows.html" if request.htmx else "web/contacts.html"  # type: ignore[attr-defined]
    if problem := query_problem(query, CONTACT_QUERY_MAX_LENGTH):
        # Refused, not searched: PostgreSQL cannot even compare a NUL character.
        context = {"membership": membership, "page": [], "q": "", "query_error": problem}
        return render(request, template, context, status=400)
    page = Paginator(contacts_list(membership, query), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"membership": membership, "page": page, "q": query}
    return render(request, template, context)


@member_view
def contact_card(request: HttpRequest, membership: Membership, contact_id: int) -> HttpResponse:
    """The card; POST saves name, e-mail and "Opted out" (the ledger records a change)."""
    contact = access_contact(membership, contact_id)
    error = ""
    if request.method == "POST":
        try:
            contact_update(
                contact=contact,
                changed_by=membership,
                name=request.POST.get("name", ""),
                email=request.POST.get("email", ""),
                opted_out=request.POST.get("opted_out") == "on",
            )
        except InvalidInput as exc:
            error = exc.message
        else:
            messages.success(request, "Saved.")
            return redirect("contact", contact_id=contact.pk)
    context = {
        "membership": membership,
        "contact": contact,
        "phones": list(contact.phones.order_by("pk")),
        "conversations": contact_conversations(membership, contact),
        "consent_events": list(contact.consent_events.order_by("-created_at", "-pk")[:20]),
        "form": request.POST if error else None,
        "error": error,
    }
    return render(request, "web/contact.html", context, status=422 if error else 200)
