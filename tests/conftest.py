"""Shared fixtures: a real emulator on loopback; each test module declares its tier (unit, emulator, e2e)."""

from __future__ import annotations

import typing as t

import pytest
from helpers import ANCHOR

from genesys_emulator import Emulator, EmulatorConfig


@pytest.fixture(scope="session")
def emulator() -> t.Iterator[Emulator]:
    """A shared, read-only emulator (tests that switch faults or mutate data start their own)."""
    with Emulator(EmulatorConfig(seed=42, campaigns=12, attempts=3000, days=30, anchor=ANCHOR)) as emu:
        yield emu


@pytest.fixture
def fresh_emulator() -> t.Iterator[Emulator]:
    """An emulator of the test's own, for faults and data changes."""
    with Emulator(EmulatorConfig(seed=7, campaigns=12, attempts=800, days=30, anchor=ANCHOR,
                                 job_polls_to_fulfill=1)) as emu:
        yield emu
