"""Writing generated rows in bulk with plain SQL."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models

# Rows per executemany on SQLite.
BATCH = 5000


class Writer:
    """Bulk writes with plain SQL: COPY on PostgreSQL, executemany on SQLite.

    Columns the caller leaves out get their model default, so a column added later with a
    default needs no change here."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        connection.ensure_connection()
        self._utc = dt.UTC

    def time(self, epoch: float) -> Any:
        value = dt.datetime.fromtimestamp(epoch, self._utc)
        # SQLite keeps datetimes as UTC text, exactly as Django writes them.
        return value if self.postgres else value.replace(tzinfo=None).isoformat(" ", "microseconds")

    def uid(self, value: uuid.UUID) -> Any:
        return value if self.postgres else value.hex

    def next_id(self, model: type[models.Model]) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT MAX(id) FROM "{model._meta.db_table}"')  # noqa: S608
            return int(cursor.fetchone()[0] or 0) + 1

    def _defaults(self, model: type[models.Model], given: list[str]) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        for model_field in model._meta.concrete_fields:
            column = model_field.column
            if not column or column in given or model_field.primary_key:
                continue
            value = model_field.get_default()
            defaults[column] = model_field.get_db_prep_save(value, connection)
        return defaults

    def write(
        self, model: type[models.Model], columns: list[str], rows: Iterable[tuple[Any, ...]]
    ) -> int:
        defaults = self._defaults(model, columns)
        names = [*columns, *defaults]
        constant = tuple(defaults.values())
        table = model._meta.db_table
        column_list = ", ".join(f'"{name}"' for name in names)
        count = 0
        raw = connection.connection
        if self.postgres:
            copy_sql = f'COPY "{table}" ({column_list}) FROM STDIN'
            with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row + constant)
                    count += 1
            return count
        # Random uids land all over their unique index: without a cache that holds it, each
        # insert reads and writes pages of it from disk (the connection closes afterwards).
        raw.execute("PRAGMA cache_size = -262144")  # KiB
        placeholders = ", ".join("?" for _ in names)
        insert = f'INSERT INTO "{table}" ({column_list}) VALUES ({placeholders})'  # noqa: S608
        cursor = raw.cursor()
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row + constant)
            if len(batch) == BATCH:
                cursor.executemany(insert, batch)
                count += len(batch)
                batch = []
        cursor.executemany(insert, batch)
        return count + len(batch)

    def reset_sequences(self, models_: list[type[models.Model]]) -> None:
        """Ids given explicitly: PostgreSQL's sequences must continue after them."""
        if not self.postgres:
            return
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models_):
                cursor.execute(sql)

    def analyze(self, models_: list[type[models.Model]]) -> None:
        """Fresh statistics, as autovacuum would soon have them (PostgreSQL only: SQLite
        installations run with none)."""
        if not self.postgres:
            return
        # VACUUM (the visibility map, for index-only scans) cannot run inside a transaction.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            for model in models_:
                cursor.execute(f'{command} "{model._meta.db_table}"')
