"""Settings: the JSON Schema the SDK publishes in `--about`, and the checks it cannot express.

Setting names are a public interface (meltano.yml, Meltano Hub, users' configs):
do not rename them. Every default lives once, in `CONFIG_SCHEMA`: the SDK validates the
config against it and fills the defaults in. `schema_error` turns the SDK's first JSON Schema
violation into the tap's one-line `ConfigError`; `validate_settings` then checks what a JSON
Schema cannot say (regions with their names, UUIDs, URLs, dates relative to each other and to
now). Both run before any HTTP call.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t

import jsonschema
from singer_sdk import typing as th

from tap_genesys_outbound import local_time
from tap_genesys_outbound.errors import ConfigError

#: Region domains of Genesys Cloud (genesys-api.md section 7): API host is
#: ``api.<domain>``, token host ``login.<domain>``.
REGIONS: dict[str, str] = {
    "mypurecloud.com": "us-east-1",
    "use2.us-gov-pure.cloud": "us-east-2 (FedRAMP)",
    "usw2.pure.cloud": "us-west-2",
    "cac1.pure.cloud": "ca-central-1",
    "sae1.pure.cloud": "sa-east-1",
    "mxc1.pure.cloud": "mx-central-1",
    "mypurecloud.ie": "eu-west-1",
    "euw2.pure.cloud": "eu-west-2",
    "mypurecloud.de": "eu-central-1",
    "euc2.pure.cloud": "eu-central-2",
    "edee1.eusc-pure.cloud": "eusc-de-east-1",
    "mec1.pure.cloud": "me-central-1",
    "aps1.pure.cloud": "ap-south-1",
    "mypurecloud.jp": "ap-northeast-1",
    "apne2.pure.cloud": "ap-northeast-2",
    "apne3.pure.cloud": "ap-northeast-3",
    "apse1.pure.cloud": "ap-southeast-1",
    "mypurecloud.com.au": "ap-southeast-2",
}
DEFAULT_REGION = "mypurecloud.com"
#: Granularities Genesys's own query builder offers (P7D is confirmed by no Genesys source: not offered).
GRANULARITIES = ("auto", "PT15M", "PT30M", "PT1H", "P1D", "P1M")
ASYNC_JOBS_MODES = ("auto", "always", "never")
MAX_REQUESTS_PER_MINUTE = 300  # Genesys's default per-token limit
MAX_CONCURRENT_REQUESTS = 16  # more cannot help under 300 requests/min even at 3 s an answer
MAX_CONCURRENT_JOBS = 8

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

CONFIG_SCHEMA = th.PropertiesList(
    th.Property("client_id", th.StringType(min_length=1), required=True, title="Client ID",
                description="OAuth client-credentials client id (Admin > Integrations > OAuth)."),
    th.Property("client_secret", th.StringType(min_length=1), required=True, secret=True, title="Client Secret",
                description="Secret of the OAuth client. Never logged."),
    th.Property("region", th.StringType, default=DEFAULT_REGION, title="Region",
                allowed_values=list(REGIONS),
                description="Genesys Cloud region domain, e.g. mypurecloud.com (us-east-1) or mypurecloud.ie."),
    th.Property("api_url", th.StringType, title="API URL",
                description="Override of the API base URL (default https://api.<region>), "
                            "for proxies or the emulator."),
    th.Property("login_url", th.StringType, title="Login URL",
                description="Override of the token host (default https://login.<region>)."),
    th.Property("start_date", th.DateTimeType, required=True, title="Start Date",
                description="Earliest data to extract (ISO-8601). Ignored by a stream once it has state."),
    th.Property("end_date", th.DateTimeType, title="End Date",
                description="Latest data to extract, exclusive (default: now minus analytics_delay_minutes)."),
    th.Property("campaign_ids", th.ArrayType(th.StringType), title="Campaign IDs",
                description="Limit campaign-scoped streams to these campaign UUIDs (default: all)."),
    th.Property("flow_ids", th.ArrayType(th.StringType), title="Flow IDs",
                description="Limit flow-scoped streams to these flow UUIDs (default: all)."),
    th.Property("lookback_window_hours", th.IntegerType(minimum=0), default=48, title="Lookback Window (hours)",
                description="How far before the bookmark incremental streams re-read, "
                            "to catch late-completing calls."),
    th.Property("analytics_delay_minutes", th.IntegerType(minimum=0), default=60, title="Analytics Delay (minutes)",
                description="Never read analytics data newer than now minus this, "
                            "so every window read is closed."),
    th.Property("granularity", th.StringType, default="auto", allowed_values=list(GRANULARITIES),
                title="Granularity",
                description="Bucket size of interval streams: auto picks the finest the API allows per request."),
    th.Property("time_zone", th.StringType, default=local_time.DEFAULT_ZONE, title="Time Zone",
                description="IANA time zone (e.g. America/New_York) the interval streams bucket days and months "
                            "in (the aggregates' timeZone); intervals are written with that zone's UTC offset."),
    th.Property("async_jobs", th.StringType, default="auto", allowed_values=list(ASYNC_JOBS_MODES),
                title="Async Jobs",
                description="Use the analytics async jobs API for backfill windows: auto (before the data "
                            "availability date), always, or never."),
    th.Property("max_requests_per_minute", th.IntegerType(minimum=1, maximum=MAX_REQUESTS_PER_MINUTE), default=240,
                title="Max Requests per Minute",
                description="Client-side request budget shared by all streams of a run "
                            "(Genesys allows 300 per token)."),
    th.Property("max_concurrent_requests", th.IntegerType(minimum=1, maximum=MAX_CONCURRENT_REQUESTS), default=4,
                title="Max Concurrent Requests",
                description="Requests in flight at once, all under the one per-minute budget (1 reads one "
                            "request at a time). Windows are fetched ahead; records and STATE stay in order."),
    th.Property("max_concurrent_jobs", th.IntegerType(minimum=1, maximum=MAX_CONCURRENT_JOBS), default=2,
                title="Max Concurrent Jobs",
                description="Analytics async jobs in flight at once; lowered for the run when Genesys answers a "
                            "submission with 429 or a 4xx naming a limit."),
    th.Property("async_job_timeout_seconds", th.IntegerType(minimum=1), default=1800,
                title="Async Job Timeout (seconds)",
                description="How long to wait for an analytics job before reading its window with the sync query."),
    th.Property("request_timeout_seconds", th.IntegerType(minimum=1, maximum=600), default=60,
                title="Request Timeout (seconds)",
                description="Seconds to wait for one HTTP response before retrying it."),
).to_dict()


def _parse_datetime(setting: str, value: t.Any) -> dt.datetime:  # noqa: ANN401
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(setting, f"an ISO-8601 date-time such as 2024-05-01T00:00:00Z, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _check_uuid_list(config: dict, setting: str) -> None:
    values = config.get(setting)
    if values is None:
        return
    if not isinstance(values, list):
        raise ConfigError(setting, f"a list of UUIDs, got {type(values).__name__}")
    for value in values:
        if not isinstance(value, str) or not _UUID.match(value):
            raise ConfigError(setting, f"a list of UUIDs like 1b2c3d4e-0000-4000-8000-000000000000, got {value!r}")


def _check_url(config: dict, setting: str) -> None:
    value = config.get(setting)
    if value is not None and not re.match(r"^https?://[^/\s]+", str(value)):
        raise ConfigError(setting, f"an http(s) URL such as https://api.mypurecloud.com, got {value!r}")


def validate_settings(config: t.Mapping[str, t.Any], now: dt.datetime | None = None) -> None:
    """Raise `ConfigError` for the first setting a JSON Schema cannot check, in the table's order."""
    now = now or dt.datetime.now(dt.UTC)
    config = dict(config)
    for setting in ("client_id", "client_secret"):
        if not isinstance(config.get(setting), str) or not config[setting].strip():
            raise ConfigError(setting, "a non-empty string (the OAuth client's credentials)")
    region = config.get("region") or DEFAULT_REGION
    if region not in REGIONS:
        raise ConfigError("region", f"one of {', '.join(REGIONS)}; got {region!r}")
    _check_url(config, "api_url")
    _check_url(config, "login_url")
    if config.get("start_date") in (None, ""):
        raise ConfigError("start_date", "an ISO-8601 date-time such as 2024-05-01T00:00:00Z (required)")
    start = _parse_datetime("start_date", config["start_date"])
    if start > now:
        raise ConfigError("start_date", f"a date-time in the past, got {config['start_date']!r} (in the future)")
    if config.get("end_date") not in (None, ""):
        end = _parse_datetime("end_date", config["end_date"])
        if end <= start:
            raise ConfigError("end_date", f"a date-time after start_date, got {config['end_date']!r}")
    _check_uuid_list(config, "campaign_ids")
    _check_uuid_list(config, "flow_ids")
    time_zone = config.get("time_zone", local_time.DEFAULT_ZONE)
    try:
        local_time.zone(time_zone)
    except ValueError:
        raise ConfigError("time_zone", f"an IANA time zone name such as {local_time.EXAMPLE_ZONE} or UTC, "
                                       f"got {time_zone!r}") from None


