"""SQLite: trigram tables for the contacts search's substring matches, kept by triggers
(contacts/lookup_index.py). PostgreSQL has its trigram indexes since 0004."""

from typing import Any

from django.db import migrations


def create(apps: Any, schema_editor: Any) -> None:
    from twoway.contacts.lookup_index import sqlite_lookup_index_create

    sqlite_lookup_index_create(schema_editor.connection)


def drop(apps: Any, schema_editor: Any) -> None:
    from twoway.contacts.lookup_index import sqlite_lookup_index_drop

    sqlite_lookup_index_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0008_contact_opt_out_flagged_at")]

    operations = [migrations.RunPython(create, reverse_code=drop)]
