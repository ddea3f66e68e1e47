"""Closed time windows for the analytics streams.

A run reads `[max(start_date, bookmark - lookback), min(end_date, now - delay))`
and never newer than `now - analytics_delay_minutes`, so every window it reads
is closed (no call can still start in it). The range is cut at UTC midnights
because the details query matches conversations by the UTC day they started
in: a window that ends mid-day would make the next one fetch that day again.
"""

from __future__ import annotations

import datetime as dt
import typing as t

UTC = dt.UTC
DAY = dt.timedelta(days=1)


class Window(t.NamedTuple):
    """A half-open interval [start, end) of UTC time."""

    start: dt.datetime
    end: dt.datetime

    @property
    def interval(self) -> str:
        """The analytics `interval` string; whole UTC days as the API matches them."""
        return f"{iso_z(self.start)}/{iso_z(self.end)}"

    def __str__(self) -> str:
        return self.interval


def iso_z(moment: dt.datetime) -> str:
    """UTC ISO-8601 with milliseconds and `Z`, as Genesys writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(value: str | dt.datetime) -> dt.datetime:
    """ISO-8601 (with `Z` or an offset) to an aware UTC datetime."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def read_range(
    *,
    start_date: dt.datetime,
    end_date: dt.datetime,
    bookmark: dt.datetime | None,
    lookback: dt.timedelta,
    analytics_delay: dt.timedelta,
    now: dt.datetime,
) -> Window | None:
    """The closed range this run must read, or None when there is nothing new."""
    start = max(start_date, bookmark - lookback) if bookmark else start_date
    end = min(end_date, now - analytics_delay)
    return Window(start, end) if start < end else None


def split_at(window: Window, moment: dt.datetime | None) -> list[Window]:
    """`window` cut in two at `moment` when it falls inside, else `[window]`."""
    if moment is None or not window.start < moment < window.end:
        return [window]
    return [Window(window.start, moment), Window(moment, window.end)]


def midnight_after(moment: dt.datetime) -> dt.datetime:
    """The first UTC midnight strictly after `moment`."""
    return dt.datetime.combine(moment.astimezone(UTC).date(), dt.time(), UTC) + DAY


def split_at_midnights(window: Window, max_days: int) -> list[Window]:
    """Cut `window` into pieces of at most `max_days` UTC days, each ending on a midnight but the last."""
    pieces = []
    start = window.start
    while start < window.end:
        end = min(window.end, midnight_after(start) + (max_days - 1) * DAY)
        pieces.append(Window(start, end))
        start = end
    return pieces


def split_evenly_at_midnights(window: Window, max_days: int, multiple_of: int = 1) -> list[Window]:
    """Cut `window` at UTC midnights into the fewest pieces of at most `max_days` UTC days, as even as
    whole days allow, their number rounded up to a multiple of `multiple_of` (when there are days enough).

    Why: analytics jobs run `multiple_of` at a time, and each costs a submission and polls before its
    first page. Cut into fixed lengths, a range leaves a short last job that runs alone after the
    others (half the cursors idle); even pieces, as many as the jobs that run at once, end together.
    """
    days = split_at_midnights(window, 1)
    count = -(-len(days) // max_days)
    count = min(len(days), -(-count // max(1, multiple_of)) * max(1, multiple_of))
    pieces, first = [], 0
    for index in range(count):
        last = first + len(days) // count + (1 if index < len(days) % count else 0)
        pieces.append(Window(days[first].start, days[last - 1].end))
        first = last
    return pieces
