"""Settings, Users: the organization's people, their roles and permissions, invitations."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.accounts.selectors import (
    access_invitation,
    access_member,
    organization_members,
    pending_invitations,
)
from twoway.accounts.services import (
    invitation_create,
    invitation_link,
    invitation_revoke,
    membership_deactivate,
    membership_reactivate,
    membership_update,
)
from twoway.core.errors import InvalidInput
from twoway.web.settings.accounts_forms import InviteForm, MemberForm, add_service_error


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _member_form(member: Membership, data: Any = None) -> MemberForm:
    prefix = f"member-{member.pk}"
    if data is not None:
        return MemberForm(data, prefix=prefix)
    return MemberForm(instance=member, prefix=prefix)


def _row(member: Membership, form: MemberForm | None = None, **extra: Any) -> dict[str, Any]:
    return {"member": member, "form": form or _member_form(member), **extra}


def _users_page(
    request: HttpRequest,
    membership: Membership,
    *,
    invite_form: InviteForm | None = None,
    row: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    members = organization_members(membership.organization_id)
    rows = [row if row and row["member"].pk == m.pk else _row(m) for m in members]
    invitations = [
        (invitation, invitation_link(invitation, base_url=_base_url(request)))
        for invitation in pending_invitations(membership.organization_id)
    ]
    context = {
        "membership": membership,
        "organization": membership.organization,
        "rows": rows,
        "invite_form": invite_form or InviteForm(),
        "invitations": invitations,
    }
    return render(request, "web/settings/users.html", context, status=status)


@member_view
def users(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    return _users_page(request, membership)


@require_POST
@member_view
def user_invite(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = invitation_create(
                organization=membership.organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=membership,
                base_url=_base_url(request),
            )
        except InvalidInput as exc:
            add_service_error(form, exc, {"invalid_email": "email", "email_taken": "email"})
        else:
            messages.success(
                request,
                f"Invitation e-mailed to {invitation.email}. The link is also listed under "
                "Pending invitations, if you would rather send it yourself.",
            )
            return redirect("settings_users")
    return _users_page(request, membership, invite_form=form, status=422)


def _after_change(
    request: HttpRequest, membership: Membership, member: Membership, row: dict[str, Any]
) -> HttpResponse:
    """The changed row for htmx, the whole page otherwise; somewhere else if the admin just
    took their own access away."""
    if member.pk == membership.pk and not (member.is_admin and member.user.is_active):
        target = reverse("inbox") if member.user.is_active else reverse("login")
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return redirect(target)
    status = 422 if row.get("error") else 200
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/settings/_member_row.html", row, status=status)
    if status == 200:
        messages.success(request, row.get("saved", "Saved."))
        return redirect("settings_users")
    return _users_page(request, membership, row=row, status=status)


@require_POST
@member_view
def user_update(request: HttpRequest, membership: Membership, membership_id: int) -> HttpResponse:
    member = access_member(membership, membership_id)
    form = _member_form(member, request.POST)
    row = _row(member, form, membership=membership)
    if form.is_valid():
        try:
            membership_update(actor=membership, membership=member, **form.cleaned_data)
        except InvalidInput as exc:
            row["error"] = exc.message
        else:
            row.update(form=_member_form(member), saved=f"Saved {member.user.email}.")
    else:
        row["error"] = "Check the row: " + " ".join(
            str(message) for errors in form.errors.values() for message in errors
        )
    return _after_change(request, membership, member, row)


def _set_active(
    request: HttpRequest, membership: Membership, membership_id: int, *, active: bool
) -> HttpResponse:
    member = access_member(membership, membership_id)
    row = _row(member, membership=membership)
    try:
        if active:
            membership_reactivate(actor=membership, membership=member)
        else:
            membership_deactivate(actor=membership, membership=member)
    except InvalidInput as exc:
        row["error"] = exc.message
    else:
        verb = "reactivated: they can log in again" if active else "deactivated"
        row["saved"] = f"{member.user.email} {verb}."
    return _after_change(request, membership, member, row)


@require_POST
@member_view
def user_deactivate(
    request: HttpRequest, membership: Membership, membership_id: int
) -> HttpResponse:
    return _set_active(request, membership, membership_id, active=False)


@require_POST
@member_view
def user_reactivate(
    request: HttpRequest, membership: Membership, membership_id: int
) -> HttpResponse:
    return _set_active(request, membership, membership_id, active=True)


@require_POST
@member_view
def invitation_cancel(
    request: HttpRequest, membership: Membership, invitation_id: int
) -> HttpResponse:
    invitation = access_invitation(membership, invitation_id)
    invitation_revoke(actor=membership, invitation=invitation)
    messages.success(request, f"The invitation to {invitation.email} is canceled.")
    return redirect("settings_users")
