"""`flow_outcome_definitions`: the Architect flow outcomes that `flow_outcomes` rows are named from."""

from __future__ import annotations

from tap_genesys_outbound.streams.reference import EntityListingStream


class FlowOutcomeDefinitionsStream(EntityListingStream):
    """`GET /api/v2/flows/outcomes` (genesys-api.md 6.2), full table, key `id`.

    An outcome deleted since it was reached is absent here; `flow_outcomes` keeps its id with a null name.
    """

    name = "flow_outcome_definitions"
    path = "/api/v2/flows/outcomes"
