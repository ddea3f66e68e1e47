"""attempts against the emulator: exact reconciliation, both paging modes, state, lookback, status."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest
from helpers import ANCHOR, START, catalog_selecting, run_tap, tap_config, write_json

from genesys_emulator import Emulator, EmulatorConfig
from tap_genesys_outbound.attempt_mapping import STATUS_DESCRIPTIONS

pytestmark = pytest.mark.emulator

EXPECTED_STATUS = {  # emulator outcome kind -> the status the taxonomy must give it
    "agent": "CONNECTED", "abandoned": "ABANDONED", "machine": "MACHINE", "noanswer": "NO_ANSWER",
    "busy": "BUSY", "fax": "FAX", "sit_callable": "SIT_CALLABLE", "disconnect": "FAILED",
    "sit_uncallable": "INVALID_NUMBER", "not_found": "INVALID_NUMBER", "invalid_number": "INVALID_NUMBER",
    "dnc_list": "DNC", "dnc_skipped": "DNC", "dnc_auth_failed": "DNC", "preview_skipped": "SKIPPED",
    "error": "FAILED",
}


def ids(records: list[dict]) -> list[str]:
    return [r["conversationId"] for r in records]


@pytest.mark.parametrize("mode", ["never", "auto"])
def test_attempts_reconcile_exactly_with_the_emulator(tmp_path, emulator, mode: str) -> None:
    run = run_tap(tmp_path, tap_config(emulator, async_jobs=mode), streams=["attempts"])
    assert run.returncode == 0, run.stderr
    emitted = ids(run.records("attempts"))
    expected = ids_of(emulator.dataset.attempts_in(START, ANCHOR))
    assert len(emitted) == len(set(emitted)), "no conversation may be emitted twice in one run"
    assert set(emitted) == set(expected)
    assert run.states[-1]["bookmarks"]["attempts"]["replication_key_value"] == "2026-03-20T00:00:00+00:00"
    assert "not found in catalog schema" not in run.stderr


def ids_of(conversations: list[dict]) -> list[str]:
    return [c["conversationId"] for c in conversations]


def test_sync_query_and_async_jobs_give_the_same_records(tmp_path, emulator) -> None:
    end = "2026-03-15T00:00:00Z"  # before the jobs' data availability date
    sync = run_tap(tmp_path, tap_config(emulator, end_date=end, async_jobs="never"), streams=["attempts"])
    jobs = run_tap(tmp_path, tap_config(emulator, end_date=end, async_jobs="always"), streams=["attempts"])
    assert sync.returncode == jobs.returncode == 0, sync.stderr + jobs.stderr
    assert emulator.request_count("/api/v2/analytics/conversations/details/jobs", method="POST") >= 4
    by_id = {r["conversationId"]: without_job_only_attributes(r) for r in jobs.records("attempts")}
    assert len(by_id) == len(sync.records("attempts")) > 0
    for record in sync.records("attempts"):
        assert by_id[record["conversationId"]] == record


def without_job_only_attributes(record: dict) -> dict:
    """Job results add participant `attributes` (genesys-api.md 4.2); everything else must match."""
    participants = [{k: v for k, v in p.items() if k != "attributes"} for p in record["participants"]]
    return {**record, "participants": participants}


def test_campaign_ids_limit_attempts(tmp_path, emulator) -> None:
    wanted = [c["id"] for c in emulator.dataset.campaigns[:2]]
    run = run_tap(tmp_path, tap_config(emulator, campaign_ids=wanted, async_jobs="never"), streams=["attempts"])
    assert set(ids(run.records("attempts"))) == set(ids_of(emulator.dataset.attempts_in(START, ANCHOR, wanted)))
    assert {r["campaignId"] for r in run.records("attempts")} <= set(wanted)


def test_every_emulator_outcome_gets_its_status_and_compliance_rows_are_kept(tmp_path, emulator) -> None:
    run = run_tap(tmp_path, tap_config(emulator, async_jobs="never"), streams=["attempts"])
    kind_of = {a.conversation_id: a.kind for a in emulator.dataset.all_records()}
    active = {a.conversation_id for a in emulator.dataset.active_records()}
    seen = Counter()
    for record in run.records("attempts"):
        kind = kind_of[record["conversationId"]]
        seen[kind] += 1
        assert record["status"] in STATUS_DESCRIPTIONS
        if record["conversationId"] in active and kind not in ("dnc_list", "dnc_skipped", "dnc_auth_failed",
                                                               "invalid_number", "preview_skipped"):
            assert record["status"] == "IN_PROGRESS"
            assert "IN_PROGRESS" in record["qualityFlags"]
        elif kind in EXPECTED_STATUS:
            assert record["status"] == EXPECTED_STATUS[kind], (kind, record["statusRule"])
    assert set(EXPECTED_STATUS) <= set(seen), "the dataset should hold every outcome"
    statuses = Counter(r["status"] for r in run.records("attempts"))
    assert statuses["DNC"] == sum(seen[k] for k in ("dnc_list", "dnc_skipped", "dnc_auth_failed"))


def test_deleted_wrapup_code_keeps_its_id_with_a_null_name(tmp_path, emulator) -> None:
    run = run_tap(tmp_path, tap_config(emulator, async_jobs="never"), streams=["attempts"])
    deleted = emulator.dataset.deleted_wrapup_code_id
    rows = [r for r in run.records("attempts") if r["wrapUpCodeId"] == deleted]
    assert rows, "the emulator uses the deleted code on some calls"
    assert all(r["wrapUpCodeName"] is None and "UNKNOWN_WRAPUP_CODE" in r["qualityFlags"] for r in rows)


def test_second_run_with_state_rereads_only_the_lookback(tmp_path, emulator) -> None:
    first = run_tap(tmp_path, tap_config(emulator, async_jobs="never"), streams=["attempts"])
    state = first.states[-1]
    second = run_tap(tmp_path, tap_config(emulator, async_jobs="never", lookback_window_hours=48),
                     streams=["attempts"], state=state)
    assert second.returncode == 0, second.stderr
    expected = set(ids_of(emulator.dataset.attempts_in("2026-03-18T00:00:00Z", ANCHOR)))
    assert set(ids(second.records("attempts"))) == expected


def test_lookback_picks_up_calls_that_completed_after_the_first_run(tmp_path, fresh_emulator) -> None:
    emu = fresh_emulator
    config = tap_config(emu, async_jobs="never")
    first = run_tap(tmp_path, config, streams=["attempts"])
    in_progress = {r["conversationId"] for r in first.records("attempts") if r["status"] == "IN_PROGRESS"}
    assert in_progress, "the emulator holds still-active calls near its anchor"
    emu.dataset.complete_active_calls()
    second = run_tap(tmp_path, config, streams=["attempts"], state=first.states[-1])
    reread = {r["conversationId"]: r for r in second.records("attempts")}
    assert in_progress <= set(reread)
    assert all(reread[c]["completedDate"] and reread[c]["status"] != "IN_PROGRESS" for c in in_progress)


def test_a_run_killed_midway_resumes_from_its_last_state_without_loss(tmp_path, emulator) -> None:
    config = tap_config(emulator, async_jobs="never", lookback_window_hours=0)
    args = [sys.executable, "-m", "tap_genesys_outbound.tap", "--config", write_json(tmp_path / "c.json", config),
            "--catalog", write_json(tmp_path / "cat.json", catalog_selecting("attempts"))]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first_ids, last_state = [], None
    for line in process.stdout:
        message = json.loads(line)
        if message["type"] == "RECORD":
            first_ids.append(message["record"]["conversationId"])
        elif message["type"] == "STATE":
            last_state = message["value"]
        if len(first_ids) >= 1500:  # about halfway through the 30 days
            process.kill()
            break
    process.wait()
    assert last_state is not None and last_state["bookmarks"].get("attempts")
    resumed = run_tap(tmp_path, config, streams=["attempts"], state=last_state)
    assert resumed.returncode == 0, resumed.stderr
    union = set(first_ids) | set(ids(resumed.records("attempts")))
    assert union == set(ids_of(emulator.dataset.attempts_in(START, ANCHOR)))


def test_windows_over_the_result_cap_are_split(tmp_path) -> None:
    with Emulator(EmulatorConfig(seed=3, campaigns=3, attempts=1200, days=10, anchor=ANCHOR,
                                 max_results=300)) as emu:
        config = tap_config(emu, start_date="2026-03-10T00:00:00Z", async_jobs="never")
        run = run_tap(tmp_path, config, streams=["attempts"])
        assert run.returncode == 0, run.stderr
        emitted = ids(run.records("attempts"))
        assert len(emitted) == len(set(emitted))
        assert set(emitted) == set(ids_of(emu.dataset.attempts_in("2026-03-10T00:00:00Z", ANCHOR)))
        assert "reading windows over the cap in halves from now on" in run.stderr


@pytest.mark.parametrize("outcome", ["FAILED", "EXPIRED", "PENDING_FOREVER"])
def test_a_failed_or_stuck_job_falls_back_to_the_sync_query_for_its_window(tmp_path, fresh_emulator,
                                                                              outcome: str) -> None:
    emu = fresh_emulator
    emu.faults.job_outcome(state=outcome, count=1)
    end = "2026-03-15T00:00:00Z"
    config = tap_config(emu, end_date=end, async_jobs="always", async_job_timeout_seconds=2)
    run = run_tap(tmp_path, config, streams=["attempts"])
    assert run.returncode == 0, run.stderr
    emitted = ids(run.records("attempts"))
    assert len(emitted) == len(set(emitted))
    assert set(emitted) == set(ids_of(emu.dataset.attempts_in(START, end)))
    assert "with the sync query instead" in run.stderr
    assert emu.request_count("/api/v2/analytics/conversations/details/jobs/", method="DELETE") == 1


def test_emulator_conversations_repeating_talk_on_the_customer_are_counted_once(emulator) -> None:
    from tap_genesys_outbound.attempt_mapping import AttemptMapper

    mapper = AttemptMapper({})
    mirrored = 0
    for doc in emulator.dataset.attempts_in("2026-02-18T00:00:00Z", "2026-03-20T00:00:00Z"):
        def total(purpose: str, name: str, doc: dict = doc) -> int:
            return sum(m["value"] for p in doc["participants"] if p["purpose"] == purpose for s in p["sessions"]
                       for m in s.get("metrics", ()) if m["name"] == name)
        if not total("customer", "tTalk"):
            continue
        mirrored += 1
        r = mapper.to_record(doc)
        assert r["talkSeconds"] == total("agent", "tTalk") / 1000
        assert r["handleSeconds"] == total("agent", "tHandle") / 1000
    assert mirrored > 10
