"""PostgreSQL: the trigram indexes behind the contacts search's substring matches (`lookup.py`).

A part of a name, an e-mail address or a number ("555 01" in +14155550123) is a substring
match, which no ordinary index answers: at 100,000 contacts a scan takes tens of milliseconds,
a trigram index about one. The indexes are on exactly the expressions the search spells
(`SearchedText`, `phone_digits`), or the planner would not use them. pg_trgm ships with
PostgreSQL and is a trusted extension; where it is missing, the search still works, by
scanning. SQLite scans: it has no such index.
"""

from __future__ import annotations

import logging

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
