"""`dialer_events`: the outbound dialer's event log (`GET /api/v2/outbound/events`), incremental on `timestamp`.

The listing has no time filter (SDK 257.1: `pageSize`, `pageNumber`, `filterType`, `category`,
`level`, `sortBy`, `sortOrder`), so the stream asks for the newest events first
(`sortBy=timestamp&sortOrder=descending`) and stops paging at the first page that reaches
`bookmark - lookback_window_hours` (`start_date` on a first run): a run reads only what is new,
plus the lookback for events written late. Events older than that cut are not emitted.

Bookmark: the newest `timestamp` read, written (with a STATE message) only once the listing has
been read down to the cut. A run killed before that leaves the previous bookmark, so the next run
reads the same events again (harmless: the key is `id`) and loses none. New events arriving
while the pages are read push older ones onto later pages, so an event may be read twice (it is
emitted once per run); none is skipped.

If the API ever answers in another order than newest first (`sortBy` values are not listed in the
SDK), stopping early could miss events: the stream then warns and reads every page instead.
An explicit `end_date` leaves out events at or after it.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from singer_sdk.helpers.types import Context

from tap_genesys_outbound.streams.base import GenesysStream
from tap_genesys_outbound.windows import parse_timestamp

EVENTS_PATH = "/api/v2/outbound/events"


class DialerEventsStream(GenesysStream):
    """Dialer event log, newest first, read down to the bookmark minus the lookback."""

    name = "dialer_events"
    primary_keys = ("id",)
    replication_key = "timestamp"
    is_sorted = True  # no SDK progress markers: the bookmark is written in `_finish`, see the module docstring

    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        bookmark = self.get_starting_replication_key_value(context)
        if bookmark:
            cut = max(parse_timestamp(bookmark) - self.settings.lookback, self.settings.start)
        else:
            cut = self.settings.start
        end = parse_timestamp(self.config["end_date"]) if self.config.get("end_date") else None
        self.logger.info("%s: reading events newest first down to %s (bookmark %s)", self.name, cut.isoformat(),
                         bookmark)
        seen: set[str] = set()
        newest: dt.datetime | None = None
        previous: dt.datetime | None = None
        sorted_newest_first = True
        for page in self._pages():
            reached_cut = False
            for event in page:
                stamp = parse_timestamp(event["timestamp"])
                if sorted_newest_first and previous is not None and stamp > previous:
                    sorted_newest_first = False
                    self.logger.warning("%s: %s did not answer newest first; reading every page instead of "
                                        "stopping at %s", self.name, EVENTS_PATH, cut.isoformat())
                previous = stamp
                if stamp < cut:
                    reached_cut = True
                    continue
                if (end is not None and stamp >= end) or event["id"] in seen:
                    continue
                seen.add(event["id"])
                newest = stamp if newest is None or stamp > newest else newest
                yield event
            if reached_cut and sorted_newest_first:
                break
        self._finish(context, newest)

    def _pages(self) -> t.Iterator[list[dict]]:
        """The listing's pages, newest events first, one request at a time so stopping early saves requests."""
        return self.api.iter_entity_pages(EVENTS_PATH, {"sortBy": "timestamp", "sortOrder": "descending"})

    def _finish(self, context: Context | None, newest: dt.datetime | None) -> None:
        """The listing was read down to the cut: the bookmark moves to the newest event read, with a STATE."""
        state = self.get_context_state(context)
        previous = state.get("replication_key_value")
        if newest is None or (previous and parse_timestamp(previous) >= newest):
            return
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = newest.isoformat()
        self.state_manager.is_flushed = False
        self._write_state_message()

    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        """No per-record bookmarks: the listing is newest first, so only a full read may move it (`_finish`)."""
