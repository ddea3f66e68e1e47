"""Unit tests for the attempts mapping (hand-built conversations in the 4.3 shape)."""

from __future__ import annotations

import copy
import json
import logging
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest

from tap_genesys_outbound.attempt_mapping import (
    CALL_ANALYSIS_DEFERRED,
    CALL_ANALYSIS_STATUS,
    QUALITY_FLAGS,
    STATUS_DESCRIPTIONS,
    STATUS_PRECEDENCE,
    SYSTEM_WRAPUP_STATUS,
    AttemptMapper,
    classify_status,
)

pytestmark = pytest.mark.unit

SCHEMA = json.loads((Path(__file__).parents[1] / "schemas" / "attempts.json").read_text())
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)

P = "disposition.classification."
CAMPAIGN = "c0ffee00-0000-4000-8000-000000000001"
OTHER_CAMPAIGN = "c0ffee00-0000-4000-8000-000000000002"
LIST_ID, CONTACT_ID = "11111111-0000-4000-8000-000000000001", "contact-42"
AGENT, QUEUE = "a9e00000-0000-4000-8000-000000000001", "90e00000-0000-4000-8000-000000000001"
SALE, GONE = "0c0de000-0000-4000-8000-000000000001", "0c0de000-0000-4000-8000-0000000000ff"
DNC_ID = "0c0de000-0000-4000-8000-0000000000d1"
NAMES = {SALE: "Sale", DNC_ID: "ININ-OUTBOUND-ON-DO-NOT-CALL-LIST"}
START, END = "2024-05-01T08:00:00.000Z", "2024-05-01T08:03:00.000Z"


def t(seconds: int) -> str:
    """Timestamp START + seconds."""
    return f"2024-05-01T08:{seconds // 60:02d}:{seconds % 60:02d}.000Z"


def seg(kind: str, start: int, end: int | None, **extra) -> dict:
    out = {"segmentType": kind, "segmentStart": t(start), **extra}
    if end is not None:
        out["segmentEnd"] = t(end)
    return out


def metrics(**values: int) -> list[dict]:
    return [{"name": k, "value": v, "emitDate": END} for k, v in values.items()]


def dialer(disposition: str | None = P + "callable.person", code: str | None = None,
           campaign: str = CAMPAIGN, mets: list | None = None, segs: list | None = None) -> dict:
    """The dialer ('outbound') participant whose session carries the campaign."""
    session = {
        "sessionId": "s-dialer", "mediaType": "voice", "direction": "outbound",
        "outboundCampaignId": campaign, "outboundContactListId": LIST_ID,
        "outboundContactId": CONTACT_ID, "dispositionAnalyzer": "speech.person",
        "metrics": mets if mets is not None else metrics(nOutbound=1, nOutboundAttempted=1),
        "segments": segs if segs is not None else [
            seg("dialing", 0, 4), seg("contacting", 4, 10, disconnectType="system", **(
                {"wrapUpCode": code} if code else {}))],
    }
    if disposition:
        session["dispositionName"] = disposition
    return {"participantId": "p-dialer", "participantName": "Dialer", "purpose": "outbound",
            "sessions": [session]}


def customer(segs: list | None = None) -> dict:
    return {"participantId": "p-cust", "purpose": "customer", "externalContactId": None,
            "sessions": [{"sessionId": "s-cust", "mediaType": "voice", "direction": "outbound",
                          "ani": "tel:+15550100", "dnis": "tel:+15550199",
                          "outboundCampaignId": CAMPAIGN,
                          "segments": segs if segs is not None else [
                              seg("dialing", 0, 4), seg("contacting", 4, 10),
                              seg("interact", 10, 180, disconnectType="peer")]}]}


def acd() -> dict:
    return {"participantId": "p-acd", "purpose": "acd", "participantName": "Sales",
            "sessions": [{"sessionId": "s-acd", "mediaType": "voice",
                          "segments": [seg("interact", 10, 12, queueId=QUEUE,
                                           disconnectType="transfer")]}]}


