"""HTTP emulator of the Genesys Cloud public API (genesys-api.md), stdlib only.

Routing, OAuth, EntityListing envelopes, the analytics conversation details query and jobs,
conversation and flow aggregates (query and jobs, see aggregates.py), campaign live state
(performance query, progress, stats, diagnostics summary) and fault injection. Choices where the reference is silent or [unverified]:
- Listing envelopes always carry every key; previousUri/nextUri are null at the ends. Listing
  filters: `id` (comma-joined and/or repeated), `name` (filterType Prefix by default, case-
  insensitive), `divisionId`; `sortBy` any item field with `sortOrder` ascending/descending.
  Default order: campaigns and flow outcomes as created, wrap-up codes and response sets by name.
- Details query: a segment filter matches when one segment satisfies it, looking the dimension
  up on the segment, then its session, its participant, then the conversation. Conversation
  filters accept conversation-level dimensions only; unknown dimensions, `dispositionName`
  (documented as not filterable) and metric/property predicates answer 400. `orderBy`
  segmentStart/segmentEnd sort like conversationStart/conversationEnd. The 7-day interval cap
  for the sync query is [unverified] (jobs have none). Errors have the Genesys body
  {message, code, status, contextId, details, errors}.
- Jobs: QUEUED/PENDING until poll number `job_polls_to_fulfill`, then FULFILLED (or a faulted
  state); results are snapshotted then and exclude conversations starting at or after
  dataAvailabilityDate (anchor - availability_lag_hours): the data lake lags, the query does not.
  Results pageSize defaults to 1000 (max 1000); cursors are opaque. DELETE answers 204. Job
  bodies with `paging` answer 400 (AsyncConversationQuery has none); active calls overlap forever.
- Aggregate jobs: submitted bodies are validated like the query (400 at submission); results are
  the query's `results` groups paged by the job's `pageSize` (default 100) with an opaque cursor.
- Campaign live state is drawn per campaign (Dataset.campaign_live) except the contact-rate attempts
  and connects, which count the campaign's conversations. performance/query takes at most 50 ids
  (400 beyond); progress takes a bare array and answers a bare array; unknown ids are left out.
  connectRatio is in percent [unverified]. The diagnostics summary needs start and end and returns
  the status and health intervals overlapping them, unclipped; the current ones have no dateEnd.
- Rate-limit headers appear only while `enforce_rate_limit` is on. Admin paths (/_emulator/...)
  bypass auth and faults and are not written to the request log; the log keeps paths without
  query strings and status 0 for dropped connections.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import re
import secrets
import socket
import sys
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from . import aggregates
from .dataset import DAY_MS, HOUR_MS, Attempt, Dataset, EmulatorConfig, iso, to_ms
from .faults import Faults

MAX_PAGE_SIZE, MAX_QUERY_DAYS, MAX_JOB_PAGE_SIZE = 100, 7, 1000
DETAILS = "/api/v2/analytics/conversations/details"
CONV_AGG = "/api/v2/analytics/conversations/aggregates"
FLOW_AGG = "/api/v2/analytics/flows/aggregates"
CAMPAIGNS = "/api/v2/outbound/campaigns"
MAX_PERFORMANCE_IDS, MAX_AGG_JOB_PAGE_SIZE = 50, 1000
ERROR_CODES = {400: "bad.request", 401: "bad.credentials", 403: "missing.any.permissions",
               404: "not.found", 429: "too.many.requests.retry.after", 500: "internal.server.error",
               502: "bad.gateway", 503: "service.unavailable", 504: "gateway.timeout"}
PERMISSIONS = {"/api/v2/outbound/campaigns": "outbound:campaign:view",
               "/api/v2/routing/wrapupcodes": "routing:wrapupCode:view",
               "/api/v2/outbound/wrapupcodemappings": "outbound:wrapUpCodeMapping:view",
               "/api/v2/outbound/callanalysisresponsesets": "outbound:responseSet:view",
               "/api/v2/flows/outcomes": "architect:flowOutcome:view",
               DETAILS: "analytics:conversationDetail:view",
               CONV_AGG: "analytics:conversationAggregate:view", FLOW_AGG: "analytics:flowAggregate:view",
               "/api/v2/outbound/diagnostics/campaigns": "outbound:campaignDiagnostic:view"}
CONVERSATION_DIMENSIONS = {"conversationId", "conversationStart", "conversationEnd", "conversationInitiator",
                           "divisionId", "originatingDirection", "externalTag", "mediaStatsMinConversationMos"}
SEGMENT_DIMENSIONS = {"outboundCampaignId", "outboundContactId", "outboundContactListId", "mediaType",
                      "direction", "purpose", "userId", "queueId", "wrapUpCode", "disconnectType",
                      "segmentType", "sessionId", "participantId", "participantName", "participantType",
                      "callbackScheduledTime", "flowOutcomeId", "errorCode", "ani", "dnis", "addressTo",
                      "addressFrom", "edgeId", "teamId", "externalContactId", "requestedRouting",
                      "scriptId", "provider", "remote"} | CONVERSATION_DIMENSIONS
ORDER_BY = ("conversationStart", "conversationEnd", "segmentStart", "segmentEnd")


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}
        self.code = code or ERROR_CODES.get(status, "error")

    def response(self) -> Response:
        body = {"message": self.message, "code": self.code, "status": self.status,
                "contextId": str(uuid.uuid4()), "details": [], "errors": []}
        return Response(self.status, body, dict(self.headers))


@dataclass
class Response:
    status: int
    body: object = None
    headers: dict = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"
    drop: bool = False
    truncate: bool = False        # write half the body, then close (truncated_body fault)


# ------------------------------------------------------------------ conversation queries
@dataclass
class Query:
    start: int
    end: int
    order: str
    order_by: str
    conversation_filters: list
    segment_filters: list
    key: str                      # canonical JSON of the body minus paging (cache key)


def parse_query(body, *, job: bool) -> Query:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    start, end = parse_interval(body.get("interval"))
    if not job and end - start > MAX_QUERY_DAYS * DAY_MS:
        raise ApiError(400, f"Interval too long: the details query allows at most {MAX_QUERY_DAYS} days; "
                            "split the interval or use an async job")
    order, order_by = body.get("order", "asc"), body.get("orderBy", "conversationStart")
    if order not in ("asc", "desc", "unordered"):
        raise ApiError(400, f"Invalid order '{order}'; expected asc, desc or unordered")
    if order_by not in ORDER_BY:
        raise ApiError(400, f"Invalid orderBy '{order_by}'; expected one of {', '.join(ORDER_BY)}")
    conv, seg = body.get("conversationFilters") or [], body.get("segmentFilters") or []
    for where, filters, allowed in (("conversationFilters", conv, CONVERSATION_DIMENSIONS),
                                    ("segmentFilters", seg, SEGMENT_DIMENSIONS)):
        if not isinstance(filters, list):
            raise ApiError(400, f"{where} must be a list")
        for f in filters:
            check_filter(f, allowed, where, 0)
    rest = {k: v for k, v in body.items() if k != "paging"}
    return Query(start, end, order, order_by, conv, seg, json.dumps(rest, sort_keys=True))


def parse_interval(text) -> tuple[int, int]:
    try:
        a, b = str(text).split("/")
        start, end = to_ms(a), to_ms(b)
    except (ValueError, TypeError):
        raise ApiError(400, f"Invalid interval '{text}': expected ISO-8601 'start/end' with offsets") from None
    if text is None or end <= start:
        raise ApiError(400, f"Invalid interval '{text}': the end must be after the start")
    return start, end


def check_filter(f, allowed: set, where: str, depth: int) -> None:
    if not isinstance(f, dict) or f.get("type") not in ("and", "or"):
        raise ApiError(400, f"{where}: every filter needs type 'and' or 'or'")
    if depth > 2:
        raise ApiError(400, f"{where}: filters nest at most two levels")
    predicates, clauses = f.get("predicates") or [], f.get("clauses") or []
    if not predicates and not clauses:
        raise ApiError(400, f"{where}: a filter needs predicates or clauses")
    for p in predicates:
        dim, op = p.get("dimension"), p.get("operator", "matches")
        if p.get("type", "dimension") != "dimension":
            raise ApiError(400, f"{where}: predicate type '{p.get('type')}' is not supported by this emulator")
        if dim == "dispositionName":
            raise ApiError(400, f"{where}: dimension 'dispositionName' is not filterable")
        if dim not in allowed:
            raise ApiError(400, f"{where}: invalid dimension '{dim}'")
        if op not in ("matches", "exists", "notExists"):
            raise ApiError(400, f"{where}: invalid operator '{op}'")
        if op == "matches" and p.get("value") is None:
            raise ApiError(400, f"{where}: operator 'matches' needs a value for '{dim}'")
    for clause in clauses:
        check_filter(clause, allowed, where, depth + 1)


def _conversation_value(doc: dict, dim: str):
    return doc.get("divisionIds") if dim == "divisionId" else doc.get(dim)


def matches(doc: dict, q: Query) -> bool:
    lookup = lambda dim: _conversation_value(doc, dim)        # noqa: E731
    if not all(aggregates.filter_matches(f, lookup) for f in q.conversation_filters):
        return False
    return all(_segment_match(doc, f) for f in q.segment_filters)


def _segment_match(doc: dict, f: dict) -> bool:
    for par in doc["participants"]:
        for ses in par.get("sessions", ()):
            for seg in ses.get("segments", ()):
                def lookup(dim, seg=seg, ses=ses, par=par):
                    for source in (seg, ses, par):
                        if dim in source:
                            return source[dim]
                    return _conversation_value(doc, dim)
                if aggregates.filter_matches(f, lookup):
                    return True
    return False


def sort_records(records: list[Attempt], q: Query) -> list[Attempt]:
    if q.order_by in ("conversationEnd", "segmentEnd"):
        key = lambda a: (a.end is None, a.end or 0, a.conversation_id)   # noqa: E731
    else:
        key = lambda a: (a.start, a.conversation_id)                      # noqa: E731
    return sorted(records, key=key, reverse=q.order == "desc")


# ------------------------------------------------------------------ analytics jobs
@dataclass
class Job:
    id: str
    query: Query
    limit: int | None
    final: str                    # FULFILLED or a faulted outcome
    submitted: int                # wall-clock epoch ms
    polls: int = 0
    state: str = "QUEUED"
    completed: int | None = None
    results: list | None = None   # Attempt snapshot once FULFILLED
    start_of_day: bool = False    # startOfDayIntervalMatching (else lifetime overlap)
    aggregate: tuple | None = None  # (aggregates path, query body) for aggregate jobs


# ------------------------------------------------------------------ the application
class Api:
    """Everything behind the socket: dispatch(method, target, headers, body) -> Response."""

    ROUTES = [(m, re.compile(p), h) for m, p, h in [
        ("POST", r"/oauth/token", "token"),
        ("GET", r"/api/v2/outbound/campaigns", "listing"),
        ("GET", r"/api/v2/routing/wrapupcodes", "listing"),
        ("GET", r"/api/v2/outbound/callanalysisresponsesets", "listing"),
        ("GET", r"/api/v2/flows/outcomes", "listing"),
        ("GET", r"/api/v2/outbound/wrapupcodemappings", "wrapup_mapping"),
        ("POST", DETAILS + r"/query", "details_query"),
        ("POST", DETAILS + r"/jobs", "job_submit"),
        ("GET", DETAILS + r"/jobs/availability", "job_availability"),
        ("GET", DETAILS + r"/jobs/(?P<id>[^/]+)", "job_status"),
        ("DELETE", DETAILS + r"/jobs/(?P<id>[^/]+)", "job_cancel"),
        ("GET", DETAILS + r"/jobs/(?P<id>[^/]+)/results", "job_results"),
        ("POST", CONV_AGG + r"/query", "conv_aggregate"),
        ("POST", FLOW_AGG + r"/query", "flow_aggregate"),
        ("POST", r"(?P<kind>/api/v2/analytics/(?:conversations|flows)/aggregates)/jobs", "agg_job_submit"),
        ("GET", r"/api/v2/analytics/(?:conversations|flows)/aggregates/jobs/(?P<id>[^/]+)", "job_status"),
        ("DELETE", r"/api/v2/analytics/(?:conversations|flows)/aggregates/jobs/(?P<id>[^/]+)", "job_cancel"),
        ("GET", r"/api/v2/analytics/(?:conversations|flows)/aggregates/jobs/(?P<id>[^/]+)/results",
         "agg_job_results"),
        ("POST", CAMPAIGNS + r"/performance/query", "performance"),
        ("POST", CAMPAIGNS + r"/progress", "progress_bulk"),
        ("GET", CAMPAIGNS + r"/(?P<id>[^/]+)/stats", "campaign_stats"),
        ("GET", CAMPAIGNS + r"/(?P<id>[^/]+)/progress", "campaign_progress"),
        ("GET", r"/api/v2/outbound/diagnostics/campaigns/(?P<id>[^/]+)/summary", "diagnostics_summary"),
    ]]

    def __init__(self, emulator: Emulator):
        self.emu, self.config, self.faults = emulator, emulator.config, emulator.faults
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}
        self._jobs: dict[str, Job] = {}
        self._cache: OrderedDict = OrderedDict()

    @property
    def dataset(self) -> Dataset:
        return self.emu.dataset

    def dispatch(self, method: str, target: str, headers, body: bytes) -> Response:
        url = urlsplit(target)
        path = url.path.rstrip("/") or "/"
        query = parse_qs(url.query, keep_blank_values=True)
        if path.startswith("/_emulator/"):
            return self._admin(method, path, body)
        resp = self._serve(method, path, query, headers, body)
        if not resp.drop and self.faults.take("truncated_body", path) is not None:
            resp.truncate = True
        self.emu.log(method, path, 0 if resp.drop else resp.status)
        return resp

    def _serve(self, method, path, query, headers, body) -> Response:
        f = self.faults
        if f.take("drop_connections", path) is not None:
            return Response(0, drop=True)
        slow = f.take("slow", path)
        if slow:
            time.sleep(slow["seconds"])
        limited = f.take("rate_limit", path)
        if limited:
            s = limited["retry_after"]
            return ApiError(429, f"Rate limit exceeded the maximum. Retry the request in [{s}] seconds",
                            headers={"Retry-After": str(s)}).response()
        failure = f.take("server_errors", path)
        if failure:
            return ApiError(failure["status"], "The service is currently unavailable; try again later").response()
        limit_headers: dict = {}
        try:
            key = "oauth" if path == "/oauth/token" else self._authenticate(headers)
            allowed, limit_headers, reset = f.check_rate(key)
            if not allowed:
                raise ApiError(429, f"Rate limit exceeded the maximum. Retry the request in [{reset}] seconds",
                               headers={"Retry-After": str(reset)})
            resp = self._route(method, path, query, headers, body)
        except ApiError as e:
            resp = e.response()
        except Exception as e:                 # a bug or an odd body must not kill the connection
            resp = ApiError(500, f"Internal server error: {type(e).__name__}: {e}").response()
        resp.headers.update(limit_headers)
        return self._maybe_malformed(path, resp)

    def _route(self, method, path, query, headers, body) -> Response:
        handler, groups = None, {}
        for m, pattern, name in self.ROUTES:
            match = pattern.fullmatch(path)
            if match and m == method:
                handler, groups = getattr(self, "_" + name), match.groupdict()
                break
        if handler is None:
            raise ApiError(404, f"Resource not found: {method} {path}")
        denied = self.faults.take("forbidden", path)
        if denied is not None:
            perm = denied["permission"] or next((p for prefix, p in PERMISSIONS.items()
                                                 if path.startswith(prefix)), "unknown:permission:view")
            raise ApiError(403, f"Unable to perform the requested action. You are missing permission {perm}")
        result = handler(path=path, query=query, headers=headers, body=body, **groups)
        return result if isinstance(result, Response) else Response(200, result)

    def _maybe_malformed(self, path: str, resp: Response) -> Response:
        if not (200 <= resp.status < 300 and isinstance(resp.body, dict)):
            return resp
        corrupt = self.faults.take("corrupt_record", path)
        if corrupt:
            resp = self._corrupt_first_record(resp, corrupt)
        fault = self.faults.take("malformed", path)
        if not fault:
            return resp
        if fault["kind"] == "non_json":
            html = b"<html><body><h1>Service temporarily unavailable</h1></body></html>"
            return Response(resp.status, raw=html, content_type="text/html", headers=resp.headers)
        bare = next((v for k, v in resp.body.items() if k in ("entities", "conversations")), [])
        return Response(resp.status, bare, resp.headers)

    @staticmethod
    def _corrupt_first_record(resp: Response, fault: dict) -> Response:
        key = next((k for k in ("conversations", "entities") if resp.body.get(k)), None)
        if key is None:
            return resp
        record = dict(resp.body[key][0])      # a copy: the dataset's cached doc stays intact
        if fault["drop"]:
            record.pop(fault["field"], None)
        else:
            record[fault["field"]] = fault["value"]
        return Response(resp.status, {**resp.body, key: [record, *resp.body[key][1:]]}, resp.headers)

    # -------------------------------------------------------------- auth
    def _token(self, headers, body, **_) -> Response:
        cfg, creds = self.config, None
        auth = headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                creds = tuple(base64.b64decode(auth[6:].strip()).decode().split(":", 1))
            except (binascii.Error, UnicodeDecodeError):
                creds = None
        if creds != (cfg.client_id, cfg.client_secret):
            return Response(401, {"error": "invalid_client", "description": "client not found"})
        grant = parse_qs(body.decode("utf-8", "replace")).get("grant_type")
        if grant != ["client_credentials"]:
            return Response(400, {"error": "unsupported_grant_type" if grant else "invalid_request",
                                  "description": "grant_type must be client_credentials"})
        ttl = self.faults.current_token_ttl or cfg.token_ttl
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + ttl
        announced = self.faults.announced_token_ttl or ttl
        return Response(200, {"access_token": token, "token_type": "bearer", "expires_in": math.ceil(announced)})

    def _authenticate(self, headers) -> str:
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise ApiError(401, "No authentication bearer token specified in authorization header.")
        token = auth[7:].strip()
        with self._lock:
            expires = self._tokens.get(token)
        if expires is None or expires <= time.monotonic():
            raise ApiError(401, "Invalid login credentials.")
        return token

    # -------------------------------------------------------------- entity listings
    LISTINGS = {"/api/v2/outbound/campaigns": ("campaigns", False),     # (Dataset attribute, sort by name)
                "/api/v2/routing/wrapupcodes": ("wrapup_codes", True),
                "/api/v2/outbound/callanalysisresponsesets": ("response_sets", True),
                "/api/v2/flows/outcomes": ("flow_outcomes", False)}

    def _listing(self, path: str, query: dict, **_) -> dict:
        attribute, by_name = self.LISTINGS[path]
        items = getattr(self.dataset, attribute)
        items = sorted(items, key=lambda i: i["name"].lower()) if by_name else items
        size = _int_param(query, "pageSize", 25, MAX_PAGE_SIZE)
        number = _int_param(query, "pageNumber", 1, None)
        items = _filter_items(items, query)
        total = len(items)
        count = math.ceil(total / size)
        base = [(k, v) for k, vs in query.items() if k not in ("pageSize", "pageNumber") for v in vs]

        def uri(n: int) -> str:
            return f"{path}?{urlencode(base + [('pageSize', size), ('pageNumber', n)])}"
        page = [] if self.faults.take("empty_page", path) is not None else items[(number - 1) * size: number * size]
        return {"entities": page, "pageSize": size,
                "pageNumber": number, "total": total, "pageCount": count, "firstUri": uri(1),
                "previousUri": uri(number - 1) if number > 1 else None,
                "nextUri": uri(number + 1) if number < count else None,
                "lastUri": uri(max(count, 1)), "selfUri": uri(number)}

    def _wrapup_mapping(self, **_):
        return self.dataset.wrapup_mapping

    # -------------------------------------------------------------- details query
    def _details_query(self, body, **_):
        body = _json(body)
        q = parse_query(body, job=False)
        paging = body.get("paging") or {}
        if not isinstance(paging, dict):
            raise ApiError(400, "paging must be an object {pageSize, pageNumber}")
        size = _int_value(paging.get("pageSize"), "paging.pageSize", 25, MAX_PAGE_SIZE)
        number = _int_value(paging.get("pageNumber"), "paging.pageNumber", 1, None)
        if size * number > self.config.max_results:
            raise ApiError(400, f"Pagination may not exceed {self.config.max_results} results")
        hits = self._search(q)
        out: dict = {}
        page = hits[(number - 1) * size: number * size]
        if page:                                   # the real API omits the key past the end
            out["conversations"] = [self.dataset.doc(a) for a in page]
        out["totalHits"] = len(hits)
        return out

    def _search(self, q: Query, *, overlap: bool = False, before: int | None = None) -> list[Attempt]:
        """Matching attempts, sorted. Start-of-day semantics unless `overlap` (job default)."""
        key = (q.key, overlap, before, self.dataset.version)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        first, last = q.start // DAY_MS, (q.end - 1) // DAY_MS
        if overlap:                                # lifetimes overlapping [start, end)
            seen = set()
            candidates = []
            for a in self.dataset.records_in_days(first - 1, last) + self.dataset.active_records():
                if a.conversation_id not in seen:
                    seen.add(a.conversation_id)
                    life_end = math.inf if a.end is None else max(a.end, a.start)
                    if a.start < q.end and life_end > q.start:
                        candidates.append(a)
        else:
            candidates = self.dataset.records_in_days(first, last)
        if before is not None:
            candidates = [a for a in candidates if a.start < before]
        hits = sort_records([a for a in candidates if matches(self.dataset.doc(a), q)], q)
        with self._lock:
            self._cache[key] = hits
            while len(self._cache) > 32:
                self._cache.popitem(last=False)
        return hits

    # -------------------------------------------------------------- details jobs
    def _availability_ms(self) -> int:
        return self.dataset.anchor_ms - int(self.config.availability_lag_hours * HOUR_MS)

    def _job_submit(self, body, **_):
        body = _json(body)
        q = parse_query(body, job=True)
        if "paging" in body:
            raise ApiError(400, "Async jobs do not accept paging; use limit and the results cursor")
        limit = body.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ApiError(400, "limit must be a positive integer")
        outcome = self.faults.take("job_outcome")
        job = Job(str(uuid.uuid4()), q, limit, outcome["state"] if outcome else "FULFILLED", _now_ms(),
                  start_of_day=bool(body.get("startOfDayIntervalMatching")))
        with self._lock:
            self._jobs[job.id] = job
        return Response(202, {"jobId": job.id})

    def _job(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"Job {job_id} not found", "not.found")
        return job

    def _job_status(self, id, **_):
        """Details and aggregate jobs share one lifecycle; only how results are computed differs."""
        job = self._job(id)
        with self._lock:
            if job.state not in ("FULFILLED", "FAILED", "CANCELLED", "EXPIRED"):
                job.polls += 1
                need = max(1, self.config.job_polls_to_fulfill)
                if job.final == "PENDING_FOREVER" or job.polls < need:
                    job.state = "PENDING" if job.polls >= need - 1 else "QUEUED"
                else:
                    job.state, job.completed = job.final, _now_ms()
        if job.state == "FULFILLED" and job.results is None:
            if getattr(job, "aggregate", None) is not None:
                job.results = self._run_aggregate(*job.aggregate)["results"]
            else:
                hits = self._search(job.query, overlap=not job.start_of_day, before=self._availability_ms())
                job.results = hits[: job.limit] if job.limit else hits
        out = {"state": job.state, "submissionDate": iso(job.submitted)}
        if job.state == "FAILED":
            out["errorMessage"] = "The analytics job failed: internal error while processing the query"
        if job.completed:
            out["completionDate"] = iso(job.completed)
        out["expirationDate"] = iso(job.submitted + (-HOUR_MS if job.state == "EXPIRED" else 2 * DAY_MS))
        return out

    def _job_cancel(self, id, **_):
        job = self._job(id)
        with self._lock:
            job.state, job.results = "CANCELLED", None
        return Response(204)

    def _job_results(self, id, query, **_):
        job = self._job(id)
        if job.state != "FULFILLED" or job.results is None:
            raise ApiError(400, f"Job {id} results are not available: the job state is {job.state}")
        size = _int_param(query, "pageSize", MAX_JOB_PAGE_SIZE, MAX_JOB_PAGE_SIZE)
        cursor = (query.get("cursor") or [""])[-1]
        offset = _decode_cursor(cursor, job.id) if cursor else 0
        page = job.results[offset: offset + size]
        out = {"conversations": [self.dataset.with_attributes(self.dataset.doc(a)) for a in page]}
        if offset + size < len(job.results):
            out["cursor"] = base64.urlsafe_b64encode(f"{job.id}:{offset + size}".encode()).decode()
        out["dataAvailabilityDate"] = iso(self._availability_ms())
        return out

    def _job_availability(self, **_):
        return {"dataAvailabilityDate": iso(self._availability_ms())}

    # -------------------------------------------------------------- aggregates (aggregates.py)
    def _run_aggregate(self, kind: str, body) -> dict:
        try:
            if kind == CONV_AGG:
                return aggregates.conversations_aggregate(self.dataset, body)
            return aggregates.flows_aggregate(self.dataset, body)
        except aggregates.AggregateError as e:
            raise ApiError(400, str(e)) from None

    def _conv_aggregate(self, body, **_):
        return self._run_aggregate(CONV_AGG, _json(body))

    def _flow_aggregate(self, body, **_):
        return self._run_aggregate(FLOW_AGG, _json(body))

    def _agg_job_submit(self, kind, body, **_):
        """Async aggregate jobs: validated like the query, results computed once FULFILLED."""
        body = _json(body)
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object")
        page_size = body.get("pageSize")
        if page_size is not None and (not isinstance(page_size, int) or not 1 <= page_size <= MAX_AGG_JOB_PAGE_SIZE):
            raise ApiError(400, f"pageSize must be an integer between 1 and {MAX_AGG_JOB_PAGE_SIZE}")
        query = {k: v for k, v in body.items() if k != "pageSize"}
        self._run_aggregate(kind, query)                      # 400 now for a bad query, like the real API
        outcome = self.faults.take("job_outcome")
        job = Job(str(uuid.uuid4()), None, page_size, outcome["state"] if outcome else "FULFILLED", _now_ms(),
                  aggregate=(kind, query))
        with self._lock:
            self._jobs[job.id] = job
        return Response(202, {"jobId": job.id})

    def _agg_job_results(self, id, query, **_):
        """Pages of `results` groups; the job's pageSize (default 100) unless the request gives one."""
        job = self._job(id)
        if job.state != "FULFILLED" or job.results is None:
            raise ApiError(400, f"Job {id} results are not available: the job state is {job.state}")
        size = _int_param(query, "pageSize", job.limit or 100, MAX_AGG_JOB_PAGE_SIZE)
        cursor = (query.get("cursor") or [""])[-1]
        offset = _decode_cursor(cursor, job.id) if cursor else 0
        out = {"results": job.results[offset: offset + size]}
        if offset + size < len(job.results):
            out["cursor"] = base64.urlsafe_b64encode(f"{job.id}:{offset + size}".encode()).decode()
        return out

    # -------------------------------------------------------------- campaign live state
    def _campaign(self, campaign_id: str) -> dict:
        campaign = next((c for c in self.dataset.campaigns if c["id"] == campaign_id), None)
        if campaign is None:
            raise ApiError(404, f"Campaign {campaign_id} not found", "not.found")
        return campaign

    def _contact_counts(self, campaign: dict) -> tuple[int, int, int]:
        """(attempts, connects, contacts called) of the campaign over the whole dataset."""
        index = self.dataset.campaigns.index(campaign)
        attempts = [a for a in self.dataset.all_records() if a.campaign == index]
        connects = sum(1 for a in attempts if a.kind in ("agent", "abandoned", "transferred"))
        return len(attempts), connects, len({a.seed % 997 + a.start // DAY_MS * 997 for a in attempts})

    def _progress(self, campaign: dict) -> dict:
        live = self.dataset.campaign_live[campaign["id"]]
        _, _, called = self._contact_counts(campaign)
        total = max(live["totalNumberOfContacts"], called)
        return {"campaign": self.dataset._ref(campaign), "contactList": campaign["contactList"],
                "numberOfContactsCalled": called, "numberOfContactsMessaged": 0, "totalNumberOfContacts": total,
                "percentage": int(100 * called / total), "numberOfContactsSkipped": {"dnc": 0}}

    def _campaign_stats(self, id, **_):
        campaign = self._campaign(id)
        live = self.dataset.campaign_live[id]
        attempts, connects, _ = self._contact_counts(campaign)
        return {"contactRate": {"attempts": attempts, "connects": connects,
                                "connectRatio": round(100 * connects / attempts, 2) if attempts else 0.0},
                "idleAgents": live["idleAgents"], "effectiveIdleAgents": live["effectiveIdleAgents"],
                "adjustedCallsPerAgent": live["adjustedCallsPerAgent"],
                "outstandingCalls": live["outstandingCalls"], "scheduledCalls": live["scheduledCalls"],
                "timeZoneRescheduledCalls": live["timeZoneRescheduledCalls"],
                "filteredOutContactsCount": live["filteredOutContactsCount"],
                "rightPartyContactsCount": live["rightPartyContactsCount"], "validAttempts": attempts,
                "linesUtilization": {"assignedOutboundLines": live["assignedOutboundLines"],
                                     "totalAvailableOutboundLines": live["totalAvailableOutboundLines"]},
                "businessCategoryMetrics": {k: live[k] for k in ("successCount", "neutralCount", "failureCount")}}

    def _campaign_progress(self, id, **_):
        return self._progress(self._campaign(id))

    def _campaign_ids_body(self, body, maximum: int | None) -> list[str]:
        ids = _json(body)
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, "The request body must be a JSON array of campaign ids")
        if maximum is not None and len(ids) > maximum:
            raise ApiError(400, f"At most {maximum} campaign ids per request, got {len(ids)}")
        return ids

    def _progress_bulk(self, body, **_):
        ids = set(self._campaign_ids_body(body, None))
        return [self._progress(c) for c in self.dataset.campaigns if c["id"] in ids]

    def _performance(self, body, **_):
        """connectRatio in percent like the campaign's abandonRate [unverified]; progress.percentage a float."""
        ids = set(self._campaign_ids_body(body, MAX_PERFORMANCE_IDS))
        entities = []
        for c in self.dataset.campaigns:
            if c["id"] not in ids:
                continue
            stats, progress = self._campaign_stats(c["id"]), self._progress(c)
            entities.append({
                "campaign": self.dataset._ref(c), "division": c["division"],
                "contactRate": {"connectRatio": stats["contactRate"]["connectRatio"]},
                "campaignStatus": c["campaignStatus"], "dialingMode": c["dialingMode"],
                "progress": {"percentage": round(100 * progress["numberOfContactsCalled"]
                                                 / progress["totalNumberOfContacts"], 2)},
                **{k: stats[k] for k in ("idleAgents", "effectiveIdleAgents", "adjustedCallsPerAgent",
                                         "outstandingCalls", "scheduledCalls", "rightPartyContactsCount",
                                         "linesUtilization", "businessCategoryMetrics")}})
        return {"entities": entities}

    def _diagnostics_summary(self, id, query, **_):
        """Status and health intervals overlapping [start, end) (unclipped; the current ones have no dateEnd)."""
        campaign = self._campaign(id)
        try:
            start, end = to_ms((query.get("start") or [""])[-1]), to_ms((query.get("end") or [""])[-1])
        except (ValueError, TypeError):
            raise ApiError(400, "start and end are required ISO-8601 date-times") from None
        if end <= start:
            raise ApiError(400, "end must be after start")
        timeline = self.dataset.campaign_live[id]["diagnostics"]

        def overlapping(rows):
            return [r for r in rows if r[1] < end and (r[2] is None or r[2] > start)]

        def interval(state, s, e):
            out = {"state": state, "dateStart": iso(s)}
            if e is not None:
                out["dateEnd"] = iso(e)
            return out
        return {"campaignId": campaign["id"], "dateStart": iso(start), "dateEnd": iso(end),
                "campaignStates": [{**interval(st, s, e), "dialingMode": mode}
                                   for st, s, e, mode in overlapping(timeline["states"])],
                "campaignHealthStates": [interval(*row) for row in overlapping(timeline["health"])],
                "campaignInfo": [], "configChanges": []}

    # -------------------------------------------------------------- admin (/_emulator/...)
    def _admin(self, method: str, path: str, body: bytes) -> Response:
        ds, faults = self.dataset, self.faults
        actions = {
            ("POST", "faults"): lambda p: (faults.set(**p), faults.snapshot())[1],
            ("DELETE", "faults"): lambda p: (faults.clear(), faults.snapshot())[1],
            ("GET", "faults"): lambda p: faults.snapshot(),
            ("GET", "requests"): lambda p: self.emu.request_summary(),
            ("DELETE", "requests"): lambda p: (self.emu.reset_log(), self.emu.request_summary())[1],
            ("GET", "summary"): lambda p: ds.summary(),
            ("POST", "complete-active"): lambda p: {"completed": ds.complete_active_calls(p.get("at"))},
            ("POST", "add-conversations"): lambda p: {"conversationIds": [
                d["conversationId"] for d in ds.add_conversations(int(p["n"]), p["start"], p["end"],
                                                                  p.get("campaignId"))]},
        }
        action = actions.get((method, path.removeprefix("/_emulator/")))
        try:
            if action is None:
                raise ApiError(404, f"Unknown admin endpoint {method} {path}")
            return Response(200, action(_json(body) if body else {}))
        except (ValueError, TypeError, KeyError) as e:
            return ApiError(400, f"Bad admin request: {e}").response()
        except ApiError as e:
            return e.response()


def _now_ms() -> int:
    return int(time.time() * 1000)


def _json(body: bytes):
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON") from None


def _int_value(raw, name: str, default: int, maximum: int | None) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, f"{name} must be an integer, got '{raw}'") from None
    if value < 1 or (maximum is not None and value > maximum):
        bound = f"between 1 and {maximum}" if maximum else "at least 1"
        raise ApiError(400, f"Invalid {name} [{value}]: the value must be {bound}")
    return value


