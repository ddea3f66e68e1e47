"""Base of the incremental streams read in closed time windows (attempts, interval stats, status history).

The range a run reads comes from `windows.read_range`; the bookmark moves only
when a window has been read in full (`complete_window`, which also writes a
STATE message at once), never per record: a record's timestamp says nothing
about the records of its window not read yet.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from singer_sdk.helpers.types import Context

from tap_genesys_outbound.analytics_jobs import WindowRead, plan_reads
from tap_genesys_outbound.streams.base import GenesysStream
from tap_genesys_outbound.windows import Window, parse_timestamp, read_range


class WindowedStream(GenesysStream):
    """An incremental stream whose bookmark is the end of the last window read in full."""

    is_sorted = True  # keeps the SDK from adding progress markers; the bookmark is ours, see complete_window

    def range_to_read(self, context: Context | None) -> Window | None:
        """`[max(start_date, bookmark - lookback), min(end_date, now - delay))`, or None (logged)."""
        settings = self.settings
        bookmark = self.get_starting_replication_key_value(context)
        to_read = read_range(
            start_date=settings.start, end_date=settings.end,
            bookmark=parse_timestamp(bookmark) if bookmark else None,
            lookback=settings.lookback, analytics_delay=settings.analytics_delay,
            now=dt.datetime.now(dt.UTC),
        )
        if to_read is None:
            self.logger.info("%s: nothing to read (bookmark %s is at the closed-window edge)", self.name, bookmark)
        else:
            self.logger.info("%s: reading %s (bookmark %s)", self.name, to_read, bookmark)
        return to_read

    def complete_window(self, window: Window, context: Context | None, **extra_state: t.Any) -> None:  # noqa: ANN401
        """Move the bookmark to the end of a window read in full and say so in a STATE message."""
        state = self.get_context_state(context)
        previous = state.get("replication_key_value")
        advanced = previous is None or parse_timestamp(previous) < window.end
        if not advanced and all(state.get(k) == v for k, v in extra_state.items()):
            return
        state["replication_key"] = self.replication_key
        if advanced:
            state["replication_key_value"] = window.end.isoformat()
        state.update(extra_state)
        # Private SDK hook, on purpose: the SDK writes STATE only every 10,000 records and at the end
        # of the stream (singer-sdk-notes.md), and a run killed between must resume at this window.
        self.state_manager.is_flushed = False
        self._write_state_message()

    def plan(self, windows: list[Window]) -> list[WindowRead]:
        """Which windows to read with an analytics job (`analytics_jobs.plan_reads`), logged when cut short."""
        mode = self.config["async_jobs"]
        available_until = self.lookups.data_availability_date() if mode != "never" else None
        reads = plan_reads(windows, mode, available_until)
        if len(reads) < len(windows) and available_until is not None:
            self.logger.info("%s: async_jobs=always reads up to the data availability date %s; newer data waits "
                             "for a later run", self.name, available_until.isoformat())
        return reads

    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        """No per-record bookmarks: they move per window in `complete_window`."""
