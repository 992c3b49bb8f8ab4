"""A contact's last activity (`Contact.last_activity_at`): the time of the last text to or from
them, in any of their conversations, moved wherever a conversation's last message moves (one
text at a time in `conversations.services`, or a whole batch at once in `messaging`)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.db import connections, router
from django.db.models import Q

from twoway.contacts.models import Contact
from twoway.core.rows import rows_update


def contact_activity_record(contact_id: int, at: datetime.datetime) -> None:
    """The contact texted or was texted `at`; an earlier time never replaces a later one (two
    conversations' texts may be stored out of order)."""
    Contact.objects.filter(
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at), pk=contact_id
    ).update(last_activity_at=at)


def contacts_activity_record(latest: Mapping[int, datetime.datetime]) -> None:
    """`contact_activity_record` for many contacts (contact id: time of their last text) in one
    UPDATE."""
    db = connections[router.db_for_write(Contact)]
    at_field = Contact._meta.get_field("last_activity_at")
    rows_update(
        Contact,
        columns=[("cid", "bigint"), ("at", "timestamptz")],
        rows=[(contact_id, at_field.get_db_prep_save(at, db)) for contact_id, at in latest.items()],
        assignments=(
            "last_activity_at = CASE WHEN last_activity_at IS NULL OR last_activity_at < v.at"
            " THEN v.at ELSE last_activity_at END"
        ),
        returning="id",
    )
