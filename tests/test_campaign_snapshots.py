"""campaign_stats (snapshot per run) and campaign_status_history (diagnostics intervals) against the emulator."""

from __future__ import annotations

import pytest
from helpers import ANCHOR, run_tap, tap_config

from genesys_emulator import Emulator, EmulatorConfig
from tap_genesys_outbound.windows import parse_timestamp

pytestmark = pytest.mark.emulator

PERFORMANCE = "/api/v2/outbound/campaigns/performance/query"
DIAGNOSTICS = "/api/v2/outbound/diagnostics/campaigns"


@pytest.fixture(scope="module")
def many_campaigns():
    with Emulator(EmulatorConfig(seed=11, campaigns=120, attempts=600, days=10, anchor=ANCHOR)) as emu:
        yield emu


def test_120_campaigns_take_3_performance_requests_and_share_one_snapshot_time(tmp_path, many_campaigns) -> None:
    emu = many_campaigns
    emu.reset_log()
    run = run_tap(tmp_path, tap_config(emu), streams=["campaign_stats"])
    assert run.returncode == 0, run.stderr
    rows = run.records("campaign_stats")
    assert emu.request_count(PERFORMANCE, method="POST") == 3
    assert emu.request_count("/api/v2/outbound/campaigns/progress", method="POST") == 3
    assert [r["campaignId"] for r in rows] == [c["id"] for c in emu.dataset.campaigns]
    assert len({r["snapshotAt"] for r in rows}) == 1
    assert "not found in catalog schema" not in run.stderr
    by_id = {c["id"]: c for c in emu.dataset.campaigns}
    for r in rows:
        assert r["campaignStatus"] == by_id[r["campaignId"]]["campaignStatus"]
        assert r["sources"] == ["performance", "stats", "progress"]
        assert r["contactsCalled"] is not None and r["totalContacts"] >= r["contactsCalled"]
        for rate in ("connectRate", "linesUtilization"):
            assert r[rate] is None or 0 <= r[rate] <= 1


def test_snapshot_fields_come_from_the_live_views(tmp_path, emulator) -> None:
    campaign = emulator.dataset.campaigns[0]
    run = run_tap(tmp_path, tap_config(emulator, campaign_ids=[campaign["id"]]), streams=["campaign_stats"])
    assert run.returncode == 0, run.stderr
    (row,) = run.records("campaign_stats")
    live = emulator.dataset.campaign_live[campaign["id"]]
    attempts = [a for a in emulator.dataset.all_records() if a.campaign == 0]
    assert row["contactAttempts"] == len(attempts)
    assert row["connectRate"] == pytest.approx(row["contactConnects"] / row["contactAttempts"], abs=1e-6)
    assert row["idleAgents"] == live["idleAgents"] and row["scheduledCalls"] == live["scheduledCalls"]
    assert row["businessSuccessCount"] == live["successCount"]
    assert row["totalAvailableOutboundLines"] == live["totalAvailableOutboundLines"]
    assert row["campaignName"] == campaign["name"] and 0 < row["progressPercentage"] < 100


def test_status_history_has_status_and_health_intervals(tmp_path, emulator) -> None:
    wanted = [c["id"] for c in emulator.dataset.campaigns[:3]]
    run = run_tap(tmp_path, tap_config(emulator, campaign_ids=wanted), streams=["campaign_status_history"])
    assert run.returncode == 0, run.stderr
    rows = run.records("campaign_status_history")
    assert {r["campaignId"] for r in rows} == set(wanted)
    assert {r["kind"] for r in rows} == {"status", "health"}
    keys = [(r["campaignId"], r["kind"], r["state"], r["dateStart"]) for r in rows]
    assert len(keys) == len(set(keys))
    for campaign_id in wanted:
        timeline = emulator.dataset.campaign_live[campaign_id]["diagnostics"]
        start, end = (parse_timestamp(t).timestamp() * 1000 for t in ("2026-02-18T00:00:00Z", ANCHOR))
        expected = sum(1 for _, s, e, _ in timeline["states"] if s < end and (e is None or e > start))
        assert sum(1 for r in rows if r["campaignId"] == campaign_id and r["kind"] == "status") == expected
    status = [r for r in rows if r["kind"] == "status"]
    assert all(r["campaignStatus"] == r["state"] and r["dialingMode"] and r["healthState"] is None for r in status)
    open_rows = [r for r in status if r["isOpen"]]
    assert len(open_rows) == 3 and all(r["dateEnd"] is None for r in open_rows)
    by_id = {c["id"]: c["campaignStatus"] for c in emulator.dataset.campaigns}
    assert all(r["state"] == by_id[r["campaignId"]] for r in open_rows), "the open interval is the current status"
    assert run.states[-1]["bookmarks"]["campaign_status_history"]["replication_key_value"] == \
        "2026-03-20T00:00:00+00:00"
    assert "not found in catalog schema" not in run.stderr


def test_status_history_second_run_rereads_the_lookback(tmp_path, emulator) -> None:
    wanted = [emulator.dataset.campaigns[1]["id"]]
    config = tap_config(emulator, campaign_ids=wanted)
    first = run_tap(tmp_path, config, streams=["campaign_status_history"])
    emulator.reset_log()
    second = run_tap(tmp_path, {**config, "lookback_window_hours": 24}, streams=["campaign_status_history"],
                     state=first.states[-1])
    assert second.returncode == 0, second.stderr
    assert emulator.request_count(DIAGNOSTICS, method="GET") == 1
    lookback_start = parse_timestamp("2026-03-19T00:00:00Z")
    rows = second.records("campaign_status_history")
    assert rows
    assert all(r["dateEnd"] is None or parse_timestamp(r["dateEnd"]) > lookback_start for r in rows)
    first_keys = {(r["kind"], r["state"], r["dateStart"]): r for r in first.records("campaign_status_history")}
    assert all(first_keys[(r["kind"], r["state"], r["dateStart"])] == r for r in rows)
