"""One async-job lifecycle for details jobs and both aggregate jobs (genesys-api.md 4.2, 5, 6.1).

Jobs are QUEUED/PENDING until poll number `job_polls_to_fulfill`, then FULFILLED (or the state the
`job_outcome` fault chose). Results are computed once, when the job is fulfilled, and paged with an
opaque cursor; only what a family computes and how it renders a page differ. DELETE answers 204.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from .dataset import DAY_MS, HOUR_MS, iso
from .protocol import ApiError, Response, int_param, last_param

DONE = ("FULFILLED", "FAILED", "CANCELLED", "EXPIRED")


@dataclass
class Job:
    id: str
    final: str                          # FULFILLED or a faulted outcome
    submitted: int                      # wall-clock epoch ms
    compute: Callable[[], list]         # the full result list, called once FULFILLED
    page: Callable[[list], dict]        # one page of results -> the page body (without the cursor)
    key: str                            # the body key holding the items ("conversations" or "results")
    page_size: int                      # results pageSize when the request gives none
    max_page_size: int
    polls: int = 0
    state: str = "QUEUED"
    completed: int | None = None
    results: list | None = None


class JobStore:
    def __init__(self, api):
        self.api = api
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def routes(self, prefix: str) -> list:
        """status / cancel / results routes under `prefix` (a regex of the `.../jobs` path)."""
        job = prefix + r"/(?P<id>[^/]+)"
        return [("GET", job, self.status), ("DELETE", job, self.cancel), ("GET", job + "/results", self.results)]

    def submit(self, compute, page, key: str, page_size: int, max_page_size: int) -> Response:
        outcome = self.api.faults.take("job_outcome")
        job = Job(str(uuid.uuid4()), outcome["state"] if outcome else "FULFILLED", _now_ms(), compute, page, key,
                  page_size, max_page_size)
        with self._lock:
            self._jobs[job.id] = job
        return Response(202, {"jobId": job.id})

    def _job(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"Job {job_id} not found", "not.found")
        return job

    def status(self, id, **_):
        job = self._job(id)
        with self._lock:
            if job.state not in DONE:
                job.polls += 1
                need = max(1, self.api.config.job_polls_to_fulfill)
                if job.final == "PENDING_FOREVER" or job.polls < need:
                    job.state = "PENDING" if job.polls >= need - 1 else "QUEUED"
                else:
                    job.state, job.completed = job.final, _now_ms()
        if job.state == "FULFILLED" and job.results is None:
            job.results = job.compute()
        out = {"state": job.state, "submissionDate": iso(job.submitted)}
        if job.state == "FAILED":
            out["errorMessage"] = "The analytics job failed: internal error while processing the query"
        if job.completed:
            out["completionDate"] = iso(job.completed)
        out["expirationDate"] = iso(job.submitted + (-HOUR_MS if job.state == "EXPIRED" else 2 * DAY_MS))
        return out

    def cancel(self, id, **_):
        job = self._job(id)
        with self._lock:
            job.state, job.results = "CANCELLED", None
        return Response(204)

    def results(self, id, query, **_):
        job = self._job(id)
        results = job.results
        if job.state != "FULFILLED" or results is None:
            raise ApiError(400, f"Job {id} results are not available: the job state is {job.state}")
        limits = self.api.faults.current_limits
        switched = limits.job_max_page_size
        size = int_param(query, "pageSize", min(job.page_size, switched or job.page_size),
                         None if switched else job.max_page_size)
        limits.enforce("job_max_page_size", size)
        cursor = last_param(query, "cursor", "")
        offset = _decode_cursor(cursor, job.id) if cursor else 0
        limits.enforce("job_max_results", min(offset + size, len(results)))
        body = job.page(results[offset: offset + size])
        if offset + size < len(results):
            cursor = base64.urlsafe_b64encode(f"{job.id}:{offset + size}".encode()).decode()
            body = {job.key: body.pop(job.key), "cursor": cursor, **body}
        return body


def _now_ms() -> int:
    return int(time.time() * 1000)


def _decode_cursor(cursor: str, job_id: str) -> int:
    try:
        owner, offset = base64.urlsafe_b64decode(cursor.encode()).decode().rsplit(":", 1)
        if owner == job_id and int(offset) >= 0:
            return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise ApiError(400, "Invalid cursor")
