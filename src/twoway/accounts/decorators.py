"""Glue between views (the web pages, the simulated phones) and the access checks."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from twoway.accounts.access import access_membership
from twoway.core.errors import TwowayError


@functools.cache
def organization_zone(name: str) -> zoneinfo.ZoneInfo | dt.tzinfo:
    """The zone of an IANA name; a name this machine does not know (its tz data older than
    the one that stored it) falls back to UTC rather than breaking every page."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def member_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log-in required; passes the user's membership; TwowayErrors become error pages.
    Times on the pages are in the organization's time zone, as its search and exports are."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            membership = access_membership(request.user)
            with timezone.override(organization_zone(membership.organization.time_zone)):
                return view(request, membership, *args, **kwargs)
        except TwowayError as exc:
            return render(request, "web/error.html", {"error": exc.message}, status=exc.status)

    return wrapper