def agent(code: str | None = SALE, mets: list | None = None, segs: list | None = None,
          user: str = AGENT) -> dict:
    default_segs = [seg("alert", 12, 13, queueId=QUEUE), seg("interact", 13, 100, queueId=QUEUE),
                    seg("hold", 100, 110, queueId=QUEUE),
                    seg("interact", 110, 180, queueId=QUEUE, disconnectType="client"),
                    seg("wrapup", 180, 195, queueId=QUEUE,
                        **({"wrapUpCode": code} if code else {}))]
    return {"participantId": f"p-{user}", "purpose": "agent", "userId": user, "teamId": None,
            "sessions": [{"sessionId": "s-agent", "mediaType": "voice", "direction": "outbound",
                          "outboundCampaignId": CAMPAIGN,
                          "metrics": mets if mets is not None else metrics(
                              tTalk=157000, tHeld=10000, tAcw=15000, tHandle=182000),
                          "segments": segs if segs is not None else default_segs}]}


def conv(*participants: dict, end: str | None = END, start: str = START, **extra) -> dict:
    out = {"conversationId": "conv-1", "conversationStart": start,
           "originatingDirection": "outbound", "conversationInitiator": "dialer",
           "divisionIds": ["d1"], "participants": list(participants), **extra}
    if end is not None:
        out["conversationEnd"] = end
    return out


def connected() -> dict:
    return conv(dialer(), customer(), acd(), agent())


def no_dial(code: str, *, as_agent: bool = False) -> dict:
    """A compliance/system outcome: nothing dialled, no customer media."""
    if as_agent:  # preview: the agent gets the system code
        return conv(dialer(disposition=None, segs=[]),
                    agent(code=code, mets=[], segs=[seg("wrapup", 0, 1, wrapUpCode=code)]))
    return conv(dialer(disposition=None, code=code, segs=[
        seg("system", 0, 1, wrapUpCode=code, disconnectType="system")]))


def unanswered(disposition: str, **kw) -> dict:
    rings = [seg("dialing", 0, 4), seg("contacting", 4, 30, disconnectType="endpoint")]
    return conv(dialer(disposition, **kw), customer(rings))


CASES = {
    "dnc_list": (no_dial("ININ-OUTBOUND-ON-DO-NOT-CALL-LIST"), "DNC"),
    "dnc_list_by_id": (no_dial(DNC_ID), "DNC"),
    "dnc_skipped": (no_dial("ININ-OUTBOUND-DNC-SKIPPED", as_agent=True), "DNC"),
    "dnc_auth_failed": (no_dial("ININ-OUTBOUND-DNC-AUTHENTICATION-FAILED"), "DNC"),
    "preview_skipped": (no_dial("ININ-OUTBOUND-PREVIEW-SKIPPED", as_agent=True), "SKIPPED"),
    "invalid_phone": (no_dial("ININ-OUTBOUND-INVALID-PHONE-NUMBER"), "INVALID_NUMBER"),
    "preview_error": (no_dial("ININ-OUTBOUND-PREVIEW-ERROR-PHONE-NUMBER", as_agent=True),
                      "INVALID_NUMBER"),
    "sit_uncallable_code": (unanswered(P + "uncallable.sit", code="ININ-OUTBOUND-SIT-UNCALLABLE"),
                            "INVALID_NUMBER"),
    "sit_uncallable": (unanswered(P + "uncallable.sit"), "INVALID_NUMBER"),
    "notfound": (unanswered(P + "uncallable.notfound"), "INVALID_NUMBER"),
    "sit_callable": (unanswered(P + "callable.sit"), "SIT_CALLABLE"),
    "fax": (unanswered(P + "callable.fax"), "FAX"),
    "busy": (unanswered(P + "callable.busy"), "BUSY"),
    "machine": (unanswered(P + "callable.machine"), "MACHINE"),
    "no_answer": (unanswered(P + "callable.noanswer"), "NO_ANSWER"),
    "abandoned_metric": (conv(dialer(mets=metrics(nOutbound=1, nOutboundAbandoned=1)), customer()),
                         "ABANDONED"),
    "abandoned_in_queue": (conv(dialer(), customer(), acd()), "ABANDONED"),
    "failed_error_disconnect": (conv(dialer(disposition=None), customer(
        [seg("dialing", 0, 2, disconnectType="error", errorCode="error.edge")])), "FAILED"),
    "failed_n_error": (conv(dialer(P + "callable.disconnect", mets=metrics(nError=1)), customer()),
                       "FAILED"),
    "in_progress": (conv(dialer(), customer(), acd(), agent(code=None), end=None), "IN_PROGRESS"),
    "connected": (connected(), "CONNECTED"),
    "connected_agentless": (conv(dialer(), customer()), "CONNECTED"),
    "lineconnected_agent": (conv(dialer(P + "callable.lineconnected"), customer(), acd(), agent()),
                            "CONNECTED"),
    "lineconnected_alone": (conv(dialer(P + "callable.lineconnected"), customer()), "OTHER"),
    "unknown_disposition": (unanswered(P + "callable.brandnew"), "OTHER"),
    "dnc_beats_in_progress": (conv(*no_dial("ININ-OUTBOUND-DNC-SKIPPED")["participants"], end=None),
                              "DNC"),
}


