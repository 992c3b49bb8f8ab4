"""Settings, API keys: every member creates and revokes their own personal keys; administrators
see and revoke everyone's in the organization."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from twoway.accounts.access import access_api_key
from twoway.accounts.api_keys import api_key_create, api_key_revoke, api_keys_list
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.core.errors import InvalidInput


def _page(
    request: HttpRequest, membership: Membership, status: int = 200, **extra: object
) -> HttpResponse:
    context = {"membership": membership, "keys": api_keys_list(membership), **extra}
    return render(request, "web/settings/api_keys.html", context, status=status)


@member_view
def api_keys(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The list; POST creates a key of the member's own and shows it, this once."""
    if request.method != "POST":
        return _page(request, membership)
    name = request.POST.get("name", "")
    try:
        key, raw = api_key_create(owner=membership, name=name)
    except InvalidInput as exc:
        return _page(request, membership, status=422, error=exc.message, name=name)
    # Rendered, not redirected: the raw key exists only in this response.
    response = _page(request, membership, status=201, new_key=key, raw_key=raw)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@member_view
def api_key_revoke_view(request: HttpRequest, membership: Membership, key_id: int) -> HttpResponse:
    key = access_api_key(membership, key_id)
    api_key_revoke(actor=membership, key=key)
    messages.success(
        request, f"The key “{key.name}” ({key.prefix}…) is revoked: it no longer works."
    )
    return redirect("settings_api_keys")
