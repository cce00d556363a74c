"""Working days for legal deadlines: Monday-Friday minus Vietnam's public holidays (including the
lunar Tết holidays) from the ``holidays`` package.

Deadline rule (documented in docs/services.md): a dossier received on a working day before the end
of office hours (17:00 Asia/Ho_Chi_Minh) counts that day as the receipt day; one received after
17:00, on a weekend or on a holiday counts from the next working day. The deadline is the end of
the N-th working day after the receipt day (N = the procedure's legal deadline).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE_CLOSES = time(17, 0)


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (``start`` itself never counts); n=0 returns start."""
    if n < 0:
        raise ValueError("n must be >= 0")
    day = start
    for _ in range(n):
        day = next_working_day(day)
    return day


def working_days_between(a: date, b: date) -> int:
    """Working days in (a, b]: how many working days pass going from a to b; negative if b < a."""
    if b < a:
        return -working_days_between(b, a)
    count, day = 0, a
    while day < b:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def receipt_day(received_at: datetime) -> date:
    """The day a dossier counts as received (see the module docstring)."""
    local = received_at.astimezone(LOCAL_TZ)
    day = local.date()
    if is_working_day(day) and local.time() < OFFICE_CLOSES:
        return day
    return next_working_day(day)


def deadline_for(received_at: datetime, working_days: int) -> date:
    return add_working_days(receipt_day(received_at), working_days)


def stay_notification_due(arrival: datetime) -> datetime:
    """Law on Residence Art. 30: notify before 23:00 on the arrival day, or before 08:00 the next
    day when the guest arrives after 23:00."""
    local = arrival.astimezone(LOCAL_TZ)
    if local.time() < time(23, 0):
        return datetime.combine(local.date(), time(23, 0), tzinfo=LOCAL_TZ)
    return datetime.combine(local.date() + timedelta(days=1), time(8, 0), tzinfo=LOCAL_TZ)
