"""flow_outcomes and flow_outcome_definitions against the emulator: flattening, names, percentages, state."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from helpers import ANCHOR, START, run_tap, tap_config

from genesys_emulator import Emulator, EmulatorConfig
from genesys_emulator.dataset import iso, to_ms

pytestmark = pytest.mark.emulator

FLOW_JOBS = "/api/v2/analytics/flows/aggregates/jobs"


@pytest.fixture(scope="module")
def flow_run(tmp_path_factory, emulator):
    run = run_tap(tmp_path_factory.mktemp("flows"), tap_config(emulator, async_jobs="never"),
                  streams=["flow_outcomes", "flow_outcome_definitions"])
    assert run.returncode == 0, run.stderr
    return run


def expected_counts(ds, start=START, end=ANCHOR, flows=None) -> Counter:
    """(flowId, outcomeId, value, UTC day) -> outcomes reached, straight from the emulator's facts."""
    counts = Counter()
    for o in ds.flow_observation_facts(to_ms(start), to_ms(end)):
        flow_id = ds.flows[o.flow]["id"]
        if flows is None or flow_id in flows:
            counts[(flow_id, o.outcome_id, o.value, iso(o.conversation_start)[:10])] += 1
    return counts


def test_one_long_format_row_per_flow_outcome_value_and_bucket(flow_run, emulator) -> None:
    rows = flow_run.records("flow_outcomes")
    got = Counter({(r["flowId"], r["flowOutcomeId"], r["flowOutcomeValue"], r["intervalStart"][:10]): r["count"]
                   for r in rows})
    assert got == expected_counts(emulator.dataset)
    keys = [(r["flowId"], r["flowOutcomeId"], r["flowOutcomeValue"], r["intervalStart"], r["intervalEnd"])
            for r in rows]
    assert len(keys) == len(set(keys))
    assert all(r["failedCount"] == (r["count"] if r["flowOutcomeValue"] == "FAILURE" else 0) for r in rows)
    assert all(r["avgOutcomeSeconds"] and 2 <= r["avgOutcomeSeconds"] <= 90 for r in rows)
    names = {f["id"]: f["name"] for f in emulator.dataset.flows}
    assert all(r["flowName"] == names[r["flowId"]] for r in rows)
    assert "not found in catalog schema" not in flow_run.stderr


def test_percent_of_flow_total_is_computed_within_flow_and_bucket(flow_run) -> None:
    totals = defaultdict(float)
    counts = defaultdict(int)
    for r in flow_run.records("flow_outcomes"):
        totals[(r["flowId"], r["intervalStart"])] += r["percentOfFlowTotal"]
        counts[(r["flowId"], r["intervalStart"])] += r["count"]
    assert len({flow for flow, _ in totals}) == 2, "both emulator flows have data"
    assert all(total == pytest.approx(1.0, abs=1e-5) for total in totals.values())
    for r in flow_run.records("flow_outcomes"):
        assert r["percentOfFlowTotal"] == pytest.approx(r["count"] / counts[(r["flowId"], r["intervalStart"])],
                                                        abs=1e-6)


def test_deleted_outcome_keeps_its_id_with_a_null_name_and_a_warning(flow_run, emulator) -> None:
    deleted = emulator.dataset.deleted_flow_outcome_id
    rows = [r for r in flow_run.records("flow_outcomes") if r["flowOutcomeId"] == deleted]
    assert rows and all(r["flowOutcomeName"] is None for r in rows)
    assert flow_run.stderr.count(f"flow outcome {deleted} is not in") == 1
    names = {d["id"]: d["name"] for d in emulator.dataset.flow_outcomes}
    assert all(r["flowOutcomeName"] == names[r["flowOutcomeId"]] for r in flow_run.records("flow_outcomes")
               if r["flowOutcomeId"] != deleted)


def test_definitions_stream_is_the_outcome_listing(flow_run, emulator) -> None:
    definitions = flow_run.records("flow_outcome_definitions")
    assert [d["id"] for d in definitions] == [d["id"] for d in emulator.dataset.flow_outcomes]
    assert emulator.dataset.deleted_flow_outcome_id not in {d["id"] for d in definitions}


def test_renamed_outcome_takes_the_current_name(tmp_path) -> None:
    with Emulator(EmulatorConfig(seed=5, campaigns=6, attempts=1200, days=10, anchor=ANCHOR)) as emu:
        renamed = emu.dataset.flow_outcomes[0]
        renamed["name"] = "Payment Taken"
        config = tap_config(emu, start_date="2026-03-10T00:00:00Z", async_jobs="never")
        run = run_tap(tmp_path, config, streams=["flow_outcomes"])
        assert run.returncode == 0, run.stderr
        rows = [r for r in run.records("flow_outcomes") if r["flowOutcomeId"] == renamed["id"]]
        assert rows and {r["flowOutcomeName"] for r in rows} == {"Payment Taken"}
        assert {r["granularity"] for r in run.records("flow_outcomes")} == {"P1D"}


def test_flow_ids_limit_flow_outcomes(tmp_path, emulator) -> None:
    survey = emulator.dataset.flows[1]["id"]
    run = run_tap(tmp_path, tap_config(emulator, flow_ids=[survey], async_jobs="never"), streams=["flow_outcomes"])
    assert run.returncode == 0, run.stderr
    rows = run.records("flow_outcomes")
    assert rows and {r["flowId"] for r in rows} == {survey}
    assert sum(r["count"] for r in rows) == sum(expected_counts(emulator.dataset, flows={survey}).values())


def test_sync_query_and_async_jobs_give_the_same_rows(tmp_path, emulator) -> None:
    end = "2026-03-19T00:00:00Z"  # the jobs' data availability date: async_jobs=always reads up to it
    sync = run_tap(tmp_path, tap_config(emulator, async_jobs="never", end_date=end), streams=["flow_outcomes"])
    before = emulator.request_count(FLOW_JOBS, method="POST")
    jobs = run_tap(tmp_path, tap_config(emulator, async_jobs="always", end_date=end), streams=["flow_outcomes"])
    assert sync.returncode == jobs.returncode == 0, sync.stderr + jobs.stderr
    assert emulator.request_count(FLOW_JOBS, method="POST") - before == 1
    assert jobs.records("flow_outcomes") == sync.records("flow_outcomes")


def test_second_run_rereads_only_the_lookback(tmp_path, emulator, flow_run) -> None:
    state = flow_run.states[-1]
    assert state["bookmarks"]["flow_outcomes"]["replication_key_value"] == "2026-03-20T00:00:00+00:00"
    config = tap_config(emulator, async_jobs="never", lookback_window_hours=24)
    second = run_tap(tmp_path, config, streams=["flow_outcomes"], state=state)
    assert second.returncode == 0, second.stderr
    rows = second.records("flow_outcomes")
    assert rows and {r["intervalStart"][:10] for r in rows} == {"2026-03-19"}
    first = {(r["flowId"], r["flowOutcomeId"], r["flowOutcomeValue"], r["intervalStart"]): r
             for r in flow_run.records("flow_outcomes")}
    assert all(first[(r["flowId"], r["flowOutcomeId"], r["flowOutcomeValue"], r["intervalStart"])] == r
               for r in rows)
