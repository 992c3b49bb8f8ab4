"""The quiet-hours rule: the next moment an automated text may reach a recipient, with fixed
clocks across zones and daylight-saving changes."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from twoway.compliance.quiet_hours import next_allowed_moment, recipient_zone

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
LOS_ANGELES = zoneinfo.ZoneInfo("America/Los_Angeles")
LONDON = zoneinfo.ZoneInfo("Europe/London")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]


def local(zone: zoneinfo.ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)  # type: ignore[misc]


def test_a_moment_inside_the_window_is_kept() -> None:
    at = local(NEW_YORK, 2027, 1, 5, 12, 30)
    assert next_allowed_moment(at, zone=NEW_YORK) == at


def test_before_the_window_waits_for_its_opening_the_same_day() -> None:
    at = local(NEW_YORK, 2027, 1, 5, 6, 15)
    assert next_allowed_moment(at, zone=NEW_YORK) == local(NEW_YORK, 2027, 1, 5, 8, 0)


def test_at_or_after_the_end_waits_for_the_next_morning() -> None:
    assert next_allowed_moment(local(NEW_YORK, 2027, 1, 5, 21, 0), zone=NEW_YORK) == local(
        NEW_YORK, 2027, 1, 6, 8, 0
    )
    assert next_allowed_moment(local(NEW_YORK, 2027, 1, 5, 23, 59), zone=NEW_YORK) == local(
        NEW_YORK, 2027, 1, 6, 8, 0
    )


def test_the_recipients_zone_decides_not_the_senders() -> None:
    # 10:00 in New York is 07:00 in Los Angeles: the Californian waits an hour.
    at = local(NEW_YORK, 2027, 1, 5, 10, 0)
    assert next_allowed_moment(at, zone=NEW_YORK) == at
    assert next_allowed_moment(at, zone=LOS_ANGELES) == local(LOS_ANGELES, 2027, 1, 5, 8, 0)
    assert next_allowed_moment(at, zone=LOS_ANGELES) == utc(2027, 1, 5, 16, 0)


def test_the_opening_follows_the_wall_clock_across_spring_forward() -> None:
    # Clocks in New York jump from 02:00 to 03:00 on 14 March 2027: 08:00 is then 12:00 UTC,
    # not 13:00 UTC as the day before.
    at = local(NEW_YORK, 2027, 3, 13, 22, 0)
    moved = next_allowed_moment(at, zone=NEW_YORK)
    assert moved == utc(2027, 3, 14, 12, 0)
    assert moved.astimezone(NEW_YORK).hour == 8


def test_the_opening_follows_the_wall_clock_across_fall_back() -> None:
    # London goes back an hour on 31 October 2027: 08:00 that day is 08:00 UTC, not 07:00.
    at = local(LONDON, 2027, 10, 30, 21, 30)
    assert next_allowed_moment(at, zone=LONDON) == utc(2027, 10, 31, 8, 0)


def test_a_window_opening_inside_the_spring_forward_gap_opens_just_after_it() -> None:
    at = local(NEW_YORK, 2027, 3, 14, 1, 0)
    moved = next_allowed_moment(at, zone=NEW_YORK, start=dt.time(2, 30), end=dt.time(21, 0))
    # 02:30 does not exist that night; the first moment after the jump is 03:30 by the clock.
    assert moved == utc(2027, 3, 14, 7, 30)
    assert moved.astimezone(NEW_YORK).time() == dt.time(3, 30)


def test_a_custom_window_is_applied() -> None:
    at = local(NEW_YORK, 2027, 1, 5, 17, 30)
    assert next_allowed_moment(at, zone=NEW_YORK, start=dt.time(9, 0), end=dt.time(17, 0)) == local(
        NEW_YORK, 2027, 1, 6, 9, 0
    )


def test_a_window_that_does_not_start_before_it_ends_is_refused() -> None:
    with pytest.raises(ValueError, match="start before it ends"):
        next_allowed_moment(utc(2027, 1, 5, 12), zone=NEW_YORK, start=dt.time(21), end=dt.time(8))


def test_the_cap_moves_a_text_until_fewer_than_the_cap_are_within_a_day() -> None:
    at = local(NEW_YORK, 2027, 1, 5, 12, 0)
    taken = [local(NEW_YORK, 2027, 1, 5, 9, 0), local(NEW_YORK, 2027, 1, 5, 10, 0)]
    # A cap of 3: two taken leaves room.
    assert next_allowed_moment(at, zone=NEW_YORK, cap=3, taken=taken) == at
    # A cap of 2: it waits until the first of them is a day old.
    assert next_allowed_moment(at, zone=NEW_YORK, cap=2, taken=taken) == local(
        NEW_YORK, 2027, 1, 6, 9, 0
    )
    # A cap of 1: until the later one is a day old.
    assert next_allowed_moment(at, zone=NEW_YORK, cap=1, taken=taken) == local(
        NEW_YORK, 2027, 1, 6, 10, 0
    )


def test_the_cap_counts_texts_due_later_too() -> None:
    at = local(NEW_YORK, 2027, 1, 5, 12, 0)
    later = [local(NEW_YORK, 2027, 1, 5, 20, 0)]
    assert next_allowed_moment(at, zone=NEW_YORK, cap=1, taken=later) == local(
        NEW_YORK, 2027, 1, 6, 20, 0
    )


def test_a_moment_the_cap_pushes_outside_the_window_goes_at_the_next_opening() -> None:
    at = local(NEW_YORK, 2027, 1, 5, 21, 30)
    taken = [local(NEW_YORK, 2027, 1, 5, 20, 30)]
    # Next opening 08:00 on the 6th is within a day of 20:30 on the 5th; a day after that
    # (20:30 on the 6th) is inside the window.
    assert next_allowed_moment(at, zone=NEW_YORK, cap=1, taken=taken) == local(
        NEW_YORK, 2027, 1, 6, 20, 30
    )
    taken = [local(NEW_YORK, 2027, 1, 5, 21, 10)]
    # A day after 21:10 is outside the window again: the morning after.
    assert next_allowed_moment(at, zone=NEW_YORK, cap=1, taken=taken) == local(
        NEW_YORK, 2027, 1, 7, 8, 0
    )


def test_the_recipients_zone_comes_from_the_contact_then_the_area_code_then_the_organization() -> (
    None
):
    org_zone = "America/Chicago"
    assert recipient_zone(
        contact_time_zone="Europe/London", number="+12025550220", organization_time_zone=org_zone
    ) == zoneinfo.ZoneInfo("Europe/London")
    # 310 is Los Angeles.
    assert recipient_zone(
        contact_time_zone="", number="+13105550100", organization_time_zone=org_zone
    ) == zoneinfo.ZoneInfo("America/Los_Angeles")
    # A toll-free number spans every zone: the organization's.
    assert recipient_zone(
        contact_time_zone="", number="+18005550100", organization_time_zone=org_zone
    ) == zoneinfo.ZoneInfo(org_zone)
    # A zone name that is no zone falls to the number's.
    assert recipient_zone(
        contact_time_zone="Mars/Olympus", number="+12025550220", organization_time_zone=org_zone
    ) == zoneinfo.ZoneInfo("America/New_York")
