"""Pages read ahead wait their turn on disk, not in memory.

Why: windows are emitted strictly in order, so the pages a lane reads for a later window wait
until every earlier window is emitted. Holding them in memory either grows with the volume or,
bounded, stops the lane's reading: an analytics job's cursor then idles while the head window
drains alone, and half the request budget goes unused (bench/run.py, latency scenario). Here a
lane keeps a few pages in memory and writes the rest to an anonymous temporary file, read back in
the same order; memory stays flat whatever the volume and the cursors never wait for the emitter.

Only a page's body is written; its status, URL and method stay in memory, and its request headers
(they carry the access token) are dropped. The file is unlinked on creation (on POSIX),
so nothing is left behind, not even by a killed run; `SPILL_LIMIT_BYTES` bounds it per lane.
"""

from __future__ import annotations

import tempfile
import typing as t

import requests

#: Most bytes one lane may hold on disk; a lane that reaches it waits, as a lane without a spill file does.
SPILL_LIMIT_BYTES = 512 * 1024 * 1024

Piece = t.TypeVar("Piece")


class PieceCodec(t.Protocol[Piece]):
    """How a lane's pieces go to disk and back: a small head kept in memory, and the bytes written to disk
    (kept apart, so a page's body is never copied to be framed)."""

    def dump(self, piece: Piece) -> tuple[t.Any, bytes]: ...

    def load(self, head: t.Any, body: bytes) -> Piece: ...  # noqa: ANN401


class SpillFile:
    """A first-in, first-out file of byte strings, emptied (and reused from its start) when all are read.

    Not thread-safe by itself: `prefetch` calls it under the lane's lock.
    """

    def __init__(self, limit_bytes: int = SPILL_LIMIT_BYTES) -> None:
        self.limit_bytes = limit_bytes
        self._file: t.IO[bytes] | None = None
        self._write_at = 0
        self._entries: list[tuple[int, int]] = []  # (offset, length) not read yet, oldest first
        self._next = 0
        self._closed = False

    def __len__(self) -> int:
        return len(self._entries) - self._next

    def has_room(self, size: int) -> bool:
        return self._write_at + size <= self.limit_bytes or not len(self)

    def append(self, data: bytes) -> None:
        if self._closed:
            raise RuntimeError("the spill file is closed")
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="tap-genesys-outbound-")  # noqa: SIM115 - closed in close()
        self._file.seek(self._write_at)
        self._file.write(data)
        self._entries.append((self._write_at, len(data)))
        self._write_at += len(data)

    def pop(self) -> bytes:
        offset, length = self._entries[self._next]
        self._next += 1
        self._file.seek(offset)
        data = self._file.read(length)
        if self._next == len(self._entries):  # all read: start over at the beginning of the file
            self._entries.clear()
            self._next = self._write_at = 0
        return data

    def close(self) -> None:
        self._closed = True
        if self._file is not None:
            self._file.close()
            self._file = None


class ResponsePageCodec:
    """`(source, requests.Response)` pages: the head is (source, status, URL, method, content type), the body
    goes to disk."""

    def dump(self, piece: tuple[str, requests.Response]) -> tuple[tuple, bytes]:
        source, response = piece
        method = response.request.method if response.request is not None else "GET"
        return (source, response.status_code, response.url, method,
                response.headers.get("Content-Type")), response.content or b""

    def load(self, head: tuple, body: bytes) -> tuple[str, requests.Response]:
        source, status, url, method, content_type = head
        response = requests.Response()
        # requests has no public constructor for a response with a body; its own adapters set `_content`.
        response._content = body  # noqa: SLF001
        response.status_code, response.url = status, url
        if content_type:
            response.headers["Content-Type"] = content_type
        response.request = requests.Request(method, url).prepare()
        return source, response
