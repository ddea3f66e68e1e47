"""The README's Meltano commands, run as written in a fresh `meltano init` project against the emulator.

Substitutions (and nothing else): the definition's URL becomes a local copy whose `pip_url` is this checkout;
`<placeholders>` become emulator values; `meltano add loader target-duckdb` (a Hub lookup, and CI has no Hub)
becomes `--from-ref` of this repository's own target-duckdb declaration. The URLs of the emulator, `end_date`
and the DuckDB path are passed as environment variables, as a user would for secrets.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ANCHOR, START

from genesys_emulator import Emulator, EmulatorConfig

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
README = ROOT / "README.md"


def readme_commands() -> list[str]:
    block = re.search(r"<!-- meltano-quickstart:start -->\n```bash\n(.*?)```", README.read_text(), re.S).group(1)
    commands = []
    for line in block.splitlines():
        for part in line.split("&&"):
            part = part.strip()
            if part.startswith("meltano "):
                commands.append(part)
    return commands


def test_readme_meltano_commands_in_a_fresh_project(tmp_path) -> None:
    commands = readme_commands()
    assert any(c.startswith("meltano add extractor tap-genesys-outbound --from-ref") for c in commands)
    assert any(c.startswith("meltano select") for c in commands) and commands[-1].startswith("meltano run")

    definition = yaml.safe_load((ROOT / "tap-genesys-outbound.yml").read_text())
    definition["pip_url"] = str(ROOT)
    local_definition = tmp_path / "tap-genesys-outbound.yml"
    local_definition.write_text(yaml.safe_dump(definition, sort_keys=False))
    loader = next(p for p in yaml.safe_load((ROOT / "meltano.yml").read_text())["plugins"]["loaders"]
                  if p["name"] == "target-duckdb")
    loader.pop("config", None)
    loader_definition = tmp_path / "target-duckdb.yml"
    loader_definition.write_text(yaml.safe_dump(loader, sort_keys=False))

    with Emulator(EmulatorConfig(seed=11, attempts=600, anchor=ANCHOR, job_polls_to_fulfill=1)) as emu:
        data = emu.dataset
        campaign = data.campaigns[0]["id"]
        values = {"<client id>": emu.client_id, "<secret>": emu.client_secret, "<campaign id>": campaign,
                  "2026-01-01T00:00:00Z": START}
        warehouse = tmp_path / "warehouse.duckdb"
        env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
               "TAP_GENESYS_OUTBOUND_API_URL": emu.base_url, "TAP_GENESYS_OUTBOUND_LOGIN_URL": emu.base_url,
               "TAP_GENESYS_OUTBOUND_END_DATE": ANCHOR, "TAP_GENESYS_OUTBOUND_MAX_REQUESTS_PER_MINUTE": "300",
               "TARGET_DUCKDB_FILEPATH": str(warehouse), "TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA": "genesys"}
        env.pop("MELTANO_ENVIRONMENT", None)
        cwd = tmp_path
        for command in commands:
            for placeholder, value in values.items():
                command = command.replace(placeholder, value)
            args = shlex.split(command)
            if args[:2] == ["meltano", "init"]:
                args += ["--no-usage-stats"] if "--no-usage-stats" not in args else []
            if "--from-ref" in args:
                args[args.index("--from-ref") + 1] = str(local_definition)
            if args == ["meltano", "add", "loader", "target-duckdb"]:
                args += ["--from-ref", str(loader_definition)]
            args[0] = str(BIN / "meltano")
            result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)
            output = result.stdout + result.stderr
            assert result.returncode == 0, f"{command}\n{output[-3000:]}"
            assert "Unknown setting" not in output, command
            if args[1] == "init":
                cwd = tmp_path / args[2]

        # `meltano config set` stored the kinds the tap accepts: an integer, a list, a string.
        dumped = subprocess.run([str(BIN / "meltano"), "invoke", "--dump=config", "tap-genesys-outbound"], cwd=cwd,
                                env=env, capture_output=True, text=True, check=True).stdout
        config = json.loads(dumped[dumped.index("{"):])
        assert config["async_job_timeout_seconds"] == 600
        assert config["campaign_ids"] == [campaign]
        assert config["region"] == "mypurecloud.ie"
        assert emu.client_secret not in (cwd / "meltano.yml").read_text()  # sensitive: stored in .env

        # The run loaded exactly what the emulator holds for the selection (one campaign, no participants).
        python = cwd / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
        script = ("import duckdb, json, sys; c = duckdb.connect(sys.argv[1], read_only=True); print(json.dumps({"
                  "'tables': sorted(r[0] for r in c.execute(\"select table_name from information_schema.tables "
                  "where table_schema = 'genesys'\").fetchall()), "
                  "'ids': [r[0] for r in c.execute('select conversationid from genesys.attempts').fetchall()], "
                  "'campaigns': [r[0] for r in c.execute('select id from genesys.campaigns').fetchall()], "
                  "'columns': [r[0] for r in c.execute(\"select column_name from information_schema.columns "
                  "where table_name = 'attempts'\").fetchall()]}))")
        loaded = json.loads(subprocess.run([str(python), "-c", script, str(warehouse)], capture_output=True,
                                           text=True, check=True).stdout)
        expected = {c["conversationId"] for c in data.attempts_in(START, ANCHOR)
                    if any(s.get("outboundCampaignId") == campaign for p in c["participants"]
                           for s in p.get("sessions", []))}
        assert loaded["tables"] == ["attempts", "campaigns"]
        assert len(loaded["ids"]) == len(set(loaded["ids"])) and set(loaded["ids"]) == expected and expected
        assert loaded["campaigns"] == [campaign]
        assert "participants" not in loaded["columns"] and "conversationid" in loaded["columns"]