@pytest.fixture()
def mapper() -> AttemptMapper:
    return AttemptMapper(NAMES)


@pytest.mark.parametrize("name", list(CASES))
def test_status_cases_and_schema(mapper: AttemptMapper, name: str) -> None:
    conversation, expected = CASES[name]
    before = copy.deepcopy(conversation)
    record = mapper.to_record(conversation)
    assert record is not None, "compliance/system outcomes must never be dropped"
    assert record["status"] == expected, record["statusRule"]
    assert ("UNMAPPED_STATUS" in record["qualityFlags"]) == (expected == "OTHER")
    assert_valid(record)
    assert conversation == before  # input not mutated
    assert record["participants"] is conversation["participants"]


def assert_valid(record: dict) -> None:
    assert set(record["qualityFlags"]) <= set(QUALITY_FLAGS)
    errors = [e.message for e in VALIDATOR.iter_errors(record)]
    assert not errors, errors
    assert set(record) <= set(SCHEMA["properties"]), set(record) - set(SCHEMA["properties"])
    assert set(SCHEMA["properties"]) <= set(record)  # every declared field is always emitted
    datetime.fromisoformat(record["attemptDate"])


def test_nested_fixture_fields_are_declared_in_schema() -> None:
    """Every 4.3 field the fixtures use is typed in the schema, not just tolerated."""
    part = SCHEMA["properties"]["participants"]["items"]
    sess = part["properties"]["sessions"]["items"]
    segment, metric = (sess["properties"][k]["items"] for k in ("segments", "metrics"))
    for conversation, _ in CASES.values():
        for p in conversation["participants"]:
            assert set(p) <= set(part["properties"])
            for s in p["sessions"]:
                assert set(s) <= set(sess["properties"])
                assert all(set(x) <= set(segment["properties"]) for x in s["segments"])
                assert all(set(m) <= set(metric["properties"]) for m in s.get("metrics", []))
    assert part["additionalProperties"] is True and sess["additionalProperties"] is True


def test_singer_sdk_conformance_keeps_everything(mapper: AttemptMapper, caplog) -> None:
    """The SDK drops (with a warning) properties missing from the schema: nothing may be lost."""
    typing_helpers = pytest.importorskip("singer_sdk.helpers._typing")
    from singer_sdk.helpers.conform import TypeConformanceLevel

    conversation = connected()
    conversation["participants"][0]["sessions"][0]["futureApiField"] = {"x": 1}  # kept as extra
    record = mapper.to_record(conversation)
    out = typing_helpers.conform_record_data_types(
        "attempts", record, SCHEMA, TypeConformanceLevel.RECURSIVE, logging.getLogger("t"))
    assert out == record
    assert "not found in catalog schema" not in caplog.text


