"""Interval streams from the analytics aggregates: `execution_stats` and `flow_outcomes`.

Both read `[max(start_date, bookmark - lookback), closed edge)` like `attempts`, aligned to whole
buckets of the granularity (`granularity.py`) and split into requests the API accepts. Each
request is the synchronous aggregates query or, for backfill windows, an async aggregates job
(`analytics_jobs.plan_reads`, the same rules as attempts: the range is cut at the last bucket
boundary before the data availability date; `auto` uses jobs before it and the query after,
`always` stops there, `never` uses no job); both give the same records because a job runs the
same query body. Aggregates have no paging; job results page with a cursor.

Time zone: the queries send the `time_zone` setting as `timeZone`, so days and months are local
calendar days and months (a New York day lasts 23, 24 or 25 hours); ranges, requests and the
availability cut are aligned to local bucket boundaries (`granularity.py`, zone arithmetic in
`local_time.py`). Records carry `timeZone`, and `intervalStart`/`intervalEnd` are the instants
written with that zone's UTC offset (`2024-11-03T00:00:00-04:00`; with UTC, `+00:00`), so the first
ten characters are the local date. Requests and bookmarks stay in UTC.

State: like attempts, the bookmark is the end of the last window read in full (a STATE message
right after it), and the granularity and time zone used are kept beside it, so `auto` does not
switch from daily to hourly buckets when a later run reads only the lookback: re-read buckets keep
their (intervalStart, intervalEnd) and replace the earlier values downstream. A time zone changed
between runs is used from then on, with a warning: re-read buckets get new keys (state without
`time_zone` was written in UTC).

Concurrency: windows are read in lanes (`prefetch.ordered_reads`); what the read functions learn
goes to `self.limits` (thread-safe), and a window's buckets are returned, never kept on the stream.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from singer_sdk.helpers.types import Context

from tap_genesys_outbound import filters, local_time
from tap_genesys_outbound import granularity as granularities
from tap_genesys_outbound.adaptive_limits import (
    BUCKETS,
    INTERVAL,
    MIN_BATCH,
    PREDICATES,
    RESULT_CAP,
    batches,
    halve_count,
    limit_kind,
)
from tap_genesys_outbound.analytics_jobs import AnalyticsJobFailedError, WindowRead, job_result_pages
from tap_genesys_outbound.api import records_of
from tap_genesys_outbound.errors import GenesysAPIError
from tap_genesys_outbound.prefetch import ordered_reads
from tap_genesys_outbound.streams.base import KEY_SENTINEL, fill_key_fields
from tap_genesys_outbound.streams.windowed import WindowedStream
from tap_genesys_outbound.windows import Window, parse_timestamp, split_at

JOB_PAGE_SIZE = 1000  # a starting point: halved on a 400 naming the page size (adaptive_limits)
#: An average handle time above this (seconds) is flagged: 30 minutes per call is implausible for outbound.
AVG_HANDLE_OUTLIER_SECONDS = 1800


def _key(group: dict, interval: str) -> tuple:
    return tuple(sorted(group.items())), interval


def merge_metrics(into: dict[str, dict], metrics: list[dict]) -> None:
    """Add one `metrics[]` array to `{metric: stats}` (count/sum add up, min/max combine)."""
    for item in metrics or ():
        name, stats = item.get("metric"), dict(item.get("stats") or {})
        if name is None:
            continue
        current = into.get(name)
        if current is None:
            into[name] = stats
            continue
        for field in ("count", "sum"):
            if field in stats:
                current[field] = (current.get(field) or 0) + stats[field]
        if "min" in stats:
            current["min"] = min(current.get("min", stats["min"]), stats["min"])
        if "max" in stats:
            current["max"] = max(current.get("max", stats["max"]), stats["max"])


def ratio(numerator: float, denominator: float) -> float | None:
    """A decimal in [0, 1]; None when the denominator is 0 or the counts are inconsistent."""
    if not denominator or numerator < 0 or numerator > denominator:
        return None
    return round(numerator / denominator, 6)


class IntervalAggregateStream(WindowedStream):
    """Base of the streams built from `POST /api/v2/analytics/<kind>/aggregates/query`."""

    replication_key = "intervalStart"
    aggregates_path: str = ""
    metrics: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ()
    path = ""

    #: The setting whose ids the filter lists (an `or` of one predicate per id).
    ids_setting = ""

    def query_filter(self, ids: t.Sequence[str] | None = None) -> dict:
        """The filter; `ids`: one batch of the `ids_setting` ids (default: all of them)."""
        raise NotImplementedError

    def build_records(self, buckets: dict[tuple, dict[str, dict]], granularity: str,
                      tz: str = local_time.DEFAULT_ZONE) -> t.Iterable[dict]:
        """Records of one window from `{(group items, interval): {metric: stats}}`."""
        raise NotImplementedError

    def before_sync(self) -> None:
        """Per-run lookups (e.g. names) before the first window."""

    # --- windows and state --------------------------------------------------------------
    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        state = self.get_context_state(context)
        bookmark = self.get_starting_replication_key_value(context)
        to_read = self.range_to_read(context)
        if to_read is None:
            return
        # `bookmark` is start_date on a first run; only a bookmark this tap wrote says how earlier buckets were cut
        written = state if state.get("replication_key_value") else None
        granularity = self._granularity(to_read, written.get("granularity") if written else None)
        tz = self._time_zone(written)
        aligned = granularities.align(to_read, granularity, tz)
        if aligned is None:
            self.logger.info("%s: no whole %s bucket (time zone %s) in %s yet", self.name, granularity, tz, to_read)
            return
        windows = self.windows(aligned, granularity, tz)
        self.logger.info("%s: reading %s at granularity %s in time zone %s in %d request(s) (bookmark %s)",
                         self.name, aligned, granularity, tz, len(windows), bookmark)
        self.before_sync()
        reads = ordered_reads(self.plan(windows), lambda read: [self._read_window(read, granularity, tz)],
                              lanes=self.api.max_in_flight, job_slots=self.api.job_slots,
                              uses_job=lambda read: read.use_job)
        for read, buckets in reads:  # in window order; each window is one piece, its buckets
            for window_buckets in buckets:
                yield from self.build_records(window_buckets, granularity, tz)
            self.complete_window(read.window, context, granularity=granularity, time_zone=tz)

    def windows(self, aligned: Window, granularity: str, tz: str = local_time.DEFAULT_ZONE) -> list[Window]:
        """Requests within the granularity's limit, cut at the bucket boundary before the availability date."""
        available_until = self.lookups.data_availability_date() if self.config["async_jobs"] != "never" else None
        boundary = granularities.floor(available_until, granularity, tz) if available_until else None
        buckets = self.limits.get(self._buckets_key(granularity), granularities.max_buckets(granularity))
        return [piece for part in split_at(aligned, boundary)
                for piece in granularities.split(part, granularity, tz, buckets)]

    def _time_zone(self, state: dict | None) -> str:
        """The `time_zone` setting (canonical spelling); a change from the bookmarked data's zone is warned about."""
        tz = local_time.canonical(self.config["time_zone"])
        if state is not None:
            previous = state.get("time_zone") or local_time.DEFAULT_ZONE  # older state: buckets were UTC
            if previous != tz:
                self.logger.warning("%s: time_zone changed from %s to %s since the bookmark; buckets re-read in the "
                                    "lookback get new keys (intervalStart/intervalEnd), remove the old rows of "
                                    "that range downstream", self.name, previous, tz)
        return tz

    def _granularity(self, to_read: Window, previous: str | None) -> str:
        setting = self.config["granularity"]
        if setting == "auto" and previous in granularities.MAX_SPAN:
            self.logger.info("%s: granularity auto keeps %s, the granularity of the bookmarked data", self.name,
                             previous)
            return previous
        chosen = granularities.choose(setting, to_read)
        if setting == "auto":
            self.logger.info("%s: granularity auto chose %s for %s (%.1f days)", self.name, chosen, to_read,
                             (to_read.end - to_read.start) / dt.timedelta(days=1))
        elif previous and previous != setting:
            self.logger.warning("%s: granularity changed from %s to %s; re-read buckets get new keys", self.name,
                                previous, setting)
        return chosen

    # --- sync query or job (in a lane's thread when max_concurrent_requests > 1) ----------------
    def _query_body(self, window: Window, granularity: str, tz: str, ids: t.Sequence[str] | None = None) -> dict:
        return {"interval": window.interval, "granularity": granularity, "timeZone": tz,
                "groupBy": list(self.group_by), "filter": self.query_filter(ids), "metrics": list(self.metrics)}

    def _buckets_key(self, granularity: str) -> str:
        return f"{self.aggregates_path} {granularity} buckets per request"

    def _read_window(self, read: WindowRead, granularity: str, tz: str) -> dict[tuple, dict[str, dict]]:
        """`{(group items, interval): {metric: stats}}` of one window, in as many requests as the API accepts."""
        buckets: dict[tuple, dict[str, dict]] = {}
        self._read_requests(read.window, granularity, tz, read.use_job, buckets)
        return buckets

    def _read_requests(self, window: Window, granularity: str, tz: str, use_job: bool, into: dict,
                       ids: list[str] | None = None) -> None:
        """`window` for `ids` (default: every id of the setting) in requests of the sizes learned so far."""
        buckets = self.limits.get(self._buckets_key(granularity), granularities.max_buckets(granularity))
        if ids is None:
            ids = list(self.config.get(self.ids_setting) or ()) if self.ids_setting else []
        size = self.limits.get(f"{self.aggregates_path} predicates", len(ids)) if ids else 0
        for piece in granularities.split(window, granularity, tz, buckets):
            for batch in batches(ids, size) if ids else [None]:
                self._read_request(piece, granularity, tz, use_job, batch, into)

    def _read_request(self, window: Window, granularity: str, tz: str, use_job: bool, ids: list[str] | None,
                      into: dict) -> None:
        """One request (query, or job with its fallback); a 400 naming a limit shrinks it and reads again.

        Nothing of a refused request was merged into `into`, so reading it again cannot count twice.
        """
        body = self._query_body(window, granularity, tz, ids)
        try:
            if use_job:
                try:
                    merge_buckets(into, self._buckets(self._job_results(body)))
                    return
                except AnalyticsJobFailedError as exc:
                    self.logger.warning("%s: %s; reading %s with the sync query instead", self.name, exc, window)
            merge_buckets(into, self._buckets(self.api.post_json(f"{self.aggregates_path}/query", body)
                                              .get("results") or []))
        except GenesysAPIError as exc:
            self._adapt(exc, window, granularity, tz, use_job, ids, into)

    def _adapt(self, exc: GenesysAPIError, window: Window, granularity: str, tz: str, use_job: bool,
               ids: list[str] | None, into: dict) -> None:
        kind, label = limit_kind(exc), f"{self.name}: {self.aggregates_path}"
        count = granularities.bucket_count(window, granularity, tz)
        if kind in (INTERVAL, BUCKETS) and count > 1:
            smaller = max(count // 2, 1)
            self.limits.shrink(self._buckets_key(granularity), count, smaller, exc, self.logger, label,
                               f"asking for at most {smaller} {granularity} buckets per request from now on")
            self._read_requests(window, granularity, tz, use_job, into, ids)
        elif kind in (INTERVAL, BUCKETS) and self.config["granularity"] == "auto" and granularities.finer(granularity):
            # One bucket is too long for one request: read it at the next finer granularity and add those
            # buckets up into it, so the rows keep the granularity (and keys) chosen for the run.
            finer = granularities.finer(granularity)
            self.limits.note(f"{self.aggregates_path} {granularity} from {finer}", self.logger,
                             f'{label}: 400 "{exc.detail or exc}"; reading each {granularity} bucket as {finer} '
                             f"buckets added up from now on (granularity auto)")
            finer_buckets: dict[tuple, dict[str, dict]] = {}
            self._read_requests(window, finer, tz, use_job, finer_buckets, ids)
            for (group, _), stats in finer_buckets.items():
                merge_buckets(into, {(group, window.interval): stats})
        elif kind == PREDICATES and ids and len(ids) > MIN_BATCH:
            smaller = halve_count(len(ids), MIN_BATCH)
            self.limits.shrink(f"{self.aggregates_path} predicates", len(ids), smaller, exc, self.logger, label,
                               f"filtering on at most {smaller} {self.ids_setting} per request from now on")
            for batch in batches(ids, smaller):
                self._read_request(window, granularity, tz, use_job, batch, into)
        elif kind == RESULT_CAP and use_job:
            # A job whose results cannot be paged to the end: jobs over the halves of its buckets; a single
            # bucket with the sync query, which has no paging.
            self.limits.note(f"{self.aggregates_path} job result cap", self.logger,
                             f'{label}: 400 "{exc.detail or exc}"; a job whose results cannot be paged to the end '
                             "is read as jobs over the halves of its interval from now on")
            if count > 1:
                for half in granularities.split(window, granularity, tz, (count + 1) // 2):
                    self._read_request(half, granularity, tz, use_job, ids, into)
            else:
                self._read_request(window, granularity, tz, False, ids, into)
        else:
            raise exc

    def _buckets(self, results: list[dict]) -> dict[tuple, dict[str, dict]]:
        """`{(group items, interval): {metric: stats}}`; repeated groups (job pages, merged dimensions) add up."""
        buckets: dict[tuple, dict[str, dict]] = {}
        for result in results:
            group = result.get("group") or {}
            for item in result.get("data") or ():
                interval = item.get("interval")
                if interval:
                    merge_metrics(buckets.setdefault(_key(group, interval), {}), item.get("metrics") or [])
        return buckets

    def _job_results(self, body: dict) -> list[dict]:
        """Every result group of an aggregates job over the same body (read in full before any record)."""
        pages = job_result_pages(self.api, f"{self.aggregates_path}/jobs", body, page_size=JOB_PAGE_SIZE,
                                 page_size_in_body=True, limits=self.limits,
                                 timeout_seconds=self.config["async_job_timeout_seconds"])
        return [result for page in pages for result in records_of(page, "results", self.name, absent_when=("cursor",))]


def merge_buckets(into: dict[tuple, dict[str, dict]], more: dict[tuple, dict[str, dict]]) -> None:
    """Add the buckets of one request to a window's (disjoint requests; a rolled-up bucket adds up)."""
    for key, stats in more.items():
        merge_metrics(into.setdefault(key, {}), [{"metric": name, "stats": s} for name, s in stats.items()])


def _interval_fields(interval: str, granularity: str, tz: str) -> dict:
    """The bucket's instants with the zone's UTC offset (whatever offset the API wrote them in), and the zone."""
    start, end = interval.split("/")
    return {"intervalStart": local_time.local_iso(parse_timestamp(start), tz),
            "intervalEnd": local_time.local_iso(parse_timestamp(end), tz),
            "granularity": granularity, "timeZone": tz}


def _count(stats: dict[str, dict], metric: str) -> int:
    return int((stats.get(metric) or {}).get("count") or 0)


def _seconds(stats: dict[str, dict], metric: str) -> tuple[float, float | None]:
    """(sum, average) of a `t*` metric in seconds; the average is None without observations."""
    s = stats.get(metric) or {}
    total, count = (s.get("sum") or 0) / 1000, s.get("count") or 0
    return round(total, 3), (round(total / count, 3) if count else None)


class ExecutionStatsStream(IntervalAggregateStream):
    """Per campaign and bucket: calls placed/attempted/connected/abandoned, rates, talk/hold/wrap-up time."""

    name = "execution_stats"
    primary_keys = ("campaignId", "intervalStart", "intervalEnd")
    aggregates_path = "/api/v2/analytics/conversations/aggregates"
    metrics = ("nOutbound", "nOutboundAttempted", "nOutboundConnected", "nOutboundAbandoned",
               "tTalk", "tHeld", "tAcw", "tHandle")
    group_by = ("outboundCampaignId",)

    ids_setting = "campaign_ids"

    def query_filter(self, ids: t.Sequence[str] | None = None) -> dict:
        voice = filters.equals("mediaType", "voice")
        campaign_ids = ids or self.config.get("campaign_ids")
        if not campaign_ids:
            return filters.all_of(voice, filters.exists("outboundCampaignId"))
        return filters.all_of(voice, clauses=[filters.any_of("outboundCampaignId", campaign_ids)])

    def build_records(self, buckets: dict[tuple, dict[str, dict]], granularity: str,
                      tz: str = local_time.DEFAULT_ZONE) -> t.Iterable[dict]:
        merged: dict[tuple, dict[str, dict]] = {}
        for (group, interval), stats in buckets.items():
            # a group without a campaign still counts: its row is keyed UNKNOWN and flagged, never dropped
            key = (dict(group).get("outboundCampaignId") or KEY_SENTINEL, interval)
            merge_metrics(merged.setdefault(key, {}), [{"metric": m, "stats": s} for m, s in stats.items()])
        rows = [fill_key_fields(execution_record(None if campaign_id == KEY_SENTINEL else campaign_id, interval,
                                                 granularity, stats, tz), self.primary_keys)
                for (campaign_id, interval), stats in merged.items()]
        return sorted(rows, key=lambda r: (parse_timestamp(r["intervalStart"]), r["campaignId"]))


def execution_record(campaign_id: str | None, interval: str, granularity: str, stats: dict[str, dict],
                     tz: str = local_time.DEFAULT_ZONE) -> dict:
    """One execution_stats record from a bucket's `{metric: stats}`."""
    placed, attempted = _count(stats, "nOutbound"), _count(stats, "nOutboundAttempted")
    connected, abandoned = _count(stats, "nOutboundConnected"), _count(stats, "nOutboundAbandoned")
    talk, avg_talk = _seconds(stats, "tTalk")
    hold, avg_hold = _seconds(stats, "tHeld")
    acw, avg_acw = _seconds(stats, "tAcw")
    handle, avg_handle = _seconds(stats, "tHandle")
    flags = []
    if attempted > placed and placed:
        flags.append("ATTEMPTED_EXCEEDS_PLACED")
    if connected > attempted:
        flags.append("CONNECTED_EXCEEDS_ATTEMPTED")
    if abandoned > connected:
        flags.append("ABANDONED_EXCEEDS_CONNECTED")
    if avg_handle is not None and avg_handle > AVG_HANDLE_OUTLIER_SECONDS:
        flags.append("AVG_HANDLE_OUTLIER")
    return {
        "campaignId": campaign_id, **_interval_fields(interval, granularity, tz),
        "callsPlaced": placed, "callsAttempted": attempted, "callsConnected": connected, "callsAbandoned": abandoned,
        "connectRate": ratio(connected, attempted), "abandonRate": ratio(abandoned, connected),
        "talkSeconds": talk, "avgTalkSeconds": avg_talk, "holdSeconds": hold, "avgHoldSeconds": avg_hold,
        "acwSeconds": acw, "avgAcwSeconds": avg_acw, "handleSeconds": handle, "avgHandleSeconds": avg_handle,
        "validationFlags": flags,
        "metrics": [{"metric": name, "stats": stats[name]} for name in sorted(stats)],
    }


class FlowOutcomesStream(IntervalAggregateStream):
    """Long format: one row per flow, outcome, outcome value and bucket."""

    name = "flow_outcomes"
    primary_keys = ("flowId", "flowOutcomeId", "flowOutcomeValue", "intervalStart", "intervalEnd")
    aggregates_path = "/api/v2/analytics/flows/aggregates"
    metrics = ("nFlowOutcome", "nFlowOutcomeFailed", "tFlowOutcome")
    # flowName is grouped on only to name the flow; groups that differ by name alone are merged.
    group_by = ("flowId", "flowName", "flowOutcomeId", "flowOutcomeValue")
    definitions_path = "/api/v2/flows/outcomes"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: ANN401
        super().__init__(*args, **kwargs)
        self._outcome_names: dict[str, str | None] = {}
        self._warned: set[str] = set()

    def before_sync(self) -> None:
        self._outcome_names = {o["id"]: o.get("name") for o in self.lookups.flow_outcome_definitions()}

    ids_setting = "flow_ids"

    def query_filter(self, ids: t.Sequence[str] | None = None) -> dict:
        exists = filters.exists("flowOutcomeId")
        flow_ids = ids or self.config.get("flow_ids")
        if not flow_ids:
            return filters.all_of(exists)
        return filters.all_of(exists, clauses=[filters.any_of("flowId", flow_ids)])

    def build_records(self, buckets: dict[tuple, dict[str, dict]], granularity: str,
                      tz: str = local_time.DEFAULT_ZONE) -> t.Iterable[dict]:
        merged: dict[tuple, dict] = {}
        for (group, interval), stats in buckets.items():
            g = dict(group)
            # an absent key dimension (a group without flowOutcomeValue, say) becomes UNKNOWN, flagged below
            key = (g.get("flowId") or KEY_SENTINEL, g.get("flowOutcomeId") or KEY_SENTINEL,
                   g.get("flowOutcomeValue") or KEY_SENTINEL, interval)
            row = merged.setdefault(key, {"stats": {}, "names": {}, "missing": set()})
            row["missing"].update(k for k in ("flowId", "flowOutcomeId", "flowOutcomeValue") if not g.get(k))
            merge_metrics(row["stats"], [{"metric": m, "stats": s} for m, s in stats.items()])
            name = g.get("flowName")
            if name:
                row["names"][name] = row["names"].get(name, 0) + _count(stats, "nFlowOutcome")
        totals: dict[tuple, int] = {}
        for (flow_id, _, _, interval), row in merged.items():
            totals[(flow_id, interval)] = totals.get((flow_id, interval), 0) + _count(row["stats"], "nFlowOutcome")
        rows = []
        for (flow_id, outcome_id, value, interval), row in merged.items():
            stats = row["stats"]
            count = _count(stats, "nFlowOutcome")
            total = totals[(flow_id, interval)]
            _, avg = _seconds(stats, "tFlowOutcome")
            rows.append(fill_key_fields({
                "flowId": None if "flowId" in row["missing"] else flow_id,
                # the name carried by most outcomes of the bucket (a flow renamed within it has two)
                "flowName": max(row["names"], key=lambda n: (row["names"][n], n)) if row["names"] else None,
                "flowOutcomeId": None if "flowOutcomeId" in row["missing"] else outcome_id,
                "flowOutcomeName": None if "flowOutcomeId" in row["missing"] else self._outcome_name(outcome_id),
                "flowOutcomeValue": None if "flowOutcomeValue" in row["missing"] else value,
                **_interval_fields(interval, granularity, tz),
                "count": count, "failedCount": _count(stats, "nFlowOutcomeFailed"), "avgOutcomeSeconds": avg,
                "percentOfFlowTotal": round(count / total, 6) if total else None,
            }, self.primary_keys))
        return sorted(rows, key=lambda r: (parse_timestamp(r["intervalStart"]), r["flowId"], r["flowOutcomeId"],
                                           r["flowOutcomeValue"]))

    def _outcome_name(self, outcome_id: str) -> str | None:
        if outcome_id in self._outcome_names:
            return self._outcome_names[outcome_id]
        if outcome_id not in self._warned:
            self._warned.add(outcome_id)
            self.logger.warning("%s: flow outcome %s is not in %s (deleted?); its rows keep the id with a null "
                                "name", self.name, outcome_id, self.definitions_path)
        return None
