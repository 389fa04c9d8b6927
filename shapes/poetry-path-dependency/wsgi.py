"""The service's entry point: the shared library first (the server stops at start without it,
or without the library's own dependency), then the app."""

from calendar_words import ordinal_day, weekday_name
from dates_service import app

assert (weekday_name(0), ordinal_day(1)) == ("Monday", "1st")

__all__ = ["app"]
