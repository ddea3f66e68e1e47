"""Pure mapping of Genesys Cloud analytics conversations to `attempts` records.

Genesys has no per-attempt resource: one dial attempt is one analytics
conversation (``conversations/details/query`` or the details jobs) whose dialer
session carries ``outboundCampaignId``.  :class:`AttemptMapper` flattens such a
conversation into one record; it does no I/O and never mutates its input.

It runs once per conversation, so every lookup table is compiled once (module
tables, or in ``AttemptMapper.__init__``) and a record costs one pass over the
participants plus dict lookups.  Timestamps are parsed only for the
END_BEFORE_START check and for durations that must be derived from segments.

Status precedence (first rule that matches wins; ``statusRule`` names it;
the rules themselves are :data:`STATUS_PRECEDENCE`):

1. SYSTEM_WRAPUP first: a DNC / skip / invalid-number system code is the
   dialer's final verdict (nothing was dialled, or the number is now
   uncallable) and is what the campaign dashboard counts, so nothing may hide
   it - not even a missing ``conversationEnd``.  Such rows are ordinary
   records, never dropped.
2. NOT_ENDED next: any other outcome of a live call is a guess; the stream's
   1-2 day re-read replaces IN_PROGRESS once the call completes.
3. ABANDON_METRIC before call analysis, because abandoned calls carry
   ``callable.person`` and would otherwise inflate CONNECTED.
4. CALL_ANALYSIS beats agent interaction: a machine transferred to an agent
   is still MACHINE.  ``disconnect`` (a Q.850/SIP disconnect) is FAILED.
   ``lineconnected`` is not decisive (:data:`CALL_ANALYSIS_DEFERRED`): it is
   CONNECTED only if an agent interacted.
5. ERROR, then AGENT_INTERACTION, then OTHER (flag UNMAPPED_STATUS; the raw
   values stay in callAnalysisResult / wrapUpCode* / disconnectType).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta

_P = "disposition.classification."

STATUS_DESCRIPTIONS: dict[str, str] = {  # the README's status table is generated from this
    "CONNECTED": "A live person was reached (call analysis `person`, or an agent talked).",
    "MACHINE": "Answering machine detected.",
    "NO_ANSWER": "No answer (ring timeout or silent greeting).",
    "BUSY": "Busy signal.",
    "FAX": "Fax or modem tone.",
    "SIT_CALLABLE": "Special information tone; the number stays callable (`callable.sit`).",
    "INVALID_NUMBER": "`uncallable.sit`, `uncallable.notfound`, `ININ-OUTBOUND-INVALID-PHONE-NUMBER`, "
                      "`-PREVIEW-ERROR-PHONE-NUMBER`, `-SIT-UNCALLABLE`.",
    "DNC": "Not dialled: `ININ-OUTBOUND-ON-DO-NOT-CALL-LIST`, `-DNC-SKIPPED`, `-DNC-AUTHENTICATION-FAILED`.",
    "SKIPPED": "Preview call skipped: `ININ-OUTBOUND-PREVIEW-SKIPPED`.",
    "ABANDONED": "A person was reached but no agent took the call (`nOutboundAbandoned`, or queued with no agent).",
    "FAILED": "Technical failure: `callable.disconnect`, an `error` disconnect or `nError`.",
    "IN_PROGRESS": "No `conversationEnd` yet; a later run re-reads it (see lookback).",
    "OTHER": "No rule matched; raw values stay in their own fields and `qualityFlags` has `UNMAPPED_STATUS`.",
}

SYSTEM_WRAPUP_STATUS: dict[str, str] = {
    "ININ-OUTBOUND-ON-DO-NOT-CALL-LIST": "DNC",
    "ININ-OUTBOUND-DNC-SKIPPED": "DNC",
    "ININ-OUTBOUND-DNC-AUTHENTICATION-FAILED": "DNC",
    "ININ-OUTBOUND-INVALID-PHONE-NUMBER": "INVALID_NUMBER",
    "ININ-OUTBOUND-PREVIEW-ERROR-PHONE-NUMBER": "INVALID_NUMBER",
    "ININ-OUTBOUND-SIT-UNCALLABLE": "INVALID_NUMBER",
    "ININ-OUTBOUND-PREVIEW-SKIPPED": "SKIPPED",
}
# Other system codes (e.g. -TRANSFERRED-TO-QUEUE) are informational only.

_SYSTEM_RANK = {"DNC": 0, "INVALID_NUMBER": 1, "SKIPPED": 2}  # when several codes appear

CALL_ANALYSIS_STATUS: dict[str, str] = {
    _P + "callable.person": "CONNECTED",
    _P + "callable.machine": "MACHINE",
    _P + "callable.noanswer": "NO_ANSWER",
    _P + "callable.busy": "BUSY",
    _P + "callable.fax": "FAX",
    _P + "callable.sit": "SIT_CALLABLE",
    _P + "uncallable.sit": "INVALID_NUMBER",
    _P + "uncallable.notfound": "INVALID_NUMBER",
    _P + "callable.disconnect": "FAILED",  # Q.850/SIP disconnect before analysis: the call failed
}
"""Session ``dispositionName`` -> status (keys from genesys-api.md 3.3)."""

CALL_ANALYSIS_DEFERRED: dict[str, str] = {
    _P + "callable.lineconnected": "CONNECTED if an agent interacted, else OTHER",
}

STATUS_PRECEDENCE: tuple[tuple[str, str], ...] = (
    ("SYSTEM_WRAPUP", "system wrap-up code in SYSTEM_WRAPUP_STATUS -> DNC/INVALID_NUMBER/SKIPPED"),
    ("NOT_ENDED", "no conversationEnd -> IN_PROGRESS"),
    ("ABANDON_METRIC", "nOutboundAbandoned > 0 or tAbandon present -> ABANDONED"),
    ("CALL_ANALYSIS", "dispositionName in CALL_ANALYSIS_STATUS; a person queued to an "
                      "acd participant that no agent interacted with -> ABANDONED"),
    ("ERROR", "disconnectType 'error' on any segment or nError > 0 -> FAILED"),
    ("AGENT_INTERACTION", "agent participant has an interact segment -> CONNECTED"),
    ("FALLBACK", "anything else -> OTHER"),
)

QUALITY_FLAGS: dict[str, str] = {  # the README's quality-flag table is generated from this
    "IN_PROGRESS": "No conversationEnd yet; the record changes on a later re-read.",
    "END_BEFORE_START": "conversationEnd over 10 minutes before conversationStart (clock skew).",
    "NO_CONVERSATION_MEDIA": "No customer/external participant with a session (nothing dialled).",
    "UNKNOWN_WRAPUP_CODE": "wrapUpCode id not in /routing/wrapupcodes (deleted?); id kept.",
    "UNMAPPED_STATUS": "status is OTHER; see callAnalysisResult/wrapUpCodeRaw/disconnectType.",
    "NO_CONVERSATION_START": "conversationStart missing; attemptDate is the first segmentStart.",
    "MAPPING_ERROR": "The conversation could not be fully mapped (a field of an unexpected type): every field that "
                     "could be is filled, `participants` is raw, `qualityNotes` says what was wrong.",
}

# (record field, session metric in ms, segmentType summed when the metric is absent)
DURATION_FIELDS: tuple[tuple[str, str, str | None], ...] = (
    ("dialingSeconds", "tDialing", "dialing"),
    ("contactingSeconds", "tContacting", "contacting"),
    ("talkSeconds", "tTalk", "interact"),
    ("holdSeconds", "tHeld", "hold"),
    ("acwSeconds", "tAcw", "wrapup"),
    ("handleSeconds", "tHandle", None),
)

_AGENT_SEGMENTS = frozenset({"interact", "hold", "wrapup"})  # derived from agent segments
#: The session metrics the mapper reads (agent ones summed, the others their maximum: the rule below).
_SESSION_METRICS = frozenset(m for _, m, _ in DURATION_FIELDS) | {
    "nOutboundAbandoned", "tAbandon", "nError"}
#: Metric rule (README "Metrics counted once"): which participant carries a metric is documented nowhere
#: and the same metric can appear on two sessions of one conversation (genesys-api.md section 9). Agent
#: metrics are summed over agent participants' sessions only (each agent session is its own leg, e.g.
#: after a transfer); a copy on a customer or dialer session is ignored, and used (its maximum) only when
#: no agent session carries the metric. Every other metric (dialing, contacting, abandon, error) is the
#: maximum over the sessions carrying it: one attempt dials once. Neither can count one figure twice.
_AGENT_METRICS = frozenset({"tTalk", "tHeld", "tAcw", "tHandle"})
_DIALER_PURPOSES = frozenset({"outbound", "dialer", "campaign"})
_DIALED_PURPOSES = frozenset({"customer", "external"})
_SKEW = timedelta(minutes=10)


def classify_status(
    *,
    system_codes: Iterable[str] = (),
    ended: bool = True,
    disposition: str | None = None,
    abandoned: bool = False,
    queued_without_agent: bool = False,
    error: bool = False,
    agent_interacted: bool = False,
) -> tuple[str, str]:
    """Return ``(status, rule)`` following the module docstring's precedence.

    ``system_codes`` are resolved wrap-up code *names*; inputs are plain flags
    so the rules can be tested (and documented) without a conversation.
    """
    system = [SYSTEM_WRAPUP_STATUS[c] for c in system_codes if c in SYSTEM_WRAPUP_STATUS]
    if system:
        return min(system, key=_SYSTEM_RANK.__getitem__), "SYSTEM_WRAPUP"
    if not ended:
        return "IN_PROGRESS", "NOT_ENDED"
    if abandoned:
        return "ABANDONED", "ABANDON_METRIC"
    analysed = CALL_ANALYSIS_STATUS.get(disposition) if disposition else None
    if analysed == "CONNECTED" and queued_without_agent and not agent_interacted:
        return "ABANDONED", "CALL_ANALYSIS"
    if analysed:
        return analysed, "CALL_ANALYSIS"
    if error:
        return "FAILED", "ERROR"
    if agent_interacted:
        return "CONNECTED", "AGENT_INTERACTION"
    return "OTHER", "FALLBACK"


class _Scan:
    """Everything one pass over the participants collects (no timestamp parsing).

    * campaign session: the first session with ``outboundCampaignId``, preferring
      one on a dialer participant (purpose outbound/dialer/campaign);
    * wrap-up: the last ``wrapUpCode`` on an agent participant's segments, else the
      first one elsewhere (dialer-assigned system codes);
    * disconnectType: of the segment with the latest ``segmentEnd`` among those
      carrying one, on the customer/external side if any, else on any participant
      (ISO strings of one format compare like times; ties go to the later one).
    """

    __slots__ = (
        "acd_queue",
        "agent_code",
        "agent_id",
        "agent_metrics",
        "agent_queue",
        "agents",
        "analyzer",
        "codes",
        "dialed",
        "dialers",
        "disc_any",
        "disc_pref",
        "disposition",
        "error",
        "has_acd",
        "has_media",
        "interacted",
        "metrics",
        "other_code",
        "session",
        "session_on_dialer",
    )

    def __init__(self, participants: list[dict]) -> None:
        self.session = self.disposition = self.analyzer = self.agent_id = None
        self.agent_queue = self.acd_queue = self.agent_code = self.other_code = None
        self.has_acd = self.interacted = self.error = self.has_media = False
        self.session_on_dialer = False
        self.codes: list[str] = []
        self.metrics: dict[str, int] = {}        # the maximum per metric over non-agent (and dialer-side) sessions
        self.agent_metrics: dict[str, int] = {}  # agent metrics summed over agent sessions
        self.disc_pref = self.disc_any = ("", None)  # (segmentEnd, disconnectType)
        self.agents: list[dict] = []
        self.dialed: list[dict] = []
        self.dialers: list[dict] = []
        for participant in participants:
            self._participant(participant)
        self.metrics.update(self.agent_metrics)  # agent sessions' sums win over copies elsewhere

    def _participant(self, p: dict) -> None:
        purpose = p.get("purpose")
        is_agent = purpose == "agent"
        if is_agent:
            self.agents.append(p)
            if self.agent_id is None:
                self.agent_id = p.get("userId")
        elif purpose in _DIALED_PURPOSES:
            self.dialed.append(p)
            self.has_media = self.has_media or bool(p.get("sessions"))
        elif purpose in _DIALER_PURPOSES:
            self.dialers.append(p)
        elif purpose == "acd":
            self.has_acd = True
        for s in p.get("sessions") or ():
            self._session(s, purpose, is_agent)

    def _session(self, s: dict, purpose: str | None, is_agent: bool) -> None:
        if s.get("outboundCampaignId") and (self.session is None or (
                purpose in _DIALER_PURPOSES and not self.session_on_dialer)):
            self.session = s  # prefer the dialer participant's session
            self.session_on_dialer = purpose in _DIALER_PURPOSES
        self.disposition = self.disposition or s.get("dispositionName")
        self.analyzer = self.analyzer or s.get("dispositionAnalyzer")
        for m in s.get("metrics") or ():
            name = m.get("name")
            if name in _SESSION_METRICS and m.get("value") is not None:
                value = m["value"]
                if is_agent and name in _AGENT_METRICS:
                    self.agent_metrics[name] = self.agent_metrics.get(name, 0) + value
                elif value > self.metrics.get(name, value - 1):
                    self.metrics[name] = value
        if s.get("segments"):
            self._segments(s["segments"], purpose, is_agent)

    def _segments(self, segments: list[dict], purpose: str | None, is_agent: bool) -> None:
        """One loop per session, kept inline: this is the per-record hot path."""
        preferred = purpose in _DIALED_PURPOSES
        for seg in segments:
            get = seg.get
            code = get("wrapUpCode")
            if is_agent:
                if not self.interacted and get("segmentType") == "interact":
                    self.interacted = True
                self.agent_queue = self.agent_queue or get("queueId")
                if code:
                    self.agent_code = code  # last one: the final agent's disposition
            elif purpose == "acd":
                self.acd_queue = self.acd_queue or get("queueId")
            if code:
                self.codes.append(code)
                if not is_agent and self.other_code is None:
                    self.other_code = code
            disc = get("disconnectType")
            if disc:
                self.error = self.error or disc == "error"
                end = get("segmentEnd") or ""
                if end >= self.disc_any[0]:
                    self.disc_any = (end, disc)
                if preferred and end >= self.disc_pref[0]:
                    self.disc_pref = (end, disc)


def _parse(ts: str | None) -> datetime | None:
    """ISO-8601 -> aware datetime (naive read as UTC); None when absent or bad."""
    try:
        dt = datetime.fromisoformat(ts) if ts else None
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt and dt.tzinfo is None else dt


def _segment_seconds(participants: list[dict], segment_type: str) -> float | None:
    """Sum of closed segment durations of one type; None when there are none."""
    total = None
    for p in participants:
        for s in p.get("sessions") or ():
            for seg in s.get("segments") or ():
                if seg.get("segmentType") != segment_type:
                    continue
                start, end = _parse(seg.get("segmentStart")), _parse(seg.get("segmentEnd"))
                if start and end:
                    total = (total or 0.0) + (end - start).total_seconds()
    return total


class AttemptMapper:
    """Turns analytics conversations into `attempts` records."""

    def __init__(self, wrapup_code_names: Mapping[str, str],
                 campaign_ids: Collection[str] | None = None) -> None:
        self._names = dict(wrapup_code_names)
        # System codes may also be listed by /routing/wrapupcodes with a real id.
        self._system_ids = {n: i for i, n in self._names.items() if n and n.startswith("ININ-")}
        self._campaigns = frozenset(campaign_ids) if campaign_ids is not None else None

    def resolve_wrapup(self, raw: str) -> tuple[str | None, str | None, bool]:
        """Return ``(id, name, known)`` for an analytics ``wrapUpCode`` value.

        Analytics normally stores the code id; a value that is itself a system
        code name (``ININ-...``, never a UUID) is taken as the name.  A deleted
        code keeps its id with a null name (``known`` False) - never dropped.
        """
        if raw.startswith("ININ-"):
            return self._system_ids.get(raw), raw, True
        name = self._names.get(raw)
        return raw, name, name is not None

    def campaign_of(self, conversation: dict) -> str | None:
        """The campaign of the conversation's dialer session, or None."""
        session = _Scan(conversation.get("participants") or []).session
        return session.get("outboundCampaignId") if session else None

    def to_record(self, conversation: dict) -> dict | None:
        """None when the conversation has no session with an outboundCampaignId,
        or its campaign is not in campaign_ids."""
        scan = _Scan(conversation.get("participants") or [])
        session = scan.session
        if session is None:
            return None
        campaign_id = session["outboundCampaignId"]
        if self._campaigns is not None and campaign_id not in self._campaigns:
            return None
        return self._build(conversation, scan, session, campaign_id)

    def _build(self, conv: dict, scan: _Scan, session: dict, campaign_id: str) -> dict:
        start, end = conv.get("conversationStart"), conv.get("conversationEnd")
        flags = []
        if not start:  # attemptDate is the replication key: never null
            start = min((g["segmentStart"] for g in session.get("segments") or ()
                         if g.get("segmentStart")), default=None)
            flags.append("NO_CONVERSATION_START")
        raw_code = scan.agent_code or scan.other_code
        code_id = code_name = None
        if raw_code:
            code_id, code_name, known = self.resolve_wrapup(raw_code)
            if not known:
                flags.append("UNKNOWN_WRAPUP_CODE")
        names = [self.resolve_wrapup(c)[1] for c in scan.codes]
        disposition = session.get("dispositionName") or scan.disposition
        metrics = scan.metrics
        status, rule = classify_status(
            system_codes=[n for n in names if n],
            ended=bool(end),
            disposition=disposition,
            abandoned=metrics.get("nOutboundAbandoned", 0) > 0 or "tAbandon" in metrics,
            queued_without_agent=scan.has_acd,
            error=scan.error or metrics.get("nError", 0) > 0,
            agent_interacted=scan.interacted,
        )
        flags.extend(_quality_flags(start, end, scan.has_media, status))
        record = {
            "conversationId": conv.get("conversationId"),
            "attemptDate": start,
            "completedDate": end or None,
            "campaignId": campaign_id,
            "contactListId": session.get("outboundContactListId"),
            "contactId": session.get("outboundContactId"),
            "callAnalysisResult": disposition,
            "dispositionAnalyzer": session.get("dispositionAnalyzer") or scan.analyzer,
            "wrapUpCodeId": code_id,
            "wrapUpCodeName": code_name,
            "wrapUpCodeRaw": raw_code,
            "wrapUpCodeSource": ("agent" if scan.agent_code else "system") if raw_code else None,
            "agentId": scan.agent_id,
            "queueId": scan.agent_queue or scan.acd_queue,
            "disconnectType": scan.disc_pref[1] or scan.disc_any[1],
            "status": status,
            "statusRule": rule,
            "mediaType": session.get("mediaType"),
            "originatingDirection": conv.get("originatingDirection"),
            "divisionIds": conv.get("divisionIds"),
            "qualityFlags": sorted(flags),
            "qualityNotes": None,
            "participants": conv.get("participants"),
        }
        record.update(_durations(scan))
        return record


