"""Singer output: the SDK's msgspec writer, flushed once per STATE instead of once per record.

The SDK's `MsgSpecWriter` flushes stdout after every message: at least one system call per record
(records with their raw participants are larger than stdout's 8 KiB buffer), a fifth of the stream
thread's CPU at 50,000 attempts (bench/run.py --profile). Here records collect in a buffer of
`BUFFER_BYTES`, written when it is full and before every other message (SCHEMA, STATE,
ACTIVATE_VERSION), which also flushes stdout. Nothing can be lost by waiting: a record still in the
buffer when the process dies was not followed by a STATE the target saw, so the next run re-reads it
from the previous STATE.
"""

from __future__ import annotations

import atexit
import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import SingerMessageType
from singer_sdk.singerlib.encoding.simple import Message

BUFFER_BYTES = 1 << 20


class StateFlushedWriter(MsgSpecWriter):
    """`MsgSpecWriter` that holds records back until the buffer fills or a non-record message comes."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        atexit.register(self.flush)  # the SDK ends with a STATE, but a run that stops early still writes all

    def write_message(self, message: Message) -> None:
        self._pending += self.format_message(message)
        if message.type != SingerMessageType.RECORD or len(self._pending) >= BUFFER_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            sys.stdout.buffer.write(self._pending)
            self._pending.clear()
        sys.stdout.flush()
