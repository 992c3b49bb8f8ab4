"""Full-text search: FTS5 tables and triggers on SQLite, GIN expression indexes on PostgreSQL.

The statements live in conversations/search_index.py (docs/decisions.md, "Search"), which also
puts SQLite's triggers back after a later migration rebuilds a table. Existing rows are indexed
here.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def create_index(apps: Any, schema_editor: Any) -> None:
    from twoway.conversations.search_index import search_index_create

    search_index_create(schema_editor.connection)


def drop_index(apps: Any, schema_editor: Any) -> None:
    from twoway.conversations.search_index import search_index_drop

    search_index_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0004_assignee_team_reply_origin_index"),
        ("contacts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_index, reverse_code=drop_index, elidable=False),
    ]
