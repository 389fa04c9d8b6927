"""calendar-words: the library the workspace's services share. Its own dependency (humanize)
must be in the image, though the library itself is not installed: it runs from its folder."""

import calendar

import humanize


def weekday_name(index: int) -> str:
    return calendar.day_name[index]


def ordinal_day(day: int) -> str:
    return humanize.ordinal(day)
