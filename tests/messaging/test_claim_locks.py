"""A claim's locks leave foreign-key checks alone: on PostgreSQL it locks its senders and
messages FOR NO KEY UPDATE, which a KEY SHARE lock (what a commit takes on the number a new
conversation names) does not wait for. With FOR UPDATE, a claim locking the numbers while a
send's commit checked them deadlocked, and the send answered 500."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from twoway.messaging.claiming import _claim_statements, _lock_senders
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_claimed_sender_can_still_be_named_by_a_foreign_key(number: PhoneNumber) -> None:
    if connection.vendor != "postgresql":
        # SQLite has no row locks (a claim takes the write lock at BEGIN IMMEDIATE): its
        # statements ask for none, which SQLite would refuse.
        statements = _claim_statements()
        assert "FOR " not in statements.numbers and "FOR " not in statements.queued
        assert _lock_senders({number.number})
        return
    assert "FOR NO KEY UPDATE" in _claim_statements().numbers
    locked, release = threading.Event(), threading.Event()

    def claimer() -> None:
        try:
            with transaction.atomic():
                assert _lock_senders({number.number})  # held until `release`
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=claimer)
    thread.start()
    try:
        assert locked.wait(10)
        with transaction.atomic(), connection.cursor() as cursor:
            # What PostgreSQL's foreign-key check runs; NOWAIT fails at once if blocked.
            cursor.execute(
                f"SELECT 1 FROM {PhoneNumber._meta.db_table} WHERE id = %s FOR KEY SHARE NOWAIT",  # noqa: S608
                [number.pk],
            )
            assert cursor.fetchone() == (1,)
    finally:
        release.set()
        thread.join()
