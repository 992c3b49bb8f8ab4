"""New conversation's To field: the clients it suggests as a name, number, e-mail, UID or client
ID is typed, each of their numbers a choice of its own."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from twoway.accounts.access import initiate_refusal
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.contacts.lookup import contact_suggestions
from twoway.contacts.models import phones_in_order
from twoway.core.text import CONTACT_QUERY_MAX_LENGTH, query_problem


@member_view
def to_suggestions(request: HttpRequest, membership: Membership) -> HttpResponse:
    refusal = initiate_refusal(membership)
    if refusal is not None:
        raise refusal
    typed = request.GET.get("to", "").strip()
    if query_problem(typed, CONTACT_QUERY_MAX_LENGTH):
        typed = ""  # nothing to suggest: the form itself says what is wrong on Send
    choices = [
        (contact, phones_in_order(contact.phones.all()))
        for contact in contact_suggestions(membership, typed)
    ]
    return render(request, "web/_to_suggestions.html", {"choices": choices, "typed": typed})
