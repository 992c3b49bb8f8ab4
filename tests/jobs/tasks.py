"""Jobs the job layer's tests enqueue; each leaves its traces in the file it is given."""

from __future__ import annotations

import os
import time
from pathlib import Path

from twoway.jobs.tasks_api import JobFailed, job, job_progress


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except FileNotFoundError:
        return []


def _append(path: str, text: str) -> None:
    with open(path, "a") as file:
        file.write(text + "\n")


@job
def note(path: str, text: str) -> str:
    _append(path, text)
    return text


@job(max_attempts=3, retry_base_seconds=0.3, retry_max_seconds=0.5)
def always_fails(path: str) -> None:
    _append(path, repr(time.time()))
    raise RuntimeError("the carrier said no")


@job(max_attempts=4, retry_base_seconds=0.05)
def fails_twice(path: str) -> int:
    tries = len(_lines(path)) + 1
    _append(path, str(tries))
    if tries <= 2:
        raise ConnectionError(f"try {tries} lost its connection")
    return tries


@job(max_attempts=5)
def cannot_succeed(path: str) -> None:
    _append(path, "tried")
    raise JobFailed("the contact list it imports is gone")


@job(max_attempts=3)
def hangs_the_first_time(path: str) -> int:
    """Notes its process; the first try then never ends (its runner is killed or stopped)."""
    earlier = _lines(path)
    _append(path, str(os.getpid()))
    while not earlier:
        time.sleep(0.05)
    return len(earlier) + 1


@job
def reports_progress(path: str) -> str:
    """Says it is 3 of 10 through, then waits until the test creates `path`."""
    job_progress(done=3, total=10, message="Importing contacts")
    deadline = time.monotonic() + 30
    while not Path(path).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    job_progress(done=10, total=10, message="Imported")
    return "imported"