def test_connected_record_fields(mapper: AttemptMapper) -> None:
    r = mapper.to_record(connected())
    assert r["conversationId"] == "conv-1" and r["attemptDate"] == START
    assert r["completedDate"] == END
    assert (r["campaignId"], r["contactListId"], r["contactId"]) == (CAMPAIGN, LIST_ID, CONTACT_ID)
    assert r["callAnalysisResult"] == P + "callable.person"
    assert r["dispositionAnalyzer"] == "speech.person"
    assert (r["wrapUpCodeId"], r["wrapUpCodeName"]) == (SALE, "Sale")
    assert r["wrapUpCodeSource"] == "agent"
    assert (r["agentId"], r["queueId"]) == (AGENT, QUEUE)
    assert r["disconnectType"] == "peer"  # customer side preferred over the agent's later 'client'
    assert r["statusRule"] == "CALL_ANALYSIS"
    assert r["qualityFlags"] == []
    assert r["divisionIds"] == ["d1"] and r["originatingDirection"] == "outbound"


def test_metrics_ms_to_seconds_and_null_when_absent(mapper: AttemptMapper) -> None:
    r = mapper.to_record(conv(dialer(mets=metrics(tDialing=4000, tContacting=0), segs=[]),
                              customer([]), agent(mets=metrics(tTalk=1500, tHandle=1500), segs=[])))
    assert r["dialingSeconds"] == 4.0 and r["contactingSeconds"] == 0.0  # 0 stays 0
    assert r["talkSeconds"] == 1.5 and r["handleSeconds"] == 1.5
    assert r["holdSeconds"] is None and r["acwSeconds"] is None  # absent -> null, not 0


def test_metrics_summed_across_sessions(mapper: AttemptMapper) -> None:
    second = agent(user="a9e00000-0000-4000-8000-000000000002",
                   mets=metrics(tTalk=3000, tAcw=2000, tHandle=5000))
    r = mapper.to_record(conv(dialer(), customer(), agent(), second))
    assert r["talkSeconds"] == 160.0 and r["acwSeconds"] == 17.0 and r["handleSeconds"] == 187.0
    assert r["agentId"] == AGENT  # first agent


def test_durations_derived_from_segments(mapper: AttemptMapper) -> None:
    r = mapper.to_record(conv(dialer(mets=[]), customer(), acd(), agent(mets=[])))
    assert r["dialingSeconds"] == 4.0 and r["contactingSeconds"] == 6.0  # customer side only
    assert r["talkSeconds"] == 157.0 and r["holdSeconds"] == 10.0 and r["acwSeconds"] == 15.0
    assert r["handleSeconds"] == 182.0
    assert_valid(r)


def test_no_durations_at_all_are_null(mapper: AttemptMapper) -> None:
    r = mapper.to_record(no_dial("ININ-OUTBOUND-DNC-SKIPPED"))
    assert all(r[f] is None for f in ("talkSeconds", "holdSeconds", "acwSeconds", "handleSeconds"))


def test_deleted_wrapup_code_keeps_id(mapper: AttemptMapper) -> None:
    r = mapper.to_record(conv(dialer(), customer(), acd(), agent(code=GONE)))
    assert (r["wrapUpCodeId"], r["wrapUpCodeName"], r["wrapUpCodeRaw"]) == (GONE, None, GONE)
    assert "UNKNOWN_WRAPUP_CODE" in r["qualityFlags"]
    assert r["status"] == "CONNECTED"
    assert_valid(r)


