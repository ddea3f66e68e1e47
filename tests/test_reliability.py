"""Reliability: the tap against the emulator with every fault, bad input and persistent failures.

Each run must load exactly the emulator's records (ids and counts), without loss and without a
conversation emitted twice in one run. What the tap retries, what is fatal and how state prevents loss
is in README "Reliability".
"""

from __future__ import annotations

import json
import logging
import random
import re
import socket
import subprocess
import sys
import time
import typing as t

import pytest
import requests
from helpers import ANCHOR, START, catalog_selecting, run_tap, tap_config, write_json

from genesys_emulator import Emulator, EmulatorConfig
from tap_genesys_outbound import api, auth
from tap_genesys_outbound.api import records_of
from tap_genesys_outbound.errors import GenesysAPIError
from tap_genesys_outbound.tap import TapGenesysOutbound, main

pytestmark = pytest.mark.emulator

DETAILS = "/api/v2/analytics/conversations/details"
QUERY = f"{DETAILS}/query"
JOBS = f"{DETAILS}/jobs"
CAMPAIGNS = "/api/v2/outbound/campaigns"
WRAPUP_CODES = "/api/v2/routing/wrapupcodes"
SMALL_START = "2026-03-10T00:00:00Z"  # two windows (7 + 3 days) of the small emulator


@pytest.fixture
def small_emu() -> t.Iterator[Emulator]:
    """600 attempts over 10 days: about 7 query pages, fast to read."""
    with Emulator(EmulatorConfig(seed=11, campaigns=3, attempts=600, days=10, anchor=ANCHOR,
                                 job_polls_to_fulfill=2)) as emu:
        yield emu


def ids(records: list[dict]) -> list[str]:
    return [r["conversationId"] for r in records]


def expected_ids(emu: Emulator, start: str = SMALL_START, end: str = ANCHOR) -> set[str]:
    return {c["conversationId"] for c in emu.dataset.attempts_in(start, end)}


def assert_exact(run: t.Any, emu: Emulator, start: str = SMALL_START, end: str = ANCHOR) -> None:
    """Exit 0, every expected conversation once, nothing else."""
    assert run.returncode == 0, run.stderr[-3000:]
    emitted = ids(run.records("attempts"))
    assert len(emitted) == len(set(emitted)), "a conversation was emitted twice in one run"
    assert set(emitted) == expected_ids(emu, start, end)
    assert "Traceback" not in run.stderr
    assert emu.client_secret not in run.stderr


def after_successful_requests(emu: Emulator, path: str, schedule: dict[int, t.Callable[[], None]]) -> None:
    """Run schedule[n] right after the n-th successful request to `path`, before its response is sent.

    The hook runs in the emulator's request thread, so the fault is in place before the tap can send its
    next request: deterministic "mid-paging" faults without sleeping.
    """
    original = emu.log
    done = [0]

    def log(method: str, logged_path: str, status: int) -> None:
        original(method, logged_path, status)
        if logged_path == path and status in (200, 202):
            done[0] += 1
            if done[0] in schedule:
                schedule[done[0]]()

    emu.log = log  # type: ignore[method-assign]


def statuses(emu: Emulator, prefix: str, method: str | None = None) -> list[int]:
    return [s for m, p, s in emu.requests if p.startswith(prefix) and (method is None or m == method)]


