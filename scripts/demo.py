"""`make demo`: the tap against the bundled emulator into DuckDB, via Meltano, end to end.

Starts the emulator (50,000 attempts over 30 days, DST change included), runs
`meltano run tap-genesys-outbound target-duckdb` on a fresh warehouse, prints
the row count of every table next to what the emulator holds, and stops the
emulator. Exits non-zero when a count differs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from genesys_emulator import EmulatorConfig
from genesys_emulator.dataset import Dataset

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WAREHOUSE = ROOT / "output" / "warehouse.duckdb"
ATTEMPTS = int(os.environ.get("DEMO_ATTEMPTS", "50000"))
START, END = "2026-02-18T00:00:00Z", "2026-03-20T00:00:00Z"  # meltano.yml's dev environment


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


#: execution_stats and attempts per campaign and UTC day: (campaign-days, campaign-days that agree).
RECONCILIATION_SQL = """
with a as (select campaignid, cast(attemptdate as date) as day, count(*) as n from genesys.attempts group by all),
     e as (select campaignid, cast(intervalstart as date) as day, sum(callsplaced) as n
           from genesys.execution_stats group by all)
select count(*), count(*) filter (where a.n = e.n) from a full join e using (campaignid, day)
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


def main() -> int:
    config = EmulatorConfig(attempts=ATTEMPTS)
    meltano = str(BIN / "meltano")
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "MELTANO_ENVIRONMENT": "dev"}
    subprocess.run([meltano, "install"], cwd=ROOT, env=env, check=True)
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
        subprocess.run([meltano, "run", "--full-refresh", "tap-genesys-outbound", "target-duckdb"],
                       cwd=ROOT, env=env, check=True)
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
    print(f"\nexecution_stats.callsPlaced = attempts rows for {agreeing} of {days} campaign-days")
    print(f"warehouse: {WAREHOUSE.relative_to(ROOT)}")
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())
