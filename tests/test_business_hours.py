"""Business hours: SLA clocks that run only while the desk is open, in its own time zone."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from triage import business_hours as bh

pytestmark = pytest.mark.engine_independent  # the PostgreSQL pass leaves it out (tests/conftest.py)

BERLIN = ZoneInfo("Europe/Berlin")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_a_target_counts_only_open_hours_across_the_weekend():
    hours = bh.parse("Mon-Fri 09:00-17:00", "Europe/Berlin")
    friday_4pm = local(2026, 11, 27, 16, 0)
    assert hours.add(friday_4pm, 4 * 60) == local(2026, 11, 30, 12, 0).astimezone(timezone.utc)
    # Before opening the clock waits; on the last minute of the day it closes exactly.
    assert hours.add(local(2026, 11, 30, 7, 0), 60) == local(2026, 11, 30, 10, 0)
    assert hours.add(local(2026, 11, 30, 9, 0), 8 * 60) == local(2026, 11, 30, 17, 0)
    # A Saturday ticket starts counting on Monday morning.
    assert hours.add(local(2026, 11, 28, 11, 0), 30) == local(2026, 11, 30, 9, 30)
    assert hours.describe() == "Mon-Fri 09:00-17:00 Europe/Berlin"


def test_the_window_follows_the_office_clock_through_daylight_saving():
    hours = bh.parse("Mon-Fri 09:00-17:00", "Europe/Berlin")
    # Clocks go forward on Sunday 29 March 2026: Monday's 09:00 is 07:00 UTC, Friday's was 08:00 UTC.
    due = hours.add(local(2026, 3, 27, 16, 30), 60)
    assert due == datetime(2026, 3, 30, 7, 30, tzinfo=timezone.utc)


def test_around_the_clock_and_odd_weeks():
    assert bh.parse(None) is None
    every_day = bh.parse("Mon-Sun 00:00-24:00", "UTC")
    start = datetime(2026, 12, 4, 23, 0, tzinfo=timezone.utc)
    assert every_day.add(start, 120) == datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc)
    weekends = bh.parse("Sat,Sun 10:00-14:00", "UTC")
    assert weekends.add(datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc), 300) == \
        datetime(2026, 12, 6, 11, 0, tzinfo=timezone.utc)
    assert bh.normalise(" mon - fri  9:00-17:30 ") == "Mon-Fri 09:00-17:30"
    assert bh.normalise("Mon,Wed,Fri 08:00-12:00") == "Mon,Wed,Fri 08:00-12:00"


@pytest.mark.parametrize("spec, zone, field", [
    ("Mon-Fri 17:00-09:00", None, "business_hours"),
    ("Funday 09:00-17:00", None, "business_hours"),
    ("Fri-Mon 09:00-17:00", None, "business_hours"),
    ("Mon-Fri 25:00-26:00", None, "business_hours"),
    ("Mon-Fri 9-17", None, "business_hours"),
    ("x" * 200, None, "business_hours"),
    ("Mon-Fri 09:00-17:00", "Mars/Olympus_Mons", "timezone"),
    ("Mon-Fri 09:00-17:00", "../../etc/passwd", "timezone"),
    (None, "Nowhere/At_All", "timezone"),
])
def test_unreadable_hours_or_zones_name_the_field(spec, zone, field):
    with pytest.raises(bh.BusinessHoursError) as err:
        bh.parse(spec, zone)
    assert err.value.field == field and str(err.value)
