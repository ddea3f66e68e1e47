"""The tap: settings, shared HTTP objects and the stream list."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import typing as t
from functools import cached_property
from pathlib import Path

import jsonschema

from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.helpers.capabilities import EMIT_ACTIVATE_VERSION_CONFIG

from tap_genesys_outbound.auth import GenesysAuthenticator
from tap_genesys_outbound.client import GenesysStream
from tap_genesys_outbound.errors import ConfigError, StateError, UserFacingError
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
from tap_genesys_outbound.windows import parse_timestamp

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
CAMPAIGNS_PATH = "/api/v2/outbound/campaigns"
FLOW_OUTCOMES_PATH = "/api/v2/flows/outcomes"


class TapGenesysOutbound(Tap):
    """Singer tap for Genesys Cloud CX outbound dialing data."""

    name = "tap-genesys-outbound"
    message_writer_class = MsgSpecWriter  # the SDK's faster Singer message writer (bench/run.py)
    config_jsonschema = CONFIG_SCHEMA

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        """The SDK's built-in settings, plus `emit_activate_version_messages` (the `activate-version` capability)."""
        super().append_builtin_config(config_jsonschema)
        for name, schema in EMIT_ACTIVATE_VERSION_CONFIG["properties"].items():
            config_jsonschema["properties"].setdefault(name, schema)

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

    @cached_property
    def _lookups(self) -> dict[str, t.Any]:
        return {}

    def lookup(self, key: str, fetch: t.Callable[[], t.Any]) -> t.Any:  # noqa: ANN401
        """Per-run cache for what several streams need (wrap-up codes, campaigns, availability): one read each."""
        if key not in self._lookups:
            self._lookups[key] = fetch()
        return self._lookups[key]

    def wrapup_codes(self, stream: GenesysStream) -> list[dict]:
        """Every wrap-up code (`dispositions` emits them, `attempts` resolves names and status with them)."""
        return self.lookup("wrapup_codes", lambda: list(stream.iter_listing(WRAPUP_CODES_PATH)))

    def wrapup_code_names(self, stream: GenesysStream) -> dict[str, str]:
        """Wrap-up code id -> name."""
        return {code["id"]: code.get("name") for code in self.wrapup_codes(stream)}

    def flow_outcome_definitions(self, stream: GenesysStream) -> list[dict]:
        """Every flow outcome definition (`flow_outcome_definitions` emits them, `flow_outcomes` names with them)."""
        return self.lookup("flow_outcomes", lambda: list(stream.iter_listing(FLOW_OUTCOMES_PATH)))

    def campaign_list(self, stream: GenesysStream) -> list[dict]:
        """The campaigns of the org (only `campaign_ids` when set), full `Campaign` objects."""
        def fetch() -> list[dict]:
            wanted = self.config.get("campaign_ids")
            params = {"id": ",".join(wanted)} if wanted else None  # list params are comma-joined
            return [c for c in stream.iter_listing(CAMPAIGNS_PATH, params) if not wanted or c.get("id") in wanted]
        return self.lookup("campaigns", fetch)

    def discover_streams(self) -> list:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    # --- state: checked before any request, so a bad file ends in one line (README "Reliability") ---
    @classmethod
    def invoke(cls, *, state: t.IO[str] | None = None, **kwargs: t.Any) -> None:  # noqa: ANN401
        """The SDK's invoke, with a `--state` file that is not JSON answered in one line."""
        if state is not None:
            text = state.read()
            try:
                parsed = json.loads(text)
            except ValueError as exc:
                raise StateError(f"the state file is not JSON ({exc.__class__.__name__}: {exc})") from None
            check_state(parsed)
            state = io.StringIO(text)
        super().invoke(state=state, **kwargs)

    def load_state(self, state: dict[str, t.Any]) -> None:
        """Refuse a state that is not a Singer state or whose bookmarks are not timestamps (older versions)."""
        check_state(state)
        super().load_state(state)


def check_state(state: t.Any) -> None:  # noqa: ANN401
    """Every bookmark this tap writes is an ISO-8601 `replication_key_value`; anything else is refused."""
    if not isinstance(state, dict):
        raise StateError(f"the state is a JSON {type(state).__name__}, not an object with 'bookmarks'")
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        raise StateError("'bookmarks' is not an object of stream name -> bookmark")
    for stream_name, stream_state in bookmarks.items():
        if not isinstance(stream_state, dict):
            raise StateError(f"the bookmark of stream '{stream_name}' is not an object")
        entries = [stream_state, *(p for p in stream_state.get("partitions") or [] if isinstance(p, dict))]
        for entry in entries:
            value = entry.get("replication_key_value")
            if value is None:
                continue
            try:
                parse_timestamp(value)
            except (ValueError, TypeError, AttributeError):
                shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
                raise StateError(
                    f"the bookmark of stream '{stream_name}' is {shown}, not an ISO-8601 timestamp "
                    "(a state from an older version or another tap?)"
                ) from None


def _metrics_at_debug(record: logging.LogRecord) -> bool:
    """Log filter: a METRIC line becomes a DEBUG record, dropped unless the root logger is at DEBUG."""
    record.levelno, record.levelname = logging.DEBUG, "DEBUG"
    return logging.getLogger().isEnabledFor(logging.DEBUG)


def main(argv: t.Sequence[str] | None = None) -> None:
    """Console entry point: user errors end in one line on stderr and exit 1, never a traceback."""
    # Quiet by default (README, "Logging"): the shipped logging config unless the user (or Meltano) gives one,
    # and the SDK's METRIC lines at DEBUG, so they show only with --log-level=debug / LOGLEVEL=debug.
    os.environ.setdefault("SINGER_SDK_LOG_CONFIG", str(Path(__file__).with_name("logging.yaml")))
    logging.getLogger("singer_sdk.metrics").addFilter(_metrics_at_debug)
    try:
        TapGenesysOutbound.cli.main(args=argv, prog_name=TapGenesysOutbound.name)
    except UserFacingError as exc:
        print(f"{TapGenesysOutbound.name}: error: {exc}", file=sys.stderr)  # noqa: T201
        sys.exit(1)


if __name__ == "__main__":
    main()
