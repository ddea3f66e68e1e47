"""Bucket granularity of the interval streams, and the requests a range is split into.

The analytics aggregates reject granularity/interval combinations that are too fine for the
interval's length with a 400. The rule used here (the guides'; the real limits are [unverified]
in genesys-api.md section 5): sub-daily buckets (PT15M, PT30M, PT1H) at most 7 days per request,
P1D at most a year, P1M at most 7 years. (P7D is offered by no Genesys source, so not here.)

* `auto` picks the finest of PT1H, P1D, P1M whose limit covers the range to read, so one range
  needs one request whenever possible; a range over 7 years is split into P1M requests.
* An explicit granularity is never changed: the range is split into requests within its limit.

Ranges are aligned to bucket boundaries in UTC (the queries send no timeZone): the start is
floored, the end too, so every bucket read is whole and a record's (intervalStart, intervalEnd)
is the same in every run; the part of the range after the last whole bucket waits for a later run.
"""

from __future__ import annotations

import datetime as dt

from tap_genesys_outbound.windows import UTC, Window

DAY = dt.timedelta(days=1)
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


def floor(moment: dt.datetime, granularity: str) -> dt.datetime:
    """The start of the UTC bucket holding `moment` (months start on the 1st)."""
    moment = moment.astimezone(UTC)
    midnight = dt.datetime.combine(moment.date(), dt.time(), UTC)
    if granularity in SUB_DAILY:
        step = SUB_DAILY[granularity]
        return midnight + ((moment - midnight) // step) * step
    if granularity == "P1D":
        return midnight
    if granularity == "P1M":
        return midnight.replace(day=1)
    raise ValueError(f"unsupported granularity {granularity!r}")


def align(window: Window, granularity: str) -> Window | None:
    """`window` with its start and its end floored to bucket boundaries; None when no whole bucket is left."""
    start, end = floor(window.start, granularity), floor(window.end, granularity)
    return Window(start, end) if start < end else None


def _add_months(moment: dt.datetime, months: int) -> dt.datetime:
    index = moment.month - 1 + months
    return moment.replace(year=moment.year + index // 12, month=index % 12 + 1)


def bucket_count(window: Window, granularity: str) -> int:
    """Buckets of an aligned `window`."""
    if granularity == "P1M":
        return (window.end.year - window.start.year) * 12 + window.end.month - window.start.month
    step = SUB_DAILY.get(granularity, DAY)
    return (window.end - window.start) // step


def max_buckets(granularity: str) -> int:
    """The starting guess of buckets per request (`MAX_SPAN`); `adaptive_limits` shrinks it on a 400."""
    if granularity == "P1M":
        return MAX_MONTHS_PER_REQUEST
    return MAX_SPAN[granularity] // SUB_DAILY.get(granularity, DAY)


def split(window: Window, granularity: str, buckets: int | None = None) -> list[Window]:
    """Consecutive requests covering an aligned `window`, each within the granularity's limit.

    `buckets`: at most this many buckets per request (default `max_buckets`); a bucket is never split.
    Sub-daily requests of a day or more are cut at UTC midnights.
    """
    buckets = buckets or max_buckets(granularity)
    pieces, start = [], window.start
    while start < window.end:
        if granularity == "P1M":
            end = _add_months(start, buckets)
        elif granularity in SUB_DAILY:
            span = buckets * SUB_DAILY[granularity]
            midnight = dt.datetime.combine(start.date(), dt.time(), UTC)
            end = midnight + (span // DAY) * DAY if span >= DAY else start + span  # cut at UTC midnights
        else:
            end = start + buckets * DAY
        pieces.append(Window(start, min(end, window.end)))
        start = pieces[-1].end
    return pieces


def finer(granularity: str) -> str | None:
    """The next finer granularity `auto` may fall back to (P1M -> P1D -> PT1H), or None."""
    if granularity not in AUTO_ORDER:
        return None
    index = AUTO_ORDER.index(granularity)
    return AUTO_ORDER[index - 1] if index else None
