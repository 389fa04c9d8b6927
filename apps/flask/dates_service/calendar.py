"""Calendar arithmetic on top of python-dateutil (no Flask in here)."""

from __future__ import annotations

from datetime import date

from dateutil import parser
from dateutil.relativedelta import relativedelta

__all__ = ["add", "age", "date", "parse_date"]


def parse_date(text: str) -> date:
    """Parse a date written in almost any common form ("2024-02-29", "29 Feb 2024")."""
    try:
        return parser.parse(text, dayfirst=False, yearfirst=True).date()
    except (parser.ParserError, OverflowError) as exc:
        raise ValueError(f"not a date: {text!r}") from exc


def age(born: date, on: date | None = None) -> dict[str, int]:
    """Exact age in years, months and days, the way people count birthdays."""
    today = on or date.today()
    if today < born:
        raise ValueError("birthdate is in the future")
    delta = relativedelta(today, born)
    return {"years": delta.years, "months": delta.months, "days": delta.days}


def add(start: date, *, months: int = 0, days: int = 0) -> date:
    """Add months (clamped to the end of shorter months) and days."""
    result: date = start + relativedelta(months=months, days=days)
    return result
