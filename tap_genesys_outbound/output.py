"""Singer output: the SDK's msgspec writer, flushed once per STATE instead of once per record.

The SDK's `MsgSpecWriter` flushes stdout after every message: one system call per record, a
fifth of the stream thread's CPU at 50,000 attempts (bench/run.py --profile). Here records go
through the ordinary stdout buffer and every other message (SCHEMA, STATE, ACTIVATE_VERSION)
flushes it. Nothing can be lost by waiting: a record still in the buffer when the process dies
was not followed by a STATE the target saw, so the next run re-reads it from the previous STATE.
"""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import SingerMessageType
from singer_sdk.singerlib.encoding.simple import Message


class StateFlushedWriter(MsgSpecWriter):
    """`MsgSpecWriter` that leaves records in the stdout buffer until the next non-record message."""

    def write_message(self, message: Message) -> None:
        sys.stdout.buffer.write(self.format_message(message))
        if message.type != SingerMessageType.RECORD:
            sys.stdout.flush()
