"""Quiet hours applied to one contact: when an automated text to them may go
(`compliance.quiet_hours` has the rules; this reads what they need from the database)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from twoway.accounts.models import Organization
from twoway.compliance.quiet_hours import (
    CAP_PERIOD,
    in_window,
    next_allowed_moment,
    recipient_zone,
    window_next,
)
from twoway.contacts.models import Contact, ContactPhone
from twoway.conversations.models import AUTOMATED_CATEGORIES, Message, Status


def automated_send_time(
    *,
    organization: Organization,
    contact: Contact,
    to_number: str,
    at: dt.datetime,
    also_taken: list[dt.datetime] | None = None,
) -> dt.datetime:
    """The next moment at or after `at` an automated text may reach `contact` at `to_number`.

    `also_taken` are the due times of texts being scheduled with this one, not stored yet."""
    zone = recipient_zone(
        contact_time_zone=contact.time_zone,
        number=to_number,
        organization_time_zone=organization.time_zone,
    )
    taken: list[dt.datetime] = list(also_taken or [])
    cap = organization.automated_daily_cap
    if cap:
        taken += _automated_times(organization, contact, at)
    return next_allowed_moment(
        at,
        zone=zone,
        start=organization.sending_window_start,
        end=organization.sending_window_end,
        cap=cap,
        taken=taken,
    )


def _automated_times(
    organization: Organization, contact: Contact, at: dt.datetime
) -> list[dt.datetime]:
    """When the contact's other automated texts went or are due, from a day before `at` on."""
    since = at - CAP_PERIOD
    numbers = list(contact.phones.values_list("number", flat=True))
    rows = (
        Message.objects.filter(
            organization=organization,
            to_number__in=numbers,
            category__in=list(AUTOMATED_CATEGORIES),
        )
        .filter(Q(send_at__gt=since) | Q(send_at__isnull=True, created_at__gt=since))
        .exclude(status__in=[Status.CANCELED, Status.FAILED])
        .values_list("send_at", "created_at")
    )
    return [send_at or created_at for send_at, created_at in rows]


def steps_outside_quiet_hours(
    steps: list[tuple[int, int, str]], at: dt.datetime
) -> dict[int, dt.datetime]:
    """Of these automated texts (message id, organization id, number) due at `at`, those whose
    contact is outside the sending window then, each with the window's next opening."""
    if not steps:
        return {}
    organizations = {
        o.pk: o for o in Organization.objects.filter(pk__in={org for _, org, _ in steps})
    }
    zones = dict(
        ((organization_id, number), time_zone)
        for organization_id, number, time_zone in ContactPhone.objects.filter(
            organization_id__in=organizations, number__in={number for _, _, number in steps}
        ).values_list("organization_id", "number", "contact__time_zone")
    )
    held: dict[int, dt.datetime] = {}
    for message_id, organization_id, number in steps:
        organization = organizations[organization_id]
        zone = recipient_zone(
            contact_time_zone=zones.get((organization_id, number), ""),
            number=number,
            organization_time_zone=organization.time_zone,
        )
        start, end = organization.sending_window_start, organization.sending_window_end
        if not in_window(at, zone=zone, start=start, end=end):
            held[message_id] = window_next(at, zone=zone, start=start, end=end)
    return held
