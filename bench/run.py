"""Extraction benchmark of tap-genesys-outbound against the bundled emulator (issue 5).

    make bench                                  # default scale (50,000 attempts over 30 days, 3 runs)
    .venv/bin/python bench/run.py --quick       # smoke scale (5,000 attempts over 10 days, 1 run)
    .venv/bin/python bench/run.py --attempts 100000 --days 30 --runs 5
    .venv/bin/python bench/run.py --rss-scale   # adds the 500,000-attempt peak-RSS check (~3 GB RAM for
                                                #   the emulator, several extra minutes)
    .venv/bin/python bench/run.py --profile prof.out   # also cProfile one tap run on attempts

Everything runs in its own process so the CPU figures are the tap's alone: the emulator (CLI,
`--port 0`), the tap (`python -m tap_genesys_outbound.tap`, stdout to /dev/null) and the baseline
loop (`bench/baseline.py`: requests + json, same requests, each conversation written as a JSON
line to /dev/null). CPU and peak RSS come from `os.wait4` of each child; requests and 429s from
the emulator's request log (`GET /_emulator/requests`). Figures are medians over `--runs` runs.

Measured:
1. `attempts` stream and a full run of all streams: records per CPU-second of the tap and of the
   baseline, their ratio (target >= 0.70 for attempts, goal 0.80), the tap's peak RSS (target < 200 MB), and
   HTTP requests made over the minimum the data needs (target <= 1.02). The minimum is: 1 token,
   the listings' pages at pageSize 100, the availability date, and per window either
   submit + the polls the job needs + ceil(rows / 1000) result pages, or ceil(rows / 100) query
   pages (at least one page per window).
2. Rate limit enforced by the emulator (`--rl-rate`, default 300/min, 429 + Retry-After past it) and
   the tap's `max_requests_per_minute` set to the same value: wall time over the theoretical minimum
   (answered requests / rate; target <= 1.10) and the share of 429s (target <= 1%). The attempts
   stream is read with the sync query (`async_jobs=never`) over enough recent days for about
   `--rl-requests` requests, so the limiter's 60-second window turns over at least once.
3. Peak RSS over a quarter of the range versus the full range (should not grow with records), and
   with `--rss-scale` at 500,000 attempts (target < 200 MB).
Wall-clock throughput is capped by the request budget, so it is reported but not targeted.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = Path(__file__).resolve().parent / "baseline.py"
ANCHOR = "2026-03-20T00:00:00Z"
CLIENT_ID, CLIENT_SECRET = "emulator-client", "emulator-secret"
QUERY_PAGE, JOB_PAGE, LISTING_PAGE = 100, 1000, 100
#: Endpoints the baseline loop reproduces (attempts and the original reference listings); requests to
#: any other path (streams added later: interval stats, flows, snapshots) have no baseline or minimum.
BASELINE_PATHS = ("/oauth/token", "/api/v2/routing/wrapupcodes", "/api/v2/outbound/campaigns",
                  "/api/v2/outbound/callanalysisresponsesets", "/api/v2/outbound/wrapupcodemappings")
BASELINE_STREAMS = ("attempts", "campaigns", "dispositions", "call_analysis_response_sets")
DETAILS_PREFIX = "/api/v2/analytics/conversations/details"
SUMMARY_LINE = re.compile(r"(\w+) summary: (\d+) records, (\d+) requests, (\d+) retries, ([\d.]+) s waited")


# ------------------------------------------------------------------ processes
@dataclasses.dataclass
class ChildRun:
    """One measured child process."""

    cpu: float          # user + system seconds
    rss_mb: float       # peak resident set size
    wall: float
    returncode: int
    stderr: str


def run_child(args: list[str], *, stdout: t.Any = subprocess.DEVNULL, timeout: float = 3600) -> ChildRun:
    """Run `args`, returning its own CPU time and peak RSS (os.wait4: this child only)."""
    with tempfile.TemporaryFile(mode="w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen(args, stdout=stdout, stderr=err, cwd=ROOT)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    return ChildRun(usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, wall, proc.returncode, stderr)


class EmulatorProcess:
    """The emulator CLI in a child process (its CPU is not the tap's)."""

    def __init__(self, attempts: int, days: int, seed: int, latency_ms: float = 0) -> None:
        self.attempts, self.days = attempts, days
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "genesys_emulator", "--port", "0", "--seed", str(seed),
             "--attempts", str(attempts), "--days", str(days), "--anchor", ANCHOR,
             "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
             "--latency-ms", str(latency_ms), "--latency-jitter", "0.2"],
            stdout=subprocess.PIPE, text=True, cwd=ROOT)
        line = self.proc.stdout.readline()
        match = re.search(r"(http://\S+)", line)
        if not match:
            self.stop()
            raise SystemExit(f"bench: the emulator did not start ({line!r})")
        self.url = match.group(1)

    def admin(self, method: str, what: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/_emulator/{what}", data=data, method=method,  # noqa: S310 - loopback
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - loopback
            return json.loads(response.read() or b"{}")

    def reset_log(self) -> None:
        self.admin("DELETE", "requests")

    def log(self) -> list[tuple[str, str, int]]:
        return [tuple(entry) for entry in self.admin("GET", "requests")["log"]]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ------------------------------------------------------------------ one measured run
@dataclasses.dataclass
class Measure:
    records: int
    cpu: float
    rss_mb: float
    wall: float
    requests: int           # answered by the emulator, 429s included
    throttled: int          # 429s
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def per_cpu(self) -> float:
        return self.records / self.cpu if self.cpu else math.inf


class Bench:
    def __init__(self, emu: EmulatorProcess, work: Path, async_jobs: str, tap_script: str | None = None) -> None:
        self.emu, self.work, self.async_jobs = emu, work, async_jobs
        self.tap_entry = [tap_script] if tap_script else ["-m", "tap_genesys_outbound.tap"]
        self.start = iso(parse(ANCHOR) - dt.timedelta(days=emu.days))
        self._catalog: dict | None = None

    def tap_config(self, **overrides: t.Any) -> dict:
        return {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "api_url": self.emu.url,
                "login_url": self.emu.url, "start_date": self.start, "end_date": ANCHOR,
                "max_requests_per_minute": 300, "async_jobs": self.async_jobs, **overrides}

    def catalog(self, streams: str) -> Path:
        if self._catalog is None:
            out = subprocess.run([sys.executable, "-m", "tap_genesys_outbound.tap", "--discover"],
                                 capture_output=True, text=True, check=True, cwd=ROOT)
            self._catalog = json.loads(out.stdout)
        catalog = json.loads(json.dumps(self._catalog))
        for stream in catalog["streams"]:
            for entry in stream["metadata"]:
                if entry["breadcrumb"] == []:
                    entry["metadata"]["selected"] = streams == "all" or stream["tap_stream_id"] == streams
        return write_json(self.work / f"catalog-{streams}.json", catalog)

    def _counted(self, run: ChildRun, what: str) -> tuple[int, int, list]:
        if run.returncode != 0:
            raise SystemExit(f"bench: {what} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
        log = self.emu.log()
        return len(log), sum(1 for _, _, status in log if status == 429), log

    def tap(self, streams: str, *, profile: str | None = None, **config: t.Any) -> Measure:
        args = [sys.executable]
        if profile:
            args += ["-m", "cProfile", "-o", profile]
        args += [*self.tap_entry, "--config", str(write_json(self.work / "tap-config.json", self.tap_config(**config))), "--catalog", str(self.catalog(streams))]
        self.emu.reset_log()
        run = run_child(args)
        requests_, throttled, log = self._counted(run, "the tap")
        summaries = {m.group(1): int(m.group(2)) for m in SUMMARY_LINE.finditer(run.stderr)}
        covered = sum(1 for _, path, _ in log if path in BASELINE_PATHS or path.startswith(DETAILS_PREFIX))
        other_paths: dict[str, int] = {}
        for method, path, _ in log:
            if not (path in BASELINE_PATHS or path.startswith(DETAILS_PREFIX)):
                key = f"{method} {re.sub(r'/[0-9a-f-]{36}', '/{id}', path)}"
                other_paths[key] = other_paths.get(key, 0) + 1
        return Measure(sum(summaries.values()), run.cpu, run.rss_mb, run.wall, requests_, throttled,
                       {"per_stream": summaries, "covered_requests": covered, "other_paths": other_paths,
                        "covered_records": sum(n for k, n in summaries.items() if k in BASELINE_STREAMS)})

    def baseline(self, streams: str) -> Measure:
        return self.baseline_from(None, streams)

    def baseline_from(self, start: str | None, streams: str = "attempts") -> Measure:
        stats_path = self.work / "baseline-stats.json"
        config = {**self.tap_config(**({"start_date": start} if start else {})), "streams": streams,
                  "output": os.devnull, "stats": str(stats_path)}
        self.emu.reset_log()
        run = run_child([sys.executable, str(BASELINE), str(write_json(self.work / "baseline.json", config))])
        requests_, throttled, _ = self._counted(run, "the baseline loop")
        stats = json.loads(stats_path.read_text())
        return Measure(stats["records"], run.cpu, run.rss_mb, run.wall, requests_, throttled, {"stats": stats})


def minimum_requests(stats: dict) -> int:
    """Token + listing pages + availability + per window the pages (and job submit/polls) the rows need."""
    total = 1 + sum(max(1, math.ceil(v["entities"] / LISTING_PAGE)) for v in stats["listings"].values())
    total += 1 if stats.get("asked_availability") else 0
    for w in stats["windows"]:
        if w["job"]:
            total += 1 + w["polls"] + max(1, math.ceil(w["hits"] / JOB_PAGE))
        else:
            total += max(1, math.ceil(w["hits"] / QUERY_PAGE))
    return total


# ------------------------------------------------------------------ helpers
def parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_json(path: Path, content: t.Any) -> Path:
    path.write_text(json.dumps(content))
    return path


def med(values: t.Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if values else math.nan


def say(*parts: t.Any) -> None:
    print(*parts, file=sys.stderr, flush=True)  # progress on stderr, the table on stdout


# ------------------------------------------------------------------ the table
class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.notes: list[str] = []

    def section(self, title: str) -> None:
        self.rows.append((f"-- {title}", "", "", "", ""))

    def add(self, name: str, value: str, target: str = "", ratio: str = "", verdict: bool | None = None) -> None:
        self.rows.append((name, value, ratio, target, "" if verdict is None else ("PASS" if verdict else "FAIL")))

    def print(self) -> None:
        header = ("figure", "value", "ratio", "target", "")
        body = [r for r in self.rows if not r[0].startswith("-- ")]
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(5)]
        line = "  ".join("-" * w for w in widths)
        print(line)
        print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)))
        print(line)
        for row in self.rows:
            if row[0].startswith("-- "):
                print(row[0])
            else:
                print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())
        print(line)
        for note in self.notes:
            print(note)


