from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "twoway.media"
    verbose_name = "Message media (MMS)"
