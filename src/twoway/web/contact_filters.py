"""The contact filters of the inbox and search pages (client type, group, home location), as
their forms and links carry them."""

from __future__ import annotations

import re

from django.http import HttpRequest

from twoway.contacts.models import Contact
from twoway.conversations.selectors import ContactFilter

# The longest client type and home location a contact can have (the columns' sizes).
CLIENT_TYPE_MAX = Contact._meta.get_field("client_type").max_length or 0
HOME_LOCATION_MAX = Contact._meta.get_field("home_location").max_length or 0


def contact_filter_from(request: HttpRequest) -> ContactFilter:
    """`client_type`, `group` and `location` of the query string; a value no contact could
    have (too long, a group that is not a number) is left out, as an unknown assignee is."""
    client_type = request.GET.get("client_type", "")
    location = request.GET.get("location", "")
    group = request.GET.get("group", "")
    return ContactFilter(
        client_type=client_type if len(client_type) <= CLIENT_TYPE_MAX else "",
        group_id=int(group) if re.fullmatch(r"[0-9]{1,18}", group) else None,
        home_location=location if len(location) <= HOME_LOCATION_MAX else "",
    )


def contact_filter_values(contact_filter: ContactFilter) -> dict[str, str]:
    """The filter as query-string values, empty ones included."""
    return {
        "client_type": contact_filter.client_type,
        "group": "" if contact_filter.group_id is None else str(contact_filter.group_id),
        "location": contact_filter.home_location,
    }
