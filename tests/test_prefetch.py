"""Reading ahead: order kept, lanes never stopped by a slow emitter when pages may wait on disk."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from tap_genesys_outbound.prefetch import ordered_reads
from tap_genesys_outbound.spill import ResponsePageCodec, SpillFile

pytestmark = pytest.mark.unit


class BytesCodec:
    """Pieces are small dicts; on disk they are JSON."""

    def __init__(self) -> None:
        self.dumped = 0

    def dump(self, piece: dict) -> tuple[str, bytes]:
        self.dumped += 1
        return "head", json.dumps(piece).encode()

    def load(self, head: str, body: bytes) -> dict:
        assert head == "head"
        return json.loads(body)


def test_spill_file_is_first_in_first_out_and_starts_over_when_read_empty() -> None:
    spill = SpillFile(limit_bytes=10)
    spill.append(b"abc")
    spill.append(b"defg")
    assert len(spill) == 2
    assert spill.has_room(3) and not spill.has_room(4)
    assert spill.pop() == b"abc"
    spill.append(b"h")
    assert [spill.pop(), spill.pop()] == [b"defg", b"h"]
    assert len(spill) == 0
    assert spill.has_room(10)  # read empty: the file is written from its start again
    spill.append(b"0123456789")
    assert spill.pop() == b"0123456789"
    spill.close()
    with pytest.raises(RuntimeError):
        spill.append(b"x")


def test_an_empty_spill_file_takes_one_piece_larger_than_its_limit() -> None:
    spill = SpillFile(limit_bytes=4)
    assert spill.has_room(100)
    spill.append(b"x" * 100)
    assert not spill.has_room(1)
    assert spill.pop() == b"x" * 100


def test_a_page_on_disk_keeps_body_status_url_and_method_and_never_the_token() -> None:
    request = requests.Request("POST", "https://api.example.test/api/v2/analytics/conversations/details/query",
                               headers={"Authorization": "Bearer secret-token-value"}, json={"a": 1}).prepare()
    response = requests.Response()
    response._content = b'{"conversations": [{"conversationId": "c1"}], "totalHits": 1}'
    response.status_code, response.url, response.request = 200, request.url, request
    response.headers["Content-Type"] = "application/json"
    codec = ResponsePageCodec()

    head, body = codec.dump(("POST /details/query", response))
    source, back = codec.load(head, body)

    assert "secret-token-value" not in repr((head, body)) and "Authorization" not in repr((head, body))
    assert body == response.content
    assert source == "POST /details/query"
    assert back.content == response.content and back.json() == response.json()
    assert (back.status_code, back.url, back.request.method) == (200, response.url, "POST")
    assert back.headers["Content-Type"] == "application/json"


def _slow_consumer_run(spill: BytesCodec | None, pieces_per_item: int = 40) -> tuple[list, bool]:
    """Three items read with 3 lanes, 2 pieces in memory each; item 1 is consumed only after
    waiting (up to 2 s) for item 2's reading to finish. Returns what was consumed and whether it did."""
    item_two_read = threading.Event()

    def fetch(item: int):
        for n in range(pieces_per_item):
            yield {"item": item, "n": n}
        if item == 2:
            item_two_read.set()

    consumed, finished_early = [], None
    for item, pieces in ordered_reads([1, 2, 3], fetch, lanes=3, queue_size=2, spill=spill):
        if item == 1:
            finished_early = item_two_read.wait(2.0)
        consumed.extend((piece["item"], piece["n"]) for piece in pieces)
    return consumed, bool(finished_early)


def test_with_a_spill_codec_a_later_window_is_read_in_full_while_the_head_waits() -> None:
    codec = BytesCodec()
    consumed, read_ahead = _slow_consumer_run(codec)
    assert read_ahead, "item 2's lane stopped although its pages could wait on disk"
    assert consumed == [(item, n) for item in (1, 2, 3) for n in range(40)]
    assert codec.dumped > 0


def test_without_a_spill_codec_a_lane_waits_for_room_in_memory() -> None:
    consumed, read_ahead = _slow_consumer_run(None)
    assert not read_ahead
    assert consumed == [(item, n) for item in (1, 2, 3) for n in range(40)]


def test_a_failure_after_spilled_pieces_is_raised_after_them_in_order() -> None:
    def fetch(item: int):
        for n in range(10):
            yield {"item": item, "n": n}
        if item == 2:
            raise ValueError("page 11 of item 2 failed")

    consumed = []
    with pytest.raises(ValueError, match="page 11 of item 2"):
        for _item, pieces in ordered_reads([1, 2, 3], fetch, lanes=3, queue_size=1, spill=BytesCodec()):
            consumed.extend((piece["item"], piece["n"]) for piece in pieces)
    assert consumed == [(item, n) for item in (1, 2) for n in range(10)]


def test_a_disk_that_refuses_writes_means_waiting_for_memory_not_failing(monkeypatch, caplog) -> None:
    """A full disk (or no temporary directory) after 3 spilled pieces: the lane waits for memory, in order."""
    real_append = SpillFile.append
    appended = []

    def append_until_full(self: SpillFile, data: bytes) -> None:
        if len(appended) >= 3:
            raise OSError(28, "No space left on device")
        appended.append(data)
        real_append(self, data)

    monkeypatch.setattr(SpillFile, "append", append_until_full)
    with caplog.at_level("WARNING"):
        consumed, _read_ahead = _slow_consumer_run(BytesCodec())
    assert consumed == [(item, n) for item in (1, 2, 3) for n in range(40)]
    assert len(appended) == 3
    assert "cannot wait in a temporary file" in caplog.text and "No space left on device" in caplog.text
