"""`flow_outcome_definitions`: the Architect flow outcomes that `flow_outcomes` rows are named from."""

from __future__ import annotations

import typing as t

from singer_sdk.helpers.types import Context

from tap_genesys_outbound.streams.reference import EntityListingStream


class FlowOutcomeDefinitionsStream(EntityListingStream):
    """`GET /api/v2/flows/outcomes` (genesys-api.md 6.2), full table, key `id`.

    An outcome deleted since it was reached is absent here; `flow_outcomes` keeps its id with a null name.
    """

    name = "flow_outcome_definitions"
    path = "/api/v2/flows/outcomes"

    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Read once per run and shared with `flow_outcomes` (`tap.flow_outcome_definitions`)."""
        return iter(self._tap_ref.flow_outcome_definitions(self))
