"""Bucket granularity of the interval streams, and the requests a range is split into.

The analytics aggregates reject granularity/interval combinations that are too fine for the
interval's length with a 400. The rule used here (the guides'; the real limits are [unverified]
in genesys-api.md section 5): sub-daily buckets (PT15M, PT30M, PT1H) at most 7 days per request,
P1D at most a year, P1M at most 7 years. (P7D is offered by no Genesys source, so not here.)

* `auto` picks the finest of PT1H, P1D, P1M whose limit covers the range to read, so one range
  needs one request whenever possible; a range over 7 years is split into P1M requests.
* An explicit granularity is never changed: the range is split into requests within its limit.

Ranges are aligned to bucket boundaries in the `time_zone` setting (the queries send it as
`timeZone`; the zone arithmetic is in `local_time.py`): the start is floored, the end too, so every
bucket read is whole and a record's (intervalStart, intervalEnd) is the same in every run; the part
of the range after the last whole bucket waits for a later run. A local day is 23, 24 or 25 hours,
a local month a calendar month; sub-daily buckets count from the local midnight. Requests are cut
at local midnights and kept within the limit in real hours (7 local days around a DST change can
last 7 days and 1 hour: such a request covers one local day less).
"""

from __future__ import annotations

import datetime as dt

from tap_genesys_outbound import local_time
from tap_genesys_outbound.windows import DAY, Window

SUB_DAILY = {"PT15M": dt.timedelta(minutes=15), "PT30M": dt.timedelta(minutes=30), "PT1H": dt.timedelta(hours=1)}
#: Longest interval one request may span, per granularity.
MAX_SPAN = {**{g: dt.timedelta(days=7) for g in SUB_DAILY}, "P1D": dt.timedelta(days=365),
            "P1M": dt.timedelta(days=7 * 365)}
MAX_MONTHS_PER_REQUEST = 7 * 12
AUTO_ORDER = ("PT1H", "P1D", "P1M")


def choose(setting: str, to_read: Window) -> str:
    """The granularity for `to_read`: the explicit setting, or the finest one that fits one request."""
    if setting != "auto":
        return setting
    span = to_read.end - to_read.start
    return next((g for g in AUTO_ORDER if span <= MAX_SPAN[g]), "P1M")


def floor(moment: dt.datetime, granularity: str, tz: str = local_time.DEFAULT_ZONE) -> dt.datetime:
    """The start (a UTC instant) of the bucket in zone `tz` holding `moment` (months start on the local 1st)."""
    if granularity in SUB_DAILY:
        midnight = local_time.start_of_day(moment, tz)
        step = SUB_DAILY[granularity]
        return midnight + ((moment - midnight) // step) * step
    if granularity == "P1D":
        return local_time.start_of_day(moment, tz)
    if granularity == "P1M":
        return local_time.start_of_month(moment, tz)
    raise ValueError(f"unsupported granularity {granularity!r}")


def align(window: Window, granularity: str, tz: str = local_time.DEFAULT_ZONE) -> Window | None:
    """`window` with its start and its end floored to bucket boundaries; None when no whole bucket is left."""
    start, end = floor(window.start, granularity, tz), floor(window.end, granularity, tz)
    return Window(start, end) if start < end else None


def bucket_count(window: Window, granularity: str, tz: str = local_time.DEFAULT_ZONE) -> int:
    """Buckets of an aligned `window` in zone `tz` (local days and months are counted, not divided)."""
    if granularity in SUB_DAILY:
        return (window.end - window.start) // SUB_DAILY[granularity]
    step = local_time.add_months if granularity == "P1M" else local_time.add_days
    count, moment = 0, window.start
    while moment < window.end:
        count += 1
        moment = step(window.start, count, tz)
    return count


def max_buckets(granularity: str) -> int:
    """The starting guess of buckets per request (`MAX_SPAN`); `adaptive_limits` shrinks it on a 400."""
    if granularity == "P1M":
        return MAX_MONTHS_PER_REQUEST
    return MAX_SPAN[granularity] // SUB_DAILY.get(granularity, DAY)


def split(window: Window, granularity: str, tz: str = local_time.DEFAULT_ZONE,
          buckets: int | None = None) -> list[Window]:
    """Consecutive requests covering an aligned `window`, each within the granularity's limit.

    `buckets`: at most this many buckets per request (default `max_buckets`; `adaptive_limits` lowers
    it after a 400); a bucket is never split. Requests of a day or more are whole local days from the
    local midnight at or before their start, kept within the limit in real hours.
    """
    buckets = buckets or max_buckets(granularity)
    pieces, start = [], window.start
    while start < window.end:
        if granularity == "P1M":
            end = local_time.add_months(start, buckets, tz)
        elif granularity == "P1D" or buckets * SUB_DAILY[granularity] >= DAY:
            days = buckets if granularity == "P1D" else (buckets * SUB_DAILY[granularity]) // DAY
            midnight = local_time.start_of_day(start, tz)
            end = local_time.add_days(midnight, days, tz)
            while end - start > MAX_SPAN[granularity] and days > 1:
                days -= 1
                end = local_time.add_days(midnight, days, tz)
        else:
            end = start + buckets * SUB_DAILY[granularity]
        pieces.append(Window(start, min(end, window.end)))
        start = pieces[-1].end
    return pieces


def finer(granularity: str) -> str | None:
    """The next finer granularity `auto` may fall back to (P1M -> P1D -> PT1H), or None."""
    if granularity not in AUTO_ORDER:
        return None
    index = AUTO_ORDER.index(granularity)
    return AUTO_ORDER[index - 1] if index else None
