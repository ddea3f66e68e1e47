"""Deterministic synthetic Genesys Cloud outbound org: pure data, no HTTP.

Why it is built this way:
- One outbound dial attempt = one analytics conversation (genesys-api.md section 4). Generation
  only draws cheap *facts* per conversation (`Attempt`: start, durations, outcome kind, agent,
  wrap-up code); the AnalyticsConversation JSON is rendered lazily on first use and cached, so
  50,000 attempts generate in about a second.
- Attempts are indexed by UTC day, so a details query (UTC-day matching) costs O(days), not O(all).
- Dialing follows America/New_York business hours (08:00-21:00 local), so the UTC distribution
  shifts by one hour across DST changes (2026-03-08 with the default anchor and 30 days).
- The share of attempts a live person answers follows a daily cycle in New York local time
  (ANSWER_CYCLE: lower mid-morning, higher early evening) with per-campaign swing and day-level noise,
  so the answer-rate forecast (examples/forecast.py) has a shape to find.
- The data's clock is frozen at `anchor`: calls still running then have no conversationEnd.

Shape decisions where the reference is silent or [unverified]:
- The dialer participant has purpose "outbound" (participantName = campaign name). Its single
  voice session carries outboundCampaignId / ContactListId / ContactId, dispositionAnalyzer,
  dispositionName and the metrics nOutbound, nOutboundAttempted, nOutboundConnected,
  nOutboundAbandoned, nError, tDialing, tContacting. No other session has outboundCampaignId.
- Agent-chosen wrap-up codes sit on the agent session's `wrapup` segment (as the code id).
  Dialer-assigned system codes (ININ-OUTBOUND-*) sit on the dialer session's last segment; their
  ids equal their names (the literal strings seen in real analytics) and /routing/wrapupcodes
  lists them. One business code id is used by agents and mapped but is not listed (deleted).
- Agent sessions carry tAlert, tTalk, tTalkComplete, tHeld (if held), tAcw, tHandle (ms); the
  disconnectType of an agent sits on its last interact segment, the dialer's on its last segment.
- Which participant carries which metric (genesys-api.md 9: undocumented, and the same name can sit
  on two sessions): dialer ("outbound") session: nOutbound, nOutboundAttempted, nOutboundConnected,
  nOutboundAbandoned, nError, tDialing, tContacting; agent session: tAlert, tTalk, tTalkComplete,
  tHeld, tAcw, tHandle; customer session: nothing, except in about 5 % of the finished agent calls
  (`mirrors_talk`, chosen from the attempt's seed) where it repeats the agent's tTalk and tHandle with
  the same values. Summing a metric over every session double-counts those; aggregates count each
  metric once per conversation.
- Entity fields that would be null are omitted, as Genesys does.
- Flow outcomes are facts derived from the conversations without changing their JSON: agentless
  calls transferred to the "Outbound IVR Flow" (the transfer_flow reaction's flow) reach 1-2
  outcomes, sometimes `deleted_flow_outcome_id` (not listed by /flows/outcomes); one finished agent
  call in five runs a "Post-Call Survey" flow. Flows, the deleted outcome and each campaign's live
  state and diagnostics timeline come from their own seeded RNGs, so adding them changed nothing else.
- Contact lists, DNC lists, dialer events and users (`_build_directory`) also have their own RNG and
  are derived from what exists: one contact list per campaign (the ids the campaigns and conversations
  carry) except the never-dialled last campaign's, whose error says it was deleted; the two DNC lists
  the campaigns reference; one user per agent (every conversation userId) plus three supervisors
  (their managers); dialer events at every campaign status change and unhealthy health state inside
  the data's days, plus one CONTACT/CALL_RULE/DNC_LIST event per dialled campaign and day.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE_MS, HOUR_MS, DAY_MS = 60_000, 3_600_000, 86_400_000


@dataclass
class EmulatorConfig:
    seed: int = 42
    campaigns: int = 12
    attempts: int = 5000
    days: int = 30
    anchor: str = "2026-03-20T00:00:00Z"
    inbound: int | None = None          # non-outbound conversations; None = attempts // 20
    host: str = "127.0.0.1"
    port: int = 0
    client_id: str = "emulator-client"
    client_secret: str = "emulator-secret"
    token_ttl: float = 86399
    availability_lag_hours: float = 24
    job_polls_to_fulfill: int = 2
    max_results: int = 100_000          # details query cap on pageNumber * pageSize (lower it in tests)
    latency_ms: float = 0               # server time per /api/v2 request (faults.latency changes it live)
    latency_jitter: float = 0.2         # +-20 % of latency_ms, drawn from a seeded RNG


def to_ms(value) -> int:
    """ISO-8601 string with an offset (or Z), aware datetime, or epoch ms -> epoch ms."""
    if isinstance(value, int):
        return value
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    if dt.tzinfo is None:
        raise ValueError(f"timestamp without a timezone: {value}")
    return (dt - EPOCH) // timedelta(milliseconds=1)


def iso(ms: int) -> str:
    """Epoch ms -> 'YYYY-MM-DDTHH:MM:SS.mmmZ' (hot path of rendering, hence the day cache)."""
    day, rest = divmod(ms, DAY_MS)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = _DAY_PREFIX[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86400))
    h, rest = divmod(rest, HOUR_MS)
    m, rest = divmod(rest, MINUTE_MS)
    return f"{prefix}{h:02d}:{m:02d}:{rest // 1000:02d}.{rest % 1000:03d}Z"


_DAY_PREFIX: dict[int, str] = {}


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Outcome(NamedTuple):
    disposition: str | None   # dispositionName without the "disposition.classification." prefix
    analyzer: str | None
    attempted: bool           # a dial was placed (nOutboundAttempted, tDialing)
    customer: bool            # the dialled party has a session (tContacting)
    connected: bool           # a live person answered (nOutboundConnected)
    agent: bool               # an agent participant exists
    system_code: str | None   # wrap-up the dialer writes on its own last segment
    disconnect: str           # disconnectType of the dialer session's last segment
    contact_ms: tuple[int, int] = (0, 0)


_O = Outcome
OUTCOMES: dict[str, Outcome] = {
    "agent": _O("callable.person", "speech.person", True, True, True, True, None, "transfer", (3000, 12000)),
    "abandoned": _O("callable.person", "speech.person", True, True, True, False, None, "peer", (3000, 12000)),
    "transferred": _O("callable.person", "speech.person", True, True, True, False,
                      "ININ-OUTBOUND-TRANSFERRED-TO-QUEUE", "transfer", (3000, 12000)),
    "machine": _O("callable.machine", "speech.machine", True, True, False, False, None, "system", (4000, 15000)),
    "noanswer": _O("callable.noanswer", "q850.19", True, True, False, False, None, "timeout", (20000, 30000)),
    "busy": _O("callable.busy", "q850.17", True, True, False, False, None, "peer", (1500, 6000)),
    "fax": _O("callable.fax", "tone.fax", True, True, False, False, None, "system", (3000, 8000)),
    "sit_callable": _O("callable.sit", "tone.sit", True, True, False, False, None, "peer", (1500, 5000)),
    "disconnect": _O("callable.disconnect", "q850.16", True, True, False, False, None, "peer", (1000, 8000)),
    "sit_uncallable": _O("uncallable.sit", "tone.sit", True, True, False, False,
                         "ININ-OUTBOUND-SIT-UNCALLABLE", "uncallable", (1500, 5000)),
    "not_found": _O("uncallable.notfound", "q850.1", True, True, False, False, None, "uncallable", (500, 3000)),
    "invalid_number": _O(None, None, False, False, False, False, "ININ-OUTBOUND-INVALID-PHONE-NUMBER", "uncallable"),
    "dnc_list": _O(None, None, False, False, False, False, "ININ-OUTBOUND-ON-DO-NOT-CALL-LIST", "system"),
    "dnc_skipped": _O(None, None, False, False, False, False, "ININ-OUTBOUND-DNC-SKIPPED", "system"),
    "dnc_auth_failed": _O(None, None, False, False, False, False, "ININ-OUTBOUND-DNC-AUTHENTICATION-FAILED", "error"),
    "preview_skipped": _O(None, None, False, False, False, True, "ININ-OUTBOUND-PREVIEW-SKIPPED", "client"),
    "error": _O(None, None, True, False, False, False, None, "error"),
    "no_media": _O(None, None, False, False, False, False, None, "system"),   # specials only
}
BASE_WEIGHTS = {"agent": 28, "abandoned": 3, "machine": 14, "noanswer": 20, "busy": 8, "fax": 1,
                "sit_callable": 2, "disconnect": 2, "sit_uncallable": 2, "not_found": 2,
                "invalid_number": 2, "dnc_list": 3, "dnc_skipped": 1, "dnc_auth_failed": 1, "error": 1}
# The daily answer-rate cycle (issue 14: something worth forecasting): a multiplier on the weights of the outcomes
# where a live person answers (agent, abandoned, transferred), by New York local hour of the attempt's start.
# Lower mid-morning, higher early evening; each campaign scales the swing (0.7-1.3) and each campaign-day moves
# its level by up to +-8 %, both from RNGs of their own, so the main RNG draws (starts, counts per day) are unchanged.
ANSWER_CYCLE = {8: 0.85, 9: 0.75, 10: 0.65, 11: 0.7, 12: 0.85, 13: 0.95, 14: 0.9, 15: 0.95, 16: 1.05, 17: 1.25,
                18: 1.45, 19: 1.5, 20: 1.3}
LIVE_PERSON_KINDS = ("agent", "abandoned", "transferred")
DIALING_MODES = ["predictive", "power", "preview", "progressive", "agentless", "predictive"]
STATUSES = ["on", "on", "on", "off", "on", "complete", "on", "stopping", "on", "forced_off"]
THEMES = ["Spring Renewals", "Collections", "Win-back", "Survey", "Appointment Reminders",
          "Upsell", "Welcome Calls", "Past Due", "Lead Follow-up", "Retention"]
BUSINESS_CODES = ["Sale", "Not Interested", "Callback Requested", "Wrong Number", "Left Voicemail",
                  "Do Not Call Request", "Already Customer", "Payment Arranged", "Promise to Pay",
                  "Information Sent", "Language Barrier", "Deceased", "Hostile Caller",
                  "Transferred to Supervisor", "Follow Up Email", "Appointment Set",
                  "Survey Completed", "Escalated", "Price Objection", "Competitor Offer",
                  "Technical Issue", "Requested Removal", "Moved Away", "No Decision Maker",
                  "Busy - Call Back Later"]
SYSTEM_CODES = ["ININ-OUTBOUND-PREVIEW-ERROR-PHONE-NUMBER", "ININ-OUTBOUND-PREVIEW-SKIPPED",
                "ININ-OUTBOUND-INVALID-PHONE-NUMBER", "ININ-OUTBOUND-ON-DO-NOT-CALL-LIST",
                "ININ-OUTBOUND-DNC-AUTHENTICATION-FAILED", "ININ-OUTBOUND-DNC-SKIPPED",
                "ININ-OUTBOUND-SIT-UNCALLABLE", "ININ-OUTBOUND-TRANSFERRED-TO-QUEUE",
                "ININ-OUTBOUND-TRANSFERRED-TO-FLOW"]
# Flags deliberately in mixed case (genesys-api.md 3.2: normalise case). Absent codes use defaultSet.
MAPPING_FLAGS = {"Sale": ["Right_Party_Contact", "Business_Success"],
                 "Not Interested": ["RIGHT_PARTY_CONTACT", "business_failure"],
                 "Callback Requested": ["Right_Party_Contact", "BUSINESS_NEUTRAL"],
                 "Wrong Number": ["NUMBER_UNCALLABLE"], "Deceased": ["contact_uncallable"],
                 "Do Not Call Request": ["Contact_Uncallable", "Right_Party_Contact"],
                 "Payment Arranged": ["right_party_contact", "Business_Success"],
                 "Appointment Set": ["Right_Party_Contact", "BUSINESS_SUCCESS"],
                 "Price Objection": ["Right_Party_Contact", "Business_Failure"],
                 "ININ-OUTBOUND-SIT-UNCALLABLE": ["NUMBER_UNCALLABLE"],
                 "ININ-OUTBOUND-ON-DO-NOT-CALL-LIST": ["Contact_Uncallable"]}
RESPONSE_KEYS = ["callable.lineconnected", "callable.person", "callable.busy", "callable.noanswer",
                 "callable.fax", "callable.disconnect", "callable.machine", "callable.sit",
                 "uncallable.sit", "uncallable.notfound"]
FLOW_OUTCOMES = ["Payment Collected", "Appointment Booked", "Opt Out", "Survey Complete", "Transfer To Agent"]
CAMPAIGN_HEALTH_STATES = ["healthy", "WaitingForAgents", "WaitingForContacts", "WaitingForLines", "WarnThresholdCPS",
                          "WarnMaxCPAalarm"]


class FlowObservation(NamedTuple):
    """One flow outcome reached during a conversation (flows aggregates count these)."""
    conversation_start: int
    flow: int                  # index into Dataset.flows
    outcome_id: str
    value: str                 # SUCCESS or FAILURE
    duration_ms: int
    campaign: int


@dataclass(slots=True)
class Attempt:
    """The drawn facts of one conversation; everything else is derived when rendering."""
    conversation_id: str
    start: int                 # epoch ms
    kind: str                  # key of OUTCOMES, or "inbound"
    campaign: int              # index into Dataset.campaigns, -1 for inbound
    agent: int                 # index into Dataset.users
    wrapup: str                # wrap-up code id the agent picks
    dial_ms: int
    contact_ms: int
    alert_ms: int
    talk_ms: int
    hold_ms: int
    acw_ms: int
    seed: int                  # seeds the renderer (ids, phone numbers)
    end: int | None = None     # None while the call is active; < start for clock-skew rows
    doc: dict | None = None    # rendered cache

    @property
    def connect_at(self) -> int:
        return self.start + self.dial_ms + self.contact_ms

    @property
    def talk_end(self) -> int:
        return self.connect_at + self.alert_ms + self.talk_ms + self.hold_ms

    @property
    def mirrors_talk(self) -> bool:
        """The customer session repeats the agent's tTalk and tHandle (a finished agent call in 20)."""
        return self.kind == "agent" and self.end is not None and (self.seed >> 4) % 20 == 0

    def natural_end(self) -> int:
        if self.kind in ("agent", "inbound"):
            return self.talk_end + self.acw_ms
        if self.kind in ("abandoned", "transferred"):
            return self.connect_at + self.alert_ms
        if self.kind == "preview_skipped":
            return self.start + self.alert_ms
        return self.connect_at


