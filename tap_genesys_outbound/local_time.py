"""Calendar arithmetic in the `time_zone` setting (IANA), with pendulum: the one place zones are handled.

The analytics aggregates bucket days and months in the query's `timeZone` (genesys-api.md
sections 5 and 9), so the interval streams cut their ranges at local boundaries: a local day
lasts 23, 24 or 25 hours, a local month is a calendar month. Everything here takes and returns
aware datetimes; instants returned are in UTC (bookmarks and request intervals stay UTC),
`local_iso` writes an instant with the zone's offset (the records' interval fields).
"""

from __future__ import annotations

import datetime as dt

import pendulum
from pendulum.tz.exceptions import InvalidTimezone

UTC = dt.UTC
DEFAULT_ZONE = "UTC"
EXAMPLE_ZONE = "America/New_York"


def zone(name: str) -> pendulum.Timezone:
    """The IANA zone `name` (ValueError when unknown; fixed offsets such as `+05:00` are not zones)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"not an IANA time zone name: {name!r}")
    try:
        tz = pendulum.timezone(name)
    except (InvalidTimezone, ValueError):
        raise ValueError(f"unknown IANA time zone: {name!r}") from None
    if not isinstance(tz, pendulum.Timezone):
        raise ValueError(f"not an IANA time zone name: {name!r}")
    return tz


def canonical(name: str) -> str:
    """The zone's own spelling (`utc` -> `UTC`), as sent in the query's `timeZone`."""
    return zone(name).name


def _local(moment: dt.datetime, tz_name: str) -> pendulum.DateTime:
    return pendulum.instance(moment).in_timezone(zone(tz_name))


def _utc(moment: pendulum.DateTime) -> dt.datetime:
    return dt.datetime.fromtimestamp(moment.timestamp(), UTC)


def start_of_day(moment: dt.datetime, tz_name: str) -> dt.datetime:
    """The local midnight starting the local day that holds `moment`, as a UTC instant."""
    return _utc(_local(moment, tz_name).start_of("day"))


def start_of_month(moment: dt.datetime, tz_name: str) -> dt.datetime:
    """Local midnight of the 1st of the local month holding `moment`, as a UTC instant."""
    return _utc(_local(moment, tz_name).start_of("month"))


def add_days(moment: dt.datetime, days: int, tz_name: str) -> dt.datetime:
    """`moment` plus `days` local calendar days (wall time kept across DST), as a UTC instant."""
    return _utc(_local(moment, tz_name).add(days=days))


def add_months(moment: dt.datetime, months: int, tz_name: str) -> dt.datetime:
    """`moment` plus `months` local calendar months, as a UTC instant."""
    return _utc(_local(moment, tz_name).add(months=months))


def local_iso(moment: dt.datetime, tz_name: str) -> str:
    """ISO-8601 of the instant with the zone's offset at that instant (`2024-11-03T00:00:00-04:00`)."""
    return _local(moment, tz_name).isoformat()
