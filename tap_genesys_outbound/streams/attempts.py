"""`attempts`: one record per outbound dial attempt.

Genesys has no attempts endpoint: a dial attempt is an analytics conversation
whose dialer session carries `outboundCampaignId` (genesys-api.md section 4).
Windows come from `windows.py` (closed, cut at UTC midnights and at the jobs' data availability
date, at most 7 days).
Each window is read with the synchronous details query or, for data older
than the jobs API's `dataAvailabilityDate`, an async details job; both give
the same records because both are filtered to the window on `attemptDate`.

State: the bookmark is the end of the last window read in full, written as a
STATE message right after that window, so a run killed at any point and run
again (re-reading `lookback_window_hours` before the bookmark) loses nothing.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context
from singer_sdk.streams.rest import HTTPRequest

from tap_genesys_outbound import filters
from tap_genesys_outbound.adaptive_limits import (
    BUCKETS,
    INTERVAL,
    MIN_BATCH,
    MIN_PAGE_SIZE,
    PAGE_SIZE,
    PREDICATES,
    RESULT_CAP,
    batches,
    describe_span,
    halve_count,
    halve_span,
    limit_kind,
    split_window,
)
from tap_genesys_outbound.analytics_jobs import AnalyticsJobFailedError, WindowRead, job_result_pages
from tap_genesys_outbound.api import records_of
from tap_genesys_outbound.attempt_mapping import AttemptMapper, malformed_reason, partial_record
from tap_genesys_outbound.errors import GenesysAPIError
from tap_genesys_outbound.pagination import QueryPageNumberPaginator
from tap_genesys_outbound.prefetch import ordered_reads
from tap_genesys_outbound.spill import ResponsePageCodec
from tap_genesys_outbound.streams.windowed import WindowedStream
from tap_genesys_outbound.windows import (
    DAY,
    Window,
    parse_timestamp,
    split_at,
    split_at_midnights,
    split_evenly_at_midnights,
)

if t.TYPE_CHECKING:
    import requests

DETAILS = "/api/v2/analytics/conversations/details"
QUERY_PATH = f"{DETAILS}/query"
JOBS_PATH = f"{DETAILS}/jobs"
# Starting points, not assumptions: each shrinks on a 400 naming its limit (adaptive_limits, README
# "Limits the tap adapts to").
QUERY_PAGE_SIZE = 100  # the documented safe maximum of the sync query
JOB_PAGE_SIZE = 1000
MAX_WINDOW_DAYS = 7
MAX_WINDOW = dt.timedelta(days=MAX_WINDOW_DAYS)
#: Windows read with a details job: jobs take longer intervals than the query (genesys-api.md 4.1, "queries
#: allow shorter intervals ... than jobs"), and every job costs a submission and polls before its first page,
#: so fewer, longer jobs keep the cursors draining. A 400 naming the interval halves it (adaptive_limits).
MAX_JOB_WINDOW_DAYS = 14
MAX_JOB_WINDOW = dt.timedelta(days=MAX_JOB_WINDOW_DAYS)
#: Pages a window read ahead holds in memory (as JSON bytes, about 2.5 MB a job page); the rest wait in a
#: temporary file (`spill.py`), so memory stays bounded whatever the volume.
QUEUED_PAGES = 4
#: Envelope keys of a details page that has no `conversations` left (query past its end, empty job page).
EMPTY_PAGE_MARKERS = ("totalHits", "cursor", "dataAvailabilityDate")
ENDPOINT_NAMES = {QUERY_PATH: "details query", JOBS_PATH: "details job"}


def is_result_cap(exc: GenesysAPIError) -> bool:
    """A 400 naming a result or pagination cap, e.g. "Pagination may not exceed 100000 results" (genesys-api.md 4.1)."""
    return limit_kind(exc) == RESULT_CAP


def whole_days(window: Window) -> bool:
    return window.end - window.start >= DAY


class AttemptsStream(WindowedStream):
    """Dial attempts from analytics conversation details, incremental on `attemptDate`."""

    name = "attempts"
    primary_keys = ("conversationId",)
    replication_key = "attemptDate"
    #: The SDK's recursive conformance walked every raw participant, segment and metric (60% of the
    #: tap's CPU, bench/run.py) and changes nothing here: records come from AttemptMapper with exactly
    #: the schema's top-level fields, and `participants` is kept as the API sent it.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    # --- what is sent ---------------------------------------------------------------------
    def query_body(self, window: Window, campaign_ids: t.Sequence[str] | None = None) -> dict:
        """The details filter for a window: conversations of the wanted campaigns (any campaign by default).

        `campaign_ids`: one batch of the `campaign_ids` setting when a filter may hold fewer predicates.
        """
        campaign_ids = campaign_ids or self.config.get("campaign_ids")
        segment_filter = (filters.any_of("outboundCampaignId", campaign_ids) if campaign_ids
                          else filters.all_of(filters.exists("outboundCampaignId")))
        return {"interval": window.interval, "order": "asc", "orderBy": "conversationStart",
                "segmentFilters": [segment_filter]}

    def query_request(self, window: Window, page_number: int, page_size: int = QUERY_PAGE_SIZE,
                      campaign_ids: t.Sequence[str] | None = None) -> HTTPRequest:
        """One page of the synchronous details query for `window`."""
        return HTTPRequest(url=f"{self.api.api_url}{QUERY_PATH}", method="POST",
                           data={**self.query_body(window, campaign_ids),
                                 "paging": {"pageSize": page_size, "pageNumber": page_number}})

    def id_batches(self, path: str) -> list[list[str] | None]:
        """The `campaign_ids` setting in batches a filter of `path` accepts ([None]: no id filter)."""
        campaign_ids = list(self.config.get("campaign_ids") or ())
        if not campaign_ids:
            return [None]
        size = self.limits.get(f"{path} predicates", len(campaign_ids))
        return batches(campaign_ids, size)

    def _learn(self, exc: GenesysAPIError, path: str, window: Window, page_size: int | None,
               batches: list[list[str] | None]) -> None:
        """Shrink what `exc` (a 400 from `path` for `window`) names as over a limit; re-raise when nothing can."""
        kind, label = limit_kind(exc), f"{self.name}: {ENDPOINT_NAMES[path]}"
        if kind == PAGE_SIZE and page_size:
            smaller = halve_count(page_size, MIN_PAGE_SIZE)
            self.limits.shrink(f"{path} page size", page_size, smaller, exc, self.logger, label,
                               f"reading {smaller} conversations per page from now on")
        elif kind in (INTERVAL, BUCKETS):
            smaller = halve_span(window.end - window.start)
            self.limits.shrink(f"{path} interval", window.end - window.start, smaller, exc, self.logger, label,
                               f"reading {describe_span(smaller) if smaller else ''} windows from now on")
        elif kind == PREDICATES and batches[0] is not None:
            refused = max(len(batch or ()) for batch in batches)
            smaller = halve_count(refused, MIN_BATCH)
            self.limits.shrink(f"{path} predicates", refused, smaller, exc, self.logger, label,
                               f"filtering on at most {smaller} campaign ids per request from now on")
        else:
            raise exc

    # --- windows and state --------------------------------------------------------------
    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        to_read = self.range_to_read(context)
        if to_read is None:
            return
        reads = ordered_reads(self.plan(self.windows(to_read)), self.read_window, lanes=self.api.max_in_flight,
                              queue_size=QUEUED_PAGES, job_slots=self.api.job_slots,
                              uses_job=lambda read: read.use_job, spill=ResponsePageCodec(),
                              note=lambda line: self.limits.note("read-ahead spill", self.logger,
                                                                 f"attempts: {line}"))
        mapper = None
        for read, pages in reads:  # in window order, whatever order the lanes finished in
            if mapper is None:  # asked once the lanes have started: the wrap-up listing overlaps their first requests
                mapper = AttemptMapper(self.lookups.wrapup_code_names(), self.config.get("campaign_ids"))
            seen: set[str] = set()  # conversation ids emitted for this window (re-reads after a 400 included)
            for source, response in pages:
                conversations = records_of(response, "conversations", self.name, absent_when=EMPTY_PAGE_MARKERS)
                yield from self._records(read.window, source, conversations, mapper, seen)
            self.complete_window(read.window, context)
        unkeyed = self.unkeyed.get("conversations without a conversationId")
        if unkeyed:
            self.logger.warning("attempts: %d conversations without a conversationId could not be keyed and are "
                                "not in this run's output", unkeyed)

    def windows(self, to_read: Window) -> list[Window]:
        """Cut at the jobs' availability date so jobs never read past it. Before it (read with jobs unless
        async_jobs is never): even pieces of at most 14 UTC days, as many as a multiple of the jobs that may
        run at once (`windows.split_evenly_at_midnights`); after it (the sync query): at most 7 days each."""
        boundary = self.lookups.data_availability_date() if self.config["async_jobs"] != "never" else None
        pieces = []
        for part in split_at(to_read, boundary):
            if boundary is not None and part.end <= boundary:
                pieces += split_evenly_at_midnights(part, MAX_JOB_WINDOW_DAYS, self.api.job_slots.limit)
            else:
                pieces += split_at_midnights(part, MAX_WINDOW_DAYS)
        return pieces

    # --- reading one window (in a lane's thread when max_concurrent_requests > 1) -------------
    # What they learn goes to `self.limits` (thread-safe); they yield `(source, page)` and keep nothing:
    # decoding, mapping and `seen` (a window re-read after a 400 repeats pages) are the stream thread's.
    def read_window(self, read: WindowRead) -> t.Iterator[tuple[str, requests.Response]]:
        if read.use_job:
            try:
                yield from self._read_with_job(read.window)
                return
            except AnalyticsJobFailedError as exc:
                self.logger.warning("attempts: %s; reading %s with the sync query instead", exc, read.window)
        yield from self._read_with_query(read.window)

    def _read_with_query(self, window: Window) -> t.Iterator[tuple[str, requests.Response]]:
        span = self.limits.get(f"{QUERY_PATH} interval", MAX_WINDOW)
        if window.end - window.start > span:
            for piece in split_window(window, span):
                yield from self._read_with_query(piece)
            return
        page_size = self.limits.get(f"{QUERY_PATH} page size", QUERY_PAGE_SIZE)
        batches = self.id_batches(QUERY_PATH)
        try:
            for campaign_ids in batches:
                yield from self._pages(self._query_pages(window, page_size, campaign_ids))
        except GenesysAPIError as exc:
            if is_result_cap(exc):
                yield from self._over_result_cap(window, exc)
                return
            self._learn(exc, QUERY_PATH, window, page_size, batches)
            # Read the window again with what was learned: `seen` skips what was emitted already.
            yield from self._read_with_query(window)

    def _over_result_cap(self, window: Window, exc: GenesysAPIError) -> t.Iterator[tuple[str, requests.Response]]:
        """A window the sync query cannot page to the end: halves (whole UTC days), a single day with a job."""
        pieces = split_at_midnights(window, max(1, (window.end - window.start).days // 2))
        if len(pieces) > 1:
            self.limits.note(f"{QUERY_PATH} result cap", self.logger,
                             f'attempts: details query: 400 "{exc.detail or exc}"; reading windows over the cap '
                             "in halves from now on")
            for piece in pieces:
                yield from self._read_with_query(piece)
        elif self.config["async_jobs"] != "never":
            self.logger.info("attempts: one day over the sync query's result cap (%s); using a details job", window)
            try:
                yield from self._read_with_job(window)
            except AnalyticsJobFailedError as failed:
                raise GenesysAPIError(f"attempts: {window} is over the sync query's result cap and its "
                                      f"details job failed: {failed}") from None
        else:
            raise GenesysAPIError(
                f"attempts: {window} holds more conversations in one UTC day than the sync query can page "
                f"({exc.detail or exc}); set async_jobs to auto or always"
            ) from None

    def _read_with_job(self, window: Window) -> t.Iterator[tuple[str, requests.Response]]:
        """Details jobs over `window`; a job whose results cannot be paged to the end becomes two over its halves."""
        span = self.limits.get(f"{JOBS_PATH} interval", MAX_JOB_WINDOW)
        if window.end - window.start > span:
            for piece in split_window(window, span):
                yield from self._read_with_job(piece)
            return
        batches = self.id_batches(JOBS_PATH)
        try:
            for campaign_ids in batches:
                yield from self._pages(self._job_pages(window, campaign_ids))
        except GenesysAPIError as exc:
            if not is_result_cap(exc):
                self._learn(exc, JOBS_PATH, window, None, batches)
                yield from self._read_with_job(window)
                return
            half = halve_span(window.end - window.start)
            if half is None:
                raise
            self.limits.note(f"{JOBS_PATH} result cap", self.logger,
                             f'attempts: details job: 400 "{exc.detail or exc}"; a job whose results cannot be '
                             "paged to the end is read as jobs over the halves of its interval from now on")
            for piece in split_window(window, half):
                yield from self._read_with_job(piece)

    def _pages(self, responses: t.Iterable[requests.Response]) -> t.Iterator[tuple[str, requests.Response]]:
        """Each page as it came, still JSON text: a queued page costs its bytes, not its decoded objects."""
        for response in responses:
            yield f"{response.request.method} {response.request.path_url.split('?')[0]}", response

    def _query_pages(self, window: Window, page_size: int = QUERY_PAGE_SIZE,
                     campaign_ids: t.Sequence[str] | None = None) -> t.Iterator[requests.Response]:
        return self.api.iter_query_pages(lambda page: self.query_request(window, page, page_size, campaign_ids),
                                         QueryPageNumberPaginator(page_size), ahead=self.api.max_in_flight)

    def _job_pages(self, window: Window, campaign_ids: t.Sequence[str] | None = None,
                   ) -> t.Iterator[requests.Response]:
        # A piece shorter than a day (a split job) matches conversations overlapping it, not its whole
        # start day; `_records` keeps those that started in it.
        body = {**self.query_body(window, campaign_ids), "startOfDayIntervalMatching": whole_days(window)}
        return job_result_pages(self.api, JOBS_PATH, body, timeout_seconds=self.config["async_job_timeout_seconds"],
                                page_size=JOB_PAGE_SIZE, limits=self.limits)

    # --- mapping (the stream's thread) --------------------------------------------------------
    def _records(self, window: Window, source: str, conversations: list, mapper: AttemptMapper,
                 seen: set[str]) -> t.Iterator[dict]:
        """Map one page's conversations and keep those that started in the window, each once."""
        start, end = window
        for conversation in conversations:
            conversation_id = conversation.get("conversationId") if isinstance(conversation, dict) else None
            if not conversation_id:  # nothing to key it on: counted, logged, named in the summary
                self.unkeyed.add("conversations without a conversationId")
                self.logger.warning("attempts: a conversation without a conversationId from %s cannot be keyed; "
                                    "not emitted (conversationStart %s)", source,
                                    conversation.get("conversationStart") if isinstance(conversation, dict)
                                    else None)
                continue
            if isinstance(conversation_id, str) and conversation_id in seen:
                continue
            record, problem = None, malformed_reason(conversation)
            if problem is None:
                try:  # a type the checks did not foresee must cost one record's fields, not the record
                    record = mapper.to_record(conversation)
                except (TypeError, ValueError, AttributeError, KeyError) as exc:
                    problem = f"{type(exc).__name__}: {exc}"
            if problem is not None:
                record = partial_record(mapper, conversation, problem, start)
                if record is not None:
                    self.logger.warning("attempts: conversation %s from %s could not be fully mapped (%s); "
                                        "emitted with qualityFlags MAPPING_ERROR", conversation_id, source,
                                        problem)
            if record is None:
                continue
            try:
                attempt_date = parse_timestamp(record["attemptDate"])
            except (TypeError, ValueError, AttributeError):
                attempt_date = start  # unreadable even from segments: kept in the window it was read in
            if not start <= attempt_date < end:
                continue
            conversation_id = record["conversationId"]
            if conversation_id in seen:
                continue
            seen.add(conversation_id)
            yield record