def _int_param(query: dict, name: str, default: int, maximum: int | None) -> int:
    return _int_value((query.get(name) or [None])[-1], name, default, maximum)


def _filter_items(items: list[dict], query: dict) -> list[dict]:
    def values(name):
        return {v for raw in query.get(name, []) for v in raw.split(",") if v}
    ids, divisions = values("id"), values("divisionId")
    if ids:
        items = [i for i in items if i["id"] in ids]
    if divisions:
        items = [i for i in items if i.get("division", {}).get("id") in divisions]
    name = (query.get("name") or [""])[-1].lower()
    if name:
        kind = (query.get("filterType") or ["Prefix"])[-1].lower()
        test = {"equals": str.__eq__, "contains": lambda a, b: b in a}.get(kind, str.startswith)
        items = [i for i in items if test(i["name"].lower(), name)]
    sort_by = (query.get("sortBy") or [""])[-1]
    if sort_by:
        descending = (query.get("sortOrder") or ["asc"])[-1].lower().startswith("desc")
        items = sorted(items, key=lambda i: str(i.get(sort_by, "")).lower(), reverse=descending)
    return items


def _decode_cursor(cursor: str, job_id: str) -> int:
    try:
        owner, offset = base64.urlsafe_b64decode(cursor.encode()).decode().rsplit(":", 1)
        if owner == job_id and int(offset) >= 0:
            return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise ApiError(400, "Invalid cursor")


