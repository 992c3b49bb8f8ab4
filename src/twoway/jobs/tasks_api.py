"""Django's tasks API as Twoway uses it: the one module that imports it.

Domain apps declare their background work here with `job` (Django's `task` plus a retry policy)
and report progress from inside it with `job_progress`. Django 6 ships the same API as
`django.tasks`: moving to it is the one import line below. The database backend
(`django_tasks_db`) and its tables stay as they are.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, Protocol, TypeVar, overload

import django_tasks as tasks_api  # Django 6: `from django import tasks as tasks_api`
from django.conf import settings
from django.utils.module_loading import import_string

Task = tasks_api.base.Task
TaskContext = tasks_api.TaskContext
TaskResult = tasks_api.TaskResult
TaskResultStatus = tasks_api.TaskResultStatus
TaskResultDoesNotExist = tasks_api.exceptions.TaskResultDoesNotExist
DEFAULT_QUEUE_NAME = tasks_api.DEFAULT_TASK_QUEUE_NAME
task = tasks_api.task
task_backends = tasks_api.task_backends

__all__ = [
    "DEFAULT_QUEUE_NAME",
    "JobFailed",
    "RetryPolicy",
    "Task",
    "TaskContext",
    "TaskResult",
    "TaskResultDoesNotExist",
    "TaskResultStatus",
    "job",
    "job_progress",
    "retry_policy_for",
    "task",
    "task_backends",
]

P = ParamSpec("P")
T = TypeVar("T")


class JobFailed(Exception):
    """Raised by a job that can never succeed: it fails at once, with no tries left over."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing job is tried, and how long it waits between tries."""

    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float

    def delay_after(self, attempt: int) -> float:
        """Seconds before the try after `attempt` (1 for the first): doubling, capped."""
        return float(min(self.retry_base_seconds * 2 ** (attempt - 1), self.retry_max_seconds))


# What `job` declared of each job's policy, by the task's module path (what a task result row
# stores); the settings give the rest when the policy is needed, so they may change meanwhile.
_declared_policies: dict[str, dict[str, float]] = {}


def retry_policy_for(task_path: str) -> RetryPolicy:
    """The policy of the job at `task_path`, the settings' defaults filling in what it left."""
    if task_path not in _declared_policies:
        with contextlib.suppress(ImportError):
            import_string(task_path)  # declaring the job records its policy
    declared = _declared_policies.get(task_path, {})
    return RetryPolicy(
        max_attempts=int(declared.get("max_attempts", settings.JOBS_MAX_ATTEMPTS)),
        retry_base_seconds=declared.get("retry_base_seconds", settings.JOBS_RETRY_BASE_SECONDS),
        retry_max_seconds=declared.get("retry_max_seconds", settings.JOBS_RETRY_MAX_SECONDS),
    )


@overload
def job(function: Callable[P, T], /) -> Task[P, T]: ...


@overload
def job(
    *,
    max_attempts: int | None = None,
    retry_base_seconds: float | None = None,
    retry_max_seconds: float | None = None,
    priority: int = 0,
    queue_name: str = DEFAULT_QUEUE_NAME,
) -> Callable[[Callable[P, T]], Task[P, T]]: ...


def job(
    function: Callable[P, T] | None = None,
    /,
    *,
    max_attempts: int | None = None,
    retry_base_seconds: float | None = None,
    retry_max_seconds: float | None = None,
    priority: int = 0,
    queue_name: str = DEFAULT_QUEUE_NAME,
) -> Task[P, T] | Callable[[Callable[P, T]], Task[P, T]]:
    """Declare a background job: a task (`.enqueue(...)`, `.using(run_after=...).enqueue(...)`)
    whose failed tries the job runner repeats with backoff, doubling from the base up to the
    maximum. What is left out comes from the settings (`JOBS_MAX_ATTEMPTS`,
    `JOBS_RETRY_BASE_SECONDS`, `JOBS_RETRY_MAX_SECONDS`)."""
    policy = {
        key: value
        for key, value in (
            ("max_attempts", max_attempts),
            ("retry_base_seconds", retry_base_seconds),
            ("retry_max_seconds", retry_max_seconds),
        )
        if value is not None
    }

    def declare(f: Callable[P, T]) -> Task[P, T]:
        declared = task(f, priority=priority, queue_name=queue_name)
        _declared_policies[declared.module_path] = policy
        return declared

    return declare(function) if function is not None else declare


class ProgressSink(Protocol):
    def progress(self, *, done: int, total: int | None, message: str) -> None: ...


# Set by the job runner around each job it runs.
current_progress: contextvars.ContextVar[ProgressSink | None] = contextvars.ContextVar(
    "current_progress", default=None
)


def job_progress(*, done: int, total: int | None = None, message: str = "") -> None:
    """Say how far the running job is (`done` of `total`, and what it is doing), for the task
    result's page in the admin. Written by the runner within a moment, from a connection of its
    own, so it shows even while the job is inside a transaction. Outside a runner: nothing."""
    sink = current_progress.get()
    if sink is not None:
        sink.progress(done=max(int(done), 0), total=total, message=message[:200])