def schema_error(config: t.Mapping[str, t.Any], schema: dict) -> ConfigError | None:
    """The first JSON Schema violation of `config` as a one-line `ConfigError`, or None.

    The SDK has validated (and filled defaults) already; this re-runs the same schema to get the
    structured error, because the SDK only keeps formatted strings.
    """
    error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(dict(config)))
    if error is None:
        return None
    if error.validator == "required":
        setting = error.message.split("'")[1] if "'" in error.message else "config"
        return ConfigError(setting, f"a value ({_describe(schema.get('properties', {}).get(setting, {}))}; required)")
    setting = ".".join(str(part) for part in error.path) or "config"
    prop = schema.get("properties", {}).get(str(error.path[0]), {}) if error.path else {}
    return ConfigError(setting, f"{_describe(prop)}, got {error.instance!r}")


def _describe(prop: dict) -> str:
    """What a setting's schema accepts, in words."""
    if "enum" in prop:
        return "one of " + ", ".join(str(v) for v in prop["enum"] if v is not None)
    types = prop.get("type") or [t_ for sub in prop.get("anyOf", []) for t_ in _as_list(sub.get("type"))]
    kind = next((k for k in _as_list(types) if k != "null"), "value")
    low, high = prop.get("minimum"), prop.get("maximum")
    if kind == "integer":
        if low is not None and high is not None:
            return f"an integer between {low} and {high}"
        return f"an integer >= {low}" if low is not None else "an integer"
    if kind == "string":
        if prop.get("format") == "date-time":
            return "an ISO-8601 date-time such as 2024-05-01T00:00:00Z"
        return "a non-empty string" if prop.get("minLength") else "a string"
    if kind == "array":
        return "a list"
    return {"boolean": "true or false", "object": "an object", "number": "a number"}.get(kind, "a valid value")


