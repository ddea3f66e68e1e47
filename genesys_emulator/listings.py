"""Entity listings, the wrap-up code mapping and campaign live state (genesys-api.md 2, 3, 6.2).

- Listing envelopes always carry every key; previousUri/nextUri are null at the ends. Filters:
  `id` (comma-joined and/or repeated), `name` (filterType Prefix by default, case-insensitive),
  `divisionId`; `sortBy` any item field with `sortOrder` ascending/descending. Default order:
  campaigns and flow outcomes as created, wrap-up codes, response sets, contact lists, DNC lists and
  users by name, dialer events newest first (sortBy=timestamp&sortOrder=ascending reverses them).
  Equality filters (case-insensitive, lists allowed): events `category`, `level`; DNC lists
  `dncSourceType`; users `state` (`any`: every state).
- Campaign live state is drawn per campaign (Dataset.campaign_live) except the contact-rate attempts
  and connects, which count the campaign's conversations. performance/query takes at most 50 ids
  (400 beyond); progress takes a bare array and answers a bare array; unknown ids are left out.
  connectRatio is in percent [unverified]. The diagnostics summary needs start and end and returns
  the status and health intervals overlapping them, unclipped; the current ones have no dateEnd.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from .dataset import DAY_MS, iso, to_ms
from .protocol import ApiError, int_param, last_param, list_param, parse_json

CAMPAIGNS = "/api/v2/outbound/campaigns"
MAX_PAGE_SIZE, MAX_PERFORMANCE_IDS = 100, 50
# path -> (Dataset attribute, default order by name, fields filtered by equality)
LISTINGS = {CAMPAIGNS: ("campaigns", False, ()),
            "/api/v2/routing/wrapupcodes": ("wrapup_codes", True, ()),
            "/api/v2/outbound/callanalysisresponsesets": ("response_sets", True, ()),
            "/api/v2/flows/outcomes": ("flow_outcomes", False, ()),
            "/api/v2/outbound/contactlists": ("contact_lists", True, ()),
            "/api/v2/outbound/dnclists": ("dnc_lists", True, ("dncSourceType",)),
            "/api/v2/outbound/events": ("events", False, ("category", "level")),
            "/api/v2/users": ("directory_users", True, ("state",))}


def filter_items(items: list[dict], query: dict, fields=()) -> list[dict]:
    for name in fields:                                 # e.g. events' category and level, case-insensitive
        wanted = {v.lower() for v in list_param(query, name)}
        if wanted and not (name == "state" and "any" in wanted):   # users: state=any lists every state
            items = [i for i in items if str(i.get(name, "")).lower() in wanted]
    ids, divisions = list_param(query, "id"), list_param(query, "divisionId")
    if ids:
        items = [i for i in items if i["id"] in ids]
    if divisions:
        items = [i for i in items if i.get("division", {}).get("id") in divisions]
    name = last_param(query, "name", "").lower()
    if name:
        kind = last_param(query, "filterType", "Prefix").lower()
        test = {"equals": str.__eq__, "contains": lambda a, b: b in a}.get(kind, str.startswith)
        items = [i for i in items if test(i["name"].lower(), name)]
    sort_by = last_param(query, "sortBy", "")
    if sort_by:
        descending = last_param(query, "sortOrder", "asc").lower().startswith("desc")
        items = sorted(items, key=lambda i: str(i.get(sort_by, "")).lower(), reverse=descending)
    return items


def entity_listing(path: str, items: list[dict], query: dict) -> dict:
    """One page of the EntityListing envelope over already filtered `items`."""
    size = int_param(query, "pageSize", 25, MAX_PAGE_SIZE)
    number = int_param(query, "pageNumber", 1, None)
    total = len(items)
    count = math.ceil(total / size)
    base = [(k, v) for k, vs in query.items() if k not in ("pageSize", "pageNumber") for v in vs]

    def uri(n: int) -> str:
        return f"{path}?{urlencode([*base, ('pageSize', size), ('pageNumber', n)])}"
    return {"entities": items[(number - 1) * size: number * size], "pageSize": size,
            "pageNumber": number, "total": total, "pageCount": count, "firstUri": uri(1),
            "previousUri": uri(number - 1) if number > 1 else None,
            "nextUri": uri(number + 1) if number < count else None,
            "lastUri": uri(max(count, 1)), "selfUri": uri(number)}


class Listings:
    """Route handlers of the reference listings and the campaign live-state endpoints."""

    def __init__(self, api):
        self.api = api

    @property
    def dataset(self):
        return self.api.dataset

    def routes(self) -> list:
        return [*[("GET", path, self.listing) for path in LISTINGS],
                ("GET", "/api/v2/outbound/wrapupcodemappings", lambda **_: self.dataset.wrapup_mapping),
                ("POST", CAMPAIGNS + "/performance/query", self.performance),
                ("POST", CAMPAIGNS + "/progress", self.progress_bulk),
                ("GET", CAMPAIGNS + "/(?P<id>[^/]+)/stats", self.campaign_stats),
                ("GET", CAMPAIGNS + "/(?P<id>[^/]+)/progress", self.campaign_progress),
                ("GET", "/api/v2/outbound/diagnostics/campaigns/(?P<id>[^/]+)/summary", self.diagnostics_summary)]

    def listing(self, path: str, query: dict, **_) -> dict:
        attribute, by_name, fields = LISTINGS[path]
        items = getattr(self.dataset, attribute)
        items = sorted(items, key=lambda i: i["name"].lower()) if by_name else items
        page = entity_listing(path, filter_items(items, query, fields), query)
        if self.api.faults.take("empty_page", path) is not None:
            page["entities"] = []              # the envelope still says there is more
        return page

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

    def campaign_stats(self, id, **_):
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

    def campaign_progress(self, id, **_):
        return self._progress(self._campaign(id))

    @staticmethod
    def _campaign_ids_body(body) -> list[str]:
        ids = parse_json(body)
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, "The request body must be a JSON array of campaign ids")
        return ids

    def progress_bulk(self, body, **_):
        ids = set(self._campaign_ids_body(body))
        return [self._progress(c) for c in self.dataset.campaigns if c["id"] in ids]

    def performance(self, body, **_):
        """connectRatio in percent like the campaign's abandonRate [unverified]; progress.percentage a float."""
        ids = self._campaign_ids_body(body)
        self.api.faults.current_limits.enforce("performance_max_ids", len(ids), MAX_PERFORMANCE_IDS)
        ids = set(ids)
        entities = []
        for c in self.dataset.campaigns:
            if c["id"] not in ids:
                continue
            stats, progress = self.campaign_stats(c["id"]), self._progress(c)
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

    def diagnostics_summary(self, id, query, **_):
        """Status and health intervals overlapping [start, end) (unclipped; the current ones have no dateEnd)."""
        campaign = self._campaign(id)
        try:
            start, end = to_ms(last_param(query, "start", "")), to_ms(last_param(query, "end", ""))
        except (ValueError, TypeError):
            raise ApiError(400, "start and end are required ISO-8601 date-times") from None
        if end <= start:
            raise ApiError(400, "end must be after start")
        self.api.faults.current_limits.enforce("diagnostics_max_days", (end - start) / DAY_MS)
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
