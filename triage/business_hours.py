"""Business hours: when a service-level clock runs.

A desk that answers only in office hours states them per SLA policy as days and a daily window in a
time zone, e.g. ``Mon-Fri 09:00-17:00`` in ``Europe/Berlin``; a target of 4 hours then means four
hours inside that window (a ticket arriving on Friday at 16:00 is due on Monday at 12:00). The
window is wall-clock time in the zone, so daylight-saving changes move it with the office. Windows
that cross midnight and public holidays are not modelled: a desk with night shifts states its hours
as ``Mon-Sun 00:00-24:00`` (around the clock, the default when no hours are given).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_SPEC = 100
_SPEC = re.compile(r"^\s*(?P<days>[A-Za-z]{3}(?:\s*[-,]\s*[A-Za-z]{3})*)\s+"
                   r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")
# Names the zone database holds that mean whatever the machine is set to: two replicas could read
# one policy's clock differently.
SERVER_ZONES = frozenset({"localtime", "posixrules"})
_MAX_DAYS = 3 * 366  # a target never needs more calendar days than this to fit its minutes
# The whole weeks a target may take wherever it starts: the horizon less the week a start may fall
# in and a week for daylight-saving changes.
_SURE_WEEKS = _MAX_DAYS // 7 - 2


class BusinessHoursError(ValueError):
    """A business-hours spec or time zone that cannot be read; the message says why."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class BusinessHours:
    days: frozenset[int]  # 0 Monday ... 6 Sunday
    start: int  # minutes after local midnight
    end: int  # minutes after local midnight, > start (1440: midnight at the day's end)
    zone: ZoneInfo

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.weekday() not in self.days:
            return None
        midnight = datetime.combine(day, time(0), tzinfo=self.zone)
        return (_at(midnight, self.start, self.zone), _at(midnight, self.end, self.zone))

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment ``minutes`` of business time after ``start`` (an aware datetime), in UTC."""
        left = timedelta(minutes=minutes)
        now = start.astimezone(self.zone)
        day = now.date()
        for _ in range(_MAX_DAYS):
            window = self._window(day)
            if window is not None:
                begin, finish = window
                begin = max(begin, now)
                if begin < finish:
                    if left <= finish - begin:
                        return (begin + left).astimezone(timezone.utc)
                    left -= finish - begin
            day += timedelta(days=1)
        raise BusinessHoursError("the target does not fit in three years of these business hours",
                                 field="business_hours")

    @property
    def weekly_minutes(self) -> int:
        """Business minutes in a week (a day of a daylight-saving change aside)."""
        return len(self.days) * (self.end - self.start)

    @property
    def most_minutes(self) -> int:
        """The longest target that :meth:`add` computes from any start."""
        return self.weekly_minutes * _SURE_WEEKS

    @property
    def spec(self) -> str:
        """The canonical text of these hours (``Mon-Fri 09:00-17:00``), as stored."""
        return f"{format_days(self.days)} {_hhmm(self.start)}-{_hhmm(self.end)}"

    def describe(self) -> str:
        return f"{self.spec} {self.zone.key}"


def _at(midnight: datetime, minutes: int, zone: ZoneInfo) -> datetime:
    """Local wall-clock ``minutes`` after ``midnight`` (aware in ``zone``), whatever DST does that day."""
    if minutes >= 24 * 60:
        nxt = midnight.date() + timedelta(days=1)
        return datetime.combine(nxt, time(0), tzinfo=zone)
    return datetime.combine(midnight.date(), time(minutes // 60, minutes % 60), tzinfo=zone)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int:
    hours, mins = (int(x) for x in text.split(":"))
    if mins > 59 or hours > 24 or (hours == 24 and mins):
        raise BusinessHoursError(f"'{text}' is not a time of day (00:00-24:00)", field="business_hours")
    return hours * 60 + mins


def format_days(days: frozenset[int]) -> str:
    """``Mon-Fri`` for a run of days, else a comma list."""
    ordered = sorted(days)
    if len(ordered) > 1 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{DAYS[ordered[0]].title()}-{DAYS[ordered[-1]].title()}"
    return ",".join(DAYS[d].title() for d in ordered)


def _days(text: str) -> frozenset[int]:
    out: set[int] = set()
    for piece in text.split(","):
        ends = [p.strip().lower() for p in piece.split("-")]
        for name in ends:
            if name not in DAYS:
                raise BusinessHoursError(f"'{name}' is not a day (Mon, Tue, ... Sun)", field="business_hours")
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        if len(ends) > 2 or last < first:
            raise BusinessHoursError(f"'{piece.strip()}' is not a run of days such as Mon-Fri", field="business_hours")
        out.update(range(first, last + 1))
    return frozenset(out)


def zone(name: str | None) -> ZoneInfo:
    """The IANA time zone ``name`` (UTC when not given)."""
    if name is None:
        return ZoneInfo("UTC")
    if not isinstance(name, str) or not name.strip() or len(name) > 64 or ".." in name or name.startswith("/"):
        raise BusinessHoursError("timezone must be an IANA name such as Europe/Berlin", field="timezone")
    if name.strip().lower() in SERVER_ZONES:
        raise BusinessHoursError(f"timezone '{name.strip()}' is the server's own setting, not a place: name "
                                 "the desk's zone (an IANA name such as Europe/Berlin)", field="timezone")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise BusinessHoursError(f"unknown time zone '{name}' (an IANA name such as Europe/Berlin)",
                                 field="timezone") from None


def parse(spec: str | None, timezone_name: str | None = None) -> BusinessHours | None:
    """``spec`` such as ``Mon-Fri 09:00-17:00`` in ``timezone_name``; None (around the clock) for no spec."""
    if spec is None:
        zone(timezone_name)  # still a valid zone, or the error
        return None
    if not isinstance(spec, str) or len(spec) > MAX_SPEC:
        raise BusinessHoursError(f"business_hours must be text of at most {MAX_SPEC} characters",
                                 field="business_hours")
    match = _SPEC.match(spec)
    if not match:
        raise BusinessHoursError("business_hours must read like 'Mon-Fri 09:00-17:00'", field="business_hours")
    start, end = _minutes(match["start"]), _minutes(match["end"])
    if end <= start:
        raise BusinessHoursError("business hours must end after they start on the same day (no overnight windows)",
                                 field="business_hours")
    return BusinessHours(_days(match["days"]), start, end, zone(timezone_name))


def normalise(spec: str | None) -> str | None:
    """The canonical text of ``spec`` (``Mon-Fri 09:00-17:00``), for storing."""
    hours = parse(spec)
    return None if hours is None else hours.spec
