"""The tap: settings, shared HTTP objects and the stream list."""

from __future__ import annotations

import sys
import typing as t
from functools import cached_property

import jsonschema

from singer_sdk import Tap

from tap_genesys_outbound.auth import GenesysAuthenticator
from tap_genesys_outbound.client import GenesysStream
from tap_genesys_outbound.errors import ConfigError, UserFacingError
from tap_genesys_outbound.rate_limit import RequestBudget
from tap_genesys_outbound.settings import CONFIG_SCHEMA, ResolvedSettings, resolve_settings, validate_settings
from tap_genesys_outbound.streams.attempts import AttemptsStream
from tap_genesys_outbound.streams.campaign_snapshots import CampaignStatsStream, CampaignStatusHistoryStream
from tap_genesys_outbound.streams.flow_reference import FlowOutcomeDefinitionsStream
from tap_genesys_outbound.streams.interval_stats import ExecutionStatsStream, FlowOutcomesStream
from tap_genesys_outbound.streams.reference import (
    CallAnalysisResponseSetsStream,
    CampaignsStream,
    DispositionsStream,
)

STREAM_TYPES = (
    CampaignsStream,
    DispositionsStream,
    CallAnalysisResponseSetsStream,
    AttemptsStream,
    ExecutionStatsStream,
    FlowOutcomeDefinitionsStream,
    FlowOutcomesStream,
    CampaignStatsStream,
    CampaignStatusHistoryStream,
)
WRAPUP_CODES_PATH = "/api/v2/routing/wrapupcodes"


class TapGenesysOutbound(Tap):
    """Singer tap for Genesys Cloud CX outbound dialing data."""

    name = "tap-genesys-outbound"
    config_jsonschema = CONFIG_SCHEMA
    _wrapup_code_names: dict[str, str] | None = None

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Our one-line checks first, then the SDK's JSON Schema (stream maps, flattening...)."""
        try:
            validate_settings(self.config)
            schema = self.config_jsonschema
            self.append_builtin_config(schema)
            error = next(iter(jsonschema.Draft7Validator(schema).iter_errors(dict(self.config))), None)
            if error is not None:
                setting = ".".join(str(part) for part in error.path) or "config"
                raise ConfigError(setting, f"a value matching its schema ({error.message})")
        except ConfigError as exc:
            if raise_errors:
                raise
            return [str(exc)]
        return []

    @cached_property
    def resolved(self) -> ResolvedSettings:
        """Settings with defaults that depend on the region or the clock, fixed for the run."""
        return resolve_settings(self.config)

    @cached_property
    def authenticator(self) -> GenesysAuthenticator:
        """One OAuth token for all streams (Genesys's rate limit is per token)."""
        return GenesysAuthenticator(
            client_id=self.config["client_id"],
            client_secret=self.config["client_secret"],
            login_url=self.resolved.login_url,
            timeout=self.config.get("request_timeout_seconds", 60),
        )

    @cached_property
    def budget(self) -> RequestBudget:
        """The request budget shared by all streams."""
        return RequestBudget(self.config.get("max_requests_per_minute", 240))

    def wrapup_code_names(self, stream: GenesysStream) -> dict[str, str]:
        """Wrap-up code id -> name, read once per run through `stream` (attempts need it for status)."""
        if self._wrapup_code_names is None:
            self._wrapup_code_names = {code["id"]: code.get("name") for code in stream.iter_listing(WRAPUP_CODES_PATH)}
        return self._wrapup_code_names

    def discover_streams(self) -> list:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]


def main(argv: t.Sequence[str] | None = None) -> None:
    """Console entry point: user errors end in one line on stderr and exit 1, never a traceback."""
    try:
        TapGenesysOutbound.cli.main(args=argv, prog_name=TapGenesysOutbound.name)
    except UserFacingError as exc:
        print(f"{TapGenesysOutbound.name}: error: {exc}", file=sys.stderr)  # noqa: T201
        sys.exit(1)


if __name__ == "__main__":
    main()
