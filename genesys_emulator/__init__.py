"""Genesys Cloud public-API emulator for testing tap-genesys-outbound (stdlib only).

`Emulator` serves a deterministic synthetic outbound org over real HTTP; `EmulatorConfig` sizes it;
`Faults` switches rate limits, errors, dropped connections and other failures on and off.
"""

from .dataset import Dataset, EmulatorConfig
from .faults import Faults
from .server import Emulator

__all__ = ["Dataset", "Emulator", "EmulatorConfig", "Faults"]
