"""Campaign live state: `campaign_stats` (a snapshot per run) and `campaign_status_history`.

`campaign_stats` joins three live views per campaign (genesys-api.md 2.2), none of which has
history, so every run appends one row per campaign stamped with the run's `snapshotAt`:
* `POST /api/v2/outbound/campaigns/performance/query`, at most 50 ids per request: status,
  dialing mode, idle agents, outstanding/scheduled calls, lines, business categories, progress %;
* `GET /api/v2/outbound/campaigns/{id}/stats`: the contact rate's attempts and connects (the
  performance query only has the ratio) and the remaining counters;
* `POST /api/v2/outbound/campaigns/progress` (bare array of ids, batched by 50 too): contacts
  called and total.

`campaign_status_history` reads `GET /api/v2/outbound/diagnostics/campaigns/{id}/summary` per
campaign for the closed range `[max(start_date, bookmark - lookback), closed edge)` in windows
of at most 31 days (the endpoint's maximum range is [unverified]); each status interval and each
health interval is a record. The bookmark moves to a window's end once every campaign has been
read for it.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from singer_sdk.helpers.types import Context

from tap_genesys_outbound.adaptive_limits import (
    IDS,
    INTERVAL,
    MIN_BATCH,
    batches,
    describe_span,
    halve_count,
    halve_span,
    limit_kind,
    split_window,
)
from tap_genesys_outbound.errors import GenesysAPIError
from tap_genesys_outbound.prefetch import ordered_reads
from tap_genesys_outbound.streams.base import GenesysStream, fill_key_fields
from tap_genesys_outbound.streams.interval_stats import ratio
from tap_genesys_outbound.streams.windowed import WindowedStream
from tap_genesys_outbound.windows import Window, iso_z, parse_timestamp, split_at_midnights

CAMPAIGNS_PATH = "/api/v2/outbound/campaigns"
PERFORMANCE_PATH = f"{CAMPAIGNS_PATH}/performance/query"
PROGRESS_PATH = f"{CAMPAIGNS_PATH}/progress"
DIAGNOSTICS_PATH = "/api/v2/outbound/diagnostics/campaigns"
# Starting points, halved on a 400 naming the limit (adaptive_limits, README "Limits the tap adapts to").
PERFORMANCE_BATCH = 50  # documented maximum of the performance query
DIAGNOSTICS_WINDOW_DAYS = 31
DIAGNOSTICS_WINDOW = dt.timedelta(days=DIAGNOSTICS_WINDOW_DAYS)


class CampaignScopedStream(GenesysStream):
    """A stream that reads per campaign: `campaign_ids` when set, else every campaign of the org."""

    def campaigns(self) -> list[dict]:
        """The `Campaign` objects to read (the shared lookup), in listing order."""
        wanted = self.config.get("campaign_ids")
        found = self.lookups.campaigns()
        missing = sorted(set(wanted or ()) - {c["id"] for c in found})
        if missing:
            self.logger.warning("%s: campaign_ids not found (deleted or not visible to the OAuth client): %s",
                                self.name, ", ".join(missing))
        return found


class CampaignStatsStream(CampaignScopedStream):
    """One snapshot row per campaign per run; append-only, key (campaignId, snapshotAt)."""

    name = "campaign_stats"
    primary_keys = ("campaignId", "snapshotAt")
    replication_key = None
    # Never ACTIVATE_VERSION: targets would delete the earlier snapshots, which are this stream's history.
    emit_activate_version_messages = False

    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        snapshot_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        campaigns = self.campaigns()
        by_id = {c["id"]: c for c in campaigns}
        for batch in batches(list(by_id), self.limits.get(PERFORMANCE_PATH, PERFORMANCE_BATCH)):
            performance = {(e.get("campaign") or {}).get("id"): e for e in self._performance(batch)}
            progress = {(p.get("campaign") or {}).get("id"): p for p in self._progress(batch)}
            for campaign_id in batch:
                stats = self._stats(campaign_id)
                if campaign_id not in performance and stats is None:
                    self.logger.warning("%s: no live data for campaign %s; skipped", self.name, campaign_id)
                    continue
                yield fill_key_fields(snapshot_record(by_id[campaign_id], snapshot_at, performance.get(campaign_id),
                                                      stats, progress.get(campaign_id)), self.primary_keys)

    def _performance(self, batch: list[str]) -> list[dict]:
        """Performance entities of a batch; a 400 naming the ids per request halves the batches (down to 1)."""
        try:
            return self.api.post_json(PERFORMANCE_PATH, batch).get("entities") or []
        except GenesysAPIError as exc:
            if limit_kind(exc) != IDS:
                raise
            smaller = halve_count(len(batch), MIN_BATCH)
            self.limits.shrink(PERFORMANCE_PATH, len(batch), smaller, exc, self.logger,
                               f"{self.name}: performance query", f"asking for {smaller} campaigns per request "
                               "from now on")
            return [entity for part in batches(batch, smaller) for entity in self._performance(part)]

    def _progress(self, batch: list[str]) -> list[dict]:
        body = self.api.post_json(PROGRESS_PATH, batch)  # a bare array (genesys-api.md 2.2)
        return body if isinstance(body, list) else body.get("entities") or []

    def _stats(self, campaign_id: str) -> dict | None:
        try:
            return self.api.get_json(f"{CAMPAIGNS_PATH}/{campaign_id}/stats")
        except GenesysAPIError as exc:
            if exc.status != 404:
                raise
            return None


def snapshot_record(campaign: dict, snapshot_at: str, performance: dict | None, stats: dict | None,
                    progress: dict | None) -> dict:
    """A campaign_stats row; performance wins where both views carry a field (it is the batch snapshot).

    The performance query's `division` is a bare reference (id only, genesys-api.md section 9): the
    division's name comes from the campaign's own `division` reference in the campaigns listing.
    """
    perf, stats, prog = performance or {}, stats or {}, progress or {}
    campaign_id, division = campaign["id"], campaign.get("division") or {}

    def pick(field: str) -> t.Any:  # noqa: ANN401
        return perf.get(field, stats.get(field))

    contact_rate = stats.get("contactRate") or {}
    lines = perf.get("linesUtilization") or stats.get("linesUtilization") or {}
    business = perf.get("businessCategoryMetrics") or stats.get("businessCategoryMetrics") or {}
    attempts, connects = contact_rate.get("attempts"), contact_rate.get("connects")
    assigned, available = lines.get("assignedOutboundLines"), lines.get("totalAvailableOutboundLines")
    percentage = (perf.get("progress") or {}).get("percentage", prog.get("percentage"))
    return {
        "campaignId": campaign_id, "snapshotAt": snapshot_at,
        "campaignName": (perf.get("campaign") or {}).get("name") or campaign.get("name"),
        "divisionId": (perf.get("division") or {}).get("id") or division.get("id"),
        "divisionName": division.get("name"),
        "campaignStatus": perf.get("campaignStatus"), "dialingMode": perf.get("dialingMode"),
        "contactAttempts": attempts, "contactConnects": connects,
        "connectRatio": (perf.get("contactRate") or {}).get("connectRatio", contact_rate.get("connectRatio")),
        "connectRate": ratio(connects, attempts) if attempts is not None and connects is not None else None,
        "idleAgents": pick("idleAgents"), "effectiveIdleAgents": pick("effectiveIdleAgents"),
        "adjustedCallsPerAgent": pick("adjustedCallsPerAgent"), "outstandingCalls": pick("outstandingCalls"),
        "scheduledCalls": pick("scheduledCalls"), "timeZoneRescheduledCalls": stats.get("timeZoneRescheduledCalls"),
        "filteredOutContactsCount": stats.get("filteredOutContactsCount"),
        "rightPartyContactsCount": pick("rightPartyContactsCount"), "validAttempts": stats.get("validAttempts"),
        "assignedOutboundLines": assigned, "totalAvailableOutboundLines": available,
        "linesUtilization": ratio(assigned, available) if assigned is not None and available else None,
        "businessSuccessCount": business.get("successCount"), "businessNeutralCount": business.get("neutralCount"),
        "businessFailureCount": business.get("failureCount"),
        "progressPercentage": percentage, "contactsCalled": prog.get("numberOfContactsCalled"),
        "contactsMessaged": prog.get("numberOfContactsMessaged"), "totalContacts": prog.get("totalNumberOfContacts"),
        "contactsSkipped": prog.get("numberOfContactsSkipped"),
        "sources": [name for name, view in (("performance", performance), ("stats", stats or None),
                                            ("progress", progress)) if view],
    }


class CampaignStatusHistoryStream(CampaignScopedStream, WindowedStream):
    """Status and health intervals per campaign, incremental on `dateStart` with lookback."""

    name = "campaign_status_history"
    primary_keys = ("campaignId", "kind", "state", "dateStart")
    replication_key = "dateStart"

    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        to_read = self.range_to_read(context)
        if to_read is None:
            return
        campaigns = self.campaigns()
        windows = split_at_midnights(to_read, DIAGNOSTICS_WINDOW_DAYS)
        if not campaigns:  # nothing to read: every window is complete as it stands
            for window in windows:
                self.complete_window(window, context)
            return
        requests = [(window, campaign["id"]) for window in windows for campaign in campaigns]
        reads = ordered_reads(requests, lambda request: [list(self._read(request[1], request[0]))],
                              lanes=self.api.max_in_flight)
        seen: set[tuple] = set()  # an interval spanning two windows is emitted once per run
        for (window, campaign_id), summaries in reads:  # in (window, campaign) order
            for records in summaries:
                for record in records:
                    key = tuple(record[k] for k in self.primary_keys)
                    if key not in seen:
                        seen.add(key)
                        yield record
            if campaign_id == campaigns[-1]["id"]:  # the window's last campaign: the window is complete
                self.complete_window(window, context)

    def _read(self, campaign_id: str, window: Window) -> t.Iterator[dict]:
        """One campaign's intervals in `window`, in as many requests as the summary's range allows.

        An interval spanning two requests comes back from both: `generate_records` emits it once.
        """
        span = self.limits.get(DIAGNOSTICS_PATH, DIAGNOSTICS_WINDOW)
        if window.end - window.start > span:
            for piece in split_window(window, span):
                yield from self._read(campaign_id, piece)
            return
        try:
            summary = self.api.get_json(f"{DIAGNOSTICS_PATH}/{campaign_id}/summary",
                                        {"start": iso_z(window.start), "end": iso_z(window.end)})
        except GenesysAPIError as exc:
            if limit_kind(exc) == INTERVAL:
                smaller = halve_span(window.end - window.start)
                self.limits.shrink(DIAGNOSTICS_PATH, window.end - window.start, smaller, exc, self.logger,
                                   f"{self.name}: diagnostics summary",
                                   f"reading {describe_span(smaller) if smaller else ''} ranges from now on")
                yield from self._read(campaign_id, window)
                return
            if exc.status != 404:
                raise
            self.logger.warning("%s: campaign %s has no diagnostics (404); skipped", self.name, campaign_id)
            return
        for kind, items in (("status", summary.get("campaignStates")), ("health", summary.get("campaignHealthStates"))):
            for item in items or ():
                if not isinstance(item, dict) or not item.get("dateStart"):
                    # no start: neither a key nor a place in time; counted, logged, named in the summary
                    self.unkeyed.add(f"{kind} intervals without a dateStart")
                    self.logger.warning("%s: a %s interval of campaign %s without a dateStart cannot be keyed; "
                                        "not emitted (%r)", self.name, kind, campaign_id, item)
                    continue
                yield fill_key_fields(status_record(campaign_id, kind, item), self.primary_keys)


def status_record(campaign_id: str, kind: str, item: dict) -> dict:
    end, state = item.get("dateEnd"), item.get("state")
    return {
        "campaignId": campaign_id, "kind": kind, "state": state,
        "campaignStatus": state if kind == "status" else None,
        "healthState": state if kind == "health" else None,
        "dialingMode": item.get("dialingMode"),
        "dateStart": parse_timestamp(item["dateStart"]).isoformat(),
        "dateEnd": parse_timestamp(end).isoformat() if end else None,
        "isOpen": end is None,
    }
