"""A merged contact's fields, phones, groups, custom values and consent ledger become the
survivor's. The merge itself (`conversations.contact_merge`) calls this in its transaction,
after moving the conversations and before deleting the merged contact's row."""

from __future__ import annotations

from twoway.accounts.models import Membership
from twoway.compliance.models import ConsentEventKind
from twoway.compliance.services import consent_events_move, consent_record
from twoway.contacts.merging import KEEP_THIS, MergePlan
from twoway.contacts.models import (
    ConsentStatus,
    Contact,
    ContactMerge,
    ContactPhone,
    CustomFieldValue,
    OptInStatus,
)


def _who(contact: Contact) -> str:
    state = "opted out" if contact.is_opted_out else "opted in"
    return f"{contact.name or 'no name'} (contact {contact.pk}, {state})"


def _lead(survivor: Contact, merged: Contact) -> Contact:
    """Whose lead information survives: the earliest first text; else the survivor's."""
    leads = [c for c in (survivor, merged) if c.lead_texted_at is not None]
    if not leads:
        return survivor if survivor.source_number_id or not merged.source_number_id else merged
    return min(leads, key=lambda c: (c.lead_texted_at, c is not survivor))


def _move_phones(survivor: Contact, merged: Contact) -> None:
    """Every phone stays, and the survivor's primary stays the primary."""
    own = list(ContactPhone.objects.filter(contact=survivor).order_by("pk"))
    if not own:
        ContactPhone.objects.filter(contact=merged).update(contact=survivor)
        return
    if not any(phone.is_primary for phone in own):
        # Its oldest number is the primary only while it is the oldest: say so, or an older
        # number of the merged contact would take its place.
        ContactPhone.objects.filter(pk=own[0].pk).update(is_primary=True)
    ContactPhone.objects.filter(contact=merged).update(contact=survivor, is_primary=False)


def _move_custom_values(survivor: Contact, plan: MergePlan) -> None:
    for field, choice in plan.custom:
        if choice.keep == KEEP_THIS or not choice.differs:
            continue
        if choice.other:
            CustomFieldValue.objects.update_or_create(
                contact=survivor, field=field, defaults={"value": choice.other}
            )
        else:
            CustomFieldValue.objects.filter(contact=survivor, field=field).delete()


def contact_absorb(
    *, survivor: Contact, merged: Contact, plan: MergePlan, merged_by: Membership
) -> None:
    """Write the merge's contact side: `plan`'s values, every phone and group, the lead
    information of the earliest first text, the stricter opt-in and consent status, a
    possible opt-out still waiting, the ledger, and where the merged contact's id now leads.
    `merged` itself is left to delete."""
    for choice in plan.fields:
        setattr(survivor, choice.name, choice.kept)
    survivor.name = plan.name or survivor.name or merged.name
    lead = _lead(survivor, merged)
    survivor.lead_texted_at, survivor.source_number_id = lead.lead_texted_at, lead.source_number_id
    # The merged contact's conversations become the survivor's, and their last texts with them.
    activity = [at for at in (survivor.last_activity_at, merged.last_activity_at) if at]
    survivor.last_activity_at = max(activity, default=None)
    # A consent message one of them never had goes out again before the next text: their
    # numbers are different phones, and the consent was given on one of them.
    if ConsentStatus.NOT_SENT in (survivor.consent_status, merged.consent_status):
        survivor.consent_status = ConsentStatus.NOT_SENT
    opted_out = survivor.is_opted_out or merged.is_opted_out
    if opted_out:
        consent_record(
            organization_id=survivor.organization_id,
            contact_id=survivor.pk,
            kind=ConsentEventKind.OPT_OUT,
            source="merge",
            text=f"{_who(merged)} merged into {_who(survivor)} by {merged_by.user.email}: "
            "opted out wins.",
            actor=merged_by.user.email,
        )
        survivor.opt_in_status = OptInStatus.OPTED_OUT
    # A possible opt-out waiting for an agent on either stays waiting (automated texts keep
    # holding off) until someone decides; an opt-out has decided it.
    flagged = [at for at in (survivor.opt_out_flagged_at, merged.opt_out_flagged_at) if at]
    survivor.opt_out_flagged_at = None if opted_out else min(flagged, default=None)
    _move_phones(survivor, merged)
    survivor.groups.add(*merged.groups.all())
    _move_custom_values(survivor, plan)
    consent_events_move(
        organization_id=survivor.organization_id,
        from_contact_id=merged.pk,
        to_contact_id=survivor.pk,
    )
    # One hop always: what led to the merged contact now leads to the survivor.
    ContactMerge.objects.filter(survivor=merged).update(survivor=survivor)
    ContactMerge.objects.create(
        organization_id=survivor.organization_id,
        merged_id=merged.pk,
        merged_name=merged.name,
        survivor=survivor,
        merged_by=merged_by,
    )
    survivor.save(
        update_fields=[
            *(choice.name for choice in plan.fields),
            "name",
            "lead_texted_at",
            "last_activity_at",
            "source_number",
            "consent_status",
            "opt_in_status",
            "opt_out_flagged_at",
        ]
    )