# --- 1. transient faults --------------------------------------------------------------------------------
def test_429_bursts_with_retry_after_on_every_endpoint(tmp_path, small_emu) -> None:
    """Token, wrap-up codes, job availability, job submit, job polling, job results, the sync query, campaigns."""
    emu = small_emu
    emu.faults.rate_limit(count=1, retry_after=1, path="/oauth/token")
    emu.faults.rate_limit(count=1, retry_after=1, path=WRAPUP_CODES)
    emu.faults.rate_limit(count=1, retry_after=1, path=CAMPAIGNS)
    emu.faults.rate_limit(count=1, retry_after=1, path=f"{JOBS}/availability")
    # The job paths share a prefix with the availability path: arm them once the previous step succeeded.
    after_successful_requests(emu, f"{JOBS}/availability",  # next: the job submission (POST .../jobs)
                              {1: lambda: emu.faults.rate_limit(count=1, retry_after=1, path=JOBS)})
    after_successful_requests(emu, JOBS,  # next: the first poll of the first job
                              {1: lambda: emu.faults.rate_limit(count=1, retry_after=1, path=f"{JOBS}/")})
    emu.faults.rate_limit(count=1, retry_after=5, path=QUERY)  # one long burst
    started = time.monotonic()
    run = run_tap(tmp_path, tap_config(emu, start_date=SMALL_START, async_jobs="auto"),
                  streams=["attempts", "campaigns"])
    elapsed = time.monotonic() - started
    assert_exact(run, emu)
    assert len(run.records("campaigns")) == len(emu.dataset.campaigns)
    assert emu.faults.fired["rate_limit"] == 7
    for prefix, method in (("/oauth/token", None), (WRAPUP_CODES, None), (CAMPAIGNS, "GET"),
                           (f"{JOBS}/availability", None), (JOBS, "POST"), (QUERY, None)):
        seen = statuses(emu, prefix, method)
        assert 429 in seen and seen[-1] in (200, 202), (prefix, seen)
    polls = [s for m, p, s in emu.requests
             if m == "GET" and p.startswith(f"{JOBS}/") and p.count("/") == 7 and "availability" not in p]
    assert 429 in polls, f"job polling was not rate limited: {polls}"
    assert elapsed >= 5 + 1 + 1, "Retry-After was not honoured"
    assert "waited on rate limits" in run.stderr


def test_5xx_dropped_and_truncated_connections_and_timeouts_mid_paging(tmp_path, small_emu) -> None:
    emu = small_emu
    faults = emu.faults
    after_successful_requests(emu, QUERY, {
        1: lambda: (faults.server_errors(count=1, status=500, path=QUERY), faults.drop_connections(1, QUERY)),
        2: lambda: (faults.server_errors(count=1, status=502, path=QUERY), faults.truncated_body(1, QUERY)),
        4: lambda: (faults.server_errors(count=1, status=503, path=QUERY),
                    faults.server_errors(count=1, status=504, path=QUERY)),
        5: lambda: faults.slow(seconds=2.5, count=1, path=QUERY),  # past request_timeout_seconds
    })
    run = run_tap(tmp_path, tap_config(emu, start_date=SMALL_START, async_jobs="never", request_timeout_seconds=1),
                  streams=["attempts"])
    assert_exact(run, emu)
    assert faults.fired["server_errors"] == 4
    assert faults.fired["drop_connections"] == faults.fired["truncated_body"] == faults.fired["slow"] == 1
    assert {500, 502, 503, 504, 0} <= set(statuses(emu, QUERY))
    assert "ReadTimeout" in run.stderr or "Timeout" in run.stderr  # the slow page was retried, not waited out
    assert re.search(r"attempts summary: \d+ records, \d+ requests, [6-9] retries", run.stderr), run.stderr[-2000:]


def test_a_token_revoked_before_its_announced_expiry_is_replaced_after_the_401(tmp_path, small_emu) -> None:
    """Tokens say expires_in=30 but die after 2 s: each later request's 401 brings a new token."""
    emu = small_emu
    emu.faults.token_ttl(2, announced=30)
    # one request at a time (8 requests: ~5 s), so each 401 is one dead token
    config = tap_config(emu, start_date=SMALL_START, async_jobs="never", max_requests_per_minute=60,
                        max_concurrent_requests=1)
    run = run_tap(tmp_path, config, streams=["attempts"])
    assert_exact(run, emu)
    api = [s for _, p, s in emu.requests if p != "/oauth/token"]
    tokens = statuses(emu, "/oauth/token")
    assert api.count(401) >= 1, "the run was too short for a token to expire"
    assert len(tokens) == 1 + api.count(401) and set(tokens) == {200}
    assert all(token not in run.stderr for token in emu.issued_tokens())


def test_tokens_revoked_early_with_requests_in_flight_are_replaced_once_each(tmp_path, fresh_emulator) -> None:
    """With 4 requests in flight, the requests holding a dead token all get a 401; one new token serves them."""
    emu = fresh_emulator
    emu.faults.token_ttl(5, announced=30)  # longer than the budget's queue (4 requests at 1 a second)
    config = tap_config(emu, async_jobs="never", max_requests_per_minute=60, max_concurrent_requests=4)
    run = run_tap(tmp_path, config, streams=["attempts"])  # 30 days: about 10 requests, about 8 s
    assert_exact(run, emu, START, ANCHOR)
    api = [s for _, p, s in emu.requests if p != "/oauth/token"]
    tokens = statuses(emu, "/oauth/token")
    assert api.count(401) >= 1, "the run was too short for a token to expire"
    assert 2 <= len(tokens) <= 1 + api.count(401) and set(tokens) == {200}