def _quality_flags(start: str | None, end: str | None, has_media: bool, status: str) -> list[str]:
    """Data-quality flags that do not depend on the wrap-up code."""
    flags = []
    if not end:
        flags.append("IN_PROGRESS")
    else:
        s, e = _parse(start), _parse(end)
        if s and e and e < s - _SKEW:
            flags.append("END_BEFORE_START")  # dialer clock skew (> 10 min)
    if not has_media:
        flags.append("NO_CONVERSATION_MEDIA")
    if status == "OTHER":
        flags.append("UNMAPPED_STATUS")
    return flags


def _durations(scan: _Scan) -> dict[str, float | None]:
    """Seconds from the session metrics (agent ones summed, the others their maximum), else from segment durations.

    Agent-side segments (interact/hold/wrapup) are read on agent participants
    only, dialing/contacting on the customer side (else the dialer participant),
    so the same leg is never counted twice.  Absent stays None, never 0.
    """
    out: dict[str, float | None] = {}
    for field, metric, segment_type in DURATION_FIELDS:
        value = scan.metrics.get(metric)
        if value is not None:
            out[field] = value / 1000.0
        elif segment_type in _AGENT_SEGMENTS:
            out[field] = _segment_seconds(scan.agents, segment_type)
        elif segment_type:
            seconds = _segment_seconds(scan.dialed, segment_type)
            out[field] = seconds if seconds is not None else _segment_seconds(
                scan.dialers, segment_type)
        else:  # handle = talk + hold + acw
            parts = [out[f] for f in ("talkSeconds", "holdSeconds", "acwSeconds")
                     if out[f] is not None]
            out[field] = sum(parts) if parts else None
    return out


