"""Connections a database restart broke: replaced at once, never waited out.

On PostgreSQL a pool like the web server's is filled, then every one of its connections is
ended from the server's side (`pg_terminate_backend`, which a restart does to all of them), and
the next query must get a working connection at once. psycopg_pool's own check slept 1 s, 2 s,
4 s... between the broken ones, so ten of them outlasted its 10 s timeout: the request failed.
"""

from __future__ import annotations

import asyncio
import itertools
import runpy
import signal
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.db.utils import ConnectionHandler
from psycopg_pool import PoolTimeout

import twoway.settings
from tests.conftest import database_url
from twoway.carrier_events import store as event_store
from twoway.carrier_events.store import EventRecorder, EventRow
from twoway.worker.loop import Worker

POOL_SIZE = 10


@pytest.fixture
def pooled(monkeypatch):
    """The web server's database settings (its pool), on the test database."""
    if connection.vendor != "postgresql":
        pytest.skip("connection pools are PostgreSQL's")
    monkeypatch.setenv("TWOWAY_CONN_MAX_AGE", "0")  # what asgi.py sets
    monkeypatch.setenv("TWOWAY_DB_POOL_SIZE", str(POOL_SIZE))
    monkeypatch.setenv("DATABASE_URL", database_url())
    config = runpy.run_path(twoway.settings.__file__)["DATABASES"]["default"]
    assert config["OPTIONS"]["pool"]["max_size"] == POOL_SIZE
    handler = ConnectionHandler({"default": config})
    yield handler
    handler["default"].close()
    handler["default"].close_pool()


@pytest.mark.django_db(transaction=True)
def test_a_pool_whose_connections_all_broke_hands_out_a_working_one_at_once(pooled) -> None:
    wrapper = pooled["default"]
    with wrapper.cursor() as cursor:  # opens the pool
        cursor.execute("SELECT 1")
    wrapper.close()
    pool = wrapper.pool
    held = [pool.getconn() for _ in range(POOL_SIZE)]
    pids = [conn.info.backend_pid for conn in held]
    for conn in held:
        pool.putconn(conn)
    assert pool.get_stats()["pool_available"] == POOL_SIZE
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [pids])

    started = time.monotonic()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    elapsed = time.monotonic() - started
    wrapper.close()
    assert pid not in pids
    assert elapsed < 0.5, f"{elapsed:.2f} s for the first query after the restart"
    # The broken ones were replaced, not handed out one by one later.
    held = [pool.getconn(timeout=2) for _ in range(POOL_SIZE)]
    try:
        assert not {conn.info.backend_pid for conn in held} & set(pids)
    finally:
        for conn in held:
            pool.putconn(conn)


def _recorder_storing(monkeypatch, failure: Exception) -> tuple[EventRecorder, list[int]]:
    """A recorder whose first store fails with `failure`; the list counts the tries."""
    tries: list[int] = []

    def store(rows):
        tries.append(len(rows))
        if len(tries) == 1:
            raise failure
        return [True] * len(rows)

    monkeypatch.setattr(event_store, "carrier_events_store", store)
    return EventRecorder(), tries


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on a loop of its own thread: the browser tests' session keeps an event
    loop running in the main thread, where asyncio.run() refuses to start another."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


ROW = EventRow(carrier="twilio", kind="inbound", dedupe_key="SM1", payload={})


def test_a_batch_whose_connection_broke_is_stored_on_a_new_one_at_once(monkeypatch) -> None:
    recorder, tries = _recorder_storing(
        monkeypatch, OperationalError("terminating connection due to administrator command")
    )
    assert _run(recorder.record(ROW)) is True
    assert tries == [1, 1]


def test_a_batch_that_waited_out_the_pool_is_not_made_to_wait_again(monkeypatch) -> None:
    failure = OperationalError("couldn't get a connection after 10.00 sec")
    failure.__cause__ = PoolTimeout("couldn't get a connection after 10.00 sec")
    recorder, tries = _recorder_storing(monkeypatch, failure)
    with pytest.raises(OperationalError):
        _run(recorder.record(ROW))
    assert tries == [1]


@pytest.mark.django_db(transaction=True)
def test_the_worker_loop_outlives_a_lost_database(monkeypatch) -> None:
    """The loop's database work failing (the database restarting) is tried again shortly on a
    new connection; the process does not exit, leaving the sends it had claimed to their
    leases."""
    worker = Worker(concurrency=1)
    passes: list[float] = []

    def run_once() -> bool:
        passes.append(time.monotonic())
        if len(passes) <= 3:
            raise InterfaceError("the connection is closed")
        worker.stop()
        return False

    monkeypatch.setattr(worker, "run_once", run_once)
    monkeypatch.setattr(worker, "_prepare_carriers", lambda: None)
    # run() sets this process's stop signals to the worker's; they are put back after, or a
    # later test's forked child would inherit a handler that stops nothing.
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        worker.run()
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert len(passes) == 4
    # Tried again within a fraction of a second each time, not in a busy loop.
    gaps = [b - a for a, b in itertools.pairwise(passes)]
    assert all(0.04 <= gap < 0.5 for gap in gaps), gaps
