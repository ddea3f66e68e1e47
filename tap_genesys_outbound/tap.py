"""The tap: settings, the run's shared client and lookups, and the stream list.

Nothing imports this module but the console entry point: streams receive the client, the
lookups and the resolved settings when `discover_streams` builds them.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import typing as t
from functools import cached_property
from pathlib import Path

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import EMIT_ACTIVATE_VERSION_CONFIG

from tap_genesys_outbound.adaptive_limits import AdaptiveLimits
from tap_genesys_outbound.api import GenesysClient
from tap_genesys_outbound.auth import GenesysAuthenticator
from tap_genesys_outbound.errors import ConfigError, StateError, UserFacingError
from tap_genesys_outbound.garbage_collection import fewer_collections
from tap_genesys_outbound.lookups import Lookups
from tap_genesys_outbound.output import StateFlushedWriter
from tap_genesys_outbound.rate_limit import RequestBudget
from tap_genesys_outbound.settings import (
    CONFIG_SCHEMA,
    ResolvedSettings,
    resolve_settings,
    schema_error,
    unknown_settings,
    validate_settings,
)
from tap_genesys_outbound.streams.attempts import AttemptsStream
from tap_genesys_outbound.streams.campaign_snapshots import CampaignStatsStream, CampaignStatusHistoryStream
from tap_genesys_outbound.streams.dialer_events import DialerEventsStream
from tap_genesys_outbound.streams.interval_stats import ExecutionStatsStream, FlowOutcomesStream
from tap_genesys_outbound.streams.reference import (
    CallAnalysisResponseSetsStream,
    CampaignsStream,
    ContactListsStream,
    DispositionsStream,
    DncListsStream,
    FlowOutcomeDefinitionsStream,
    UsersStream,
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
    ContactListsStream,
    DncListsStream,
    DialerEventsStream,
    UsersStream,
)


class TapGenesysOutbound(Tap):
    """Singer tap for Genesys Cloud CX outbound dialing data."""

    name = "tap-genesys-outbound"
    message_writer_class = StateFlushedWriter  # the SDK's msgspec writer, flushed per STATE (output.py)
    config_jsonschema = CONFIG_SCHEMA

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        """The SDK's built-in settings, plus `emit_activate_version_messages` (the `activate-version` capability)."""
        super().append_builtin_config(config_jsonschema)
        for name, schema in EMIT_ACTIVATE_VERSION_CONFIG["properties"].items():
            config_jsonschema["properties"].setdefault(name, schema)

    def __init__(self, *args: t.Any, validate_config: bool = True, **kwargs: t.Any) -> None:  # noqa: ANN401
        """The SDK validates the config and fills its defaults; its error becomes our one line."""
        try:
            super().__init__(*args, validate_config=validate_config, **kwargs)
        except ConfigValidationError as exc:
            raise schema_error(self._config, exc.schema or {}) or ConfigError("config", "; ".join(exc.errors)) \
                from None
        if validate_config:
            validate_settings(self.config)
            schema = dict(self.config_jsonschema)
            self.append_builtin_config(schema)
            for name in unknown_settings(self.config, schema):
                self.logger.warning("Unknown setting '%s' is ignored (see --about for the settings)", name)

    @cached_property
    def settings(self) -> ResolvedSettings:
        """Times and URLs fixed for the run (the closed-window edge is computed once)."""
        return resolve_settings(self.config)

    @cached_property
    def client(self) -> GenesysClient:
        """The one API client of the run: one OAuth token and one request budget for every stream."""
        authenticator = GenesysAuthenticator(
            client_id=self.config.get("client_id", ""),
            client_secret=self.config.get("client_secret", ""),
            login_url=self.settings.login_url,
            timeout=self.config["request_timeout_seconds"],
        )
        return GenesysClient(
            api_url=self.settings.api_url, authenticator=authenticator,
            budget=RequestBudget(self.config["max_requests_per_minute"]),
            timeout=self.config["request_timeout_seconds"], logger=self.logger,
            max_in_flight=self.config["max_concurrent_requests"], max_jobs=self.config["max_concurrent_jobs"],
        )

    @cached_property
    def lookups(self) -> Lookups:
        return Lookups(self.client, self.config)

    @cached_property
    def adaptive_limits(self) -> AdaptiveLimits:
        """API limits learned from 400s during the run (adaptive_limits.py), shared by every stream."""
        return AdaptiveLimits()

    def discover_streams(self) -> list:
        return [stream_type(self, client=self.client, lookups=self.lookups, settings=self.settings,
                            limits=self.adaptive_limits)
                for stream_type in STREAM_TYPES]

    def sync_all(self) -> None:
        """The SDK's sync, with the garbage collector tuned for it (`garbage_collection`: a sixth of the CPU)."""
        with fewer_collections():
            super().sync_all()

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
