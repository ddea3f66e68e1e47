"""The dbt project (transform/) and its Meltano transformers agree with the tap and the loader.

The accepted status values and the status columns of campaign_daily are the tap's STATUS_DESCRIPTIONS; dbt-duckdb
runs the loader's duckdb version, so the two write one file; the transformers are declared in full (no Hub).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tap_genesys_outbound.attempt_mapping import STATUS_DESCRIPTIONS

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
TRANSFORM = ROOT / "transform"


def plugins(kind: str) -> dict[str, dict]:
    return {p["name"]: p for p in yaml.safe_load((ROOT / "meltano.yml").read_text())["plugins"][kind]}


def pins(pip_url: str) -> dict[str, str]:
    return dict(part.split("==") for part in pip_url.split())


def test_accepted_statuses_are_the_taps() -> None:
    staging = yaml.safe_load((TRANSFORM / "models" / "staging" / "_staging.yml").read_text())
    attempts = next(m for m in staging["models"] if m["name"] == "stg_genesys__attempts")
    status = next(c for c in attempts["columns"] if c["name"] == "status")
    accepted = next(t["accepted_values"]["arguments"]["values"] for t in status["data_tests"] if isinstance(t, dict))
    project = yaml.safe_load((TRANSFORM / "dbt_project.yml").read_text())
    assert accepted == project["vars"]["attempt_statuses"] == list(STATUS_DESCRIPTIONS)


def test_dbt_duckdb_runs_the_loaders_duckdb_and_every_pin_is_exact() -> None:
    loader = pins(plugins("loaders")["target-duckdb"]["pip_url"])
    transformers = plugins("transformers")
    dbt_duckdb = pins(transformers["dbt-duckdb"]["pip_url"])
    dbt_postgres = pins(transformers["dbt-postgres"]["pip_url"])
    assert dbt_duckdb["duckdb"] == loader["duckdb"] == "1.1.3"
    assert dbt_duckdb["dbt-core"] == dbt_postgres["dbt-core"]
    assert {"dbt-duckdb", "dbt-postgres"} <= set(dbt_duckdb) | set(dbt_postgres)


def test_transformers_are_declared_in_full() -> None:
    for name, plugin in plugins("transformers").items():
        assert plugin["namespace"] and plugin["executable"] == "dbt", name
        assert {"run", "test"} <= set(plugin["commands"]), name
        envs = {s["name"]: s.get("env") for s in plugin["settings"]}
        assert envs["project_dir"] == "DBT_PROJECT_DIR" and envs["profiles_dir"] == "DBT_PROFILES_DIR"
        assert envs["time_zone"] == "GENESYS_TIME_ZONE" and envs["target"] == "DBT_TARGET"


def test_every_stream_has_a_staging_model() -> None:
    streams = {path.stem for path in (ROOT / "schemas").glob("*.json")}
    staged = {path.stem.removeprefix("stg_genesys__") for path in (TRANSFORM / "models" / "staging").glob("*.sql")}
    sources = yaml.safe_load((TRANSFORM / "models" / "staging" / "_sources.yml").read_text())
    assert staged == streams == {t["name"] for t in sources["sources"][0]["tables"]}
