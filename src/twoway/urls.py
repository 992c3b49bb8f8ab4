from django.contrib import admin
from django.urls import include, path

from twoway.api.router import api
from twoway.web.app_icons import favicon, manifest
from twoway.web.live_events import event_stream

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("webhooks/", include("twoway.carrier_events.urls")),
    path("events/", event_stream, name="events"),
    path("settings/", include("twoway.web.settings.urls")),
    path("media/", include("twoway.media.urls")),
    path("simulator/", include("twoway.simulator.urls")),
    path("favicon.ico", favicon, name="favicon"),
    path("manifest.webmanifest", manifest, name="manifest"),
    path("", include("twoway.web.urls")),
]
