"""Every stream into a real PostgreSQL with `meltano run tap-genesys-outbound target-postgres`.

The fixture starts a throwaway cluster (initdb/pg_ctl as a non-root user, a free port, server time zone
America/New_York so a loader that writes local time shows). `.ci/run` installs the server from the
distribution's packages; without it this test fails with one line, it never skips. Ends with the dbt models
(`meltano run dbt-postgres:run dbt-postgres:test`) on the loaded tables.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import typing as t
from pathlib import Path

import pytest
from helpers import ANCHOR

from genesys_emulator import Emulator, EmulatorConfig

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
MELTANO = str(Path(sys.executable).parent / "meltano")
START = "2026-02-18T00:00:00Z"  # meltano.yml's dev environment
TIMESTAMPTZ_SQL = ROOT / "scripts" / "postgres_timestamptz.sql"
JSON_ARRAYS = {("attempts", "participants"), ("call_analysis_response_sets", "responseList"),
               ("campaigns", "dncLists"), ("campaigns", "ruleSets"), ("campaigns", "contactListFilters"),
               ("campaigns", "phoneColumns"), ("campaigns", "contactSorts"), ("campaigns", "errors"),
               ("contact_lists", "phoneColumns"), ("execution_stats", "metrics")}
KEYS = {"attempts": ["conversationId"], "campaigns": ["id"], "dispositions": ["id"],
        "call_analysis_response_sets": ["id"], "flow_outcome_definitions": ["id"],
        "contact_lists": ["id"], "dnc_lists": ["id"], "users": ["id"], "dialer_events": ["id"],
        "execution_stats": ["campaignId", "intervalStart", "intervalEnd"],
        "flow_outcomes": ["flowId", "flowOutcomeId", "flowOutcomeValue", "intervalStart", "intervalEnd"],
        "campaign_stats": ["campaignId", "snapshotAt"],
        "campaign_status_history": ["campaignId", "kind", "state", "dateStart"]}


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent
    pytest.fail("PostgreSQL server not installed (no initdb): run `apt-get install -y postgresql` "
                "(.ci/run does)", pytrace=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    def __init__(self, bindir: Path, port: int, socket_dir: str) -> None:
        self.bindir, self.port, self.socket_dir = bindir, port, socket_dir

    @property
    def url(self) -> str:  # the URL the README tells users to write: UTC session time zone
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres?options=-c%20timezone%3DUTC"

    def psql(self, sql: str | None = None, *, file: Path | None = None) -> list[list[str]]:
        args = [str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d",
                "postgres", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t"]
        args += ["-f", str(file)] if file else ["-c", sql]
        out = subprocess.run(args, capture_output=True, text=True, check=True)
        return [line.split("\t") for line in out.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def postgres() -> t.Iterator[Postgres]:
    bindir = postgres_bin()
    home = tempfile.mkdtemp(prefix="genesys-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as nobody, in a folder it owns
        shutil.chown(home, "nobody")
        as_user = ["runuser", "-u", "nobody", "--"]
    data, port = f"{home}/data", free_port()
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c timezone=America/New_York -c fsync=off"
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", data, "-o", options, "-l", f"{home}/log", "-w",
                    "start"], check=True, capture_output=True)
    try:
        yield Postgres(bindir, port, home)
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", data, "-m", "immediate", "stop"],
                       check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def meltano_env() -> dict:
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "MELTANO_ENVIRONMENT": "dev"}
    subprocess.run([MELTANO, "install"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=900)
    return env


def meltano_run(env: dict, emu: Emulator, pg: Postgres, *extra: str) -> subprocess.CompletedProcess:
    run_env = {**env, "TAP_GENESYS_OUTBOUND_API_URL": emu.base_url, "TAP_GENESYS_OUTBOUND_LOGIN_URL": emu.base_url,
               "TAP_GENESYS_OUTBOUND_CLIENT_SECRET": emu.client_secret,
               "TAP_GENESYS_OUTBOUND_MAX_REQUESTS_PER_MINUTE": "300", "TARGET_POSTGRES_SQLALCHEMY_URL": pg.url}
    return subprocess.run([MELTANO, "run", "--state-id-suffix", f"pg-{pg.port}", *extra, "tap-genesys-outbound",
                           "target-postgres"], cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=900,
                          check=False)


def summaries(stderr: str) -> dict[str, int]:
    """`<stream> summary: N records` lines of the tap."""
    found = {}
    for line in stderr.splitlines():
        if " summary: " in line and " records" in line:
            stream, rest = line.split(" summary: ", 1)
            found[stream.rsplit(" ", 1)[-1].rsplit("|", 1)[-1].strip()] = int(rest.split(" records")[0])
    return found


def column_types(pg: Postgres) -> dict[tuple[str, str], str]:
    rows = pg.psql("select table_name, column_name, data_type, udt_name from information_schema.columns "
                   "where table_schema = 'genesys'")
    return {(table, column): udt if data_type == "ARRAY" else data_type for table, column, data_type, udt in rows}


def duplicates(pg: Postgres) -> dict[str, int]:
    found = {}
    for table, keys in KEYS.items():
        cols = ", ".join(f'"{k}"' for k in keys)
        found[table] = int(pg.psql(f"select count(*) - count(distinct ({cols})) from genesys.{table}")[0][0])
    return found


def test_every_stream_into_postgres_jsonb_timestamptz_and_upserts(postgres, meltano_env) -> None:
    pg = postgres
    with Emulator(EmulatorConfig(seed=5, attempts=2500, anchor=ANCHOR, job_polls_to_fulfill=1)) as emu:
        data = emu.dataset
        first = meltano_run(meltano_env, emu, pg, "--full-refresh")
        assert first.returncode == 0, first.stderr[-3000:]
        emitted = summaries(first.stderr)
        assert set(emitted) == set(KEYS)

        # Rows loaded = records the tap emitted, and = what the emulator holds where that is known independently.
        counts = {table: int(pg.psql(f"select count(*) from genesys.{table}")[0][0]) for table in KEYS}
        assert counts == emitted
        ids = {row[0] for row in pg.psql('select "conversationId" from genesys.attempts')}
        assert ids == {c["conversationId"] for c in data.attempts_in(START, ANCHOR)}
        assert {row[0] for row in pg.psql("select id from genesys.campaigns")} == {c["id"] for c in data.campaigns}
        assert counts["dispositions"] == len({c["id"] for c in data.wrapup_codes} | set(data.wrapup_mapping["mapping"]))
        assert counts["call_analysis_response_sets"] == len(data.response_sets)
        assert counts["flow_outcome_definitions"] == len(data.flow_outcomes)
        assert counts["campaign_stats"] == len(data.campaigns)
        assert counts["contact_lists"] == len(data.contact_lists) and counts["dnc_lists"] == len(data.dnc_lists)
        assert counts["users"] == len(data.directory_users) and counts["dialer_events"] == len(data.events)

        # Types: arrays of objects are jsonb (schema overrides in meltano.yml); timestamps timestamptz after the
        # README's one-time conversion (target-postgres 0.8.1 always creates `timestamp without time zone`).
        types = column_types(pg)
        assert {types[c] for c in JSON_ARRAYS} == {"jsonb"}
        assert types[("attempts", "attemptDate")] == "timestamp without time zone"
        pg.psql(file=TIMESTAMPTZ_SQL)
        types = column_types(pg)
        assert "timestamp without time zone" not in types.values()
        assert types[("attempts", "attemptDate")] == types[("execution_stats", "intervalStart")] \
            == "timestamp with time zone"
        sample = data.attempts_in(START, ANCHOR)[0]
        epoch = pg.psql('select extract(epoch from "attemptDate")::numeric(20,3), jsonb_array_length(participants) '
                        f"from genesys.attempts where \"conversationId\" = '{sample['conversationId']}'")[0]
        from datetime import datetime
        assert float(epoch[0]) == pytest.approx(
            datetime.fromisoformat(sample["conversationStart"].replace("Z", "+00:00")).timestamp(), abs=0.001)
        assert int(epoch[1]) == len(sample["participants"])

        # Second run from Meltano's state: the lookback re-reads upsert (no duplicate keys), types stay.
        second = meltano_run(meltano_env, emu, pg)
        assert second.returncode == 0, second.stderr[-3000:]
        assert summaries(second.stderr)["attempts"] > 0
        dupes = duplicates(pg)
        assert dupes == dict.fromkeys(KEYS, 0)
        assert int(pg.psql("select count(*) from genesys.attempts")[0][0]) == len(ids)
        assert int(pg.psql("select count(*) from genesys.campaign_stats")[0][0]) == 2 * len(data.campaigns)
        assert column_types(pg) == types

        # The same dbt models on Postgres (transformer dbt-postgres, same project): they build and their tests pass.
        dbt_env = {**meltano_env, "DBT_POSTGRES_HOST": "127.0.0.1", "DBT_POSTGRES_PORT": str(pg.port)}
        dbt = subprocess.run([MELTANO, "run", "dbt-postgres:run", "dbt-postgres:test"], cwd=ROOT, env=dbt_env,
                             capture_output=True, text=True, timeout=900, check=False)
        assert dbt.returncode == 0, (dbt.stdout + dbt.stderr)[-4000:]
        marts = pg.psql("select (select sum(attempts) from marts.campaign_daily), "
                        "(select sum(attempts) from marts.answer_rate_hourly), "
                        "(select count(*) from marts.agent_daily where agent_name is null)")[0]
        assert [int(v) for v in marts] == [len(ids), len(ids), 0]