def test_sigkill_at_random_points_ten_times_then_resume_loses_nothing(tmp_path) -> None:
    """Kill -9 after a random number of messages, resume from the last STATE seen, ten times in a row."""
    rng = random.Random(1234)
    with Emulator(EmulatorConfig(seed=5, campaigns=3, attempts=900, days=30, anchor=ANCHOR)) as emu:
        config = tap_config(emu, async_jobs="never", lookback_window_hours=0,  # 5 windows of <= 7 days
                            max_concurrent_requests=4)  # windows and pages fetched ahead while records go out
        everything = expected_ids(emu, START, ANCHOR)
        args = [sys.executable, "-m", "tap_genesys_outbound.tap", "--config", write_json(tmp_path / "c.json", config),
                "--catalog", write_json(tmp_path / "cat.json", catalog_selecting("attempts"))]
        union: set[str] = set()
        last_state: dict | None = None
        bookmarks = set()
        for kill in range(10):
            bookmark = (last_state or {}).get("bookmarks", {}).get("attempts", {}).get("replication_key_value")
            remaining = len(expected_ids(emu, bookmark or START, ANCHOR))
            kill_after = rng.randint(1, max(1, min(remaining - 1, 450)))  # RECORD or STATE messages, about 2 windows
            state_args = ["--state", write_json(tmp_path / f"state{kill}.json", last_state)] if last_state else []
            process = subprocess.Popen(args + state_args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                       text=True)
            emitted: list[str] = []
            seen_messages = 0
            for line in process.stdout:
                message = json.loads(line)
                if message["type"] == "RECORD":
                    emitted.append(message["record"]["conversationId"])
                elif message["type"] == "STATE":
                    last_state = message["value"]
                if message["type"] in ("RECORD", "STATE"):
                    seen_messages += 1
                    if seen_messages >= kill_after:
                        break
            process.kill()  # SIGKILL: no handler, no final STATE
            process.wait()
            process.stdout.close()
            assert len(emitted) == len(set(emitted)), f"run {kill} emitted a conversation twice"
            union |= set(emitted)
            if last_state:
                bookmarks.add(last_state["bookmarks"]["attempts"]["replication_key_value"])
        assert len(bookmarks) >= 3, f"the kills should land in several windows: {bookmarks}"
        final = run_tap(tmp_path, config, streams=["attempts"], state=last_state)
        assert final.returncode == 0, final.stderr[-3000:]
        final_ids = ids(final.records("attempts"))
        assert len(final_ids) == len(set(final_ids))
        assert union | set(final_ids) == everything


def test_data_arriving_while_a_run_pages_is_neither_missed_nor_emitted_twice(tmp_path, small_emu) -> None:
    """New conversations land in the open window (after the closed range) and in the window being paged."""
    emu = small_emu
    end = "2026-03-19T12:00:00Z"  # the last window ends mid-day: the query still matches that whole day
    original = expected_ids(emu, SMALL_START, end)
    config = tap_config(emu, start_date=SMALL_START, end_date=end, async_jobs="never", lookback_window_hours=0,
                        max_requests_per_minute=120)
    args = [sys.executable, "-m", "tap_genesys_outbound.tap", "--config", write_json(tmp_path / "c.json", config),
            "--catalog", write_json(tmp_path / "cat.json", catalog_selecting("attempts"))]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    emitted: list[str] = []
    states: list[dict] = []
    late = open_window = None
    for line in process.stdout:
        message = json.loads(line)
        if message["type"] == "RECORD":
            emitted.append(message["record"]["conversationId"])
            if len(emitted) == 50:
                # Behind the pager in the window being read (shifts every later page) ...
                late = emu.dataset.add_conversations(40, SMALL_START, message["record"]["attemptDate"])
                # ... and in the open window, on the same UTC day as the last closed window.
                open_window = emu.dataset.add_conversations(40, end, ANCHOR)
        elif message["type"] == "STATE":
            states.append(message["value"])
    stderr = process.stderr.read()
    assert process.wait() == 0, stderr[-3000:]
    assert late and open_window
    assert len(emitted) == len(set(emitted)), "a conversation was emitted twice in one run"
    assert original <= set(emitted), "a conversation of the closed range was missed"
    assert not set(emitted) & {c["conversationId"] for c in open_window}, "the open window was read"
    assert set(emitted) <= original | {c["conversationId"] for c in late}
    # The next run reads the rest of the day, new conversations included, exactly once.
    following = run_tap(tmp_path, tap_config(emu, start_date=SMALL_START, async_jobs="never",
                                             lookback_window_hours=0), streams=["attempts"], state=states[-1])
    assert_exact(following, emu, end, ANCHOR)
    assert {c["conversationId"] for c in open_window} <= set(ids(following.records("attempts")))


