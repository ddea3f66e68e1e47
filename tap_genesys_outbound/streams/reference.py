"""Full-table reference streams: campaigns, the dialer's disposition vocabulary, flow outcome names,
contact lists, DNC lists and users.

None of these listings has a modified-since filter (genesys-api.md 2.1; SDK 257.1 for the
contact list, DNC list and user listings), so each run reads them whole; they are small.
"""

from __future__ import annotations

import re
import typing as t

from singer_sdk.helpers.types import Context

from tap_genesys_outbound.streams.base import GenesysStream


class EntityListingStream(GenesysStream):
    """A GET `*EntityListing` endpoint, every page of it (`GenesysClient.iter_entities`)."""

    primary_keys = ("id",)
    replication_key = None
    path: str = ""
    #: Query parameters sent with every page (besides pageSize and pageNumber).
    params: t.ClassVar[dict[str, str]] = {}

    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        for entity in self.api.iter_entities(self.path, self.params):
            yield self.post_process_entity(entity)

    def post_process_entity(self, entity: dict) -> dict:
        """Derived fields of one entity; the API's fields are kept as they are."""
        return entity


class CampaignsStream(EntityListingStream):
    """Outbound campaigns with every field of the `Campaign` model."""

    name = "campaigns"
    served_by_lookup = "campaigns"

    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Read once per run and shared with the campaign-scoped streams (`Lookups.campaigns`)."""
        return iter(self.lookups.campaigns())


def normalise_flag(flag: str) -> str:
    """`Right_Party_Contact`, `right party contact`, `RightPartyContact` -> `RIGHT_PARTY_CONTACT`."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", flag.strip())
    return re.sub(r"[\s\-_]+", "_", snake).upper()


class DispositionsStream(EntityListingStream):
    """Wrap-up codes, each with the outbound flags the dialer applies to it.

    A code's flags come from the wrap-up code mapping's `mapping` entry when it
    has one, else from its `defaultSet`; `outboundFlagsSource` says which.
    Mapping entries whose code no longer exists are emitted too, flagged
    `isDeleted`, so attempts that still carry that code id can be joined.
    """

    name = "dispositions"
    mapping_path = "/api/v2/outbound/wrapupcodemappings"

    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        mapping = self.api.get_json(self.mapping_path)
        flags_by_code = {code: sorted({normalise_flag(f) for f in flags}) for code, flags in
                         (mapping.get("mapping") or {}).items()}
        default_flags = sorted({normalise_flag(f) for f in mapping.get("defaultSet") or []})
        mapping_meta = {
            "mappingId": mapping.get("id"),
            "mappingVersion": mapping.get("version"),
            "mappingDateModified": mapping.get("dateModified"),
        }
        seen: set[str] = set()
        for code in self.lookups.wrapup_codes():  # shared with attempts: one read per run
            seen.add(code["id"])
            yield self._with_flags(code, flags_by_code, default_flags, mapping_meta, deleted=False)
        for code_id in sorted(set(flags_by_code) - seen):
            yield self._with_flags({"id": code_id, "name": None}, flags_by_code, default_flags, mapping_meta,
                                   deleted=True)

    @staticmethod
    def _with_flags(code: dict, flags_by_code: dict, default_flags: list, meta: dict, *, deleted: bool) -> dict:
        mapped = code["id"] in flags_by_code
        return {
            **code,
            "outboundFlags": flags_by_code[code["id"]] if mapped else default_flags,
            "outboundFlagsSource": "mapping" if mapped else "defaultSet",
            "isSystemCode": (code.get("name") or "").startswith("ININ-OUTBOUND-"),
            "isDeleted": deleted,
            **meta,
        }


class CallAnalysisResponseSetsStream(EntityListingStream):
    """The dialer's automatic dispositions: what each call-analysis result triggers."""

    name = "call_analysis_response_sets"
    path = "/api/v2/outbound/callanalysisresponsesets"

    def post_process_entity(self, row: dict) -> dict:
        """Add `responseList`, one row per disposition key, for warehouses that can't query maps."""
        responses = row.get("responses") or {}
        row["responseList"] = [
            {"disposition": key, **{k: (reaction or {}).get(k) for k in ("reactionType", "data", "name")}}
            for key, reaction in sorted(responses.items())
        ]
        return row


class FlowOutcomeDefinitionsStream(EntityListingStream):
    """`GET /api/v2/flows/outcomes` (genesys-api.md 6.2), the names `flow_outcomes` rows are joined to.

    An outcome deleted since it was reached is absent here; `flow_outcomes` keeps its id with a null name.
    """

    name = "flow_outcome_definitions"
    served_by_lookup = "flow_outcomes"

    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Read once per run and shared with `flow_outcomes` (`Lookups.flow_outcome_definitions`)."""
        return iter(self.lookups.flow_outcome_definitions())


class ContactListsStream(EntityListingStream):
    """Contact lists with their import status and size (both sent only when asked for: SDK 257.1 defaults false).

    The contacts themselves are not extracted: reading them is an export job, out of scope.
    """

    name = "contact_lists"
    path = "/api/v2/outbound/contactlists"
    params: t.ClassVar[dict[str, str]] = {"includeImportStatus": "true", "includeSize": "true"}


class DncListsStream(EntityListingStream):
    """Do-not-call lists (source type, contact method, import status, size), behind the attempts' DNC outcomes."""

    name = "dnc_lists"
    path = "/api/v2/outbound/dnclists"
    params: t.ClassVar[dict[str, str]] = {"includeImportStatus": "true", "includeSize": "true"}


class UsersStream(EntityListingStream):
    """Users, the join target of `attempts.agentId`: `state=any`, because the listing's default (`active`)
    would leave out agents deactivated or deleted since their calls."""

    name = "users"
    path = "/api/v2/users"
    params: t.ClassVar[dict[str, str]] = {"state": "any"}
