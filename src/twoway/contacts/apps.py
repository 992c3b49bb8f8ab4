from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ContactsConfig(AppConfig):
    name = "twoway.contacts"

    def ready(self) -> None:
        from twoway.contacts.lookup_index import ensure_after_migrate

        # SQLite drops a table's triggers when a migration rebuilds it; put the lookup ones back.
        post_migrate.connect(ensure_after_migrate, sender=self, dispatch_uid="lookup_triggers")
