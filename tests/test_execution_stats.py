"""execution_stats against the emulator: reconciliation with attempts, granularity, rates, state."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from helpers import ANCHOR, START, run_tap, tap_config

from genesys_emulator.dataset import OUTCOMES
from tap_genesys_outbound import granularity as g
from tap_genesys_outbound.streams.interval_stats import execution_record
from tap_genesys_outbound.windows import Window, parse_timestamp

pytestmark = pytest.mark.emulator

AGG_QUERY = "/api/v2/analytics/conversations/aggregates/query"
AGG_JOBS = "/api/v2/analytics/conversations/aggregates/jobs"


def utc(text: str) -> dt.datetime:
    return parse_timestamp(text)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, emulator):
    """One run of attempts and execution_stats over the whole emulator range (sync query)."""
    run = run_tap(tmp_path_factory.mktemp("exec"), tap_config(emulator, async_jobs="never"),
                  streams=["attempts", "execution_stats"])
    assert run.returncode == 0, run.stderr
    return run


def test_calls_reconcile_with_attempts_per_campaign_and_day(full_run, emulator) -> None:
    stats = full_run.records("execution_stats")
    assert {r["granularity"] for r in stats} == {"P1D"}, "30 days fit one daily request"
    placed, attempted = Counter(), Counter()
    for r in stats:
        day = r["intervalStart"][:10]
        placed[(r["campaignId"], day)] += r["callsPlaced"]
        attempted[(r["campaignId"], day)] += r["callsAttempted"]
    kind_of = {a.conversation_id: a.kind for a in emulator.dataset.all_records()}
    records, dialled = Counter(), Counter()
    for a in full_run.records("attempts"):
        key = (a["campaignId"], a["attemptDate"][:10])
        records[key] += 1
        dialled[key] += OUTCOMES[kind_of[a["conversationId"]]].attempted
    # nOutbound: every attempts record; nOutboundAttempted: those where a number was dialled
    assert placed == records
    assert attempted == +dialled
    expected = {(c, day): n for c, days in emulator.dataset.attempt_counts_by_campaign_and_day().items()
                for day, n in days.items() if START[:10] <= day < ANCHOR[:10]}
    assert placed == expected
    per_campaign = defaultdict(int)
    for (campaign, _), n in attempted.items():
        per_campaign[campaign] += n
    assert sum(per_campaign.values()) == sum(dialled.values())
    assert "not found in catalog schema" not in full_run.stderr


def test_empty_buckets_are_not_invented(full_run, emulator) -> None:
    stats = full_run.records("execution_stats")
    assert all(r["callsPlaced"] > 0 for r in stats)
    never_dialled = emulator.dataset.campaigns[-1]["id"]
    assert never_dialled not in {r["campaignId"] for r in stats}
    keys = [(r["campaignId"], r["intervalStart"], r["intervalEnd"]) for r in stats]
    assert len(keys) == len(set(keys))


def test_rates_are_decimals_and_durations_seconds(full_run, emulator) -> None:
    stats = full_run.records("execution_stats")
    for r in stats:
        for rate in ("connectRate", "abandonRate"):
            assert r[rate] is None or 0 <= r[rate] <= 1
        if r["callsAttempted"]:
            assert r["connectRate"] == pytest.approx(r["callsConnected"] / r["callsAttempted"], abs=1e-6)
        else:
            assert r["connectRate"] is None
    talk_ms = sum(m["value"] for doc in emulator.dataset.attempts_in(START, ANCHOR) for p in doc["participants"]
                  if p["purpose"] == "agent"           # the emulator repeats tTalk on some customer sessions
                  for s in p["sessions"] for m in s.get("metrics", ()) if m["name"] == "tTalk")
    assert sum(r["talkSeconds"] for r in stats) == pytest.approx(talk_ms / 1000, abs=0.1)
    with_talk = next(r for r in stats if r["avgHandleSeconds"])
    handle = next(m["stats"] for m in with_talk["metrics"] if m["metric"] == "tHandle")
    assert with_talk["avgHandleSeconds"] == pytest.approx(handle["sum"] / handle["count"] / 1000, abs=0.001)


def test_rate_normalisation_and_validation_flags() -> None:
    interval = "2026-03-01T00:00:00.000Z/2026-03-02T00:00:00.000Z"
    record = execution_record("c", interval, "P1D", {
        "nOutbound": {"count": 10}, "nOutboundAttempted": {"count": 8}, "nOutboundConnected": {"count": 4},
        "nOutboundAbandoned": {"count": 1}, "tHandle": {"sum": 7_200_000, "count": 2, "min": 1, "max": 2}})
    assert record["connectRate"] == 0.5 and record["abandonRate"] == 0.25
    assert record["handleSeconds"] == 7200 and record["avgHandleSeconds"] == 3600
    assert record["validationFlags"] == ["AVG_HANDLE_OUTLIER"]
    assert record["intervalStart"] == "2026-03-01T00:00:00+00:00"
    odd = execution_record("c", interval, "P1D", {"nOutboundConnected": {"count": 3}})
    assert odd["connectRate"] is None and odd["abandonRate"] == 0.0 and odd["callsAttempted"] == 0
    assert "CONNECTED_EXCEEDS_ATTEMPTED" in odd["validationFlags"]
    assert odd["avgTalkSeconds"] is None and odd["talkSeconds"] == 0


def test_granularity_rule() -> None:
    def window(days: float) -> Window:
        start = utc("2026-01-01T00:00:00Z")
        return Window(start, start + dt.timedelta(days=days))
    assert g.choose("auto", window(7)) == "PT1H"
    assert g.choose("auto", window(7.5)) == "P1D"
    assert g.choose("auto", window(365)) == "P1D"
    assert g.choose("auto", window(400)) == "P1M"
    assert g.choose("PT30M", window(400)) == "PT30M"
    # explicit granularity: split, never changed; pieces within the limit and bucket-aligned
    pieces = g.split(g.align(window(30), "PT1H"), "PT1H")
    assert len(pieces) == 5 and all(p.end - p.start <= dt.timedelta(days=7) for p in pieces)
    assert pieces[0].start == utc("2026-01-01T00:00:00Z") and pieces[-1].end == utc("2026-01-31T00:00:00Z")
    months = g.split(g.align(Window(utc("2015-03-10T05:00:00Z"), utc("2026-01-15T00:00:00Z")), "P1M"), "P1M")
    assert months[0].start == utc("2015-03-01T00:00:00Z") and months[-1].end == utc("2026-01-01T00:00:00Z")
    assert len(months) == 2
    assert g.align(Window(utc("2026-01-01T10:20:00Z"), utc("2026-01-01T12:10:00Z")), "PT1H") == Window(
        utc("2026-01-01T10:00:00Z"), utc("2026-01-01T12:00:00Z"))
    assert g.align(Window(utc("2026-01-01T10:20:00Z"), utc("2026-01-01T22:10:00Z")), "P1D") is None
    with pytest.raises(ValueError, match="P7D"):  # offered by no Genesys source: not a granularity of the tap
        g.floor(utc("2026-03-19T12:00:00Z"), "P7D")


def test_auto_picks_hourly_for_a_week_and_logs_it_once(tmp_path, emulator) -> None:
    config = tap_config(emulator, start_date="2026-03-13T00:00:00Z", async_jobs="never")
    run = run_tap(tmp_path, config, streams=["execution_stats"])
    assert run.returncode == 0, run.stderr
    stats = run.records("execution_stats")
    assert stats and {r["granularity"] for r in stats} == {"PT1H"}
    assert all(utc(r["intervalEnd"]) - utc(r["intervalStart"]) == dt.timedelta(hours=1) for r in stats)
    assert run.stderr.count("granularity auto chose PT1H") == 1
    expected = Counter(a["participants"][0]["sessions"][0]["outboundCampaignId"]
                       for a in emulator.dataset.attempts_in("2026-03-13T00:00:00Z", ANCHOR))
    got = Counter()
    for r in stats:
        got[r["campaignId"]] += r["callsPlaced"]
    assert got == expected


def test_explicit_hourly_over_a_month_is_split_into_accepted_requests(tmp_path, emulator) -> None:
    before = emulator.request_count(AGG_QUERY, method="POST")
    run = run_tap(tmp_path, tap_config(emulator, granularity="PT1H", async_jobs="never"),
                  streams=["execution_stats"])
    assert run.returncode == 0, run.stderr
    assert emulator.request_count(AGG_QUERY, method="POST") - before == 5   # 30 days in <= 7-day requests
    stats = run.records("execution_stats")
    assert {r["granularity"] for r in stats} == {"PT1H"}
    assert sum(r["callsPlaced"] for r in stats) == len(emulator.dataset.attempts_in(START, ANCHOR))
    assert len(run.states) >= 5, "a STATE message after each request's window"


def test_sync_query_and_async_jobs_give_the_same_records(tmp_path, emulator) -> None:
    end = "2026-03-19T00:00:00Z"  # the jobs' data availability date: async_jobs=always reads up to it
    sync = run_tap(tmp_path, tap_config(emulator, async_jobs="never", end_date=end), streams=["execution_stats"])
    before = emulator.request_count(AGG_JOBS, method="POST")
    jobs = run_tap(tmp_path, tap_config(emulator, async_jobs="always", end_date=end), streams=["execution_stats"])
    assert sync.returncode == jobs.returncode == 0, sync.stderr + jobs.stderr
    assert emulator.request_count(AGG_JOBS, method="POST") - before == 1
    assert jobs.records("execution_stats") == sync.records("execution_stats")


def test_async_jobs_always_stops_at_the_availability_date_like_attempts(tmp_path, emulator) -> None:
    run = run_tap(tmp_path, tap_config(emulator, async_jobs="always"), streams=["execution_stats"])
    assert run.returncode == 0, run.stderr
    assert max(r["intervalEnd"] for r in run.records("execution_stats")) <= "2026-03-19T00:00:00+00:00"
    assert run.states[-1]["bookmarks"]["execution_stats"]["replication_key_value"] == "2026-03-19T00:00:00+00:00"
    assert "newer data waits for a later run" in run.stderr


def test_campaign_ids_limit_execution_stats(tmp_path, emulator) -> None:
    wanted = [c["id"] for c in emulator.dataset.campaigns[:2]]
    run = run_tap(tmp_path, tap_config(emulator, campaign_ids=wanted, async_jobs="never"),
                  streams=["execution_stats"])
    assert run.returncode == 0, run.stderr
    stats = run.records("execution_stats")
    assert {r["campaignId"] for r in stats} == set(wanted)
    assert sum(r["callsPlaced"] for r in stats) == len(emulator.dataset.attempts_in(START, ANCHOR, wanted))


def test_second_run_rereads_the_lookback_with_the_same_granularity(tmp_path, emulator, full_run) -> None:
    state = full_run.states[-1]
    bookmark = state["bookmarks"]["execution_stats"]
    assert bookmark["replication_key_value"] == "2026-03-20T00:00:00+00:00" and bookmark["granularity"] == "P1D"
    config = tap_config(emulator, async_jobs="never", lookback_window_hours=48)
    second = run_tap(tmp_path, config, streams=["execution_stats"], state=state)
    assert second.returncode == 0, second.stderr
    reread = second.records("execution_stats")
    assert reread and {r["intervalStart"][:10] for r in reread} == {"2026-03-18", "2026-03-19"}
    assert {r["granularity"] for r in reread} == {"P1D"}, "auto keeps the bookmarked data's granularity"
    first = {(r["campaignId"], r["intervalStart"]): r for r in full_run.records("execution_stats")}
    assert all(first[(r["campaignId"], r["intervalStart"])] == r for r in reread)
    assert second.states[-1]["bookmarks"]["execution_stats"]["replication_key_value"] == bookmark[
        "replication_key_value"]


def test_emulator_rejects_granularity_beyond_the_limits(emulator) -> None:
    import requests
    token = requests.post(f"{emulator.base_url}/oauth/token", auth=(emulator.client_id, emulator.client_secret),
                          data={"grant_type": "client_credentials"}, timeout=10).json()["access_token"]
    body = {"interval": f"{START}/{ANCHOR}", "granularity": "PT1H", "groupBy": ["outboundCampaignId"],
            "metrics": ["nOutbound"]}
    response = requests.post(f"{emulator.base_url}{AGG_QUERY}", json=body, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400 and "granularity" in response.json()["message"]
    body["granularity"] = "P1D"
    response = requests.post(f"{emulator.base_url}{AGG_QUERY}", json=body, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json()["results"]
