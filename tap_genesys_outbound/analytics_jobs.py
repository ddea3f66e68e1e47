"""Analytics async jobs: one lifecycle and one rule for when to use them.

`job_result_pages` is the whole lifecycle of a details or aggregates job: submit
(`POST …/jobs`), poll `GET …/jobs/{id}` with growing pauses until FULFILLED, read the result
pages by cursor, and `DELETE` the job unless its results were read to the end (an abandoned job
holds server resources until it expires). A job that ends FAILED/CANCELLED/EXPIRED or outlives
`async_job_timeout_seconds` raises `AnalyticsJobFailedError`; callers read that window with the
synchronous query instead.

`plan_reads` decides, for the windows of a run, which are read with a job, for every windowed
stream alike (details and aggregates). The only availability date the API publishes is the
details jobs' (`…/details/jobs/availability`); there is none for aggregates, and both kinds of
job read the same analytics data lake, so aggregate jobs follow the same date.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import typing as t

from singer_sdk.streams.rest import HTTPRequest

from tap_genesys_outbound.adaptive_limits import MIN_PAGE_SIZE, PAGE_SIZE, AdaptiveLimits, halve_count, limit_kind
from tap_genesys_outbound.errors import GenesysAPIError
from tap_genesys_outbound.pagination import CursorPaginator
from tap_genesys_outbound.windows import Window

if t.TYPE_CHECKING:
    import requests

    from tap_genesys_outbound.api import GenesysClient

FAILED_JOB_STATES = ("FAILED", "CANCELLED", "EXPIRED")
#: Words of a 4xx to a job submission that say too many jobs are running [unverified: no source states it].
JOB_LIMIT_WORDS = re.compile(r"concurren|too many|job.{0,40}limit|limit.{0,40}job|maximum number of", re.IGNORECASE)
FIRST_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 15.0


class AnalyticsJobFailedError(Exception):
    """A job ended badly or never finished; its window falls back to the sync query."""


class WindowRead(t.NamedTuple):
    """One window of a run and how it is read."""

    window: Window
    use_job: bool


def plan_reads(windows: t.Sequence[Window], mode: str, available_until: dt.datetime | None) -> list[WindowRead]:
    """Which windows are read with a job, in order.

    * `never`: the sync query for every window.
    * `auto`: a job for each window that ends by the data availability date, the sync query after.
    * `always`: jobs only, so the run stops before the first window that ends after the
      availability date (the jobs may not hold that data yet); a later run reads the rest.
    Without an availability date, `auto` uses the sync query and `always` uses jobs throughout.
    """
    if mode == "never":
        return [WindowRead(w, use_job=False) for w in windows]
    if mode == "always":
        if available_until is None:
            return [WindowRead(w, use_job=True) for w in windows]
        return [WindowRead(w, use_job=True) for w in _until(windows, available_until)]
    return [WindowRead(w, use_job=available_until is not None and w.end <= available_until) for w in windows]


def _until(windows: t.Sequence[Window], limit: dt.datetime) -> list[Window]:
    kept = []
    for window in windows:
        if window.end > limit:
            break
        kept.append(window)
    return kept


def job_result_pages(client: GenesysClient, jobs_path: str, body: dict, *, timeout_seconds: float,
                     page_size: int | None = None,
                     page_size_in_body: bool = False, limits: AdaptiveLimits | None = None,
                     ) -> t.Iterator[requests.Response]:
    """Submit a job, wait for it, yield its result pages; cancel it unless every page was read.

    `page_size` is the starting guess of results per page, sent as the results' `pageSize` (details
    jobs) or in the submitted body (`page_size_in_body`, aggregate jobs). A 400 naming the page size
    halves it (down to 25, `adaptive_limits`) for this and every later job of `jobs_path` in the run:
    a refused submission is sent again, a refused results page is asked again at the same cursor.
    """
    limits = limits if limits is not None else AdaptiveLimits()
    key = f"{jobs_path} results page size"

    def size() -> int | None:
        return limits.get(key, page_size) if page_size else None

    def learn(refused: int, exc: GenesysAPIError) -> None:
        smaller = halve_count(refused, MIN_PAGE_SIZE)
        limits.shrink(key, refused, smaller, exc, client.logger, f"{client.label}: {jobs_path}",
                      f"asking for {smaller} job results per page from now on")

    while True:
        submitted = size()
        try:
            job_id = (_submit(client, jobs_path, {**body, "pageSize": submitted} if page_size_in_body and submitted
                              else body) or {}).get("jobId")
            break
        except GenesysAPIError as exc:
            if not (page_size_in_body and submitted and limit_kind(exc) == PAGE_SIZE):
                raise
            learn(submitted, exc)
    if not job_id:
        raise AnalyticsJobFailedError(f"{jobs_path} answered without a jobId")
    job_path = f"{jobs_path}/{job_id}"
    read_in_full = False
    try:
        _wait_for_job(client, job_path, timeout_seconds)
        paginator = CursorPaginator()
        while not paginator.finished:
            asked = None if page_size_in_body else size()
            params = {**({"pageSize": asked} if asked else {}),
                      **({"cursor": paginator.current_value} if paginator.current_value else {})}
            try:
                response = client.send(HTTPRequest(url=f"{client.api_url}{job_path}/results", params=params))
            except GenesysAPIError as exc:
                if not (asked and limit_kind(exc) == PAGE_SIZE):
                    raise
                learn(asked, exc)
                continue
            yield response
            paginator.advance(response)
        read_in_full = True
    finally:
        if not read_in_full:
            _cancel_job(client, job_path)


def _submit(client: GenesysClient, jobs_path: str, body: dict) -> dict:
    """POST the job; a 429 or a 4xx naming a job limit means fewer jobs may run at once (`JobSlots.lower`).

    The 429 is retried after its Retry-After like any other; a 4xx naming a job limit raises
    `AnalyticsJobFailedError`, so this window is read with the sync query. A 4xx naming a size the job
    asked for (interval, page size, buckets) is raised as it is, for the caller to adapt."""
    try:
        return client.post_json(jobs_path, body, on_rate_limited=lambda _response: client.job_slots.lower(
            f"{jobs_path} answered 429 to a submission"))
    except GenesysAPIError as exc:
        if limit_kind(exc) is not None:  # a size the job asked for (interval, page, buckets): adapted by the caller
            raise
        if exc.status is not None and 400 <= exc.status < 500 and JOB_LIMIT_WORDS.search(str(exc)):
            client.job_slots.lower(f"{jobs_path} answered {exc.status} to a submission")
            raise AnalyticsJobFailedError(f"job submission refused ({exc})") from None
        raise


def _wait_for_job(client: GenesysClient, job_path: str, timeout_seconds: float) -> None:
    """Poll until FULFILLED, with pauses of 0.5, 1, 2 … 15 s (polls count against the budget)."""
    deadline = time.monotonic() + timeout_seconds
    delay = FIRST_POLL_SECONDS
    while True:
        time.sleep(delay)
        status = client.get_json(job_path)
        state = status.get("state")
        if state == "FULFILLED":
            return
        if state in FAILED_JOB_STATES:
            raise AnalyticsJobFailedError(f"job {job_path} ended {state}: {status.get('errorMessage') or ''}")
        if time.monotonic() + delay > deadline:
            raise AnalyticsJobFailedError(f"job {job_path} still {state} after {timeout_seconds:g} s")
        delay = min(delay * 2, MAX_POLL_SECONDS)


def _cancel_job(client: GenesysClient, job_path: str) -> None:
    """Best effort: a failure to cancel must not hide the error that stopped the reading."""
    try:
        client.delete(job_path)
    except Exception as exc:  # noqa: BLE001
        client.logger.warning("%s: could not cancel job %s (%s)", client.label, job_path, exc)
