"""Settings: the JSON Schema the SDK publishes in `--about`, and the checks it cannot express.

Setting names are a public interface (meltano.yml, Meltano Hub, users' configs):
do not rename them. `validate_settings` runs before any HTTP call and raises a
`ConfigError` naming the setting and what was expected.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t

from singer_sdk import typing as th

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
GRANULARITIES = ("auto", "PT15M", "PT30M", "PT1H", "P1D", "P7D", "P1M")
ASYNC_JOBS_MODES = ("auto", "always", "never")
MAX_REQUESTS_PER_MINUTE = 300  # Genesys's default per-token limit

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

CONFIG_SCHEMA = th.PropertiesList(
    th.Property("client_id", th.StringType, required=True, title="Client ID",
                description="OAuth client-credentials client id (Admin > Integrations > OAuth)."),
    th.Property("client_secret", th.StringType, required=True, secret=True, title="Client Secret",
                description="Secret of the OAuth client. Never logged."),
    th.Property("region", th.StringType, default=DEFAULT_REGION, title="Region",
                allowed_values=list(REGIONS),
                description="Genesys Cloud region domain, e.g. mypurecloud.com (us-east-1) or mypurecloud.ie."),
    th.Property("api_url", th.StringType, title="API URL",
                description="Override of the API base URL (default https://api.<region>), for proxies or the emulator."),
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
                description="How far before the bookmark incremental streams re-read, to catch late-completing calls."),
    th.Property("analytics_delay_minutes", th.IntegerType(minimum=0), default=60, title="Analytics Delay (minutes)",
                description="Never read analytics data newer than now minus this, so every window read is closed."),
    th.Property("granularity", th.StringType, default="auto", allowed_values=list(GRANULARITIES),
                title="Granularity",
                description="Bucket size of interval streams: auto picks the finest the API allows per request."),
    th.Property("async_jobs", th.StringType, default="auto", allowed_values=list(ASYNC_JOBS_MODES),
                title="Async Jobs",
                description="Use the analytics async jobs API for backfill windows: auto (before the data "
                            "availability date), always, or never."),
    th.Property("max_requests_per_minute", th.IntegerType(minimum=1, maximum=MAX_REQUESTS_PER_MINUTE), default=240, title="Max Requests per Minute",
                description="Client-side request budget shared by all streams of a run (Genesys allows 300 per token)."),
    th.Property("async_job_timeout_seconds", th.IntegerType(minimum=1), default=1800,
                title="Async Job Timeout (seconds)",
                description="How long to wait for an analytics job before reading its window with the sync query."),
    th.Property("request_timeout_seconds", th.IntegerType(minimum=1, maximum=600), default=60, title="Request Timeout (seconds)",
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
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _check_int(config: dict, setting: str, low: int, high: int | None = None) -> None:
    value = config.get(setting)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ConfigError(setting, f"an integer {bounds}, got {value!r}")


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
    """Raise `ConfigError` for the first invalid setting, checked in the table's order."""
    now = now or dt.datetime.now(dt.timezone.utc)
    config = dict(config)
    for setting in ("client_id", "client_secret"):
        if not isinstance(config.get(setting), str) or not config[setting].strip():
            raise ConfigError(setting, "a non-empty string (the OAuth client's credentials)")
    region = config.get("region", DEFAULT_REGION)
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
    _check_int(config, "lookback_window_hours", 0)
    _check_int(config, "analytics_delay_minutes", 0)
    granularity = config.get("granularity", "auto")
    if granularity not in GRANULARITIES:
        raise ConfigError("granularity", f"one of {', '.join(GRANULARITIES)}; got {granularity!r}")
    mode = config.get("async_jobs", "auto")
    if mode not in ASYNC_JOBS_MODES:
        raise ConfigError("async_jobs", f"one of {', '.join(ASYNC_JOBS_MODES)}; got {mode!r}")
    _check_int(config, "max_requests_per_minute", 1, MAX_REQUESTS_PER_MINUTE)
    _check_int(config, "request_timeout_seconds", 1, 600)
    _check_int(config, "async_job_timeout_seconds", 1)


class ResolvedSettings(t.NamedTuple):
    """Settings with their defaults applied, as the streams use them."""

    api_url: str
    login_url: str
    start: dt.datetime
    end: dt.datetime
    lookback: dt.timedelta
    analytics_delay: dt.timedelta


def resolve_settings(config: t.Mapping[str, t.Any], now: dt.datetime | None = None) -> ResolvedSettings:
    """Apply defaults that depend on other settings or on the clock."""
    now = now or dt.datetime.now(dt.timezone.utc)
    region = config.get("region") or DEFAULT_REGION
    delay = dt.timedelta(minutes=config.get("analytics_delay_minutes", 60))
    end = _parse_datetime("end_date", config["end_date"]) if config.get("end_date") else now - delay
    return ResolvedSettings(
        api_url=(config.get("api_url") or f"https://api.{region}").rstrip("/"),
        login_url=(config.get("login_url") or f"https://login.{region}").rstrip("/"),
        start=_parse_datetime("start_date", config["start_date"]),
        end=end,
        lookback=dt.timedelta(hours=config.get("lookback_window_hours", 48)),
        analytics_delay=delay,
    )
