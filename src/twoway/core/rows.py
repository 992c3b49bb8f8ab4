"""Writing many rows of a model at once, faster than `bulk_create` (the worker's inbound batches).

`rows_insert` writes what `bulk_create` would write for the same objects, without building model
instances, and on PostgreSQL sends the values as one binary array per column apart from the
statement (`bound_cursor`). A model with a `save()` override or signals gets neither, as with
`bulk_create`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import BooleanField, Field, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone


def rows_insert(
    model: type[Model], rows: list[dict[str, Any]], *, returning: bool = False
) -> list[int]:
    """Store rows as `bulk_create` stores the same objects, and return their ids in order when
    asked: without model instances, and on PostgreSQL in one `INSERT ... SELECT FROM unnest()`
    of one array per column sent apart from the statement. `bulk_create` spent most of a batch's
    time preparing fields and having psycopg quote every value into the SQL (docs/decisions.md,
    "Inbound batches: rows written without `bulk_create`").

    Every row names the same columns, by attname, with plain values for plain columns (no
    enums); the others get what a new instance and its `save` would: the field's default,
    `timezone.now()` for `auto_now(_add)`.
    """
    if not rows:
        return []
    db = connections[router.db_for_write(model)]
    now = timezone.now()
    given = rows[0].keys()
    columns: list[tuple[Field[Any, Any], str | None, Any]] = []  # field, attname given, constant
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue  # the database numbers the rows
        if field.attname in given:
            columns.append((field, field.attname, None))
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            columns.append((field, None, field.get_db_prep_save(now, db)))
        elif field.has_default() and callable(field.default):
            raise ValueError(f"{model.__name__}.{field.name} needs a value per row")
        else:
            columns.append((field, None, field.get_db_prep_save(field.get_default(), db)))
    names = ", ".join(db.ops.quote_name(str(field.column)) for field, _, _ in columns)
    insert = f"INSERT INTO {db.ops.quote_name(model._meta.db_table)} ({names}) "
    pk = db.ops.quote_name(str(model._meta.pk.column if model._meta.pk else "id"))
    statements: list[tuple[str, list[Any]]] = []
    if db.vendor == "postgresql":
        selected: list[str] = []
        arrays: list[str] = []
        constants: list[Any] = []
        values: list[list[Any]] = []
        for field, name, constant in columns:
            kind = _pg_type(field, db)
            if name is None:
                selected.append(f"CAST(%s AS {kind})")
                constants.append(constant)
            else:
                selected.append(f"u.c{len(arrays)}")
                # %b: psycopg sends the array in binary, several times faster to make than
                # the text form, which escapes every element.
                arrays.append(f"CAST(%b AS {kind}[])")
                values.append(_column_values(field, name, rows, db))
        labels = ", ".join(f"c{n}" for n in range(len(arrays)))
        sql = f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS u({labels})"  # noqa: S608
        # Placeholders bind in the order they appear: the select list's, then unnest's.
        statements.append((insert + sql, constants + values))
    else:
        per_statement = max(1, (db.features.max_query_params or 999) // len(columns))
        marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
        by_column = [
            _column_values(field, name, rows, db) if name else [constant] * len(rows)
            for field, name, constant in columns
        ]
        for start in range(0, len(rows), per_statement):
            chunk = list(zip(*(c[start : start + per_statement] for c in by_column), strict=True))
            params = [value for row in chunk for value in row]
            statements.append((insert + "VALUES " + ", ".join([marks] * len(chunk)), params))
    ids: list[int] = []
    with bound_cursor(db) as cursor:
        for sql, params in statements:
            if not returning:
                cursor.execute(sql, params)
                continue
            cursor.execute(f"{sql} RETURNING {pk}", params)
            # One statement numbers its rows in the order it inserts them, so the ids sorted are
            # the rows' ids in order, whatever order RETURNING lists them in.
            ids += sorted(row[0] for row in cursor.fetchall())
    return ids


# Columns whose values the batch passes as the database stores them (str, int, bool, None):
# `get_db_prep_save` would only copy them, at a cost that adds up over thousands of values.
_PLAIN_COLUMNS = frozenset(
    {
        "CharField",
        "TextField",
        "BooleanField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
        "ForeignKey",
    }
)


def _column_values(
    field: Field[Any, Any], name: str, rows: list[dict[str, Any]], db: BaseDatabaseWrapper
) -> list[Any]:
    if field.get_internal_type() in _PLAIN_COLUMNS:
        return [row[name] for row in rows]
    return [field.get_db_prep_save(row[name], db) for row in rows]


def _pg_type(field: Field[Any, Any], db: BaseDatabaseWrapper) -> str:
    """The type a column's values are cast to: text for strings, so a value too long for a
    `varchar(n)` fails on assignment as with the ORM, instead of being cut by the cast."""
    if field.get_internal_type() in ("CharField", "TextField"):
        return "text"
    return str(field.cast_db_type(db))


@contextlib.contextmanager
def bound_cursor(db: BaseDatabaseWrapper) -> Iterator[Any]:
    """A cursor that sends values apart from the statement on PostgreSQL (server-side binding).

    Django's psycopg cursor quotes every value into the SQL text in Python (client-side
    binding); for a statement of thousands of values that costs more than the insert itself.
    The cursor is still Django's wrapper, so errors are Django's and execute wrappers see it.
    """
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            yield cursor
        return
    db.ensure_connection()
    psycopg = db.Database  # type: ignore[attr-defined]
    with CursorWrapper(psycopg.Cursor(db.connection), db) as cursor:
        yield cursor


@dataclass(frozen=True)
class RowsStatement:
    """A write of many rows: one statement for all of them on PostgreSQL, `values` standing for
    the rows; on SQLite, `each` run once per row (executemany reuses its prepared statement).

    On PostgreSQL, executemany sends one statement per row, each parsed, planned and run on its
    own: for a batch of sends that was most of the PostgreSQL CPU recording took.
    """

    values: str
    each: str


def rows_write(statement: RowsStatement, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run `statement` for every row, in one statement on PostgreSQL."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.executemany(statement.each, rows)
            return
        placeholders = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
        values = ", ".join([placeholders] * len(rows))
        cursor.execute(statement.values.format(values), [value for row in rows for value in row])


def as_uuid(value: Any) -> uuid.UUID:
    """A uuid column's value as read with a raw cursor: PostgreSQL hands back a UUID, SQLite the
    32 hex digits Django stores."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def rows_update(
    model: type[Model],
    *,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    assignments: str,
    returning: str,
) -> list[tuple[Any, ...]]:
    """`UPDATE <table> SET <assignments> FROM <rows> AS v WHERE id = v.<first column>
    RETURNING <returning>`: many rows updated with values of their own in one statement.

    `columns` names each value of a row with its PostgreSQL type (the first is the row's id);
    `assignments` and `returning` use them as `v.<name>`. Values go as the database stores them
    (`get_db_prep_save` for dates). PostgreSQL takes one array per column, bound apart from the
    statement (see `rows_insert`); SQLite a VALUES list."""
    if not rows:
        return []
    db = connections[router.db_for_write(model)]
    names = [name for name, _ in columns]
    if db.vendor == "postgresql":
        arrays = ", ".join(f"CAST(%b AS {kind}[])" for _, kind in columns)
        source = f"unnest({arrays}) AS v({', '.join(names)})"
        params: list[Any] = [list(values) for values in zip(*rows, strict=True)]
    else:
        marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
        # SQLite names a VALUES list's columns column1, column2, ... only.
        labels = ", ".join(f"column{n + 1} AS {name}" for n, name in enumerate(names))
        source = f"(SELECT {labels} FROM (VALUES {', '.join([marks] * len(rows))}) AS t) AS v"  # noqa: S608
        params = [value for row in rows for value in row]
    table = db.ops.quote_name(model._meta.db_table)
    sql = (
        f"UPDATE {table} SET {assignments} FROM {source}"  # noqa: S608
        f" WHERE {table}.id = v.{names[0]} RETURNING {returning}"
    )
    with bound_cursor(db) as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def pairs_in(
    model: type[Model], fields: tuple[str, str], pairs: Collection[tuple[Any, Any]]
) -> RawSQL:
    """A filter for `model`'s rows whose two `fields` (attnames) hold one of `pairs`:
    `(a, b) IN (VALUES (...), ...)`, which the database answers with one index probe per pair.

    `a IN (...) AND b IN (...)` matches every a with every b instead: on an (a, b) index,
    PostgreSQL then reads all the rows of each a, and a sender's number has thousands of
    conversations.
    """
    if not pairs:
        raise ValueError("pairs_in needs at least one pair")
    db = connections[router.db_for_read(model)]
    table = db.ops.quote_name(model._meta.db_table)
    columns = {f.attname: str(f.column) for f in model._meta.concrete_fields}
    a, b = (f"{table}.{db.ops.quote_name(columns[name])}" for name in fields)
    values = ", ".join(["(%s, %s)"] * len(pairs))
    params = [value for pair in pairs for value in pair]
    # Only quoted column names and placeholders go into the SQL; the values are parameters.
    sql = f"({a}, {b}) IN (VALUES {values})"
    return RawSQL(sql, params, output_field=BooleanField())  # noqa: S611


class ExistsProbe:
    """`queryset.exists()` for a queryset whose parameters never change, compiled once per
    database: the worker asks it each time it goes idle, where building and compiling the
    query cost several times what running it does."""

    def __init__(self, make: Callable[[], QuerySet[Any]]) -> None:
        self.make = make
        self._compiled: dict[str, tuple[str, tuple[Any, ...]]] = {}

    def __call__(self) -> bool:
        using = router.db_for_read(self.make().model)
        if using not in self._compiled:
            query = self.make().query.exists()
            sql, params = query.get_compiler(using=using).as_sql()
            self._compiled[using] = (sql, tuple(params))
        sql, params = self._compiled[using]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() is not None
