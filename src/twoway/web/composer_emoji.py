"""The emoji names for the composer's picker and its as-you-type shortcodes: the table the server
converts with (core/emoji_names.py), so what the composer shows is what is sent.

Its address carries the emoji package's version (`?v=`, from the `emoji_names_url` tag), so it is
cached for a year and fetched again only when the package changes. It holds no one's data: it
is the same for every visitor, logged in or not."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from twoway.core.emoji_names import emoji_names_json

ONE_YEAR = 365 * 24 * 3600


@require_GET
@gzip_page
@cache_control(max_age=ONE_YEAR, public=True, immutable=True)
def emoji_names(request: HttpRequest) -> HttpResponse:
    return HttpResponse(emoji_names_json(), content_type="application/json")
