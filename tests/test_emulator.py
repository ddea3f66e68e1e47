"""Tests of the Genesys Cloud emulator over real HTTP (no mocks)."""

from __future__ import annotations

import json
import pathlib
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import requests

from genesys_emulator import Dataset, Emulator, EmulatorConfig

pytestmark = pytest.mark.emulator

ROOT = pathlib.Path(__file__).resolve().parents[1]
DETAILS = "/api/v2/analytics/conversations/details"
CONFIG = dict(seed=42, campaigns=12, attempts=2000, days=30, anchor="2026-03-20T00:00:00Z")


@pytest.fixture(scope="module")
def emu():
    with Emulator(EmulatorConfig(**CONFIG)) as e:
        yield e


@pytest.fixture(autouse=True)
def _clean_faults(emu):
    emu.faults.clear()
    yield
    emu.faults.clear()


def get_token(emu) -> str:
    r = requests.post(emu.base_url + "/oauth/token", auth=(emu.client_id, emu.client_secret),
                      data={"grant_type": "client_credentials"})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


@pytest.fixture
def api(emu):
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + get_token(emu)
    s.base = emu.base_url
    yield s
    s.close()


def query(api, body):
    return api.post(api.base + DETAILS + "/query", json=body)


def all_pages(api, body, size=100):
    out, page = [], 1
    while True:
        r = query(api, {**body, "paging": {"pageSize": size, "pageNumber": page}})
        assert r.status_code == 200, r.text
        if not r.json().get("conversations"):
            return out
        out += r.json()["conversations"]
        page += 1


def dialer_session(conv):
    return [s for p in conv["participants"] for s in p["sessions"] if "outboundCampaignId" in s]


# ------------------------------------------------------------------ auth
def test_token_ok_and_usable(emu):
    r = requests.post(emu.base_url + "/oauth/token", auth=(emu.client_id, emu.client_secret),
                      data={"grant_type": "client_credentials"})
    body = r.json()
    assert r.status_code == 200 and body["token_type"] == "bearer" and body["expires_in"] == 86399
    assert body["access_token"] in emu.issued_tokens()
    ok = requests.get(emu.base_url + "/api/v2/outbound/campaigns",
                      headers={"Authorization": "Bearer " + body["access_token"]})
    assert ok.status_code == 200


