"""The trigram indexes behind the contacts search's substring matches (`lookup.py`).

A part of a name, an e-mail address or a number ("555 01" in +14155550123) is a substring
match, which no ordinary index answers: at 100,000 contacts a scan takes tens of milliseconds
on PostgreSQL and over a hundred on SQLite, a trigram index about one.

PostgreSQL: GIN indexes on exactly the expressions the search spells (`SearchedText`,
`phone_digits`), or the planner would not use them. pg_trgm ships with PostgreSQL and is a
trusted extension; where it is missing, the search still works, by scanning.

SQLite: FTS5 tables with the trigram tokenizer, one row per contact (its searched text) and
one per contact phone (its digits), kept by triggers; the search reads the matching ids from
them (`sqlite_text_matches`). A migration that rebuilds a table drops its triggers, so they are
put back after every migrate (`ensure_after_migrate`, contacts/apps.py).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE INDEX IF NOT EXISTS contact_searched_trgm_idx ON contacts_contact USING gin
        ((UPPER(name || ' ' || email || ' ' || external_uid || ' ' || client_id)) gin_trgm_ops)""",
    """CREATE INDEX IF NOT EXISTS contact_phone_digits_trgm_idx ON contacts_contactphone
        USING gin ((REPLACE(number, '+', '')) gin_trgm_ops)""",
    # A substring's share of the contacts is estimated from a sample of the indexed texts: of
    # the default 100, one hit is 1%, and PostgreSQL, expecting a rare name on every hundredth
    # contact, walked the name index testing each (tens of ms) instead of reading the few
    # matches from this index and sorting them (under one). A larger sample tells them apart.
    "ALTER INDEX contact_searched_trgm_idx ALTER COLUMN 1 SET STATISTICS 1000",
    "ALTER INDEX contact_phone_digits_trgm_idx ALTER COLUMN 1 SET STATISTICS 1000",
    "ANALYZE contacts_contact",
    "ANALYZE contacts_contactphone",
]

_DROP = [
    "DROP INDEX IF EXISTS contact_searched_trgm_idx",
    "DROP INDEX IF EXISTS contact_phone_digits_trgm_idx",
]


CONTACT_TRIGRAM = "contacts_contact_trigram"
PHONE_TRIGRAM = "contacts_contactphone_trigram"
# What a trigram phrase needs to use the index: a shorter one matches nothing there.
TRIGRAM_MIN = 3

