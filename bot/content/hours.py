"""The clinic's opening hours (``clinic.yml``: ``opening_hours``): when a person will read a
handoff. Outside them, a handoff reply says when the clinic opens next instead of "soon"; the
urgent reply never depends on them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class OpeningHours:
    """Weekly opening spans in the clinic's time zone, plus whole days it is closed."""

    time_zone: ZoneInfo
    weekly: dict[int, tuple[tuple[dt.time, dt.time], ...]]  # 0 = Monday
    closed_dates: frozenset[dt.date] = frozenset()

    @classmethod
    def from_config(cls, raw: dict) -> OpeningHours:
        """Raises ``ValueError`` naming the bad value: a typo must not silently mean "closed"."""
        try:
            zone = ZoneInfo(str(raw["time_zone"]))
        except (KeyError, ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"opening_hours.time_zone: not a time zone ({error})") from None
        unknown = set(raw) - set(DAYS) - {"time_zone", "closed_dates"}
        if unknown:
            raise ValueError(f"opening_hours: unknown keys {sorted(unknown)}")
        weekly = {}
        for index, day in enumerate(DAYS):
            value = str(raw.get(day, "closed")).strip().lower()
            weekly[index] = () if value == "closed" else _spans(day, value)
        try:
            closed = frozenset(dt.date.fromisoformat(str(d)) for d in raw.get("closed_dates") or ())
        except ValueError as error:
            raise ValueError(f"opening_hours.closed_dates: {error}") from None
        if not any(weekly.values()):
            raise ValueError("opening_hours: closed every day of the week")
        return cls(zone, weekly, closed)

    def _spans_on(self, day: dt.date) -> tuple[tuple[dt.time, dt.time], ...]:
        return () if day in self.closed_dates else self.weekly[day.weekday()]

    def is_open(self, at: dt.datetime) -> bool:
        local = at.astimezone(self.time_zone)
        return any(start <= local.time() < end for start, end in self._spans_on(local.date()))

    def next_opening(self, at: dt.datetime) -> dt.datetime:
        """The next moment the clinic opens after ``at`` (in the clinic's time zone)."""
        local = at.astimezone(self.time_zone)
        for offset in range(0, 400):  # a year of holidays is still found
            day = local.date() + dt.timedelta(days=offset)
            for start, _end in self._spans_on(day):
                opening = dt.datetime.combine(day, start, tzinfo=self.time_zone)
                if opening > local:
                    return opening
        raise ValueError("opening_hours: no opening within a year")  # closed_dates cover a year

    def describe(self, opening: dt.datetime, at: dt.datetime) -> str:
        """ "today at 8:00 am", "tomorrow at 8:00 am", "Monday at 8:00 am", or with the date
        when it is more than six days away."""
        local_day = at.astimezone(self.time_zone).date()
        days = (opening.date() - local_day).days
        time = _clock(opening.time())
        if days == 0:
            return f"today at {time}"
        if days == 1:
            return f"tomorrow at {time}"
        name = DAYS[opening.weekday()].capitalize()
        if days < 7:
            return f"{name} at {time}"
        return f"{name} {opening.day} {opening:%B} at {time}"

    def possible_descriptions(self) -> set[str]:
        """Every description of an opening within the next week (for the vetted-text check)."""
        starts = {start for spans in self.weekly.values() for start, _ in spans}
        names = {"today", "tomorrow"} | {DAYS[d].capitalize() for d, s in self.weekly.items() if s}
        return {f"{name} at {_clock(start)}" for name in names for start in starts}


def _spans(day: str, value: str) -> tuple[tuple[dt.time, dt.time], ...]:
    spans = []
    for part in value.replace(" ", "").split(","):
        match = _SPAN.match(part)
        if not match:
            raise ValueError(f"opening_hours.{day}: {value!r} is not like 08:00-17:00 or closed")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            # "24:00" closes at midnight: "00:00-24:00" is open all day.
            start = dt.time(h1, m1)
            end = dt.time.max if (h2, m2) == (24, 0) else dt.time(h2, m2)
        except ValueError as error:
            raise ValueError(f"opening_hours.{day}: {error}") from None
        if end <= start:
            raise ValueError(f"opening_hours.{day}: {part} ends before it starts")
        spans.append((start, end))
    return tuple(sorted(spans))


def _clock(time: dt.time) -> str:
    hour = time.hour % 12 or 12
    return f"{hour}:{time.minute:02d} {'am' if time.hour < 12 else 'pm'}"
