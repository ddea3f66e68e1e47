"""time_zone against the emulator: every daily bucket is one local calendar day (DST days last 23 or 25 hours),
and per campaign and local day the aggregates reconcile with the attempts that started that local day."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from helpers import run_tap, tap_config

from genesys_emulator import Emulator, EmulatorConfig
from genesys_emulator.dataset import OUTCOMES
from tap_genesys_outbound.windows import parse_timestamp

pytestmark = pytest.mark.emulator

# Oct 21 - Nov 6 2024: Berlin leaves summer time on Oct 27, New York on Nov 3
ANCHOR = "2024-11-06T00:00:00Z"
FALL_BACK = {"America/New_York": "2024-11-03", "Europe/Berlin": "2024-10-27"}


@pytest.fixture(scope="module")
def dst_emulator():
    with Emulator(EmulatorConfig(seed=11, campaigns=6, attempts=2500, days=16, anchor=ANCHOR)) as emu:
        yield emu


def local_midnight(day: str, zone: str) -> str:
    return dt.datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC).isoformat()


@pytest.fixture(scope="module", params=sorted(FALL_BACK))
def zone_run(request, tmp_path_factory, dst_emulator):
    zone = request.param
    config = tap_config(dst_emulator, start_date=local_midnight("2024-10-22", zone),
                        end_date=local_midnight("2024-11-05", zone), granularity="P1D", time_zone=zone,
                        async_jobs="auto")
    run = run_tap(tmp_path_factory.mktemp("tz"), config, streams=["attempts", "execution_stats", "flow_outcomes"])
    assert run.returncode == 0, run.stderr
    return zone, run


def test_every_daily_bucket_is_one_local_calendar_day(zone_run) -> None:
    zone, run = zone_run
    tz = ZoneInfo(zone)
    for stream in ("execution_stats", "flow_outcomes"):
        rows = run.records(stream)
        assert rows
        lengths = {}
        for r in rows:
            start, end = dt.datetime.fromisoformat(r["intervalStart"]), dt.datetime.fromisoformat(r["intervalEnd"])
            assert r["timeZone"] == zone and r["granularity"] == "P1D"
            # written with the zone's own offset at that instant: the first ten characters are the local date
            assert start.utcoffset() == start.astimezone(tz).utcoffset()
            assert start.astimezone(tz).time() == dt.time() and end.astimezone(tz).time() == dt.time()
            assert end.astimezone(tz).date() == start.astimezone(tz).date() + dt.timedelta(days=1)
            lengths[r["intervalStart"][:10]] = end - start
        assert lengths[FALL_BACK[zone]] == dt.timedelta(hours=25)
        assert {v for d, v in lengths.items() if d != FALL_BACK[zone]} == {dt.timedelta(hours=24)}


def test_calls_reconcile_with_attempts_per_campaign_and_local_day(zone_run, dst_emulator) -> None:
    zone, run = zone_run
    tz = ZoneInfo(zone)
    placed, attempted = Counter(), Counter()
    for r in run.records("execution_stats"):
        placed[(r["campaignId"], r["intervalStart"][:10])] += r["callsPlaced"]
        attempted[(r["campaignId"], r["intervalStart"][:10])] += r["callsAttempted"]
    kind_of = {a.conversation_id: a.kind for a in dst_emulator.dataset.all_records()}
    records, dialled = Counter(), Counter()
    for a in run.records("attempts"):
        key = (a["campaignId"], parse_timestamp(a["attemptDate"]).astimezone(tz).date().isoformat())
        records[key] += 1
        dialled[key] += OUTCOMES[kind_of[a["conversationId"]]].attempted
    assert placed == records
    assert attempted == +dialled
    assert any(day == FALL_BACK[zone] for _, day in placed), "the 25-hour day has calls"
    assert "not found in catalog schema" not in run.stderr


def test_state_keeps_the_zone_and_a_changed_zone_is_warned_about(zone_run, dst_emulator, tmp_path) -> None:
    zone, run = zone_run
    assert "time_zone changed" not in run.stderr, "a first run has no earlier zone to differ from"
    bookmark = run.states[-1]["bookmarks"]["execution_stats"]
    assert bookmark["time_zone"] == zone and bookmark["granularity"] == "P1D"
    assert parse_timestamp(bookmark["replication_key_value"]) == parse_timestamp(local_midnight("2024-11-05", zone))
    assert bookmark["replication_key_value"].endswith("+00:00"), "bookmarks stay UTC instants"
    config = tap_config(dst_emulator, start_date="2024-10-22T00:00:00Z", end_date="2024-11-05T12:00:00Z",
                        granularity="P1D", time_zone="UTC", lookback_window_hours=24, async_jobs="never")
    second = run_tap(tmp_path, config, streams=["execution_stats"], state=run.states[-1])
    assert second.returncode == 0, second.stderr
    assert f"time_zone changed from {zone} to UTC" in second.stderr
    assert {r["timeZone"] for r in second.records("execution_stats")} == {"UTC"}
    assert second.states[-1]["bookmarks"]["execution_stats"]["time_zone"] == "UTC"
