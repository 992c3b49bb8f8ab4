"""The full-text indexes behind conversations/search.py, kept by the database itself.

Nothing in Python maintains them, so bulk inserts and raw SQL writes stay indexed too:
- SQLite: FTS5 external-content tables over the message body and the contact name, kept by
  triggers. Only messages of a conversation are indexed: the others (marketing) are in no inbox.
- PostgreSQL: GIN expression indexes on `to_tsvector('simple', ...)`; the search uses exactly
  the same expressions, or the planner would not use them.

Migration conversations.0005 creates them. On SQLite, Django alters a table by copying it to a
new one, which drops its triggers: `search_triggers_ensure` (run after every `migrate`) puts them
back and rebuilds the index they missed.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Value
from django.db.models.functions import Replace

from twoway.contacts.lookup_index import SQLITE_TABLES as CONTACT_TRIGRAM_TABLES

logger = logging.getLogger(__name__)

MESSAGE_FTS = "conversations_message_search"
CONTACT_FTS = "contacts_contact_search"
# SQL spelling of the PostgreSQL expressions, shared with the queries.
MESSAGE_TSVECTOR = 'to_tsvector(\'simple\', "conversations_message"."body")'
CONTACT_TSVECTOR = 'to_tsvector(\'simple\', "contacts_contact"."name")'

_SQLITE_TABLES = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS conversations_message_search USING fts5(
        body, content='conversations_message', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS contacts_contact_search USING fts5(
        name, content='contacts_contact', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
]

# name -> statement. An external-content table must be told the old text to forget it, so an
# update is a 'delete' of the old row and an insert of the new one.
_SQLITE_TRIGGERS = {
    "conversations_message_search_ai": """
        CREATE TRIGGER IF NOT EXISTS conversations_message_search_ai
        AFTER INSERT ON conversations_message WHEN new.conversation_id IS NOT NULL BEGIN
            INSERT INTO conversations_message_search(rowid, body) VALUES (new.id, new.body);
        END""",
    "conversations_message_search_ad": """
        CREATE TRIGGER IF NOT EXISTS conversations_message_search_ad
        AFTER DELETE ON conversations_message WHEN old.conversation_id IS NOT NULL BEGIN
            INSERT INTO conversations_message_search(conversations_message_search, rowid, body)
            VALUES ('delete', old.id, old.body);
        END""",
    "conversations_message_search_au": """
        CREATE TRIGGER IF NOT EXISTS conversations_message_search_au
        AFTER UPDATE OF body, conversation_id ON conversations_message BEGIN
            INSERT INTO conversations_message_search(conversations_message_search, rowid, body)
            SELECT 'delete', old.id, old.body WHERE old.conversation_id IS NOT NULL;
            INSERT INTO conversations_message_search(rowid, body)
            SELECT new.id, new.body WHERE new.conversation_id IS NOT NULL;
        END""",
    "contacts_contact_search_ai": """
        CREATE TRIGGER IF NOT EXISTS contacts_contact_search_ai
        AFTER INSERT ON contacts_contact BEGIN
            INSERT INTO contacts_contact_search(rowid, name) VALUES (new.id, new.name);
        END""",
    "contacts_contact_search_ad": """
        CREATE TRIGGER IF NOT EXISTS contacts_contact_search_ad
        AFTER DELETE ON contacts_contact BEGIN
            INSERT INTO contacts_contact_search(contacts_contact_search, rowid, name)
            VALUES ('delete', old.id, old.name);
        END""",
    "contacts_contact_search_au": """
        CREATE TRIGGER IF NOT EXISTS contacts_contact_search_au
        AFTER UPDATE OF name ON contacts_contact BEGIN
            INSERT INTO contacts_contact_search(contacts_contact_search, rowid, name)
            VALUES ('delete', old.id, old.name);
            INSERT INTO contacts_contact_search(rowid, name) VALUES (new.id, new.name);
        END""",
}

# Fill (or refill) the indexes from the tables: the same rows the triggers keep. ('rebuild'
# would index every message, marketing ones too.)
_SQLITE_REBUILD = [
    "INSERT INTO conversations_message_search(conversations_message_search) VALUES ('delete-all')",
    """INSERT INTO conversations_message_search(rowid, body)
        SELECT id, body FROM conversations_message WHERE conversation_id IS NOT NULL""",
    "INSERT INTO contacts_contact_search(contacts_contact_search) VALUES ('rebuild')",
]

_POSTGRESQL_CREATE = [
    # Not partial (unlike the SQLite index, which leaves out texts without a conversation): the
    # planner reads the statistics of an indexed expression only from a non-partial index, and
    # without them it takes a rare word for a common one and walks every message (seconds).
    """CREATE INDEX IF NOT EXISTS message_body_search_idx ON conversations_message
        USING gin ((to_tsvector('simple', "conversations_message"."body")))""",
    """CREATE INDEX IF NOT EXISTS contact_name_search_idx ON contacts_contact
        USING gin ((to_tsvector('simple', "contacts_contact"."name")))""",
    # Statistics on the indexed expressions tell the planner a rare word (GIN bitmap scan)
    # from a common one (walk the newest messages and stop at the limit).
    "ANALYZE conversations_message",
    "ANALYZE contacts_contact",
    "ANALYZE conversations_conversation",
]

# Digits typed anywhere in a contact number ("555 0123" in +14155550123) are a substring match:
# a trigram index answers it in well under a millisecond at 100,000 conversations, where a scan
# takes tens. pg_trgm ships with PostgreSQL and is a trusted extension (the database owner may
# create it); where it is missing, the search still works, by scanning.
#
# The index is on the number's digits (NUMBER_DIGITS), not on the column: a trigram index also
# answers `contact_number = ...`, and the planner, misled by the index's not yet merged entries,
# chose it over the (number, contact number) unique index to find a conversation, at several
# milliseconds a lookup instead of a few microseconds.
NUMBER_DIGITS = "replace(contact_number, '+', '')"


def number_digits() -> Replace:
    """NUMBER_DIGITS as the search spells it, so the planner matches it to the index."""
    return Replace(F("contact_number"), Value("+"), Value(""))


_POSTGRESQL_TRIGRAM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "DROP INDEX IF EXISTS conversation_contact_number_trgm_idx",
    f"""CREATE INDEX IF NOT EXISTS conversation_number_digits_trgm_idx
        ON conversations_conversation USING gin (({NUMBER_DIGITS}) gin_trgm_ops)""",
]

_POSTGRESQL_DROP = [
    "DROP INDEX IF EXISTS message_body_search_idx",
    "DROP INDEX IF EXISTS contact_name_search_idx",
    "DROP INDEX IF EXISTS conversation_contact_number_trgm_idx",
    "DROP INDEX IF EXISTS conversation_number_digits_trgm_idx",
]


def _execute(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def search_index_create(connection: BaseDatabaseWrapper) -> None:
    """Create the indexes and fill them from the existing rows."""
    if connection.vendor == "sqlite":
        _execute(connection, [*_SQLITE_TABLES, *_SQLITE_TRIGGERS.values(), *_SQLITE_REBUILD])
    elif connection.vendor == "postgresql":
        number_index_create(connection)
        _execute(connection, _POSTGRESQL_CREATE)


def number_index_create(connection: BaseDatabaseWrapper) -> None:
    """PostgreSQL: the trigram index on contact numbers' digits, where pg_trgm can be had."""
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=connection.alias):
            _execute(connection, _POSTGRESQL_TRIGRAM)
    except DatabaseError as exc:
        logger.warning("No trigram index for contact numbers (%s); searching them scans.", exc)


