"""Working-day calendar: weekends, Vietnamese public holidays and Tết; the after-hours rule."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from popid.services.calendar import (
    LOCAL_TZ,
    add_working_days,
    deadline_for,
    is_working_day,
    receipt_day,
    stay_notification_due,
    working_days_between,
)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


def test_weekends_are_not_working_days():
    assert is_working_day(date(2026, 11, 23))  # Monday
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert not is_working_day(date(2026, 11, 29))  # Sunday
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday + 1 → Monday
    assert add_working_days(date(2026, 11, 23), 0) == date(2026, 11, 23)


@pytest.mark.parametrize("day", [date(2026, 2, 16), date(2026, 2, 17), date(2026, 2, 20), date(2027, 2, 5),
                                 date(2027, 2, 8), date(2027, 2, 10), date(2026, 9, 2), date(2026, 4, 30)])
def test_tet_and_public_holidays_are_not_working_days(day):
    assert not is_working_day(day)


def test_three_working_days_across_tet_2026():
    # Friday 13 Feb 2026; Tết holidays Mon 16 - Fri 20 Feb; next working days 23, 24, 25 Feb.
    assert add_working_days(date(2026, 2, 13), 3) == date(2026, 2, 25)
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 25)) == 3


def test_seven_working_days_across_tet_2027():
    # Wednesday 3 Feb 2027; holidays Thu 4 - Wed 10 Feb 2027; 11, 12, 15, 16, 17, 18, 19.
    assert add_working_days(date(2027, 2, 3), 7) == date(2027, 2, 19)


def test_working_days_between_is_antisymmetric_and_counts_weekdays():
    assert working_days_between(date(2026, 12, 7), date(2026, 12, 14)) == 5
    assert working_days_between(date(2026, 12, 14), date(2026, 12, 7)) == -5
    assert working_days_between(date(2026, 12, 7), date(2026, 12, 7)) == 0
    # 24 Nov 2026 (Vietnam Cultural Day) is a day off in the holidays package
    assert working_days_between(date(2026, 11, 23), date(2026, 11, 30)) == 4


def test_after_office_hours_counts_from_next_working_day():
    assert receipt_day(local(2026, 12, 7, 16, 59)) == date(2026, 12, 7)
    assert receipt_day(local(2026, 12, 7, 17, 0)) == date(2026, 12, 8)
    assert receipt_day(local(2026, 12, 12, 10, 0)) == date(2026, 12, 14)  # Saturday → Monday
    assert deadline_for(local(2026, 12, 11, 18, 0), 3) == date(2026, 12, 17)  # Fri evening → Mon counts
    assert deadline_for(local(2026, 12, 11, 9, 0), 3) == date(2026, 12, 16)
    assert receipt_day(local(2026, 2, 13, 20, 0)) == date(2026, 2, 23)  # Friday evening before Tết


def test_stay_notification_23h_rule():
    assert stay_notification_due(local(2026, 11, 23, 20, 0)) == local(2026, 11, 23, 23, 0)
    assert stay_notification_due(local(2026, 11, 23, 23, 30)) == local(2026, 11, 24, 8, 0)
