"""Exporting contacts to CSV: Export to CSV on the contacts table asks for the contacts it shows
(its search and filters), the file is written in the background, and its page shows the
progress and then the download."""

from __future__ import annotations

from typing import cast

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.contacts.access import access_contact_export, require_contacts_manager
from twoway.contacts.exports import contact_export_start
from twoway.contacts.lookup import ContactFilters
from twoway.contacts.models import ContactExportStatus
from twoway.core.errors import NotFound


@require_POST
@member_view
def contact_export_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_contacts_manager(membership)
    export = contact_export_start(membership, ContactFilters.from_params(request.POST))
    target = reverse("contact_export", args=[export.pk])
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponse(status=204, headers={"HX-Redirect": target})
    return redirect(target)


@require_GET
@member_view
def contact_export_page(
    request: HttpRequest, membership: Membership, export_id: int
) -> HttpResponse:
    export = access_contact_export(membership, export_id)
    return render(request, "web/contact_export.html", {"export": export})


@require_GET
@member_view
def contact_export_progress(
    request: HttpRequest, membership: Membership, export_id: int
) -> HttpResponse:
    export = access_contact_export(membership, export_id)
    return render(request, "web/_contact_export_progress.html", {"export": export})


@require_GET
@member_view
def contact_export_download(
    request: HttpRequest, membership: Membership, export_id: int
) -> HttpResponse:
    export = access_contact_export(membership, export_id)
    if export.status != ContactExportStatus.DONE or not export.stored_name:
        raise NotFound("That export is not ready.")
    day = export.created_at.date().isoformat()
    download = FileResponse(
        default_storage.open(export.stored_name, "rb"),
        as_attachment=True,
        filename=f"contacts-{day}.csv",
        content_type="text/csv; charset=utf-8",
    )
    # A streamed file, which the views' decorator passes on like any other answer.
    return cast(HttpResponse, download)
