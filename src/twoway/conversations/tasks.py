"""Background jobs of the conversations app."""

from __future__ import annotations

from django.db import connection

from twoway.conversations.search_index import search_index_compact
from twoway.jobs.tasks_api import job


@job
def deleted_texts_forget() -> None:
    """After a conversation is deleted for good: its words out of the search index too."""
    search_index_compact(connection)
