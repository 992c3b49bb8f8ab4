from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConversationsConfig(AppConfig):
    name = "twoway.conversations"

    def ready(self) -> None:
        from twoway.conversations.search_index import ensure_after_migrate

        # SQLite drops a table's triggers when a migration rebuilds it; put the search ones back.
        post_migrate.connect(ensure_after_migrate, sender=self, dispatch_uid="search_triggers")