# --- malformed data -------------------------------------------------------------------------------------
def test_malformed_conversations_are_emitted_with_a_flag_and_only_one_without_an_id_is_counted(tmp_path,
                                                                                               small_emu) -> None:
    """A record without its primary key, `participants` not a list, `conversationStart` not a timestamp."""
    emu = small_emu
    emu.faults.corrupt_record(field="conversationId", drop=True, count=1, path=QUERY)       # page 1
    emu.faults.corrupt_record(field="participants", value="oops", count=1, path=QUERY)      # page 2
    emu.faults.corrupt_record(field="conversationStart", value="yesterday", count=1, path=QUERY)  # page 3
    run = run_tap(tmp_path, tap_config(emu, start_date=SMALL_START, async_jobs="never"), streams=["attempts"])
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    assert emu.faults.fired["corrupt_record"] == 3
    records = run.records("attempts")
    emitted = ids(records)
    assert len(emitted) == len(set(emitted))
    missing = expected_ids(emu) - set(emitted)
    assert set(emitted) <= expected_ids(emu) and len(missing) == 1   # only the one without a conversationId
    flagged = {r["conversationId"]: r for r in records if "MAPPING_ERROR" in r["qualityFlags"]}
    assert len(flagged) == 2
    named = dict(re.findall(r"conversation (\S+) from POST \S+ could not be fully mapped \((.*)\); emitted",
                            run.stderr))
    assert set(named) == set(flagged)
    bad_participants = next(r for r in flagged.values() if r["participants"] is None)
    assert bad_participants["qualityNotes"].startswith("participants is a JSON string, not a list")
    assert "raw participants: 'oops'" in bad_participants["qualityNotes"]
    assert bad_participants["campaignId"] is None and bad_participants["status"] == "OTHER"
    assert bad_participants["attemptDate"] and bad_participants["statusRule"] == "MAPPING_ERROR"
    bad_start = next(r for r in flagged.values() if r["participants"] is not None)
    truth = next(c for c in emu.dataset.attempts_in(SMALL_START, ANCHOR)
                 if c["conversationId"] == bad_start["conversationId"])
    assert bad_start["qualityNotes"].startswith("conversationStart is 'yesterday', not an ISO-8601 timestamp")
    assert bad_start["participants"] == truth["participants"]            # raw, unmodified
    assert bad_start["campaignId"] and bad_start["status"] != "OTHER"    # everything else still mapped
    assert "NO_CONVERSATION_START" in bad_start["qualityFlags"]
    assert "1 conversations without a conversationId could not be keyed" in run.stderr
    assert "attempts summary: " in run.stderr and "not emitted (no key): 1 conversations without a conversationId" \
        in run.stderr


def test_a_record_list_that_is_not_a_list_is_one_clear_error(small_emu) -> None:
    tap = TapGenesysOutbound(config=tap_config(small_emu), setup_mapper=False)
    response = requests.Response()
    response.status_code, response.url = 200, f"{small_emu.base_url}{QUERY}"
    response._content = b'{"conversations": {"conversationId": "c1"}, "totalHits": 1}'
    response.request = requests.Request("POST", response.url).prepare()
    with pytest.raises(GenesysAPIError, match=r"attempts: POST /api/v2/analytics/conversations/details/query "
                                              r"answered 'conversations' as a JSON dict, not a list"):
        records_of(response, "conversations", tap.streams["attempts"].name)


# --- 2. bad user input ----------------------------------------------------------------------------------
BAD_STATES = {
    "not JSON": "{\"bookmarks\": {\"attempts\": ",
    "a list": "[]",
    "bookmarks not an object": json.dumps({"bookmarks": ["attempts"]}),
    "bookmark not a timestamp": json.dumps({"bookmarks": {"attempts": {"replication_key": "attemptDate",
                                                                       "replication_key_value": "last week"}}}),
    "epoch bookmark (older version)": json.dumps({"bookmarks": {"execution_stats": {
        "replication_key": "intervalStart", "replication_key_value": 1773100800}}}),
}