def throughput_section(table: Table, title: str, taps: list[Measure], bases: list[Measure], minimum: int,
                       *, cpu_target: float | None, startup_cpu: float) -> dict:
    tap_rate, base_rate = med(m.per_cpu for m in taps), med(m.per_cpu for m in bases)
    tap_cpu, base_cpu = med(m.cpu for m in taps), med(m.cpu for m in bases)
    records = med(m.records for m in taps)
    rss = med(m.rss_mb for m in taps)
    requests_ = med(m.extra["covered_requests"] for m in taps)
    others = med(m.requests - m.extra["covered_requests"] for m in taps)
    other_records = med(m.records - m.extra["covered_records"] for m in taps)
    ratio = tap_rate / base_rate
    table.section(f"{title} (median of {len(taps)} runs)")
    table.add("records (tap / baseline rows)", f"{records:,.0f} / {med(m.records for m in bases):,.0f}")
    if others or other_records:
        streams_ = sorted(set(taps[-1].extra["per_stream"]) - set(BASELINE_STREAMS))
        table.add("  of which streams without a baseline (*)", f"{other_records:,.0f} records, {others:.0f} requests")
        table.notes.append("(*) no baseline or minimum for: " + ", ".join(streams_) + "; their requests: "
                           + ", ".join(f"{k} x{n}" for k, n in sorted(taps[-1].extra["other_paths"].items())))
    table.add("CPU s (tap / baseline)", f"{tap_cpu:.2f} / {base_cpu:.2f}")
    table.add("records per CPU-s, tap", f"{tap_rate:,.0f}")
    table.add("records per CPU-s, baseline loop", f"{base_rate:,.0f}")
    table.add("tap / baseline records per CPU-s" + (" (tap: all its streams)" if others else ""), f"{ratio:.0%}", f">= {cpu_target:.0%}" if cpu_target else "",
              f"{ratio:.2f}", ratio >= cpu_target if cpu_target else None)
    steady = records / max(1e-9, tap_cpu - startup_cpu)
    table.add(f"  tap excl. {startup_cpu:.2f} s startup CPU", f"{steady:,.0f} rec/CPU-s", "",
              f"{steady / base_rate:.2f}")
    table.add("tap peak RSS", f"{rss:.0f} MB", "< 200 MB", "", rss < 200)
    table.add("baseline peak RSS", f"{med(m.rss_mb for m in bases):.0f} MB")
    table.add("HTTP requests (tap / minimum)" + (", baseline-covered endpoints" if others else ""),
              f"{requests_:.0f} / {minimum}", "<= 1.02",
              f"{requests_ / minimum:.3f}", requests_ / minimum <= 1.02)
    table.add("  baseline requests", f"{med(m.requests for m in bases):.0f}")
    table.add("wall s (tap / baseline; tap paced at 300/min)",
              f"{med(m.wall for m in taps):.1f} / {med(m.wall for m in bases):.1f}")
    return {"tap_records_per_cpu_s": tap_rate, "baseline_records_per_cpu_s": base_rate, "ratio": ratio,
            "tap_cpu_s": tap_cpu, "baseline_cpu_s": base_cpu, "records": records, "tap_peak_rss_mb": rss,
            "requests": requests_, "minimum_requests": minimum, "requests_without_baseline": others,
            "records_without_baseline": other_records,
            "other_paths": taps[-1].extra["other_paths"], "runs": [dataclasses.asdict(m) for m in taps]}


