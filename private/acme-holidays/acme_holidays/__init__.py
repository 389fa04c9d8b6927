"""ACME's company holidays, and the working days between two dates."""

from __future__ import annotations

import datetime as dt

__all__ = ["holidays", "workdays"]

ONE_DAY = dt.timedelta(days=1)


def easter(year: int) -> dt.date:
    """Western Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return dt.date(year, month, day + 1)


def holidays(year: int) -> dict[dt.date, str]:
    """The company's holidays in a year, by date."""
    sunday = easter(year)
    return {
        dt.date(year, 1, 1): "New Year's Day",
        sunday - 2 * ONE_DAY: "Good Friday",
        sunday + ONE_DAY: "Easter Monday",
        dt.date(year, 5, 1): "Labour Day",
        dt.date(year, 12, 25): "Christmas Day",
        dt.date(year, 12, 26): "Boxing Day",
    }


def workdays(start: dt.date, end: dt.date) -> tuple[int, dict[dt.date, str]]:
    """Working days from start to end, both included (Monday to Friday, not a holiday), and
    the holidays that fell on a weekday in that span."""
    count, off = 0, {}
    day = start
    while day <= end:
        named = holidays(day.year).get(day)
        if day.weekday() < 5:
            if named:
                off[day] = named
            else:
                count += 1
        day += ONE_DAY
    return count, off
