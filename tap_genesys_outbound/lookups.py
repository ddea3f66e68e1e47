"""What several streams need, read once per run through the shared client.

Wrap-up codes (`dispositions` emits them, `attempts` names and classifies with them), campaigns
(`campaigns` emits them, the campaign-scoped streams iterate them), flow outcome definitions
(`flow_outcome_definitions` emits them, `flow_outcomes` names with them) and the analytics data
availability date (`attempts` and the aggregate streams plan jobs with it). Each is read on first
use and kept for the run; the request count of each read is kept for the streams' summary lines.
"""

from __future__ import annotations

import datetime as dt
import threading
import typing as t

from tap_genesys_outbound.api import GenesysClient, RequestStats
from tap_genesys_outbound.errors import GenesysAPIError
from tap_genesys_outbound.windows import parse_timestamp

WRAPUP_CODES_PATH = "/api/v2/routing/wrapupcodes"
CAMPAIGNS_PATH = "/api/v2/outbound/campaigns"
FLOW_OUTCOMES_PATH = "/api/v2/flows/outcomes"
AVAILABILITY_PATH = "/api/v2/analytics/conversations/details/jobs/availability"


class Lookups:
    """Per-run cache of shared reference data; safe to call from several threads."""

    def __init__(self, client: GenesysClient, config: t.Mapping[str, t.Any]) -> None:
        self._client = client
        self._config = config
        self._values: dict[str, t.Any] = {}
        self._lock = threading.Lock()
        #: Requests each lookup took, for the summary line of the stream that emits it.
        self.stats: dict[str, RequestStats] = {}

    def _once(self, key: str, fetch: t.Callable[[GenesysClient], t.Any]) -> t.Any:  # noqa: ANN401
        with self._lock:  # a second thread waits for the first read instead of repeating it
            if key not in self._values:
                client = self._client.for_stream(f"{key} lookup")
                self._values[key] = fetch(client)
                self.stats[key] = client.stats
            return self._values[key]

    def wrapup_codes(self) -> list[dict]:
        """Every wrap-up code of the org."""
        return self._once("wrapup_codes", lambda client: list(client.iter_entities(WRAPUP_CODES_PATH)))

    def wrapup_code_names(self) -> dict[str, str | None]:
        """Wrap-up code id -> name."""
        return {code["id"]: code.get("name") for code in self.wrapup_codes()}

    def campaigns(self) -> list[dict]:
        """Full `Campaign` objects of the org, only those in `campaign_ids` when it is set."""
        wanted = self._config.get("campaign_ids")

        def fetch(client: GenesysClient) -> list[dict]:
            params = {"id": ",".join(wanted)} if wanted else None  # list params are comma-joined
            return [c for c in client.iter_entities(CAMPAIGNS_PATH, params) if not wanted or c.get("id") in wanted]

        return self._once("campaigns", fetch)

    def flow_outcome_definitions(self) -> list[dict]:
        """Every Architect flow outcome definition."""
        return self._once("flow_outcomes", lambda client: list(client.iter_entities(FLOW_OUTCOMES_PATH)))

    def data_availability_date(self) -> dt.datetime | None:
        """Data before this instant is in the analytics jobs' data lake; None (logged) when the API will not say."""
        def fetch(client: GenesysClient) -> dt.datetime | None:
            try:
                return parse_timestamp(client.get_json(AVAILABILITY_PATH)["dataAvailabilityDate"])
            except (GenesysAPIError, KeyError, ValueError, TypeError, AttributeError) as exc:
                client.logger.warning("No data availability date (%s); analytics jobs are not used", exc)
                return None

        return self._once("data_availability_date", fetch)
