"""Business hours as a week of open ranges: checked when an admin saves them, and asked
"open now?" and "since when closed?" by the away message. No database here."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from twoway.core.errors import InvalidInput

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

Week = Mapping[str, Sequence[Sequence[str]]]


def _minutes(text: str, day: str, which: str) -> int:
    found = _TIME.match(text.strip())
    if found is None:
        raise InvalidInput(
            f"{day}: the {which} time “{text}” is not a time; write it as 9:00 or 17:30.",
            code="hours_time",
        )
    return int(found.group(1)) * 60 + int(found.group(2))


def hours_clean(week: Mapping[int, Sequence[tuple[str, str]]]) -> dict[str, list[list[str]]]:
    """The stored form of a week (weekday 0 Monday → [(open, close), ...], only the open days),
    refusing a range that closes before it opens or overlaps another, and an open day without
    one; a day left out is closed."""
    cleaned: dict[str, list[list[str]]] = {}
    for day_index in range(7):
        day = WEEKDAYS[day_index]
        if day_index in week and not week[day_index]:
            raise InvalidInput(
                f"{day} is marked open but has no hours: give its opening and closing time, "
                "or untick it to close all day.",
                code="hours_missing",
            )
        ranges = []
        for opens, closes in week.get(day_index, ()):
            if not opens.strip() or not closes.strip():
                raise InvalidInput(
                    f"{day}: a range needs both an opening and a closing time.",
                    code="hours_time",
                )
            start, end = _minutes(opens, day, "opening"), _minutes(closes, day, "closing")
            if end <= start:
                raise InvalidInput(
                    f"{day}: {closes.strip()} is not after {opens.strip()}; a range closes "
                    "after it opens, the same day.",
                    code="hours_order",
                )
            ranges.append((start, end))
        ranges.sort()
        for (_, end), (start, _) in itertools.pairwise(ranges):
            if start < end:
                raise InvalidInput(
                    f"{day}: two ranges overlap ({_clock(start)} starts before {_clock(end)} "
                    "ends); join them into one or move one.",
                    code="hours_overlap",
                )
        cleaned[str(day_index)] = [[_clock(s), _clock(e)] for s, e in ranges]
    return cleaned


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _ranges_on(week: Week, day: dt.date, zone: ZoneInfo) -> list[tuple[dt.datetime, dt.datetime]]:
    found = []
    for opens, closes in week.get(str(day.weekday()), ()):
        start = dt.datetime.combine(day, dt.time.fromisoformat(opens), zone)
        end = dt.datetime.combine(day, dt.time.fromisoformat(closes), zone)
        found.append((start, end))
    return found


def is_open(week: Week, time_zone: str, at: dt.datetime) -> bool:
    zone = ZoneInfo(time_zone)
    local = at.astimezone(zone)
    return any(start <= at < end for start, end in _ranges_on(week, local.date(), zone))


def closed_since(week: Week, time_zone: str, at: dt.datetime) -> dt.datetime | None:
    """When the closed period `at` falls in began: the last closing time before it (within the
    past week and a day), or None for a week with no open hours at all (one long closed
    period)."""
    zone = ZoneInfo(time_zone)
    today = at.astimezone(zone).date()
    ends = [
        end
        for back in range(9)
        for _, end in _ranges_on(week, today - dt.timedelta(days=back), zone)
        if end <= at
    ]
    return max(ends) if ends else None