#: Every field of an attempts record (a partly mapped record has them all, null where unknown).
RECORD_FIELDS = ("conversationId", "attemptDate", "completedDate", "campaignId", "contactListId", "contactId",
                 "callAnalysisResult", "dispositionAnalyzer", "wrapUpCodeId", "wrapUpCodeName", "wrapUpCodeRaw",
                 "wrapUpCodeSource", "agentId", "queueId", "disconnectType", "status", "statusRule", "mediaType",
                 "originatingDirection", "divisionIds", "qualityFlags", "participants",
                 *(field for field, _, _ in DURATION_FIELDS))


def partial_record(mapper: AttemptMapper, conversation: Mapping, reason: str,
                   fallback_start: datetime) -> dict | None:
    """The record of a conversation `to_record` cannot map: never dropped (README "Reliability").

    The mapper runs on a copy keeping only what has the expected JSON types (parts of the wrong type
    are left out), so every field that can still be mapped is; `participants` is the raw value when
    it is a list (else null, its value quoted in `qualityNotes`); `qualityFlags` has MAPPING_ERROR
    and `qualityNotes` the reason. Without a readable start, `attemptDate` is the first readable
    segmentStart, else `fallback_start` (the start of the window it was read in), and the notes say so.
    None only when the readable part names a campaign outside `campaign_ids` (not an attempt we want).
    """
    clean = _readable_copy(conversation)
    notes = [reason]
    try:
        record = mapper.to_record(clean)
        if record is None and mapper.campaign_of(clean) is not None:
            return None  # a campaign outside campaign_ids
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        record, notes = None, [*notes, f"{type(exc).__name__}: {exc}"]
    if record is None:
        record = dict.fromkeys(RECORD_FIELDS)
        record.update(conversationId=clean["conversationId"], completedDate=clean.get("conversationEnd"),
                      originatingDirection=_str_or_none(clean.get("originatingDirection")),
                      divisionIds=clean.get("divisionIds") if isinstance(clean.get("divisionIds"), list) else None,
                      status="OTHER", statusRule="MAPPING_ERROR", qualityFlags=[])
        record["attemptDate"] = clean.get("conversationStart")
    if not record.get("attemptDate"):
        first = _first_segment_start(clean)
        record["attemptDate"] = first or fallback_start.isoformat()
        source = "the first segmentStart" if first else "the start of the window the conversation was read in"
        notes.append(f"attemptDate is {source} (no readable conversationStart)")
    raw = conversation.get("participants")
    record["participants"] = raw if isinstance(raw, list) else None
    if raw is not None and not isinstance(raw, list):
        shown = repr(raw) if len(repr(raw)) <= 200 else repr(raw)[:197] + "..."
        notes.append(f"raw participants: {shown}")
    record["qualityFlags"] = sorted({*record.get("qualityFlags", ()), "MAPPING_ERROR"})
    record["qualityNotes"] = "; ".join(notes)
    return record


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _readable_copy(conversation: Mapping) -> dict:
    """`conversation` with only the parts of the JSON types the mapper expects (a shallow, pruned copy)."""
    clean = dict(conversation)
    conversation_id = clean.get("conversationId")
    clean["conversationId"] = conversation_id if isinstance(conversation_id, str) else str(conversation_id)
    for key in ("conversationStart", "conversationEnd"):
        value = clean.get(key)
        if value is not None and (not isinstance(value, str) or _parse(value) is None):
            clean.pop(key)
    participants = []
    for p in clean.get("participants") if isinstance(clean.get("participants"), list) else ():
        if not isinstance(p, dict):
            continue
        sessions = []
        for session in p.get("sessions") if isinstance(p.get("sessions"), list) else ():
            if isinstance(session, dict):
                segments = session.get("segments")
                sessions.append({**session, "segments": [g for g in segments if isinstance(g, dict)]
                                 if isinstance(segments, list) else []})
        participants.append({**p, "sessions": sessions})
    clean["participants"] = participants
    return clean


