"""Glue between views (the web pages, the simulated phones) and the access checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from twoway.accounts.access import access_membership
from twoway.core.errors import TwowayError


def member_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log-in required; passes the user's membership; TwowayErrors become error pages."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            membership = access_membership(request.user)
            return view(request, membership, *args, **kwargs)
        except TwowayError as exc:
            return render(request, "web/error.html", {"error": exc.message}, status=exc.status)

    return wrapper
