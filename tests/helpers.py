"""Test helpers: a tap config pointing at an emulator, and running the tap as users do (a subprocess)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import typing as t
from collections import defaultdict
from pathlib import Path

from genesys_emulator import Emulator

ANCHOR = "2026-03-20T00:00:00Z"  # emulator data ends here (exclusive); 30 days before it include the DST change
START = "2026-02-18T00:00:00Z"


def tap_config(emu: Emulator, **overrides: t.Any) -> dict:
    """A config pointing the tap at the emulator, with the fastest allowed request budget."""
    return {
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "api_url": emu.base_url,
        "login_url": emu.base_url,
        "start_date": START,
        "end_date": ANCHOR,
        "max_requests_per_minute": 300,
        **overrides,
    }


@dataclasses.dataclass
class TapRun:
    """What one tap process printed."""

    returncode: int
    messages: list[dict]
    stderr: str

    def records(self, stream: str) -> list[dict]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream]

    @property
    def states(self) -> list[dict]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for m in self.messages:
            if m["type"] == "RECORD":
                counts[m["stream"]] += 1
        return dict(counts)


_CATALOG: dict | None = None


def catalog_selecting(*streams: str) -> dict:
    """The tap's own discovered catalog with only `streams` selected."""
    global _CATALOG
    if _CATALOG is None:
        out = subprocess.run([sys.executable, "-m", "tap_genesys_outbound.tap", "--discover"],
                             capture_output=True, text=True, check=True)
        _CATALOG = json.loads(out.stdout)
    catalog = json.loads(json.dumps(_CATALOG))
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] in streams
    return catalog


def run_tap(tmp_path: Path, config: dict, *, streams: t.Sequence[str] | None = None, state: dict | None = None,
            timeout: float = 300) -> TapRun:
    """Run `tap-genesys-outbound` in a subprocess and parse its Singer messages."""
    args = [sys.executable, "-m", "tap_genesys_outbound.tap", "--config", write_json(tmp_path / "config.json", config)]
    if streams is not None:
        args += ["--catalog", write_json(tmp_path / "catalog.json", catalog_selecting(*streams))]
    if state is not None:
        args += ["--state", write_json(tmp_path / "state.json", state)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return TapRun(result.returncode, messages, result.stderr)


def write_json(path: Path, content: dict) -> str:
    path.write_text(json.dumps(content))
    return str(path)
