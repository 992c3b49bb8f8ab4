"""Background jobs of the numbers app."""

from __future__ import annotations

from twoway.jobs.tasks_api import job
from twoway.numbers.activation import held_numbers_release


@job
def held_numbers_release_due() -> int:
    """The periodic chore letting go of dedicated numbers whose hold ran out; how many."""
    return len(held_numbers_release())