def test_system_code_name_resolves_to_known_id(mapper: AttemptMapper) -> None:
    r = mapper.to_record(no_dial("ININ-OUTBOUND-ON-DO-NOT-CALL-LIST"))
    assert (r["wrapUpCodeId"], r["wrapUpCodeName"]) == (DNC_ID, "ININ-OUTBOUND-ON-DO-NOT-CALL-LIST")
    assert r["wrapUpCodeSource"] == "system" and "UNKNOWN_WRAPUP_CODE" not in r["qualityFlags"]
    r = mapper.to_record(no_dial("ININ-OUTBOUND-DNC-SKIPPED"))
    assert (r["wrapUpCodeId"], r["wrapUpCodeName"]) == (None, "ININ-OUTBOUND-DNC-SKIPPED")
    assert r["qualityFlags"] == ["NO_CONVERSATION_MEDIA"]


def test_in_progress_flag(mapper: AttemptMapper) -> None:
    r = mapper.to_record(CASES["in_progress"][0])
    assert r["completedDate"] is None and "IN_PROGRESS" in r["qualityFlags"]
    assert r["wrapUpCodeId"] is None and r["wrapUpCodeSource"] is None


def test_end_before_start_flag(mapper: AttemptMapper) -> None:
    late = "2024-05-01T08:30:00.000Z"
    skewed = conv(dialer(), customer(), start=late, end="2024-05-01T08:19:59Z")
    assert "END_BEFORE_START" in mapper.to_record(skewed)["qualityFlags"]
    small = conv(dialer(), customer(), start=late, end="2024-05-01T08:25:00Z")
    assert "END_BEFORE_START" not in mapper.to_record(small)["qualityFlags"]


def test_disconnect_type_falls_back_to_any_side(mapper: AttemptMapper) -> None:
    r = mapper.to_record(conv(dialer(), customer([seg("interact", 10, 20)]), acd(), agent()))
    assert r["disconnectType"] == "client"  # latest segmentEnd: the agent's 180 s > acd 12 s


def test_queue_falls_back_to_acd(mapper: AttemptMapper) -> None:
    assert mapper.to_record(CASES["abandoned_in_queue"][0])["queueId"] == QUEUE


def test_non_campaign_conversation_is_none(mapper: AttemptMapper) -> None:
    inbound = conv(customer(), agent())
    for p in inbound["participants"]:
        for s in p["sessions"]:
            s.pop("outboundCampaignId", None)
    assert mapper.to_record(inbound) is None
    assert mapper.to_record({"conversationId": "x"}) is None


def test_campaign_filter() -> None:
    only_other = AttemptMapper(NAMES, campaign_ids=[OTHER_CAMPAIGN])
    assert only_other.to_record(connected()) is None
    record = only_other.to_record(conv(dialer(campaign=OTHER_CAMPAIGN)))
    assert record["campaignId"] == OTHER_CAMPAIGN
    assert AttemptMapper(NAMES, campaign_ids={CAMPAIGN}).to_record(connected()) is not None


def test_classify_status_precedence() -> None:
    dnc = ["ININ-OUTBOUND-DNC-SKIPPED"]
    assert classify_status(system_codes=dnc, ended=False) == ("DNC", "SYSTEM_WRAPUP")
    assert classify_status(system_codes=["ININ-OUTBOUND-PREVIEW-SKIPPED", *dnc])[0] == "DNC"
    assert classify_status(system_codes=["ININ-OUTBOUND-TRANSFERRED-TO-QUEUE"],
                           agent_interacted=True) == ("CONNECTED", "AGENT_INTERACTION")
    assert classify_status(ended=False, abandoned=True)[0] == "IN_PROGRESS"
    assert classify_status(abandoned=True, disposition=P + "callable.person")[0] == "ABANDONED"
    assert classify_status(disposition=P + "callable.busy", error=True)[0] == "BUSY"
    assert classify_status(disposition=P + "callable.disconnect", error=True)[0] == "FAILED"
    assert classify_status(disposition=P + "callable.disconnect") == ("FAILED", "CALL_ANALYSIS")
    assert classify_status(disposition=P + "callable.person", queued_without_agent=True,
                           agent_interacted=True)[0] == "CONNECTED"
    assert classify_status() == ("OTHER", "FALLBACK")