def search_index_drop(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "sqlite":
        drops = [f"DROP TRIGGER IF EXISTS {name}" for name in _SQLITE_TRIGGERS]
        _execute(connection, [*drops, f"DROP TABLE IF EXISTS {MESSAGE_FTS}"])
        _execute(connection, [f"DROP TABLE IF EXISTS {CONTACT_FTS}"])
    elif connection.vendor == "postgresql":
        _execute(connection, _POSTGRESQL_DROP)


def search_triggers_ensure(connection: BaseDatabaseWrapper) -> bool:
    """Put back SQLite triggers a table rebuild dropped, and refill the index; True if it had to.

    Does nothing before migration 0005 has created the index (or after it was reversed).
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT type, name FROM sqlite_master WHERE name IN (%s, %s) OR type = 'trigger'",
            [MESSAGE_FTS, CONTACT_FTS],
        )
        present = {(kind, name) for kind, name in cursor.fetchall()}
    if ("table", MESSAGE_FTS) not in present or ("table", CONTACT_FTS) not in present:
        return False
    missing = [name for name in _SQLITE_TRIGGERS if ("trigger", name) not in present]
    if not missing:
        return False
    _execute(connection, [_SQLITE_TRIGGERS[name] for name in missing])
    _execute(connection, _SQLITE_REBUILD)
    return True


def ensure_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver (conversations/apps.py)."""
    from django.db import connections

    search_triggers_ensure(connections[using])


def search_index_compact(connection: BaseDatabaseWrapper) -> None:
    """SQLite: rewrite the full-text indexes in one piece. FTS5 forgets a deleted text by adding
    a 'delete' entry to a new segment; the words stay in the older segments, readable in the
    index's own tables, until they are merged. After a conversation is deleted for good its words
    must go, so the indexes are merged ('optimize'), which rewrites them: a background job, as
    it takes seconds on a large inbox. PostgreSQL's indexes keep no text a query can read."""
    if connection.vendor != "sqlite":
        return
    _execute(
        connection,
        [
            f"INSERT INTO {table}({table}) VALUES ('optimize')"  # noqa: S608 (our table names)
            for table in (MESSAGE_FTS, CONTACT_FTS, *CONTACT_TRIGRAM_TABLES)
        ],
    )
