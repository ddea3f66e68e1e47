"""Analytics aggregates (conversations and flows) computed from the emulator's seeded conversations.

Choices where the reference is silent or [unverified] (genesys-api.md sections 5 and 6):
- Conversations are bucketed on conversationStart, in the query's `timeZone` (IANA, default UTC).
  Buckets start at the interval start and step by `granularity` (calendar days, weeks and months
  in that time zone); the last one is cut at the interval end. Without `granularity` the whole
  interval is one bucket. Buckets without data are omitted; there is no paging.
- Limits (as the guides describe them; the real ones are [unverified]): sub-daily granularities
  allow at most 7 days per request, P1D and P7D at most 366 days, P1M at most 7 years. Anything
  longer answers 400 "Invalid date range for the specified granularity".
- Conversation aggregates attribute every session metric of a conversation (agent talk, hold,
  wrap-up included) to the dimensions of its dialer session, each metric once per conversation even
  where two sessions carry it (dataset.py: `mirrors_talk`), so grouping by outboundCampaignId
  sums exactly what the details query returns for the campaign. `n*` metrics fill stats.count with
  the summed values; `t*` metrics fill sum/count/min/max (ms).
- Flow aggregates come from `Dataset.flow_observations`: one observation per flow outcome reached
  during a conversation (flowOutcomeValue SUCCESS or FAILURE, nFlowOutcomeFailed counts FAILURE).
- Aggregate jobs: submitted bodies are validated like the query (400 at submission); results are
  the query's `results` groups paged by the job's `pageSize` (default 100, max 1000), see jobs.py.
"""

from __future__ import annotations

import bisect
import json
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .dataset import DAY_MS, Dataset, iso, to_ms
from .filters import check_filter, filter_matches
from .limits import Limits
from .protocol import ApiError, json_object, parse_interval

CONV_AGG = "/api/v2/analytics/conversations/aggregates"
FLOW_AGG = "/api/v2/analytics/flows/aggregates"
MAX_JOB_PAGE_SIZE, DEFAULT_JOB_PAGE_SIZE = 1000, 100

UTC = timezone.utc
CONVERSATION_METRICS = {"nOutbound", "nOutboundAttempted", "nOutboundConnected", "nOutboundAbandoned",
                        "nConnected", "nError", "tContacting", "tDialing", "tTalk", "tTalkComplete", "tHeld",
                        "tAcw", "tHandle", "tAlert", "tAnswered", "tAbandon", "tFirstDial", "tFirstConnect"}
CONVERSATION_GROUP_DIMENSIONS = {"outboundCampaignId", "outboundContactListId", "outboundContactId", "mediaType",
                                 "direction", "originatingDirection", "queueId", "userId", "wrapUpCode",
                                 "disconnectType", "divisionId", "conversationId", "purpose", "requestedRouting"}
FLOW_METRICS = {"nFlow", "nFlowOutcome", "nFlowOutcomeFailed", "tFlowOutcome", "nFlowMilestone", "tFlow"}
FLOW_DIMENSIONS = {"flowId", "flowName", "flowType", "flowVersion", "flowOutcome", "flowOutcomeId",
                   "flowOutcomeValue", "flowMilestoneId", "entryType", "entryReason", "exitReason",
                   "transferType", "outboundCampaignId", "outboundContactListId", "mediaType", "divisionId",
                   "conversationId"}
_DURATION = re.compile(r"^P(?:(\d+)M|(\d+)W|(\d+)D|T(?:(\d+)H)?(?:(\d+)M)?)$")
SUB_DAILY_MAX_DAYS, DAILY_MAX_DAYS, MONTHLY_MAX_DAYS = 7, 366, 7 * 366


def parse_granularity(text: str | None) -> tuple[str, int] | None:
    """'PT1H' -> ('ms', 3600000); 'P1D' -> ('days', 1); 'P1W'/'P7D' -> ('days', 7); 'P1M' -> ('months', 1)."""
    if text is None:
        return None
    match = _DURATION.match(str(text))
    if not match or not any(match.groups()):
        raise ApiError(400, f"Invalid granularity '{text}': expected an ISO-8601 period such as PT1H or P1D")
    months, weeks, days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    if months:
        return "months", months
    if weeks or days:
        return "days", 7 * weeks + days
    ms = hours * 3_600_000 + minutes * 60_000
    if ms < 60_000 or (ms < 3_600_000 and 3_600_000 % ms) or ms % 60_000:
        raise ApiError(400, f"Invalid granularity '{text}'")
    return "ms", ms


