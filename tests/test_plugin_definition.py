"""The Meltano plugin definition and meltano.yml's extractor entry come from `--about` (one source of truth)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from update_plugin_definition import (
    DEFINITION,
    MELTANO_YML,
    about,
    render_definition,
    render_meltano_yml,
)

pytestmark = pytest.mark.unit

ABOUT = about()


def test_committed_files_are_what_the_script_writes() -> None:
    assert DEFINITION.read_text() == render_definition(ABOUT), "run scripts/update_plugin_definition.py"
    text = MELTANO_YML.read_text()
    assert render_meltano_yml(text, ABOUT) == text, "run scripts/update_plugin_definition.py"


def test_definition_declares_every_about_setting_with_its_kind() -> None:
    definition = yaml.safe_load(DEFINITION.read_text())
    declared = {s["name"]: s for s in definition["settings"]}
    assert list(declared) == list(ABOUT["settings"]["properties"])
    for name in ("stream_maps", "stream_map_config", "faker_config", "flattening_enabled", "flattening_max_depth",
                 "batch_config", "emit_activate_version_messages", "async_job_timeout_seconds"):
        assert name in declared
    kinds = {name: s["kind"] for name, s in declared.items()}
    assert kinds["async_job_timeout_seconds"] == kinds["lookback_window_hours"] == kinds["flattening_max_depth"] \
        == "integer"
    assert kinds["campaign_ids"] == kinds["flow_ids"] == "array"
    assert kinds["stream_maps"] == kinds["stream_map_config"] == kinds["faker_config"] == kinds["batch_config"] \
        == "object"
    assert kinds["start_date"] == kinds["end_date"] == "date_iso8601"
    assert kinds["flattening_enabled"] == kinds["emit_activate_version_messages"] == "boolean"
    assert kinds["region"] == kinds["granularity"] == kinds["async_jobs"] == "options"
    assert [o["value"] for o in declared["granularity"]["options"]] == \
        ABOUT["settings"]["properties"]["granularity"]["enum"]
    assert [n for n, s in declared.items() if s.get("sensitive")] == ["client_secret"]
    assert declared["async_job_timeout_seconds"]["value"] == 1800
    assert definition["settings_group_validation"] == [["client_id", "client_secret", "start_date"]]
    assert sorted(definition["capabilities"]) == sorted(ABOUT["capabilities"])
    for key in ("name", "namespace", "variant", "label", "description", "logo_url", "repo", "docs", "pip_url",
                "executable"):
        assert definition[key], key
    assert "meltano_sdk" in definition["keywords"]


def test_meltano_yml_extractor_matches_the_definition() -> None:
    definition = yaml.safe_load(DEFINITION.read_text())
    entry = next(p for p in yaml.safe_load(MELTANO_YML.read_text())["plugins"]["extractors"]
                 if p["name"] == "tap-genesys-outbound")
    for key in ("namespace", "executable", "capabilities", "settings_group_validation", "settings"):
        assert entry[key] == definition[key], key


def test_meltano_yml_stores_every_array_of_objects_as_one_json_value() -> None:
    """Postgres loaders make `jsonb[]` of an array of objects; meltano.yml's schema overrides must cover them all."""
    root = Path(__file__).resolve().parent.parent
    overrides = next(p for p in yaml.safe_load((root / "meltano.yml").read_text())["plugins"]["extractors"]
                     if p["name"] == "tap-genesys-outbound")["schema"]
    missing = []
    for path in sorted((root / "schemas").glob("*.json")):
        for name, prop in json.loads(path.read_text())["properties"].items():
            item_types = (prop.get("items") or {}).get("type") or []
            if "object" in (item_types if isinstance(item_types, list) else [item_types]) \
                    and name not in overrides.get(path.stem, {}):
                missing.append(f"{path.stem}.{name}")
    assert missing == []
