from django.urls import include, path

from twoway.web.settings import index

urlpatterns = [
    path("", index.settings_index, name="settings"),
    path("", include("twoway.web.settings.accounts_urls")),
    path("", include("twoway.web.settings.numbers_urls")),
]
