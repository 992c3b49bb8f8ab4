"""Work that concurrent requests hand over and that a thread of its own does for all of them at
once: one transaction and one commit for whatever came in meanwhile.

A request (a coroutine on the server's event loop) hands its item over and waits, holding no
thread, until the thread has done the group its item was in. Nothing waits to fill a group: a
lone item is done at once, and under load a group is what came in while the previous one was
being done. This is how the web server stores webhooks' events and queues the API's texts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections

Item = TypeVar("Item")
Result = TypeVar("Result")

log = logging.getLogger(__name__)


@dataclass
class _Pending(Generic[Item, Result]):
    item: Item
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Result]


@dataclass
class _Release:
    done: threading.Event


class GroupedWork(Generic[Item, Result]):
    """Subclasses say what doing a group is (`do`): one result per item, in order. An exception
    it raises is every item's of that group."""

    MAX_GROUP = 200
    # An idle thread hands its database connection back after this long.
    IDLE_SECONDS = 0.5
    THREAD_NAME = "grouped-work"

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Pending[Item, Result] | _Release] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def do(self, items: Sequence[Item]) -> Sequence[Result]:
        raise NotImplementedError

    async def submit(self, item: Item) -> Result:
        """Hand `item` over; its result once its group is done (or what doing it raised)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._start()
        self._queue.put(_Pending(item, loop, future))
        return await future

    def release(self, timeout: float = 5.0) -> None:
        """Hand the thread's database connection back now rather than when idle (a test
        database about to be dropped, a server shutting down); the next item reopens one."""
        if self._thread is None:
            return
        done = threading.Event()
        self._queue.put(_Release(done))
        done.wait(timeout)

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=self.THREAD_NAME, daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.IDLE_SECONDS)
            except queue.Empty:
                connections.close_all()  # back to the pool; reopened with the next item
                first = self._queue.get()
            if isinstance(first, _Release):
                connections.close_all()
                first.done.set()
                continue
            group = [first]
            with contextlib.suppress(queue.Empty):
                while len(group) < self.MAX_GROUP:
                    item = self._queue.get_nowait()
                    if isinstance(item, _Release):  # after this group
                        self._queue.put(item)
                        break
                    group.append(item)
            try:
                outcome: Sequence[Result] | BaseException = self.do([p.item for p in group])
            except Exception as exc:
                log.exception("%s: a group of %d failed", self.THREAD_NAME, len(group))
                outcome = exc
            _answer(group, outcome)


def _answer(group: list[_Pending[Any, Any]], outcome: Sequence[Any] | BaseException) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Pending[Any, Any], Any]]] = {}
    for index, pending in enumerate(group):
        result = outcome if isinstance(outcome, BaseException) else outcome[index]
        by_loop.setdefault(pending.loop, []).append((pending, result))
    for loop, results in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting
            loop.call_soon_threadsafe(_settle, results)


def _settle(results: list[tuple[_Pending[Any, Any], Any]]) -> None:
    for pending, result in results:
        if pending.future.done():  # the client went away
            continue
        if isinstance(result, BaseException):
            pending.future.set_exception(result)
        else:
            pending.future.set_result(result)
