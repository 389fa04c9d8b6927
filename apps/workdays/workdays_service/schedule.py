"""Working days between two dates, by the company's holidays (the private acme-holidays)."""

from __future__ import annotations

from datetime import date
from importlib.metadata import version
from typing import Any

import acme_holidays

MAX_DAYS = 3660


def span(start: date, end: date) -> dict[str, Any]:
    if end < start:
        raise ValueError("'to' is before 'from'")
    if (end - start).days > MAX_DAYS:
        raise ValueError(f"at most {MAX_DAYS} days at a time")
    count, off = acme_holidays.workdays(start, end)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "workdays": count,
        "holidays": {day.isoformat(): name for day, name in sorted(off.items())},
        # Which release of the private package answered: the one the lock pins.
        "calendar": f"acme-holidays {version('acme-holidays')}",
    }
