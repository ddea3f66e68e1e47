"""Full-table reference streams: campaigns and the dialer's disposition vocabulary.

None of these listings has a modified-since filter (genesys-api.md 2.1), so each
run reads them whole; they are small.
"""

from __future__ import annotations

import re
import typing as t

from singer_sdk.helpers.types import Context

from tap_genesys_outbound.client import GenesysStream
from tap_genesys_outbound.pagination import EntityListingPaginator

LISTING_PAGE_SIZE = 100


class EntityListingStream(GenesysStream):
    """A GET `*EntityListing` endpoint paged by `pageNumber`/`pageSize`."""

    primary_keys = ("id",)
    replication_key = None

    def get_new_paginator(self) -> EntityListingPaginator:
        return EntityListingPaginator()

    def get_url_params(self, context: Context | None, next_page_token: int | None) -> dict[str, t.Any]:
        return {"pageSize": LISTING_PAGE_SIZE, "pageNumber": next_page_token or 1}


class CampaignsStream(EntityListingStream):
    """Outbound campaigns with every field of the `Campaign` model."""

    name = "campaigns"
    path = "/api/v2/outbound/campaigns"

    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Read once per run and shared with the campaign-scoped streams (`tap.campaign_list`)."""
        return iter(self._tap_ref.campaign_list(self))


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
    path = "/api/v2/routing/wrapupcodes"
    mapping_path = "/api/v2/outbound/wrapupcodemappings"

    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        mapping = self.fetch_json(self.mapping_path)
        flags_by_code = {code: sorted({normalise_flag(f) for f in flags}) for code, flags in
                         (mapping.get("mapping") or {}).items()}
        default_flags = sorted({normalise_flag(f) for f in mapping.get("defaultSet") or []})
        mapping_meta = {
            "mappingId": mapping.get("id"),
            "mappingVersion": mapping.get("version"),
            "mappingDateModified": mapping.get("dateModified"),
        }
        seen: set[str] = set()
        for code in self._tap_ref.wrapup_codes(self):  # shared with attempts: one read per run
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

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Add `responseList`, one row per disposition key, for warehouses that can't query maps."""
        responses = row.get("responses") or {}
        row["responseList"] = [
            {"disposition": key, **{k: (reaction or {}).get(k) for k in ("reactionType", "data", "name")}}
            for key, reaction in sorted(responses.items())
        ]
        return row
