from django.urls import path

from twoway.media.views import media_file, media_public

urlpatterns = [
    path("<int:media_id>/", media_file, name="media_file"),
    # A signed token (uid:timestamp:signature) is never digits alone, so it never meets the above.
    path("<str:token>/", media_public, name="media_public"),
]