# ------------------------------------------------------------------ sockets
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"            # keep-alive, like the real API
    server_version = "GenesysCloudEmulator/1.0"
    timeout = 60

    def log_message(self, *args) -> None:    # the emulator keeps its own log
        pass

    def _hang_up(self) -> None:
        """Close the socket without finishing the response (a dropped connection)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        resp = self.server.api.dispatch(self.command, self.path, self.headers, body)
        if resp.drop:
            self._hang_up()
            return
        data = resp.raw if resp.raw is not None else (b"" if resp.body is None else json.dumps(resp.body).encode())
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("inin-correlation-id", str(uuid.uuid4()))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if resp.truncate:                    # a connection dropped mid-body
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._hang_up()
            return
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):   # clients hanging up is normal
            super().handle_error(request, client_address)


class Emulator:
    """Owns the dataset, faults, request log and the server thread. Usable as a context manager."""

    def __init__(self, config: EmulatorConfig | None = None, **overrides):
        self.config = dataclasses.replace(config or EmulatorConfig(), **overrides)
        self.dataset = Dataset.generate(self.config)
        self.faults = Faults()
        self.requests: list[tuple[str, str, int]] = []
        self._log_lock = threading.Lock()
        self.api = Api(self)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def client_id(self) -> str:
        return self.config.client_id

    @property
    def client_secret(self) -> str:
        return self.config.client_secret

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        server = _Server((self.config.host, self.config.port), _Handler)
        server.api = self.api
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="genesys-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def issued_tokens(self) -> list[str]:
        """Every access token handed out so far (e.g. to assert the tap never logs one)."""
        with self.api._lock:
            return list(self.api._tokens)

    # -------------------------------------------------------------- request log
    def log(self, method: str, path: str, status: int) -> None:
        with self._log_lock:
            self.requests.append((method, path, status))

    def reset_log(self) -> None:
        with self._log_lock:
            self.requests.clear()

    def request_count(self, path_prefix: str | None = None, method: str | None = None) -> int:
        with self._log_lock:
            return sum(1 for m, p, _ in self.requests
                       if (path_prefix is None or p.startswith(path_prefix)) and (method is None or m == method))

    def request_summary(self) -> dict:
        with self._log_lock:
            log = list(self.requests)
        counts: dict[str, int] = {}
        for m, p, s in log:
            counts[f"{m} {p} {s}"] = counts.get(f"{m} {p} {s}", 0) + 1
        return {"total": len(log), "counts": counts, "log": [list(entry) for entry in log]}