def _seg(kind: str, start: int, end: int | None, **extra) -> dict:
    seg = {"segmentStart": iso(start)}
    if end is not None:
        seg["segmentEnd"] = iso(end)
    seg["segmentType"] = kind
    seg.update((k, v) for k, v in extra.items() if v is not None)
    return seg


def _metrics(pairs, emit_ms: int) -> list[dict]:
    return [{"name": n, "value": v, "emitDate": iso(emit_ms)} for n, v in pairs]


class Dataset:
    """Reference entities (API shapes) plus the indexed conversation store."""

    def __init__(self, config: EmulatorConfig):
        self.config = config
        self.anchor_ms = to_ms(config.anchor)
        self.start_ms = self.anchor_ms - config.days * DAY_MS
        self.version = 0               # bumped on every mutation (invalidates query caches)
        self._lock = threading.RLock()
        self._by_day: dict[int, list[Attempt]] = {}
        self._active: list[Attempt] = []
        self._added_batches = 0

    # ---------------------------------------------------------------- generation
    @classmethod
    def generate(cls, config: EmulatorConfig | None = None) -> Dataset:
        ds = cls(config or EmulatorConfig())
        rng = random.Random(ds.config.seed)
        ds._build_reference(rng)
        ds._build_conversations(rng)
        ds._build_flows()
        ds._build_directory()
        return ds

    def _past(self, rng, lo_days=100, hi_days=400) -> str:
        return iso(self.anchor_ms - rng.randint(lo_days * DAY_MS, hi_days * DAY_MS))

    def _build_reference(self, rng: random.Random) -> None:
        def ref(name, uri):
            i = _uid(rng)
            return {"id": i, "name": name, "selfUri": f"/api/v2/{uri}/{i}"}
        self.divisions = [ref("Home", "authorization/divisions"), ref("Outbound Sales", "authorization/divisions")]
        self.queues = [ref(f"Outbound {n}", "routing/queues") for n in ("Sales", "Service", "Collections", "Retention")]
        self.users = [ref(f"Agent {n:02d}", "users") for n in range(1, 26)]
        self.scripts = [ref(f"Outbound Script {n}", "scripts") for n in ("A", "B", "C")]
        self.dnc_lists = [ref(n, "outbound/dnclists") for n in ("Internal DNC", "National DNC Registry")]
        self.time_sets = [ref(n, "outbound/callabletimesets") for n in ("US Business Hours", "Weekdays Only")]
        self.rule_sets = [ref("Retry Busy Later", "outbound/rulesets")]
        self.edge_group = ref("Outbound Edge Group", "telephony/providers/edges/edgegroups")
        self.site = ref("Indianapolis Site", "telephony/providers/edges/sites")
        self.flow_outcomes = [{"id": (r := ref(n, "flows/outcomes"))["id"], "name": n,
                               "description": f"Flow outcome: {n}", "division": self.divisions[0],
                               "selfUri": r["selfUri"]} for n in FLOW_OUTCOMES]
        self._build_wrapup_codes(rng)
        self.response_sets = [self._response_set(rng, n, i) for i, n in
                              enumerate(["Default Predictive", "Agentless Flow Transfer", "Strict Machine Detection"])]
        self.campaigns = [self._campaign(rng, i) for i in range(max(1, self.config.campaigns))]

    def _build_wrapup_codes(self, rng) -> None:
        def code(name, code_id):
            return {"id": code_id, "name": name, "description": f"{name} wrap-up",
                    "division": self.divisions[0], "dateCreated": self._past(rng),
                    "dateModified": self._past(rng, 1, 99), "createdBy": self.users[0]["id"],
                    "modifiedBy": self.users[1]["id"], "selfUri": f"/api/v2/routing/wrapupcodes/{code_id}"}
        business = [code(n, _uid(rng)) for n in BUSINESS_CODES]
        self.wrapup_codes = business + [code(n, n) for n in SYSTEM_CODES]
        self.deleted_wrapup_code_id = _uid(rng)
        self._business_code_ids = [c["id"] for c in business]
        by_name = {c["name"]: c["id"] for c in self.wrapup_codes}
        mapping = {by_name[n]: flags for n, flags in MAPPING_FLAGS.items()}
        mapping[self.deleted_wrapup_code_id] = ["Right_Party_Contact", "Business_Neutral"]
        mid = _uid(rng)
        self.wrapup_mapping = {"id": mid, "name": "Wrapup Code Mapping", "dateCreated": self._past(rng),
                               "dateModified": self._past(rng, 1, 99), "version": 17,
                               "defaultSet": ["Right_Party_Contact", "BUSINESS_NEUTRAL"], "mapping": mapping,
                               "selfUri": "/api/v2/outbound/wrapupcodemappings"}

    def _response_set(self, rng, name: str, i: int) -> dict:
        rid = _uid(rng)
        responses = {f"disposition.classification.{k}": {"reactionType": "hangup"} for k in RESPONSE_KEYS}
        person = {"reactionType": "transfer"}
        if i == 1:
            flow_id = _uid(rng)
            person = {"reactionType": "transfer_flow", "data": flow_id, "name": "Outbound IVR Flow"}
        for key in ("callable.person", "callable.lineconnected"):
            responses[f"disposition.classification.{key}"] = person
        if i == 2:
            responses["disposition.classification.callable.machine"] = {
                "reactionType": "play_file", "data": "voicemail-message.wav", "name": "Voicemail message"}
        return {"id": rid, "name": name, "dateCreated": self._past(rng), "dateModified": self._past(rng, 1, 99),
                "version": rng.randint(1, 9), "responses": responses, "beepDetectionEnabled": i != 0,
                "amdSpeechDistinguishEnabled": i == 2,
                "liveSpeakerDetectionMode": ["Disabled", "Medium", "High"][i],
                "selfUri": f"/api/v2/outbound/callanalysisresponsesets/{rid}"}

    def _campaign(self, rng, i: int) -> dict:
        cid, mode = _uid(rng), DIALING_MODES[i % len(DIALING_MODES)]
        name = f"{THEMES[(i * 7) % len(THEMES)]} {i + 1:03d}"
        last = i == self.config.campaigns - 1 and i > 0          # never dialled (no attempts)
        contact_list = {"id": _uid(rng), "name": f"{name} Contacts"}
        contact_list["selfUri"] = f"/api/v2/outbound/contactlists/{contact_list['id']}"
        sort = {"fieldName": "LastAttempt", "direction": "ASC", "numeric": False}
        c = {"id": cid, "name": name, "dateCreated": self._past(rng), "dateModified": self._past(rng, 1, 99),
             "version": rng.randint(1, 40), "contactList": contact_list, "dialingMode": mode,
             "campaignStatus": "invalid" if last else STATUSES[i % len(STATUSES)],
             "phoneColumns": [{"columnName": "Cell", "type": "cell"}, {"columnName": "Home", "type": "home"}],
             "abandonRate": round(rng.uniform(2, 5), 1), "dncLists": self.dnc_lists[: 1 + i % 2],
             "callableTimeSet": self.time_sets[i % 2],
             "callAnalysisResponseSet": self._ref(
                 self.response_sets[1 if mode == "agentless" else (2 if i % 3 == 2 else 0)]),
             "errors": [], "callerName": "Acme Outbound", "callerAddress": f"+1317555{1000 + i:04d}",
             "outboundLineCount": rng.choice([10, 20, 50, 100]), "ruleSets": self.rule_sets if i % 2 else [],
             "skipPreviewDisabled": False, "previewTimeOutSeconds": 30 if mode == "preview" else 0,
             "alwaysRunning": i % 4 == 0, "contactSort": sort, "contactSorts": [sort],
             "noAnswerTimeout": 30, "callAnalysisLanguage": "en-US", "priority": 1 + i % 5,
             "contactListFilters": [], "division": self.divisions[1 if i % 3 else 0], "skillColumns": [],
             "maxCallsPerAgent": 3 if mode == "predictive" else None,
             "maxCallsPerAgentDecimal": 2.5 if mode == "predictive" else None,
             "agentOwnedColumn": "OwnerAgent" if mode == "preview" else None, "callbackAutoAnswer": False,
             "previewAutoEnd": False, "preciseDialingEnabled": False,
             "dynamicContactQueueingSettings": {"sort": False, "filter": False},
             "dynamicLineBalancingSettings": {"enabled": i % 5 == 0, "relativeWeight": 50},
             "diagnosticsSettings": {"reportLowMaxCallsPerAgentAlert": True},
             "selfUri": f"/api/v2/outbound/campaigns/{cid}"}
        if mode != "agentless":
            c["queue"], c["script"] = self.queues[i % len(self.queues)], self.scripts[i % len(self.scripts)]
        c["edgeGroup" if i % 2 == 0 else "site"] = self.edge_group if i % 2 == 0 else self.site
        if last:
            c["errors"] = [{"error": "ContactListNotFound", "details": "The contact list was deleted",
                            "userParams": [{"key": "contactListId", "value": contact_list["id"]}]}]
        return {k: v for k, v in c.items() if v is not None}

    @staticmethod
    def _ref(entity: dict) -> dict:
        return {"id": entity["id"], "name": entity["name"], "selfUri": entity["selfUri"]}

    def _build_conversations(self, rng: random.Random) -> None:
        cfg = self.config
        n_busy = max(1, len(self.campaigns) - 1)           # the last campaign is never dialled
        self._kind_tables = {i: self._kind_table(self.campaigns[i]["dialingMode"]) for i in range(n_busy)}
        self._cycle_tables: dict[tuple, tuple[list[str], list[float]]] = {}
        records = self._specials(rng, n_busy)[: cfg.attempts]
        for _ in range(cfg.attempts - len(records)):
            c = rng.randrange(n_busy)
            start = self._business_start(rng)
            records.append(self._attempt(rng, start, self._pick_kind(rng, c, start), c))
        inbound = cfg.inbound if cfg.inbound is not None else cfg.attempts // 20
        records += [self._attempt(rng, self._business_start(rng), "inbound", -1) for _ in range(inbound)]
        records.sort(key=lambda a: (a.start, a.conversation_id))
        for a in records:
            self._by_day.setdefault(a.start // DAY_MS, []).append(a)
        self._active = [a for a in records if a.end is None]

    @staticmethod
    def _kind_table(mode: str) -> tuple[list[str], list[int]]:
        weights = dict(BASE_WEIGHTS)
        if mode == "preview":
            weights.update(preview_skipped=8, abandoned=0)
        if mode == "agentless":
            weights.update(transferred=weights.pop("agent"), abandoned=0)
        kinds, cum, total = [], [], 0
        for kind, w in weights.items():
            total += w
            kinds.append(kind)
            cum.append(total)
        return kinds, cum

    def _pick_kind(self, rng, campaign: int, start: int) -> str:
        """One draw of the main RNG, as before the answer cycle; the weights follow the local hour of `start`."""
        kinds, cum = self._cycle_table(campaign, start)
        return kinds[bisect.bisect_right(cum, rng.random() * cum[-1])]

    def answer_factor(self, campaign: int, start: int) -> float:
        """The multiplier of ANSWER_CYCLE on live-person outcomes for an attempt of `campaign` starting at `start`."""
        local = datetime.fromtimestamp(start / 1000, NEW_YORK)
        swing = random.Random(f"{self.config.seed}:cycle:{campaign}").uniform(0.7, 1.3)
        level = random.Random(f"{self.config.seed}:cycle:{campaign}:{local.date()}").uniform(0.92, 1.08)
        return (1 + swing * (ANSWER_CYCLE.get(local.hour, 1.0) - 1)) * level

    def _cycle_table(self, campaign: int, start: int) -> tuple[list[str], list[float]]:
        local = datetime.fromtimestamp(start / 1000, NEW_YORK)
        key = (campaign, local.date(), local.hour)
        table = self._cycle_tables.get(key)
        if table is None:
            kinds, cum = self._kind_tables[campaign]
            factor = self.answer_factor(campaign, start)
            bounds = zip(kinds, [0, *cum], cum, strict=False)
            weights = [(b - a) * (factor if k in LIVE_PERSON_KINDS else 1) for k, a, b in bounds]
            table = self._cycle_tables[key] = (kinds, [sum(weights[: i + 1]) for i in range(len(weights))])
        return table

    def _business_start(self, rng) -> int:
        """A start inside New York 08:00-21:00 local time, before anchor - 1 h (all finished)."""
        hi = self.anchor_ms - HOUR_MS
        if not hasattr(self, "_day_bases"):
            first = datetime.fromtimestamp(self.start_ms / 1000, NEW_YORK).date()
            self._day_bases = [_local_ms(first + timedelta(days=i), 8) for i in range(self.config.days + 1)]
        for _ in range(1000):
            ms = self._day_bases[rng.randrange(len(self._day_bases))] + rng.randrange(13 * HOUR_MS)
            if self.start_ms <= ms < hi:
                return ms
        return rng.randrange(self.start_ms, hi)

    def _attempt(self, rng, start: int, kind: str, campaign: int) -> Attempt:
        o = OUTCOMES.get(kind, OUTCOMES["agent"])
        wrapup = self._business_code_ids[min(int(rng.expovariate(0.25)), len(self._business_code_ids) - 1)]
        a = Attempt(conversation_id=_uid(rng), start=start, kind=kind, campaign=campaign,
                    agent=rng.randrange(len(self.users)), wrapup=wrapup,
                    dial_ms=rng.randint(800, 4000) if o.attempted else rng.randint(50, 400),
                    contact_ms=rng.randint(*o.contact_ms), alert_ms=rng.randint(1000, 6000),
                    talk_ms=min(int(rng.expovariate(1 / 150_000)) + 15_000, 45 * MINUTE_MS),
                    hold_ms=rng.randint(10_000, 120_000) if rng.random() < 0.2 else 0,
                    acw_ms=rng.randint(5_000, 90_000), seed=rng.getrandbits(32))
        a.end = a.natural_end()
        return a

    def _specials(self, rng, n_busy: int) -> list[Attempt]:
        """Guaranteed edge cases, so small datasets still exercise every trap."""
        modes = [self.campaigns[i]["dialingMode"] for i in range(n_busy)]
        camp = {m: modes.index(m) for m in set(modes)}
        talkers = [i for i, m in enumerate(modes) if m != "agentless"] or [0]   # campaigns with agents
        hi = self.anchor_ms - HOUR_MS
        out = [self._attempt(rng, self._business_start(rng), kind,
                             camp.get({"preview_skipped": "preview", "transferred": "agentless"}.get(kind), 0))
               for kind in OUTCOMES]
        midnight = self.anchor_ms - self.anchor_ms % DAY_MS
        for k in sorted({1, max(1, self.config.days // 3), max(1, 2 * self.config.days // 3)}):
            start = midnight - k * DAY_MS - rng.randint(20_000, 90_000)
            if start < self.start_ms:
                continue
            a = self._attempt(rng, start, "agent", talkers[k % len(talkers)])
            a.talk_ms = max(a.talk_ms, 4 * MINUTE_MS)
            a.end = a.natural_end()
            out.append(a)                                    # starts before, ends after UTC midnight
        for _ in range(3):                                   # clock skew: end > 10 min before start
            a = self._attempt(rng, self._business_start(rng), "agent", rng.choice(talkers))
            a.end = a.start - rng.randint(11, 40) * MINUTE_MS
            out.append(a)
        for _ in range(max(2, self.config.attempts // 500)):  # agent picked a since-deleted code
            a = self._attempt(rng, self._business_start(rng), "agent", rng.choice(talkers))
            a.wrapup = self.deleted_wrapup_code_id
            out.append(a)
        for day in self._dst_days():                         # both ends of the DST-change day
            for hour in (8, 20):
                start = _local_ms(day, hour) + rng.randrange(HOUR_MS)
                if self.start_ms <= start < hi:
                    out.append(self._attempt(rng, start, self._pick_kind(rng, 0, start), 0))
        out.append(self._attempt(rng, self._business_start(rng), "no_media", 0))
        for _ in range(max(3, self.config.attempts // 1000)):  # still talking at the anchor
            a = self._attempt(rng, self.anchor_ms - rng.randint(2 * MINUTE_MS, 15 * MINUTE_MS), "agent",
                              rng.choice(talkers))
            a.end = None
            out.append(a)
        return out

    def _dst_days(self) -> list[date]:
        first = datetime.fromtimestamp(self.start_ms / 1000, NEW_YORK).date()
        days = [first + timedelta(days=i) for i in range(self.config.days + 1)]
        return [d for d in days if _local_ms(d, 12) - _local_ms(d - timedelta(days=1), 12) != DAY_MS]

    # ---------------------------------------------------------------- store access
    def records_in_days(self, first_day: int, last_day: int) -> list[Attempt]:
        """Attempts whose conversationStart falls on UTC days first_day..last_day (day = ms // DAY_MS)."""
        with self._lock:
            out = []
            for day in range(first_day, last_day + 1):
                out.extend(self._by_day.get(day, ()))
            return out

    def active_records(self) -> list[Attempt]:
        with self._lock:
            return list(self._active)

    def all_records(self) -> list[Attempt]:
        with self._lock:
            return [a for day in sorted(self._by_day) for a in self._by_day[day]]

    def doc(self, a: Attempt) -> dict:
        """The AnalyticsConversation JSON for an attempt (cached; callers must not mutate it)."""
        doc = a.doc
        if doc is None:
            doc = a.doc = self._render(a)
        return doc

    @property
    def conversations(self) -> list[dict]:
        return [self.doc(a) for a in self.all_records()]

    # ---------------------------------------------------------------- mutation
    def complete_active_calls(self, at=None) -> list[str]:
        """Finish every still-active call at `at` (default anchor + 5 min) with its wrap-up."""
        at_ms = to_ms(at) if at is not None else self.anchor_ms + 5 * MINUTE_MS
        with self._lock:
            done = []
            for a in self._active:
                a.talk_ms = max(1000, at_ms - a.acw_ms - a.hold_ms - a.alert_ms - a.connect_at)
                a.end, a.doc = a.natural_end(), None
                done.append(a.conversation_id)
            self._active = []
            self.version += 1
            return done

    def add_conversations(self, n: int, start, end, campaign_id: str | None = None) -> list[dict]:
        """Insert n finished attempts starting uniformly in [start, end) (data arriving mid-run)."""
        lo, hi = to_ms(start), to_ms(end)
        with self._lock:
            self._added_batches += 1
            rng = random.Random(f"{self.config.seed}:added:{self._added_batches}")
            ids = [c["id"] for c in self.campaigns]
            fixed = ids.index(campaign_id) if campaign_id else None
            new = []
            for _ in range(n):
                c = fixed if fixed is not None else rng.randrange(len(self._kind_tables))
                kinds = self._kind_tables.get(c) or self._kind_table(self.campaigns[c]["dialingMode"])
                kind = kinds[0][bisect.bisect_right(kinds[1], rng.random() * kinds[1][-1])]
                a = self._attempt(rng, rng.randrange(lo, hi), kind, c)
                bisect.insort(self._by_day.setdefault(a.start // DAY_MS, []), a,
                              key=lambda x: (x.start, x.conversation_id))
                new.append(a)
            self.version += 1
        return [self.doc(a) for a in new]

    # ---------------------------------------------------------------- reconciliation helpers
    def attempts_in(self, start, end, campaign_ids=None) -> list[dict]:
        """Outbound conversations whose conversationStart is in [start, end), optionally per campaign."""
        lo, hi = to_ms(start), to_ms(end)
        wanted = set(campaign_ids) if campaign_ids else None
        out = []
        for a in self.records_in_days(lo // DAY_MS, (hi - 1) // DAY_MS):
            if a.kind != "inbound" and lo <= a.start < hi and (
                    wanted is None or self.campaigns[a.campaign]["id"] in wanted):
                out.append(self.doc(a))
        return out

    def attempt_counts_by_campaign_and_day(self) -> dict[str, dict[str, int]]:
        """{campaignId: {"YYYY-MM-DD" (UTC day of conversationStart): count}}."""
        counts: dict[str, dict[str, int]] = {}
        for a in self.all_records():
            if a.kind != "inbound":
                per_day = counts.setdefault(self.campaigns[a.campaign]["id"], {})
                day = iso(a.start)[:10]
                per_day[day] = per_day.get(day, 0) + 1
        return counts

    def summary(self) -> dict:
        records = self.all_records()
        per_campaign = {c["id"]: 0 for c in self.campaigns}
        for a in records:
            if a.kind != "inbound":
                per_campaign[self.campaigns[a.campaign]["id"]] += 1
        return {"campaigns": len(self.campaigns), "wrapup_codes": len(self.wrapup_codes),
                "contact_lists": len(self.contact_lists), "dnc_lists": len(self.dnc_lists),
                "events": len(self.events), "users": len(self.directory_users),
                "wrapup_code_mappings": len(self.wrapup_mapping["mapping"]),
                "response_sets": len(self.response_sets), "flow_outcomes": len(self.flow_outcomes),
                "conversations": len(records), "attempts": sum(per_campaign.values()),
                "inbound_conversations": sum(a.kind == "inbound" for a in records),
                "active_conversations": len(self.active_records()),
                "attempts_per_campaign": per_campaign,
                "interval": f"{iso(self.start_ms)}/{iso(self.anchor_ms)}"}

    # ---------------------------------------------------------------- flows and live campaign state
    def _build_flows(self) -> None:
        """Flows, a deleted flow outcome and per-campaign live state; drawn from their own seeded RNG so the
        conversations and reference entities above are the same as before these were added."""
        rng = random.Random(f"{self.config.seed}:flows")
        ivr = self.response_sets[1]["responses"]["disposition.classification.callable.person"]
        self.flows = [{"id": ivr["data"], "name": ivr["name"], "type": "OUTBOUNDCALL"},
                      {"id": _uid(rng), "name": "Post-Call Survey", "type": "SURVEY"}]
        self.deleted_flow_outcome_id = _uid(rng)   # used in flow data, absent from /flows/outcomes
        self.campaign_live = {}
        for i, c in enumerate(self.campaigns):
            r = random.Random(f"{self.config.seed}:live:{c['id']}")
            self.campaign_live[c["id"]] = {
                "idleAgents": r.randint(0, 12), "effectiveIdleAgents": round(r.uniform(0, 10), 2),
                "adjustedCallsPerAgent": round(r.uniform(1, 3), 2), "outstandingCalls": r.randint(0, 30),
                "scheduledCalls": r.randint(0, 20), "timeZoneRescheduledCalls": r.randint(0, 5),
                "filteredOutContactsCount": r.randint(0, 50), "rightPartyContactsCount": r.randint(0, 400),
                "assignedOutboundLines": r.randint(0, c.get("outboundLineCount", 10)),
                "totalAvailableOutboundLines": c.get("outboundLineCount", 10),
                "successCount": r.randint(0, 200), "neutralCount": r.randint(0, 200), "failureCount": r.randint(0, 200),
                "totalNumberOfContacts": r.randint(500, 5000), "diagnostics": self._diagnostics_timeline(c, r, i),
            }

    def _diagnostics_timeline(self, campaign: dict, r: random.Random, i: int) -> dict:
        """Status and health intervals from 10 days before the data to the anchor; the last ones are open."""
        t = self.start_ms - 10 * DAY_MS + r.randrange(DAY_MS)
        states, health = [], []
        status_cycle = ["on", "stopping", "off", "on", "off"]
        k = 0
        while t < self.anchor_ms:
            end = t + r.randint(6, 60) * HOUR_MS
            states.append([status_cycle[(k + i) % len(status_cycle)], t, end, campaign["dialingMode"]])
            t, k = end, k + 1
        states[-1][0], states[-1][2] = campaign["campaignStatus"], None       # current status, still open
        t = self.start_ms - 10 * DAY_MS
        while t < self.anchor_ms:
            end = t + r.randint(1, 30) * HOUR_MS
            health.append([r.choice(CAMPAIGN_HEALTH_STATES), t, end])
            t = end
        health[-1][2] = None
        return {"states": states, "health": health}

    def flow_observation_facts(self, start: int, end: int) -> list[FlowObservation]:
        """Flow outcomes of conversations starting in [start, end): agentless calls transferred to the IVR flow
        reach 1-2 of its outcomes (sometimes the deleted one); one agent call in five runs the survey flow."""
        defs = [o["id"] for o in self.flow_outcomes]
        out = []
        for a in self.records_in_days(start // DAY_MS, (end - 1) // DAY_MS):
            if not start <= a.start < end or a.end is None:
                continue
            r = random.Random(a.seed ^ 0x5F10)
            if a.kind == "transferred":
                picks = r.sample([defs[0], defs[1], defs[4], self.deleted_flow_outcome_id], r.randint(1, 2))
                flow = 0
            elif a.kind == "agent" and a.seed % 5 == 0:
                picks, flow = [r.choice([defs[3], defs[3], defs[2]])], 1
            else:
                continue
            for outcome in picks:
                value = "FAILURE" if r.random() < 0.25 else "SUCCESS"
                out.append(FlowObservation(a.start, flow, outcome, value, r.randint(2_000, 90_000), a.campaign))
        return out

    def flow_observations(self, start: int, end: int):
        """(conversationStart, dimensions, {metric: [values]}) per flow outcome, for the flows aggregates."""
        for o in self.flow_observation_facts(start, end):
            flow = self.flows[o.flow]
            camp = self.campaigns[o.campaign]
            dims = {"flowId": flow["id"], "flowName": flow["name"], "flowType": flow["type"], "flowVersion": "3.0",
                    "flowOutcomeId": o.outcome_id, "flowOutcomeValue": o.value,
                    "flowOutcome": f"{o.outcome_id}:{o.value}", "outboundCampaignId": camp["id"],
                    "outboundContactListId": camp["contactList"]["id"], "mediaType": "voice"}
            values = {"nFlowOutcome": [1], "tFlowOutcome": [o.duration_ms], "nFlow": [1]}
            if o.value == "FAILURE":
                values["nFlowOutcomeFailed"] = [1]
            yield o.conversation_start, dims, values

    # ---------------------------------------------------------------- directory listings
    def _build_directory(self) -> None:
        """Contact lists, DNC lists, users and dialer events (see the module docstring)."""
        rng = random.Random(f"{self.config.seed}:directory")
        self.dnc_list_refs = self.dnc_lists
        self.dnc_lists = [self._dnc_list(rng, ref, i) for i, ref in enumerate(self.dnc_list_refs)]
        dialled = self.campaigns[:-1] if len(self.campaigns) > 1 else self.campaigns
        self.contact_lists = [self._contact_list(rng, c) for c in dialled]
        supervisors = [{"id": _uid(rng), "name": f"Supervisor {n}"} for n in "ABC"]
        self.directory_users = [self._user(rng, s, None, "Outbound Supervisor") for s in supervisors]
        self.directory_users += [self._user(rng, u, supervisors[i % 3], "Outbound Agent")
                                 for i, u in enumerate(self.users)]
        self.events = sorted(self._events(rng, dialled), key=lambda e: (e["timestamp"], e["id"]), reverse=True)

    @staticmethod
    def _import_status(total: int) -> dict:
        return {"importState": "IMPORTED", "totalRecords": total, "completedRecords": total,
                "percentageComplete": 100}

    def _contact_list(self, rng, campaign: dict) -> dict:
        ref, size = campaign["contactList"], rng.randint(500, 20_000)
        return {"id": ref["id"], "name": ref["name"], "dateCreated": self._past(rng),
                "dateModified": self._past(rng, 1, 99), "version": rng.randint(1, 30),
                "division": campaign["division"],
                "columnNames": ["FirstName", "LastName", "Cell", "Home", "ZipCode", "TimeZone", "OwnerAgent"],
                "phoneColumns": [{"columnName": "Cell", "type": "cell", "callableTimeColumn": "TimeZone"},
                                 {"columnName": "Home", "type": "home", "callableTimeColumn": "TimeZone"}],
                "importStatus": self._import_status(size), "previewModeColumnName": "OwnerAgent",
                "previewModeAcceptedValues": ["yes"], "attemptLimits": {
                    "id": _uid(rng), "name": "Three Tries", "selfUri": "/api/v2/outbound/attemptlimits"},
                "automaticTimeZoneMapping": True, "zipCodeColumnName": "ZipCode", "size": size,
                "selfUri": ref["selfUri"]}

    def _dnc_list(self, rng, ref: dict, i: int) -> dict:
        size = rng.randint(1_000, 90_000)
        out = {**ref, "dateCreated": self._past(rng), "dateModified": self._past(rng, 1, 99),
               "version": rng.randint(1, 12), "importStatus": self._import_status(size), "size": size,
               "dncSourceType": ["rds", "dnc.com"][i % 2], "contactMethod": "Phone", "division": self.divisions[0]}
        if out["dncSourceType"] == "dnc.com":
            out.update(loginId="acme-dnc", dncCodes=["B", "C", "D"], licenseId="LIC-0042")
        return out

    def _user(self, rng, ref: dict, manager: dict | None, title: str) -> dict:
        login = ref["name"].lower().replace(" ", ".")
        user = {"id": ref["id"], "name": ref["name"], "division": self.divisions[0],
                "email": f"{login}@example.com", "state": "active", "title": title,
                "department": "Outbound Contact Center", "username": f"{login}@example.com",
                "version": rng.randint(1, 20), "selfUri": f"/api/v2/users/{ref['id']}"}
        if manager is not None:
            user["manager"] = {"id": manager["id"], "selfUri": f"/api/v2/users/{manager['id']}"}
        return user

    def _events(self, rng, dialled: list[dict]):
        def event(t, campaign, level, category, code, message, related=None):
            eid = _uid(rng)
            params = {"campaignName": campaign["name"]}
            out = {"id": eid, "name": code, "timestamp": iso(t), "level": level, "category": category,
                   "correlationId": _uid(rng), "relatedEntity": related or self._ref(campaign),
                   "eventMessage": {"id": _uid(rng), "code": code, "message": message,
                                    "messageWithParams": message.replace(campaign["name"], "{campaignName}"),
                                    "messageParams": params},
                   "selfUri": f"/api/v2/outbound/events/{eid}"}
            if level != "INFO":
                out["errorEntity"] = out["relatedEntity"]
            return out
        for c in self.campaigns:
            timeline = self.campaign_live[c["id"]]["diagnostics"]
            for state, t, _, _ in timeline["states"]:
                if self.start_ms <= t < self.anchor_ms:
                    yield event(t, c, "INFO", "CAMPAIGN", "CAMPAIGN_STATUS_CHANGED",
                                f"Campaign {c['name']} status changed to {state}")
            for state, t, _ in timeline["health"]:
                if state != "healthy" and self.start_ms <= t < self.anchor_ms:
                    yield event(t, c, "WARNING", "CAMPAIGN", "CAMPAIGN_HEALTH",
                                f"Campaign {c['name']} is in health state {state}")
        for c in dialled:
            contact_list = c["contactList"]
            for day in range(self.config.days):
                t = self.start_ms + day * DAY_MS + rng.randrange(DAY_MS)
                kind = rng.choice(["CONTACT", "CALL_RULE", "DNC_LIST"])
                if kind == "CONTACT":
                    yield event(t, c, "WARNING", kind, "CONTACT_INVALID_PHONE_NUMBER",
                                f"Campaign {c['name']} skipped a contact with an invalid phone number",
                                {k: contact_list[k] for k in ("id", "name", "selfUri")})
                elif kind == "CALL_RULE":
                    yield event(t, c, "INFO", kind, "CALL_RULE_EXECUTED",
                                f"Campaign {c['name']} rule set Retry Busy Later rescheduled a contact")
                else:
                    dnc = self.dnc_list_refs[day % len(self.dnc_list_refs)]
                    level = "ERROR" if rng.random() < 0.1 else "INFO"
                    yield event(t, c, level, kind, "DNC_LIST_CHECK",
                                f"Campaign {c['name']} checked {dnc['name']}" +
                                (": the DNC service did not answer" if level == "ERROR" else ""), dict(dnc))

    # ---------------------------------------------------------------- rendering
    def _render(self, a: Attempt) -> dict:
        r = random.Random(a.seed)
        phone = f"+1{r.randint(2012000000, 9899999999)}"
        if a.kind == "inbound":
            queue_id = self.queues[a.agent % len(self.queues)]["id"]
            participants = [self._customer(a, r, phone, "inbound"),
                            {"participantId": _uid(r), "participantName": "Inbound ACD", "purpose": "acd",
                             "sessions": [{"sessionId": _uid(r), "mediaType": "voice", "direction": "inbound",
                                           "segments": [_seg("interact", a.start, a.connect_at, queueId=queue_id,
                                                             disconnectType="transfer")]}]},
                            self._agent(a, r, queue_id, "inbound")]
            division, initiator, direction = self.divisions[0]["id"], "customer", "inbound"
        else:
            camp, o = self.campaigns[a.campaign], OUTCOMES[a.kind]
            queue_id = camp.get("queue", {}).get("id")
            participants = [self._dialer(a, r, camp, o, queue_id, phone)]
            if o.customer:
                participants.append(self._customer(a, r, phone, "outbound"))
            if o.agent:
                participants.append(self._agent(a, r, queue_id, "outbound"))
            division, initiator, direction = camp["division"]["id"], "outbound", "outbound"
        doc = {"conversationId": a.conversation_id, "conversationStart": iso(a.start)}
        if a.end is not None:
            doc["conversationEnd"] = iso(a.end)
        doc.update(originatingDirection=direction, conversationInitiator=initiator, divisionIds=[division])
        if len(participants) > 1:
            doc["mediaStatsMinConversationMos"] = round(r.uniform(3.6, 4.9), 3)
        doc["participants"] = participants
        return doc

    def _dialer(self, a: Attempt, r, camp: dict, o: Outcome, queue_id, phone: str) -> dict:
        dial_end = a.start + a.dial_ms
        last = {"queueId": queue_id, "disconnectType": o.disconnect, "wrapUpCode": o.system_code}
        if a.kind == "error":
            last.update(errorCode="error.ininedgecontrol.connection.media.endpoint.unreachable",
                        sipResponseCodes=[503])
        if not o.attempted:
            done = a.natural_end()
            segs = [_seg("system", a.start, done, **last)]
        elif o.customer:
            done = a.connect_at
            segs = [_seg("dialing", a.start, dial_end, queueId=queue_id),
                    _seg("contacting", dial_end, done, **last)]
        else:
            done = dial_end
            segs = [_seg("dialing", a.start, dial_end, **last)]
        pairs = [("nOutbound", 1)]
        if o.attempted:
            pairs += [("nOutboundAttempted", 1), ("tDialing", a.dial_ms)]
        if o.customer:
            pairs.append(("tContacting", a.contact_ms))
        pairs += [(n, 1) for n, on in (("nOutboundConnected", o.connected),
                                        ("nOutboundAbandoned", a.kind == "abandoned"),
                                        ("nError", a.kind == "error")) if on]
        session = {"sessionId": _uid(r), "mediaType": "voice", "direction": "outbound",
                   "outboundCampaignId": camp["id"], "outboundContactListId": camp["contactList"]["id"],
                   "outboundContactId": f"{r.getrandbits(128):032x}", "addressTo": f"tel:{phone}",
                   "dispositionAnalyzer": o.analyzer,
                   "dispositionName": o.disposition and f"disposition.classification.{o.disposition}",
                   "metrics": _metrics(pairs, done), "segments": segs}
        if camp["dialingMode"] == "preview" and a.kind == "agent":
            session["dispositionName"] = "disposition.classification.callable.lineconnected"
            session["dispositionAnalyzer"] = "disabled"
        return {"participantId": _uid(r), "participantName": camp["name"], "purpose": "outbound",
                "sessions": [{k: v for k, v in session.items() if v is not None}]}

    def _customer(self, a: Attempt, r, phone: str, direction: str) -> dict:
        o = OUTCOMES.get(a.kind, OUTCOMES["agent"])
        if direction == "inbound":
            seg = _seg("interact", a.start, a.end and a.talk_end, disconnectType="endpoint")
        elif o.connected:
            end = None if a.end is None else (a.talk_end if o.agent else a.natural_end())
            seg = _seg("interact", a.connect_at, end, disconnectType=end and "endpoint")
        else:
            seg = _seg("alert", a.start + a.dial_ms, a.connect_at, disconnectType=o.disconnect)
        session = {"sessionId": _uid(r), "mediaType": "voice", "direction": direction,
                   "ani": self.campaigns[a.campaign]["callerAddress"] if a.campaign >= 0 else phone,
                   "dnis": phone if a.campaign >= 0 else "+13175550100", "segments": [seg]}
        if a.mirrors_talk:
            session["metrics"] = _metrics([("tTalk", a.talk_ms), ("tHandle", a.talk_ms + a.hold_ms + a.acw_ms)],
                                          a.talk_end + a.acw_ms)
        return {"participantId": _uid(r), "participantName": phone, "purpose": "customer", "sessions": [session]}

    def _agent(self, a: Attempt, r, queue_id, direction: str) -> dict:
        user = self.users[a.agent]
        session = {"sessionId": _uid(r), "mediaType": "voice", "direction": direction}
        if a.kind == "preview_skipped":                      # agent previewed the contact and skipped
            session["segments"] = [_seg("alert", a.start, a.natural_end(), queueId=queue_id, disconnectType="client")]
            session["metrics"] = _metrics([("tAlert", a.alert_ms)], a.natural_end())
        else:
            answered = a.connect_at + a.alert_ms
            segs = [_seg("alert", a.connect_at, answered, queueId=queue_id)]
            if a.end is None:                                # still talking at the anchor
                segs.append(_seg("interact", answered, None, queueId=queue_id))
                session["metrics"] = _metrics([("tAlert", a.alert_ms)], answered)
            else:
                segs += self._talk_segments(a, r, answered, queue_id)
                pairs = [("tAlert", a.alert_ms), ("tTalk", a.talk_ms), ("tTalkComplete", a.talk_ms)]
                pairs += [("tHeld", a.hold_ms)] if a.hold_ms else []
                pairs += [("tAcw", a.acw_ms), ("tHandle", a.talk_ms + a.hold_ms + a.acw_ms)]
                session["metrics"] = _metrics(pairs, a.talk_end + a.acw_ms)
            session["segments"] = segs
        return {"participantId": _uid(r), "participantName": user["name"], "purpose": "agent",
                "userId": user["id"], "sessions": [session]}

    @staticmethod
    def _talk_segments(a: Attempt, r, answered: int, queue_id) -> list[dict]:
        hangup = r.choice(["client", "peer"])
        segs, t = [], answered
        if a.hold_ms:
            half = a.talk_ms // 2
            segs += [_seg("interact", t, t + half, queueId=queue_id),
                     _seg("hold", t + half, t + half + a.hold_ms, queueId=queue_id)]
            t += half + a.hold_ms
        segs.append(_seg("interact", t, a.talk_end, queueId=queue_id, disconnectType=hangup))
        segs.append(_seg("wrapup", a.talk_end, a.talk_end + a.acw_ms, queueId=queue_id, wrapUpCode=a.wrapup))
        return segs

    def with_attributes(self, doc: dict) -> dict:
        """Job-result view: the customer participant also carries participant data `attributes`."""
        dialer = next((p for p in doc["participants"] if p["purpose"] == "outbound"), None)
        if dialer is None:
            return doc
        s = dialer["sessions"][0]
        attributes = {"dialerCampaignId": s["outboundCampaignId"], "dialerContactListId": s["outboundContactListId"],
                      "dialerContactId": s["outboundContactId"], "dialerInteractionId": doc["conversationId"]}
        participants = [dict(p, attributes=attributes) if p["purpose"] == "customer" else p
                        for p in doc["participants"]]
        return dict(doc, participants=participants)


def _local_ms(day: date, hour: int) -> int:
    """Epoch ms of `hour`:00 New York local time on `day`."""
    return to_ms(datetime(day.year, day.month, day.day, hour, tzinfo=NEW_YORK))

