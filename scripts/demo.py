"""`make demo`: the tap against the bundled emulator into DuckDB, via Meltano, end to end.

Starts the emulator (50,000 attempts over 30 days, DST change included), runs
`meltano run tap-genesys-outbound target-duckdb dbt-duckdb:run dbt-duckdb:test` on a
fresh warehouse (execution_stats and the marts in America/New_York, the campaigns'
zone), prints the row count of every table next to what the emulator holds and
the dbt test summary, stops the emulator, then forecasts each campaign's answer
rate (examples/forecast.py) and prints where the pictures are. Exits non-zero when
a count differs, a dbt test fails or the forecast fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from genesys_emulator import EmulatorConfig
from genesys_emulator.dataset import Dataset

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WAREHOUSE = ROOT / "output" / "warehouse.duckdb"
LOG = ROOT / "output" / "meltano-run.log"  # everything Meltano, the tap and the loader printed
ATTEMPTS = int(os.environ.get("DEMO_ATTEMPTS", "50000"))
START, END = "2026-02-18T00:00:00Z", "2026-03-20T00:00:00Z"  # meltano.yml's dev environment
TIME_ZONE = os.environ.get("DEMO_TIME_ZONE", "America/New_York")  # the tap's time_zone and the marts' (dbt var)
FORECAST = ROOT / "output" / "forecast"


def expected_counts(config: EmulatorConfig) -> dict[str, int]:
    """What the seeded dataset holds, computed independently of the tap."""
    data = Dataset.generate(config)
    listed = {code["id"] for code in data.wrapup_codes}
    return {
        "campaigns": len(data.campaigns),
        "dispositions": len(listed | set(data.wrapup_mapping["mapping"])),
        "call_analysis_response_sets": len(data.response_sets),
        "attempts": len(data.attempts_in(START, END)),
        "campaign_stats": len(data.campaigns),  # one snapshot per campaign per run
        "flow_outcome_definitions": len(data.flow_outcomes),
        "contact_lists": len(data.contact_lists),
        "dnc_lists": len(data.dnc_lists),
        "dialer_events": len(data.events),  # every event lies inside the demo's range
        "users": len(data.directory_users),
    }


def start_emulator(config: EmulatorConfig) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "genesys_emulator", "--port", "0", "--seed", str(config.seed),
         "--attempts", str(config.attempts), "--days", str(config.days), "--anchor", config.anchor],
        stdout=subprocess.PIPE, text=True,
    )
    line = process.stdout.readline().strip()
    if not line.startswith("emulator listening on "):
        process.kill()
        sys.exit(f"demo: the emulator did not start ({line!r})")
    return process, line.rsplit(" ", 1)[-1]


#: execution_stats and attempts per campaign and day of execution_stats' zone (timeZone; the loader stores UTC),
#: over the days execution_stats covers, monthly buckets left out as dbt leaves them out: (campaign-days,
#: campaign-days that agree). dbt's campaign_daily test is the same check on the marts.
RECONCILIATION_SQL = """
with e as (select campaignid, cast((intervalstart at time zone 'UTC') at time zone timezone as date) as day,
                  sum(callsplaced) as n
           from genesys.execution_stats where granularity is distinct from 'P1M' group by all),
     zone as (select min(timezone) as tz from genesys.execution_stats),
     covered as (select min(day) as lo, max(day) as hi from e),
     a as (select campaignid, cast((attemptdate at time zone 'UTC') at time zone (select tz from zone) as date) as day,
                  count(*) as n
           from genesys.attempts group by all)
