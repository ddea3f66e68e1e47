"""Local-time buckets: local midnights, 23/24/25-hour days, calendar months, requests within limits."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from tap_genesys_outbound import granularity as g
from tap_genesys_outbound import local_time
from tap_genesys_outbound.windows import Window, parse_timestamp

pytestmark = pytest.mark.unit

NY, BERLIN = "America/New_York", "Europe/Berlin"
HOUR = dt.timedelta(hours=1)


def utc(text: str) -> dt.datetime:
    return parse_timestamp(text)


def test_a_new_york_day_lasts_23_24_or_25_hours() -> None:
    # 8 pm in New York on Nov 2 2024 is 00:00 UTC on Nov 3: it belongs to the local day Nov 2
    assert g.floor(utc("2024-11-03T00:30:00Z"), "P1D", NY) == utc("2024-11-02T04:00:00Z")
    fall_back = g.floor(utc("2024-11-03T12:00:00Z"), "P1D", NY)
    assert fall_back == utc("2024-11-03T04:00:00Z")
    assert local_time.add_days(fall_back, 1, NY) - fall_back == 25 * HOUR
    spring = g.floor(utc("2025-03-09T12:00:00Z"), "P1D", NY)
    assert local_time.add_days(spring, 1, NY) - spring == 23 * HOUR
    assert local_time.local_iso(fall_back, NY) == "2024-11-03T00:00:00-04:00"
    assert local_time.local_iso(local_time.add_days(fall_back, 1, NY), NY) == "2024-11-04T00:00:00-05:00"


def test_zone_east_of_utc_and_utc_keeps_the_old_format() -> None:
    # Berlin's local day Oct 27 2024 (CEST -> CET) starts at 22:00 UTC the day before and lasts 25 h
    day = g.floor(utc("2024-10-27T10:00:00Z"), "P1D", BERLIN)
    assert day == utc("2024-10-26T22:00:00Z")
    assert local_time.add_days(day, 1, BERLIN) == utc("2024-10-27T23:00:00Z")
    assert local_time.local_iso(utc("2026-03-01T00:00:00Z"), "UTC") == "2026-03-01T00:00:00+00:00"
    assert g.floor(utc("2026-03-01T10:00:00Z"), "P1D") == utc("2026-03-01T00:00:00Z")


def test_local_months_are_calendar_months() -> None:
    month = g.floor(utc("2024-11-20T12:00:00Z"), "P1M", NY)
    assert month == utc("2024-11-01T04:00:00Z")
    assert local_time.add_months(month, 1, NY) == utc("2024-12-01T05:00:00Z")  # 30 days and 1 hour
    assert g.floor(utc("2024-12-01T03:00:00Z"), "P1M", NY) == month  # 10 pm Nov 30 in New York


def test_hourly_buckets_count_from_the_local_midnight() -> None:
    assert g.floor(utc("2024-11-03T06:40:00Z"), "PT1H", NY) == utc("2024-11-03T06:00:00Z")
    kolkata = "Asia/Kolkata"  # +05:30: local hours are half past UTC hours
    assert g.floor(utc("2024-11-03T06:40:00Z"), "PT1H", kolkata) == utc("2024-11-03T06:30:00Z")
    assert g.floor(utc("2024-11-03T06:40:00Z"), "PT15M", kolkata) == utc("2024-11-03T06:30:00Z")


def test_requests_are_cut_at_local_midnights_and_stay_within_the_limit() -> None:
    aligned = g.align(Window(utc("2024-10-20T12:00:00Z"), utc("2024-11-20T12:00:00Z")), "PT1H", NY)
    pieces = g.split(aligned, "PT1H", NY)
    assert pieces[0].start == aligned.start and pieces[-1].end == aligned.end
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))
    for piece in pieces:
        assert piece.end - piece.start <= dt.timedelta(days=7)
        assert local_time.local_iso(piece.end, NY)[11:19] in ("00:00:00", "07:00:00")  # midnight or the range end
    # the week holding Nov 3 (25 h) is one local day shorter, so no request spans more than 7 x 24 h
    assert any(piece.end - piece.start == dt.timedelta(days=6, hours=1) for piece in pieces)
    daily = g.split(g.align(Window(utc("2023-01-01T00:00:00Z"), utc("2024-12-31T00:00:00Z")), "P1D", NY), "P1D", NY)
    assert all(p.end - p.start <= dt.timedelta(days=365) for p in daily)
    assert all(local_time.local_iso(p.start, NY)[11:19] == "00:00:00" for p in daily)


def test_choose_is_unchanged_by_the_zone() -> None:
    start = utc("2024-11-01T04:00:00Z")
    assert g.choose("auto", Window(start, start + dt.timedelta(days=7))) == "PT1H"
    assert g.choose("auto", Window(start, start + dt.timedelta(days=8))) == "P1D"


def test_unknown_zones_are_refused() -> None:
    for name in ("Mars/Olympus_Mons", "+05:00", "", "america/new_york"):
        with pytest.raises(ValueError):
            local_time.zone(name)
    assert local_time.canonical("utc") == "UTC"
