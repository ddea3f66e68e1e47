"""contact_lists, dnc_lists, dialer_events and users against the emulator: exact ids, every field, the joins
attempts and campaigns rely on, and dialer_events reading only what is new."""

from __future__ import annotations

import copy
import datetime as dt
import re

import pytest
from helpers import ANCHOR, run_tap, tap_config

from genesys_emulator import Emulator, EmulatorConfig
from genesys_emulator.dataset import iso, to_ms

pytestmark = pytest.mark.emulator

LISTS = ("contact_lists", "dnc_lists", "dialer_events", "users")
EVENTS = "/api/v2/outbound/events"


@pytest.fixture(scope="module")
def lists_run(tmp_path_factory, emulator):
    run = run_tap(tmp_path_factory.mktemp("lists"), tap_config(emulator, async_jobs="never"),
                  streams=[*LISTS, "campaigns", "attempts"])
    assert run.returncode == 0, run.stderr
    return run


def test_each_listing_is_the_emulator_exactly_with_every_field(lists_run, emulator) -> None:
    ds = emulator.dataset
    expected = {"contact_lists": ds.contact_lists, "dnc_lists": ds.dnc_lists, "dialer_events": ds.events,
                "users": ds.directory_users}
    for stream, entities in expected.items():
        records = lists_run.records(stream)
        assert sorted(r["id"] for r in records) == sorted(e["id"] for e in entities), stream
        by_id = {e["id"]: e for e in entities}
        assert all(r == by_id[r["id"]] for r in records), f"{stream}: every field kept as the API sent it"
    assert "not found in catalog schema" not in lists_run.stderr
    contact_list = lists_run.records("contact_lists")[0]
    assert {"importStatus", "size", "phoneColumns", "columnNames", "division"} <= set(contact_list)
    assert {"dncSourceType", "contactMethod", "importStatus", "size"} <= set(lists_run.records("dnc_lists")[0])


def test_every_agent_of_an_attempt_is_a_user_and_every_contact_list_is_listed(lists_run, emulator) -> None:
    users = {u["id"] for u in lists_run.records("users")}
    agents = {a["agentId"] for a in lists_run.records("attempts") if a["agentId"]}
    assert agents and agents <= users
    contact_lists = {c["id"] for c in lists_run.records("contact_lists")}
    assert {a["contactListId"] for a in lists_run.records("attempts")} <= contact_lists
    campaigns = lists_run.records("campaigns")
    missing = [c for c in campaigns if c["contactList"]["id"] not in contact_lists]
    # the emulator's never-dialled last campaign points at a deleted contact list, and says so
    assert [c["id"] for c in missing] == [emulator.dataset.campaigns[-1]["id"]]
    assert missing[0]["id"] not in {a["campaignId"] for a in lists_run.records("attempts")}
    managers = {u["manager"]["id"] for u in lists_run.records("users") if u.get("manager")}
    assert managers <= users


def test_users_and_lists_take_one_request_per_page(lists_run, emulator) -> None:
    assert _summary_requests(lists_run.stderr, "users") == 1 == _summary_requests(lists_run.stderr, "contact_lists")
    assert _summary_requests(lists_run.stderr, "dialer_events") == -(-len(emulator.dataset.events) // 100)


def _summary_requests(stderr: str, stream: str) -> int:
    return int(re.search(rf"{stream} summary: \d+ records, (\d+) requests", stderr).group(1))


def test_dialer_events_second_run_reads_only_newer_events(tmp_path) -> None:
    with Emulator(EmulatorConfig(seed=5, campaigns=8, attempts=300, days=30, anchor=ANCHOR)) as emu:
        config = {k: v for k, v in tap_config(emu).items() if k != "end_date"}
        events = emu.dataset.events
        (tmp_path / "1").mkdir()
        first = run_tap(tmp_path / "1", config, streams=["dialer_events"])
        assert first.returncode == 0, first.stderr
        assert len(first.records("dialer_events")) == len(events) > 200
        pages = -(-len(events) // 100)
        assert emu.request_count(EVENTS) == pages == _summary_requests(first.stderr, "dialer_events")
        bookmark = first.states[-1]["bookmarks"]["dialer_events"]["replication_key_value"]
        assert dt.datetime.fromisoformat(bookmark) == dt.datetime.fromisoformat(max(e["timestamp"] for e in events))

        newest = to_ms(max(e["timestamp"] for e in events))
        new = []
        for minutes in (10, 20, 30):
            event = copy.deepcopy(events[0])
            event["id"] = f"00000000-0000-4000-8000-0000000000{minutes}"
            event["timestamp"] = iso(newest + minutes * 60_000)
            new.append(event)
        events[:0] = reversed(new)            # the listing is newest first
        before = emu.request_count(EVENTS)
        (tmp_path / "2").mkdir()
        second = run_tap(tmp_path / "2", {**config, "lookback_window_hours": 0}, streams=["dialer_events"],
                         state=first.states[-1])
        assert second.returncode == 0, second.stderr
        read = second.records("dialer_events")
        at_bookmark = [e["id"] for e in events if to_ms(e["timestamp"]) == newest]
        assert sorted(r["id"] for r in read) == sorted([e["id"] for e in new] + at_bookmark)
        assert emu.request_count(EVENTS) - before == 1, "one page holds everything newer than the bookmark"
        # the bookmark moves once, after the listing was read down to the cut (a run killed earlier keeps the old one)
        messages = second.messages
        state_at = [i for i, m in enumerate(messages) if m["type"] == "STATE"
                    and m["value"]["bookmarks"].get("dialer_events", {}).get("replication_key_value") != bookmark]
        last_record = max(i for i, m in enumerate(messages) if m["type"] == "RECORD")
        assert state_at and state_at[0] > last_record
        assert dt.datetime.fromisoformat(second.states[-1]["bookmarks"]["dialer_events"]["replication_key_value"]) \
            == dt.datetime.fromisoformat(new[-1]["timestamp"])


def test_dialer_events_lookback_rereads_recent_events(tmp_path, emulator) -> None:
    config = tap_config(emulator)
    first = run_tap(tmp_path, config, streams=["dialer_events"])
    assert first.returncode == 0, first.stderr
    second = run_tap(tmp_path, {**config, "lookback_window_hours": 24}, streams=["dialer_events"],
                     state=first.states[-1])
    assert second.returncode == 0, second.stderr
    newest = max(to_ms(e["timestamp"]) for e in emulator.dataset.events)
    expected = {e["id"] for e in emulator.dataset.events if to_ms(e["timestamp"]) >= newest - 24 * 3_600_000}
    assert {r["id"] for r in second.records("dialer_events")} == expected
    assert _summary_requests(second.stderr, "dialer_events") < _summary_requests(first.stderr, "dialer_events")
