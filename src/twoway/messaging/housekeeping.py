"""Periodic chores the worker runs between sends: today, releasing held numbers (C1)."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings

log = logging.getLogger(__name__)


def chores_run(now: dt.datetime | None = None) -> None:
    from twoway.numbers.activation import held_numbers_release

    held_numbers_release(now)


class Housekeeping:
    """Runs the chores at start and then every HOUSEKEEPING_INTERVAL_SECONDS."""

    def __init__(self) -> None:
        self.next_run = 0.0

    def run_if_due(self) -> None:
        if time.monotonic() < self.next_run:
            return
        self.next_run = time.monotonic() + settings.HOUSEKEEPING_INTERVAL_SECONDS
        try:
            chores_run()
        except Exception:  # a failing chore must not stop sending; it runs again next time
            log.exception("Housekeeping failed")
