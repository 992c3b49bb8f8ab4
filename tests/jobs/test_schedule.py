"""Periodic chores: once per period, however many runners look."""

from __future__ import annotations

import datetime as dt
import math
import time

import pytest
from django.conf import settings
from django.db.models import Count
from django_tasks_db.models import DBTaskResult

from tests.jobs.conftest import Runners
from twoway.jobs.models import ChoreRun
from twoway.jobs.schedule import Chore, Schedule, chore_enqueue, chores_from_settings

NOTE = "tests.jobs.tasks.note"


def test_a_chore_is_enqueued_once_for_its_period(db: None, tmp_path) -> None:
    chore = Chore("note", NOTE, 60, {"path": str(tmp_path / "n"), "text": "hi"})
    at = dt.datetime(2026, 5, 4, 10, 0, 30, tzinfo=dt.UTC)

    assert chore_enqueue(chore, now=at) is True
    assert chore_enqueue(chore, now=at + dt.timedelta(seconds=29)) is False
    assert chore_enqueue(chore, now=at + dt.timedelta(seconds=30)) is True  # the next minute

    assert list(ChoreRun.objects.order_by("slot").values_list("slot", flat=True)) == [
        dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 5, 4, 10, 1, tzinfo=dt.UTC),
    ]
    assert DBTaskResult.objects.filter(task_path=NOTE).count() == 2


def test_a_schedule_looks_again_only_when_the_next_period_begins(db: None, tmp_path) -> None:
    schedule = Schedule([Chore("note", NOTE, 3600, {"path": str(tmp_path / "n"), "text": "x"})])
    at = dt.datetime(2026, 5, 4, 10, 59, tzinfo=dt.UTC)

    assert schedule.enqueue_due(at) == 1
    ChoreRun.objects.all().delete()  # were it to look, it would enqueue again
    assert schedule.enqueue_due(at + dt.timedelta(seconds=59)) == 0
    assert schedule.enqueue_due(at + dt.timedelta(minutes=1)) == 1  # 11:00


def test_the_housekeeping_chores_run_every_housekeeping_interval() -> None:
    chores = {chore.name: chore for chore in chores_from_settings()}
    assert set(chores) == {
        "held_numbers_release",
        "carrier_events_prune",
        "realtime_events_prune",
        "task_results_prune",
        "contact_imports_prune",
        "webhook_deliveries_prune",
        "webhook_deliveries_sweep",
    }
    assert {c.every_seconds for c in chores.values()} == {settings.HOUSEKEEPING_INTERVAL_SECONDS}
    assert chores["held_numbers_release"].task_path == (
        "twoway.numbers.tasks.held_numbers_release_due"
    )


@pytest.mark.django_db(transaction=True)
def test_two_runners_enqueue_each_chore_once_per_period(runners: Runners) -> None:
    began = time.time()
    first = runners.start(HOUSEKEEPING_INTERVAL_SECONDS="1")
    second = runners.start(HOUSEKEEPING_INTERVAL_SECONDS="1")
    runners.wait_for(lambda: first.runner_id and second.runner_id, "both runners started")
    time.sleep(3.2)
    runners.stop(first)
    runners.stop(second)
    # The periods (seconds) that began while a runner was up, the first one included.
    most = math.floor(time.time()) - math.floor(began) + 1

    periods = dict(ChoreRun.objects.values_list("chore").annotate(n=Count("id")))
    assert set(periods) == {
        "held_numbers_release",
        "carrier_events_prune",
        "realtime_events_prune",
        "task_results_prune",
        "contact_imports_prune",
        "webhook_deliveries_prune",
        "webhook_deliveries_sweep",
    }
    for chore in chores_from_settings():
        enqueued = DBTaskResult.objects.filter(task_path=chore.task_path)
        # One job per period the runners saw begin (at least the 3 s both were up), never two.
        assert 3 <= periods[chore.name] <= most
        assert enqueued.count() == periods[chore.name], chore.name
    # Both runners did the work between them, and each period went to one of them only.
    workers = {w for ids in DBTaskResult.objects.values_list("worker_ids", flat=True) for w in ids}
    assert workers <= {first.runner_id, second.runner_id}
