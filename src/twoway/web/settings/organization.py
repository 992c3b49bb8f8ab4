"""Settings, Organization: name, time zone, message length, countries, compliance texts."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.accounts.services import organization_settings_update, time_zone_names
from twoway.core.errors import InvalidInput
from twoway.web.settings.accounts_forms import OrganizationSettingsForm, add_service_error


@member_view
def organization_settings(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    organization = membership.organization
    status = 200
    if request.method == "POST":
        # No instance: a refused form must not leave half-applied values on the organization.
        form = OrganizationSettingsForm(request.POST, organization=organization)
        if form.is_valid():
            try:
                organization_settings_update(
                    actor=membership, organization=organization, **form.cleaned_data
                )
            except InvalidInput as exc:
                add_service_error(form, exc, {})
            else:
                messages.success(request, "Organization settings saved.")
                return redirect("settings_organization")
        status = 422
    else:
        form = OrganizationSettingsForm(instance=organization)
    context = {
        "membership": membership,
        "organization": organization,
        "form": form,
        "time_zones": sorted(time_zone_names()),
    }
    return render(request, "web/settings/organization.html", context, status=status)