# ------------------------------------------------------------------ main
class _SkipThroughput(Exception):
    """--latency-only: leave the throughput and rate-limit sections out."""



def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--attempts", type=int, default=50_000, help="emulator attempts (default 50,000)")
    p.add_argument("--days", type=int, default=30, help="days of data before the anchor (default 30)")
    p.add_argument("--runs", type=int, default=3, help="runs per figure; medians are quoted (default 3)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--async-jobs", default="auto", choices=("auto", "always", "never"),
                   help="the tap's async_jobs for the throughput runs (default auto)")
    p.add_argument("--quick", action="store_true", help="5,000 attempts, 10 days, 1 run, short rate-limit run")
    p.add_argument("--rl-rate", type=int, default=300, help="emulator limit, requests/min (default 300)")
    p.add_argument("--rl-tap-rpm", type=int, default=None, help="tap max_requests_per_minute (default: --rl-rate)")
    p.add_argument("--rl-requests", type=int, default=360,
                   help="size the rate-limited run to about this many requests (default 360)")
    p.add_argument("--rl-runs", type=int, default=None, help="rate-limited runs (default: --runs)")
    p.add_argument("--skip-rl", action="store_true", help="skip the rate-limited measurement")
    p.add_argument("--rss-scale", action="store_true",
                   help="also measure peak RSS at 500,000 attempts (emulator needs ~3 GB, adds minutes)")
    p.add_argument("--rss-attempts", type=int, default=500_000)
    p.add_argument("--skip-latency", action="store_true", help="skip the real-org latency scenario")
    p.add_argument("--latency-only", action="store_true", help="run only the real-org latency scenario")
    p.add_argument("--latency-ms", type=float, default=500, help="server time per API request (default 500, +-20%%)")
    p.add_argument("--latency-server-rpm", type=int, default=250,
                   help="requests/min the latency emulator allows before 429 (default 250)")
    p.add_argument("--latency-budget", type=int, default=240, help="the tap's max_requests_per_minute (default 240)")
    p.add_argument("--latency-requests", type=int, default=300,
                   help="size the latency sync run to about this many requests (default 300)")
    p.add_argument("--workers", default="4",
                   help="max_concurrent_requests values for the latency scenario, comma-separated (default 4)")
    p.add_argument("--latency-baseline", action=argparse.BooleanOptionalAction, default=True,
                   help="also run the serial bare loop at the same latency (default on)")
    p.add_argument("--profile", metavar="PATH", help="also cProfile one tap run (attempts) into PATH")
    p.add_argument("--json", metavar="PATH", help="write all figures as JSON to PATH")
    p.add_argument("--tap-script", metavar="PATH",
                   help="run `python PATH` instead of `python -m tap_genesys_outbound.tap` (to compare a variant)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.attempts, args.days, args.runs = 5_000, 10, 1
        args.rl_requests = min(args.rl_requests, 60)
        args.latency_requests = min(args.latency_requests, 80)
    rl_runs = args.rl_runs or args.runs
    results: dict = {"args": vars(args)}
    table = Table()
    with tempfile.TemporaryDirectory(prefix="tap-genesys-bench-") as tmp:
        work = Path(tmp)
        say(f"bench: starting the emulator ({args.attempts:,} attempts over {args.days} days)...")
        emu = EmulatorProcess(args.attempts, args.days, args.seed)
        try:
            if args.latency_only:
                raise _SkipThroughput
            bench = Bench(emu, work, args.async_jobs, args.tap_script)
            say("bench: warm-up (the emulator renders every conversation once)...")
            bench.baseline("all")
            startup = med(run_child([sys.executable, "-c", "import tap_genesys_outbound.tap"]).cpu
                          for _ in range(3))
            results["tap_import_cpu_s"] = startup
            for streams, target in (("attempts", 0.70), ("all", None)):
                taps, bases = [], []
                for i in range(args.runs):
                    say(f"bench: {streams} run {i + 1}/{args.runs}: tap...")
                    taps.append(bench.tap(streams))
                    say(f"bench:   {taps[-1].records:,} records, {taps[-1].cpu:.2f} CPU s, "
                        f"{taps[-1].rss_mb:.0f} MB, {taps[-1].requests} requests, {taps[-1].wall:.1f} s; baseline...")
                    bases.append(bench.baseline(streams))
                    say(f"bench:   {bases[-1].records:,} rows, {bases[-1].cpu:.2f} CPU s, "
                        f"{bases[-1].requests} requests, {bases[-1].wall:.1f} s")
                stats = bases[-1].extra["stats"]
                stats["asked_availability"] = args.async_jobs != "never"
                minimum = minimum_requests(stats)
                title = "attempts stream" if streams == "attempts" else "full run, all streams"
                results[streams] = throughput_section(table, title, taps, bases, minimum,
                                                      cpu_target=None if args.quick else target,
                                                      startup_cpu=startup)
            table.add("tap start-up CPU (import only)", f"{startup:.2f} s")

            # RSS versus record count: a quarter of the range, then the whole (medians above).
            quarter_days = max(1, args.days // 4)
            say(f"bench: peak RSS over the last {quarter_days} days...")
            quarter = bench.tap("attempts", start_date=iso(parse(ANCHOR) - dt.timedelta(days=quarter_days)))
            full = results["attempts"]
            growth = (full["tap_peak_rss_mb"] - quarter.rss_mb) / max(1, full["records"] - quarter.records) * 1e5
            table.section("peak RSS versus record count (attempts)")
            table.add(f"RSS, {quarter.records:,} records ({quarter_days} days)", f"{quarter.rss_mb:.0f} MB")
            table.add(f"RSS, {full['records']:,.0f} records ({args.days} days)", f"{full['tap_peak_rss_mb']:.0f} MB")
            table.add("RSS growth per 100,000 more records", f"{growth:+.1f} MB", "~0 (flat)")
            results["rss_quarter"] = dataclasses.asdict(quarter)

            if args.profile:
                say(f"bench: cProfile of one attempts run into {args.profile}...")
                bench.tap("attempts", profile=args.profile)

            if not args.skip_rl:
                rl_section(table, results, bench, emu, args, rl_runs)
        except _SkipThroughput:
            pass
        finally:
            emu.stop()

        if not args.skip_latency:
            latency_section(table, results, work, args)

        if args.rss_scale:
            say(f"bench: starting a {args.rss_attempts:,}-attempt emulator for the RSS check (slow)...")
            big = EmulatorProcess(args.rss_attempts, args.days, args.seed)
            try:
                bench = Bench(big, work, args.async_jobs, args.tap_script)
                say("bench: warm-up of the big emulator...")
                bench.baseline("attempts")
                say("bench: tap on the big emulator...")
                run = bench.tap("attempts")
                table.section(f"peak RSS at {args.rss_attempts:,} attempts")
                table.add(f"tap peak RSS, {run.records:,} records", f"{run.rss_mb:.0f} MB", "< 200 MB", "",
                          run.rss_mb < 200)
                table.add("records per CPU-s at this scale", f"{run.per_cpu:,.0f}")
                results["rss_scale"] = dataclasses.asdict(run)
            finally:
                big.stop()

    print(f"\ntap-genesys-outbound benchmark: {args.attempts:,} attempts over {args.days} days, "
          f"async_jobs={args.async_jobs}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    if args.quick:
        table.notes.append("--quick: no verdict on records per CPU-second or the jobs' drain rate: at 5,000 attempts the "
                           "import start-up and job set-up dominate them; run without --quick for those figures.")
    table.print()
    if args.json:
        write_json(Path(args.json), results)
    return 0


def latency_section(table: Table, results: dict, work: Path, args: argparse.Namespace) -> None:
    """A real org's pace: every API answer after `--latency-ms` (+-20 %), the server allowing
    `--latency-server-rpm`, the tap's default budget. Budget use = API requests per minute of wall over
    the budget; jobs drain rate = records/s over budget/60 x 1,000 (the job page size)."""
    say(f"bench: latency scenario: emulator answering after {args.latency_ms:.0f} ms, "
        f"limit {args.latency_server_rpm}/min, tap budget {args.latency_budget}/min...")
    emu = EmulatorProcess(args.attempts, args.days, args.seed, latency_ms=args.latency_ms)
    per_day_pages = max(1.0, args.attempts / args.days / QUERY_PAGE)
    days = min(args.days, max(1, math.ceil(args.latency_requests / per_day_pages)))
    sync_start = iso(parse(ANCHOR) - dt.timedelta(days=days))
    budget, ceiling = args.latency_budget, args.latency_budget / 60 * JOB_PAGE
    out: dict = {"latency_ms": args.latency_ms, "server_rpm": args.latency_server_rpm, "budget": budget,
                 "sync_days": days, "sync": {}, "jobs": {}}
    try:
        bench = Bench(emu, work, "never")
        table.section(f"latency {args.latency_ms:.0f} ms (+-20 %), server limit {args.latency_server_rpm}/min, "
                      f"tap budget {budget}/min")

        def api_rate(m: Measure) -> float:
            return (m.requests - m.extra.get("token_requests", 0)) / (m.wall / 60) / budget

        def limited(run: t.Callable[[], Measure]) -> Measure:
            emu.admin("DELETE", "faults")
            emu.admin("POST", "faults", {"enforce_rate_limit": args.latency_server_rpm})
            try:
                m = run()
            finally:
                emu.admin("DELETE", "faults")
            m.extra["token_requests"] = sum(1 for _, path, _ in emu.log() if path == "/oauth/token")
            return m

        for workers in [int(w) for w in str(args.workers).split(",")]:
            say(f"bench:   sync query, {days} days, {workers} worker(s)...")
            m = limited(lambda w=workers: bench.tap("attempts", start_date=sync_start, async_jobs="never",
                                                    max_requests_per_minute=budget, max_concurrent_requests=w))
            use, share = api_rate(m), m.throttled / max(1, m.requests)
            say(f"bench:     {m.records:,} records, {m.requests} requests ({m.throttled} x 429), {m.wall:.1f} s, "
                f"budget use {use:.2f}, {m.rss_mb:.0f} MB")
            table.add(f"sync: budget use, {workers} worker(s)", f"{m.requests} req in {m.wall:.1f} s",
                      ">= 0.8x", f"{use:.2f}", use >= 0.8 if workers > 1 else None)
            table.add(f"  429s at {args.latency_server_rpm}/min, {workers} worker(s)",
                      f"{m.throttled} ({share:.1%})", "<= 5%", "", share <= 0.05)
            table.add(f"  peak RSS, {workers} worker(s)", f"{m.rss_mb:.0f} MB", "< 200 MB", "", m.rss_mb < 200)
            out["sync"][workers] = {"budget_use": use, "throttled_share": share, **dataclasses.asdict(m)}

            say(f"bench:   jobs (async_jobs=always), {args.days} days, {workers} worker(s)...")
            j = limited(lambda w=workers: bench.tap("attempts", async_jobs="always", max_requests_per_minute=budget,
                                                    max_concurrent_requests=w))
            drain = j.records / j.wall / ceiling
            say(f"bench:     {j.records:,} records in {j.wall:.1f} s: {j.records / j.wall:,.0f}/s, drain {drain:.2f}")
            table.add(f"jobs: drain rate, {workers} worker(s)", f"{j.records / j.wall:,.0f} rec/s of {ceiling:,.0f}",
                      ">= 0.45x", f"{drain:.2f}", drain >= 0.45 if workers > 1 and not args.quick else None)
            table.add(f"  peak RSS, {workers} worker(s)", f"{j.rss_mb:.0f} MB", "< 200 MB", "", j.rss_mb < 200)
            out["jobs"][workers] = {"drain": drain, **dataclasses.asdict(j)}

        if args.latency_baseline:
            say("bench:   the bare loop (serial) at the same latency: sync...")
            b = limited(lambda: Bench(emu, work, "never").baseline_from(sync_start))
            table.add("bare loop: sync budget use (serial)", f"{b.requests} req in {b.wall:.1f} s", "",
                      f"{api_rate(b):.2f}")
            say("bench:   the bare loop at the same latency: jobs...")
            bj = limited(lambda: Bench(emu, work, "always").baseline_from(None))
            table.add("bare loop: jobs drain rate (serial)", f"{bj.records / bj.wall:,.0f} rec/s", "",
                      f"{bj.records / bj.wall / ceiling:.2f}")
            out["baseline"] = {"sync_budget_use": api_rate(b), "jobs_drain": bj.records / bj.wall / ceiling}
    finally:
        emu.stop()
    results["latency"] = out


def rl_section(table: Table, results: dict, bench: Bench, emu: EmulatorProcess, args: argparse.Namespace,
               rl_runs: int) -> None:
    """The tap against a rate-limiting emulator: wall time over requests / rate, and 429s."""
    per_day_pages = max(1.0, args.attempts / args.days / QUERY_PAGE)
    days = min(args.days, max(1, math.ceil(args.rl_requests / per_day_pages)))
    start = iso(parse(ANCHOR) - dt.timedelta(days=days))
    tap_rpm = args.rl_tap_rpm or args.rl_rate
    runs = []
    for i in range(rl_runs):
        emu.admin("DELETE", "faults")
        emu.admin("POST", "faults", {"enforce_rate_limit": args.rl_rate})
        say(f"bench: rate-limited run {i + 1}/{rl_runs} ({days} days, async_jobs=never, "
            f"emulator {args.rl_rate}/min, tap {tap_rpm}/min)...")
        try:
            m = bench.tap("attempts", start_date=start, async_jobs="never", max_requests_per_minute=tap_rpm)
        finally:
            emu.admin("DELETE", "faults")
        answered = m.requests - m.throttled
        m.extra["theoretical_s"] = answered / (args.rl_rate / 60)
        say(f"bench:   {m.requests} requests ({m.throttled} x 429), {m.wall:.1f} s wall, "
            f"minimum {m.extra['theoretical_s']:.1f} s")
        runs.append(m)
    wall, minimum = med(m.wall for m in runs), med(m.extra["theoretical_s"] for m in runs)
    throttled, requests_ = med(m.throttled for m in runs), med(m.requests for m in runs)
    share = throttled / requests_
    table.section(f"rate limit {args.rl_rate}/min enforced by the emulator, tap budget {tap_rpm}/min "
                  f"(attempts, {days} days, sync query; median of {rl_runs})")
    table.add("requests (429s included)", f"{requests_:.0f}")
    table.add("wall s / theoretical minimum (answered / rate)", f"{wall:.1f} / {minimum:.1f}", "<= 1.10",
              f"{wall / minimum:.3f}", wall / minimum <= 1.10)
    table.add("429s received", f"{throttled:.0f} ({share:.1%})", "<= 1%", "", share <= 0.01)
    table.add("tap CPU s (rate-limited run)", f"{med(m.cpu for m in runs):.2f}")
    results["rate_limited"] = {"days": days, "wall_s": wall, "theoretical_s": minimum, "ratio": wall / minimum,
                               "throttled": throttled, "requests": requests_,
                               "runs": [dataclasses.asdict(m) for m in runs]}


if __name__ == "__main__":
    sys.exit(main())
