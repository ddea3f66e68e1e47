"""Concurrency (`max_concurrent_requests`, `max_concurrent_jobs`): same records, same order, same STATE.

Several requests are in flight, but records of a window are emitted only after every earlier window's,
bookmarks move only past windows read in full, and a Retry-After holds every thread.
"""

from __future__ import annotations

import time
import typing as t

import pytest
from helpers import ANCHOR, run_tap, tap_config

from genesys_emulator import Emulator, EmulatorConfig

pytestmark = pytest.mark.emulator

DETAILS = "/api/v2/analytics/conversations/details"
QUERY = f"{DETAILS}/query"
JOBS = f"{DETAILS}/jobs"
START = "2026-02-25T00:00:00Z"  # 23 days: four attempts windows, jobs before the availability date
WINDOWED = ["attempts", "execution_stats", "flow_outcomes", "campaign_status_history"]


@pytest.fixture
def latency_emu() -> t.Iterator[Emulator]:
    """Every API answer takes 40 ms (+-20 %), enough for requests to overlap."""
    with Emulator(EmulatorConfig(seed=21, campaigns=4, attempts=2500, days=30, anchor=ANCHOR,
                                 job_polls_to_fulfill=1, latency_ms=40)) as emu:
        yield emu


def without_signposts(value: t.Any) -> t.Any:
    if isinstance(value, dict):
        return {k: without_signposts(v) for k, v in value.items() if k != "replication_key_signpost"}
    if isinstance(value, list):
        return [without_signposts(v) for v in value]
    return value


def positions(messages: list[dict]) -> list[tuple[str, str]]:
    """The message sequence as (type, stream) pairs: where each STATE falls among the records."""
    return [(m["type"], m.get("stream", "")) for m in messages if m["type"] in ("RECORD", "STATE")]


def expected_ids(emu: Emulator) -> set[str]:
    return {c["conversationId"] for c in emu.dataset.attempts_in(START, ANCHOR)}


@pytest.mark.parametrize("mode", ["never", "auto"])
@pytest.mark.parametrize("workers", [1, 2, 8])
def test_exact_ids_at_every_worker_count_with_latency_and_429_bursts(tmp_path, latency_emu, workers: int,
                                                                      mode: str) -> None:
    emu = latency_emu
    emu.faults.rate_limit(count=3, retry_after=1, path=QUERY)
    if mode == "auto":
        emu.faults.rate_limit(count=1, retry_after=1, path=f"{JOBS}/")
    emu.reset_log()
    config = tap_config(emu, start_date=START, async_jobs=mode, max_concurrent_requests=workers)
    run = run_tap(tmp_path, config, streams=["attempts"])
    assert run.returncode == 0, run.stderr[-3000:]
    ids = [r["conversationId"] for r in run.records("attempts")]
    assert len(ids) == len(set(ids)), "a conversation was emitted twice"
    assert set(ids) == expected_ids(emu)
    assert emu.faults.fired["rate_limit"] == (3 if mode == "never" else 4)
    assert emu.max_in_flight <= workers
    if workers > 1 and mode == "never":  # sync windows of many pages: pages are fetched ahead
        assert emu.max_in_flight > 1, "requests never overlapped"


def test_record_order_and_state_sequence_equal_the_serial_run(tmp_path, latency_emu) -> None:
    runs = {}
    for workers in (1, 4):
        config = tap_config(latency_emu, start_date=START, async_jobs="auto", max_concurrent_requests=workers,
                            max_concurrent_jobs=2, granularity="PT1H")
        (tmp_path / str(workers)).mkdir()
        run = run_tap(tmp_path / str(workers), config, streams=WINDOWED)
        assert run.returncode == 0, run.stderr[-3000:]
        runs[workers] = run
    serial, concurrent = runs[1], runs[4]
    for stream in WINDOWED:
        assert concurrent.records(stream) == serial.records(stream), stream
    # STATE after each window, in the same order; the SDK's signpost is the run's start time, so it differs
    assert without_signposts(concurrent.states) == without_signposts(serial.states)
    assert len(serial.states) >= 8
    # and each STATE right after its window's records, in the same place of the message sequence
    assert positions(concurrent.messages) == positions(serial.messages)


def test_two_analytics_jobs_are_in_flight_at_once_and_no_more(tmp_path) -> None:
    with Emulator(EmulatorConfig(seed=21, campaigns=4, attempts=2500, days=30, anchor=ANCHOR,
                                 job_polls_to_fulfill=2, latency_ms=20)) as emu:
        seen: dict[str, list[float]] = {}  # job id -> times of its polls and result pages
        original = emu.log

        def log(method: str, path: str, status: int) -> None:
            original(method, path, status)
            parts = path[len(JOBS) + 1:].split("/") if path.startswith(f"{JOBS}/") else []
            if parts and parts[0] != "availability":
                seen.setdefault(parts[0], []).append(time.monotonic())

        emu.log = log  # type: ignore[method-assign]
        config = tap_config(emu, start_date="2026-02-18T00:00:00Z", async_jobs="always",
                            max_concurrent_requests=4, max_concurrent_jobs=2)
        run = run_tap(tmp_path, config, streams=["attempts"])
        assert run.returncode == 0, run.stderr[-3000:]
        assert len(seen) == emu.request_count(JOBS, method="POST") >= 4
        spans = [(min(times), max(times)) for times in seen.values()]
        overlap = max(sum(1 for start, end in spans if start <= moment <= end) for moment, _ in spans)
        assert overlap == 2, f"jobs in flight at once: {overlap}"


def test_a_retry_after_seen_by_one_worker_holds_every_other(tmp_path) -> None:
    with Emulator(EmulatorConfig(seed=21, campaigns=4, attempts=2500, days=30, anchor=ANCHOR,
                                 latency_ms=5)) as emu:
        times: list[tuple[float, str, int]] = []
        original = emu.log
        armed = [False]

        def log(method: str, path: str, status: int) -> None:
            original(method, path, status)
            times.append((time.monotonic(), path, status))
            if path == QUERY and status == 200 and not armed[0] and sum(p == QUERY for _, p, _ in times) >= 3:
                armed[0] = True  # mid-run, with several windows in flight
                emu.faults.rate_limit(count=1, retry_after=3, path=QUERY)

        emu.log = log  # type: ignore[method-assign]
        config = tap_config(emu, start_date=START, async_jobs="never", max_concurrent_requests=8)
        run = run_tap(tmp_path, config, streams=["attempts"])
        assert run.returncode == 0, run.stderr[-3000:]
        limited = next(at for at, path, status in times if status == 429)
        # requests already on the wire when the 429 came back may still land just after it; none may be sent
        # after that until its Retry-After has passed
        sent_during_hold = [at - limited for at, path, status in times
                            if path.startswith("/api/v2") and limited + 0.5 < at < limited + 2.9]
        assert sent_during_hold == [], sent_during_hold
        assert any(at >= limited + 3 for at, _, _ in times), "the run went on after the wait"
        ids = [r["conversationId"] for r in run.records("attempts")]
        assert len(ids) == len(set(ids)) and set(ids) == expected_ids(emu)
