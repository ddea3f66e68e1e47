"""Settings: every invalid value fails before any HTTP call, in one line naming the setting."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from tap_genesys_outbound.errors import ConfigError
from tap_genesys_outbound.settings import REGIONS, resolve_settings
from tap_genesys_outbound.tap import TapGenesysOutbound

pytestmark = pytest.mark.unit

VALID = {"client_id": "id", "client_secret": "s3cr3t-value", "start_date": "2026-01-01T00:00:00Z"}
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)

BAD_CONFIGS = [
    ({"region": "mypurecloud.co.uk"}, "region", "mypurecloud.ie"),
    ({"start_date": "2999-01-01T00:00:00Z"}, "start_date", "in the past"),
    ({"start_date": "last tuesday"}, "start_date", "ISO-8601"),
    ({"end_date": "2025-12-31T00:00:00Z"}, "end_date", "after start_date"),
    ({"campaign_ids": ["not-a-uuid"]}, "campaign_ids", "UUID"),
    ({"flow_ids": ["1234"]}, "flow_ids", "UUID"),
    ({"granularity": "PT5M"}, "granularity", "PT15M"),
    ({"granularity": "P7D"}, "granularity", "P1M"),  # offered by no Genesys source
    ({"async_jobs": "sometimes"}, "async_jobs", "always"),
    ({"max_requests_per_minute": 301}, "max_requests_per_minute", "between 1 and 300"),
    ({"max_requests_per_minute": 0}, "max_requests_per_minute", "between 1 and 300"),
    ({"lookback_window_hours": -1}, "lookback_window_hours", ">= 0"),
    ({"analytics_delay_minutes": "sixty"}, "analytics_delay_minutes", "integer"),
    ({"api_url": "api.mypurecloud.com"}, "api_url", "http(s) URL"),
    ({"client_id": ""}, "client_id", "non-empty"),
    ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "America/New_York"),
    ({"time_zone": "+05:00"}, "time_zone", "IANA time zone"),
    ({"time_zone": "america/new_york"}, "time_zone", "IANA time zone"),
]


def validate_settings(config: dict, now: dt.datetime | None = None) -> TapGenesysOutbound:
    """The whole path a config takes: the SDK's JSON Schema validation (defaults filled), then the tap's checks."""
    return TapGenesysOutbound(config=dict(config), setup_mapper=False)


@pytest.mark.parametrize(("change", "setting", "hint"), BAD_CONFIGS)
def test_invalid_setting_is_named_with_what_was_expected(change: dict, setting: str, hint: str) -> None:
    with pytest.raises(ConfigError) as raised:
        validate_settings({**VALID, **change}, now=NOW)
    assert raised.value.setting == setting
    assert hint in str(raised.value)
    assert "\n" not in str(raised.value)


def test_missing_required_setting() -> None:
    config = dict(VALID)
    del config["client_secret"]
    with pytest.raises(ConfigError, match="client_secret"):
        validate_settings(config, now=NOW)


def test_region_error_lists_all_valid_regions() -> None:
    with pytest.raises(ConfigError) as raised:
        validate_settings({**VALID, "region": "nowhere"}, now=NOW)
    assert all(domain in str(raised.value) for domain in REGIONS)
    assert len(REGIONS) == 18


def test_valid_config_passes_and_defaults_follow_region() -> None:
    validate_settings({**VALID, "region": "mypurecloud.de", "campaign_ids": ["1b2c3d4e-0000-4000-8000-000000000000"]},
                      now=NOW)
    tap = validate_settings({**VALID, "region": "mypurecloud.de"})
    resolved = resolve_settings(tap.config, now=NOW)
    assert resolved.api_url == "https://api.mypurecloud.de"
    assert resolved.login_url == "https://login.mypurecloud.de"
    assert resolved.end == NOW - dt.timedelta(minutes=60)
    assert resolved.lookback == dt.timedelta(hours=48)


@pytest.mark.parametrize(("change", "setting", "_hint"), BAD_CONFIGS[:6])
def test_cli_prints_one_line_without_traceback_or_secret(tmp_path, change: dict, setting: str, _hint: str) -> None:
    config_file = tmp_path / "config.json"
    # api_url points at a closed port: a test that slipped past validation would fail loudly, not hang.
    config_file.write_text(json.dumps({**VALID, "api_url": "http://127.0.0.1:9", "login_url": "http://127.0.0.1:9",
                                       **change}))
    result = subprocess.run(
        [sys.executable, "-m", "tap_genesys_outbound.tap", "--config", str(config_file)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(error_lines) == 1, result.stderr
    assert f"'{setting}'" in error_lines[0]
    assert "Traceback" not in result.stderr
    assert "s3cr3t-value" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_defaults_come_from_the_schema_once() -> None:
    tap = validate_settings(VALID)
    properties = tap.config_jsonschema["properties"]
    for name, prop in properties.items():
        if "default" in prop:
            assert tap.config[name] == prop["default"], name


def test_an_unknown_setting_is_warned_about_in_one_line(caplog) -> None:
    with caplog.at_level("WARNING"):
        validate_settings({**VALID, "page_size": 500})
    warnings = [r.getMessage() for r in caplog.records if "page_size" in r.getMessage()]
    assert warnings == ["Unknown setting 'page_size' is ignored (see --about for the settings)"]
