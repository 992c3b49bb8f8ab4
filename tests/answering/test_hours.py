"""Business hours: what an admin may save, and open/closed at a given time."""

from __future__ import annotations

import pytest

from tests.answering.helpers import TUESDAY, at
from twoway.answering.hours import closed_since, hours_clean, is_open
from twoway.answering.models import default_hours
from twoway.core.errors import InvalidInput

ZONE = "America/New_York"


def test_the_default_week_is_monday_to_friday_nine_to_five() -> None:
    week = default_hours()
    assert is_open(week, ZONE, at(TUESDAY, 9))
    assert is_open(week, ZONE, at(TUESDAY, 16, 59))
    assert not is_open(week, ZONE, at(TUESDAY, 17))
    assert not is_open(week, ZONE, at(TUESDAY, 8, 59))
    saturday = TUESDAY.replace(day=12)
    assert not is_open(week, ZONE, at(saturday, 12))


def test_a_closed_period_begins_at_the_last_closing_time() -> None:
    week = default_hours()
    assert closed_since(week, ZONE, at(TUESDAY, 20)) == at(TUESDAY, 17)
    # Before opening on Tuesday: still Monday evening's closed period.
    assert closed_since(week, ZONE, at(TUESDAY, 7)) == at(TUESDAY.replace(day=7), 17)
    # Sunday: since Friday's close.
    assert closed_since(week, ZONE, at(TUESDAY.replace(day=13), 12)) == at(
        TUESDAY.replace(day=11), 17
    )
    assert closed_since({}, ZONE, at(TUESDAY, 12)) is None


def test_several_ranges_a_day_are_kept_in_order() -> None:
    week = hours_clean({0: [("13:00", "17:00"), ("9:00", "12:00")]})
    assert week["0"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert week["1"] == []
    assert not is_open(week, ZONE, at(TUESDAY.replace(day=7), 12, 30))
    assert closed_since(week, ZONE, at(TUESDAY.replace(day=7), 12, 30)) == at(
        TUESDAY.replace(day=7), 12
    )


@pytest.mark.parametrize(
    ("ranges", "code", "says"),
    [
        ([("17:00", "9:00")], "hours_order", "Monday: 9:00 is not after 17:00"),
        ([("9:00", "9:00")], "hours_order", "is not after"),
        ([("9:00", "13:00"), ("12:00", "17:00")], "hours_overlap", "Monday: two ranges overlap"),
        ([("9am", "17:00")], "hours_time", "“9am” is not a time"),
        ([("", "17:00")], "hours_time", "Monday: a range needs both"),
        ([], "hours_missing", "Monday is marked open but has no hours"),
    ],
)
def test_a_bad_range_is_refused_with_a_sentence(
    ranges: list[tuple[str, str]], code: str, says: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        hours_clean({0: ranges})
    assert refused.value.code == code
    assert says in refused.value.message
