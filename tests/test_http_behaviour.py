"""Retry-After, backoff, token refresh and error messages, against the emulator over real HTTP."""

from __future__ import annotations

import time

import pytest
from helpers import run_tap, tap_config

from tap_genesys_outbound.tap import TapGenesysOutbound

pytestmark = pytest.mark.emulator

CAMPAIGNS = "/api/v2/outbound/campaigns"


def test_429_waits_for_retry_after_then_succeeds(tmp_path, fresh_emulator) -> None:
    emu = fresh_emulator
    emu.faults.rate_limit(count=2, retry_after=2, path=CAMPAIGNS)
    started = time.monotonic()
    run = run_tap(tmp_path, tap_config(emu), streams=["campaigns"])
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    assert len(run.records("campaigns")) == len(emu.dataset.campaigns)
    statuses = [status for _, path, status in emu.requests if path.startswith(CAMPAIGNS)]
    assert statuses == [429, 429, 200]
    assert elapsed >= 4.0  # two Retry-After: 2 waits, never retried early
    assert "2 retries" in run.stderr and "waited on rate limits" in run.stderr


def test_429_on_the_token_endpoint_is_retried(tmp_path, fresh_emulator) -> None:
    emu = fresh_emulator
    emu.faults.rate_limit(count=1, retry_after=1, path="/oauth/token")
    run = run_tap(tmp_path, tap_config(emu), streams=["campaigns"])
    assert run.returncode == 0, run.stderr
    assert [s for _, p, s in emu.requests if p == "/oauth/token"] == [429, 200]


def test_server_errors_and_dropped_connections_are_retried(tmp_path, fresh_emulator) -> None:
    emu = fresh_emulator
    emu.faults.server_errors(count=2, status=503, path=CAMPAIGNS)
    emu.faults.drop_connections(count=1, path="/api/v2/routing/wrapupcodes")
    run = run_tap(tmp_path, tap_config(emu), streams=["campaigns", "dispositions"])
    assert run.returncode == 0, run.stderr
    assert len(run.records("campaigns")) == len(emu.dataset.campaigns)
    assert len(run.records("dispositions")) == len(emu.dataset.wrapup_codes) + 1  # + the deleted code


def test_short_lived_tokens_are_renewed_before_they_expire(tmp_path, fresh_emulator) -> None:
    emu = fresh_emulator
    emu.faults.token_ttl(2)
    config = tap_config(emu, async_jobs="never", max_requests_per_minute=60)  # one request a second
    run = run_tap(tmp_path, config, streams=["attempts"])
    assert run.returncode == 0, run.stderr
    token_requests = [s for _, p, s in emu.requests if p == "/oauth/token"]
    api_requests = len(emu.requests) - len(token_requests)
    assert api_requests >= 8
    assert len(token_requests) >= api_requests // 3  # a new token at least every 2 s of the run
    assert all(s != 401 for _, p, s in emu.requests if p != "/oauth/token")


def test_a_revoked_token_is_replaced_once_after_a_401(fresh_emulator) -> None:
    emu = fresh_emulator
    tap = TapGenesysOutbound(config=tap_config(emu), setup_mapper=False)
    client = tap.client
    assert client.get_json(CAMPAIGNS)["entities"]
    client.authenticator.access_token = "revoked-token"  # the server no longer knows it; the tap thinks it valid
    assert client.get_json(CAMPAIGNS)["entities"]
    statuses = [s for _, p, s in emu.requests]
    assert statuses.count(401) == 1
    assert [s for _, p, s in emu.requests if p == "/oauth/token"] == [200, 200]


def test_wrong_secret_is_one_line_without_the_secret(tmp_path, fresh_emulator) -> None:
    config = tap_config(fresh_emulator, client_secret="definitely-wrong-secret")
    run = run_tap(tmp_path, config, streams=["campaigns"])
    assert run.returncode == 1
    assert "refused the OAuth client credentials" in run.stderr
    assert "definitely-wrong-secret" not in run.stderr
    assert "Traceback" not in run.stderr


def test_403_names_the_missing_permission(tmp_path, fresh_emulator) -> None:
    fresh_emulator.faults.forbidden("/api/v2/outbound/callanalysisresponsesets")
    run = run_tap(tmp_path, tap_config(fresh_emulator), streams=["call_analysis_response_sets"])
    assert run.returncode == 1
    error_lines = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(error_lines) == 1
    assert "outbound:responseSet:view" in error_lines[0]
    assert "Traceback" not in run.stderr


def test_secret_and_tokens_never_reach_logs_or_state(tmp_path, fresh_emulator) -> None:
    emu = fresh_emulator
    run = run_tap(tmp_path, tap_config(emu), streams=["campaigns", "dispositions"])
    assert run.returncode == 0
    issued = emu.issued_tokens() if hasattr(emu, "issued_tokens") else []
    text = run.stderr + str(run.states)
    assert emu.client_secret not in text
    assert all(token not in text for token in issued)
    assert "Bearer" not in text


def test_a_body_that_is_not_json_is_one_clear_line(tmp_path, fresh_emulator) -> None:
    fresh_emulator.faults.malformed(kind="non_json", count=1, path=CAMPAIGNS)
    run = run_tap(tmp_path, tap_config(fresh_emulator), streams=["campaigns"])
    assert run.returncode == 1
    error_lines = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(error_lines) == 1 and "/api/v2/outbound/campaigns" in error_lines[0] and "not JSON" in error_lines[0]
    assert "Traceback" not in run.stderr


def test_a_listing_without_its_entities_is_one_clear_line(tmp_path, fresh_emulator) -> None:
    fresh_emulator.faults.malformed(kind="missing_envelope", count=1, path=CAMPAIGNS)
    run = run_tap(tmp_path, tap_config(fresh_emulator), streams=["campaigns"])
    assert run.returncode == 1
    error_lines = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(error_lines) == 1 and "/api/v2/outbound/campaigns" in error_lines[0], run.stderr[-2000:]
    assert "Traceback" not in run.stderr