@pytest.mark.parametrize("case", list(BAD_STATES))
def test_an_unusable_state_file_is_one_line_and_reads_nothing(tmp_path, small_emu, case: str) -> None:
    config = tap_config(small_emu, start_date=SMALL_START)
    state_file = tmp_path / "state.json"
    state_file.write_text(BAD_STATES[case])
    args = [sys.executable, "-m", "tap_genesys_outbound.tap", "--config", write_json(tmp_path / "c.json", config),
            "--catalog", write_json(tmp_path / "cat.json", catalog_selecting("attempts", "execution_stats")),
            "--state", str(state_file)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "Unusable state" in errors[0] and "start_date" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert small_emu.client_secret not in result.stderr + result.stdout
    assert not result.stdout.strip(), "nothing may be read with an unusable state"
    assert small_emu.requests == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_in_process(tmp_path, config: dict, streams: t.Sequence[str], capfd) -> tuple[int, str, float]:
    """`tap.main()` in this process (so retry bounds can be lowered): exit code, stderr, seconds."""
    argv = ["--config", write_json(tmp_path / "config.json", config),
            "--catalog", write_json(tmp_path / "catalog.json", catalog_selecting(*streams))]
    root = logging.getLogger()
    handlers = list(root.handlers)
    started = time.monotonic()
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
    finally:  # the SDK adds a stderr handler per CLI call: drop it before pytest closes that stream
        for handler in set(root.handlers) - set(handlers):
            root.removeHandler(handler)
    captured = capfd.readouterr()
    return exit_info.value.code, captured.err, time.monotonic() - started


@pytest.fixture
def low_retry_bounds(monkeypatch) -> None:
    monkeypatch.setattr(api, "MAX_TRIES", 3)
    monkeypatch.setattr(api, "MAX_RETRY_SECONDS", 4)
    monkeypatch.setattr(auth, "MAX_TOKEN_TRIES", 2)


def assert_one_line_error(code: int, stderr: str, caplog, secret: str) -> str:
    assert code == 1
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, stderr[-3000:]
    assert "Traceback" not in stderr
    assert secret not in stderr and secret not in caplog.text and "Bearer" not in caplog.text + stderr
    return errors[0]


@pytest.mark.parametrize("unreachable", ["api_url", "api_url and login_url"])
def test_an_unreachable_api_url_is_one_line_within_the_retry_bound(tmp_path, small_emu, low_retry_bounds,
                                                                   capfd, caplog, unreachable: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    config = tap_config(small_emu, start_date=SMALL_START, api_url=closed,
                        **({"login_url": closed} if "login_url" in unreachable else {}))
    code, stderr, elapsed = run_in_process(tmp_path, config, ["campaigns"], capfd)
    error = assert_one_line_error(code, stderr, caplog, small_emu.client_secret)
    assert "could not reach" in error and closed in error and "gave up after" in error
    assert elapsed < 15


@pytest.mark.parametrize("failure", ["503 forever", "429 forever", "slow forever", "token 503 forever"])
def test_persistent_failures_give_up_in_bounded_time(tmp_path, small_emu, low_retry_bounds, capfd, caplog,
                                                     failure: str) -> None:
    emu = small_emu
    config = tap_config(emu, start_date=SMALL_START, request_timeout_seconds=1)
    if failure == "503 forever":
        emu.faults.server_errors(count=1000, status=503, path=CAMPAIGNS)
    elif failure == "429 forever":
        emu.faults.rate_limit(count=1000, retry_after=5, path=CAMPAIGNS)
    elif failure == "slow forever":
        emu.faults.slow(seconds=2, count=1000, path=CAMPAIGNS)
    else:
        emu.faults.server_errors(count=1000, status=503, path="/oauth/token")
    code, stderr, elapsed = run_in_process(tmp_path, config, ["campaigns"], capfd)
    error = assert_one_line_error(code, stderr, caplog, emu.client_secret)
    assert "gave up after" in error, error
    assert elapsed < 15, f"took {elapsed:.0f} s"
    if failure == "503 forever":
        assert "answered 503" in error and "gave up after 3 tries" in error
    elif failure == "429 forever":
        assert "answered 429" in error and elapsed < 4 + 3  # max_time cuts the 5 s Retry-After short
    elif failure == "slow forever":
        assert "did not answer /api/v2/outbound/campaigns within request_timeout_seconds=1" in error
    else:
        assert "token endpoint" in error and "answered 503; gave up after 2 tries" in error
