"""The base of every stream: schema from `schemas/`, records from the shared client, a summary line.

Streams do not send HTTP themselves: each receives the run's `GenesysClient` (one token, one
request budget, one set of retry rules, see `api.py`) and the shared `Lookups`. They subclass the
SDK's plain `Stream` rather than `RESTStream` because the REST request loop is serial and owned by
one stream, while the tap's requests must share one budget across streams and threads; what the
SDK gives a stream (catalog, selection, state, typing, stream maps, message writing) is kept.
"""

from __future__ import annotations

import functools
import threading
import time
import typing as t
from pathlib import Path

import singer_sdk.singerlib as singer
from singer_sdk import Stream
from singer_sdk.helpers._typing import conform_record_data_types  # the SDK's own step, see _generate_record_messages
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.types import Context
from singer_sdk.schema.source import SchemaDirectory, StreamSchema

from tap_genesys_outbound.adaptive_limits import AdaptiveLimits

if t.TYPE_CHECKING:
    from singer_sdk import Tap

    from tap_genesys_outbound.api import GenesysClient, RequestStats
    from tap_genesys_outbound.lookups import Lookups
    from tap_genesys_outbound.settings import ResolvedSettings

#: Wheels carry the schemas inside the package; a source checkout keeps them at the top level.
SCHEMAS_DIR = next(
    p for p in (Path(__file__).parent.parent / "schemas", Path(__file__).parent.parent.parent / "schemas")
    if p.is_dir()
)


class GenesysStream(Stream):
    """Base class of every Genesys Cloud stream."""

    #: `schemas/<stream name>.json`
    schema = StreamSchema(SchemaDirectory(SCHEMAS_DIR))
    #: The shared lookup whose data this stream emits (its requests are counted there, not here).
    served_by_lookup: str | None = None

    def __init__(self, tap: Tap, *, client: GenesysClient, lookups: Lookups, settings: ResolvedSettings,
                 limits: AdaptiveLimits | None = None) -> None:
        super().__init__(tap)
        self.api = client.for_stream(self.name)
        self.lookups = lookups
        self.settings = settings
        #: The run's learned API limits (`adaptive_limits`), shared by every stream and thread.
        self.limits = limits if limits is not None else AdaptiveLimits()
        #: Records the stream could not key: counted (thread-safe), logged, named in the summary.
        self.unkeyed = Tally()
        self.records_emitted = 0

    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The stream's records; override this instead of `get_records` so the summary counts them."""
        raise NotImplementedError

    @functools.cached_property
    def _everything_selected(self) -> bool:
        """No property of the stream is deselected in the catalog (fixed for the run)."""
        return all(self.mask.values())

    def _generate_record_messages(self, record: dict) -> t.Iterator[singer.RecordMessage]:
        """The SDK's RECORD messages, without its selection walk when the whole schema is selected.

        Private SDK hook, on purpose: the SDK walks every record against the catalog's selection mask
        (`pop_deselected_record_properties`, copying the record) even when nothing is deselected, about a
        tenth of the attempts stream's CPU (bench/run.py --profile). When every breadcrumb is selected the
        walk can remove nothing, so this does the rest of the SDK's method (type conformance, stream maps,
        the message) without it; with any property deselected, the SDK's method runs unchanged.
        """
        if not self._everything_selected:
            yield from super()._generate_record_messages(record)
            return
        record = conform_record_data_types(stream_name=self.name, record=record, schema=self.effective_schema,
                                           level=self.TYPE_CONFORMANCE_LEVEL, logger=self.logger)
        for stream_map in self.stream_maps:
            mapped_record = stream_map.transform(record)
            if mapped_record is not None:
                yield singer.RecordMessage(stream=stream_map.stream_alias, record=mapped_record,
                                           version=self._stream_version, time_extracted=utc_now())

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        for record in self.generate_records(context):
            self.records_emitted += 1
            yield record

    def sync(self, context: Context | None = None) -> None:
        started = time.monotonic()
        try:
            super().sync(context)
        finally:
            self.logger.info("%s", self.summary(time.monotonic() - started))

    def summary(self, seconds: float) -> str:
        """One line: records, requests, retries, rate-limit waits; a lookup-served stream says so."""
        requests = _counts(self.api.stats)
        if self.served_by_lookup:
            lookup = self.lookups.stats.get(self.served_by_lookup)
            read = f": {_counts(lookup)}" if lookup is not None else ""
            requests = f"served by the shared '{self.served_by_lookup}' lookup, read once per run{read}"
        line = f"{self.name} summary: {self.records_emitted} records, {requests}, {seconds:.1f} s in all"
        not_emitted = self.unkeyed.describe()
        return f"{line}; not emitted (no key): {not_emitted}" if not_emitted else line


#: What an absent key field becomes (README "Keys are never null"): targets such as Postgres and DuckDB
#: refuse a null in a primary-key column; the row is kept and flagged UNKNOWN_KEY_FIELD.
KEY_SENTINEL = "UNKNOWN"
UNKNOWN_KEY_FLAG = "UNKNOWN_KEY_FIELD"


def fill_key_fields(record: dict, fields: t.Iterable[str]) -> dict:
    """Set absent (null or empty) key fields of `record` to `KEY_SENTINEL`, flag the row and name them.

    Adds `qualityFlags` (list) and `qualityNotes` (str or None) to every record it sees.
    """
    missing = [field for field in fields if record.get(field) in (None, "")]
    flags = set(record.get("qualityFlags") or ())
    if missing:
        for field in missing:
            record[field] = KEY_SENTINEL
        flags.add(UNKNOWN_KEY_FLAG)
        note = f"absent in the API's data, set to {KEY_SENTINEL}: {', '.join(missing)}"
        record["qualityNotes"] = f"{record['qualityNotes']}; {note}" if record.get("qualityNotes") else note
    record["qualityFlags"] = sorted(flags)
    record.setdefault("qualityNotes", None)
    return record


class Tally:
    """Thread-safe counts by reason, e.g. records dropped because their key is missing."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, reason: str) -> None:
        with self._lock:
            self._counts[reason] = self._counts.get(reason, 0) + 1

    def get(self, reason: str) -> int:
        with self._lock:
            return self._counts.get(reason, 0)

    def describe(self) -> str:
        with self._lock:
            return ", ".join(f"{n} {reason}" for reason, n in sorted(self._counts.items()))


def _counts(stats: RequestStats) -> str:
    return (f"{stats.requests} requests, {stats.retries} retries, "
            f"{stats.rate_limit_wait_seconds:.1f} s waited on rate limits")