# The statements spell the tables' names (CONTACT_TRIGRAM, PHONE_TRIGRAM) and the searched text
# (`lookup.SearchedText`, without its UPPER: the tokenizer ignores case) out in full.
_SQLITE_TABLES = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS contacts_contact_trigram
        USING fts5(searched, tokenize='trigram')""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS contacts_contactphone_trigram
        USING fts5(digits, contact_id UNINDEXED, tokenize='trigram')""",
]
_SQLITE_TRIGGERS = {
    "contacts_contact_trigram_ai": """
        CREATE TRIGGER IF NOT EXISTS contacts_contact_trigram_ai
        AFTER INSERT ON contacts_contact BEGIN
            INSERT INTO contacts_contact_trigram(rowid, searched) VALUES
                (new.id, new.name || ' ' || new.email || ' ' || new.external_uid || ' '
                 || new.client_id);
        END""",
    "contacts_contact_trigram_ad": """
        CREATE TRIGGER IF NOT EXISTS contacts_contact_trigram_ad
        AFTER DELETE ON contacts_contact BEGIN
            DELETE FROM contacts_contact_trigram WHERE rowid = old.id;
        END""",
    "contacts_contact_trigram_au": """
        CREATE TRIGGER IF NOT EXISTS contacts_contact_trigram_au
        AFTER UPDATE OF name, email, external_uid, client_id ON contacts_contact BEGIN
            UPDATE contacts_contact_trigram SET searched = new.name || ' ' || new.email || ' '
                || new.external_uid || ' ' || new.client_id
            WHERE rowid = new.id;
        END""",
    "contacts_contactphone_trigram_ai": """
        CREATE TRIGGER IF NOT EXISTS contacts_contactphone_trigram_ai
        AFTER INSERT ON contacts_contactphone BEGIN
            INSERT INTO contacts_contactphone_trigram(rowid, digits, contact_id)
            VALUES (new.id, REPLACE(new.number, '+', ''), new.contact_id);
        END""",
    "contacts_contactphone_trigram_ad": """
        CREATE TRIGGER IF NOT EXISTS contacts_contactphone_trigram_ad
        AFTER DELETE ON contacts_contactphone BEGIN
            DELETE FROM contacts_contactphone_trigram WHERE rowid = old.id;
        END""",
    "contacts_contactphone_trigram_au": """
        CREATE TRIGGER IF NOT EXISTS contacts_contactphone_trigram_au
        AFTER UPDATE OF number, contact_id ON contacts_contactphone BEGIN
            UPDATE contacts_contactphone_trigram SET digits = REPLACE(new.number, '+', ''),
                contact_id = new.contact_id
            WHERE rowid = new.id;
        END""",
}
# Fill (or refill) the tables from the rows: what the triggers keep.
_SQLITE_REBUILD = [
    "DELETE FROM contacts_contact_trigram",
    """INSERT INTO contacts_contact_trigram(rowid, searched)
        SELECT id, name || ' ' || email || ' ' || external_uid || ' ' || client_id
        FROM contacts_contact""",
    "DELETE FROM contacts_contactphone_trigram",
    """INSERT INTO contacts_contactphone_trigram(rowid, digits, contact_id)
        SELECT id, REPLACE(number, '+', ''), contact_id FROM contacts_contactphone""",
]
_SQLITE_MATCHES = """SELECT rowid FROM contacts_contact_trigram
    WHERE contacts_contact_trigram MATCH %s"""
_SQLITE_NUMBER_MATCHES = """ UNION SELECT contact_id FROM contacts_contactphone_trigram
    WHERE contacts_contactphone_trigram MATCH %s"""
SQLITE_TABLES = (CONTACT_TRIGRAM, PHONE_TRIGRAM)


def _phrase(text: str) -> str:
    """`text` as one FTS5 phrase: read literally, whatever it holds."""
    return '"' + text.replace('"', '""') + '"'


def sqlite_text_matches(query: str, digits: set[str]) -> tuple[str, list[str]] | None:
    """SQLite: the ids of the contacts whose searched text contains `query`, or one of whose
    numbers contains one of `digits`, as SQL and its parameters; None when a part is too short
    for the trigram index (the search then scans)."""
    if len(query) < TRIGRAM_MIN or any(len(part) < TRIGRAM_MIN for part in digits):
        return None
    sql = _SQLITE_MATCHES
    params = [_phrase(query)]
    if digits:
        sql += _SQLITE_NUMBER_MATCHES
        params.append(" OR ".join(_phrase(part) for part in sorted(digits)))
    return sql, params


def _execute(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def lookup_index_create(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=connection.alias):
            _execute(connection, _CREATE)
    except DatabaseError as exc:
        logger.warning("No trigram indexes for the contacts search (%s); it scans.", exc)


def lookup_index_drop(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "postgresql":
        _execute(connection, _DROP)


def sqlite_lookup_index_create(connection: BaseDatabaseWrapper) -> None:
    """SQLite: the trigram tables, their triggers, filled from the existing rows."""
    if connection.vendor == "sqlite":
        _execute(connection, [*_SQLITE_TABLES, *_SQLITE_TRIGGERS.values(), *_SQLITE_REBUILD])


def sqlite_lookup_index_drop(connection: BaseDatabaseWrapper) -> None:
    """SQLite: the trigram tables and their triggers gone (the search scans again)."""
    if connection.vendor != "sqlite":
        return
    drops = [f"DROP TRIGGER IF EXISTS {name}" for name in _SQLITE_TRIGGERS]
    tables = [f"DROP TABLE IF EXISTS {table}" for table in SQLITE_TABLES]
    _execute(connection, [*drops, *tables])


def sqlite_lookup_index_present(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (%s, %s)",
            list(SQLITE_TABLES),
        )
        (found,) = cursor.fetchone()
    return bool(found == len(SQLITE_TABLES))


def lookup_triggers_ensure(connection: BaseDatabaseWrapper) -> bool:
    """SQLite: put back triggers a table rebuild dropped and refill the tables; True if it had
    to. Does nothing before the migration that made the tables (or after it was reversed)."""
    if connection.vendor != "sqlite" or not sqlite_lookup_index_present(connection):
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {name for (name,) in cursor.fetchall()}
    missing = [name for name in _SQLITE_TRIGGERS if name not in present]
    if not missing:
        return False
    _execute(connection, [_SQLITE_TRIGGERS[name] for name in missing])
    _execute(connection, _SQLITE_REBUILD)
    return True


def ensure_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver (contacts/apps.py)."""
    from django.db import connections

    lookup_triggers_ensure(connections[using])
