"""What a browser asks of any site: the icon (`/favicon.ico`, asked for by pages that name none,
such as the API's documents) and the web app manifest that lets a phone add Twoway to its home
screen."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

# The brand colour (`--blue` in twoway.css): the phone's title bar and splash screen.
THEME_COLOR = "#1a66d6"


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    return redirect(static("web/icons/twoway-32.png"), permanent=True)


@require_GET
@cache_control(max_age=3600, public=True)
def manifest(request: HttpRequest) -> HttpResponse:
    icons = [
        {
            "src": static(f"web/icons/twoway-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
        }
        for size in (192, 512)
    ]
    icons.append({"src": static("web/icons/twoway.svg"), "sizes": "any", "type": "image/svg+xml"})
    return JsonResponse(
        {
            "name": "Twoway",
            "short_name": "Twoway",
            "description": "Your team's two-way texting inbox.",
            "start_url": reverse("inbox"),
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": THEME_COLOR,
            "icons": icons,
        },
        content_type="application/manifest+json",
    )
