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

import typing as t

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context
from singer_sdk.streams.rest import HTTPRequest

from tap_genesys_outbound import filters
from tap_genesys_outbound.analytics_jobs import AnalyticsJobFailedError, WindowRead, job_result_pages
from tap_genesys_outbound.api import records_of
from tap_genesys_outbound.attempt_mapping import AttemptMapper, malformed_reason
from tap_genesys_outbound.errors import GenesysAPIError
from tap_genesys_outbound.pagination import QueryPageNumberPaginator
from tap_genesys_outbound.prefetch import ordered_reads
from tap_genesys_outbound.streams.windowed import WindowedStream
from tap_genesys_outbound.windows import Window, parse_timestamp, split_at, split_at_midnights

if t.TYPE_CHECKING:
    import requests

DETAILS = "/api/v2/analytics/conversations/details"
QUERY_PATH = f"{DETAILS}/query"
JOBS_PATH = f"{DETAILS}/jobs"
QUERY_PAGE_SIZE = 100  # the documented safe maximum of the sync query
JOB_PAGE_SIZE = 1000
MAX_WINDOW_DAYS = 7
#: Envelope keys of a details page that has no `conversations` left (query past its end, empty job page).
EMPTY_PAGE_MARKERS = ("totalHits", "cursor", "dataAvailabilityDate")


def is_result_cap(exc: GenesysAPIError) -> bool:
    """The sync query's 400 "Pagination may not exceed 100000 results" (genesys-api.md 4.1)."""
    return exc.status == 400 and "pagination may not exceed" in str(exc).lower()


