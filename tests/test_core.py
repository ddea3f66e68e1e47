"""The Singer SDK's standard tap tests, run against the emulator over real HTTP."""

from __future__ import annotations

import atexit

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from genesys_emulator import Emulator, EmulatorConfig
from tap_genesys_outbound.tap import TapGenesysOutbound

# The standard suite needs its config when the class is built, so its emulator starts at import.
_EMULATOR = Emulator(EmulatorConfig(seed=11, campaigns=6, attempts=400, days=30,
                                    anchor="2026-03-20T00:00:00Z", job_polls_to_fulfill=1)).start()
atexit.register(_EMULATOR.stop)

SAMPLE_CONFIG = {
    "client_id": _EMULATOR.client_id,
    "client_secret": _EMULATOR.client_secret,
    "api_url": _EMULATOR.base_url,
    "login_url": _EMULATOR.base_url,
    "start_date": "2026-03-10T00:00:00Z",
    "end_date": "2026-03-20T00:00:00Z",
    "max_requests_per_minute": 300,
}

TestTapGenesysOutbound = get_tap_test_class(
    tap_class=TapGenesysOutbound,
    config=SAMPLE_CONFIG,
    suite_config=SuiteConfig(),
)

pytestmark = pytest.mark.emulator
