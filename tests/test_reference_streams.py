"""campaigns, dispositions and call_analysis_response_sets against the emulator, over real HTTP."""

from __future__ import annotations

import pytest
from helpers import run_tap, tap_config

from genesys_emulator import Emulator, EmulatorConfig
from tap_genesys_outbound.streams.reference import normalise_flag

pytestmark = pytest.mark.emulator

REFERENCE = ("campaigns", "dispositions", "call_analysis_response_sets")


def test_reference_streams_match_the_emulator_exactly(tmp_path, emulator) -> None:
    run = run_tap(tmp_path, tap_config(emulator), streams=REFERENCE)
    assert run.returncode == 0, run.stderr
    dataset = emulator.dataset
    assert run.records("campaigns") == [{**c} for c in dataset.campaigns]  # every field, unchanged
    assert {r["id"] for r in run.records("call_analysis_response_sets")} == {r["id"] for r in dataset.response_sets}
    codes = {r["id"]: r for r in run.records("dispositions")}
    assert set(codes) == {c["id"] for c in dataset.wrapup_codes} | {dataset.deleted_wrapup_code_id}
    assert "not found in catalog schema" not in run.stderr  # the SDK would have dropped fields


def test_campaign_records_keep_the_real_campaign_model_fields(tmp_path, emulator) -> None:
    run = run_tap(tmp_path, tap_config(emulator), streams=["campaigns"])
    campaign = run.records("campaigns")[0]
    for field in ("campaignStatus", "dialingMode", "version", "dateModified", "contactList", "queue",
                  "callAnalysisResponseSet", "division", "dncLists", "phoneColumns", "abandonRate"):
        assert field in campaign


def test_disposition_flags_come_from_mapping_else_default_set(tmp_path, emulator) -> None:
    run = run_tap(tmp_path, tap_config(emulator), streams=["dispositions"])
    mapping = emulator.dataset.wrapup_mapping
    default = sorted({normalise_flag(f) for f in mapping["defaultSet"]})
    records = run.records("dispositions")
    sources = {r["outboundFlagsSource"] for r in records}
    assert sources == {"mapping", "defaultSet"}, "the emulator data should exercise both sources"
    for record in records:
        if record["id"] in mapping["mapping"]:
            assert record["outboundFlagsSource"] == "mapping"
            assert record["outboundFlags"] == sorted({normalise_flag(f) for f in mapping["mapping"][record["id"]]})
        else:
            assert record["outboundFlagsSource"] == "defaultSet"
            assert record["outboundFlags"] == default
        assert all(flag == flag.upper() and " " not in flag for flag in record["outboundFlags"])
    deleted = next(r for r in records if r["id"] == emulator.dataset.deleted_wrapup_code_id)
    assert deleted["isDeleted"] is True and deleted["name"] is None
    assert any(r["isSystemCode"] for r in records)


def test_flag_normalisation() -> None:
    assert normalise_flag("Right_Party_Contact") == "RIGHT_PARTY_CONTACT"
    assert normalise_flag("contact_uncallable") == "CONTACT_UNCALLABLE"
    assert normalise_flag("Business Success") == "BUSINESS_SUCCESS"
    assert normalise_flag("RightPartyContact") == "RIGHT_PARTY_CONTACT"
    assert normalise_flag("NUMBER_UNCALLABLE") == "NUMBER_UNCALLABLE"


def test_campaign_ids_filter(tmp_path, emulator) -> None:
    wanted = [c["id"] for c in emulator.dataset.campaigns[:2]]
    run = run_tap(tmp_path, tap_config(emulator, campaign_ids=wanted), streams=["campaigns"])
    assert sorted(r["id"] for r in run.records("campaigns")) == sorted(wanted)


def test_multi_page_listing_reads_every_page(tmp_path) -> None:
    with Emulator(EmulatorConfig(campaigns=230, attempts=50)) as emu:
        run = run_tap(tmp_path, tap_config(emu), streams=["campaigns"])
        assert len(run.records("campaigns")) == 230
        assert len({r["id"] for r in run.records("campaigns")}) == 230
        assert emu.request_count("/api/v2/outbound/campaigns") == 3  # pageSize 100: pages 1, 2, 3


def test_an_empty_page_mid_listing_does_not_end_the_listing(tmp_path) -> None:
    with Emulator(EmulatorConfig(campaigns=230, attempts=50)) as emu:
        campaigns = emu.dataset.campaigns
        # page 1 comes back empty although its envelope says pageCount 3
        emu.faults.empty_page(count=1, path="/api/v2/outbound/campaigns")
        run = run_tap(tmp_path, tap_config(emu), streams=["campaigns"])
        assert run.returncode == 0, run.stderr
        assert emu.request_count("/api/v2/outbound/campaigns") == 3
        got = [r["id"] for r in run.records("campaigns")]
        assert got == [c["id"] for c in campaigns[100:]], \
            "the SDK would stop at the empty page; pages 2 and 3 must still be read"
