"""PostgreSQL: the contact-number trigram index moves from the column to the number's digits.

A trigram index on the column also answers `contact_number = ...`, and the planner chose it over
the (number, contact number) unique index to find a conversation (conversations/search_index.py).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def digits_index(apps: Any, schema_editor: Any) -> None:
    from twoway.conversations.search_index import number_index_create

    number_index_create(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("conversations", "0006_redundant_indexes")]

    operations = [migrations.RunPython(digits_index, reverse_code=migrations.RunPython.noop)]
