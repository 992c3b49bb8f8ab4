"""Search: messages, notes and contacts of the conversations the member sees, archived
ones included, newest first; narrowed by number, folder, dates and the contact's client type,
group or home location."""

from __future__ import annotations

import datetime
import functools
import zoneinfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.conversations.models import Folder
from twoway.conversations.search import conversation_search
from twoway.conversations.selectors import contact_filter_choices
from twoway.core.text import SEARCH_QUERY_MAX_LENGTH, query_problem
from twoway.numbers.access import numbers_usable_by
from twoway.web.contact_filters import contact_filter_from, contact_filter_values


def _date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def _number_id(value: str) -> int | None:
    return int(value) if value.isdigit() else None


@member_view
def search(request: HttpRequest, membership: Membership) -> HttpResponse:
    """GET /search/?q=&number=&folder=&from=&to=&client_type=&group=&location= (dates in the
    organization's time zone, both days included). htmx asks for the results alone while the
    member types."""
    query = request.GET.get("q", "").strip()
    number_id = _number_id(request.GET.get("number", ""))
    folder = request.GET.get("folder", "")
    folder = folder if folder in Folder.values else ""
    start, end = _date(request.GET.get("from", "")), _date(request.GET.get("to", ""))
    tz = zoneinfo.ZoneInfo(membership.organization.time_zone)
    problem = query_problem(query, SEARCH_QUERY_MAX_LENGTH)
    contact_filter = contact_filter_from(request)
    results = conversation_search(
        membership,
        # Refused, not searched: PostgreSQL cannot even compare a NUL character.
        "" if problem else query,
        number_id=number_id,
        folder=folder or None,
        since=datetime.datetime.combine(start, datetime.time.min, tz) if start else None,
        until=(
            datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tz)
            if end
            else None
        ),
        contact_filter=contact_filter,
    )
    context = {
        "membership": membership,
        "q": "" if problem else query,
        "query_error": problem,
        "results": results,
        "numbers": numbers_usable_by(membership),
        "folders": Folder.choices,
        "filters": {
            "number": number_id,
            "folder": folder,
            "from": start.isoformat() if start else "",
            "to": end.isoformat() if end else "",
            **contact_filter_values(contact_filter),
        },
        # Called by the template: the results redrawn as one types do not read them again.
        "contact_options": functools.partial(contact_filter_choices, membership.organization_id),
        "tz": tz,
    }
    status = 400 if problem else 200
    if request.htmx and not request.htmx.boosted:  # type: ignore[attr-defined]
        return render(request, "web/_search_results.html", context, status=status)
    return render(request, "web/search.html", context, status=status)
