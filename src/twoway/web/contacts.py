"""Contacts: the organization's list and a contact's card, for Administrative and Standard
users; Limited users meet contacts only in their conversations."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.accounts.services import time_zone_names
from twoway.contacts.access import ContactMerged, access_contact
from twoway.contacts.lookup import SORTS, ContactFilters, contacts_page, filter_values
from twoway.contacts.merging import contact_duplicates
from twoway.contacts.models import Contact, ContactPhone, CustomField, phones_in_order
from twoway.contacts.selectors import contact_custom_values, contact_groups, custom_fields
from twoway.contacts.services import ContactChanges, contact_update
from twoway.contacts.validation import TEXT_FIELDS, PhoneInput
from twoway.conversations.by_contact import latest_conversations
from twoway.conversations.models import Conversation
from twoway.conversations.selectors import contact_conversations
from twoway.core.errors import InvalidInput
from twoway.core.text import CONTACT_QUERY_MAX_LENGTH, query_problem
from twoway.web.consent_ledger import contact_history_page


@member_view
def contact_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The table: search, filters and sort from the query string (so a reload or a shared link
    shows the same); htmx asks for the rows alone, as the filters change or for "Show more"."""
    filters = ContactFilters.from_params(request.GET)
    rows_only = bool(request.htmx)  # type: ignore[attr-defined]
    template = "web/_contact_rows.html" if rows_only else "web/contacts.html"
    context: dict[str, object] = {"membership": membership, "filters": filters}
    if not rows_only:
        context.update(
            sorts=SORTS,
            groups=list(contact_groups(membership.organization_id)),
            client_types=filter_values(membership, "client_type"),
            home_locations=filter_values(membership, "home_location"),
        )
    if problem := query_problem(filters.query, CONTACT_QUERY_MAX_LENGTH):
        # Refused, not searched: PostgreSQL cannot even compare a NUL character.
        context.update(rows=[], query_error=problem, filters=ContactFilters())
        return render(request, template, context, status=400)
    page = contacts_page(membership, filters, after=request.GET.get("after", ""))
    conversations = latest_conversations(membership, (c.pk for c in page.contacts))
    context.update(
        rows=[
            _row(membership, contact, conversations.get(contact.pk)) for contact in page.contacts
        ],
        next_cursor=page.next_cursor,
        query_string=urlencode(filters.as_params()),
        appended="after" in request.GET,
    )
    return render(request, template, context)


@dataclass
class ContactRow:
    """A row of the table: the contact, and how it may be texted from there."""

    contact: Contact
    phones: list[ContactPhone]
    # The contact's conversation the member may open, if any; Text opens it.
    conversation: Conversation | None
    can_text: bool

    @property
    def primary(self) -> ContactPhone | None:
        return self.phones[0] if self.phones else None


def _row(membership: Membership, contact: Contact, conversation: Conversation | None) -> ContactRow:
    phones = phones_in_order(contact.phones.all())
    # Answering a conversation needs the SMS permission; starting one, a role that may.
    allowed = membership.can_reply if conversation is not None else membership.can_initiate
    return ContactRow(contact, phones, conversation, bool(phones) and allowed)


@dataclass
class PhoneRow:
    number: str
    label: str = ""
    primary: bool = False
    phone_id: int | None = None
    removed: bool = False