class AttemptsStream(WindowedStream):
    """Dial attempts from analytics conversation details, incremental on `attemptDate`."""

    name = "attempts"
    primary_keys = ("conversationId",)
    replication_key = "attemptDate"
    #: The SDK's recursive conformance walked every raw participant, segment and metric (60% of the
    #: tap's CPU, bench/run.py) and changes nothing here: records come from AttemptMapper with exactly
    #: the schema's top-level fields, and `participants` is kept as the API sent it.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: ANN401
        super().__init__(*args, **kwargs)
        self.skipped_without_id = 0
        self.skipped_malformed = 0

    # --- what is sent ---------------------------------------------------------------------
    def query_body(self, window: Window) -> dict:
        """The details filter for a window: conversations of the wanted campaigns (any campaign by default)."""
        campaign_ids = self.config.get("campaign_ids")
        segment_filter = (filters.any_of("outboundCampaignId", campaign_ids) if campaign_ids
                          else filters.all_of(filters.exists("outboundCampaignId")))
        return {"interval": window.interval, "order": "asc", "orderBy": "conversationStart",
                "segmentFilters": [segment_filter]}

    def query_request(self, window: Window, page_number: int) -> HTTPRequest:
        """One page of the synchronous details query for `window`."""
        return HTTPRequest(url=f"{self.api.api_url}{QUERY_PATH}", method="POST",
                           data={**self.query_body(window),
                                 "paging": {"pageSize": QUERY_PAGE_SIZE, "pageNumber": page_number}})

    # --- windows and state --------------------------------------------------------------
    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        to_read = self.range_to_read(context)
        if to_read is None:
            return
        mapper = AttemptMapper(self.lookups.wrapup_code_names(), self.config.get("campaign_ids"))
        reads = ordered_reads(self.plan(self.windows(to_read)), self.read_window, lanes=self.api.max_in_flight,
                              job_slots=self.api.job_slots, uses_job=lambda read: read.use_job)
        for read, pages in reads:  # in window order, whatever order the lanes finished in
            seen: set[str] = set()  # conversation ids emitted for this window: no double emits
            for source, response in pages:
                conversations = records_of(response, "conversations", self.name, absent_when=EMPTY_PAGE_MARKERS)
                yield from self._records(read.window, source, conversations, mapper, seen)
            self.complete_window(read.window, context)
        if self.skipped_without_id:
            self.logger.warning("attempts: skipped %d conversations without a conversationId",
                                self.skipped_without_id)
        if self.skipped_malformed:
            self.logger.warning("attempts: skipped %d malformed conversations (ids and reasons logged above); "
                                "they are not in this run's output", self.skipped_malformed)

    def windows(self, to_read: Window) -> list[Window]:
        """At most 7 UTC days each, cut at the jobs' availability date so jobs never read past it."""
        boundary = self.lookups.data_availability_date() if self.config["async_jobs"] != "never" else None
        return [piece for part in split_at(to_read, boundary) for piece in split_at_midnights(part, MAX_WINDOW_DAYS)]

    # --- reading one window (in a lane's thread when max_concurrent_requests > 1) -------------
    def read_window(self, read: WindowRead) -> t.Iterator[tuple[str, requests.Response]]:
        """`(source, page)` per page of the window; decoding and mapping happen in the stream's thread."""
        if read.use_job:
            try:
                yield from self._pages(self._job_pages(read.window))
                return
            except AnalyticsJobFailedError as exc:
                self.logger.warning("attempts: %s; reading %s with the sync query instead", exc, read.window)
        yield from self._read_with_query(read.window)

    def _read_with_query(self, window: Window) -> t.Iterator[tuple[str, requests.Response]]:
        try:
            yield from self._pages(self._query_pages(window))
        except GenesysAPIError as exc:
            if not is_result_cap(exc):
                raise
            pieces = split_at_midnights(window, max(1, (window.end - window.start).days // 2))
            if len(pieces) > 1:
                self.logger.info("attempts: %s holds over 100,000 conversations; splitting it", window)
                for piece in pieces:
                    yield from self._read_with_query(piece)
            elif self.config["async_jobs"] != "never":
                self.logger.info("attempts: one day over 100,000 conversations (%s); using a details job", window)
                try:
                    yield from self._pages(self._job_pages(window))
                except AnalyticsJobFailedError as exc:
                    raise GenesysAPIError(f"attempts: {window} is over the sync query's result cap and its "
                                          f"details job failed: {exc}") from None
            else:
                raise GenesysAPIError(
                    f"attempts: {window} holds over 100,000 conversations in one UTC day, more than the sync "
                    "query can page; set async_jobs to auto or always"
                ) from None

    def _pages(self, responses: t.Iterable[requests.Response]) -> t.Iterator[tuple[str, requests.Response]]:
        """Each page as it came, still JSON text: a queued page costs its bytes, not its decoded objects."""
        for response in responses:
            yield f"{response.request.method} {response.request.path_url.split('?')[0]}", response

    def _query_pages(self, window: Window) -> t.Iterator[requests.Response]:
        return self.api.iter_query_pages(lambda page: self.query_request(window, page),
                                         QueryPageNumberPaginator(QUERY_PAGE_SIZE), ahead=self.api.max_in_flight)

    def _job_pages(self, window: Window) -> t.Iterator[requests.Response]:
        body = {**self.query_body(window), "startOfDayIntervalMatching": True}
        return job_result_pages(self.api, JOBS_PATH, body, timeout_seconds=self.config["async_job_timeout_seconds"],
                                results_params={"pageSize": JOB_PAGE_SIZE})

    # --- mapping (the stream's thread) --------------------------------------------------------
    def _records(self, window: Window, source: str, conversations: list, mapper: AttemptMapper,
                 seen: set[str]) -> t.Iterator[dict]:
        """Map one page's conversations and keep those that started in the window, each once."""
        start, end = window
        for conversation in conversations:
            conversation_id = conversation.get("conversationId") if isinstance(conversation, dict) else None
            if not conversation_id:
                self.skipped_without_id += 1
                continue
            if isinstance(conversation_id, str) and conversation_id in seen:
                continue
            record, problem = None, malformed_reason(conversation)
            if problem is None:
                try:  # a type the checks did not foresee must cost one record, not the run
                    record = mapper.to_record(conversation)
                    attempt_date = parse_timestamp(record["attemptDate"]) if record is not None else None
                except (TypeError, ValueError, AttributeError, KeyError) as exc:
                    problem = f"{type(exc).__name__}: {exc}"
            if problem is not None:
                self.skipped_malformed += 1
                self.logger.warning("attempts: skipped conversation %s from %s: %s", conversation_id, source,
                                    problem)
                continue
            if record is None or not start <= attempt_date < end:
                continue
            seen.add(conversation_id)
            yield record
