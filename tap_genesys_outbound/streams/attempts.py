"""`attempts`: one record per outbound dial attempt.

Genesys has no attempts endpoint: a dial attempt is an analytics conversation
whose dialer session carries `outboundCampaignId` (genesys-api.md section 4).
Windows come from `windows.py` (closed, cut at UTC midnights, at most 7 days).
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

from tap_genesys_outbound import analytics_jobs as jobs
from tap_genesys_outbound.attempt_mapping import AttemptMapper, malformed_reason
from tap_genesys_outbound.errors import GenesysAPIError
from tap_genesys_outbound.pagination import CursorPaginator, QueryPageNumberPaginator
from tap_genesys_outbound.streams.windowed import WindowedStream
from tap_genesys_outbound.windows import Window, parse_timestamp, split_at_midnights

DETAILS = "/api/v2/analytics/conversations/details"
QUERY_PATH = f"{DETAILS}/query"
JOBS_PATH = f"{DETAILS}/jobs"
QUERY_PAGE_SIZE = 100  # the documented safe maximum of the sync query
JOB_PAGE_SIZE = 1000
MAX_WINDOW_DAYS = 7
RESULT_CAP_MESSAGE = "Pagination may not exceed"


class AttemptsStream(WindowedStream):
    """Dial attempts from analytics conversation details, incremental on `attemptDate`."""

    name = "attempts"
    primary_keys = ("conversationId",)
    replication_key = "attemptDate"
    #: The SDK's recursive conformance walked every raw participant, segment and metric (60% of the
    #: tap's CPU, bench/run.py) and changes nothing here: records come from AttemptMapper with exactly
    #: the schema's top-level fields, and `participants` is kept as the API sent it.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    records_key = "conversations"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: ANN401
        super().__init__(*args, **kwargs)
        self._window: Window | None = None
        self._job_id: str | None = None
        self.skipped_without_id = 0
        self.skipped_malformed = 0

    # --- what the SDK's request loop sends, for the window and mode being read ----------
    @property
    def path(self) -> str:
        return f"{JOBS_PATH}/{self._job_id}/results" if self._job_id else QUERY_PATH

    @property
    def http_method(self) -> str:
        return "GET" if self._job_id else "POST"

    def get_new_paginator(self) -> CursorPaginator | QueryPageNumberPaginator:
        return CursorPaginator() if self._job_id else QueryPageNumberPaginator(QUERY_PAGE_SIZE)

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:  # noqa: ANN401
        if not self._job_id:
            return {}
        return {"pageSize": JOB_PAGE_SIZE, **({"cursor": next_page_token} if next_page_token else {})}

    def prepare_request_payload(self, context: Context | None, next_page_token: t.Any) -> dict | None:  # noqa: ANN401
        if self._job_id:
            return None
        return {**self._query_body(self._window), "paging": {"pageSize": QUERY_PAGE_SIZE,
                                                             "pageNumber": next_page_token or 1}}

    def _empty_page_allowed(self, body: dict) -> bool:
        """The details query omits `conversations` past the last page; job pages may be empty."""
        return "totalHits" in body or "cursor" in body or "dataAvailabilityDate" in body

    def _query_body(self, window: Window) -> dict:
        campaign_ids = self.config.get("campaign_ids")
        if campaign_ids:
            predicates = [{"type": "dimension", "dimension": "outboundCampaignId", "operator": "matches",
                           "value": campaign_id} for campaign_id in campaign_ids]
            segment_filter = {"type": "or", "predicates": predicates}
        else:
            segment_filter = {"type": "and", "predicates": [
                {"type": "dimension", "dimension": "outboundCampaignId", "operator": "exists"}]}
        return {"interval": window.interval, "order": "asc", "orderBy": "conversationStart",
                "segmentFilters": [segment_filter]}

    # --- windows and state --------------------------------------------------------------
    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        to_read = self.range_to_read(context)
        if to_read is None:
            return
        mapper = AttemptMapper(self._tap_ref.wrapup_code_names(self), self.config.get("campaign_ids"))
        for window, use_job in self._plan(to_read):
            yield from self._read_window(window, mapper, use_job=use_job)
            self.complete_window(window, context)
        if self.skipped_without_id:
            self.logger.warning("attempts: skipped %d conversations without a conversationId",
                                self.skipped_without_id)
        if self.skipped_malformed:
            self.logger.warning("attempts: skipped %d malformed conversations (ids and reasons logged above); "
                                "they are not in this run's output", self.skipped_malformed)

    def _plan(self, to_read: Window) -> list[tuple[Window, bool]]:
        """Windows in order, each flagged True for a details job, False for the sync query.

        `auto`: jobs up to the jobs API's `dataAvailabilityDate`, the sync query after it.
        `always`: jobs only, so the range stops at `dataAvailabilityDate` (jobs may miss newer
        data); a later run reads the rest. `never`: the sync query only.
        """
        def windows(window: Window, use_job: bool) -> list[tuple[Window, bool]]:
            return [(piece, use_job) for piece in split_at_midnights(window, MAX_WINDOW_DAYS)]

        mode = self.config.get("async_jobs", "auto")
        if mode == "never":
            return windows(to_read, False)
        available_until = jobs.data_availability_date(self)
        if mode == "always":
            if available_until is not None and available_until < to_read.end:
                self.logger.info("attempts: async_jobs=always reads up to the data availability date %s; "
                                 "newer data waits for a later run", available_until.isoformat())
                to_read = Window(to_read.start, available_until)
            return windows(to_read, True) if to_read.start < to_read.end else []
        if available_until is None or available_until <= to_read.start:
            return windows(to_read, False)
        split = min(available_until, to_read.end)
        plan = windows(Window(to_read.start, split), True)
        return plan + (windows(Window(split, to_read.end), False) if split < to_read.end else [])

    # --- reading one window ---------------------------------------------------------------
    def _read_window(self, window: Window, mapper: AttemptMapper, *, use_job: bool) -> t.Iterator[dict]:
        seen: set[str] = set()  # conversation ids emitted for this window: no double emits
        if use_job:
            try:
                yield from self._read_with_job(window, mapper, seen)
                return
            except jobs.AnalyticsJobFailedError as exc:
                self.logger.warning("attempts: %s; reading %s with the sync query instead", exc, window)
        yield from self._read_with_query(window, mapper, seen)

    def _read_with_query(self, window: Window, mapper: AttemptMapper, seen: set[str]) -> t.Iterator[dict]:
        try:
            yield from self._read_pages(window, mapper, seen)
        except GenesysAPIError as exc:
            if RESULT_CAP_MESSAGE not in str(exc):
                raise
            pieces = split_at_midnights(window, max(1, (window.end - window.start).days // 2))
            if len(pieces) > 1:
                self.logger.info("attempts: %s holds over 100,000 conversations; splitting it", window)
                for piece in pieces:
                    yield from self._read_with_query(piece, mapper, seen)
            elif self.config.get("async_jobs", "auto") != "never":
                self.logger.info("attempts: one day over 100,000 conversations (%s); using a details job", window)
                try:
                    yield from self._read_with_job(window, mapper, seen)
                except jobs.AnalyticsJobFailedError as exc:
                    raise GenesysAPIError(f"attempts: {window} is over the sync query's result cap and its "
                                          f"details job failed: {exc}") from None
            else:
                raise GenesysAPIError(
                    f"attempts: {window} holds over 100,000 conversations in one UTC day, more than the sync "
                    "query can page; set async_jobs to auto or always"
                ) from None

    def _read_pages(self, window: Window, mapper: AttemptMapper, seen: set[str]) -> t.Iterator[dict]:
        """Run the SDK's request loop for the window and keep the conversations that started in it."""
        self._window = window
        start, end = window
        for conversation in self.request_records(None):
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
                self.logger.warning("attempts: skipped conversation %s from %s %s: %s", conversation_id,
                                    self.http_method, self.path, problem)
                continue
            if record is None or not start <= attempt_date < end:
                continue
            seen.add(conversation_id)
            yield record

    def _read_with_job(self, window: Window, mapper: AttemptMapper, seen: set[str]) -> t.Iterator[dict]:
        job_id = jobs.submit_job(self, JOBS_PATH, {**self._query_body(window), "startOfDayIntervalMatching": True})
        read_in_full = False
        try:
            jobs.wait_for_job(self, f"{JOBS_PATH}/{job_id}")
            self._job_id = job_id
            yield from self._read_pages(window, mapper, seen)
            read_in_full = True
        finally:
            self._job_id = None
            if not read_in_full:
                jobs.cancel_job(self, f"{JOBS_PATH}/{job_id}")
