"""Importing contacts from a CSV file: the upload, matching its columns with fields over a
preview of its first rows, the progress of the import and its error report."""

from __future__ import annotations

import csv
import io

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.contacts.access import access_contact_import, require_contacts_manager
from twoway.contacts.import_columns import field_choices
from twoway.contacts.imports import (
    contact_import_cancel,
    contact_import_create,
    contact_import_preview,
    contact_import_start,
    max_bytes,
    size_problem,
)
from twoway.contacts.models import ContactImport, ContactImportStatus
from twoway.contacts.selectors import contact_import_problems, contact_imports, custom_fields
from twoway.core.errors import InvalidInput
from twoway.core.text import csv_cell

# What a multipart body carries besides the file itself (boundaries, the CSRF token).
_FORM_OVERHEAD = 64 * 1024


def _upload_page(
    request: HttpRequest, membership: Membership, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "membership": membership,
        "imports": contact_imports(membership)[:10],
        "max_mb": max_bytes() / 1024 / 1024,
        "error": error,
    }
    return render(request, "web/contact_import_upload.html", context, status=status)


@member_view
@require_http_methods(["GET", "POST"])
def contact_import_upload(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_contacts_manager(membership)
    if request.method == "GET":
        return _upload_page(request, membership)
    # Refused by its announced size, before the view touches the file.
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if problem := size_problem(length - _FORM_OVERHEAD):
        return _upload_page(request, membership, problem, status=413)
    upload = request.FILES.get("file")
    if upload is None:
        return _upload_page(request, membership, "Choose a CSV file to import.", status=422)
    try:
        started = contact_import_create(
            membership=membership,
            file_name=upload.name or "contacts.csv",
            content=upload,
            size=upload.size or 0,
        )
    except InvalidInput as exc:
        status = 413 if exc.code == "file_too_large" else 422
        return _upload_page(request, membership, exc.message, status=status)
    return redirect("contact_import", import_id=started.pk)


def _detail_context(membership: Membership, found: ContactImport) -> dict[str, object]:
    fields = list(custom_fields(membership.organization_id))
    waiting = found.status == ContactImportStatus.MAPPING
    return {
        "membership": membership,
        "import": found,
        "columns": list(zip(found.columns, found.mapping, strict=True)) if waiting else [],
        "choices": field_choices(fields),
        "preview": contact_import_preview(found) if waiting else [],
    }


@member_view
@require_http_methods(["GET", "POST"])
def contact_import_detail(
    request: HttpRequest, membership: Membership, import_id: int
) -> HttpResponse:
    """An import: its columns to match (POST starts it, or cancels it), else its progress."""
    found = access_contact_import(membership, import_id)
    if request.method == "POST" and found.status != ContactImportStatus.MAPPING:
        # Sent twice, or from a page of before it started: it goes on as it is.
        return redirect("contact_import", import_id=found.pk)
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            contact_import_cancel(membership=membership, contact_import=found)
            return redirect("contact_import_upload")
        mapping = request.POST.getlist("field")
        try:
            contact_import_start(membership=membership, contact_import=found, mapping=mapping)
        except InvalidInput as exc:
            context = _detail_context(membership, found)
            # What was chosen stays chosen.
            if len(mapping) == len(found.columns):
                context["columns"] = list(zip(found.columns, mapping, strict=True))
            context["error"] = exc.message
            return render(request, "web/contact_import.html", context, status=422)
        return redirect("contact_import", import_id=found.pk)
    return render(request, "web/contact_import.html", _detail_context(membership, found))


@member_view
@require_GET
def contact_import_progress(
    request: HttpRequest, membership: Membership, import_id: int
) -> HttpResponse:
    """The progress bar, which the page asks for again each second until the import ends."""
    found = access_contact_import(membership, import_id)
    return render(request, "web/_contact_import_progress.html", {"import": found})


@member_view
@require_GET
def contact_import_errors(
    request: HttpRequest, membership: Membership, import_id: int
) -> HttpResponse:
    """The rows the import skipped, one line a reason: row number, column, reason."""
    found = access_contact_import(membership, import_id)
    # The BOM makes Excel read the file as UTF-8. Built whole: under ASGI Django gathers a
    # streamed answer's lines before sending them anyway.
    out = io.StringIO("\ufeff")
    out.seek(0, io.SEEK_END)
    writer = csv.writer(out)
    writer.writerow(["row", "column", "reason"])
    for row, column, reason in contact_import_problems(found):
        writer.writerow([row, csv_cell(column), csv_cell(reason)])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    stem = found.file_name.rsplit(".", 1)[0] or "contacts"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)[:80]
    response["Content-Disposition"] = f'attachment; filename="{safe}-errors.csv"'
    return response
