"""dialer_events' stopping rule on given pages (no HTTP): stop at the cut when newest first, read all otherwise."""

from __future__ import annotations

import pytest

from tap_genesys_outbound.tap import TapGenesysOutbound

pytestmark = pytest.mark.unit

CONFIG = {"client_id": "id", "client_secret": "secret", "api_url": "http://127.0.0.1:9",
          "login_url": "http://127.0.0.1:9", "start_date": "2026-03-01T00:00:00Z", "lookback_window_hours": 0}


def event(n: int, day: int) -> dict:
    return {"id": f"e{n}", "timestamp": f"2026-03-{day:02d}T12:00:00.000Z"}


def run(pages: list[list[dict]], state: dict | None = None) -> tuple[list[str], int, dict]:
    tap = TapGenesysOutbound(config=CONFIG, state=state or {}, setup_mapper=False)
    stream = tap.streams["dialer_events"]
    read = []

    def fake_pages():
        for page in pages:
            read.append(page)
            yield page
    stream._pages = fake_pages  # the listing's pages, as the API would answer them
    stream._write_starting_replication_value(None)  # what Stream.sync does first
    ids = [r["id"] for r in stream.generate_records(None)]
    return ids, len(read), tap.state["bookmarks"].get("dialer_events", {})


def test_newest_first_stops_at_the_first_page_reaching_the_bookmark() -> None:
    pages = [[event(1, 20), event(2, 19)], [event(3, 18), event(4, 10)], [event(5, 9), event(6, 8)]]
    state = {"bookmarks": {"dialer_events": {"replication_key": "timestamp",
                                             "replication_key_value": "2026-03-18T12:00:00+00:00"}}}
    ids, pages_read, bookmark = run(pages, state)
    assert ids == ["e1", "e2", "e3"] and pages_read == 2
    assert bookmark["replication_key_value"] == "2026-03-20T12:00:00+00:00"


def test_an_answer_not_newest_first_is_read_in_full() -> None:
    pages = [[event(1, 2), event(2, 5)], [event(3, 20), event(4, 25)]]
    ids, pages_read, bookmark = run(pages)
    assert ids == ["e1", "e2", "e3", "e4"] and pages_read == 2
    assert bookmark["replication_key_value"] == "2026-03-25T12:00:00+00:00"


def test_events_before_start_date_are_not_emitted_and_duplicates_once() -> None:
    pages = [[event(1, 3), event(2, 2)], [event(2, 2), event(3, 1)],
             [{"id": "e9", "timestamp": "2026-02-27T00:00:00Z"}]]
    ids, pages_read, _ = run(pages)
    assert ids == ["e1", "e2", "e3"] and pages_read == 3
