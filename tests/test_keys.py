"""No null key field reaches a target: an absent key dimension becomes the sentinel UNKNOWN, flagged.

Postgres and DuckDB targets refuse a null in a primary-key column (flow_outcomes' flowOutcomeValue may
be absent from a group, the schema allowing null). One test per stream with a compound key.
"""

from __future__ import annotations

import pytest

from tap_genesys_outbound.streams.base import KEY_SENTINEL, UNKNOWN_KEY_FLAG, fill_key_fields
from tap_genesys_outbound.streams.campaign_snapshots import snapshot_record, status_record
from tap_genesys_outbound.tap import TapGenesysOutbound

pytestmark = pytest.mark.unit

DAY = "2026-03-01T00:00:00.000Z/2026-03-02T00:00:00.000Z"
CONFIG = {"client_id": "id", "client_secret": "secret", "api_url": "http://127.0.0.1:9", "start_date": "2026-02-01"}


def stream(name: str):
    return TapGenesysOutbound(config=CONFIG, setup_mapper=False).streams[name]


def bucket(group: dict, **counts: int) -> dict:
    return {(tuple(sorted(group.items())), DAY): {m: {"count": n} for m, n in counts.items()}}


def assert_keys_present(rows: list[dict], keys: tuple[str, ...]) -> None:
    assert rows and all(r[k] is not None and r[k] != "" for r in rows for k in keys)


def test_flow_outcomes_without_an_outcome_value_are_kept_as_unknown_and_flagged() -> None:
    flows = stream("flow_outcomes")
    buckets = {**bucket({"flowId": "f", "flowOutcomeId": "o", "flowOutcomeValue": "SUCCESS"}, nFlowOutcome=3),
               **bucket({"flowId": "f", "flowOutcomeId": "o"}, nFlowOutcome=2),
               **bucket({"flowOutcomeId": "o2", "flowOutcomeValue": "FAILURE"}, nFlowOutcome=1)}
    rows = list(flows.build_records(buckets, "P1D"))
    assert_keys_present(rows, flows.primary_keys)
    by_value = {(r["flowId"], r["flowOutcomeValue"]): r for r in rows}
    assert by_value[("f", "SUCCESS")]["qualityFlags"] == [] and by_value[("f", "SUCCESS")]["qualityNotes"] is None
    unknown = by_value[("f", KEY_SENTINEL)]
    assert unknown["count"] == 2 and unknown["qualityFlags"] == [UNKNOWN_KEY_FLAG]
    assert unknown["qualityNotes"] == "absent in the API's data, set to UNKNOWN: flowOutcomeValue"
    assert by_value[(KEY_SENTINEL, "FAILURE")]["qualityNotes"].endswith("flowId")
    assert sum(r["count"] for r in rows) == 6, "nothing dropped"


def test_execution_stats_without_a_campaign_are_kept_as_unknown_and_flagged() -> None:
    stats = stream("execution_stats")
    rows = list(stats.build_records({**bucket({"outboundCampaignId": "c"}, nOutbound=4),
                                     **bucket({}, nOutbound=1)}, "P1D"))
    assert_keys_present(rows, stats.primary_keys)
    unknown = next(r for r in rows if r["campaignId"] == KEY_SENTINEL)
    assert unknown["callsPlaced"] == 1 and unknown["qualityFlags"] == [UNKNOWN_KEY_FLAG]
    assert next(r for r in rows if r["campaignId"] == "c")["qualityFlags"] == []


def test_status_history_without_a_state_is_kept_as_unknown_and_flagged() -> None:
    keys = stream("campaign_status_history").primary_keys
    rows = [fill_key_fields(status_record("c", "health", {"dateStart": "2026-03-01T00:00:00Z"}), keys),
            fill_key_fields(status_record("c", "status", {"state": "on", "dateStart": "2026-03-01T00:00:00Z"}), keys)]
    assert_keys_present(rows, keys)
    assert rows[0]["state"] == KEY_SENTINEL and rows[0]["qualityFlags"] == [UNKNOWN_KEY_FLAG]
    assert rows[1]["state"] == "on" and rows[1]["qualityFlags"] == []


def test_campaign_stats_keys_come_from_the_listing_and_the_run() -> None:
    keys = stream("campaign_stats").primary_keys
    row = fill_key_fields(snapshot_record({"id": "c"}, "2026-03-01T00:00:00+00:00", None, None, None), keys)
    assert_keys_present([row], keys)
    assert row["qualityFlags"] == []
