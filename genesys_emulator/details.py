"""Analytics conversation details: the sync query and async jobs (genesys-api.md 4.1, 4.2).

- A segment filter matches when one segment satisfies it, looking the dimension up on the segment,
  then its session, its participant, then the conversation. Conversation filters accept
  conversation-level dimensions only; unknown dimensions, `dispositionName` (documented as not
  filterable) and metric/property predicates answer 400. `orderBy` segmentStart/segmentEnd sort
  like conversationStart/conversationEnd. The 7-day interval cap of the sync query is [unverified]
  (jobs have none).
- The query matches conversations starting on a UTC day the interval touches; jobs match lifetimes
  overlapping the interval unless `startOfDayIntervalMatching` (active calls overlap forever).
- Job results are snapshotted when the job is fulfilled and exclude conversations starting at or
  after dataAvailabilityDate (anchor - availability_lag_hours): the data lake lags, the query does
  not. Results pageSize defaults to 1000 (max 1000). Job bodies with `paging` answer 400
  (AsyncConversationQuery has none).
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

from .dataset import DAY_MS, HOUR_MS, Attempt, iso
from .filters import check_filter, filter_matches
from .limits import Limits
from .protocol import ApiError, int_value, json_object, parse_interval

DETAILS = "/api/v2/analytics/conversations/details"
MAX_PAGE_SIZE, MAX_QUERY_DAYS, MAX_JOB_PAGE_SIZE = 100, 7, 1000
CONVERSATION_DIMENSIONS = {"conversationId", "conversationStart", "conversationEnd", "conversationInitiator",
                           "divisionId", "originatingDirection", "externalTag", "mediaStatsMinConversationMos"}
SEGMENT_DIMENSIONS = {"outboundCampaignId", "outboundContactId", "outboundContactListId", "mediaType",
                      "direction", "purpose", "userId", "queueId", "wrapUpCode", "disconnectType",
                      "segmentType", "sessionId", "participantId", "participantName", "participantType",
                      "callbackScheduledTime", "flowOutcomeId", "errorCode", "ani", "dnis", "addressTo",
                      "addressFrom", "edgeId", "teamId", "externalContactId", "requestedRouting",
                      "scriptId", "provider", "remote"} | CONVERSATION_DIMENSIONS
ORDER_BY = ("conversationStart", "conversationEnd", "segmentStart", "segmentEnd")


@dataclass
class Query:
    start: int
    end: int
    order: str
    order_by: str
    conversation_filters: list
    segment_filters: list
    key: str                      # canonical JSON of the body minus paging (cache key)


def parse_query(body: dict, *, job: bool, limits: Limits) -> Query:
    start, end = parse_interval(body.get("interval"))
    if not job:
        limits.enforce("details_max_days", (end - start) / DAY_MS)
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
            check_filter(f, allowed, where, limits)
    rest = {k: v for k, v in body.items() if k != "paging"}
    return Query(start, end, order, order_by, conv, seg, json.dumps(rest, sort_keys=True))


def _conversation_value(doc: dict, dim: str):
    return doc.get("divisionIds") if dim == "divisionId" else doc.get(dim)


def matches(doc: dict, q: Query) -> bool:
    lookup = lambda dim: _conversation_value(doc, dim)        # noqa: E731
    if not all(filter_matches(f, lookup) for f in q.conversation_filters):
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
                if filter_matches(f, lookup):
                    return True
    return False


def sort_records(records: list[Attempt], q: Query) -> list[Attempt]:
    if q.order_by in ("conversationEnd", "segmentEnd"):
        key = lambda a: (a.end is None, a.end or 0, a.conversation_id)   # noqa: E731
    else:
        key = lambda a: (a.start, a.conversation_id)                      # noqa: E731
    return sorted(records, key=key, reverse=q.order == "desc")


class Details:
    """Route handlers of the details family; `api` gives the dataset, config, faults and the job store."""

    def __init__(self, api):
        self.api = api
        self._lock = threading.Lock()
        self._cache: OrderedDict = OrderedDict()

    def routes(self) -> list:
        return [("POST", DETAILS + "/query", self.query),
                ("POST", DETAILS + "/jobs", self.job_submit),
                ("GET", DETAILS + "/jobs/availability", self.availability),
                *self.api.jobs.routes(DETAILS + "/jobs")]

    @property
    def dataset(self):
        return self.api.dataset

    def query(self, body, **_):
        body, limits = json_object(body), self.api.faults.current_limits
        q = parse_query(body, job=False, limits=limits)
        paging = body.get("paging") or {}
        if not isinstance(paging, dict):
            raise ApiError(400, "paging must be an object {pageSize, pageNumber}")
        switched = limits.details_max_page_size is not None
        size = int_value(paging.get("pageSize"), "paging.pageSize", 25, None if switched else MAX_PAGE_SIZE)
        limits.enforce("details_max_page_size", size)
        number = int_value(paging.get("pageNumber"), "paging.pageNumber", 1, None)
        limits.enforce("details_max_results", size * number, self.api.config.max_results)
        hits = self.search(q)
        out: dict = {}
        page = hits[(number - 1) * size: number * size]
        if page:                                   # the real API omits the key past the end
            out["conversations"] = [self.dataset.doc(a) for a in page]
        out["totalHits"] = len(hits)
        return out

    def search(self, q: Query, *, overlap: bool = False, before: int | None = None) -> list[Attempt]:
        """Matching attempts, sorted. Start-of-day semantics unless `overlap` (job default). Cached per
        body and dataset version, since the tap pages through the same query."""
        ds = self.dataset
        key = (q.key, overlap, before, ds.version)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        first, last = q.start // DAY_MS, (q.end - 1) // DAY_MS
        if overlap:                                # lifetimes overlapping [start, end)
            seen = set()
            candidates = []
            for a in ds.records_in_days(first - 1, last) + ds.active_records():
                if a.conversation_id not in seen:
                    seen.add(a.conversation_id)
                    life_end = math.inf if a.end is None else max(a.end, a.start)
                    if a.start < q.end and life_end > q.start:
                        candidates.append(a)
        else:
            candidates = ds.records_in_days(first, last)
        if before is not None:
            candidates = [a for a in candidates if a.start < before]
        hits = sort_records([a for a in candidates if matches(ds.doc(a), q)], q)
        with self._lock:
            self._cache[key] = hits
            while len(self._cache) > 32:
                self._cache.popitem(last=False)
        return hits

    def availability_ms(self) -> int:
        return self.dataset.anchor_ms - int(self.api.config.availability_lag_hours * HOUR_MS)

    def availability(self, **_):
        return {"dataAvailabilityDate": iso(self.availability_ms())}

    def job_submit(self, body, **_):
        body = json_object(body)
        q = parse_query(body, job=True, limits=self.api.faults.current_limits)
        if "paging" in body:
            raise ApiError(400, "Async jobs do not accept paging; use limit and the results cursor")
        limit = body.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ApiError(400, "limit must be a positive integer")
        overlap = not body.get("startOfDayIntervalMatching")

        def compute():
            hits = self.search(q, overlap=overlap, before=self.availability_ms())
            return hits[:limit] if limit else hits

        def page(attempts):
            ds = self.dataset
            return {"conversations": [ds.with_attributes(ds.doc(a)) for a in attempts],
                    "dataAvailabilityDate": iso(self.availability_ms())}
        return self.api.jobs.submit(compute, page, "conversations", MAX_JOB_PAGE_SIZE, MAX_JOB_PAGE_SIZE)
