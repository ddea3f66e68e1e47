"""Closed windows: the read range, and the cut at UTC midnights."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from tap_genesys_outbound.windows import Window, read_range, split_at_midnights, split_evenly_at_midnights

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


@pytest.mark.parametrize(("window", "max_days", "jobs", "expected_days"), [
    (Window(t(1), t(30)), 14, 2, [8, 7, 7, 7]),       # 29 days: 3 pieces of <= 14 rounded up to 4
    (Window(t(1), t(30)), 14, 1, [10, 10, 9]),
    (Window(t(1), t(29)), 14, 2, [14, 14]),
    (Window(t(1), t(2)), 14, 2, [1]),                 # one day cannot make two jobs
    (Window(t(1, 6), t(3, 18)), 14, 2, [2, 1]),       # partial first and last days count as days
])
def test_even_pieces_at_midnights_as_many_as_a_multiple_of_the_jobs(window: Window, max_days: int, jobs: int,
                                                                     expected_days: list[int]) -> None:
    pieces = split_evenly_at_midnights(window, max_days, jobs)
    assert pieces[0].start == window.start and pieces[-1].end == window.end
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))
    assert all(p.end.hour == 0 for p in pieces[:-1])  # every cut on a UTC midnight
    assert [len(split_at_midnights(p, 1)) for p in pieces] == expected_days