def _as_list(value: t.Any) -> list:  # noqa: ANN401
    return value if isinstance(value, list) else [value] if value else []


def unknown_settings(config: t.Mapping[str, t.Any], schema: dict) -> list[str]:
    """Setting names the tap does not know (a typo such as `page_size` must not pass silently)."""
    return sorted(set(config) - set(schema.get("properties", {})))


class ResolvedSettings(t.NamedTuple):
    """Settings the streams use as times and URLs, fixed once per run (`end` depends on the clock)."""

    api_url: str
    login_url: str
    start: dt.datetime | None  # None only where the config was not validated (discovery, --about)
    end: dt.datetime
    lookback: dt.timedelta
    analytics_delay: dt.timedelta


def resolve_settings(config: t.Mapping[str, t.Any], now: dt.datetime | None = None) -> ResolvedSettings:
    """Times and URLs from a config whose defaults the SDK has filled in."""
    now = now or dt.datetime.now(dt.UTC)
    region = config["region"]
    delay = dt.timedelta(minutes=config["analytics_delay_minutes"])
    end = _parse_datetime("end_date", config["end_date"]) if config.get("end_date") else now - delay
    return ResolvedSettings(
        api_url=(config.get("api_url") or f"https://api.{region}").rstrip("/"),
        login_url=(config.get("login_url") or f"https://login.{region}").rstrip("/"),
        start=_parse_datetime("start_date", config["start_date"]) if config.get("start_date") else None,
        end=end,
        lookback=dt.timedelta(hours=config["lookback_window_hours"]),
        analytics_delay=delay,
    )