@dataclass
class CardForm:
    """The card's inputs: what is stored, or what was sent when it was refused."""

    values: dict[str, str]
    phones: list[PhoneRow]
    new_phone: PhoneRow
    groups: set[str]
    custom: list[tuple[CustomField, str]]
    opted_out: bool
    # What the form carried: a part left out (a form of an older page) stays as it is.
    sent_fields: frozenset[str] = frozenset(TEXT_FIELDS)
    sent_phones: bool = True
    sent_groups: bool = True
    sent_custom: frozenset[int] = frozenset()

    @classmethod
    def stored(cls, contact: Contact, fields: list[CustomField]) -> CardForm:
        values = contact_custom_values(contact)
        ordered = phones_in_order(contact.phones.all())
        return cls(
            values={name: getattr(contact, name) for name in TEXT_FIELDS},
            phones=[PhoneRow(p.number, p.label, n == 0, p.pk) for n, p in enumerate(ordered)],
            new_phone=PhoneRow(""),
            groups={group.name for group in contact.groups.all()},
            custom=[(f, values.get(f.pk, "")) for f in fields],
            opted_out=contact.is_opted_out,
        )

    @classmethod
    def sent(cls, post: QueryDict, contact: Contact, fields: list[CustomField]) -> CardForm:
        stored = contact_custom_values(contact)
        primary = post.get("primary", "")
        removed = set(post.getlist("phone_remove"))
        rows = [
            PhoneRow(number, label, primary == phone_id, int(phone_id), phone_id in removed)
            for phone_id, number, label in zip(
                post.getlist("phone_id"),
                post.getlist("phone_number"),
                post.getlist("phone_label"),
                strict=False,
            )
            if phone_id.isdigit()
        ]
        return cls(
            values={name: post.get(name, getattr(contact, name)) for name in TEXT_FIELDS},
            phones=rows,
            new_phone=PhoneRow(
                post.get("new_phone_number", ""),
                post.get("new_phone_label", ""),
                primary == "new",
            ),
            groups=set(post.getlist("groups")),
            custom=[(f, post.get(f"custom_{f.pk}", stored.get(f.pk, ""))) for f in fields],
            opted_out=post.get("opted_out") == "on",
            sent_fields=frozenset(name for name in TEXT_FIELDS if name in post),
            sent_phones="phone_id" in post or "new_phone_number" in post,
            sent_groups="groups_shown" in post,
            sent_custom=frozenset(f.pk for f in fields if f"custom_{f.pk}" in post),
        )

    def changes(self) -> ContactChanges:
        phones = [
            PhoneInput(row.number, row.label, row.primary, row.phone_id)
            for row in self.phones
            if not row.removed
        ]
        if self.new_phone.number.strip():
            phones.append(
                PhoneInput(self.new_phone.number, self.new_phone.label, self.new_phone.primary)
            )
        return ContactChanges(
            **{name: value for name, value in self.values.items() if name in self.sent_fields},
            phones=phones if self.sent_phones else None,
            groups=sorted(self.groups) if self.sent_groups else None,
            custom_fields={f.name: value for f, value in self.custom if f.pk in self.sent_custom},
            opted_out=self.opted_out,
        )


@member_view
def contact_card(request: HttpRequest, membership: Membership, contact_id: int) -> HttpResponse:
    """The card; POST saves every field at once, or nothing and says why (422). A contact
    merged into another leads to the survivor's card, for good (301; a form sent to it is
    not saved there)."""
    try:
        contact = access_contact(membership, contact_id)
    except ContactMerged as merged:
        if request.method == "POST":
            messages.error(request, f"{merged.message} Nothing was saved.")
            return redirect("contact", contact_id=merged.survivor_id)
        return redirect("contact", contact_id=merged.survivor_id, permanent=True)
    fields = list(custom_fields(membership.organization_id))
    error = ""
    if request.method == "POST":
        form = CardForm.sent(request.POST, contact, fields)
        try:
            contact_update(contact=contact, changed_by=membership, changes=form.changes())
        except InvalidInput as exc:
            error = exc.message
            # What the page shows of the contact (its title) is what is stored.
            contact.refresh_from_db()
        else:
            messages.success(request, "Saved.")
            return redirect("contact", contact_id=contact.pk)
    else:
        form = CardForm.stored(contact, fields)
    context = {
        "membership": membership,
        "contact": contact,
        "form": form,
        "has_phones": contact.phones.exists(),
        "primary_phone": next(iter(phones_in_order(contact.phones.all())), None),
        "all_groups": list(contact_groups(membership.organization_id)),
        "time_zones": sorted(time_zone_names()),
        "conversations": contact_conversations(membership, contact),
        **contact_history_page(membership, contact.pk, request.GET.get("consent_page")),
        "duplicates": contact_duplicates(membership, contact),
        "error": error,
    }
    return render(request, "web/contact.html", context, status=422 if error else 200)
