"""Media files served: to members beside their thread, and to carriers by signed link."""

from __future__ import annotations

from typing import cast

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.http import require_GET

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.media.access import access_media
from twoway.media.models import MessageMedia
from twoway.media.signing import media_by_token


def _file(media: MessageMedia, *, private: bool) -> FileResponse:
    response = FileResponse(
        default_storage.open(media.storage_name, "rb"),
        content_type=media.content_type,
        filename=media.original_filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Inline for pictures and videos; anything else a carrier handed over is only downloaded.
    if not (media.is_image or media.is_video):
        response["Content-Disposition"] = "attachment"
    response["Cache-Control"] = "private, max-age=3600" if private else "no-store"
    return response


@require_GET
@member_view
def media_file(request: HttpRequest, membership: Membership, media_id: int) -> HttpResponse:
    # A streamed file: member_view passes it through as it passes any response.
    return cast(HttpResponse, _file(access_media(membership, media_id), private=True))


@require_GET
def media_public(request: HttpRequest, token: str) -> HttpResponseBase:
    """The carrier's copy: no login, the signed link is the permission while it lasts."""
    media = media_by_token(token)
    if media is None:
        raise Http404("This media link is not valid or has expired.")
    return _file(media, private=False)
