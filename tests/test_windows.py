"""Closed windows: the read range, and the cut at UTC midnights."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from tap_genesys_outbound.windows import Window, read_range, split_at_midnights

pytestmark = pytest.mark.unit

UTC = dt.UTC


def t(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=UTC)


def test_range_starts_lookback_before_bookmark_and_ends_before_the_delay() -> None:
    window = read_range(start_date=t(1), end_date=t(30), bookmark=t(10), lookback=dt.timedelta(hours=48),
                        analytics_delay=dt.timedelta(hours=1), now=t(20, 12))
    assert window == Window(t(8), t(20, 11))


def test_range_never_starts_before_start_date_and_is_none_when_empty() -> None:
    assert read_range(start_date=t(5), end_date=t(30), bookmark=t(6), lookback=dt.timedelta(days=3),
                      analytics_delay=dt.timedelta(0), now=t(7)).start == t(5)
    assert read_range(start_date=t(5), end_date=t(30), bookmark=t(7), lookback=dt.timedelta(0),
                      analytics_delay=dt.timedelta(hours=1), now=t(7, 1)) is None


def test_split_cuts_at_midnights_with_at_most_max_days() -> None:
    pieces = split_at_midnights(Window(t(1, 13), t(17, 5)), max_days=7)
    assert pieces == [Window(t(1, 13), t(8)), Window(t(8), t(15)), Window(t(15), t(17, 5))]
    assert split_at_midnights(Window(t(1, 13), t(1, 14)), max_days=7) == [Window(t(1, 13), t(1, 14))]
    # contiguous and covering
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))


def test_interval_string_is_utc_with_z() -> None:
    assert Window(t(1), t(2)).interval == "2026-03-01T00:00:00.000Z/2026-03-02T00:00:00.000Z"