def check_limits(start: int, end: int, granularity: tuple[str, int] | None, text: str | None) -> None:
    if granularity is None:
        return
    unit, _ = granularity
    limit = SUB_DAILY_MAX_DAYS if unit == "ms" else DAILY_MAX_DAYS if unit == "days" else MONTHLY_MAX_DAYS
    if end - start > limit * DAY_MS:
        raise ApiError(400, f"Invalid date range for the specified granularity: {text} allows at most "
                             f"{limit} days per query, the interval spans {(end - start) / DAY_MS:.1f} days")


def bucket_starts(start: int, end: int, granularity: tuple[str, int] | None, tz: ZoneInfo) -> list[int]:
    """Epoch-ms starts of the buckets of [start, end) (the end itself appended last)."""
    if granularity is None:
        return [start, end]
    unit, size = granularity
    out = [start]
    if unit == "ms":
        out += list(range(start + size, end, size))
    else:
        local = datetime.fromtimestamp(start / 1000, UTC).astimezone(tz).replace(tzinfo=None)
        k = 1
        while True:
            if unit == "days":
                nxt = local + timedelta(days=size * k)
            else:
                month = local.month - 1 + size * k
                nxt = local.replace(year=local.year + month // 12, month=month % 12 + 1)
            ms = to_ms(nxt.replace(tzinfo=tz))
            if ms >= end:
                break
            out.append(ms)
            k += 1
    out.append(end)
    return out


def _timezone(body: dict) -> ZoneInfo:
    name = body.get("timeZone") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(400, f"Invalid timeZone '{name}'") from None


def parse_body(body, *, dimensions: set, metrics: set, limits: Limits) -> dict:
    """Validate an aggregation query body; returns the parsed pieces."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    start, end = parse_interval(body.get("interval"))
    wanted = body.get("metrics")
    if not isinstance(wanted, list) or not wanted:
        raise ApiError(400, "metrics is required and must be a non-empty list")
    unknown = [m for m in wanted if m not in metrics]
    if unknown:
        raise ApiError(400, f"Invalid metrics: {', '.join(map(str, unknown))}")
    group_by = body.get("groupBy") or []
    bad = [g for g in group_by if g not in dimensions]
    if bad:
        raise ApiError(400, f"Invalid groupBy dimensions: {', '.join(map(str, bad))}")
    if body.get("filter") is not None:
        check_filter(body["filter"], dimensions, "filter", limits)
    granularity = parse_granularity(body.get("granularity"))
    check_limits(start, end, granularity, body.get("granularity"))
    limits.enforce("aggregate_max_days", (end - start) / DAY_MS)
    tz = _timezone(body)
    if limits.aggregate_max_buckets is not None:
        limits.enforce("aggregate_max_buckets", len(bucket_starts(start, end, granularity, tz)) - 1)
    return {"start": start, "end": end, "metrics": wanted, "group_by": group_by, "filter": body.get("filter"),
            "granularity": granularity, "tz": tz}


def _aggregate(q: dict, observations) -> list[dict]:
    """observations: iterable of (start_ms, dims dict, {metric: [values]}) -> the `results` array."""
    bounds = bucket_starts(q["start"], q["end"], q["granularity"], q["tz"])
    groups: dict[str, dict] = {}
    for start, dims, values in observations:
        if not q["start"] <= start < q["end"]:
            continue
        lookup = dims.get
        if not filter_matches(q["filter"], lookup):
            continue
        group = {g: dims[g] for g in q["group_by"] if dims.get(g) is not None}
        index = bisect.bisect_right(bounds, start) - 1
        buckets = groups.setdefault(json.dumps(group, sort_keys=True), {})
        stats = buckets.setdefault(index, {})
        for metric in q["metrics"]:
            for value in values.get(metric, ()):
                s = stats.setdefault(metric, {"max": value, "min": value, "count": 0, "sum": 0})
                s["max"], s["min"] = max(s["max"], value), min(s["min"], value)
                s["count"] += 1
                s["sum"] += value
    results = []
    for key in sorted(groups):
        data = []
        for index in sorted(groups[key]):
            stats = groups[key][index]
            if not stats:
                continue
            metrics = []
            for metric in q["metrics"]:
                s = stats.get(metric)
                if s is None:
                    continue
                if metric.startswith("n"):
                    metrics.append({"metric": metric, "stats": {"count": s["sum"]}})
                else:
                    metrics.append({"metric": metric, "stats": dict(s)})
            data.append({"interval": f"{iso(bounds[index])}/{iso(bounds[index + 1])}", "metrics": metrics})
        if data:
            results.append({"group": json.loads(key), "data": data})
    return results


def conversation_observations(ds: Dataset, start: int, end: int):
    """(conversationStart, dimensions, {metric: [values]}) per conversation starting in [start, end)."""
    for a in ds.records_in_days(start // DAY_MS, (end - 1) // DAY_MS):
        doc = ds.doc(a)
        dims: dict = {"conversationId": doc["conversationId"], "originatingDirection": doc["originatingDirection"],
                      "divisionId": doc.get("divisionIds")}
        values: dict[str, list[int]] = {}
        for participant in doc["participants"]:
            for session in participant.get("sessions", ()):
                for name in ("outboundCampaignId", "outboundContactListId", "outboundContactId", "mediaType",
                             "direction"):
                    if name in session and name not in dims:
                        dims[name] = session[name]
                for m in session.get("metrics") or ():      # a metric on two sessions counts once
                    values.setdefault(m["name"], [m["value"]])
        if any(name.startswith("n") for name in values):
            # n* summed into count
            yield a.start, dims, values


def _flow_observations(ds: Dataset, start: int, end: int):
    return ds.flow_observations(start, end)


# path -> (groupBy/filter dimensions, metrics, observations of [start, end))
KINDS = {CONV_AGG: (CONVERSATION_GROUP_DIMENSIONS, CONVERSATION_METRICS, conversation_observations),
         FLOW_AGG: (FLOW_DIMENSIONS, FLOW_METRICS, _flow_observations)}


class Aggregates:
    """Route handlers: conversation and flow aggregates, query and jobs (one lifecycle, jobs.py)."""

    def __init__(self, api):
        self.api = api

    def routes(self) -> list:
        out = []
        for kind in KINDS:
            out += [("POST", kind + "/query", lambda body, kind=kind, **_: self.query(kind, json_object(body))),
                    ("POST", kind + "/jobs", lambda body, kind=kind, **_: self.job_submit(kind, body))]
        return out + self.api.jobs.routes(r"/api/v2/analytics/(?:conversations|flows)/aggregates/jobs")

    def parse(self, kind: str, body: dict) -> dict:
        dimensions, metrics, _ = KINDS[kind]
        return parse_body(body, dimensions=dimensions, metrics=metrics, limits=self.api.faults.current_limits)

    def run(self, kind: str, q: dict) -> list[dict]:
        return _aggregate(q, KINDS[kind][2](self.api.dataset, q["start"], q["end"]))

    def query(self, kind: str, body: dict) -> dict:
        return {"results": self.run(kind, self.parse(kind, body))}

    def job_submit(self, kind: str, body: bytes):
        """Validated like the query (400 at submission, like the real API); computed once FULFILLED."""
        body = json_object(body)
        page_size = body.get("pageSize")
        if page_size is not None and (not isinstance(page_size, int) or not 1 <= page_size <= MAX_JOB_PAGE_SIZE):
            raise ApiError(400, f"pageSize must be an integer between 1 and {MAX_JOB_PAGE_SIZE}")
        if page_size is not None:
            self.api.faults.current_limits.enforce("job_max_page_size", page_size)
        q = self.parse(kind, {k: v for k, v in body.items() if k != "pageSize"})
        return self.api.jobs.submit(lambda: self.run(kind, q), lambda groups: {"results": groups},
                                    "results", page_size or DEFAULT_JOB_PAGE_SIZE, MAX_JOB_PAGE_SIZE)
