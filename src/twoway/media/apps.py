from django.apps import AppConfig
from django.db.models.signals import post_delete


class MediaConfig(AppConfig):
    name = "twoway.media"
    verbose_name = "Message media (MMS)"

    def ready(self) -> None:
        from twoway.media.models import MessageMedia
        from twoway.media.services import media_file_forget

        # A message deleted (its conversation deleted for good) takes its files with it, so no
        # picture outlives the words it came with.
        post_delete.connect(media_file_forget, sender=MessageMedia, dispatch_uid="media_files")
