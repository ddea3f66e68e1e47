"""The baseline: the simplest loop that fetches the same data as the tap (requests + json only).

    python bench/baseline.py CONFIG.json

CONFIG keys: api_url, login_url, client_id, client_secret, start_date, end_date, async_jobs
(auto/always/never, planned like the tap), streams ("attempts" or "all"), output (path; /dev/null for
the benchmark), stats (path: a JSON summary of what was fetched, used for the minimum request count).

It sends the tap's requests: one token, the wrap-up code listing (the tap reads it for `status`),
the jobs availability date, then per window either a details job (submit, poll with the tap's
0.5 s doubling sleeps, results at pageSize 1000) or the sync query (pageSize 100), with the tap's
query bodies and windows (UTC-midnight pieces of at most 7 days for the query; for jobs, the tap's even
pieces of at most 14 days, as many as a multiple of its 2 jobs in flight). Each conversation is written
as one JSON line. It stops paging at a short page, so it makes the minimum number of requests.
No retries beyond honouring a 429's Retry-After (the benchmark runs it without faults).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time

import requests

DETAILS = "/api/v2/analytics/conversations/details"
UTC = dt.UTC


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def windows(start: dt.datetime, end: dt.datetime, max_days: int = 7) -> list[tuple[dt.datetime, dt.datetime]]:
    out = []
    while start < end:
        midnight = dt.datetime.combine(start.date(), dt.time(), UTC) + dt.timedelta(days=max_days)
        piece_end = min(end, midnight)
        out.append((start, piece_end))
        start = piece_end
    return out


def job_windows(start: dt.datetime, end: dt.datetime, max_days: int = 14, jobs: int = 2) -> list[tuple]:
    """The tap's job windows: the fewest even whole-day pieces of <= 14 days, a multiple of 2 in number."""
    days = windows(start, end, 1)
    count = -(-len(days) // max_days)
    count = min(len(days), -(-count // jobs) * jobs)
    out, first = [], 0
    for index in range(count):
        last = first + len(days) // count + (1 if index < len(days) % count else 0)
        out.append((days[first][0], days[last - 1][1]))
        first = last
    return out


def main(config_path: str) -> None:
    cfg = json.load(open(config_path))
    api, session = cfg["api_url"].rstrip("/"), requests.Session()
    stats = {"requests": 0, "records": 0, "windows": [], "listings": {}, "polls": 0}

    def call(method: str, path: str, base: str = api, **kwargs) -> dict:
        while True:
            stats["requests"] += 1
            response = session.request(method, base + path, timeout=60, **kwargs)
            if response.status_code == 429:
                time.sleep(float(response.headers.get("Retry-After", 3)))
                continue
            response.raise_for_status()
            return response.json() if response.content else {}

    token = call("POST", "/oauth/token", base=cfg["login_url"].rstrip("/"),
                 auth=(cfg["client_id"], cfg["client_secret"]), data={"grant_type": "client_credentials"})
    session.headers["Authorization"] = f"Bearer {token['access_token']}"
    out = open(cfg["output"], "w")

    def write(rows: list) -> None:
        for row in rows:
            out.write(json.dumps(row))
            out.write("\n")
        stats["records"] += len(rows)

    def listing(path: str, emit: bool) -> None:
        number, pages, count = 1, 0, 0
        while True:
            body = call("GET", path, params={"pageSize": 100, "pageNumber": number})
            pages += 1
            count += len(body.get("entities") or [])
            if emit:
                write(body.get("entities") or [])
            if number >= (body.get("pageCount") or 0):
                break
            number += 1
        stats["listings"][path] = {"pages": pages, "entities": count}

    everything = cfg.get("streams", "attempts") == "all"
    listing("/api/v2/routing/wrapupcodes", emit=everything)
    if everything:
        listing("/api/v2/outbound/campaigns", emit=True)
        listing("/api/v2/outbound/callanalysisresponsesets", emit=True)
        write([call("GET", "/api/v2/outbound/wrapupcodemappings")])
        stats["listings"]["/api/v2/outbound/wrapupcodemappings"] = {"pages": 1, "entities": 1}

    start, end, mode = ts(cfg["start_date"]), ts(cfg["end_date"]), cfg.get("async_jobs", "auto")
    plan = [(w, False) for w in windows(start, end)]
    if mode != "never":
        available = ts(call("GET", f"{DETAILS}/jobs/availability")["dataAvailabilityDate"])
        split = min(max(available, start), end)
        plan = [(w, True) for w in job_windows(start, split)]
        if mode == "auto":
            plan += [(w, False) for w in windows(split, end)]

    segment_filter = {"type": "and", "predicates": [
        {"type": "dimension", "dimension": "outboundCampaignId", "operator": "exists"}]}
    for (w_start, w_end), use_job in plan:
        body = {"interval": f"{iso(w_start)}/{iso(w_end)}", "order": "asc", "orderBy": "conversationStart",
                "segmentFilters": [segment_filter]}
        hits = pages = polls = 0
        if use_job:
            job_id = call("POST", f"{DETAILS}/jobs", json={**body, "startOfDayIntervalMatching": True})["jobId"]
            delay = 0.5
            while True:
                time.sleep(delay)
                polls += 1
                if call("GET", f"{DETAILS}/jobs/{job_id}")["state"] == "FULFILLED":
                    break
                delay = min(delay * 2, 15.0)
            cursor = None
            while True:
                params = {"pageSize": 1000, **({"cursor": cursor} if cursor else {})}
                page = call("GET", f"{DETAILS}/jobs/{job_id}/results", params=params)
                pages += 1
                rows = page.get("conversations") or []
                hits += len(rows)
                write(rows)
                cursor = page.get("cursor")
                if not cursor:
                    break
        else:
            number = 1
            while True:
                page = call("POST", f"{DETAILS}/query", json={**body, "paging": {"pageSize": 100,
                                                                                  "pageNumber": number}})
                pages += 1
                rows = page.get("conversations") or []
                hits += len(rows)
                write(rows)
                if len(rows) < 100 or hits >= (page.get("totalHits") or 0):
                    break
                number += 1
        stats["polls"] += polls
        stats["windows"].append({"interval": body["interval"], "job": use_job, "hits": hits, "pages": pages,
                                 "polls": polls})
    out.close()
    if cfg.get("stats"):
        with open(cfg["stats"], "w") as handle:
            json.dump(stats, handle)


if __name__ == "__main__":
    main(sys.argv[1])
