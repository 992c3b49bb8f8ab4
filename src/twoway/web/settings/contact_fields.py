"""Settings, Contact fields: the organization's contact groups and custom fields."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.contacts.access import access_contact_group, access_custom_field
from twoway.contacts.definitions import (
    contact_group_create,
    contact_group_delete,
    contact_group_rename,
    custom_field_create,
    custom_field_delete,
    custom_field_update,
)
from twoway.contacts.models import CustomFieldKind
from twoway.contacts.selectors import contact_groups, custom_fields
from twoway.core.errors import InvalidInput


def _options(text: str) -> list[str]:
    """Choices typed one per line."""
    return text.splitlines()


def _page(
    request: HttpRequest, membership: Membership, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "membership": membership,
        "groups": contact_groups(membership.organization_id),
        "fields": custom_fields(membership.organization_id),
        "kinds": CustomFieldKind.choices,
        "error": error,
    }
    return render(request, "web/settings/contact_fields.html", context, status=status)


def _done(request: HttpRequest, message: str, anchor: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("settings_contact_fields") + anchor)


@member_view
def contact_fields(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    return _page(request, membership)


@require_POST
@member_view
def group_add(request: HttpRequest, membership: Membership) -> HttpResponse:
    try:
        group = contact_group_create(actor=membership, name=request.POST.get("name", ""))
    except InvalidInput as exc:
        return _page(request, membership, error=exc.message, status=422)
    return _done(request, f"Group “{group.name}” added.", "#groups")


@require_POST
@member_view
def group_edit(request: HttpRequest, membership: Membership, group_id: int) -> HttpResponse:
    group = access_contact_group(membership, group_id)
    if request.POST.get("delete"):
        contact_group_delete(actor=membership, group=group)
        return _done(request, f"Group “{group.name}” deleted.", "#groups")
    try:
        contact_group_rename(actor=membership, group=group, name=request.POST.get("name", ""))
    except InvalidInput as exc:
        return _page(request, membership, error=exc.message, status=422)
    return _done(request, f"Group “{group.name}” saved.", "#groups")


@require_POST
@member_view
def field_add(request: HttpRequest, membership: Membership) -> HttpResponse:
    try:
        field = custom_field_create(
            actor=membership,
            name=request.POST.get("name", ""),
            kind=request.POST.get("kind", ""),
            options=_options(request.POST.get("options", "")),
        )
    except InvalidInput as exc:
        return _page(request, membership, error=exc.message, status=422)
    return _done(request, f"Field “{field.name}” added.", "#fields")


@require_POST
@member_view
def field_edit(request: HttpRequest, membership: Membership, field_id: int) -> HttpResponse:
    field = access_custom_field(membership, field_id)
    if request.POST.get("delete"):
        custom_field_delete(actor=membership, field=field)
        return _done(request, f"Field “{field.name}” and its values deleted.", "#fields")
    try:
        cleared = custom_field_update(
            actor=membership,
            field=field,
            name=request.POST.get("name", ""),
            options=_options(request.POST.get("options", "")),
        )
    except InvalidInput as exc:
        return _page(request, membership, error=exc.message, status=422)
    note = f" {cleared} contacts had a choice that is gone; it was cleared." if cleared else ""
    return _done(request, f"Field “{field.name}” saved.{note}", "#fields")