def _first_segment_start(conversation: Mapping) -> str | None:
    starts = [g["segmentStart"] for p in conversation.get("participants") or () for s in p.get("sessions") or ()
              for g in s.get("segments") or () if isinstance(g.get("segmentStart"), str) and _parse(g["segmentStart"])]
    return min(starts, default=None)


def malformed_reason(conversation: Mapping) -> str | None:
    """Why a conversation cannot be mapped (a field of an unexpected JSON type), or None.

    Checks what :meth:`AttemptMapper.to_record` relies on: string ids, ISO-8601
    start/end, and participants/sessions/segments as lists of objects.  The
    stream skips such a record with a warning naming it (README "Reliability").
    """
    def kind(value: object) -> str:
        return "null" if value is None else {"str": "string", "dict": "object", "list": "list", "bool": "boolean",
                                             "int": "number", "float": "number"}.get(type(value).__name__, "value")

    conversation_id = conversation.get("conversationId")
    if not isinstance(conversation_id, str):
        return f"conversationId is a JSON {kind(conversation_id)}, not a string"
    for key in ("conversationStart", "conversationEnd"):
        value = conversation.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or _parse(value) is None:
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            return f"{key} is {shown}, not an ISO-8601 timestamp"
    return _nested_list_problem(conversation.get("participants"), kind)


def _nested_list_problem(participants: object, kind: Callable[[object], str]) -> str | None:
    """The first of participants, their sessions and the sessions' segments that is not a list of objects.

    One plain loop rather than a generator of paths: it runs for every conversation.
    """
    def wrong(path: str, value: object) -> str:
        if type(value) is not list:
            return f"{path} is a JSON {kind(value)}, not a list"
        bad = next(item for item in value if type(item) is not dict)  # the same test as the checks below
        return f"{path} holds a JSON {kind(bad)} where objects are expected"

    if participants is None:
        return None
    if type(participants) is not list or not all(type(p) is dict for p in participants):
        return wrong("participants", participants)
    for p in participants:
        sessions = p.get("sessions")
        if sessions is None:
            continue
        if type(sessions) is not list or not all(type(s) is dict for s in sessions):
            return wrong("participants[].sessions", sessions)
        for session in sessions:
            segments = session.get("segments")
            if segments is not None and (type(segments) is not list
                                         or not all(type(g) is dict for g in segments)):
                return wrong("participants[].sessions[].segments", segments)
    return None
