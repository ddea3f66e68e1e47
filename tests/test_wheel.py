"""The wheel carries the JSON schemas: build it, install it in a fresh venv, discover from there."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_and_discovers_every_stream_with_its_schema(tmp_path) -> None:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    wheel = next((tmp_path / "dist").glob("tap_genesys_outbound-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        shipped_modules = {name.split("/")[0] for name in archive.namelist()}
    assert "genesys_emulator" not in shipped_modules, "the test emulator must not ship in the wheel"
    assert not any("/emulator/" in name for name in zipfile.ZipFile(wheel).namelist())
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                   check=True, capture_output=True, timeout=900)
    # Run from an unrelated directory so nothing can be read from the source checkout.
    out = subprocess.run([str(env_dir / "bin" / "tap-genesys-outbound"), "--discover"], cwd=tmp_path,
                         check=True, capture_output=True, text=True, timeout=120)
    streams = {s["tap_stream_id"]: s["schema"] for s in json.loads(out.stdout)["streams"]}
    shipped = {p.stem: json.loads(p.read_text()) for p in (ROOT / "schemas").glob("*.json")}
    assert set(streams) == set(shipped)
    for name, schema in shipped.items():
        assert streams[name]["properties"].keys() == schema["properties"].keys(), name
