"""Meltano end to end: `meltano run tap-genesys-outbound target-duckdb` loads exactly the emulator's data.

Also guards the duckdb pin: target-duckdb 0.8.0 silently drops the first row of a
batch from duckdb 1.3 on, which only a row-count comparison catches. Then the dbt models
(`dbt-duckdb:run dbt-duckdb:test`) on the loaded file, a second load and dbt run on the same
file (the loader's duckdb and dbt-duckdb's write it in turn), and the forecast's picture.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ANCHOR

from genesys_emulator import Emulator, EmulatorConfig

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
MELTANO = str(Path(sys.executable).parent / "meltano")
DUCKDB_PYTHON = ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
START = "2026-02-18T00:00:00Z"  # meltano.yml's dev environment


@pytest.fixture(scope="module")
def meltano_env() -> dict:
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "MELTANO_ENVIRONMENT": "dev"}
    subprocess.run([MELTANO, "install"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=900)
    return env


def query(warehouse: Path, sql: str) -> list:
    script = "import duckdb, json, sys; print(json.dumps(duckdb.connect(sys.argv[1], read_only=True)" \
             ".execute(sys.argv[2]).fetchall(), default=str))"
    out = subprocess.run([str(DUCKDB_PYTHON), "-c", script, str(warehouse), sql],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def meltano_run(env: dict, emu: Emulator, warehouse: Path, *extra: str,
                blocks: tuple[str, ...] = ("tap-genesys-outbound", "target-duckdb")) -> subprocess.CompletedProcess:
    run_env = {**env, "TAP_GENESYS_OUTBOUND_API_URL": emu.base_url, "TAP_GENESYS_OUTBOUND_LOGIN_URL": emu.base_url,
               "TAP_GENESYS_OUTBOUND_CLIENT_SECRET": emu.client_secret,
               "TAP_GENESYS_OUTBOUND_MAX_REQUESTS_PER_MINUTE": "300",
               "TARGET_DUCKDB_FILEPATH": str(warehouse), "DBT_DUCKDB_PATH": str(warehouse)}
    return subprocess.run([MELTANO, "run", "--state-id-suffix", f"test-{warehouse.parent.name}", *extra, *blocks],
                          cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=900, check=False)


def edit(warehouse: Path, sql: str) -> None:
    script = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute(sys.argv[2])"
    subprocess.run([str(DUCKDB_PYTHON), "-c", script, str(warehouse), sql], check=True, capture_output=True)


def dbt_run_and_test(env: dict, emu: Emulator, warehouse: Path) -> None:
    """`meltano run dbt-duckdb:run dbt-duckdb:test` on the warehouse: every model builds, every test passes."""
    result = meltano_run(env, emu, warehouse, blocks=("dbt-duckdb:run", "dbt-duckdb:test"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert output.count("Completed successfully") == 2 and " ERROR=0 " in output


def test_meltano_run_loads_exactly_the_emulator_data_once(tmp_path, meltano_env) -> None:
    with Emulator(EmulatorConfig(seed=5, attempts=2500, anchor=ANCHOR, job_polls_to_fulfill=1)) as emu:
        warehouse = tmp_path / "warehouse.duckdb"
        first = meltano_run(meltano_env, emu, warehouse, "--full-refresh")
        assert first.returncode == 0, first.stderr[-3000:]
        data = emu.dataset
        expected_ids = {c["conversationId"] for c in data.attempts_in(START, ANCHOR)}
        loaded_ids = [row[0] for row in query(warehouse, "select conversationid from genesys.attempts")]
        assert len(loaded_ids) == len(expected_ids)
        assert set(loaded_ids) == expected_ids
        counts = {t: query(warehouse, f"select count(*) from genesys.{t}")[0][0]
                  for t in ("campaigns", "dispositions", "call_analysis_response_sets")}
        dispositions = {c["id"] for c in data.wrapup_codes} | set(data.wrapup_mapping["mapping"])
        assert counts == {"campaigns": len(data.campaigns), "dispositions": len(dispositions),
                          "call_analysis_response_sets": len(data.response_sets)}

        # issue 4's reconciliation, in SQL on the warehouse: execution_stats agrees with attempts per campaign and day
        sys.path.insert(0, str(ROOT / "scripts"))
        from demo import RECONCILIATION_SQL
        campaign_days, agreeing = query(warehouse, RECONCILIATION_SQL)[0]
        assert campaign_days > 30 and agreeing == campaign_days

        # The dbt models on the loaded file (zone UTC, the dev environment's default for tap and marts).
        dbt_run_and_test(meltano_env, emu, warehouse)
        marts = query(warehouse, "select (select sum(attempts) from marts.campaign_daily), "
                                 "(select sum(attempts) from marts.answer_rate_hourly), "
                                 "(select count(*) from marts.campaign_daily "
                                 " where not reconciles_with_execution_stats), "
                                 "(select count(*) from marts.agent_daily where agent_name is null)")[0]
        assert marts == [len(expected_ids), len(expected_ids), 0, 0]

        emu.reset_log()
        second = meltano_run(meltano_env, emu, warehouse)  # incremental, from the state Meltano kept
        assert second.returncode == 0, second.stderr[-3000:]
        assert "attempts summary: " in second.stderr
        reread = int(second.stderr.split("attempts summary: ")[1].split(" records")[0])
        in_lookback = len(data.attempts_in("2026-03-18T00:00:00Z", ANCHOR))  # 48 h before the bookmark
        assert reread == in_lookback < len(expected_ids)
        assert query(warehouse, "select count(*) from genesys.attempts")[0][0] == len(expected_ids)

        # The loader wrote the file dbt wrote before; dbt writes it again after the loader (same duckdb, 1.1.3).
        dbt_run_and_test(meltano_env, emu, warehouse)
        assert query(warehouse, "select sum(attempts) from marts.campaign_daily")[0][0] == len(expected_ids)

        # The reconciliation test fails when attempts and execution_stats disagree (three attempts of one campaign-day
        # gone); without the users stream agent_daily still builds, with null names.
        broken = tmp_path / "broken" / "warehouse.duckdb"
        broken.parent.mkdir()
        shutil.copy(warehouse, broken)
        edit(broken, "delete from genesys.attempts where conversationid in (select conversationid "
                     "from genesys.attempts order by attemptdate limit 3); drop table genesys.users")
        failing = meltano_run(meltano_env, emu, broken, blocks=("dbt-duckdb:run", "dbt-duckdb:test"))
        output = failing.stdout + failing.stderr
        assert failing.returncode != 0
        assert "Failure in test assert_campaign_daily_reconciles_with_execution_stats" in output
        assert "ERROR=1 " in output and "Completed successfully" in output  # the run; the test step has one failure
        assert query(broken, "select count(*), count(agent_name) from marts.agent_daily")[0][1] == 0

        # The forecast reads the marts (a third duckdb 1.1.3) and draws one picture per dialled campaign.
        out = tmp_path / "forecast"
        forecast = subprocess.run([sys.executable, str(ROOT / "examples" / "forecast.py"), "--warehouse",
                                   str(warehouse), "--out", str(out)], capture_output=True, text=True, check=False)
        assert forecast.returncode == 0, forecast.stderr
        pictures = sorted(out.glob("*.png"))
        assert len(pictures) == len(data.campaigns) - 1 == len(list(out.glob("*.csv")))  # the last is never dialled
        import matplotlib.image
        assert pictures[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert matplotlib.image.imread(pictures[0]).shape[2] in (3, 4)
