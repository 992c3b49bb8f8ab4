"""Merging one contact into another (a known client who texted from a new number became a
lead of their own): the survivor keeps everything of both.

It lives here, not in `contacts`, because it moves conversations, and contacts sits below
conversations in the layers; the contact side of it is `contacts.services.merged`. Messages
and notes stay in their conversations, which move whole: a conversation is unique per
(business number, contact number), and the two contacts' numbers are different, so none
collide.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from twoway.accounts.models import Membership
from twoway.contacts.access import access_contact, require_contacts_manager
from twoway.contacts.merging import MergePlan, merge_plan
from twoway.contacts.models import Contact
from twoway.contacts.selectors import contact_custom_values, custom_fields
from twoway.contacts.services.merged import contact_absorb
from twoway.conversations.models import Conversation
from twoway.core.errors import InvalidInput, NotFound
from twoway.realtime.events import ConversationUpdated, events_publish


def contact_merge_plan(
    membership: Membership,
    survivor: Contact,
    merged: Contact,
    *,
    keep: Mapping[str, str] | None = None,
    keep_custom: Mapping[str, str] | None = None,
) -> MergePlan:
    """What merging `merged` into `survivor` keeps of each field (the merge page shows it)."""
    if survivor.pk == merged.pk:
        raise InvalidInput("A contact cannot be merged with itself.", code="merge_same_contact")
    return merge_plan(
        survivor,
        merged,
        custom_fields=list(custom_fields(membership.organization_id)),
        custom_values=(contact_custom_values(survivor), contact_custom_values(merged)),
        keep=keep,
        keep_custom=keep_custom,
    )


@transaction.atomic
def contact_merge(
    *,
    membership: Membership,
    survivor_id: int,
    merged_id: int,
    keep: Mapping[str, str] | None = None,
    keep_custom: Mapping[str, str] | None = None,
) -> Contact:
    """Merge contact `merged_id` into `survivor_id`, which keeps every phone, group, custom
    value, conversation and ledger entry of both; `keep` and `keep_custom` pick the values
    that survive (`contacts.merging`). Whoever may edit contacts may merge them; a contact
    of another organization is not found, and a refusal writes nothing."""
    require_contacts_manager(membership)
    access_contact(membership, survivor_id)
    if survivor_id == merged_id:
        raise InvalidInput("A contact cannot be merged with itself.", code="merge_same_contact")
    access_contact(membership, merged_id)
    # Locked in id order, and read again under the lock: a text that gives either of them a
    # conversation or a number meanwhile waits for the merge (PostgreSQL; SQLite writes one
    # transaction at a time).
    locked = {
        contact.pk: contact
        for contact in Contact.objects.select_for_update()
        .filter(organization_id=membership.organization_id, pk__in=(survivor_id, merged_id))
        .order_by("pk")
    }
    if len(locked) != 2:
        raise NotFound("That contact does not exist.")
    survivor, merged = locked[survivor_id], locked[merged_id]
    plan = contact_merge_plan(membership, survivor, merged, keep=keep, keep_custom=keep_custom)
    # The conversations first: deleting the merged contact would take its own along.
    Conversation.objects.filter(contact_id=merged.pk).update(contact_id=survivor.pk)
    contact_absorb(survivor=survivor, merged=merged, plan=plan, merged_by=membership)
    Contact.objects.filter(pk=merged.pk).delete()
    # Open inboxes redraw these conversations' rows and headers: the name, and the opt-in
    # state, may have changed for all of them.
    events_publish(
        [
            ConversationUpdated(
                organization_id=conversation.organization_id,
                conversation_id=conversation.pk,
                folder=conversation.folder,
                unread_count=conversation.unread_count,
            )
            for conversation in Conversation.objects.filter(contact_id=survivor.pk).only(
                "organization_id", "folder", "unread_count"
            )
        ]
    )
    return survivor
