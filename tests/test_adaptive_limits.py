"""Limits no document states: the tap adapts to a 400 naming one, keeps what it learned, and loses nothing.

The emulator's switchable limits (genesys_emulator/limits.py) answer 400 with a message naming the
limit; each test switches some on, tighter than the tap's starting guesses, and checks the exact ids
or reconciled aggregates, the log line of each adaptation, and that a learned 400 is not paid again.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t

import pytest
from helpers import ANCHOR, run_tap, tap_config

from genesys_emulator import Emulator, EmulatorConfig
from tap_genesys_outbound.adaptive_limits import (
    BUCKETS,
    IDS,
    INTERVAL,
    PAGE_SIZE,
    PREDICATES,
    RESULT_CAP,
    AdaptiveLimits,
    halve_count,
    halve_span,
    limit_kind,
    split_window,
)
from tap_genesys_outbound.errors import GenesysAPIError
from tap_genesys_outbound.windows import UTC, Window

DETAILS = "/api/v2/analytics/conversations/details"
QUERY = f"{DETAILS}/query"
JOBS = f"{DETAILS}/jobs"
START = "2026-03-10T00:00:00Z"


def api_400(message: str, code: str | None = "bad.request") -> GenesysAPIError:
    return GenesysAPIError(f"attempts: POST /x answered 400 Bad Request: {message}", status=400, code=code,
                           detail=message)


# --- unit: which 400s name a limit -------------------------------------------------------------
@pytest.mark.unit
@pytest.mark.parametrize(("message", "kind"), [
    ("Interval exceeds the maximum of 1 day(s)", INTERVAL),
    ("Interval too long: the details query allows at most 7 days; the interval spans 8.0 days", INTERVAL),
    ("Invalid date range for the specified granularity: PT1H allows at most 7 days per query", INTERVAL),
    ("The date range cannot exceed 7 days", INTERVAL),
    ("pageSize must be less than or equal to 50", PAGE_SIZE),
    ("Invalid paging.pageSize [200]: the value must be <= 100", PAGE_SIZE),
    ("Pagination may not exceed 100000 results", RESULT_CAP),
    ("pagination may not exceed 400000 results", RESULT_CAP),
    ("Number of intervals (buckets) exceeds the maximum of 24", BUCKETS),
    ("Filter predicates may not exceed 3", PREDICATES),
    ("At most 10 campaign ids per request, got 12", IDS),
    ("Invalid metrics: nBogus", None),
    ("Invalid granularity 'PT7M'", None),
    ("Invalid cursor", None),
    ("filter: dimension 'dispositionName' is not filterable", None),
    ("The service is currently unavailable; try again later", None),
])
def test_limit_400s_are_recognised_by_their_message(message: str, kind: str | None) -> None:
    assert limit_kind(api_400(message)) == kind


@pytest.mark.unit
def test_a_code_naming_a_limit_is_enough_and_other_statuses_never_are() -> None:
    assert limit_kind(api_400("Bad request", code="analytics.query.interval.too.long")) == INTERVAL
    assert limit_kind(api_400("Bad request", code="page_size.invalid")) == PAGE_SIZE
    assert limit_kind(GenesysAPIError("x", status=403, detail="pageSize must be less than or equal to 5")) is None


@pytest.mark.unit
def test_halving_stops_at_the_floors() -> None:
    assert [halve_count(n, 25) for n in (100, 50, 30, 25)] == [50, 25, 25, None]
    day, hour = dt.timedelta(days=1), dt.timedelta(hours=1)
    spans, span = [], dt.timedelta(days=31)
    while span is not None:
        spans.append(span)
        span = halve_span(span)
    assert spans == [31 * day, 15 * day, 7 * day, 3 * day, day, 12 * hour, 6 * hour, 3 * hour, hour]
    window = Window(dt.datetime(2026, 3, 1, 18, tzinfo=UTC), dt.datetime(2026, 3, 2, 6, tzinfo=UTC))
    assert [p.interval for p in split_window(window, 6 * hour)] == [
        "2026-03-01T18:00:00.000Z/2026-03-02T00:00:00.000Z", "2026-03-02T00:00:00.000Z/2026-03-02T06:00:00.000Z"]


@pytest.mark.unit
def test_each_adaptation_is_kept_and_logged_once(caplog) -> None:
    limits, logger = AdaptiveLimits(), logging.getLogger("test")
    exc = api_400("pageSize must be less than or equal to 30")
    with caplog.at_level(logging.WARNING):
        assert limits.shrink("k", 100, 50, exc, logger, "attempts: details query", "50 per page") == 50
        # another thread learning the same: kept, not logged again
        assert limits.shrink("k", 100, 50, exc, logger, "attempts: details query", "50 per page") == 50
        assert limits.get("k", 100) == 50
    assert caplog.text.count('attempts: details query: 400 "pageSize must be less than or equal to 30"; 50 per') == 1
    with pytest.raises(GenesysAPIError):
        limits.shrink("k", 25, None, exc, logger, "attempts: details query", "never")


# --- attempts on the emulator ------------------------------------------------------------------
@pytest.fixture
def emu() -> t.Iterator[Emulator]:
    """1,200 attempts over 10 days (about 120 a day), three campaigns."""
    with Emulator(EmulatorConfig(seed=5, campaigns=3, attempts=1200, days=10, anchor=ANCHOR,
                                 job_polls_to_fulfill=1)) as emulator:
        yield emulator


def expected_ids(emu: Emulator, start: str = START, end: str = ANCHOR) -> set[str]:
    return {c["conversationId"] for c in emu.dataset.attempts_in(start, end)}


def assert_exact(run: t.Any, emu: Emulator, end: str = ANCHOR) -> None:
    assert run.returncode == 0, run.stderr[-3000:]
    emitted = [r["conversationId"] for r in run.records("attempts")]
    assert len(emitted) == len(set(emitted)), "a conversation was emitted twice in one run"
    assert set(emitted) == expected_ids(emu, START, end)
    assert "Traceback" not in run.stderr


def status_count(emu: Emulator, path: str, status: int) -> int:
    return sum(1 for _, p, s in emu.requests if p == path and s == status)


@pytest.mark.emulator
def test_details_query_shorter_interval_and_smaller_pages_learned_once(tmp_path, emu) -> None:
    emu.faults.limits(details_max_days=1, details_max_page_size=30)
    # one request at a time: with N windows in flight, up to N of them pay a 400 before it is learned
    run = run_tap(tmp_path, tap_config(emu, start_date=START, async_jobs="never", max_concurrent_requests=1),
                  streams=["attempts"])
    assert_exact(run, emu)
    for line in ('attempts: details query: 400 "Interval exceeds the maximum of 1 day(s)"; reading 3-day windows',
                 'attempts: details query: 400 "Interval exceeds the maximum of 1 day(s)"; reading 1-day windows',
                 'attempts: details query: 400 "pageSize must be less than or equal to 30"; reading 50 conversations',
                 'attempts: details query: 400 "pageSize must be less than or equal to 30"; reading 25 conversations'):
        assert run.stderr.count(line) == 1, line
    # 7 -> 3 -> 1 days, 100 -> 50 -> 25 per page: four 400s, then every other window and page is accepted.
    assert status_count(emu, QUERY, 400) == 4


@pytest.mark.emulator
def test_details_jobs_smaller_result_pages_and_jobs_split_at_the_result_cap(tmp_path, emu) -> None:
    emu.faults.limits(job_max_page_size=100, job_max_results=80)
    end = "2026-03-19T00:00:00Z"  # the emulator's data availability date: jobs only
    # one job at a time: with two in flight, both may pay the page-size 400 before it is learned
    run = run_tap(tmp_path, tap_config(emu, start_date=START, end_date=end, async_jobs="always",
                                       max_concurrent_requests=1), streams=["attempts"])
    assert_exact(run, emu, end)
    for size in (500, 250, 125, 62):
        assert run.stderr.count(f'attempts: {JOBS}: 400 "pageSize must be less than or equal to 100"; asking for '
                                f"{size} job results per page from now on") == 1
    assert run.stderr.count('attempts: details job: 400 "Pagination may not exceed 80 results"; a job whose '
                            'results cannot be paged to the end is read as jobs over the halves') == 1
    # 1000 -> 500 -> 250 -> 125 -> 62 per page: four 400s for the page size, never again; the rest are
    # jobs over the result cap, each cancelled and split (7 days -> 3 -> 1 -> 12 hours).
    refused = [p for _, p, s in emu.requests if p.startswith(JOBS) and p.endswith("/results") and s == 400]
    cancelled = [p for m, p, s in emu.requests if m == "DELETE" and p.startswith(JOBS)]
    assert len(refused) == 4 + len(cancelled)


@pytest.mark.emulator
def test_long_campaign_id_filters_are_split(tmp_path, emu) -> None:
    campaigns = [c["id"] for c in emu.dataset.campaigns]
    emu.faults.limits(filter_max_predicates=1)
    config = tap_config(emu, start_date=START, async_jobs="never", campaign_ids=campaigns)
    run = run_tap(tmp_path, config, streams=["attempts"])
    assert_exact(run, emu)
    assert run.stderr.count('attempts: details query: 400 "Filter predicates may not exceed 1"; filtering on at '
                            "most 1 campaign ids per request from now on") == 1


@pytest.mark.emulator
def test_a_400_naming_no_limit_or_refused_at_the_floor_fails_in_one_line(tmp_path, emu) -> None:
    emu.faults.server_errors(status=400, count=1, path=QUERY)
    run = run_tap(tmp_path, tap_config(emu, start_date=START, async_jobs="never"), streams=["attempts"])
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "answered 400 Bad Request: The service is currently unavailable" in run.stderr.strip().splitlines()[-1]

    emu.faults.clear()
    emu.reset_log()
    emu.faults.limits(details_max_page_size=10)
    run = run_tap(tmp_path, tap_config(emu, start_date=START, async_jobs="never", max_concurrent_requests=1),
                  streams=["attempts"])  # one window at a time, so the count of 400s below is exact
    assert run.returncode == 1 and "Traceback" not in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("tap-genesys-outbound: error: ") and "pageSize must be less than or equal to 10" in last
    assert status_count(emu, QUERY, 400) == 3  # 100, 50, 25


# --- every stream, every limit tighter than the tap's guesses ----------------------------------------
TIGHT = {
    "details_max_days": 1, "details_max_page_size": 30, "details_max_results": 500,
    "job_max_page_size": 100, "job_max_results": 60,
    "aggregate_max_buckets": 10, "aggregate_max_days": 2,
    "diagnostics_max_days": 5, "filter_max_predicates": 6, "performance_max_ids": 5,
}
KEYS = {"campaigns": ("id",), "dispositions": ("id",), "call_analysis_response_sets": ("id",),
        "attempts": ("conversationId",), "execution_stats": ("campaignId", "intervalStart", "intervalEnd"),
        "flow_outcome_definitions": ("id",),
        "flow_outcomes": ("flowId", "flowOutcomeId", "flowOutcomeValue", "intervalStart", "intervalEnd"),
        "campaign_stats": ("campaignId", "snapshotAt"), "campaign_status_history": ("campaignId", "kind", "state",
                                                                                    "dateStart")}
TWO_WEEKS = "2026-03-06T00:00:00Z"


def by_key(records: list[dict], stream: str) -> dict[tuple, dict]:
    keyed = {tuple(r[k] for k in KEYS[stream]): r for r in records}
    assert len(keyed) == len(records), f"{stream}: a key emitted twice"
    return keyed


@pytest.mark.emulator
def test_every_stream_adapts_to_every_limit_and_loses_nothing(tmp_path) -> None:
    # Jobs (async_jobs=auto) read the first 4 days (two 2-day jobs, each over the 60-result cap), the sync queries
    # the last 10.
    with Emulator(EmulatorConfig(seed=21, campaigns=12, attempts=1400, days=14, anchor=ANCHOR,
                                 job_polls_to_fulfill=1, availability_lag_hours=240)) as emu:
        campaigns = [c["id"] for c in emu.dataset.campaigns]
        config = tap_config(emu, start_date=TWO_WEEKS, campaign_ids=campaigns)   # 12 ids: over 6 predicates
        (tmp_path / "baseline").mkdir()
        baseline = run_tap(tmp_path / "baseline", config)
        assert baseline.returncode == 0, baseline.stderr[-3000:]
        emu.faults.limits(**TIGHT)
        (tmp_path / "tight").mkdir()
        run = run_tap(tmp_path / "tight", config)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Traceback" not in run.stderr and emu.client_secret not in run.stderr
        # attempts: exactly the emulator's conversations, each once
        emitted = [r["conversationId"] for r in run.records("attempts")]
        assert len(emitted) == len(set(emitted))
        assert set(emitted) == {c["conversationId"] for c in emu.dataset.attempts_in(TWO_WEEKS, ANCHOR)}
        # execution_stats and flow_outcomes: the same buckets and figures as without limits, and
        # callsPlaced reconciles with attempts per campaign and day
        for stream in ("execution_stats", "flow_outcomes", "campaign_status_history"):
            assert by_key(run.records(stream), stream) == by_key(baseline.records(stream), stream), stream
        placed = {(r["campaignId"], r["intervalStart"][:10]): r["callsPlaced"] for r in run.records("execution_stats")}
        per_day: dict[tuple, int] = {}
        for r in run.records("attempts"):
            per_day[(r["campaignId"], r["attemptDate"][:10])] = per_day.get((r["campaignId"], r["attemptDate"][:10]),
                                                                              0) + 1
        assert placed == per_day
        assert {r["granularity"] for r in run.records("execution_stats")} == {"P1D"}
        # status history covers every campaign with diagnostics, as without limits
        history = {r["campaignId"] for r in run.records("campaign_status_history")}
        assert history == {r["campaignId"] for r in baseline.records("campaign_status_history")} == set(campaigns)
        assert [r["campaignId"] for r in run.records("campaign_stats")] == campaigns
        # no key field is null in any stream
        for stream, keys in KEYS.items():
            assert run.records(stream), stream
            assert all(r[k] is not None for r in run.records(stream) for k in keys), stream
        # every kind of adaptation was logged
        for needle in ('details query: 400 "Interval exceeds the maximum of 1 day(s)"',
                       'details query: 400 "pageSize must be less than or equal to 30"',
                       'details query: 400 "Filter predicates may not exceed 6"',
                       '400 "pageSize must be less than or equal to 100"; asking for',
                       'details job: 400 "Pagination may not exceed 60 results"',
                       "execution_stats: /api/v2/analytics/conversations/aggregates: 400",
                       "flow_outcomes: /api/v2/analytics/flows/aggregates: 400",
                       'campaign_status_history: diagnostics summary: 400 "The date range cannot exceed 5 days"',
                       'campaign_stats: performance query: 400 "At most 5 campaign ids per request, got 12"'):
            assert needle in run.stderr, needle


@pytest.mark.emulator
def test_auto_reads_a_bucket_too_long_for_one_request_at_a_finer_granularity_and_adds_it_up(tmp_path) -> None:
    with Emulator(EmulatorConfig(seed=21, campaigns=4, attempts=400, days=14, anchor=ANCHOR)) as emu:
        config = tap_config(emu, start_date=TWO_WEEKS, async_jobs="never")
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        baseline = run_tap(tmp_path / "a", config, streams=["execution_stats", "flow_outcomes"])
        emu.faults.limits(aggregate_max_days=0.5)
        run = run_tap(tmp_path / "b", config, streams=["execution_stats", "flow_outcomes"])
        assert run.returncode == 0, run.stderr[-3000:]
        for stream in ("execution_stats", "flow_outcomes"):
            assert by_key(run.records(stream), stream) == by_key(baseline.records(stream), stream)
            assert {r["granularity"] for r in run.records(stream)} == {"P1D"}
        assert run.stderr.count("reading each P1D bucket as PT1H buckets added up from now on (granularity auto)") == 2
        # an explicit granularity is never changed: one line, the API's message
        run = run_tap(tmp_path / "b", {**config, "granularity": "P1D"}, streams=["execution_stats"])
        assert run.returncode == 1 and "Traceback" not in run.stderr
        assert "Interval exceeds the maximum of 0.5 day(s)" in run.stderr.strip().splitlines()[-1]
