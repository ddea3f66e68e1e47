"""`activate-version`: with `emit_activate_version_messages`, full-table reference streams send ACTIVATE_VERSION."""

from __future__ import annotations

import pytest
from helpers import run_tap, tap_config

pytestmark = pytest.mark.emulator

FULL_TABLE = {"campaigns", "dispositions", "call_analysis_response_sets", "flow_outcome_definitions"}
STREAMS = [*sorted(FULL_TABLE), "campaign_stats", "execution_stats"]


def test_activate_version_for_full_table_streams_only(tmp_path, emulator) -> None:
    run = run_tap(tmp_path, tap_config(emulator, emit_activate_version_messages=True), streams=STREAMS)
    assert run.returncode == 0, run.stderr[-2000:]
    activations = [m for m in run.messages if m["type"] == "ACTIVATE_VERSION"]
    assert {m["stream"] for m in activations} == FULL_TABLE  # never campaign_stats (its snapshots are history)
    for message in activations:
        stream, version = message["stream"], message["version"]
        position = run.messages.index(message)
        records = [(i, m) for i, m in enumerate(run.messages) if m["type"] == "RECORD" and m["stream"] == stream]
        assert records and all(i > position and m["version"] == version for i, m in records)
    assert all("version" not in m or m["version"] is None for m in run.messages
               if m["type"] == "RECORD" and m["stream"] not in FULL_TABLE)


def test_no_activate_version_by_default(tmp_path, emulator) -> None:
    run = run_tap(tmp_path, tap_config(emulator), streams=sorted(FULL_TABLE))
    assert run.returncode == 0, run.stderr[-2000:]
    assert not [m for m in run.messages if m["type"] == "ACTIVATE_VERSION"]
