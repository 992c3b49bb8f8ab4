"""Periodic chores: jobs enqueued once per period, declared in `TWOWAY_PERIODIC_JOBS`.

Periods are aligned on the clock (an hourly chore's begin on the hour). Every runner looks at
every chore when its period begins; the chore's row for that period (`ChoreRun`, unique) is
written in the same transaction as the job, so one runner enqueues it and the others find the
row there and go on. A period nobody looked at (every runner down) is not made up for: the next
one runs the chore.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from twoway.jobs.models import ChoreRun

log = logging.getLogger("twoway.jobs")

# Rows of periods kept per chore: enough to see the recent runs, while the table stays small.
PERIODS_KEPT = 10


@dataclass(frozen=True)
class Chore:
    name: str
    task_path: str
    every_seconds: float
    kwargs: dict[str, Any] = field(default_factory=dict)

    def slot(self, now: dt.datetime) -> dt.datetime:
        """The start of the period `now` falls in."""
        start = math.floor(now.timestamp() / self.every_seconds) * self.every_seconds
        return dt.datetime.fromtimestamp(start, tz=dt.UTC)


def chores_from_settings() -> list[Chore]:
    """`TWOWAY_PERIODIC_JOBS`: {name: {"task": dotted path, "every_seconds": N, "kwargs": {}}};
    a chore of 0 seconds or less is off."""
    chores = []
    periodic: dict[str, Any] = settings.TWOWAY_PERIODIC_JOBS
    for name, spec in periodic.items():
        every = float(spec["every_seconds"])
        if every > 0:
            chores.append(Chore(name, spec["task"], every, dict(spec.get("kwargs", {}))))
    return chores


def chore_enqueue(chore: Chore, *, now: dt.datetime | None = None) -> bool:
    """Enqueue the chore for the period `now` falls in, unless that is done: True if this call
    enqueued it."""
    now = now or timezone.now()
    slot = chore.slot(now)
    job = import_string(chore.task_path)
    try:
        with transaction.atomic():
            ChoreRun.objects.create(chore=chore.name, slot=slot)
            job.enqueue(**chore.kwargs)
            old = slot - dt.timedelta(seconds=chore.every_seconds * PERIODS_KEPT)
            ChoreRun.objects.filter(chore=chore.name, slot__lt=old).delete()
    except IntegrityError:
        return False  # another runner enqueued it for this period
    log.info("Chore %s enqueued for the period from %s", chore.name, f"{slot:%H:%M:%S}")
    return True


class Schedule:
    """When each chore's next period begins, as far as one runner knows."""

    def __init__(self, chores: list[Chore]) -> None:
        self.chores = chores
        self.next_due: dict[str, float] = {chore.name: 0.0 for chore in chores}

    @classmethod
    def from_settings(cls) -> Schedule:
        return cls(chores_from_settings())

    def enqueue_due(self, now: dt.datetime | None = None) -> int:
        """Enqueue the chores whose period began since the last look; how many this did."""
        now = now or timezone.now()
        enqueued = 0
        for chore in self.chores:
            if now.timestamp() < self.next_due[chore.name]:
                continue
            try:
                enqueued += chore_enqueue(chore, now=now)
            except ImportError:
                log.exception("Chore %s names no task: %s", chore.name, chore.task_path)
            self.next_due[chore.name] = chore.slot(now).timestamp() + chore.every_seconds
        return enqueued
