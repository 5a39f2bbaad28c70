"""Opening hours: when a person reads a handoff, from clinic.yml, in the clinic's time zone."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.content.hours import OpeningHours

WEEKDAYS_8_TO_5 = {
    "time_zone": "America/New_York",
    **{day: "08:00-17:00" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
    "saturday": "closed",
    "sunday": "closed",
}
UTC = dt.timezone.utc


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.fixture
def hours() -> OpeningHours:
    return OpeningHours.from_config(WEEKDAYS_8_TO_5)


@pytest.mark.parametrize(
    ("at", "is_open", "described"),
    [
        (_at(2026, 11, 30, 15, 0), True, "tomorrow at 8:00 am"),  # Mon 10:00 New York
        (_at(2026, 11, 30, 12, 30), False, "today at 8:00 am"),  # Mon 07:30
        (_at(2026, 11, 30, 22, 0), False, "tomorrow at 8:00 am"),  # Mon 17:00: just closed
        (_at(2026, 12, 4, 23, 0), False, "Monday at 8:00 am"),  # Fri 18:00
        (_at(2026, 12, 5, 15, 0), False, "Monday at 8:00 am"),  # Saturday
        (_at(2026, 11, 29, 3, 0), False, "Monday at 8:00 am"),  # Saturday 22:00
        (_at(2026, 11, 29, 15, 0), False, "tomorrow at 8:00 am"),  # Sunday 10:00
    ],
)
def test_open_or_when_it_opens_next(hours, at, is_open, described):
    assert hours.is_open(at) is is_open
    if not is_open:
        assert hours.describe(hours.next_opening(at), at) == described


def test_the_clinic_time_zone_decides_not_the_servers():
    tokyo = OpeningHours.from_config({**WEEKDAYS_8_TO_5, "time_zone": "Asia/Tokyo"})
    at = _at(2026, 11, 30, 1, 0)  # Monday 10:00 in Tokyo, Sunday 20:00 in New York
    assert tokyo.is_open(at)
    assert not OpeningHours.from_config(WEEKDAYS_8_TO_5).is_open(at)


def test_summer_time_is_followed():
    hours = OpeningHours.from_config(WEEKDAYS_8_TO_5)
    assert hours.is_open(_at(2026, 7, 6, 12, 30))  # Mon 08:30 EDT (UTC-4)
    assert not hours.is_open(_at(2026, 1, 5, 12, 30))  # Mon 07:30 EST (UTC-5)


def test_a_holiday_moves_the_next_opening_and_says_the_date():
    hours = OpeningHours.from_config(
        {
            **WEEKDAYS_8_TO_5,
            "closed_dates": [
                "2026-12-07",
                "2026-12-08",
                "2026-12-09",
                "2026-12-10",
                "2026-12-11",
                "2026-12-14",
            ],
        }  # fmt: skip
    )
    at = _at(2026, 12, 4, 23, 0)  # Friday evening
    opening = hours.next_opening(at)
    assert opening.date() == dt.date(2026, 12, 15)
    assert hours.describe(opening, at) == "Tuesday 15 December at 8:00 am"


def test_split_days_and_all_day():
    hours = OpeningHours.from_config(
        {"time_zone": "UTC", "monday": "08:00-12:00, 13:00-17:00", "tuesday": "00:00-24:00"}
    )
    assert not hours.is_open(_at(2026, 11, 30, 12, 30))  # Monday lunch
    assert hours.describe(
        hours.next_opening(_at(2026, 11, 30, 12, 30)), _at(2026, 11, 30, 12, 30)
    ) == ("today at 1:00 pm")
    assert hours.is_open(_at(2026, 12, 1, 23, 59, 30))


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"monday": "8 to 5"}, "monday"),
        ({"tuesday": "17:00-08:00"}, "ends before"),
        ({"wednesday": "25:00-26:00"}, "wednesday"),
        ({"caturday": "closed"}, "unknown keys"),
        ({"closed_dates": ["next tuesday"]}, "closed_dates"),
        (
            {d: "closed" for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
            "closed every day",
        ),  # fmt: skip
    ],
)
def test_a_typo_is_a_clear_error_not_a_closed_clinic(change, complaint):
    with pytest.raises(ValueError, match=complaint):
        OpeningHours.from_config({**WEEKDAYS_8_TO_5, **change})


def test_every_description_within_a_week_is_known_in_advance(hours):
    known = hours.possible_descriptions()
    at = _at(2026, 11, 30, 0, 0)
    for step in range(7 * 24 * 4):
        moment = at + dt.timedelta(minutes=15 * step)
        if not hours.is_open(moment):
            assert hours.describe(hours.next_opening(moment), moment) in known
