"""Settings, Canned responses: the organization's (administrators keep them) and each member's
own, which only that member sees."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.canned.access import access_canned_response_change
from twoway.canned.merge_fields import merge_fields
from twoway.canned.models import CANNED_BODY_MAX_LENGTH, CANNED_NAME_MAX_LENGTH
from twoway.canned.selectors import canned_responses_list
from twoway.canned.services import (
    canned_response_create,
    canned_response_delete,
    canned_response_update,
)
from twoway.core.errors import InvalidInput


def _page(
    request: HttpRequest,
    membership: Membership,
    *,
    error: str = "",
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    responses = list(canned_responses_list(membership))
    context = {
        "membership": membership,
        "organization_responses": [c for c in responses if not c.is_personal],
        "personal_responses": [c for c in responses if c.is_personal],
        "merge_fields": merge_fields(membership.organization_id),
        "name_max": CANNED_NAME_MAX_LENGTH,
        "body_max": CANNED_BODY_MAX_LENGTH,
        "error": error,
        # A refused new response keeps what was typed, beside the reason.
        "typed": typed or {},
    }
    return render(request, "web/settings/canned_responses.html", context, status=status)


def _done(request: HttpRequest, message: str, anchor: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("settings_canned_responses") + anchor)


def _anchor(personal: bool) -> str:
    return "#personal" if personal else "#organization"


@member_view
def canned_responses(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _page(request, membership)


@require_POST
@member_view
def canned_add(request: HttpRequest, membership: Membership) -> HttpResponse:
    personal = request.POST.get("scope") != "organization"
    name, body = request.POST.get("name", ""), request.POST.get("body", "")
    try:
        canned = canned_response_create(actor=membership, name=name, body=body, personal=personal)
    except InvalidInput as exc:
        scope = "personal" if personal else "organization"
        typed = {"scope": scope, "name": name, "body": body}
        return _page(request, membership, error=exc.message, typed=typed, status=422)
    return _done(request, f"Canned response “{canned.name}” added.", _anchor(personal))


@require_POST
@member_view
def canned_edit(request: HttpRequest, membership: Membership, canned_id: int) -> HttpResponse:
    canned = access_canned_response_change(membership, canned_id)
    if request.POST.get("delete"):
        canned_response_delete(actor=membership, canned=canned)
        return _done(
            request, f"Canned response “{canned.name}” deleted.", _anchor(canned.is_personal)
        )
    try:
        canned_response_update(
            actor=membership,
            canned=canned,
            name=request.POST.get("name", ""),
            body=request.POST.get("body", ""),
        )
    except InvalidInput as exc:
        return _page(request, membership, error=exc.message, status=422)
    return _done(request, f"Canned response “{canned.name}” saved.", f"#canned-{canned.pk}")