select count(*), count(*) filter (where a.n = e.n) from a full join e using (campaignid, day)
where day between (select lo from covered) and (select hi from covered)
"""


def duckdb_query(sql: str) -> list:
    """Run SQL with the duckdb of target-duckdb's own venv (the pinned one)."""
    python = ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
    script = ("import duckdb, json, sys; "
              "print(json.dumps(duckdb.connect(sys.argv[1], read_only=True).execute(sys.argv[2]).fetchall()))")
    out = subprocess.run([str(python), "-c", script, str(WAREHOUSE), sql], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def table_counts() -> dict[str, int]:
    tables = [row[0] for row in duckdb_query(
        "select table_name from information_schema.tables where table_schema = 'genesys' order by 1")]
    return {table: duckdb_query(f"select count(*) from genesys.{table}")[0][0] for table in tables}


READING = re.compile(r"^(\w+): reading (\S+)/(\S+)")
SUMMARY = re.compile(r"^(\w+) summary: (\d+) records, (\d+) requests.*?([\d.]+) s in all")
DBT_DONE = re.compile(r"Done\. (PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+.*TOTAL=\d+)")
DBT_PROBLEM = re.compile(r"(Failure|Error|Warning) in (test|model) .*")


def run_with_progress(command: list[str], env: dict, dbt_summaries: list[str]) -> int:
    """Run Meltano with its log in LOG; print one line per stream (records, rate, window), warnings and errors.

    dbt's closing lines (`Done. PASS=… TOTAL=…`, one per dbt command) are collected in `dbt_summaries`.
    """
    windows: dict[str, str] = {}
    with LOG.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
        for line in process.stdout:
            log.write(line)
            try:  # meltano --log-format json: one JSON object per line
                entry = json.loads(line)
            except ValueError:
                entry = {"event": line.strip()}
            event, level = str(entry.get("event", "")), entry.get("level", "")
            if match := DBT_DONE.search(event):
                dbt_summaries.append(match.group(1))
            elif match := DBT_PROBLEM.search(event):
                print(f"  dbt: {match.group(0)[:150]}")
            elif match := READING.search(event):
                stream, start, end = match.groups()
                windows.setdefault(stream, f"{start[:10]} .. {end[:10]}")
                if sys.stdout.isatty():
                    print(f"  {stream:28} reading {windows[stream]} ...", end="\r", flush=True)
            elif match := SUMMARY.search(event):
                stream, records, requests, seconds = match.groups()
                rate = int(records) / max(float(seconds), 0.1)
                window = windows.get(stream, "full table")
                print(f"  {stream:28} {int(records):>8,} records {rate:>9,.0f}/s  {int(requests):>4} requests  "
                      f"{window}")
            elif level in {"warning", "error", "critical"}:
                print(f"  {level}: {event[:150]}")
        return process.wait()


def main() -> int:
    config = EmulatorConfig(attempts=ATTEMPTS)
    meltano = str(BIN / "meltano")
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "MELTANO_ENVIRONMENT": "dev",
           "TAP_GENESYS_OUTBOUND_TIME_ZONE": TIME_ZONE, "DBT_DUCKDB_TIME_ZONE": TIME_ZONE,
           "TARGET_DUCKDB_FILEPATH": str(WAREHOUSE), "DBT_DUCKDB_PATH": str(WAREHOUSE)}
    dbt_summaries: list[str] = []
    subprocess.run([meltano, "install"], cwd=ROOT, env=env, check=True, capture_output=True)
    expected = expected_counts(config)
    emulator, url = start_emulator(config)
    try:
        env.update({
            "TAP_GENESYS_OUTBOUND_API_URL": url,
            "TAP_GENESYS_OUTBOUND_LOGIN_URL": url,
            "TAP_GENESYS_OUTBOUND_CLIENT_SECRET": config.client_secret,
        })
        shutil.rmtree(WAREHOUSE.parent, ignore_errors=True)
        WAREHOUSE.parent.mkdir(parents=True)
        print(f"meltano run tap-genesys-outbound target-duckdb dbt-duckdb:run dbt-duckdb:test  (time zone {TIME_ZONE}; "
              f"full log: {LOG.relative_to(ROOT)})")
        returncode = run_with_progress([meltano, "--log-format", "json", "run", "--full-refresh",
                                        "tap-genesys-outbound", "target-duckdb", "dbt-duckdb:run", "dbt-duckdb:test"],
                                       env, dbt_summaries)
        if returncode:
            for line in dbt_summaries:
                print(f"  dbt: {line}")
            sys.exit(f"demo: meltano run failed (exit {returncode}); see {LOG.relative_to(ROOT)}")
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    loaded = table_counts()
    print(f"\n{'table':32} {'rows in DuckDB':>15} {'emulator holds':>15}")
    ok = True
    for table, rows in loaded.items():
        count = expected.get(table)
        ok &= count is None or rows == count
        verdict = "" if count is None else ("ok" if rows == count else "MISMATCH")
        print(f"{table:32} {rows:>15,} {'' if count is None else f'{count:,}':>15}  {verdict}")
    ok &= set(expected) <= set(loaded)
    days, agreeing = duckdb_query(RECONCILIATION_SQL)[0]
    ok &= days == agreeing
    print(f"\nexecution_stats.callsPlaced = attempts rows for {agreeing} of {days} campaign-days ({TIME_ZONE} days)")
    labels = ["dbt run (staging views, marts)", "dbt test (keys, statuses, reconciliation)"]
    for label, summary in zip(labels, dbt_summaries, strict=False):
        print(f"{label:42} {summary}")
    ok &= len(dbt_summaries) == len(labels)
    print(f"warehouse: {WAREHOUSE.relative_to(ROOT)} (schemas genesys, staging, marts)")
    forecast = subprocess.run([sys.executable, str(ROOT / "examples" / "forecast.py"), "--warehouse", str(WAREHOUSE),
                               "--out", str(FORECAST)], cwd=ROOT, check=False)
    ok &= forecast.returncode == 0
    pictures = sorted(FORECAST.glob("*.png"))
    if pictures:
        print(f"forecast picture: {pictures[0].relative_to(ROOT)}")
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())