def test_status_tables_are_consistent() -> None:
    statuses = set(STATUS_DESCRIPTIONS)
    assert set(SYSTEM_WRAPUP_STATUS.values()) | set(CALL_ANALYSIS_STATUS.values()) <= statuses
    assert set(SCHEMA["properties"]["status"]["enum"]) == statuses
    assert not set(CALL_ANALYSIS_DEFERRED) & set(CALL_ANALYSIS_STATUS)
    assert [r for r, _ in STATUS_PRECEDENCE][-1] == "FALLBACK"
    seen = {mapper_status for _, mapper_status in CASES.values()}
    assert seen == statuses  # every status has at least one end-to-end case


def test_a_conversation_the_mapper_cannot_read_keeps_every_readable_field_and_its_flag() -> None:
    import datetime as dt

    from tap_genesys_outbound.attempt_mapping import RECORD_FIELDS, malformed_reason, partial_record

    mapper = AttemptMapper({})
    conversation = {"conversationId": "c-1", "conversationStart": "2026-03-01T10:00:00Z",
                    "conversationEnd": "2026-03-01T10:02:00Z", "originatingDirection": "outbound",
                    "participants": [
                        {"purpose": "outbound", "sessions": [
                            {"outboundCampaignId": "camp-1", "dispositionName": P + "callable.machine",
                             "segments": "not a list"}]},
                        "not a participant",
                        {"purpose": "customer", "sessions": [{"segments": [{"segmentType": "dialing"}]}]}]}
    reason = malformed_reason(conversation)
    assert reason == "participants holds a JSON string where objects are expected"
    record = partial_record(mapper, conversation, reason, dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    assert set(RECORD_FIELDS) | {"qualityNotes"} == set(record)
    assert record["campaignId"] == "camp-1" and record["status"] == "MACHINE"   # still mapped
    assert record["participants"] is conversation["participants"]               # raw, unmodified
    assert "MAPPING_ERROR" in record["qualityFlags"] and record["qualityNotes"] == reason
    # outside campaign_ids: not an attempt this run wants, flag or not
    assert partial_record(AttemptMapper({}, ["camp-2"]), conversation, reason, dt.datetime.now(dt.UTC)) is None


def test_a_metric_on_two_participants_is_counted_once() -> None:
    def session(**metrics: int) -> dict:
        return {"metrics": [{"name": n, "value": v} for n, v in metrics.items()], "segments": []}

    conversation = {"conversationId": "c", "conversationStart": "2026-03-01T10:00:00Z",
                    "conversationEnd": "2026-03-01T10:05:00Z", "participants": [
                        {"purpose": "outbound", "sessions": [{**session(tDialing=2000, tContacting=5000),
                                                              "outboundCampaignId": "camp"}]},
                        {"purpose": "customer", "sessions": [session(tDialing=2000, tContacting=5000, tTalk=60000,
                                                                     tHandle=90000)]},
                        {"purpose": "agent", "sessions": [session(tTalk=40000, tAcw=10000, tHandle=50000)]},
                        {"purpose": "agent", "sessions": [session(tTalk=20000, tHandle=20000)]}]}   # a transfer
    r = AttemptMapper({}).to_record(conversation)
    # agent metrics: the agents' sessions summed (the customer's copy ignored); dialer metrics: once
    assert (r["talkSeconds"], r["acwSeconds"], r["handleSeconds"]) == (60.0, 10.0, 70.0)
    assert (r["dialingSeconds"], r["contactingSeconds"]) == (2.0, 5.0)
    agentless = {**conversation, "participants": conversation["participants"][:2]}
    assert AttemptMapper({}).to_record(agentless)["talkSeconds"] == 60.0   # no agent: the customer's copy

