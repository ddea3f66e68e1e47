"""The analytics async jobs lifecycle shared by the details and aggregates streams.

Submit (`POST …/jobs`), poll `GET …/jobs/{id}` with growing pauses until
FULFILLED, read the results, and `DELETE` a job that was not read in full.
A job that ends FAILED/CANCELLED/EXPIRED or outlives `async_job_timeout_seconds`
raises `AnalyticsJobFailedError`; callers read that window with the sync query.
"""

from __future__ import annotations

import datetime as dt
import time
import typing as t

from tap_genesys_outbound.errors import GenesysAPIError
from tap_genesys_outbound.windows import parse_timestamp

if t.TYPE_CHECKING:
    from tap_genesys_outbound.client import GenesysStream

AVAILABILITY_PATH = "/api/v2/analytics/conversations/details/jobs/availability"
FAILED_JOB_STATES = ("FAILED", "CANCELLED", "EXPIRED")
FIRST_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 15.0


class AnalyticsJobFailedError(Exception):
    """A job ended badly or never finished; its window falls back to the sync query."""


def submit_job(stream: GenesysStream, jobs_path: str, body: dict) -> str:
    job_id = stream.fetch_json(jobs_path, method="POST", body=body).get("jobId")
    if not job_id:
        raise AnalyticsJobFailedError(f"{jobs_path} answered without a jobId")
    return job_id


def wait_for_job(stream: GenesysStream, job_path: str) -> None:
    """Poll until FULFILLED, with pauses of 0.5, 1, 2 … 15 s (polls count against the budget)."""
    timeout = stream.config.get("async_job_timeout_seconds", 1800)
    deadline = time.monotonic() + timeout
    delay = FIRST_POLL_SECONDS
    while True:
        time.sleep(delay)
        status = stream.fetch_json(job_path)
        state = status.get("state")
        if state == "FULFILLED":
            return
        if state in FAILED_JOB_STATES:
            raise AnalyticsJobFailedError(f"job {job_path} ended {state}: {status.get('errorMessage') or ''}")
        if time.monotonic() + delay > deadline:
            raise AnalyticsJobFailedError(f"job {job_path} still {state} after {timeout} s")
        delay = min(delay * 2, MAX_POLL_SECONDS)


def cancel_job(stream: GenesysStream, job_path: str) -> None:
    """Best effort: an unread job would otherwise hold server resources until it expires."""
    try:
        stream.fetch_json(job_path, method="DELETE")
    except Exception as exc:  # noqa: BLE001
        stream.logger.warning("%s: could not cancel job %s (%s)", stream.name, job_path, exc)


def data_availability_date(stream: GenesysStream) -> dt.datetime | None:
    """Data before this date is in the jobs' data lake; None (logged) when the API will not say.

    Read once per run, shared by every stream (`tap.lookup`)."""
    return stream._tap_ref.lookup("data_availability_date", lambda: _fetch_availability(stream))  # noqa: SLF001


def _fetch_availability(stream: GenesysStream) -> dt.datetime | None:
    try:
        return parse_timestamp(stream.fetch_json(AVAILABILITY_PATH)["dataAvailabilityDate"])
    except (GenesysAPIError, KeyError, ValueError, TypeError) as exc:
        stream.logger.warning("%s: no data availability date (%s); using the sync query", stream.name, exc)
        return None
