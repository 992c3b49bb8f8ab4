"""When a text may be scheduled for (`messaging.scheduling`)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from twoway.core.errors import InvalidInput

# How far ahead a text may be scheduled.
SCHEDULE_MAX_AHEAD = dt.timedelta(days=365)


def schedule_time_check(send_at: dt.datetime, now: dt.datetime | None = None) -> dt.datetime:
    """`send_at` if a text may be scheduled for it, or why not."""
    if timezone.is_naive(send_at):
        raise InvalidInput(
            "Give the time to send with its offset from UTC (e.g. 2027-01-05T09:30:00-05:00).",
            code="send_at_naive",
        )
    now = now or timezone.now()
    if send_at <= now:
        raise InvalidInput(
            "That time has already passed; pick a time in the future.", code="send_at_past"
        )
    if send_at > now + SCHEDULE_MAX_AHEAD:
        raise InvalidInput(
            "A text can be scheduled at most a year ahead; pick an earlier time.",
            code="send_at_too_far",
        )
    return send_at
