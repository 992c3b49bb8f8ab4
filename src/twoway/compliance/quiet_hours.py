"""Quiet hours: automated texts (drip steps, and later blasts and reminders) reach a contact only
inside the organization's sending window in the contact's own local time, and at most a set
number of them within 24 hours. Outside that a text waits for the next allowed moment; it is
moved, never dropped. A person's own texts (send-later included) never come here.

Pure functions of their arguments (no database, no clock), so the rules are tested with fixed
times across zones and daylight-saving changes; `messaging.quiet_hours` feeds them.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

import phonenumbers
from phonenumbers import timezone as number_zones

DEFAULT_WINDOW_START = dt.time(8, 0)
DEFAULT_WINDOW_END = dt.time(21, 0)
CAP_PERIOD = dt.timedelta(hours=24)


def recipient_zone(
    *, contact_time_zone: str, number: str, organization_time_zone: str
) -> zoneinfo.ZoneInfo:
    """Where the recipient is: the contact's own zone when set, else the one zone of its
    number's area code, else the organization's. A number whose area code spans several zones
    (toll-free, non-geographic, or a split area code) falls to the organization's: picking one
    of them would be a guess."""
    for name in (contact_time_zone, _number_zone(number)):
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo(organization_time_zone)


def _number_zone(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return ""
    zones = number_zones.time_zones_for_number(parsed)
    if len(zones) != 1 or zones[0] == number_zones.UNKNOWN_TIMEZONE:
        return ""
    return str(zones[0])


def in_window(at: dt.datetime, *, zone: zoneinfo.ZoneInfo, start: dt.time, end: dt.time) -> bool:
    """Whether `at` falls inside [start, end) on the recipient's wall clock."""
    local = at.astimezone(zone).time()
    return start <= local < end


def window_next(
    at: dt.datetime, *, zone: zoneinfo.ZoneInfo, start: dt.time, end: dt.time
) -> dt.datetime:
    """`at` when it is inside the window, else the window's next opening (in UTC)."""
    if in_window(at, zone=zone, start=start, end=end):
        return at.astimezone(dt.UTC)
    local = at.astimezone(zone)
    day = local.date() if local.time() < start else local.date() + dt.timedelta(days=1)
    # A start inside a spring-forward gap (02:30 on the day clocks jump to 03:00) reads with
    # the offset before the jump, which is the first moment after the gap: still the opening.
    opening = dt.datetime.combine(day, start, tzinfo=zone)
    return opening.astimezone(dt.UTC)


def next_allowed_moment(
    at: dt.datetime,
    *,
    zone: zoneinfo.ZoneInfo,
    start: dt.time = DEFAULT_WINDOW_START,
    end: dt.time = DEFAULT_WINDOW_END,
    cap: int | None = None,
    taken: Iterable[dt.datetime] = (),
) -> dt.datetime:
    """The first moment at or after `at` at which an automated text may reach this recipient.

    Inside the window [start, end) of the recipient's zone, and, with a `cap`, fewer than `cap`
    of the recipient's other automated texts (`taken`: sent or due times) within 24 hours of
    it either way, so that no 24 hours ever hold more than `cap` of them. Requires start < end.
    """
    if not start < end:
        raise ValueError("The sending window must start before it ends.")
    others = sorted(moment.astimezone(dt.UTC) for moment in taken)
    moment = window_next(at, zone=zone, start=start, end=end)
    if not cap:
        return moment
    # Each pass only moves forward, past at least one of `others`: it ends.
    for _ in range(len(others) + 1):
        near = [other for other in others if abs(other - moment) < CAP_PERIOD]
        if len(near) < cap:
            return moment
        # The earliest moment that leaves only cap - 1 of these near ones within reach.
        moment = window_next(near[len(near) - cap] + CAP_PERIOD, zone=zone, start=start, end=end)
    return moment