def test_token_bad_credentials_and_grant(emu):
    r = requests.post(emu.base_url + "/oauth/token", auth=(emu.client_id, "s3cret-wrong"),
                      data={"grant_type": "client_credentials"})
    assert r.status_code == 401 and r.json() == {"error": "invalid_client", "description": "client not found"}
    assert "s3cret-wrong" not in r.text
    r = requests.post(emu.base_url + "/oauth/token", auth=(emu.client_id, emu.client_secret),
                      data={"grant_type": "password"})
    assert r.status_code == 400


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
def test_missing_or_unknown_token_is_401(emu, headers):
    r = requests.get(emu.base_url + "/api/v2/routing/wrapupcodes", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "bad.credentials" and r.json()["status"] == 401 and r.json()["message"]


def test_token_expiry(emu):
    emu.faults.token_ttl(1)
    token = get_token(emu)
    url, headers = emu.base_url + "/api/v2/flows/outcomes", {"Authorization": "Bearer " + token}
    assert requests.get(url, headers=headers).status_code == 200
    time.sleep(1.1)
    assert requests.get(url, headers=headers).status_code == 401


def test_unknown_path_404(api):
    r = api.get(api.base + "/api/v2/outbound/attempts")
    assert r.status_code == 404 and set(r.json()) >= {"message", "code", "status"}


# ------------------------------------------------------------------ listings
def test_wrapupcodes_paging_via_next_uri(api, emu):
    url, seen, pages = api.base + "/api/v2/routing/wrapupcodes", [], 0
    while url:
        body = api.get(url).json()
        seen += body["entities"]
        pages += 1
        assert body["pageCount"] == 2 and body["total"] == len(emu.dataset.wrapup_codes)
        url = body["nextUri"] and api.base + body["nextUri"]
    assert pages == 2 and len({c["id"] for c in seen}) == len(seen) == 34
    names = {c["name"] for c in seen}
    assert {"Sale", "Not Interested", "Callback Requested", "ININ-OUTBOUND-SIT-UNCALLABLE",
            "ININ-OUTBOUND-ON-DO-NOT-CALL-LIST", "ININ-OUTBOUND-PREVIEW-SKIPPED"} <= names
    past = api.get(api.base + "/api/v2/routing/wrapupcodes", params={"pageNumber": 5}).json()
    assert past["entities"] == [] and past["pageCount"] == 2 and past["nextUri"] is None
    bad = api.get(api.base + "/api/v2/routing/wrapupcodes", params={"pageSize": 101})
    assert bad.status_code == 400 and bad.json()["code"] == "bad.request"
    sale = next(c for c in seen if c["name"] == "Sale")
    by_id = api.get(api.base + "/api/v2/routing/wrapupcodes", params={"id": sale["id"]}).json()
    assert [c["name"] for c in by_id["entities"]] == ["Sale"]


def test_campaign_listing_batching_filters_and_sort():
    with Emulator(EmulatorConfig(campaigns=120, attempts=300)) as big:
        s = requests.Session()
        s.headers["Authorization"] = "Bearer " + get_token(big)
        url = big.base_url + "/api/v2/outbound/campaigns"
        first = s.get(url, params={"pageSize": 100}).json()
        assert first["pageCount"] == 2 and first["total"] == 120 and len(first["entities"]) == 100
        assert first["nextUri"] == "/api/v2/outbound/campaigns?pageSize=100&pageNumber=2"
        second = s.get(big.base_url + first["nextUri"]).json()
        assert len(second["entities"]) == 20 and second["nextUri"] is None
        ids = [c["id"] for c in first["entities"][:3]]
        joined = s.get(url, params={"id": ",".join(ids)}).json()["entities"]
        repeated = s.get(url, params=[("id", i) for i in ids]).json()["entities"]
        assert {c["id"] for c in joined} == {c["id"] for c in repeated} == set(ids)
        names = [c["name"] for c in s.get(url, params={"pageSize": 100, "sortBy": "name",
                                                       "sortOrder": "descending"}).json()["entities"]]
        assert names == sorted(names, key=str.lower, reverse=True)


def test_campaign_model_fields(api):
    c = api.get(api.base + "/api/v2/outbound/campaigns").json()["entities"][0]
    assert {"id", "name", "selfUri", "dateCreated", "dateModified", "version", "campaignStatus", "dialingMode",
            "contactList", "queue", "script", "callableTimeSet", "callAnalysisResponseSet", "division",
            "dncLists", "ruleSets", "contactListFilters", "phoneColumns", "contactSort", "contactSorts",
            "abandonRate", "outboundLineCount", "noAnswerTimeout", "priority", "previewTimeOutSeconds",
            "callerName", "callerAddress", "callAnalysisLanguage", "skillColumns", "errors",
            "dynamicContactQueueingSettings", "dynamicLineBalancingSettings", "diagnosticsSettings"} <= set(c)


def test_wrapup_mapping_response_sets_flow_outcomes(api, emu):
    m = api.get(api.base + "/api/v2/outbound/wrapupcodemappings").json()
    codes = {c["id"] for c in emu.dataset.wrapup_codes}
    assert m["defaultSet"] and emu.dataset.deleted_wrapup_code_id in m["mapping"]
    assert emu.dataset.deleted_wrapup_code_id not in codes and codes - set(m["mapping"])
    flags = {f for fs in m["mapping"].values() for f in fs}
    assert "Right_Party_Contact" in flags and "NUMBER_UNCALLABLE" in flags and "contact_uncallable" in flags
    rs = api.get(api.base + "/api/v2/outbound/callanalysisresponsesets").json()["entities"]
    assert "disposition.classification.callable.person" in rs[0]["responses"]
    assert {"beepDetectionEnabled", "liveSpeakerDetectionMode", "version"} <= set(rs[0])
    fo = api.get(api.base + "/api/v2/flows/outcomes").json()["entities"]
    assert len(fo) == 5 and {"id", "name", "description", "division", "selfUri"} <= set(fo[0])


# ------------------------------------------------------------------ details query
def test_details_query_matches_whole_utc_days(api, emu):
    got = all_pages(api, {"interval": "2026-03-10T12:00:00Z/2026-03-10T13:00:00Z"})
    day = [c for c in emu.dataset.conversations if c["conversationStart"].startswith("2026-03-10")]
    assert {c["conversationId"] for c in got} == {c["conversationId"] for c in day}
    assert any(not c["conversationStart"].startswith("2026-03-10T12") for c in got)


def test_details_query_filters(api, emu):
    campaign = emu.dataset.campaigns[0]["id"]
    body = {"interval": "2026-03-10T00:00:00Z/2026-03-12T00:00:00Z",
            "segmentFilters": [{"type": "or", "predicates": [{"dimension": "outboundCampaignId", "value": campaign}]}]}
    got = all_pages(api, body)
    expected = emu.dataset.attempts_in("2026-03-10T00:00:00Z", "2026-03-12T00:00:00Z", [campaign])
    assert got and [c["conversationId"] for c in got] == [c["conversationId"] for c in expected]
    outbound = all_pages(api, {"interval": body["interval"], "conversationFilters": [
        {"type": "and", "predicates": [{"dimension": "originatingDirection", "value": "outbound"}]}]})
    everything = all_pages(api, {"interval": body["interval"]})
    inbound = [c for c in everything if c["originatingDirection"] == "inbound"]
    assert inbound and len(outbound) + len(inbound) == len(everything)
    assert all(dialer_session(c) for c in outbound) and not any(dialer_session(c) for c in inbound)
    nested = all_pages(api, {"interval": body["interval"], "segmentFilters": [{"type": "and", "clauses": [
        {"type": "and", "predicates": [{"dimension": "purpose", "value": "agent"},
                                       {"dimension": "wrapUpCode", "operator": "exists"}]}]}]})
    assert nested and all(any(p["purpose"] == "agent" for p in c["participants"]) for c in nested)
    for bad in ({"segmentFilters": [{"type": "and", "predicates": [{"dimension": "dispositionName", "value": "x"}]}]},
                {"conversationFilters": [{"type": "and", "predicates": [{"dimension": "outboundCampaignId",
                                                                         "value": campaign}]}]}):
        r = query(api, {"interval": body["interval"], **bad})
        assert r.status_code == 400 and r.json()["code"] == "bad.request"


def test_details_query_order_paging_and_limits(api):
    interval = "2026-03-11T00:00:00Z/2026-03-12T00:00:00Z"
    desc = all_pages(api, {"interval": interval, "order": "desc"})
    starts = [c["conversationStart"] for c in desc]
    assert starts == sorted(starts, reverse=True)
    first = query(api, {"interval": interval, "paging": {"pageSize": 10, "pageNumber": 1}}).json()
    assert len(first["conversations"]) == 10 and first["totalHits"] == len(desc)
    assert "pageCount" not in first and "nextUri" not in first
    past = query(api, {"interval": interval, "paging": {"pageSize": 100, "pageNumber": 50}})
    assert past.status_code == 200 and "conversations" not in past.json() and past.json()["totalHits"] == len(desc)
    cap = query(api, {"interval": interval, "paging": {"pageSize": 100, "pageNumber": 1001}})
    assert cap.status_code == 400 and cap.json() == {**cap.json(), "message": "Pagination may not exceed 100000 results",
                                                     "code": "bad.request", "status": 400}
    with Emulator(EmulatorConfig(**dict(CONFIG, attempts=300, max_results=50))) as capped:
        r = requests.post(capped.base_url + DETAILS + "/query", headers={"Authorization": "Bearer " + get_token(capped)},
                          json={"interval": interval, "paging": {"pageSize": 25, "pageNumber": 3}})
        assert r.status_code == 400 and r.json()["message"] == "Pagination may not exceed 50 results"
    for bad in ({"interval": interval, "paging": {"pageSize": 101}}, {"paging": {"pageSize": 10}},
                {"interval": "2026-03-01/2026-03-02"}, {"interval": "2026-03-01T00:00:00Z/2026-03-09T00:00:00Z"}):
        assert query(api, bad).status_code == 400, bad


# ------------------------------------------------------------------ jobs
def run_job(api, body, polls=2):
    r = api.post(api.base + DETAILS + "/jobs", json=body)
    assert r.status_code == 202
    job = r.json()["jobId"]
    states = [api.get(f"{api.base}{DETAILS}/jobs/{job}").json()["state"] for _ in range(polls)]
    return job, states


def job_results(api, job, size=1000):
    out, cursor = [], None
    while True:
        params = {"pageSize": size, **({"cursor": cursor} if cursor else {})}
        page = api.get(f"{api.base}{DETAILS}/jobs/{job}/results", params=params).json()
        out += page["conversations"]
        cursor = page.get("cursor")
        if not cursor:
            return out


def test_job_lifecycle_and_cursor_paging(api, emu):
    body = {"interval": "2026-03-01T00:00:00Z/2026-03-05T00:00:00Z", "startOfDayIntervalMatching": True}
    r = api.post(api.base + DETAILS + "/jobs", json=body)
    job = r.json()["jobId"]
    early = api.get(f"{api.base}{DETAILS}/jobs/{job}/results")
    assert early.status_code == 400
    status = api.get(f"{api.base}{DETAILS}/jobs/{job}").json()
    assert status["state"] == "PENDING" and "submissionDate" in status
    assert api.get(f"{api.base}{DETAILS}/jobs/{job}").json()["state"] == "FULFILLED"
    first = api.get(f"{api.base}{DETAILS}/jobs/{job}/results", params={"pageSize": 50}).json()
    assert len(first["conversations"]) == 50 and first["cursor"] and first["dataAvailabilityDate"]
    got = job_results(api, job, size=50)
    assert [c["conversationId"] for c in got] == [c["conversationId"] for c in all_pages(api, body)]
    assert any("attributes" in p for c in got for p in c["participants"] if p["purpose"] == "customer")
    assert api.get(f"{api.base}{DETAILS}/jobs/{job}/results", params={"pageSize": 1001}).status_code == 400
    assert api.delete(f"{api.base}{DETAILS}/jobs/{job}").status_code == 204
    assert api.get(f"{api.base}{DETAILS}/jobs/{job}").json()["state"] == "CANCELLED"
    assert api.get(f"{api.base}{DETAILS}/jobs/nope").status_code == 404


def test_job_overlap_vs_start_of_day_and_availability(api, emu):
    crossing = [c for c in emu.dataset.conversations if "conversationEnd" in c
                and c["conversationStart"][:10] < c["conversationEnd"][:10]]
    assert crossing
    c = crossing[0]
    midnight = c["conversationEnd"][:10] + "T00:00:00Z"
    interval = f"{midnight}/{c['conversationEnd'][:10]}T00:01:00Z"
    overlap = job_results(api, run_job(api, {"interval": interval})[0])
    by_day = job_results(api, run_job(api, {"interval": interval, "startOfDayIntervalMatching": True})[0])
    assert c["conversationId"] in {x["conversationId"] for x in overlap}
    assert c["conversationId"] not in {x["conversationId"] for x in by_day}
    avail = api.get(api.base + DETAILS + "/jobs/availability").json()["dataAvailabilityDate"]
    assert avail == "2026-03-19T00:00:00.000Z"
    recent = job_results(api, run_job(api, {"interval": "2026-03-19T00:00:00Z/2026-03-20T00:00:00Z"})[0])
    assert all(x["conversationStart"] < avail for x in recent)          # the data lake lags the query
    assert all_pages(api, {"interval": "2026-03-19T00:00:00Z/2026-03-20T00:00:00Z"})


@pytest.mark.parametrize("state", ["FAILED", "EXPIRED", "PENDING_FOREVER"])
def test_job_outcome_fault(api, emu, state):
    emu.faults.job_outcome(state)
    job, states = run_job(api, {"interval": "2026-03-01T00:00:00Z/2026-03-02T00:00:00Z"}, polls=4)
    assert states[-1] == ("PENDING" if state == "PENDING_FOREVER" else state)
    if state == "FAILED":
        assert api.get(f"{api.base}{DETAILS}/jobs/{job}").json()["errorMessage"]
    assert api.get(f"{api.base}{DETAILS}/jobs/{job}/results").status_code == 400


# ------------------------------------------------------------------ faults
def test_rate_limit_fault_incl_token_endpoint(api, emu):
    emu.faults.rate_limit(count=2, retry_after=3)
    r = requests.post(emu.base_url + "/oauth/token", auth=(emu.client_id, emu.client_secret),
                      data={"grant_type": "client_credentials"})
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    assert r.json()["code"] == "too.many.requests.retry.after" and "[3] seconds" in r.json()["message"]
    assert api.get(api.base + "/api/v2/flows/outcomes").status_code == 429
    assert api.get(api.base + "/api/v2/flows/outcomes").status_code == 200
    emu.faults.rate_limit(count=1, path="/api/v2/routing")
    assert api.get(api.base + "/api/v2/flows/outcomes").status_code == 200
    assert api.get(api.base + "/api/v2/routing/wrapupcodes").status_code == 429
    assert emu.faults.fired["rate_limit"] == 3


def test_enforced_rate_limit(api, emu):
    emu.faults.enforce_rate_limit(3)
    statuses = [api.get(api.base + "/api/v2/flows/outcomes") for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[0].headers["inin-ratelimit-allowed"] == "3" and statuses[1].headers["inin-ratelimit-count"] == "2"
    assert 1 <= int(statuses[3].headers["Retry-After"]) <= 60 and "inin-ratelimit-reset" in statuses[3].headers


def test_server_errors_drop_and_slow(api, emu):
    emu.faults.server_errors(count=1, status=503, path="/api/v2/flows")
    r = api.get(api.base + "/api/v2/flows/outcomes")
    assert r.status_code == 503 and r.json()["status"] == 503
    emu.faults.drop_connections(count=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(api.base + "/api/v2/flows/outcomes", headers=api.headers)
    assert emu.requests[-1][2] == 0
    emu.faults.slow(seconds=0.4, count=1)
    t = time.monotonic()
    assert api.get(api.base + "/api/v2/flows/outcomes").status_code == 200
    assert time.monotonic() - t >= 0.4


def test_forbidden_and_malformed(api, emu):
    emu.faults.forbidden("/api/v2/analytics", "analytics:conversationDetail:view")
    r = query(api, {"interval": "2026-03-01T00:00:00Z/2026-03-02T00:00:00Z"})
    assert r.status_code == 403 and r.json()["code"] == "missing.any.permissions"
    assert "analytics:conversationDetail:view" in r.json()["message"]
    emu.faults.clear()
    emu.faults.malformed("non_json", count=1, path="/api/v2/routing")
    r = api.get(api.base + "/api/v2/routing/wrapupcodes")
    with pytest.raises(ValueError):
        r.json()
    emu.faults.malformed("missing_envelope", count=1)
    assert isinstance(api.get(api.base + "/api/v2/routing/wrapupcodes").json(), list)
    assert "entities" in api.get(api.base + "/api/v2/routing/wrapupcodes").json()


def test_http_admin_endpoints(api, emu):
    admin = emu.base_url + "/_emulator"
    assert requests.post(admin + "/faults", json={"server_errors": {"count": 1, "status": 500},
                                                  "token_ttl": 5}).status_code == 200
    assert api.get(api.base + "/api/v2/flows/outcomes").status_code == 500
    assert requests.post(admin + "/faults", json={"bogus": 1}).status_code == 400
    emu.reset_log()
    api.get(api.base + "/api/v2/flows/outcomes")
    counts = requests.get(admin + "/requests").json()
    assert counts["total"] == 1 and emu.request_count("/api/v2/flows", "GET") == 1
    assert requests.delete(admin + "/faults").json()["rules"] == []
    assert requests.get(admin + "/summary").json()["campaigns"] == 12


# ------------------------------------------------------------------ dataset
def test_determinism():
    small = dict(CONFIG, attempts=300)
    a, b = Dataset.generate(EmulatorConfig(**small)), Dataset.generate(EmulatorConfig(**small))
    assert json.dumps(a.conversations) == json.dumps(b.conversations) and a.campaigns == b.campaigns
    c = Dataset.generate(EmulatorConfig(**dict(small, seed=7)))
    assert json.dumps(a.conversations) != json.dumps(c.conversations)


def test_dataset_properties(emu):
    ds = emu.dataset
    convs = ds.conversations
    outbound = [c for c in convs if c["originatingDirection"] == "outbound"]
    assert len(outbound) == 2000 and all(len(dialer_session(c)) == 1 for c in outbound)
    hours = lambda day: {int(c["conversationStart"][11:13]) for c in outbound  # noqa: E731
                         if c["conversationStart"].startswith(day)}
    assert not hours("2026-03-06") & set(range(2, 13)) and 12 not in hours("2026-03-06")    # EST: 13:00Z-02:00Z
    assert not hours("2026-03-10") & set(range(1, 12)) and 12 in hours("2026-03-10")        # EDT: 12:00Z-01:00Z
    assert any(c["conversationStart"][:10] < c.get("conversationEnd", "")[:10] for c in outbound)
    active = [c for c in outbound if "conversationEnd" not in c]
    assert len(active) >= 3 and all(c["conversationStart"] >= "2026-03-19T23" for c in active)
    skewed = [c for c in outbound if c.get("conversationEnd", "9") < c["conversationStart"]]
    assert len(skewed) >= 3
    wrapups = Counter(seg.get("wrapUpCode") for c in convs for p in c["participants"]
                      for s in p["sessions"] for seg in s["segments"])
    assert wrapups[ds.deleted_wrapup_code_id] >= 2
    for code in ("ININ-OUTBOUND-SIT-UNCALLABLE", "ININ-OUTBOUND-ON-DO-NOT-CALL-LIST", "ININ-OUTBOUND-DNC-SKIPPED",
                 "ININ-OUTBOUND-DNC-AUTHENTICATION-FAILED", "ININ-OUTBOUND-PREVIEW-SKIPPED",
                 "ININ-OUTBOUND-INVALID-PHONE-NUMBER", "ININ-OUTBOUND-TRANSFERRED-TO-QUEUE"):
        assert wrapups[code] >= 1, code
    dispositions = {s.get("dispositionName") for c in outbound for s in dialer_session(c)}
    assert {f"disposition.classification.{k}" for k in (
        "callable.person", "callable.machine", "callable.busy", "callable.noanswer", "callable.fax",
        "callable.sit", "callable.disconnect", "callable.lineconnected", "uncallable.sit",
        "uncallable.notfound")} <= dispositions
    metrics = Counter(m["name"] for c in outbound for s in dialer_session(c) for m in s["metrics"])
    assert metrics["nOutboundAbandoned"] and metrics["nError"] and metrics["nOutboundConnected"]
    assert any(len(c["participants"]) == 1 for c in outbound)             # no media at all
    counts = ds.attempt_counts_by_campaign_and_day()
    assert ds.campaigns[-1]["id"] not in counts and sum(map(sum, (d.values() for d in counts.values()))) == 2000


def test_late_completion_and_new_data_visible_to_queries():
    emu = Emulator(EmulatorConfig(**dict(CONFIG, attempts=300))).start()
    api = requests.Session()
    api.headers["Authorization"], api.base = "Bearer " + get_token(emu), emu.base_url
    interval = "2026-03-19T00:00:00Z/2026-03-20T00:00:00Z"
    before = all_pages(api, {"interval": interval})
    assert any("conversationEnd" not in c for c in before)
    done = requests.post(emu.base_url + "/_emulator/complete-active", json={"at": "2026-03-20T00:10:00Z"}).json()
    after = {c["conversationId"]: c for c in all_pages(api, {"interval": interval})}
    assert done["completed"] and all(after[i]["conversationEnd"] == "2026-03-20T00:10:00.000Z"
                                     for i in done["completed"])
    added = emu.dataset.add_conversations(5, "2026-03-19T10:00:00Z", "2026-03-19T11:00:00Z")
    assert len(all_pages(api, {"interval": interval})) == len(before) + 5 and len(added) == 5
    emu.stop()


# ------------------------------------------------------------------ process
def test_start_is_fast():
    t = time.monotonic()
    with Emulator(EmulatorConfig(attempts=5000)):
        assert time.monotonic() - t < 2


def test_cli_serves_and_exits_cleanly():
    proc = subprocess.Popen([sys.executable, "-m", "genesys_emulator", "--port", "0",
                             "--attempts", "300"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("emulator listening on http://127.0.0.1:")
        assert proc.stdout.readline().strip() == "client_id=emulator-client client_secret=emulator-secret"
        assert requests.get(line.split()[-1] + "/_emulator/summary").json()["attempts"] == 300
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err
    out = subprocess.run([sys.executable, "-m", "genesys_emulator", "--print-summary",
                          "--attempts", "300"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["attempts"] == 300
    usage = subprocess.run([sys.executable, "-m", "genesys_emulator", "--help"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout
    assert "--client-secret" in usage and "0 picks a free port" in usage


# ------------------------------------------------------------------ aggregates, live campaign state
CONV_AGG = "/api/v2/analytics/conversations/aggregates"
FLOW_AGG = "/api/v2/analytics/flows/aggregates"


def test_conversation_aggregates_sum_the_seeded_conversations(api, emu):
    body = {"interval": "2026-03-08T00:00:00Z/2026-03-10T00:00:00Z", "granularity": "PT1H",
            "groupBy": ["outboundCampaignId"], "metrics": ["nOutbound", "nOutboundAttempted", "tTalk"],
            "filter": {"type": "and", "predicates": [{"dimension": "outboundCampaignId", "operator": "exists"}]}}
    r = api.post(api.base + CONV_AGG + "/query", json=body)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    placed = Counter()
    for group in results:
        for item in group["data"]:
            start, end = item["interval"].split("/")
            assert end[11:13] == f"{(int(start[11:13]) + 1) % 24:02d}"           # hourly buckets
            assert item["metrics"], "empty buckets are omitted"
            for m in item["metrics"]:
                if m["metric"] == "nOutbound":
                    placed[group["group"]["outboundCampaignId"]] += m["stats"]["count"]
                if m["metric"] == "tTalk":
                    assert {"sum", "count", "min", "max"} <= set(m["stats"])
    expected = Counter(dialer_session(c)[0]["outboundCampaignId"]
                       for c in emu.dataset.attempts_in("2026-03-08T00:00:00Z", "2026-03-10T00:00:00Z"))
    assert placed == expected


def test_aggregates_reject_oversized_intervals_and_bad_bodies(api):
    base = {"interval": "2026-02-18T00:00:00Z/2026-03-20T00:00:00Z", "metrics": ["nOutbound"]}
    for body, status in (({**base, "granularity": "PT1H"}, 400), ({**base, "granularity": "P1D"}, 200),
                         ({**base, "granularity": "P1X"}, 400), ({**base, "metrics": ["nBogus"]}, 400),
                         ({**base, "groupBy": ["dispositionName"]}, 400),
                         ({"interval": "2015-01-01T00:00:00Z/2026-01-01T00:00:00Z", "granularity": "P1D",
                           "metrics": ["nOutbound"]}, 400),
                         ({"interval": "2020-01-01T00:00:00Z/2026-01-01T00:00:00Z", "granularity": "P1M",
                           "metrics": ["nOutbound"]}, 200),
                         ({"interval": "2015-01-01T00:00:00Z/2026-01-01T00:00:00Z", "granularity": "P1M",
                           "metrics": ["nOutbound"]}, 400)):
        assert api.post(api.base + CONV_AGG + "/query", json=body).status_code == status, body


def test_daily_buckets_follow_the_query_time_zone(api):
    body = {"interval": "2026-03-05T05:00:00Z/2026-03-07T05:00:00Z", "granularity": "P1D",
            "timeZone": "America/New_York", "metrics": ["nOutbound"]}
    r = api.post(api.base + CONV_AGG + "/query", json=body)
    intervals = [d["interval"] for g in r.json()["results"] for d in g["data"]]
    assert intervals == ["2026-03-05T05:00:00.000Z/2026-03-06T05:00:00.000Z",
                         "2026-03-06T05:00:00.000Z/2026-03-07T05:00:00.000Z"]


def test_flow_aggregates_and_aggregate_jobs(api, emu):
    body = {"interval": "2026-02-18T00:00:00Z/2026-03-20T00:00:00Z", "granularity": "P1D",
            "groupBy": ["flowId", "flowOutcomeId", "flowOutcomeValue"],
            "filter": {"type": "and", "predicates": [{"dimension": "flowOutcomeId", "operator": "exists"}]},
            "metrics": ["nFlowOutcome", "nFlowOutcomeFailed", "tFlowOutcome"]}
    query_results = api.post(api.base + FLOW_AGG + "/query", json=body).json()["results"]
    outcome_ids = {g["group"]["flowOutcomeId"] for g in query_results}
    assert emu.dataset.deleted_flow_outcome_id in outcome_ids
    assert outcome_ids - {emu.dataset.deleted_flow_outcome_id} <= {o["id"] for o in emu.dataset.flow_outcomes}
    job = api.post(api.base + FLOW_AGG + "/jobs", json={**body, "pageSize": 2})
    assert job.status_code == 202
    job_id = job.json()["jobId"]
    states = [api.get(f"{api.base}{FLOW_AGG}/jobs/{job_id}").json()["state"] for _ in range(2)]
    assert states[-1] == "FULFILLED"
    pages, cursor = [], None
    while True:
        page = api.get(f"{api.base}{FLOW_AGG}/jobs/{job_id}/results", params={"cursor": cursor} if cursor else {})
        pages.append(page.json()["results"])
        cursor = page.json().get("cursor")
        if not cursor:
            break
    assert len(pages) > 1 and [g for p in pages for g in p] == query_results
    assert api.delete(f"{api.base}{FLOW_AGG}/jobs/{job_id}").status_code == 204
    too_long = {**body, "granularity": "PT1H"}
    assert api.post(api.base + CONV_AGG + "/jobs", json={**too_long, "metrics": ["nOutbound"],
                                                         "groupBy": []}).status_code == 400


def test_campaign_live_state_endpoints(api, emu):
    ids = [c["id"] for c in emu.dataset.campaigns]
    performance = api.post(api.base + "/api/v2/outbound/campaigns/performance/query", json=ids[:5])
    assert performance.status_code == 200 and len(performance.json()["entities"]) == 5
    over = api.post(api.base + "/api/v2/outbound/campaigns/performance/query", json=ids * 5)
    assert over.status_code == 400
    progress = api.post(api.base + "/api/v2/outbound/campaigns/progress", json=ids[:3]).json()
    assert isinstance(progress, list) and [p["campaign"]["id"] for p in progress] == ids[:3]
    stats = api.get(f"{api.base}/api/v2/outbound/campaigns/{ids[0]}/stats").json()
    assert {"contactRate", "idleAgents", "linesUtilization", "businessCategoryMetrics"} <= set(stats)
    assert api.get(f"{api.base}/api/v2/outbound/campaigns/nope/stats").status_code == 404
    summary_url = f"{api.base}/api/v2/outbound/diagnostics/campaigns/{ids[0]}/summary"
    assert api.get(summary_url).status_code == 400                       # start and end are required
    summary = api.get(summary_url, params={"start": "2026-03-18T00:00:00Z", "end": "2026-03-20T00:00:00Z"}).json()
    assert summary["campaignStates"] and summary["campaignHealthStates"]
    assert "dateEnd" not in summary["campaignStates"][-1]                  # the current status is open
    assert summary["campaignStates"][-1]["state"] == emu.dataset.campaigns[0]["campaignStatus"]


# ------------------------------------------------------------------ latency and requests in flight
def test_latency_holds_api_requests_concurrently_and_counts_in_flight(emu, api):
    from concurrent.futures import ThreadPoolExecutor
    token = api.headers["Authorization"]
    assert requests.post(emu.base_url + "/_emulator/faults", json={"latency": {"ms": 300, "jitter": 0.1}}).json()[
        "latency"] == {"ms": 300, "jitter": 0.1}
    emu.reset_log()
    assert emu.max_in_flight == 0

    def one(_):
        t = time.monotonic()
        status = requests.get(emu.base_url + "/api/v2/flows/outcomes", headers={"Authorization": token}).status_code
        return status, time.monotonic() - t
    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(one, range(4)))
    assert all(status == 200 and took >= 0.27 for status, took in done)      # 300 ms - 10 % at least
    assert 1 < emu.max_in_flight <= 4 and emu.in_flight == 0
    summary = requests.get(emu.base_url + "/_emulator/requests").json()
    assert summary["max_in_flight"] == emu.max_in_flight and summary["in_flight"] == 0
    emu.reset_log()
    assert emu.max_in_flight == 0
    emu.faults.clear()                                                       # back to the config: no latency
    assert emu.faults.latency_seconds(emu.config.latency_ms, emu.config.latency_jitter) == 0


def test_latency_from_config_has_seeded_jitter_and_spares_the_token_endpoint():
    with Emulator(EmulatorConfig(attempts=50, latency_ms=500, latency_jitter=0.2)) as slow:
        draws = [slow.faults.latency_seconds(500, 0.2) for _ in range(50)]
        assert all(0.4 <= d <= 0.6 for d in draws) and len(set(draws)) > 1
        token = get_token(slow)                                              # not counted, not delayed
        assert slow.max_in_flight == 0 and slow.requests == [("POST", "/oauth/token", 200)]
        t = time.monotonic()
        requests.get(slow.base_url + "/api/v2/flows/outcomes", headers={"Authorization": "Bearer " + token})
        assert time.monotonic() - t >= 0.4 and slow.max_in_flight == 1


# ------------------------------------------------------------------ switchable API limits
DAY1, DAY2 = "2026-03-10T00:00:00Z/2026-03-11T00:00:00Z", "2026-03-10T00:00:00Z/2026-03-12T00:00:00Z"
PERF = "/api/v2/outbound/campaigns/performance/query"


def _or_filter(n):
    return {"type": "or", "predicates": [{"dimension": "outboundCampaignId", "value": f"c{i}"} for i in range(n)]}


def _agg(interval, granularity="PT1H", **extra):
    return {"interval": interval, "granularity": granularity, "metrics": ["nOutbound"], **extra}


LIMIT_CASES = {   # limit: (value, request over it, request at it, message)
    "details_max_days": (1, ("POST", DETAILS + "/query", {"interval": DAY2}),
                         ("POST", DETAILS + "/query", {"interval": DAY1}), "Interval exceeds the maximum of 1 day(s)"),
    "details_max_page_size": (50, ("POST", DETAILS + "/query", {"interval": DAY1, "paging": {"pageSize": 51}}),
                              ("POST", DETAILS + "/query", {"interval": DAY1, "paging": {"pageSize": 50}}),
                              "pageSize must be less than or equal to 50"),
    "details_max_results": (500, ("POST", DETAILS + "/query", {"interval": DAY1, "paging": {"pageSize": 100,
                                                                                          "pageNumber": 6}}),
                            ("POST", DETAILS + "/query", {"interval": DAY1, "paging": {"pageSize": 100,
                                                                                      "pageNumber": 5}}),
                            "Pagination may not exceed 500 results"),
    "aggregate_max_buckets": (100, ("POST", CONV_AGG + "/query", _agg("2026-03-10T00:00:00Z/2026-03-15T00:00:00Z")),
                              ("POST", CONV_AGG + "/query", _agg("2026-03-10T00:00:00Z/2026-03-14T04:00:00Z")),
                              "Number of intervals (buckets) exceeds the maximum of 100"),
    "aggregate_max_days": (2, ("POST", FLOW_AGG + "/jobs", {**_agg("2026-03-10T00:00:00Z/2026-03-13T00:00:00Z", "P1D"),
                                                           "metrics": ["nFlowOutcome"]}),
                           ("POST", FLOW_AGG + "/jobs", {**_agg(DAY2, "P1D"), "metrics": ["nFlowOutcome"]}),
                           "Interval exceeds the maximum of 2 day(s)"),
    "filter_max_predicates": (10, ("POST", DETAILS + "/query", {"interval": DAY1, "segmentFilters": [_or_filter(11)]}),
                              ("POST", CONV_AGG + "/query", _agg(DAY1, filter=_or_filter(10))),
                              "Filter predicates may not exceed 10"),
    "performance_max_ids": (5, ("POST", PERF, [f"id{i}" for i in range(6)]), ("POST", PERF, ["id0"] * 5),
                            "At most 5 campaign ids per request, got 6"),
}


@pytest.mark.parametrize("name", sorted(LIMIT_CASES))
def test_switched_limit_answers_400_naming_it(api, emu, name):
    value, (m1, p1, over), (m2, p2, under), message = LIMIT_CASES[name]
    assert api.request(m1, api.base + p1, json=over).status_code in (200, 202)           # off by default
    emu.faults.limits(**{name: value})
    r = api.request(m1, api.base + p1, json=over)
    assert r.status_code == 400 and r.json()["message"] == message, r.text
    assert r.json()["code"] == "bad.request" and set(r.json()) == {"message", "code", "status", "contextId",
                                                                    "details", "errors"}
    assert api.request(m2, api.base + p2, json=under).status_code in (200, 202)
    emu.faults.clear()
    assert emu.limits.__getattribute__(name) is None


def test_diagnostics_range_limit_over_http_admin(api, emu):
    admin = emu.base_url + "/_emulator/faults"
    snap = requests.post(admin, json={"limits": {"diagnostics_max_days": 7}}).json()
    assert snap["limits"] == {"diagnostics_max_days": 7} and emu.limits.diagnostics_max_days == 7
    url = f"{api.base}/api/v2/outbound/diagnostics/campaigns/{emu.dataset.campaigns[0]['id']}/summary"
    over = api.get(url, params={"start": "2026-03-01T00:00:00Z", "end": "2026-03-09T00:00:00Z"})
    assert over.status_code == 400 and over.json()["message"] == "The date range cannot exceed 7 days"
    assert api.get(url, params={"start": "2026-03-01T00:00:00Z", "end": "2026-03-08T00:00:00Z"}).status_code == 200
    assert requests.post(admin, json={"limits": {"bogus_limit": 1}}).status_code == 400
    assert requests.delete(admin).json()["limits"] == {}


def test_job_results_page_size_and_pagination_cap(api, emu):
    job, states = run_job(api, {"interval": DAY1})
    assert states[-1] == "FULFILLED"
    url = f"{api.base}{DETAILS}/jobs/{job}/results"
    total = len(job_results(api, job))
    assert total > 40
    emu.faults.limits(job_max_page_size=20, job_max_results=30)
    over = api.get(url, params={"pageSize": 21})
    assert over.status_code == 400 and over.json()["message"] == "pageSize must be less than or equal to 20"
    first = api.get(url)                                       # the default page size is clamped to the limit
    assert first.status_code == 200 and len(first.json()["conversations"]) == 20
    second = api.get(url, params={"pageSize": 20, "cursor": first.json()["cursor"]})
    assert second.status_code == 400 and second.json()["message"] == "Pagination may not exceed 30 results"
    assert api.get(url, params={"pageSize": 10, "cursor": first.json()["cursor"]}).status_code == 200
    small, _ = run_job(api, {"interval": DAY1, "limit": 25})   # a job under the cap pages to its end
    assert api.get(f"{api.base}{DETAILS}/jobs/{small}/results", params={"pageSize": 20}).status_code == 200
    agg = api.post(api.base + CONV_AGG + "/jobs", json={**_agg(DAY1), "pageSize": 21})
    assert agg.status_code == 400 and agg.json()["message"] == "pageSize must be less than or equal to 20"


# ------------------------------------------------------------------ a metric on two participants
def test_some_conversations_carry_talk_on_two_participants_counted_once_by_aggregates(api, emu):
    docs = emu.dataset.attempts_in("2026-03-08T00:00:00Z", "2026-03-10T00:00:00Z")
    agent_calls = [d for d in emu.dataset.attempts_in("2026-02-18T00:00:00Z", "2026-03-20T00:00:00Z")
                   if "conversationEnd" in d and any(p["purpose"] == "agent" and any(
                       m["name"] == "tHandle" for s in p["sessions"] for m in s.get("metrics", ()))
                       for p in d["participants"])]

    def metrics(doc, purpose):
        return {m["name"]: m["value"] for p in doc["participants"] if p["purpose"] == purpose
                for s in p["sessions"] for m in s.get("metrics", ())}
    mirrored = [d for d in agent_calls if metrics(d, "customer")]
    assert 0.02 < len(mirrored) / len(agent_calls) < 0.09
    assert all(metrics(d, "customer") == {k: metrics(d, "agent")[k] for k in ("tTalk", "tHandle")} for d in mirrored)
    body = {"interval": "2026-03-08T00:00:00Z/2026-03-10T00:00:00Z", "metrics": ["tTalk", "tHandle"],
            "filter": {"type": "and", "predicates": [{"dimension": "outboundCampaignId", "operator": "exists"}]}}
    got = {m["metric"]: m["stats"]["sum"] for g in api.post(api.base + CONV_AGG + "/query", json=body).json()["results"]
           for item in g["data"] for m in item["metrics"]}
    assert got == {name: sum(metrics(d, "agent").get(name, 0) for d in docs) for name in ("tTalk", "tHandle")}
